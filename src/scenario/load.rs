//! Loading a scenario: files, `extends`, `--set`, then the two stages.
//!
//! [`load`] is what the CLI calls. [`ScenarioDoc`] is the document one level
//! down, for callers (sweeps) that edit the merged document several times
//! before converting it.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use std::borrow::Cow;

use serde::de::IntoDeserializer as _;
use sha2::{Digest, Sha256};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::calibration::Target;
use super::convert::Converter;
use super::doc::{self, InputKind, Inputs, Item, Origin, Table, split_key};
use super::error::{ErrorKind, ErrorOrigin, ScenarioError};
use super::raw::RawFile;
use super::serde_errors::{item_at, resolve_path, translate};
use super::types::{KeepRule, Scenario};
use super::uncertain;

/// Files larger than this are refused before parsing: a scenario is a few
/// kilobytes, and a huge file is a mistake (or an attack on the parser).
pub const MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;

/// A scenario loaded from a file, with the resolved document it came from.
#[derive(Clone, Debug)]
pub struct LoadedScenario {
    /// The validated scenario, ready to prepare and run.
    pub scenario: Scenario,
    /// The file given.
    pub path: PathBuf,
    /// The `extends` chain, the given file first.
    pub files: Vec<PathBuf>,
    /// The merged document after `extends` and `--set`, as TOML 1.0 text;
    /// the same inputs always give the same text.
    pub resolved_toml: String,
    /// Lowercase hex SHA-256 of `resolved_toml`.
    pub sha256: String,
    /// The `[sources]` table after `extends`: dotted key to citation.
    pub sources: BTreeMap<String, String>,
    /// The `[[calibration]]` table after `extends`: the published figures
    /// the scenario is calibrated on.
    pub calibration: Vec<Target>,
    /// The document it was converted from, to locate errors found later
    /// (a run too large is refused at the key's line and column).
    pub doc: ScenarioDoc,
    /// Its uncertain values and their draws; `None` without any.
    pub uncertainty: Option<std::sync::Arc<uncertain::Uncertainty>>,
    /// `[uncertainty]`: the rule that keeps drawn worlds; `None` keeps all.
    pub keep: Option<KeepRule>,
    /// With a rule, the scenario whose draws it judges.
    pub judged: Option<Judged>,
}

/// Reads `path` (following `extends`), applies `sets` (`"KEY=VALUE"`, in
/// order) and converts the result into a validated [`Scenario`].
pub fn load(path: &Path, sets: &[String]) -> Result<LoadedScenario, ScenarioError> {
    loaded(ScenarioDoc::read(path)?, path, sets)
}

/// As [`load`], a sweep file's `[sweep]` table left out (a sweep file read
/// as the scenario it sweeps; any other file is read as [`load`] reads it).
pub fn load_unswept(path: &Path, sets: &[String]) -> Result<LoadedScenario, ScenarioError> {
    let mut doc = ScenarioDoc::read(path)?;
    doc.take_table("sweep")?;
    loaded(doc, path, sets)
}

/// As [`load`], with `to` read in place of `from` wherever a file of the
/// chain other than `to` itself extends `from` (compared by canonical
/// path): a plan of a comparison rebased onto an uncertain baseline `to`
/// that extends `from` (`docs/model.md`, "Parameter uncertainty").
pub fn load_rebased(
    path: &Path,
    sets: &[String],
    from: &Path,
    to: &Path,
) -> Result<LoadedScenario, ScenarioError> {
    let rebase = Rebase {
        from: file_identity(from),
        to: to.to_path_buf(),
        to_identity: file_identity(to),
    };
    loaded(ScenarioDoc::read_with(path, Some(&rebase))?, path, sets)
}

/// A file's identity in an `extends` chain: its canonical path, or the
/// path as given when it has none (a file that does not exist).
pub fn file_identity(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// A file read in place of another in an `extends` chain (see
/// [`load_rebased`]).
struct Rebase {
    /// The canonical path of the file replaced.
    from: PathBuf,
    /// The file read instead, as given.
    to: PathBuf,
    /// Its canonical path: it still extends `from` itself.
    to_identity: PathBuf,
}

/// Applies `sets` to `doc` and validates it: the shared end of [`load`] and
/// [`load_bytes`].
fn loaded(
    mut doc: ScenarioDoc,
    path: &Path,
    sets: &[String],
) -> Result<LoadedScenario, ScenarioError> {
    doc.set_all(sets)?;
    let ScenarioParts {
        scenario,
        sources,
        calibration,
        keep,
    } = doc.to_parts()?;
    let resolved_toml = doc.to_toml();
    let sha256 = sha256_hex(resolved_toml.as_bytes());
    let uncertainty = doc.uncertainty(scenario.seed);
    let judged = keep.and(doc.judged());
    Ok(LoadedScenario {
        keep,
        judged,
        scenario,
        path: path.to_path_buf(),
        files: doc.files.clone(),
        resolved_toml,
        sha256,
        sources,
        calibration,
        uncertainty,
        doc,
    })
}

/// The scenario whose draws a run with `uncertainty.keep = "calibrated"`
/// keeps (see [`ScenarioDoc::judged`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Judged {
    /// A `--set` wrote the table: the run's own scenario.
    Set,
    /// The file of the chain (as the chain names it) that wrote it nearest
    /// the given file, resolved on its own.
    File(PathBuf),
}

/// A validated scenario with its citations and calibration targets.
#[derive(Clone, Debug)]
pub struct ScenarioParts {
    /// The scenario.
    pub scenario: Scenario,
    /// `[sources]`: dotted key to citation.
    pub sources: BTreeMap<String, String>,
    /// `[[calibration]]`, in file order.
    pub calibration: Vec<Target>,
    /// `[uncertainty]`: the rule that keeps drawn worlds; `None` keeps all.
    pub keep: Option<KeepRule>,
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One entry of a table taken out of a document with [`ScenarioDoc::take_table`].
#[derive(Clone, Debug)]
pub struct DocEntry {
    /// The entry's key in the table (in `[sweep]`, a quoted scenario key such
    /// as `"pru.cars"`, one key).
    pub key: String,
    /// Where the key was written.
    pub key_origin: Origin,
    /// The value: where it was written and its text.
    pub value: Node,
}

/// A value taken out of a document (a swept value): where it was written
/// and its text, so it can be set elsewhere in the document.
#[derive(Clone, Debug)]
pub struct Node {
    origin: Origin,
    toml: String,
    items: Option<Vec<Node>>,
}

impl Node {
    fn of(v: &Item<'_>) -> Node {
        Node {
            origin: Origin::of(v.span()),
            toml: doc::inline(v.get_ref()),
            items: match v.get_ref() {
                DeValue::Array(a) => Some(a.iter().map(Node::of).collect()),
                _ => None,
            },
        }
    }

    /// Where this value was written.
    pub fn origin(&self) -> Origin {
        self.origin
    }

    /// The elements of an array; `None` if this is not an array.
    pub fn array_items(&self) -> Option<&[Node]> {
        self.items.as_deref()
    }

    /// The value as a TOML 1.0 inline value (for messages and sweep labels).
    pub fn to_toml_value(&self) -> String {
        self.toml.clone()
    }
}

/// A change made to the document after its files were read.
#[derive(Clone, Debug)]
enum Op {
    /// A `--set` assignment: the input holding it.
    Set(usize),
    /// A value written elsewhere in the inputs, set at a dotted key.
    SetValue {
        key: String,
        key_origin: Origin,
        value: Origin,
    },
    /// A top-level table taken out.
    Remove(String),
    /// A key below a table taken out (its dotted path's parts).
    RemoveKey(Vec<String>),
}

/// A merged scenario document (after `extends`), before conversion.
///
/// It holds its inputs (the source map) and what was done to them; the
/// document itself is parsed from them when needed, a few kilobytes of
/// TOML. Cloning is cheap enough to make one per sweep point.
#[derive(Clone, Debug)]
pub struct ScenarioDoc {
    inputs: Inputs,
    /// The files of the `extends` chain as inputs, the given file first.
    chain: Vec<usize>,
    ops: Vec<Op>,
    path: PathBuf,
    files: Vec<PathBuf>,
}

impl ScenarioDoc {
    /// Reads a file and, recursively, the files it `extends`, merging them.
    pub fn read(path: &Path) -> Result<ScenarioDoc, ScenarioError> {
        ScenarioDoc::read_with(path, None)
    }

    /// [`ScenarioDoc::read`], with a file read in place of another.
    fn read_with(path: &Path, rebase: Option<&Rebase>) -> Result<ScenarioDoc, ScenarioError> {
        let mut inputs = Inputs::default();
        let mut files = Vec::new();
        let mut chain = Vec::new();
        let mut ids = Vec::new();
        let mut state = Chain {
            inputs: &mut inputs,
            files: &mut files,
            chain: &mut chain,
            ids: &mut ids,
            rebase,
        };
        read_chain(path, None, &mut state)?;
        // Every file was parsed and checked on the way; merging cannot fail.
        let mut doc = ScenarioDoc {
            inputs,
            chain: ids,
            ops: Vec::new(),
            path: path.to_path_buf(),
            files,
        };
        doc.anchor_census()?;
        Ok(doc)
    }

    /// `start.census` is written relative to the file that names it: it
    /// is rewritten as that path joined to the file's folder (as a `--set`
    /// would write it), so that the resolved TOML names the same file from
    /// the folder the run was started in (`docs/scenario-format.md`,
    /// "[start]").
    fn anchor_census(&mut self) -> Result<(), ScenarioError> {
        let joined = {
            let root = self.document()?;
            let Some(DeValue::Table(start)) = root.get("start").map(Spanned::get_ref) else {
                return Ok(());
            };
            let Some(item) = start.get("census") else {
                return Ok(());
            };
            let DeValue::String(written) = item.get_ref() else {
                return Ok(());
            };
            let origin = Origin::of(item.span());
            let file = self.inputs.file_at(origin);
            if written.trim().is_empty() || Path::new(written.as_ref()).is_absolute() {
                return Ok(());
            }
            let joined = super::start::census_path(file, written);
            if joined.as_path() == Path::new(written.as_ref()) {
                return Ok(());
            }
            match joined.to_str() {
                Some(j) => j.to_string(),
                None => return Ok(()),
            }
        };
        let value = toml::Value::String(joined).to_string();
        self.set(&format!("start.census={value}"))
    }

    /// Parses a document from text, as if read from `path` (no `extends`
    /// allowed, as there is no directory to resolve it against). For tests
    /// and tools that build scenarios in memory.
    pub fn parse_str(text: &str, path: &Path) -> Result<ScenarioDoc, ScenarioError> {
        let mut inputs = Inputs::default();
        let id = inputs.add(InputKind::File(path.to_path_buf()), text);
        let root = parse_input(&inputs, id)?;
        if let Some((k, _)) = root.get_key_value("extends") {
            return Err(inputs.error(
                ErrorKind::InvalidValue,
                Origin::of(k.span()),
                Some("extends".into()),
                "`extends` needs a file on disk to resolve against".to_string(),
            ));
        }
        let mut doc = ScenarioDoc {
            inputs,
            chain: vec![id],
            ops: Vec::new(),
            path: path.to_path_buf(),
            files: vec![path.to_path_buf()],
        };
        doc.anchor_census()?;
        Ok(doc)
    }

    /// The file the document was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The `extends` chain, the given file first.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// Where "the whole document" is reported (missing top-level tables):
    /// the start of the given file.
    fn root_origin(&self) -> Origin {
        self.inputs
            .origin(self.chain.first().copied().unwrap_or(0), 0..0)
    }

    /// The merged document: the files of the chain, base first, then every
    /// change in order.
    pub(crate) fn document(&self) -> Result<Table<'_>, ScenarioError> {
        let mut root = Table::new();
        for &id in self.chain.iter().rev() {
            let mut table = parse_input(&self.inputs, id)?;
            table.remove("extends");
            doc::merge(&mut root, table);
        }
        for op in &self.ops {
            match op {
                Op::Set(id) => apply_set(&self.inputs, *id, &mut root)?,
                Op::SetValue {
                    key,
                    key_origin,
                    value,
                } => self.apply_value(key, *key_origin, *value, &mut root)?,
                Op::Remove(name) => {
                    root.remove(name.as_str());
                }
                Op::RemoveKey(path) => remove_key_in(&mut root, path),
            }
        }
        Ok(root)
    }

    /// Applies one `KEY=VALUE` override. VALUE is read as a TOML value, or
    /// taken as a string when it is not one (so `4d` and `08:00-22:00` need
    /// no quotes). Keys are checked when the document is converted, exactly
    /// as keys from a file.
    pub fn set(&mut self, assignment: &str) -> Result<(), ScenarioError> {
        self.set_all(&[assignment])
    }

    /// Applies overrides in order, as [`ScenarioDoc::set`] does one by one,
    /// reading the document once (so many overrides cost linear time). The
    /// first that cannot be applied is reported, and none is kept.
    pub fn set_all<S: AsRef<str>>(&mut self, assignments: &[S]) -> Result<(), ScenarioError> {
        let (inputs, ops) = (self.inputs.list.len(), self.ops.len());
        for a in assignments {
            let id = self.inputs.add(InputKind::Set, a.as_ref());
            self.ops.push(Op::Set(id));
        }
        if let Err(e) = self.document() {
            self.inputs.list.truncate(inputs);
            self.ops.truncate(ops);
            return Err(e);
        }
        Ok(())
    }

    /// Sets `key` (dotted, such as `community.teams`) to `value`, merging as
    /// an override does. For sweeps, whose values come from their own table.
    /// A key that is not a dotted key is refused here; a key that cannot be
    /// set in this document (below a value) when the document is next read
    /// or converted, so setting many keys costs linear time.
    pub fn set_node(
        &mut self,
        key: &str,
        key_origin: Origin,
        value: Node,
    ) -> Result<(), ScenarioError> {
        split_key(key).map_err(|m| {
            self.inputs
                .error(ErrorKind::BadSet, key_origin, Some(key.to_string()), m)
        })?;
        self.ops.push(Op::SetValue {
            key: key.to_string(),
            key_origin,
            value: value.origin,
        });
        Ok(())
    }

    /// Re-reads the value written at `value` and puts it at `key`.
    fn apply_value<'a>(
        &'a self,
        key: &str,
        key_origin: Origin,
        value: Origin,
        root: &mut Table<'a>,
    ) -> Result<(), ScenarioError> {
        let bad = |m: String| {
            self.inputs
                .error(ErrorKind::BadSet, key_origin, Some(key.to_string()), m)
        };
        let parts = split_key(key).map_err(bad)?;
        let Some((_, text)) = self.inputs.text_at(value) else {
            return Err(bad("internal: the value's text is missing".to_string()));
        };
        let parsed = DeValue::parse(text).map_err(|e| bad(e.message().to_string()))?;
        let item = doc::place(parsed, None, value.start, &self.inputs, 1)?;
        let keys: Vec<(String, Origin)> = parts.into_iter().map(|(k, _)| (k, key_origin)).collect();
        put_in(root, &keys, 0, item).map_err(bad)
    }

    /// Removes the key at dotted `key` (a pathway table's `sample`, once
    /// its shares are drawn), if it is there.
    pub(crate) fn remove_key(&mut self, key: &str) {
        self.ops
            .push(Op::RemoveKey(key.split('.').map(str::to_string).collect()));
    }

    /// Removes a top-level table (such as `[sweep]`) and returns its entries,
    /// keys sorted. `Ok(None)` when absent; an error when `name` is not a table.
    pub fn take_table(&mut self, name: &str) -> Result<Option<Vec<DocEntry>>, ScenarioError> {
        let root = self.document()?;
        let Some(value) = root.get(name) else {
            return Ok(None);
        };
        let entries = match value.get_ref() {
            DeValue::Table(t) => t
                .iter()
                .map(|(k, v)| DocEntry {
                    key: k.get_ref().to_string(),
                    key_origin: Origin::of(k.span()),
                    value: Node::of(v),
                })
                .collect(),
            other => {
                return Err(self.inputs.error(
                    ErrorKind::WrongType,
                    Origin::of(value.span()),
                    Some(name.to_string()),
                    format!("expected a table, found {}", doc::describe(other)),
                ));
            }
        };
        self.ops.push(Op::Remove(name.to_string()));
        Ok(Some(entries))
    }

    /// An error located at `origin` (from a node or entry of this document).
    pub fn error_at(
        &self,
        kind: ErrorKind,
        origin: Origin,
        key: &str,
        message: String,
    ) -> ScenarioError {
        self.inputs
            .error(kind, origin, Some(key.to_string()), message)
    }

    /// An error at the value of dotted `key` where it was written (in a
    /// file or a `--set`), or at the start of the document when the key is
    /// absent (a default).
    pub fn error_at_key(&self, kind: ErrorKind, key: &str, message: String) -> ScenarioError {
        let root = self.document().unwrap_or_default();
        let mut table = &root;
        let mut origin = self.root_origin();
        for part in key.split('.') {
            let Some(v) = table.get(part) else {
                origin = self.root_origin();
                break;
            };
            origin = Origin::of(v.span());
            match v.get_ref() {
                DeValue::Table(t) => table = t,
                _ => break,
            }
        }
        self.error_at(kind, origin, key, message)
    }

    /// Whether a `--set` (or `--seed`, `--replications`) was applied.
    pub fn has_sets(&self) -> bool {
        self.ops.iter().any(|op| matches!(op, Op::Set(_)))
    }

    /// Where the keys of `[uncertainty]` in force were written: the
    /// scenario whose draws are judged (`docs/model.md`, "Keeping only the
    /// draws the calibration allows"). [`Judged::Set`] when a `--set`
    /// wrote one of them; otherwise the file nearest the given one (the
    /// given one included) in the chain that wrote one. `None` without the
    /// table.
    pub fn judged(&self) -> Option<Judged> {
        let root = self.document().ok()?;
        let DeValue::Table(table) = root.get("uncertainty")?.get_ref() else {
            return None;
        };
        let mut nearest: Option<usize> = None;
        for (_, v) in table.iter() {
            let Some(file) = self.inputs.file_at(Origin::of(v.span())) else {
                return Some(Judged::Set);
            };
            let at = self.files.iter().position(|f| f == file);
            if let Some(at) = at {
                nearest = Some(nearest.map_or(at, |n| n.min(at)));
            }
        }
        match nearest {
            None => Some(Judged::Set),
            Some(i) => Some(Judged::File(self.files[i].clone())),
        }
    }

    /// Converts the document into a validated [`Scenario`].
    pub fn to_scenario(&self) -> Result<Scenario, ScenarioError> {
        self.to_scenario_with_sources().map(|(s, _)| s)
    }

    /// As [`ScenarioDoc::to_scenario`], also returning the checked
    /// `[sources]` table (dotted key to citation). The citations are not
    /// part of [`Scenario`]: they document a plan but never change a run.
    pub fn to_scenario_with_sources(
        &self,
    ) -> Result<(Scenario, BTreeMap<String, String>), ScenarioError> {
        self.to_parts().map(|p| (p.scenario, p.sources))
    }

    /// As [`ScenarioDoc::to_scenario_with_sources`], also returning the
    /// checked `[[calibration]]` table (empty without one). Like the
    /// citations, the targets never change a run.
    pub fn to_parts(&self) -> Result<ScenarioParts, ScenarioError> {
        self.to_parts_checking(true)
    }

    /// As [`ScenarioDoc::to_parts`]; without `check_sources` the
    /// `[sources]` table is not read (a replication's drawn scenario, whose
    /// citations were checked with its central values).
    pub(crate) fn to_parts_checking(
        &self,
        check_sources: bool,
    ) -> Result<ScenarioParts, ScenarioError> {
        // Uncertain values are checked, then converted at their central
        // values (`docs/scenario-format.md`, "Uncertain values").
        let document = self.document()?;
        let uncertain = uncertain::find(&document, &self.inputs)?;
        if !uncertain.is_empty() || uncertain::has_sample(&document) {
            return uncertain::substituted(self, &uncertain, |_, v| v.central())?
                .to_parts()
                .map_err(|e| uncertain::relocate(e, &self.inputs, &uncertain));
        }
        let rate_changes = document.get("rate_changes").cloned();
        let root = Spanned::new(self.root_origin().span(), document);
        let mut raw: RawFile = serde_path_to_error::deserialize(root.into_deserializer())
            .map_err(|e| self.de_error(&e))?;
        let converter = Converter {
            inputs: &self.inputs,
        };
        let sources = if check_sources {
            converter.sources(raw.sources.as_ref())?
        } else {
            BTreeMap::new()
        };
        let raw_calibration = raw.calibration.take();
        let keep = converter.keep_rule(raw.uncertainty.take().as_ref())?;
        let mut scenario = converter.scenario(raw)?;
        scenario.rate_changes = super::dated::read(rate_changes.as_ref(), &self.inputs, &scenario)?;
        let calibration = converter.calibration(raw_calibration.as_ref())?;
        Ok(ScenarioParts {
            scenario,
            sources,
            calibration,
            keep,
        })
    }

    /// The document's uncertain values, checked.
    pub(crate) fn uncertain_values(&self) -> Result<Vec<uncertain::UncertainValue>, ScenarioError> {
        uncertain::find(&self.document()?, &self.inputs)
    }

    /// The document's uncertain values and each replication's draws of them
    /// with `seed`; `None` without any.
    pub fn uncertainty(&self, seed: u64) -> Option<std::sync::Arc<uncertain::Uncertainty>> {
        uncertain::Uncertainty::of(self, seed)
    }

    /// Every value of the document as (dotted key, TOML text), in the order
    /// the resolved TOML is written: distribution tables, arrays and inline
    /// tables of shares are one value each. For the report's parameter table.
    /// The `[[calibration]]` table is not a parameter (it has its own section).
    pub fn parameters(&self) -> Vec<(String, String)> {
        doc::flatten_values(&self.document().unwrap_or_default())
            .into_iter()
            .filter(|(k, _)| k != "calibration" && !k.starts_with("calibration."))
            .collect()
    }

    /// An error from deserializing, in the format's words: `toml` gives the
    /// span and serde's message, `serde_path_to_error` the key path; the
    /// value found is described from the document.
    fn de_error(&self, e: &serde_path_to_error::Error<toml::de::Error>) -> ScenarioError {
        let inner = e.inner();
        let message = inner.message();
        let root = self.document().unwrap_or_default();
        let path = resolve_path(&root, e.path(), inner.span());
        let item = item_at(&root, &path);
        let (kind, key, text) = translate(message, &path, item.map(Spanned::get_ref));
        // `toml` places a refusal raised after an array's element was read
        // at the array: the element's own span is in the document.
        let span = match (kind, item) {
            (ErrorKind::UnknownKey | ErrorKind::MissingKey, _) | (_, None) => inner.span(),
            (_, Some(item)) => Some(item.span()),
        };
        match span {
            Some(span) => self.inputs.error(kind, Origin::of(span), Some(key), text),
            None => ScenarioError::unlocated(kind, ErrorOrigin::File(self.path.clone()), text),
        }
    }

    /// The document as TOML 1.0 text, deterministic (keys in the order of
    /// `docs/scenario-format.md`, then alphabetical).
    pub fn to_toml(&self) -> String {
        doc::write_document(&self.document().unwrap_or_default())
    }
}

/// Applies the `--set` assignment held by input `id` to `root`.
fn apply_set<'a>(inputs: &'a Inputs, id: usize, root: &mut Table<'a>) -> Result<(), ScenarioError> {
    let assignment: &'a str = &inputs.list[id].text;
    let whole = inputs.origin(id, 0..assignment.len());
    let bad = |origin: Origin, key: Option<String>, msg: String| {
        inputs.error(ErrorKind::BadSet, origin, key, msg)
    };
    let Some((key_text, value_text)) = assignment.split_once('=') else {
        return Err(bad(
            whole,
            None,
            "expected KEY=VALUE, such as pru.cars=2".to_string(),
        ));
    };
    let parts = split_key(key_text).map_err(|m| bad(whole, None, m))?;
    if parts.first().is_some_and(|(k, _)| k == "extends") {
        return Err(bad(
            inputs.origin(id, 0..key_text.len()),
            Some("extends".into()),
            "`extends` cannot be set: it is resolved when the file is read".to_string(),
        ));
    }
    let value_start = key_text.len() + 1;
    let lead = value_text.len() - value_text.trim_start().len();
    let trimmed = value_text.trim();
    let span = value_start + lead..value_start + lead + trimmed.len();
    let shift = inputs.origin(id, span.clone()).start;
    let item = match DeValue::parse(trimmed) {
        // Spans are relative to the value; placed, they are where the
        // value is in the assignment.
        Ok(v) => doc::place(v, None, shift, inputs, 1).map_err(|e| e.under_key(key_text.trim()))?,
        Err(_) => Spanned::new(
            inputs.origin(id, span).span(),
            DeValue::String(Cow::Borrowed(trimmed)),
        ),
    };
    let keys: Vec<(String, Origin)> = parts
        .into_iter()
        .map(|(k, r)| (k, inputs.origin(id, r)))
        .collect();
    put_in(root, &keys, 0, item).map_err(|m| bad(whole, Some(key_text.trim().to_string()), m))
}

/// Removes the key at `path` below `table`, if it is there.
fn remove_key_in(table: &mut Table<'_>, path: &[String]) {
    match path {
        [] => {}
        [last] => {
            table.remove(last.as_str());
        }
        [first, rest @ ..] => {
            if let Some(entry) = table.get_mut(first.as_str())
                && let DeValue::Table(sub) = entry.get_mut()
            {
                remove_key_in(sub, rest);
            }
        }
    }
}

/// Puts `item` at `keys[depth..]` below `table`; `keys[..depth]` led here.
fn put_in<'a>(
    table: &mut Table<'a>,
    keys: &[(String, Origin)],
    depth: usize,
    item: Item<'a>,
) -> Result<(), String> {
    let Some((name, origin)) = keys.get(depth) else {
        return Err("empty key".to_string());
    };
    if depth + 1 == keys.len() {
        let path: Vec<&str> = keys[..depth].iter().map(|(k, _)| k.as_str()).collect();
        let path = path.join(".");
        doc::drop_excluded(&path, table, &[name.as_str()]);
        doc::merge_entry(&path, table, doc::key(name, origin.span()), item);
        return Ok(());
    }
    if !table.contains_key(name.as_str()) {
        table.insert(
            doc::key(name, origin.span()),
            Spanned::new(origin.span(), DeValue::Table(Table::new())),
        );
    }
    let Some(entry) = table.get_mut(name.as_str()) else {
        return Err("internal: the table just made is missing".to_string());
    };
    if let DeValue::Table(sub) = entry.get_mut() {
        return put_in(sub, keys, depth + 1, item);
    }
    let walked: Vec<&str> = keys[..=depth].iter().map(|(k, _)| k.as_str()).collect();
    Err(format!(
        "`{}` is {}, not a table, so it has no keys to set",
        walked.join("."),
        doc::describe(entry.get_ref())
    ))
}

/// Loads a scenario from the bytes of a file that does not `extends`
/// another, as [`load`] would if those bytes were the file at `path` (which is
/// only used to name it in errors; nothing is read from disk). For the fuzz
/// target and for tools that hold a scenario in memory.
pub fn load_bytes(
    bytes: &[u8],
    path: &Path,
    sets: &[String],
) -> Result<LoadedScenario, ScenarioError> {
    let text = text_from_bytes(bytes.to_vec()).map_err(|(kind, msg)| {
        ScenarioError::unlocated(kind, ErrorOrigin::File(path.into()), msg)
    })?;
    loaded(ScenarioDoc::parse_str(&text, path)?, path, sets)
}

/// The most files an `extends` chain may hold, the given file included:
/// no plan needs more, and it bounds the recursion that reads the chain.
pub const MAX_EXTENDS_DEPTH: usize = 64;

/// Refuses anything but a regular file (a FIFO would block the read
/// forever, a device never end): `meta` is of the path, or of the open file.
fn regular_file(meta: &std::fs::Metadata) -> Result<(), (ErrorKind, String)> {
    if meta.is_file() {
        return Ok(());
    }
    let what = if meta.is_dir() {
        "a directory"
    } else {
        "not a regular file (a FIFO, socket or device)"
    };
    Err((
        ErrorKind::Io,
        format!("the path is {what}; a scenario is a regular text file"),
    ))
}

/// Reads the text of one input, refusing anything but a regular file, and
/// oversized and non-UTF-8 files.
fn read_text(path: &Path) -> Result<String, (ErrorKind, String)> {
    // Looked at before opening: opening a FIFO blocks until a writer comes.
    let meta = std::fs::metadata(path).map_err(|e| (ErrorKind::Io, e.to_string()))?;
    regular_file(&meta)?;
    let file = std::fs::File::open(path).map_err(|e| (ErrorKind::Io, e.to_string()))?;
    // And after: the path may have been replaced in between.
    regular_file(
        &file
            .metadata()
            .map_err(|e| (ErrorKind::Io, e.to_string()))?,
    )?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| (ErrorKind::Io, e.to_string()))?;
    text_from_bytes(bytes)
}

/// The text of a file's bytes: refused when too large or not UTF-8.
fn text_from_bytes(bytes: Vec<u8>) -> Result<String, (ErrorKind, String)> {
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err((
            ErrorKind::Io,
            format!(
                "the file is larger than {} MiB; a scenario is a small text file",
                MAX_FILE_BYTES / (1024 * 1024)
            ),
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        let good = e.utf8_error().valid_up_to();
        let prefix = String::from_utf8_lossy(&e.as_bytes()[..good]).into_owned();
        let line = prefix.matches('\n').count() + 1;
        let col = prefix.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (
            ErrorKind::Syntax,
            format!("the file is not UTF-8 text: invalid byte at line {line}, column {col}"),
        )
    })
}

/// Parses input `id` and places it in the span space; syntax errors located.
fn parse_input(inputs: &Inputs, id: usize) -> Result<Table<'_>, ScenarioError> {
    let text: &str = &inputs.list[id].text;
    let parsed = DeTable::parse(text).map_err(|e| {
        // The parser gives no position when its nesting limit stops it:
        // point at the line that nests deepest.
        let span = e.span().unwrap_or_else(|| deepest_line(text));
        let message = e
            .message()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("; ");
        inputs.error(
            ErrorKind::Syntax,
            inputs.origin(id, span),
            None,
            format!("invalid TOML: {message}"),
        )
    })?;
    doc::place_table(
        parsed.into_inner(),
        inputs.origin(id, 0..0).start,
        inputs,
        0,
    )
}

/// The byte range of the line that nests deepest (dotted key parts and
/// open brackets counted together), for a parser error without a position.
fn deepest_line(text: &str) -> std::ops::Range<usize> {
    let mut best = (0, 0..0);
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        let key = line.split('=').next().unwrap_or("");
        let score = key.matches('.').count() + line.matches(['[', '{']).count();
        if score > best.0 {
            best = (score, start..start + line.trim_end().len());
        }
        start += line.len();
    }
    best.1
}

/// Reads `path` and the chain it extends into `inputs`, noting each file's
/// input in `ids` (the given file first).
/// `via` is the `extends` value that named this file (for errors).
fn read_chain(
    path: &Path,
    via: Option<Origin>,
    state: &mut Chain<'_>,
) -> Result<(), ScenarioError> {
    let Chain {
        inputs,
        files,
        chain,
        ids,
        rebase,
    } = state;
    let rebase = *rebase;
    let text = match read_text(path) {
        Ok(t) => t,
        Err((kind, msg)) => {
            return Err(match via {
                Some(origin) if kind == ErrorKind::Io => inputs.error(
                    ErrorKind::ExtendsMissing,
                    origin,
                    Some("extends".into()),
                    format!("cannot read the extended file {}: {msg}", path.display()),
                ),
                _ => ScenarioError::unlocated(kind, ErrorOrigin::File(path.to_path_buf()), msg),
            });
        }
    };
    // Identity for cycle detection: the canonical path when it exists.
    let identity = file_identity(path);
    if let Some(pos) = chain.iter().position(|p| *p == identity) {
        let mut names: Vec<String> = files[pos..]
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        names.push(path.display().to_string());
        let origin = via.unwrap_or_else(|| inputs.origin(0, 0..0));
        return Err(inputs.error(
            ErrorKind::ExtendsCycle,
            origin,
            Some("extends".into()),
            format!("`extends` makes a cycle: {}", names.join(" -> ")),
        ));
    }
    // The whole chain is held in memory (and, in a comparison, every
    // scenario's): it is bounded in files and in text as one file is.
    let chain_bytes: usize = inputs.list.iter().map(|s| s.text.len()).sum::<usize>() + text.len();
    let from = files
        .first()
        .map_or_else(|| path.display().to_string(), |p| p.display().to_string());
    let too_long = if chain.len() >= MAX_EXTENDS_DEPTH {
        Some(format!(
            "the `extends` chain is more than {MAX_EXTENDS_DEPTH} files long (from {from}); \
             the most is {MAX_EXTENDS_DEPTH}"
        ))
    } else if chain_bytes as u64 > MAX_FILE_BYTES {
        let mib = MAX_FILE_BYTES / (1024 * 1024);
        Some(format!(
            "the `extends` chain from {from} holds more than {mib} MiB of text; the most, for a \
             file and all it extends together, is {mib} MiB (a scenario is a few kilobytes)"
        ))
    } else {
        None
    };
    if let Some(message) = too_long {
        let origin = via.unwrap_or_else(|| inputs.origin(0, 0..0));
        return Err(inputs.error(
            ErrorKind::InvalidValue,
            origin,
            Some("extends".into()),
            message,
        ));
    }
    chain.push(identity.clone());
    files.push(path.to_path_buf());
    let id = inputs.add(InputKind::File(path.to_path_buf()), text);
    ids.push(id);
    let table = parse_input(inputs, id)?;
    let Some(ext) = table.get("extends") else {
        return Ok(());
    };
    let origin = Origin::of(ext.span());
    let DeValue::String(parent) = ext.get_ref() else {
        return Err(inputs.error(
            ErrorKind::WrongType,
            origin,
            Some("extends".into()),
            format!(
                "expected the path of a scenario file as a string, found {}",
                doc::describe(ext.get_ref())
            ),
        ));
    };
    let mut parent_path = path.parent().unwrap_or(Path::new("")).join(parent.as_ref());
    if let Some(r) = rebase
        && identity != r.to_identity
        && file_identity(&parent_path) == r.from
    {
        parent_path = r.to.clone();
    }
    read_chain(&parent_path, Some(origin), state)
}

/// What [`read_chain`] fills in as it follows a chain.
struct Chain<'a> {
    inputs: &'a mut Inputs,
    files: &'a mut Vec<PathBuf>,
    chain: &'a mut Vec<PathBuf>,
    ids: &'a mut Vec<usize>,
    rebase: Option<&'a Rebase>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_str_refuses_extends_and_writes_back() {
        let e = ScenarioDoc::parse_str("extends = \"x.toml\"\n", Path::new("mem.toml"))
            .expect_err("no directory to resolve against");
        assert_eq!((e.line(), e.key()), (Some(1), Some("extends")));
        let mut doc =
            ScenarioDoc::parse_str("[pru]\ncars = 1\n", Path::new("mem.toml")).expect("parses");
        doc.set("pru.open=08:00-22:00").expect("applies");
        assert_eq!(doc.to_toml(), "[pru]\ncars = 1\nopen = \"08:00-22:00\"\n");
        let e = doc.to_scenario().expect_err("incomplete");
        assert_eq!(
            (e.kind(), e.key()),
            (ErrorKind::MissingKey, Some("pru.eligible_share"))
        );
    }

    /// The unknown-key lists come from `keys::FORMAT`; serde's own list (of
    /// the raw struct's fields) must be the same, in the same order.
    #[test]
    fn unknown_key_lists_follow_the_raw_structs() {
        use crate::scenario::keys::{FORMAT, Shape, child_order};
        let full = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/scenarios/full.toml");
        let mut tables: Vec<&str> = vec![""];
        tables.extend(
            FORMAT
                .iter()
                .filter(|(_, shape)| *shape == Shape::Table)
                .map(|(k, _)| *k),
        );
        tables.push("acute.capacity_changes");
        for table in tables {
            let mut doc = ScenarioDoc::read(&full).expect("full.toml loads");
            let set = match table {
                "" => "zzz=1".to_string(),
                "acute.capacity_changes" => {
                    "acute.capacity_changes=[{from=2025-05-01,to=2025-05-02,beds=1,zzz=1}]"
                        .to_string()
                }
                t => format!("{t}.zzz=1"),
            };
            doc.set(&set).expect("applies");
            let root = Spanned::new(0..0, doc.document().expect("parses"));
            let e = serde_path_to_error::deserialize::<_, RawFile>(root.into_deserializer())
                .expect_err("an unknown key");
            let message = e.inner().message();
            assert!(
                message.starts_with("unknown field `zzz`"),
                "{table}: {message}"
            );
            let serde_list: Vec<&str> = message.split('`').skip(3).step_by(2).collect();
            let path: Vec<&str> = table.split('.').filter(|p| !p.is_empty()).collect();
            assert_eq!(serde_list, child_order(&path, false), "{table}");
            let shown = doc.to_scenario().expect_err("an unknown key");
            assert_eq!(shown.kind(), ErrorKind::UnknownKey, "{table}");
        }
    }

    /// What `toml` hands serde differently from a plain value: a date-time
    /// (a private one-entry table), an array where a table is expected
    /// (serde's structs would read it field by field), an array element
    /// refused after it was read (`toml` places it at the array).
    #[test]
    fn datetimes_arrays_and_elements_are_refused_where_written() {
        let minimal =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/scenarios/minimal.toml");
        let refused = |set: &str| {
            let mut doc = ScenarioDoc::read(&minimal).expect("minimal.toml loads");
            doc.set(set).expect("applies");
            let e = doc.to_scenario().expect_err(set);
            (
                e.kind(),
                e.key().unwrap_or("").to_string(),
                e.column(),
                e.message().to_string(),
            )
        };
        let (kind, key, col, msg) = refused("pathways.frail=2025-04-01");
        assert_eq!(
            (kind, key.as_str(), col),
            (ErrorKind::WrongType, "pathways.frail", Some(16))
        );
        assert_eq!(msg, "expected a table, found the date-time 2025-04-01");
        let (kind, key, _, msg) = refused("pru.visit=2025-04-01");
        assert_eq!((kind, key.as_str()), (ErrorKind::WrongType, "pru.visit"));
        assert!(
            msg.starts_with("expected a distribution table such as"),
            "{msg}"
        );
        assert!(msg.ends_with("found the date-time 2025-04-01"), "{msg}");
        let (kind, key, col, msg) = refused("pru.visit.value=[2025-01-01]");
        assert_eq!(
            (kind, key.as_str(), col),
            (ErrorKind::WrongType, "pru.visit.value[0]", Some(18))
        );
        assert!(msg.ends_with("found the date-time 2025-01-01"), "{msg}");
        let (kind, key, _, msg) = refused("care_homes.red_bag=[true, \"1d\", \"1d\"]");
        assert_eq!(
            (kind, key.as_str()),
            (ErrorKind::WrongType, "care_homes.red_bag")
        );
        assert_eq!(msg, "expected a table, found an array");
        let (kind, key, col, msg) = refused("demand.day_of_week=[1, 1, 1, 1, 1, -1, 1]");
        assert_eq!(
            (kind, key.as_str(), col),
            (ErrorKind::InvalidValue, "demand.day_of_week[5]", Some(36))
        );
        assert_eq!(msg, "expected a finite number >= 0, found -1");
    }

    #[test]
    fn sha256_is_lowercase_hex() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}

//! Loading a scenario: files, `extends`, `--set`, then the two stages.
//!
//! [`load`] is what the CLI calls. [`ScenarioDoc`] is the document one level
//! down, for callers (sweeps) that edit the merged document several times
//! before converting it.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use serde::Deserialize as _;
use sha2::{Digest, Sha256};
use toml::de::{DeTable, DeValue};

use super::convert::Converter;
use super::de::{DeError, NodeDe};
use super::error::{ErrorKind, ErrorOrigin, ScenarioError};
use super::raw::RawFile;
use super::tree::{
    self, Entry, Node, Origin, SourceKind, Sources, Table, Value, from_de_table, from_de_value,
    merge, merge_entry, split_key,
};
use super::types::Scenario;

/// Files larger than this are refused before parsing: a scenario is a few
/// kilobytes, and a huge file is a mistake (or an attack on the parser).
pub const MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;

/// A scenario loaded from a file, with the resolved document it came from.
#[derive(Clone, Debug)]
pub struct LoadedScenario {
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
    /// The document it was converted from, to locate errors found later
    /// (a run too large is refused at the key's line and column).
    pub doc: ScenarioDoc,
}

/// Reads `path` (following `extends`), applies `sets` (`"KEY=VALUE"`, in
/// order) and converts the result into a validated [`Scenario`].
pub fn load(path: &Path, sets: &[String]) -> Result<LoadedScenario, ScenarioError> {
    loaded(ScenarioDoc::read(path)?, path, sets)
}

/// Applies `sets` to `doc` and validates it: the shared end of [`load`] and
/// [`load_bytes`].
fn loaded(
    mut doc: ScenarioDoc,
    path: &Path,
    sets: &[String],
) -> Result<LoadedScenario, ScenarioError> {
    for s in sets {
        doc.set(s)?;
    }
    let (scenario, sources) = doc.to_scenario_with_sources()?;
    let resolved_toml = doc.to_toml();
    let sha256 = sha256_hex(resolved_toml.as_bytes());
    Ok(LoadedScenario {
        scenario,
        path: path.to_path_buf(),
        files: doc.files.clone(),
        resolved_toml,
        sha256,
        sources,
        doc,
    })
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
    pub key: String,
    /// Where the key was written.
    pub key_origin: Origin,
    pub value: Node,
}

/// A merged scenario document (after `extends`), before conversion.
///
/// Cloning is cheap enough to make one per sweep point.
#[derive(Clone, Debug)]
pub struct ScenarioDoc {
    root: Table,
    root_origin: Origin,
    sources: Sources,
    path: PathBuf,
    files: Vec<PathBuf>,
}

impl ScenarioDoc {
    /// Reads a file and, recursively, the files it `extends`, merging them.
    pub fn read(path: &Path) -> Result<ScenarioDoc, ScenarioError> {
        let mut sources = Sources::default();
        let mut files = Vec::new();
        let mut chain = Vec::new();
        let root = read_chain(path, None, &mut sources, &mut files, &mut chain)?;
        Ok(ScenarioDoc {
            root,
            // The given file is source 0; its line 1 stands for "the whole
            // document" (missing top-level tables are reported there).
            root_origin: Origin::new(0, 0..0),
            sources,
            path: path.to_path_buf(),
            files,
        })
    }

    /// Parses a document from text, as if read from `path` (no `extends`
    /// allowed, as there is no directory to resolve it against). For tests
    /// and tools that build scenarios in memory.
    pub fn parse_str(text: &str, path: &Path) -> Result<ScenarioDoc, ScenarioError> {
        let mut sources = Sources::default();
        let id = sources.add(SourceKind::File(path.to_path_buf()), text);
        let mut root = parse_source(&sources, id)?;
        if let Some(e) = root.remove("extends") {
            return Err(sources.error(
                ErrorKind::InvalidValue,
                e.key_origin,
                Some("extends".into()),
                "`extends` needs a file on disk to resolve against".to_string(),
            ));
        }
        Ok(ScenarioDoc {
            root,
            root_origin: Origin::new(id, 0..0),
            sources,
            path: path.to_path_buf(),
            files: vec![path.to_path_buf()],
        })
    }

    /// The file the document was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The `extends` chain, the given file first.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// Applies one `KEY=VALUE` override. VALUE is read as a TOML value, or
    /// taken as a string when it is not one (so `4d` and `08:00-22:00` need
    /// no quotes). Keys are checked when the document is converted, exactly
    /// as keys from a file.
    pub fn set(&mut self, assignment: &str) -> Result<(), ScenarioError> {
        let id = self.sources.add(SourceKind::Set, assignment);
        let whole = Origin::new(id, 0..assignment.len());
        let bad = |sources: &Sources, origin: Origin, key: Option<String>, msg: String| {
            sources.error(ErrorKind::BadSet, origin, key, msg)
        };
        let Some((key_text, value_text)) = assignment.split_once('=') else {
            return Err(bad(
                &self.sources,
                whole,
                None,
                "expected KEY=VALUE, such as pru.cars=2".to_string(),
            ));
        };
        let parts = split_key(key_text).map_err(|m| bad(&self.sources, whole, None, m))?;
        if parts.first().is_some_and(|(k, _)| k == "extends") {
            return Err(bad(
                &self.sources,
                Origin::new(id, 0..key_text.len()),
                Some("extends".into()),
                "`extends` cannot be set: it is resolved when the file is read".to_string(),
            ));
        }
        let value_start = key_text.len() + 1;
        let lead = value_text.len() - value_text.trim_start().len();
        let trimmed = value_text.trim();
        let span = value_start + lead..value_start + lead + trimmed.len();
        let node = match DeValue::parse(trimmed) {
            // Spans are relative to the value; shifted, they are relative
            // to the assignment.
            Ok(v) => from_de_value(v.get_ref(), v.span(), id, span.start, &self.sources, 1)
                .map_err(|e| e.under_key(key_text.trim()))?,
            Err(_) => Node {
                value: Value::String(trimmed.to_string()),
                origin: Origin::new(id, span),
            },
        };
        let keys: Vec<(String, Origin)> = parts
            .into_iter()
            .map(|(k, r)| (k, Origin::new(id, r)))
            .collect();
        self.put(&keys, node)
            .map_err(|m| bad(&self.sources, whole, Some(key_text.trim().to_string()), m))
    }

    /// Sets `key` (dotted, such as `community.teams`) to `value`, merging as
    /// an override does. For sweeps, whose values come from their own table.
    pub fn set_node(
        &mut self,
        key: &str,
        key_origin: Origin,
        value: Node,
    ) -> Result<(), ScenarioError> {
        let parts = split_key(key).map_err(|m| {
            self.sources
                .error(ErrorKind::BadSet, key_origin, Some(key.to_string()), m)
        })?;
        let keys: Vec<(String, Origin)> = parts.into_iter().map(|(k, _)| (k, key_origin)).collect();
        self.put(&keys, value).map_err(|m| {
            self.sources
                .error(ErrorKind::BadSet, key_origin, Some(key.to_string()), m)
        })
    }

    /// Puts `node` at the dotted path, creating tables on the way.
    fn put(&mut self, keys: &[(String, Origin)], node: Node) -> Result<(), String> {
        put_in(&mut self.root, keys, 0, node)
    }

    /// Removes a top-level table (such as `[sweep]`) and returns its entries,
    /// keys sorted. `Ok(None)` when absent; an error when `name` is not a table.
    pub fn take_table(&mut self, name: &str) -> Result<Option<Vec<DocEntry>>, ScenarioError> {
        let Some(entry) = self.root.remove(name) else {
            return Ok(None);
        };
        match entry.node.value {
            Value::Table(t) => Ok(Some(
                t.into_iter()
                    .map(|(key, e)| DocEntry {
                        key,
                        key_origin: e.key_origin,
                        value: e.node,
                    })
                    .collect(),
            )),
            _ => Err(self.sources.error(
                ErrorKind::WrongType,
                entry.node.origin,
                Some(name.to_string()),
                format!("expected a table, found {}", entry.node.describe()),
            )),
        }
    }

    /// An error located at `origin` (from a node or entry of this document).
    pub fn error_at(
        &self,
        kind: ErrorKind,
        origin: Origin,
        key: &str,
        message: String,
    ) -> ScenarioError {
        self.sources
            .error(kind, origin, Some(key.to_string()), message)
    }

    /// An error at the value of dotted `key` where it was written (in a
    /// file or a `--set`), or at the start of the document when the key is
    /// absent (a default).
    pub fn error_at_key(&self, kind: ErrorKind, key: &str, message: String) -> ScenarioError {
        let mut table = &self.root;
        let mut origin = self.root_origin;
        for part in key.split('.') {
            let Some(entry) = table.get(part) else {
                origin = self.root_origin;
                break;
            };
            origin = entry.node.origin;
            match &entry.node.value {
                Value::Table(t) => table = t,
                _ => break,
            }
        }
        self.error_at(kind, origin, key, message)
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
        let root = self.root_node();
        let raw = RawFile::deserialize(NodeDe {
            node: &root,
            path: Vec::new(),
        })
        .map_err(|e| self.de_error(e))?;
        let converter = Converter {
            sources: &self.sources,
        };
        let cited = converter.sources(raw.sources.as_ref())?;
        Ok((converter.scenario(raw)?, cited))
    }

    /// The merged document as one node.
    pub(crate) fn root_node(&self) -> Node {
        Node {
            value: Value::Table(self.root.clone()),
            origin: self.root_origin,
        }
    }

    /// Every value of the document as (dotted key, TOML text), in the order
    /// the resolved TOML is written: distribution tables, arrays and inline
    /// tables of shares are one value each. For the report's parameter table.
    pub fn parameters(&self) -> Vec<(String, String)> {
        tree::flatten_values(&self.root)
    }

    fn de_error(&self, e: DeError) -> ScenarioError {
        match e.located {
            Some((origin, path)) => self.sources.error(e.kind, origin, Some(path), e.message),
            None => {
                ScenarioError::unlocated(e.kind, ErrorOrigin::File(self.path.clone()), e.message)
            }
        }
    }

    /// The document as TOML 1.0 text, deterministic (keys in the order of
    /// `docs/scenario-format.md`, then alphabetical).
    pub fn to_toml(&self) -> String {
        tree::write_document(&self.root)
    }
}

/// Puts `node` at `keys[depth..]` below `table`; `keys[..depth]` led here.
fn put_in(
    table: &mut Table,
    keys: &[(String, Origin)],
    depth: usize,
    node: Node,
) -> Result<(), String> {
    let Some((key, origin)) = keys.get(depth) else {
        return Err("empty key".to_string());
    };
    if depth + 1 == keys.len() {
        let entry = Entry {
            key_origin: *origin,
            node,
        };
        match table.get_mut(key) {
            Some(existing) => merge_entry(existing, entry),
            None => {
                table.insert(key.clone(), entry);
            }
        }
        return Ok(());
    }
    let entry = table.entry(key.clone()).or_insert_with(|| Entry {
        key_origin: *origin,
        node: Node {
            value: Value::Table(Table::new()),
            origin: *origin,
        },
    });
    if let Value::Table(sub) = &mut entry.node.value {
        return put_in(sub, keys, depth + 1, node);
    }
    let walked: Vec<&str> = keys[..=depth].iter().map(|(k, _)| k.as_str()).collect();
    Err(format!(
        "`{}` is {}, not a table, so it has no keys to set",
        walked.join("."),
        entry.node.describe()
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

/// Parses source `id` into a tree; syntax errors located.
fn parse_source(sources: &Sources, id: usize) -> Result<Table, ScenarioError> {
    let text = sources.list[id].text.clone();
    let parsed = DeTable::parse(&text).map_err(|e| {
        // The parser gives no position when its nesting limit stops it:
        // point at the line that nests deepest.
        let span = e.span().unwrap_or_else(|| deepest_line(&text));
        let message = e
            .message()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("; ");
        sources.error(
            ErrorKind::Syntax,
            Origin::new(id, span),
            None,
            format!("invalid TOML: {message}"),
        )
    })?;
    from_de_table(parsed.get_ref(), id, 0, sources, 0)
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

/// Reads `path` and the chain it extends; returns the merged tree.
/// `via` is the `extends` value that named this file (for errors).
fn read_chain(
    path: &Path,
    via: Option<Origin>,
    sources: &mut Sources,
    files: &mut Vec<PathBuf>,
    chain: &mut Vec<PathBuf>,
) -> Result<Table, ScenarioError> {
    let text = match read_text(path) {
        Ok(t) => t,
        Err((kind, msg)) => {
            return Err(match via {
                Some(origin) if kind == ErrorKind::Io => sources.error(
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
    let identity = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    if let Some(pos) = chain.iter().position(|p| *p == identity) {
        let mut names: Vec<String> = files[pos..]
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        names.push(path.display().to_string());
        let origin = via.unwrap_or_else(|| Origin::new(0, 0..0));
        return Err(sources.error(
            ErrorKind::ExtendsCycle,
            origin,
            Some("extends".into()),
            format!("`extends` makes a cycle: {}", names.join(" -> ")),
        ));
    }
    if chain.len() >= MAX_EXTENDS_DEPTH {
        let origin = via.unwrap_or_else(|| Origin::new(0, 0..0));
        return Err(sources.error(
            ErrorKind::InvalidValue,
            origin,
            Some("extends".into()),
            format!(
                "the `extends` chain is more than {MAX_EXTENDS_DEPTH} files long (from {}); \
                 the most is {MAX_EXTENDS_DEPTH}",
                files
                    .first()
                    .map_or_else(String::new, |p| p.display().to_string())
            ),
        ));
    }
    chain.push(identity);
    files.push(path.to_path_buf());
    let id = sources.add(SourceKind::File(path.to_path_buf()), text);
    let mut table = parse_source(sources, id)?;
    let Some(ext) = table.remove("extends") else {
        return Ok(table);
    };
    let Value::String(parent) = &ext.node.value else {
        return Err(sources.error(
            ErrorKind::WrongType,
            ext.node.origin,
            Some("extends".into()),
            format!(
                "expected the path of a scenario file as a string, found {}",
                ext.node.describe()
            ),
        ));
    };
    let parent_path = path.parent().unwrap_or(Path::new("")).join(parent);
    let mut base = read_chain(&parent_path, Some(ext.node.origin), sources, files, chain)?;
    merge(&mut base, table);
    Ok(base)
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

    #[test]
    fn sha256_is_lowercase_hex() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}

//! The owned document tree: every node remembers where it came from.
//!
//! `toml` gives spans relative to one input string and borrows from it; a
//! scenario is assembled from several files plus `--set` overrides, so the
//! loader copies each parsed document into this tree, where an [`Origin`]
//! names the input (file or `--set`) and the byte span inside it. Merging
//! (`extends`) and overrides work on this tree, and errors found much later,
//! while converting to a [`Scenario`](super::Scenario), can still point at the
//! exact text.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use toml::de::{DeTable, DeValue};
use toml::value::Datetime;

use super::dist::is_dist_parameter;
use super::error::{
    ErrorKind, ErrorOrigin, ScenarioError, Snippet, format_float, truncate_for_message,
    truncate_token,
};
use super::keys::child_order;

/// Deeper nesting than this is refused: no scenario needs it, and it keeps
/// every recursive walk over the tree far from the stack limit.
pub(crate) const MAX_DEPTH: usize = 64;

/// Where a node came from: an input (by index into [`Sources`]) and a byte span.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Origin {
    pub(crate) source: u32,
    pub(crate) start: u32,
    pub(crate) end: u32,
}

impl Origin {
    pub(crate) fn new(source: usize, span: Range<usize>) -> Origin {
        // Inputs are capped at 10 MiB, so spans always fit; saturate anyway.
        let cap = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        Origin {
            source: cap(source),
            start: cap(span.start),
            end: cap(span.end.max(span.start)),
        }
    }
}

/// One input text: a file or a `--set` assignment.
#[derive(Clone, Debug)]
pub(crate) struct Source {
    pub kind: SourceKind,
    pub text: Arc<str>,
}

#[derive(Clone, Debug)]
pub(crate) enum SourceKind {
    File(PathBuf),
    Set,
}

/// All inputs a document was built from, so errors can quote them.
#[derive(Clone, Debug, Default)]
pub(crate) struct Sources {
    pub list: Vec<Source>,
}

impl Sources {
    pub fn add(&mut self, kind: SourceKind, text: impl Into<Arc<str>>) -> usize {
        self.list.push(Source {
            kind,
            text: text.into(),
        });
        self.list.len() - 1
    }

    /// A located error: resolves the origin to file, line, column and snippet.
    pub fn error(
        &self,
        kind: ErrorKind,
        origin: Origin,
        key: Option<String>,
        message: String,
    ) -> ScenarioError {
        let mut err = ScenarioError::unlocated(kind, ErrorOrigin::None, message);
        err.0.key = key.filter(|k| !k.is_empty());
        let Some(src) = self.list.get(origin.source as usize) else {
            return err;
        };
        let text: &str = &src.text;
        let start = clamp_to_char(text, origin.start as usize);
        let end = clamp_to_char(text, origin.end as usize).max(start);
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        let line_text = text[line_start..line_end].trim_end_matches('\r');
        let col = text[line_start..start].chars().count();
        let width = text[start..end.min(line_end)].chars().count().max(1);
        let (shown, start_col, width) = snippet_window(line_text, col, width);
        match &src.kind {
            SourceKind::File(path) => {
                let line = text[..start].matches('\n').count() + 1;
                err.0.origin = ErrorOrigin::File(path.clone());
                err.0.line = Some(line);
                err.0.column = Some(col + 1);
                err.0.snippet = Some(Snippet {
                    line_no: Some(line),
                    text: shown,
                    start_col,
                    width,
                });
            }
            SourceKind::Set => {
                err.0.origin = ErrorOrigin::Set(text.to_string());
                err.0.column = Some(col + 1);
                err.0.snippet = Some(Snippet {
                    line_no: None,
                    text: shown,
                    start_col,
                    width,
                });
            }
        }
        err
    }
}

/// The most characters of a source line shown under a message.
const SNIPPET_CHARS: usize = 120;

/// The part of `line` shown under a message, tabs as spaces, with the
/// underline's start column and width in it: the whole line when short,
/// else [`SNIPPET_CHARS`] characters from a little before the underline,
/// `…` marking what was cut, and the underline cut to what is shown.
fn snippet_window(line: &str, col: usize, width: usize) -> (String, usize, usize) {
    let untab = |c: char| if c == '\t' { ' ' } else { c };
    let total = line.chars().count();
    if total <= SNIPPET_CHARS {
        return (line.chars().map(untab).collect(), col, width);
    }
    let from = col
        .saturating_sub(20)
        .min(total.saturating_sub(SNIPPET_CHARS));
    let to = (from + SNIPPET_CHARS).min(total);
    let mut shown = String::new();
    if from > 0 {
        shown.push('…');
    }
    shown.extend(line.chars().skip(from).take(to - from).map(untab));
    if to < total {
        shown.push('…');
    }
    let start = col - from + usize::from(from > 0);
    let width = width.min(to.saturating_sub(col)).max(1);
    (shown, start, width)
}

/// The largest char boundary `<= i` (spans from the parser are on
/// boundaries; this only guards against surprises).
fn clamp_to_char(text: &str, i: usize) -> usize {
    let mut i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A value in the document, with its origin.
#[derive(Clone, Debug)]
pub struct Node {
    pub(crate) value: Value,
    pub(crate) origin: Origin,
}

#[derive(Clone, Debug)]
pub(crate) enum Value {
    String(String),
    Integer(i64),
    Float(f64),
    Boolean(bool),
    Datetime(Datetime),
    Array(Vec<Node>),
    Table(Table),
}

/// A table entry: the key's own origin (for "unknown key" errors) and the value.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub key_origin: Origin,
    pub node: Node,
}

/// Keys sorted, so every walk (and the resolved TOML) is deterministic.
pub(crate) type Table = BTreeMap<String, Entry>;

impl Node {
    /// Where this value was written.
    pub fn origin(&self) -> Origin {
        self.origin
    }

    /// The entries of a table, keys sorted; `None` if this is not a table.
    pub fn table_entries(&self) -> Option<Vec<(&str, Origin, &Node)>> {
        match &self.value {
            Value::Table(t) => Some(
                t.iter()
                    .map(|(k, e)| (k.as_str(), e.key_origin, &e.node))
                    .collect(),
            ),
            _ => None,
        }
    }

    /// The elements of an array; `None` if this is not an array.
    pub fn array_items(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The value as a TOML 1.0 inline value (for messages and sweep labels).
    pub fn to_toml_value(&self) -> String {
        let mut s = String::new();
        write_inline(&mut s, self);
        s
    }

    /// A short description of the value for "found ..." in messages.
    pub(crate) fn describe(&self) -> String {
        match &self.value {
            Value::Table(_) => "a table".to_string(),
            Value::Array(_) => "an array".to_string(),
            Value::Datetime(d) => format!("the date-time {d}"),
            _ => {
                let mut s = self.to_toml_value();
                truncate_for_message(&mut s);
                s
            }
        }
    }

    pub(crate) fn is_table(&self) -> bool {
        matches!(self.value, Value::Table(_))
    }
}

/// Copies a parsed document into an owned tree. Integers outside 64 bits are
/// refused here, with their location and key, as TOML requires. `shift` is
/// added to every span (a `--set` value is parsed alone but located in its
/// assignment).
pub(crate) fn from_de_table(
    t: &DeTable<'_>,
    source: usize,
    shift: usize,
    sources: &Sources,
    depth: usize,
) -> Result<Table, ScenarioError> {
    let mut out = Table::new();
    for (k, v) in t.iter() {
        // A table made by a dotted key (`a.b.c = 1`) has no text of its
        // own: it is located at its key.
        let span = if v.span().is_empty() {
            k.span()
        } else {
            v.span()
        };
        let node = from_de_value(v.get_ref(), span, source, shift, sources, depth + 1)
            .map_err(|e| e.under_key(k.get_ref()))?;
        out.insert(
            k.get_ref().to_string(),
            Entry {
                key_origin: Origin::new(source, k.span().start + shift..k.span().end + shift),
                node,
            },
        );
    }
    Ok(out)
}

pub(crate) fn from_de_value(
    v: &DeValue<'_>,
    span: Range<usize>,
    source: usize,
    shift: usize,
    sources: &Sources,
    depth: usize,
) -> Result<Node, ScenarioError> {
    let origin = Origin::new(source, span.start + shift..span.end + shift);
    if depth > MAX_DEPTH {
        return Err(sources.error(
            ErrorKind::Syntax,
            origin,
            None,
            format!("values are nested more than {MAX_DEPTH} levels deep"),
        ));
    }
    let value = match v {
        DeValue::String(s) => Value::String(s.to_string()),
        DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
            Ok(n) => Value::Integer(n),
            Err(_) => {
                return Err(sources.error(
                    ErrorKind::InvalidValue,
                    origin,
                    None,
                    format!(
                        "the integer {} does not fit in 64 bits (the most is {})",
                        truncate_token(i.as_str()),
                        i64::MAX
                    ),
                ));
            }
        },
        DeValue::Float(f) => match parse_toml_float(f.as_str()) {
            Some(x) => Value::Float(x),
            None => {
                return Err(sources.error(
                    ErrorKind::InvalidValue,
                    origin,
                    None,
                    format!(
                        "the number {} is out of range for a 64-bit float",
                        truncate_token(f.as_str())
                    ),
                ));
            }
        },
        DeValue::Boolean(b) => Value::Boolean(*b),
        DeValue::Datetime(d) => Value::Datetime(*d),
        DeValue::Array(a) => {
            let mut items = Vec::with_capacity(a.len());
            for item in a.iter() {
                items.push(from_de_value(
                    item.get_ref(),
                    item.span(),
                    source,
                    shift,
                    sources,
                    depth + 1,
                )?);
            }
            Value::Array(items)
        }
        DeValue::Table(t) => Value::Table(from_de_table(t, source, shift, sources, depth)?),
    };
    Ok(Node { value, origin })
}

/// Reads a float as the `toml` decoder leaves it (underscores removed; `inf`
/// and `nan` spelled out, maybe signed).
fn parse_toml_float(s: &str) -> Option<f64> {
    let cleaned: String = s.chars().filter(|&c| c != '_').collect();
    match cleaned.trim_start_matches(['+', '-']) {
        "inf" | "nan" => {
            let neg = cleaned.starts_with('-');
            let v = if cleaned.ends_with("inf") {
                f64::INFINITY
            } else {
                f64::NAN
            };
            Some(if neg { -v } else { v })
        }
        // An overflow to infinity is out of range, not `inf`.
        _ => cleaned.parse().ok().filter(|x: &f64| x.is_finite()),
    }
}

/// The new family's name when `over` names a known `dist` different from `base`'s.
///
/// `extends` merges tables key by key. For a distribution that switches
/// family, the base's parameters that the new family does not take (a
/// lognormal's `sd` under a `fixed`) would be an error that the plan could
/// never fix, because a key cannot be deleted. So the merge keeps key-by-key
/// semantics (`{ dist = "gamma" }` over a lognormal keeps its `mean` and `sd`)
/// and then drops only the inherited keys the new family does not take.
fn new_dist_family(base: &Table, over: &Table) -> Option<String> {
    let name = |t: &Table| match t.get("dist").map(|e| &e.node.value) {
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    };
    let new = name(over)?;
    let known = is_dist_parameter(&new, "").is_some();
    (known && name(base).as_ref() != Some(&new)).then_some(new)
}

/// Merges `over` into `base`: tables key by key (over winning), everything
/// else (arrays included) replaced whole.
pub(crate) fn merge(base: &mut Table, over: Table) {
    for (key, entry) in over {
        match base.get_mut(&key) {
            Some(existing) => merge_entry(existing, entry),
            None => {
                base.insert(key, entry);
            }
        }
    }
}

pub(crate) fn merge_entry(existing: &mut Entry, entry: Entry) {
    match (&mut existing.node.value, entry.node.value) {
        (Value::Table(b), Value::Table(o)) => {
            let family = new_dist_family(b, &o);
            // Only inherited parameters are dropped on a change of family:
            // one written in the overriding table is the user's, and must be
            // refused (as unknown for the family) rather than silently ignored.
            let written: Vec<String> = o.keys().cloned().collect();
            merge(b, o);
            if let Some(family) = family {
                b.retain(|k, _| {
                    k == "dist"
                        || written.contains(k)
                        || is_dist_parameter(&family, k) == Some(true)
                });
            }
            // The overriding file is the one the user is working on: point there.
            existing.node.origin = entry.node.origin;
            existing.key_origin = entry.key_origin;
        }
        (_, value) => {
            *existing = Entry {
                key_origin: entry.key_origin,
                node: Node {
                    value,
                    origin: entry.node.origin,
                },
            };
        }
    }
}

/// Splits a dotted key (`pru.cars`, also the keys of a `[sweep]` table) into
/// its parts, with each part's byte range in `key`. Parts are bare TOML keys.
pub(crate) fn split_key(key: &str) -> Result<Vec<(String, Range<usize>)>, String> {
    let count = key.split('.').count();
    if count > MAX_DEPTH {
        return Err(format!(
            "expected a dotted key such as `pru.cars`, found `{}` ({count} parts; the most is \
             {MAX_DEPTH})",
            truncate_token(key)
        ));
    }
    let mut parts = Vec::new();
    let mut pos = 0;
    for part in key.split('.') {
        let range = pos..pos + part.len();
        pos += part.len() + 1;
        let trimmed = part.trim();
        if trimmed.is_empty() {
            return Err(format!(
                "expected a dotted key such as `pru.cars`, found `{}` (empty part)",
                truncate_token(key)
            ));
        }
        if !is_bare_key(trimmed) {
            return Err(format!(
                "expected a dotted key such as `pru.cars`, found `{}` (`{}` is not a plain key name)",
                truncate_token(key),
                truncate_token(trimmed)
            ));
        }
        parts.push((trimmed.to_string(), range));
    }
    Ok(parts)
}

fn is_bare_key(k: &str) -> bool {
    !k.is_empty()
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

// ---------------------------------------------------------------------------
// Writing the resolved document as TOML 1.0.

/// The order keys are written in: the format's order ([`child_order`]) where
/// the table is known, then the rest alphabetically. Only presentation; any
/// order would be deterministic, this one reads like the documentation.
fn ordered<'t>(path: &[&str], t: &'t Table) -> Vec<(&'t str, &'t Node)> {
    let order = child_order(path, t.contains_key("dist"));
    let mut v: Vec<(&str, &Node)> = t.iter().map(|(k, e)| (k.as_str(), &e.node)).collect();
    // Stable sort on rank; the map already gives alphabetical order within a rank.
    v.sort_by_key(|(k, _)| order.iter().position(|o| o == k).unwrap_or(order.len()));
    v
}

fn is_array_of_tables(n: &Node) -> bool {
    matches!(&n.value, Value::Array(a) if !a.is_empty() && a.iter().all(Node::is_table))
}

fn has_table_child(t: &Table) -> bool {
    t.values().any(|e| e.node.is_table())
}

/// The whole document as TOML 1.0: top-level tables as `[sections]`, nested
/// tables as dotted keys down to the innermost table, which is written inline
/// (`los.frail = { dist = ... }`), arrays of tables under a section as
/// `[[section.key]]`. The same tree always gives the same text.
pub(crate) fn write_document(root: &Table) -> String {
    let mut out = String::new();
    let top = ordered(&[], root);
    for (k, n) in &top {
        if !n.is_table() && !is_array_of_tables(n) {
            write_key(&mut out, k);
            out.push_str(" = ");
            write_inline(&mut out, n);
            out.push('\n');
        }
    }
    for (k, n) in &top {
        if let Value::Table(t) = &n.value {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push('[');
            write_key(&mut out, k);
            out.push_str("]\n");
            write_section_body(&mut out, &[k], t);
        }
    }
    for (k, n) in &top {
        if let (true, Value::Array(items)) = (is_array_of_tables(n), &n.value) {
            for item in items {
                if let Value::Table(t) = &item.value {
                    if !out.is_empty() {
                        out.push('\n');
                    }
                    out.push_str("[[");
                    write_key(&mut out, k);
                    out.push_str("]]\n");
                    write_section_body(&mut out, &[k], t);
                }
            }
        }
    }
    out
}

fn write_section_body(out: &mut String, path: &[&str], t: &Table) {
    let mut deferred: Vec<(&str, &[Node])> = Vec::new();
    write_dotted(out, path, &[], t, &mut deferred);
    for (k, items) in deferred {
        let mut sub: Vec<&str> = path.to_vec();
        sub.push(k);
        for item in items {
            if let Value::Table(it) = &item.value {
                out.push_str("\n[[");
                for (i, p) in sub.iter().enumerate() {
                    if i > 0 {
                        out.push('.');
                    }
                    write_key(out, p);
                }
                out.push_str("]]\n");
                write_section_body(out, &sub, it);
            }
        }
    }
}

fn write_dotted<'t>(
    out: &mut String,
    section: &[&str],
    prefix: &[&'t str],
    t: &'t Table,
    deferred: &mut Vec<(&'t str, &'t [Node])>,
) {
    let mut full: Vec<&str> = section.to_vec();
    full.extend_from_slice(prefix);
    for (k, n) in ordered(&full, t) {
        let mut here: Vec<&str> = prefix.to_vec();
        here.push(k);
        match &n.value {
            Value::Table(sub) if has_table_child(sub) && !sub.contains_key("dist") => {
                write_dotted(out, section, &here, sub, deferred);
            }
            Value::Array(items) if prefix.is_empty() && is_array_of_tables(n) => {
                deferred.push((k, items));
            }
            _ => {
                for (i, p) in here.iter().enumerate() {
                    if i > 0 {
                        out.push('.');
                    }
                    write_key(out, p);
                }
                out.push_str(" = ");
                write_inline(out, n);
                out.push('\n');
            }
        }
    }
}

/// Every value of the document as (dotted key, inline TOML), one per line
/// of [`write_document`]'s output and in its order: a table is opened up
/// only where the writer would write dotted keys, so a distribution, an
/// inline table of shares or an array is one value. `[sources]` is left
/// out: it describes the values rather than being one.
pub(crate) fn flatten_values(root: &Table) -> Vec<(String, String)> {
    fn walk(path: &mut Vec<String>, t: &Table, depth: usize, out: &mut Vec<(String, String)>) {
        let keys: Vec<&str> = path.iter().map(String::as_str).collect();
        for (k, n) in ordered(&keys, t) {
            path.push(k.to_string());
            match &n.value {
                // Sections (depth 0) always open; deeper tables open when
                // they hold tables, as `write_dotted` does.
                Value::Table(sub)
                    if depth == 0 || (has_table_child(sub) && !sub.contains_key("dist")) =>
                {
                    walk(path, sub, depth + 1, out);
                }
                _ => {
                    let mut text = String::new();
                    write_inline(&mut text, n);
                    out.push((path.join("."), text));
                }
            }
            path.pop();
        }
    }
    let mut out = Vec::new();
    let mut path = Vec::new();
    let mut body = root.clone();
    body.remove("sources");
    walk(&mut path, &body, 0, &mut out);
    out
}

fn write_key(out: &mut String, k: &str) {
    if is_bare_key(k) {
        out.push_str(k);
    } else {
        write_string(out, k);
    }
}

fn write_inline(out: &mut String, n: &Node) {
    match &n.value {
        Value::String(s) => write_string(out, s),
        Value::Integer(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(f) => out.push_str(&format_float(*f)),
        Value::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Datetime(d) => {
            let _ = write!(out, "{d}");
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_inline(out, item);
            }
            out.push(']');
        }
        Value::Table(t) => {
            if t.is_empty() {
                out.push_str("{}");
                return;
            }
            out.push_str("{ ");
            // Inline tables are leaves of the layout; their path only matters
            // for ordering, and the dist order is what applies here.
            for (i, (k, v)) in ordered(&["-"], t).into_iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_key(out, k);
                out.push_str(" = ");
                write_inline(out, v);
            }
            out.push_str(" }");
        }
    }
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Table {
        let mut sources = Sources::default();
        let id = sources.add(SourceKind::File("t.toml".into()), text);
        let de = DeTable::parse(text).expect("valid toml");
        from_de_table(de.get_ref(), id, 0, &sources, 0).expect("converts")
    }

    #[test]
    fn merge_replaces_arrays_and_merges_tables() {
        let mut base =
            parse("[a]\nx = 1\ny = [1, 2]\n[a.d]\ndist = \"gamma\"\nmean = \"1d\"\nsd = \"1d\"\n");
        let over = parse("[a]\ny = [3]\nz = 2\nd = { mean = \"2d\" }\n");
        merge(&mut base, over);
        let doc = write_document(&base);
        assert_eq!(
            doc,
            "[a]\nd = { dist = \"gamma\", mean = \"2d\", sd = \"1d\" }\nx = 1\ny = [3]\nz = 2\n"
        );
    }

    #[test]
    fn a_new_dist_family_keeps_only_its_own_inherited_parameters() {
        let mut base = parse("d = { dist = \"lognormal\", mean = \"1d\", sd = \"2d\" }\n");
        merge(&mut base, parse("d = { dist = \"gamma\" }\n"));
        assert_eq!(
            write_document(&base),
            "\n[d]\ndist = \"gamma\"\nmean = \"1d\"\nsd = \"2d\"\n".trim_start()
        );
        let mut base = parse("d = { dist = \"lognormal\", mean = \"1d\", sd = \"2d\" }\n");
        merge(&mut base, parse("d = { dist = \"exponential\" }\n"));
        assert_eq!(
            write_document(&base),
            "\n[d]\ndist = \"exponential\"\nmean = \"1d\"\n".trim_start()
        );
    }

    #[test]
    fn a_new_dist_family_replaces_the_old_parameters() {
        let mut base = parse("d = { dist = \"gamma\", mean = \"1d\", sd = \"1d\" }\n");
        merge(
            &mut base,
            parse("d = { dist = \"fixed\", value = \"2d\" }\n"),
        );
        assert_eq!(
            write_document(&base),
            "\n[d]\ndist = \"fixed\"\nvalue = \"2d\"\n".trim_start()
        );
    }

    #[test]
    fn writer_quotes_and_escapes() {
        let t = parse("\"odd key\" = \"a\\\"b\\u0001\"\nf = 1e300\ng = -0.0\nh = nan\n");
        let doc = write_document(&t);
        assert_eq!(
            doc,
            "f = 1e300\ng = -0.0\nh = nan\n\"odd key\" = \"a\\\"b\\u0001\"\n"
        );
        let again = parse(&doc);
        assert_eq!(write_document(&again), doc);
    }

    #[test]
    fn split_key_checks_parts() {
        let parts = split_key("pru.cars").expect("valid");
        assert_eq!(parts[1], ("cars".to_string(), 4..8));
        assert!(split_key("pru..cars").is_err());
        assert!(split_key("pru.c ars").is_err());
        assert!(split_key("").is_err());
    }
}

//! The document as `toml` parses it, in one span space for every input.
//!
//! A scenario is assembled from several files plus `--set` overrides. Each
//! input is parsed by `toml` on its own ([`DeTable::parse`]), and its spans
//! are then moved to the input's place in one span space where the inputs lie
//! end to end, as a compiler's source map lays out its files: a span alone
//! names the input, line and column, so errors found while deserializing
//! (whose spans `toml` reports) or converting can point at the exact text.
//! Merging (`extends`), overrides and the resolved TOML work on the parsed
//! `DeTable`s themselves.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::dist::is_dist_parameter;
use super::error::{
    ErrorKind, ErrorOrigin, ScenarioError, Snippet, format_float, truncate_for_message,
    truncate_token,
};
use super::keys::{EXCLUSIVE, child_order};

/// Deeper nesting than this is refused: no scenario needs it, and it keeps
/// every recursive walk over the document far from the stack limit.
pub(crate) const MAX_DEPTH: usize = 64;

/// A value of the document with its span.
pub(crate) type Item<'a> = Spanned<DeValue<'a>>;
/// A table of the document.
pub(crate) type Table<'a> = DeTable<'a>;

/// Where something was written: a byte range in the span space of all inputs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Origin {
    pub(crate) start: usize,
    pub(crate) end: usize,
}

impl Origin {
    pub(crate) fn of(span: Range<usize>) -> Origin {
        Origin {
            start: span.start,
            end: span.end.max(span.start),
        }
    }

    pub(crate) fn span(self) -> Range<usize> {
        self.start..self.end
    }
}

/// One input text: a file or a `--set` assignment, at `base` in the span space.
#[derive(Clone, Debug)]
pub(crate) struct Input {
    pub kind: InputKind,
    pub text: Arc<str>,
    pub base: usize,
}

#[derive(Clone, Debug)]
pub(crate) enum InputKind {
    File(PathBuf),
    Set,
}

/// All inputs a document was built from, end to end (one byte apart, so an
/// empty input still has a place of its own).
#[derive(Clone, Debug, Default)]
pub(crate) struct Inputs {
    pub list: Vec<Input>,
}

impl Inputs {
    /// Adds an input; returns its index.
    pub fn add(&mut self, kind: InputKind, text: impl Into<Arc<str>>) -> usize {
        let base = self.list.last().map_or(0, |s| s.base + s.text.len() + 1);
        self.list.push(Input {
            kind,
            text: text.into(),
            base,
        });
        self.list.len() - 1
    }

    /// `range` of input `id`, in the span space.
    pub fn origin(&self, id: usize, range: Range<usize>) -> Origin {
        let base = self.list.get(id).map_or(0, |s| s.base);
        Origin::of(base + range.start..base + range.end)
    }

    /// The input a span-space position falls in.
    fn input_at(&self, pos: usize) -> Option<&Input> {
        self.list.iter().rev().find(|s| s.base <= pos)
    }

    /// The file `origin` was written in; `None` for a `--set`.
    pub fn file_at(&self, origin: Origin) -> Option<&std::path::Path> {
        match &self.input_at(origin.start)?.kind {
            InputKind::File(path) => Some(path),
            InputKind::Set => None,
        }
    }

    /// The text written at `origin` (for re-reading a value).
    pub fn text_at(&self, origin: Origin) -> Option<(&Input, &str)> {
        let src = self.input_at(origin.start)?;
        let text: &str = &src.text;
        let start = clamp_to_char(text, origin.start - src.base);
        let end = clamp_to_char(text, origin.end.saturating_sub(src.base)).max(start);
        Some((src, &text[start..end]))
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
        let Some(src) = self.input_at(origin.start) else {
            return err;
        };
        let text: &str = &src.text;
        let start = clamp_to_char(text, origin.start - src.base);
        let end = clamp_to_char(text, origin.end.saturating_sub(src.base)).max(start);
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        let line_text = text[line_start..line_end].trim_end_matches('\r');
        let col = text[line_start..start].chars().count();
        let width = text[start..end.min(line_end)].chars().count().max(1);
        let (shown, start_col, width) = snippet_window(line_text, col, width);
        match &src.kind {
            InputKind::File(path) => {
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
            InputKind::Set => {
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

/// The largest char boundary `<= i`.
fn clamp_to_char(text: &str, i: usize) -> usize {
    let mut i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

// ---------------------------------------------------------------------------
// Placing a parsed input in the span space, checking what `toml` leaves open.

/// Moves every span of `value` by `shift` and checks each value: integers
/// must fit in 64 bits and floats in a 64-bit float (as TOML requires), and
/// nesting stays within [`MAX_DEPTH`]. A table made by a dotted key
/// (`a.b.c = 1`) has no text of its own: it is placed at its key. Errors
/// carry the key path below `value`.
pub(crate) fn place<'a>(
    value: Item<'a>,
    key_span: Option<Range<usize>>,
    shift: usize,
    inputs: &Inputs,
    depth: usize,
) -> Result<Item<'a>, ScenarioError> {
    let span = value.span();
    let span = match key_span {
        Some(k) if span.is_empty() => k,
        _ => span.start + shift..span.end + shift,
    };
    let origin = Origin::of(span.clone());
    if depth > MAX_DEPTH {
        return Err(inputs.error(
            ErrorKind::Syntax,
            origin,
            None,
            format!("values are nested more than {MAX_DEPTH} levels deep"),
        ));
    }
    let mut value = value.into_inner();
    match &mut value {
        DeValue::Integer(i) => {
            if i64::from_str_radix(i.as_str(), i.radix()).is_err() {
                return Err(inputs.error(
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
        }
        DeValue::Float(f) => {
            if parse_toml_float(f.as_str()).is_none() {
                return Err(inputs.error(
                    ErrorKind::InvalidValue,
                    origin,
                    None,
                    format!(
                        "the number {} is out of range for a 64-bit float",
                        truncate_token(f.as_str())
                    ),
                ));
            }
        }
        DeValue::Array(items) => {
            for item in items.iter_mut() {
                let taken = std::mem::replace(item, Spanned::new(0..0, DeValue::Boolean(false)));
                *item = place(taken, None, shift, inputs, depth + 1)?;
            }
        }
        DeValue::Table(t) => {
            let taken = std::mem::take(t);
            *t = place_table(taken, shift, inputs, depth)?;
        }
        DeValue::String(_) | DeValue::Boolean(_) | DeValue::Datetime(_) => {}
    }
    Ok(Spanned::new(span, value))
}

/// [`place`] for every entry of a table.
pub(crate) fn place_table<'a>(
    table: Table<'a>,
    shift: usize,
    inputs: &Inputs,
    depth: usize,
) -> Result<Table<'a>, ScenarioError> {
    let mut out = Table::new();
    for (k, v) in table {
        let key_span = k.span().start + shift..k.span().end + shift;
        let name = k.into_inner();
        let v = place(v, Some(key_span.clone()), shift, inputs, depth + 1)
            .map_err(|e| e.under_key(&name))?;
        out.insert(Spanned::new(key_span, name), v);
    }
    Ok(out)
}

/// Reads a float as the `toml` parser leaves it (underscores removed; `inf`
/// and `nan` spelled out, maybe signed).
pub(crate) fn parse_toml_float(s: &str) -> Option<f64> {
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

/// An integer the placing walk accepted.
pub(crate) fn integer(v: &DeValue<'_>) -> Option<i64> {
    match v {
        DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix()).ok(),
        _ => None,
    }
}

/// A float the placing walk accepted.
pub(crate) fn float(v: &DeValue<'_>) -> Option<f64> {
    match v {
        DeValue::Float(f) => parse_toml_float(f.as_str()),
        _ => None,
    }
}

/// A table key for lookups and inserts made by the loader.
pub(crate) fn key<'a>(name: &str, span: Range<usize>) -> Spanned<Cow<'a, str>> {
    Spanned::new(span, Cow::Owned(name.to_string()))
}

// ---------------------------------------------------------------------------
// Merging.

/// The new family's name when `over` names a known `dist` different from `base`'s.
///
/// `extends` merges tables key by key. For a distribution that switches
/// family, the base's parameters that the new family does not take (a
/// lognormal's `sd` under a `fixed`) would be an error that the plan could
/// never fix, because a key cannot be deleted. So the merge keeps key-by-key
/// semantics (`{ dist = "gamma" }` over a lognormal keeps its `mean` and `sd`)
/// and then drops only the inherited keys the new family does not take.
fn new_dist_family(base: &Table<'_>, over: &Table<'_>) -> Option<String> {
    let name = |t: &Table<'_>| match t.get("dist").map(Spanned::get_ref) {
        Some(DeValue::String(s)) => Some(s.to_string()),
        _ => None,
    };
    let new = name(over)?;
    let known = is_dist_parameter(&new, "").is_some();
    (known && name(base).as_ref() != Some(&new)).then_some(new)
}

/// Merges `over` into `base`: tables key by key (over winning), everything
/// else (arrays included) replaced whole.
pub(crate) fn merge<'a>(base: &mut Table<'a>, over: Table<'a>) {
    merge_at("", base, over);
}

/// [`merge`] of the table at the dotted `path` (`""` for the root).
fn merge_at<'a>(path: &str, base: &mut Table<'a>, over: Table<'a>) {
    for (k, v) in over {
        merge_entry(path, base, k, v);
    }
}

/// Drops from `table` (at the dotted `path`) the key that excludes one of
/// `written` (the keys a layer wrote there) when the layer did not write it
/// too: it was inherited, and a layer cannot delete a key
/// (`docs/scenario-format.md`, "Keys that exclude one another").
pub(crate) fn drop_excluded(path: &str, table: &mut Table<'_>, written: &[&str]) {
    for (a, b) in EXCLUSIVE {
        for (one, other) in [(a, b), (b, a)] {
            let name = |key: &'static str| {
                key.strip_prefix(path)
                    .and_then(|k| k.strip_prefix('.'))
                    .filter(|k| !k.contains('.'))
            };
            if let (Some(one), Some(other)) = (name(one), name(other))
                && written.contains(&one)
                && !written.contains(&other)
            {
                table.remove(other);
            }
        }
    }
}

/// Merges one entry into `table`, the table at the dotted `path` (`""` for
/// the root). A merged table takes the overriding key's and table's spans:
/// the overriding file is the one the user is working on, so errors point
/// there.
pub(crate) fn merge_entry<'a>(
    path: &str,
    table: &mut Table<'a>,
    k: Spanned<Cow<'a, str>>,
    v: Item<'a>,
) {
    let Some((old_key, old)) = table.remove_entry(k.get_ref().as_ref()) else {
        table.insert(k, v);
        return;
    };
    drop(old_key);
    let span = v.span();
    match (old.into_inner(), v.into_inner()) {
        (DeValue::Table(mut b), DeValue::Table(o)) => {
            let family = new_dist_family(&b, &o);
            // Only inherited parameters are dropped on a change of family:
            // one written in the overriding table is the user's, and must be
            // refused (as unknown for the family) rather than silently ignored.
            let written: Vec<String> = o.keys().map(|k| k.get_ref().to_string()).collect();
            let here = if path.is_empty() {
                k.get_ref().to_string()
            } else {
                format!("{path}.{}", k.get_ref())
            };
            merge_at(&here, &mut b, o);
            let names: Vec<&str> = written.iter().map(String::as_str).collect();
            drop_excluded(&here, &mut b, &names);
            if let Some(family) = family {
                let dropped: Vec<String> = b
                    .keys()
                    .map(|k| k.get_ref().to_string())
                    .filter(|k| {
                        k != "dist"
                            && !written.contains(k)
                            && is_dist_parameter(&family, k) != Some(true)
                    })
                    .collect();
                for k in dropped {
                    b.remove(k.as_str());
                }
            }
            table.insert(k, Spanned::new(span, DeValue::Table(b)));
        }
        (_, value) => {
            table.insert(k, Spanned::new(span, value));
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
// Describing values in messages.

/// A short description of a value for "found ..." in messages about the
/// document's structure: the value as TOML, shortened.
pub(crate) fn describe(v: &DeValue<'_>) -> String {
    match v {
        DeValue::Table(_) => "a table".to_string(),
        DeValue::Array(_) => "an array".to_string(),
        DeValue::Datetime(d) => format!("the date-time {d}"),
        _ => {
            let mut s = inline(v);
            truncate_for_message(&mut s);
            s
        }
    }
}

/// A value as "found ..." describes it after a value was refused by its
/// reader: strings in Rust's quoting, numbers as read.
pub(crate) fn describe_found(v: &DeValue<'_>) -> String {
    let mut s = match v {
        DeValue::String(s) => format!("{s:?}"),
        DeValue::Integer(_) => integer(v).map_or_else(String::new, |i| i.to_string()),
        DeValue::Float(_) => float(v).map_or_else(String::new, format_float),
        DeValue::Boolean(b) => b.to_string(),
        DeValue::Datetime(d) => format!("the date-time {d}"),
        DeValue::Array(_) => "an array".to_string(),
        DeValue::Table(_) => "a table".to_string(),
    };
    truncate_for_message(&mut s);
    s
}

// ---------------------------------------------------------------------------
// Writing the resolved document as TOML 1.0.

fn is_table(v: &DeValue<'_>) -> bool {
    matches!(v, DeValue::Table(_))
}

/// The entries of `t` in the order they are written: the format's order
/// ([`child_order`]) where the table is known, then the rest alphabetically.
/// Only presentation; any order would be deterministic, this one reads like
/// the documentation.
fn ordered<'t, 'a>(path: &[&str], t: &'t Table<'a>) -> Vec<(&'t str, &'t DeValue<'a>)> {
    let order = child_order(path, t.contains_key("dist"));
    let mut v: Vec<(&str, &DeValue<'a>)> = t
        .iter()
        .map(|(k, e)| (k.get_ref().as_ref(), e.get_ref()))
        .collect();
    v.sort_by(|a, b| a.0.cmp(b.0));
    // Stable sort on rank; alphabetical order within a rank.
    v.sort_by_key(|(k, _)| order.iter().position(|o| o == k).unwrap_or(order.len()));
    v
}

fn is_array_of_tables(v: &DeValue<'_>) -> bool {
    matches!(v, DeValue::Array(a) if !a.is_empty() && a.iter().all(|i| is_table(i.get_ref())))
}

fn has_table_child(t: &Table<'_>) -> bool {
    t.values().any(|e| is_table(e.get_ref()))
}

/// The whole document as TOML 1.0: top-level tables as `[sections]`, nested
/// tables as dotted keys down to the innermost table, which is written inline
/// (`los.frail = { dist = ... }`), arrays of tables under a section as
/// `[[section.key]]`. The same document always gives the same text.
pub(crate) fn write_document(root: &Table<'_>) -> String {
    let mut out = String::new();
    let top = ordered(&[], root);
    for (k, n) in &top {
        if !is_table(n) && !is_array_of_tables(n) {
            write_key(&mut out, k);
            out.push_str(" = ");
            write_inline(&mut out, n);
            out.push('\n');
        }
    }
    for (k, n) in &top {
        if let DeValue::Table(t) = n {
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
        if let (true, DeValue::Array(items)) = (is_array_of_tables(n), n) {
            for item in items.iter() {
                if let DeValue::Table(t) = item.get_ref() {
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

fn write_section_body(out: &mut String, path: &[&str], t: &Table<'_>) {
    let mut deferred: Vec<(&str, &[Item<'_>])> = Vec::new();
    write_dotted(out, path, &[], t, &mut deferred);
    for (k, items) in deferred {
        let mut sub: Vec<&str> = path.to_vec();
        sub.push(k);
        for item in items {
            if let DeValue::Table(it) = item.get_ref() {
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

fn write_dotted<'t, 'a>(
    out: &mut String,
    section: &[&str],
    prefix: &[&'t str],
    t: &'t Table<'a>,
    deferred: &mut Vec<(&'t str, &'t [Item<'a>])>,
) {
    let mut full: Vec<&str> = section.to_vec();
    full.extend_from_slice(prefix);
    for (k, n) in ordered(&full, t) {
        let mut here: Vec<&str> = prefix.to_vec();
        here.push(k);
        match n {
            DeValue::Table(sub) if has_table_child(sub) && !sub.contains_key("dist") => {
                write_dotted(out, section, &here, sub, deferred);
            }
            DeValue::Array(items) if prefix.is_empty() && is_array_of_tables(n) => {
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
pub(crate) fn flatten_values(root: &Table<'_>) -> Vec<(String, String)> {
    fn walk(path: &mut Vec<String>, t: &Table<'_>, depth: usize, out: &mut Vec<(String, String)>) {
        let keys: Vec<&str> = path.iter().map(String::as_str).collect();
        let entries: Vec<(String, &DeValue<'_>)> = ordered(&keys, t)
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        for (k, n) in entries {
            if depth == 0 && k == "sources" {
                continue;
            }
            path.push(k);
            match n {
                // Sections (depth 0) always open; deeper tables open when
                // they hold tables, as `write_dotted` does.
                DeValue::Table(sub)
                    if depth == 0 || (has_table_child(sub) && !sub.contains_key("dist")) =>
                {
                    walk(path, sub, depth + 1, out);
                }
                _ => out.push((path.join("."), inline(n))),
            }
            path.pop();
        }
    }
    let mut out = Vec::new();
    walk(&mut Vec::new(), root, 0, &mut out);
    out
}

fn write_key(out: &mut String, k: &str) {
    if is_bare_key(k) {
        out.push_str(k);
    } else {
        write_string(out, k);
    }
}

/// A value as a TOML 1.0 inline value.
pub(crate) fn inline(v: &DeValue<'_>) -> String {
    let mut s = String::new();
    write_inline(&mut s, v);
    s
}

fn write_inline(out: &mut String, v: &DeValue<'_>) {
    match v {
        DeValue::String(s) => write_string(out, s),
        DeValue::Integer(_) => {
            let _ = write!(out, "{}", integer(v).unwrap_or_default());
        }
        DeValue::Float(_) => out.push_str(&format_float(float(v).unwrap_or(f64::NAN))),
        DeValue::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        DeValue::Datetime(d) => {
            let _ = write!(out, "{d}");
        }
        DeValue::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_inline(out, item.get_ref());
            }
            out.push(']');
        }
        DeValue::Table(t) => {
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

    fn parse<'a>(inputs: &mut Inputs, text: &'a str) -> Table<'a> {
        let id = inputs.add(InputKind::File("t.toml".into()), text);
        let de = DeTable::parse(text).expect("valid toml");
        let base = inputs.origin(id, 0..0).start;
        place_table(de.into_inner(), base, inputs, 0).expect("places")
    }

    #[test]
    fn merge_replaces_arrays_and_merges_tables() {
        let s = &mut Inputs::default();
        let mut base = parse(
            s,
            "[a]\nx = 1\ny = [1, 2]\n[a.d]\ndist = \"gamma\"\nmean = \"1d\"\nsd = \"1d\"\n",
        );
        let over = parse(s, "[a]\ny = [3]\nz = 2\nd = { mean = \"2d\" }\n");
        merge(&mut base, over);
        assert_eq!(
            write_document(&base),
            "[a]\nd = { dist = \"gamma\", mean = \"2d\", sd = \"1d\" }\nx = 1\ny = [3]\nz = 2\n"
        );
    }

    #[test]
    fn a_new_dist_family_keeps_only_its_own_inherited_parameters() {
        let s = &mut Inputs::default();
        let mut base = parse(
            s,
            "d = { dist = \"lognormal\", mean = \"1d\", sd = \"2d\" }\n",
        );
        merge(&mut base, parse(s, "d = { dist = \"gamma\" }\n"));
        assert_eq!(
            write_document(&base),
            "[d]\ndist = \"gamma\"\nmean = \"1d\"\nsd = \"2d\"\n"
        );
        let mut base = parse(
            s,
            "d = { dist = \"lognormal\", mean = \"1d\", sd = \"2d\" }\n",
        );
        merge(&mut base, parse(s, "d = { dist = \"exponential\" }\n"));
        assert_eq!(
            write_document(&base),
            "[d]\ndist = \"exponential\"\nmean = \"1d\"\n"
        );
        let mut base = parse(s, "d = { dist = \"gamma\", mean = \"1d\", sd = \"1d\" }\n");
        merge(
            &mut base,
            parse(s, "d = { dist = \"fixed\", value = \"2d\" }\n"),
        );
        assert_eq!(
            write_document(&base),
            "[d]\ndist = \"fixed\"\nvalue = \"2d\"\n"
        );
    }

    #[test]
    fn writer_quotes_and_escapes() {
        let s = &mut Inputs::default();
        let t = parse(
            s,
            "\"odd key\" = \"a\\\"b\\u0001\"\nf = 1e300\ng = -0.0\nh = nan\ni = 0x1F\n",
        );
        let doc = write_document(&t);
        assert_eq!(
            doc,
            "f = 1e300\ng = -0.0\nh = nan\ni = 31\n\"odd key\" = \"a\\\"b\\u0001\"\n"
        );
        let again = parse(s, &doc);
        assert_eq!(write_document(&again), doc);
    }

    #[test]
    fn inputs_lie_end_to_end() {
        let s = &mut Inputs::default();
        let first = parse(s, "a = 1\n");
        let second = parse(s, "\nb = 2\n");
        // The second input starts one byte after the first ends (at 7).
        assert_eq!(first.get("a").map(Spanned::span), Some(4..5));
        assert_eq!(second.get("b").map(Spanned::span), Some(12..13));
        let e = s.error(
            ErrorKind::InvalidValue,
            Origin::of(12..13),
            None,
            "x".into(),
        );
        assert_eq!((e.line(), e.column()), (Some(2), Some(5)));
        let e = s.error(ErrorKind::InvalidValue, Origin::of(4..5), None, "x".into());
        assert_eq!((e.line(), e.column()), (Some(1), Some(5)));
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

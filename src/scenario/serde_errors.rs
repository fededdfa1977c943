//! serde's errors in the scenario format's words.
//!
//! `toml` reports a deserialization error as serde phrased it (`missing
//! field`, `unknown field`, `invalid type: ..., expected ...`) with a span;
//! `serde_path_to_error` gives the key path. Here the path is resolved in
//! the document and the message rewritten as the loader states every error:
//! what was expected, the value found (described from the document), and
//! for an unknown key the closest key of the format (`keys::FORMAT`).

use std::fmt::Write as _;
use std::ops::Range;

use serde_path_to_error::Segment;
use toml::Spanned;
use toml::de::DeValue;

use super::doc::{self, Item, Table};
use super::error::{ErrorKind, list};
use super::keys::child_order;
use super::raw::{DIST_TABLE, SOURCES_TABLE, TABLE, is_datetime_key};
use super::suggest::did_you_mean;

/// A step in a key path: a table key or an array index.
#[derive(Clone, Debug)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
}

/// Renders `acute.capacity_changes[1].from`.
pub(crate) fn render_path(path: &[Seg]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Seg::Index(i) => {
                let _ = write!(s, "[{i}]");
            }
        }
    }
    s
}

/// The key path of an error in the document's terms. serde's private keys
/// (of `Spanned`) are left out; a key `serde_path_to_error` could not read
/// (a key read with its span) is the key of the table's entry whose text
/// holds the error's span.
pub(crate) fn resolve_path(
    root: &Table<'_>,
    path: &serde_path_to_error::Path,
    span: Option<Range<usize>>,
) -> Vec<Seg> {
    let mut out: Vec<Seg> = Vec::new();
    for segment in path {
        match segment {
            Segment::Map { key } if !key.starts_with("$__") => out.push(Seg::Key(key.clone())),
            Segment::Seq { index } => out.push(Seg::Index(*index)),
            Segment::Unknown => {
                let table = match item_at(root, &out).map(Spanned::get_ref) {
                    Some(DeValue::Table(t)) => Some(t),
                    None if out.is_empty() => Some(root),
                    _ => None,
                };
                let found = table.zip(span.as_ref()).and_then(|(t, span)| {
                    t.iter().find(|(k, v)| {
                        let holds = |r: Range<usize>| r.start <= span.start && span.end <= r.end;
                        holds(k.span()) || holds(v.span())
                    })
                });
                if let Some((k, _)) = found {
                    out.push(Seg::Key(k.get_ref().to_string()));
                }
            }
            _ => {}
        }
    }
    out
}

/// The value at `path` in the document, if there is one.
pub(crate) fn item_at<'t, 'a>(root: &'t Table<'a>, path: &[Seg]) -> Option<&'t Item<'a>> {
    let (first, rest) = path.split_first()?;
    let Seg::Key(k) = first else { return None };
    let mut item = root.get(k.as_str())?;
    for seg in rest {
        item = match (seg, item.get_ref()) {
            (Seg::Key(k), DeValue::Table(t)) => t.get(k.as_str())?,
            (Seg::Index(i), DeValue::Array(a)) => a.get(*i)?,
            _ => return None,
        };
    }
    Some(item)
}

/// serde's names for what a value is, in the words of a TOML file.
fn plain_expected(exp: &str) -> String {
    match exp {
        "a sequence" => "an array such as [1, 2, 3]".to_string(),
        "a map" => "a table".to_string(),
        other => other.to_string(),
    }
}

/// serde's message about the value at `path` as (kind, key path, message).
/// serde phrases its errors one way whatever the format (`missing field`,
/// `unknown field`, `invalid type: ..., expected ...`, `invalid value: ...`);
/// the readers in `raw.rs` phrase theirs the same way, or write the whole
/// message themselves.
pub(crate) fn translate(
    message: &str,
    path: &[Seg],
    found: Option<&DeValue<'_>>,
) -> (ErrorKind, String, String) {
    let key = render_path(path);
    let expected = |m: &str| m.rsplit_once(", expected ").map(|(_, e)| e.to_string());
    if let Some(rest) = message.strip_prefix("missing field `") {
        let field = rest.strip_suffix('`').unwrap_or(rest);
        let full = if key.is_empty() {
            field.to_string()
        } else {
            format!("{key}.{field}")
        };
        return (
            ErrorKind::MissingKey,
            full,
            format!("missing key `{field}`"),
        );
    }
    // A date-time reaches serde as a table of one private key: a table
    // that was expected met a date-time.
    let datetime = matches!(found, Some(DeValue::Datetime(_)));
    if datetime
        && message
            .strip_prefix("unknown field `")
            .is_some_and(is_datetime_key)
    {
        let shown = found.map(doc::describe).unwrap_or_default();
        return (
            ErrorKind::WrongType,
            key,
            format!("expected {TABLE}, found {shown}"),
        );
    }
    if datetime && message.ends_with("expected a spanned value") {
        let exp = if key == "sources" {
            SOURCES_TABLE
        } else {
            DIST_TABLE
        };
        let shown = found.map(doc::describe_found).unwrap_or_default();
        return (
            ErrorKind::WrongType,
            key,
            format!("expected {exp}, found {shown}"),
        );
    }
    if message.starts_with("unknown field `") {
        let field = match path.last() {
            Some(Seg::Key(k)) => k.clone(),
            _ => String::new(),
        };
        let table: Vec<&str> = path[..path.len().saturating_sub(1)]
            .iter()
            .filter_map(|s| match s {
                Seg::Key(k) => Some(k.as_str()),
                Seg::Index(_) => None,
            })
            .collect();
        let mut takes = child_order(&table, false);
        // A pathway table also takes `sample`, which its shares' struct
        // does not hold (`uncertain.rs` takes it out before conversion).
        let dotted = table.join(".");
        if super::uncertain::SHARE_TABLES
            .iter()
            .any(|(t, _)| *t == dotted)
        {
            takes.push("sample");
        }
        let text = match did_you_mean(&field, &takes).as_str() {
            "" => format!("unknown key `{field}`; this table takes {}", list(&takes)),
            hint => format!("unknown key `{field}`{hint}"),
        };
        return (ErrorKind::UnknownKey, key, text);
    }
    if message.starts_with("invalid type: ") {
        let exp = expected(message).unwrap_or_default();
        // A table of the format describes what it found as TOML.
        let (exp, shown) = if exp == TABLE {
            (exp, found.map(doc::describe))
        } else {
            (plain_expected(&exp), found.map(doc::describe_found))
        };
        let shown = shown.unwrap_or_else(|| "another type".to_string());
        return (
            ErrorKind::WrongType,
            key,
            format!("expected {exp}, found {shown}"),
        );
    }
    if message.starts_with("invalid value: ") {
        let exp = expected(message).unwrap_or_default();
        let shown = found.map_or_else(|| "another value".to_string(), doc::describe_found);
        return (
            ErrorKind::InvalidValue,
            key,
            format!("expected {exp}, found {shown}"),
        );
    }
    if let Some(rest) = message.strip_prefix("invalid length ") {
        let exp = expected(message).unwrap_or_default();
        let len = rest.split(',').next().unwrap_or("");
        return (
            ErrorKind::InvalidValue,
            key,
            format!("expected {exp}, found {len} items"),
        );
    }
    (ErrorKind::InvalidValue, key, message.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    #[test]
    fn serde_messages_in_the_format_s_words() {
        let path = [
            Seg::Key("acute".into()),
            Seg::Key("capacity_changes".into()),
            Seg::Index(1),
            Seg::Key("form".into()),
        ];
        assert_eq!(render_path(&path), "acute.capacity_changes[1].form");
        let (kind, key, text) = translate("unknown field `form`, expected one of ...", &path, None);
        assert_eq!(kind, ErrorKind::UnknownKey);
        assert_eq!(key, "acute.capacity_changes[1].form");
        assert_eq!(text, "unknown key `form`, did you mean `from`?");
        let (kind, key, text) = translate("missing field `sd`", &path[..1], None);
        assert_eq!((kind, key.as_str()), (ErrorKind::MissingKey, "acute.sd"));
        assert_eq!(text, "missing key `sd`");
        let two = DeValue::String(Cow::Borrowed("two"));
        let (kind, _, text) = translate(
            "invalid type: string \"two\", expected a whole number >= 0",
            &path,
            Some(&two),
        );
        assert_eq!(kind, ErrorKind::WrongType);
        assert_eq!(text, "expected a whole number >= 0, found \"two\"");
    }
}

//! A serde `Deserializer` over the document tree that locates its errors.
//!
//! Every `deserialize_*` call knows the node it reads and that node's key
//! path, so an error raised anywhere below (by serde's derive code or by the
//! value types in `raw.rs`) is stamped with the innermost location on its
//! way out. Only the first stamp sticks: outer nodes never overwrite it.
//!
//! Two private protocols, keyed by magic struct names, pass what serde's
//! data model cannot carry:
//! - [`Located<T>`] receives the origin and key path of the node it wraps, so
//!   the conversion stage can place errors that only it can detect
//!   (pathway shares not summing to 1, `from` after `to`, ...);
//! - [`DATE_NEWTYPE`] lets a date accept a TOML local-date literal.

use std::fmt;

use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};

use super::error::{ErrorKind, list};
use super::suggest::did_you_mean;
use super::tree::{Node, Origin, Table, Value};

const LOCATED: &str = "$__patientflow_located";
const LOCATED_FIELDS: &[&str] = &["$source", "$start", "$end", "$path", "$value"];

/// Newtype name a date deserializes through; see the module docs.
pub(crate) const DATE_NEWTYPE: &str = "$__patientflow_date";

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
                s.push('[');
                s.push_str(&i.to_string());
                s.push(']');
            }
        }
    }
    s
}

fn child(path: &[Seg], seg: Seg) -> Vec<Seg> {
    let mut p = path.to_vec();
    p.push(seg);
    p
}

/// An error raised while deserializing, located once known.
#[derive(Debug)]
pub(crate) struct DeError {
    pub kind: ErrorKind,
    pub message: String,
    /// Set by `missing_field`: the key is the table's path plus this name.
    missing: Option<String>,
    pub located: Option<(Origin, String)>,
}

impl DeError {
    fn new(kind: ErrorKind, message: String) -> Self {
        DeError {
            kind,
            message,
            missing: None,
            located: None,
        }
    }

    /// Stamps the location unless an inner node already did.
    fn at(mut self, origin: Origin, path: &[Seg]) -> Self {
        if self.located.is_none() {
            let mut p = path.to_vec();
            if let Some(m) = self.missing.take() {
                p.push(Seg::Key(m));
            }
            self.located = Some((origin, render_path(&p)));
        }
        self
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

/// How a value is described after "found" in messages.
fn describe_unexpected(u: de::Unexpected<'_>) -> String {
    use de::Unexpected as U;
    let mut s = match u {
        U::Bool(b) => b.to_string(),
        U::Unsigned(n) => n.to_string(),
        U::Signed(n) => n.to_string(),
        U::Float(f) => super::error::format_float(f),
        U::Char(c) => format!("{c:?}"),
        U::Str(s) => format!("{s:?}"),
        U::Map => "a table".to_string(),
        U::Seq => "an array".to_string(),
        U::Unit => "nothing".to_string(),
        other => other.to_string(),
    };
    super::error::truncate_for_message(&mut s);
    s
}

/// serde's names for what a list or a map is, in the words of a TOML file.
fn plain_expected(exp: &str) -> String {
    match exp {
        "a sequence" => "an array such as [1, 2, 3]".to_string(),
        "a map" => "a table".to_string(),
        other => other.to_string(),
    }
}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError::new(ErrorKind::InvalidValue, msg.to_string())
    }

    fn invalid_type(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        DeError::new(
            ErrorKind::WrongType,
            format!(
                "expected {}, found {}",
                plain_expected(&exp.to_string()),
                describe_unexpected(unexp)
            ),
        )
    }

    fn invalid_value(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        DeError::new(
            ErrorKind::InvalidValue,
            format!("expected {exp}, found {}", describe_unexpected(unexp)),
        )
    }

    fn invalid_length(len: usize, exp: &dyn de::Expected) -> Self {
        DeError::new(
            ErrorKind::InvalidValue,
            format!("expected {exp}, found {len} items"),
        )
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        DeError::new(
            ErrorKind::InvalidValue,
            format!(
                "expected one of {}, found {variant:?}{}",
                list(expected),
                did_you_mean(variant, expected)
            ),
        )
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        DeError::new(
            ErrorKind::UnknownKey,
            match did_you_mean(field, expected).as_str() {
                "" => format!("unknown key `{field}`; this table takes {}", list(expected)),
                hint => format!("unknown key `{field}`{hint}"),
            },
        )
    }

    fn missing_field(field: &'static str) -> Self {
        let mut e = DeError::new(ErrorKind::MissingKey, format!("missing key `{field}`"));
        e.missing = Some(field.to_string());
        e
    }

    fn duplicate_field(field: &'static str) -> Self {
        DeError::new(ErrorKind::InvalidValue, format!("duplicate key `{field}`"))
    }
}

/// Deserializes one node.
pub(crate) struct NodeDe<'de> {
    pub node: &'de Node,
    pub path: Vec<Seg>,
}

impl<'de> NodeDe<'de> {
    fn finish<T>(&self, r: Result<T, DeError>) -> Result<T, DeError> {
        r.map_err(|e| e.at(self.node.origin, &self.path))
    }

    fn any<V: Visitor<'de>>(&self, visitor: V) -> Result<V::Value, DeError> {
        let node: &'de Node = self.node;
        match &node.value {
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Integer(i) => visitor.visit_i64(*i),
            Value::Float(f) => visitor.visit_f64(*f),
            Value::Boolean(b) => visitor.visit_bool(*b),
            Value::Datetime(d) => Err(de::Error::invalid_type(
                de::Unexpected::Other(&format!("the date-time {d}")),
                &visitor,
            )),
            Value::Array(items) => visitor.visit_seq(SeqDe {
                items: items.iter(),
                index: 0,
                path: &self.path,
            }),
            Value::Table(t) => visitor.visit_map(MapDe::new(t, &self.path)),
        }
    }
}

impl<'de> de::Deserializer<'de> for NodeDe<'de> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let r = self.any(visitor);
        self.finish(r)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        // A key that is present always has a value: TOML has no null.
        let origin = self.node.origin;
        let path = self.path.clone();
        visitor.visit_some(self).map_err(|e| e.at(origin, &path))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        if name == DATE_NEWTYPE {
            if let Value::Datetime(d) = &self.node.value {
                let r = if d.date.is_some() && d.time.is_none() && d.offset.is_none() {
                    visitor.visit_string(d.to_string())
                } else {
                    Err(de::Error::invalid_type(
                        de::Unexpected::Other(&format!("the date-time {d}")),
                        &visitor,
                    ))
                };
                return self.finish(r);
            }
            return self.deserialize_any(visitor);
        }
        let origin = self.node.origin;
        let path = self.path.clone();
        visitor
            .visit_newtype_struct(self)
            .map_err(|e| e.at(origin, &path))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        if name == LOCATED {
            let origin = self.node.origin;
            let path = self.path.clone();
            return visitor
                .visit_seq(LocatedSeq::new(origin, &path, Some(self)))
                .map_err(|e| e.at(origin, &path));
        }
        if !self.node.is_table() {
            let found = self.node.describe();
            return self.finish(Err(DeError::new(
                ErrorKind::WrongType,
                format!("expected a table, found {found}"),
            )));
        }
        self.deserialize_any(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map enum identifier
    }
}

/// Deserializes a table key (a string), located at the key itself.
struct KeyDe<'de> {
    key: &'de str,
    origin: Origin,
    path: Vec<Seg>,
}

impl<'de> de::Deserializer<'de> for KeyDe<'de> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor
            .visit_borrowed_str(self.key)
            .map_err(|e: DeError| e.at(self.origin, &self.path))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        if name == LOCATED {
            let origin = self.origin;
            let path = self.path.clone();
            return visitor
                .visit_seq(LocatedSeq::new(origin, &path, None).with_key(self))
                .map_err(|e| e.at(origin, &path));
        }
        self.deserialize_any(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map enum identifier ignored_any
    }
}

struct SeqDe<'de, 'p> {
    items: std::slice::Iter<'de, Node>,
    index: usize,
    path: &'p [Seg],
}

impl<'de> de::SeqAccess<'de> for SeqDe<'de, '_> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        let Some(node) = self.items.next() else {
            return Ok(None);
        };
        let path = child(self.path, Seg::Index(self.index));
        self.index += 1;
        seed.deserialize(NodeDe { node, path }).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct MapDe<'de, 'p> {
    entries: std::collections::btree_map::Iter<'de, String, super::tree::Entry>,
    pending: Option<&'de Node>,
    pending_key: Option<&'de str>,
    path: &'p [Seg],
}

impl<'de, 'p> MapDe<'de, 'p> {
    fn new(t: &'de Table, path: &'p [Seg]) -> Self {
        MapDe {
            entries: t.iter(),
            pending: None,
            pending_key: None,
            path,
        }
    }
}

impl<'de> de::MapAccess<'de> for MapDe<'de, '_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some((key, entry)) = self.entries.next() else {
            return Ok(None);
        };
        self.pending = Some(&entry.node);
        self.pending_key = Some(key);
        seed.deserialize(KeyDe {
            key,
            origin: entry.key_origin,
            path: child(self.path, Seg::Key(key.clone())),
        })
        .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let (Some(node), Some(key)) = (self.pending.take(), self.pending_key.take()) else {
            return Err(DeError::new(
                ErrorKind::InvalidValue,
                "internal: value requested before key".to_string(),
            ));
        };
        seed.deserialize(NodeDe {
            node,
            path: child(self.path, Seg::Key(key.to_string())),
        })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// Feeds a [`Located`] its origin, path and finally the value itself.
struct LocatedSeq<'de> {
    origin: Origin,
    path: String,
    node: Option<NodeDe<'de>>,
    key: Option<KeyDe<'de>>,
    step: usize,
}

impl<'de> LocatedSeq<'de> {
    fn new(origin: Origin, path: &[Seg], node: Option<NodeDe<'de>>) -> Self {
        LocatedSeq {
            origin,
            path: render_path(path),
            node,
            key: None,
            step: 0,
        }
    }

    fn with_key(mut self, key: KeyDe<'de>) -> Self {
        self.key = Some(key);
        self
    }
}

impl<'de> de::SeqAccess<'de> for LocatedSeq<'de> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        let step = self.step;
        self.step += 1;
        let v = match step {
            0 => seed.deserialize(u64::from(self.origin.source).into_deserializer())?,
            1 => seed.deserialize(u64::from(self.origin.start).into_deserializer())?,
            2 => seed.deserialize(u64::from(self.origin.end).into_deserializer())?,
            3 => seed.deserialize(self.path.clone().into_deserializer())?,
            4 => {
                if let Some(node) = self.node.take() {
                    seed.deserialize(node)?
                } else if let Some(key) = self.key.take() {
                    seed.deserialize(key)?
                } else {
                    return Ok(None);
                }
            }
            _ => return Ok(None),
        };
        Ok(Some(v))
    }
}

/// A value together with where it was written and its key path, for checks
/// that the conversion stage makes after deserialization.
#[derive(Clone, Debug)]
pub(crate) struct Located<T> {
    pub value: T,
    pub origin: Origin,
    pub path: String,
}

impl<'de, T: de::Deserialize<'de>> de::Deserialize<'de> for Located<T> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: de::Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Located<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a located value")
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Located<T>, A::Error> {
                let missing = || de::Error::custom("internal: incomplete location");
                let source: u64 = seq.next_element()?.ok_or_else(missing)?;
                let start: u64 = seq.next_element()?.ok_or_else(missing)?;
                let end: u64 = seq.next_element()?.ok_or_else(missing)?;
                let path: String = seq.next_element()?.ok_or_else(missing)?;
                let value: T = seq.next_element()?.ok_or_else(missing)?;
                let cap = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
                Ok(Located {
                    value,
                    origin: Origin {
                        source: cap(source),
                        start: cap(start),
                        end: cap(end),
                    },
                    path,
                })
            }
        }
        d.deserialize_struct(LOCATED, LOCATED_FIELDS, V(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_lists_render() {
        let p = [
            Seg::Key("acute".into()),
            Seg::Key("capacity_changes".into()),
            Seg::Index(1),
            Seg::Key("from".into()),
        ];
        assert_eq!(render_path(&p), "acute.capacity_changes[1].from");
        assert_eq!(list(&["a"]), "`a`");
        assert_eq!(list(&["a", "b", "c"]), "`a`, `b` and `c`");
    }

    #[test]
    fn only_the_innermost_location_sticks() {
        let inner = Origin::new(0, 5..6);
        let outer = Origin::new(0, 0..1);
        let e = DeError::new(ErrorKind::WrongType, "x".into())
            .at(inner, &[Seg::Key("a".into())])
            .at(outer, &[]);
        assert_eq!(e.located, Some((inner, "a".to_string())));
        let m = <DeError as de::Error>::missing_field("sd").at(outer, &[Seg::Key("d".into())]);
        assert_eq!(m.located.map(|(_, p)| p).as_deref(), Some("d.sd"));
    }
}

//! Errors from reading a scenario, located like a compiler's.
//!
//! A researcher who mistypes one value in a 150-line plan should be told the
//! file, line, column and the full key, what was expected and what was found,
//! and see the offending text underlined. Every error the loader produces is a
//! [`ScenarioError`]; tests and the CLI read its parts through accessors rather
//! than by matching on the rendered text.

use std::fmt;
use std::path::{Path, PathBuf};

/// What class of problem a [`ScenarioError`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The file could not be read (missing, unreadable, too large).
    Io,
    /// Not valid TOML (or not UTF-8).
    Syntax,
    /// A key that the table does not have.
    UnknownKey,
    /// A required key is absent.
    MissingKey,
    /// A value of the wrong TOML type (a number where a string was needed...).
    WrongType,
    /// A value of the right type but not allowed (out of range, bad format...).
    InvalidValue,
    /// `extends` names, directly or through a chain, a file already in the chain.
    ExtendsCycle,
    /// `extends` names a file that cannot be read.
    ExtendsMissing,
    /// A `--set KEY=VALUE` that is malformed or cannot be applied.
    BadSet,
}

/// Where an error happened: a file, or a command-line override.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorOrigin {
    /// Not tied to any input (should be rare).
    None,
    /// A scenario file.
    File(PathBuf),
    /// A `--set` assignment, as given (without the `--set` itself).
    Set(String),
}

/// The source line shown under the message, with the span to underline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Snippet {
    /// 1-based line number shown in the gutter; `None` for `--set` text.
    pub line_no: Option<usize>,
    /// The line's text, tabs shown as single spaces so the carets line up.
    pub text: String,
    /// 0-based character column where the underline starts.
    pub start_col: usize,
    /// Underline length in characters (at least 1).
    pub width: usize,
}

/// A scenario that could not be loaded, with where and why.
///
/// Boxed so that `Result<_, ScenarioError>` stays one pointer wide on the
/// success path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError(pub(crate) Box<Details>);

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Details {
    pub(crate) kind: ErrorKind,
    pub(crate) origin: ErrorOrigin,
    pub(crate) line: Option<usize>,
    pub(crate) column: Option<usize>,
    pub(crate) key: Option<String>,
    pub(crate) message: String,
    pub(crate) snippet: Option<Snippet>,
}

impl std::error::Error for ScenarioError {}

impl ScenarioError {
    /// An error with no source position (used for I/O problems on the given file).
    pub(crate) fn unlocated(kind: ErrorKind, origin: ErrorOrigin, message: String) -> Self {
        ScenarioError(Box::new(Details {
            kind,
            origin,
            line: None,
            column: None,
            key: None,
            message,
            snippet: None,
        }))
    }

    /// The class of problem.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// The file the error is in, if it is in a file (not in a `--set`).
    pub fn file(&self) -> Option<&Path> {
        match &self.0.origin {
            ErrorOrigin::File(p) => Some(p),
            _ => None,
        }
    }

    /// The `--set` assignment the error is in, if any.
    pub fn set_text(&self) -> Option<&str> {
        match &self.0.origin {
            ErrorOrigin::Set(s) => Some(s),
            _ => None,
        }
    }

    /// File or `--set` the error is in.
    pub fn origin(&self) -> &ErrorOrigin {
        &self.0.origin
    }

    /// 1-based line in [`file`](Self::file), when known.
    pub fn line(&self) -> Option<usize> {
        self.0.line
    }

    /// 1-based column (in characters), when known. For a `--set` it counts
    /// characters of the assignment text.
    pub fn column(&self) -> Option<usize> {
        self.0.column
    }

    /// Dotted key path such as `acute.los.frail.mean`, when the error concerns a key.
    pub fn key(&self) -> Option<&str> {
        self.0.key.as_deref()
    }

    /// What was expected and what was found, without location.
    pub fn message(&self) -> &str {
        &self.0.message
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error: ")?;
        match &self.0.origin {
            ErrorOrigin::None => {}
            ErrorOrigin::File(p) => {
                write!(f, "{}", p.display())?;
                if let (Some(l), Some(c)) = (self.0.line, self.0.column) {
                    write!(f, ":{l}:{c}")?;
                }
                write!(f, ": ")?;
            }
            ErrorOrigin::Set(s) => write!(f, "--set {s}: ")?,
        }
        if let Some(k) = &self.0.key {
            write!(f, "key `{k}`: ")?;
        }
        write!(f, "{}", self.0.message)?;
        if let Some(s) = &self.0.snippet {
            let (label, text, start) = match s.line_no {
                Some(n) => (n.to_string(), s.text.clone(), s.start_col),
                // Show the assignment as it was typed, `--set` included.
                None => (String::new(), format!("--set {}", s.text), s.start_col + 6),
            };
            let pad = " ".repeat(label.len() + 1);
            write!(f, "\n{pad}|\n{label} | {text}\n{pad}| ")?;
            write!(f, "{}{}", " ".repeat(start), "^".repeat(s.width.max(1)))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_rustc() {
        let e = ScenarioError(Box::new(Details {
            kind: ErrorKind::InvalidValue,
            origin: ErrorOrigin::File(PathBuf::from("scenarios/plan.toml")),
            line: Some(12),
            column: Some(8),
            key: Some("pru.cars".into()),
            message: "expected a whole number >= 0, found -1".into(),
            snippet: Some(Snippet {
                line_no: Some(12),
                text: "cars = -1".into(),
                start_col: 7,
                width: 2,
            }),
        }));
        assert_eq!(
            e.to_string(),
            "error: scenarios/plan.toml:12:8: key `pru.cars`: expected a whole number >= 0, found -1\n   |\n12 | cars = -1\n   |        ^^"
        );
    }

    #[test]
    fn renders_set_origin() {
        let e = ScenarioError(Box::new(Details {
            kind: ErrorKind::InvalidValue,
            origin: ErrorOrigin::Set("pru.cars=-1".into()),
            line: None,
            column: Some(10),
            key: Some("pru.cars".into()),
            message: "expected a whole number >= 0, found -1".into(),
            snippet: Some(Snippet {
                line_no: None,
                text: "pru.cars=-1".into(),
                start_col: 9,
                width: 2,
            }),
        }));
        let shown = e.to_string();
        assert!(shown.starts_with("error: --set pru.cars=-1: key `pru.cars`: expected"));
        assert!(
            shown.ends_with("\n | --set pru.cars=-1\n |                ^^"),
            "{shown}"
        );
    }
}

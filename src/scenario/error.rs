//! Errors from reading a scenario, located like a compiler's.
//!
//! A researcher who mistypes one value in a 150-line plan should be told the
//! file, line, column and the full key, what was expected and what was found,
//! and see the offending text underlined. Every error the loader produces is a
//! [`ScenarioError`]; tests and the CLI read its parts through accessors rather
//! than by matching on the rendered text.

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};

/// The most characters of one piece of user text (a key, a value, a
/// `--set`) that a message quotes; longer text is cut by [`truncate_token`].
pub const MAX_TOKEN_CHARS: usize = 80;

/// The most characters of a message's word (a run without spaces) that is
/// kept whatever produced it: the safety net behind [`truncate_token`].
const MAX_WORD_CHARS: usize = 200;

/// User text as a message quotes it: whole when short, else its first
/// [`MAX_TOKEN_CHARS`] characters followed by `… (N bytes)`, so a 5 MB token
/// costs a line of stderr, not megabytes.
pub fn truncate_token(text: &str) -> Cow<'_, str> {
    truncate_to(text, MAX_TOKEN_CHARS)
}

fn truncate_to(text: &str, max: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => Cow::Borrowed(text),
        Some((cut, _)) => Cow::Owned(format!("{}… ({} bytes)", &text[..cut], text.len())),
    }
}

/// Long values are shortened in messages so an error stays one readable line.
pub(crate) fn truncate_for_message(s: &mut String) {
    const MAX: usize = 60;
    if s.chars().count() > MAX {
        let cut: String = s.chars().take(MAX).collect();
        *s = format!("{cut}...");
    }
}

/// Shortest text that reads back as the same f64, in TOML float syntax.
pub(crate) fn format_float(f: f64) -> String {
    if f.is_nan() {
        return if f.is_sign_negative() { "-nan" } else { "nan" }.to_string();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    // Debug gives the shortest round-trip form and always a `.` or an exponent.
    format!("{f:?}")
}

/// `a`, `b` and `c`.
pub(crate) fn list(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.as_slice() {
        [] => "no keys".to_string(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// `"a", "b", "c"`.
pub(crate) fn list_quoted(names: &[&str]) -> String {
    let q: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    q.join(", ")
}

/// A number as a message shows it: as written by Rust's shortest
/// round-trip form while it is human-sized, in scientific notation with
/// four significant figures from 1e15 up and below 1e-6 (so `1e308` is
/// `1e308`, not 309 digits), `inf`, `-inf` or `NaN` when not finite.
pub fn human_number(x: f64) -> String {
    if x.is_nan() {
        return "NaN".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    let a = x.abs();
    if a != 0.0 && !(1e-6..1e15).contains(&a) {
        scientific(x)
    } else {
        format!("{x}")
    }
}

/// As [`human_number`], but with `decimals` fixed decimals while
/// human-sized (for tables that align on the decimal point).
pub fn human_fixed(x: f64, decimals: usize) -> String {
    if x.is_finite() && x.abs() < 1e15 {
        format!("{x:.decimals$}")
    } else {
        human_number(x)
    }
}

/// `1.235e308`: four significant figures, trailing zeros dropped.
fn scientific(x: f64) -> String {
    let s = format!("{x:.3e}");
    match s.split_once('e') {
        Some((mantissa, exp)) if mantissa.contains('.') => {
            let m = mantissa.trim_end_matches('0').trim_end_matches('.');
            format!("{m}e{exp}")
        }
        _ => s,
    }
}

/// The most characters of a message (without its location and source
/// line): the last safety net, after [`shorten_words`].
const MAX_MESSAGE_CHARS: usize = 1000;

/// Cuts every word (run without whitespace) of a message longer than
/// [`MAX_WORD_CHARS`], whatever quoted it, then the whole message to
/// [`MAX_MESSAGE_CHARS`].
fn shorten_words(message: String) -> String {
    if message.len() <= MAX_WORD_CHARS {
        return message;
    }
    let words = shorten_each_word(message);
    match truncate_to(&words, MAX_MESSAGE_CHARS) {
        Cow::Borrowed(_) => words,
        Cow::Owned(cut) => cut,
    }
}

fn shorten_each_word(message: String) -> String {
    let long = message
        .split(char::is_whitespace)
        .any(|w| w.chars().nth(MAX_WORD_CHARS).is_some());
    if !long {
        return message;
    }
    let mut out = String::with_capacity(MAX_WORD_CHARS * 4);
    let mut rest = message.as_str();
    while !rest.is_empty() {
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        out.push_str(&truncate_to(&rest[..end], MAX_WORD_CHARS));
        let ws_end = rest[end..]
            .find(|c: char| !c.is_whitespace())
            .map_or(rest.len(), |i| end + i);
        out.push_str(&rest[end..ws_end]);
        rest = &rest[ws_end..];
    }
    out
}

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
            message: shorten_words(message),
            snippet: None,
        }))
    }

    /// The error of a value found below table key `key`: the key path
    /// gains `key` in front (errors found while copying a document, before
    /// any key path is known, get theirs this way).
    pub(crate) fn under_key(mut self, key: &str) -> Self {
        self.0.key = Some(match self.0.key.take() {
            Some(below) => format!("{key}.{below}"),
            None => key.to_string(),
        });
        self
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
            ErrorOrigin::Set(s) => write!(f, "--set {}: ", truncate_token(s))?,
        }
        if let Some(k) = &self.0.key {
            write!(f, "key `{}`: ", truncate_token(k))?;
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
    fn tokens_and_numbers_are_human_sized() {
        assert_eq!(truncate_token("pru.cars"), "pru.cars");
        let long = "é".repeat(100);
        assert_eq!(
            truncate_token(&long),
            format!("{}… (200 bytes)", "é".repeat(MAX_TOKEN_CHARS))
        );
        assert_eq!(human_number(1e308), "1e308");
        assert_eq!(human_number(-6.28e301), "-6.28e301");
        assert_eq!(human_number(1.23456e20), "1.235e20");
        assert_eq!(human_number(1234.5), "1234.5");
        assert_eq!(human_number(1e-300), "1e-300");
        assert_eq!(human_number(0.0), "0");
        assert_eq!(human_number(f64::NAN), "NaN");
        assert_eq!(human_fixed(437.46, 1), "437.5");
        assert_eq!(human_fixed(7.466e158, 1), "7.466e158");
        assert_eq!(human_fixed(f64::INFINITY, 2), "inf");
        // Every word, then the whole message, is cut.
        let m = shorten_words(format!(
            "found {} and {}",
            "x".repeat(5000),
            "y".repeat(300)
        ));
        assert!(m.contains("… (5000 bytes) and "), "{m}");
        assert!(m.ends_with("… (300 bytes)"), "{m}");
        let m = shorten_words("word ".repeat(10_000));
        assert!(m.chars().count() < MAX_MESSAGE_CHARS + 20, "{}", m.len());
    }

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

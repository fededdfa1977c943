//! User text made safe for each output format: one function per format,
//! used wherever text a user wrote (scenario names and descriptions,
//! `[sources]` citations, file and directory names, swept values, the
//! command line) reaches an output.
//!
//! Every format first replaces control characters ([`clean`]): a line
//! break or tab becomes a space (a name or citation is one line of a
//! table), anything else that is invisible or reorders what is shown (C0
//! and C1 controls, DEL, the Unicode bidirectional overrides and isolates
//! such as U+202E, line and paragraph separators, the byte order mark)
//! becomes U+FFFD, so it is visible and can never turn `txt.exe` into
//! `exe.txt` on screen. Then each format escapes its own markup:
//!
//! | format | function | what else |
//! | --- | --- | --- |
//! | HTML (text and attributes) | [`html`] | `& < > " '` as entities |
//! | Markdown | [`markdown`] | backslash before `` \ ` * _ [ ] < > \| & ~ ``, and before a line-start `#`, `+`, `-`, `=` or list number |
//! | SVG | [`svg`] | plotters escapes `& < > " '` in every text it draws; this cleans the finished document |
//! | CSV | [`super::text_cell`] | Excel formula prefix and RFC 4180 quotes |
//! | terminal | [`terminal`] | line breaks kept, every other control replaced (no escape sequences) |
//!
//! Links from a report are built by [`relative_href`] only: `./` and each
//! path segment percent-encoded, so a file named
//! `javascript:alert(1).toml` is a link to a folder of that name, never a
//! script.

use std::borrow::Cow;

/// The replacement for a control character that is not a line break or tab.
const REPLACEMENT: char = '\u{FFFD}';

/// Is `c` invisible or does it change how the text around it is shown?
fn is_control(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{FEFF}'
        )
}

fn replace_controls(s: &str, keep_newlines: bool) -> Cow<'_, str> {
    if !s.chars().any(is_control) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| match c {
                '\n' if keep_newlines => '\n',
                '\n' | '\r' | '\t' => ' ',
                c if is_control(c) => REPLACEMENT,
                c => c,
            })
            .collect(),
    )
}

/// `s` with line breaks and tabs as spaces and every other control
/// character (see the module documentation) as U+FFFD.
pub fn clean(s: &str) -> Cow<'_, str> {
    replace_controls(s, false)
}

/// Text for HTML, in an element or a quoted attribute.
pub fn html(s: &str) -> String {
    let s = clean(s);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Text for Markdown (CommonMark with pipe tables): in a paragraph, a list
/// item, a heading or a table cell it reads as the same text, never as a
/// link, image, emphasis, HTML, entity, code, heading, list or cell break.
pub fn markdown(s: &str) -> String {
    let s = clean(s);
    let mut out = String::with_capacity(s.len() + 8);
    // A line-start marker: `#` (heading), `- x` / `+ x` (list item, a
    // space after the marker), `1. x` / `1) x` (ordered list), a line of
    // `=` (setext underline). `-2` or `1.5` is left alone.
    let spaced = |rest: &str| rest.is_empty() || rest.starts_with(' ');
    let digits = s.chars().take_while(char::is_ascii_digit).count();
    let numbered = digits > 0
        && matches!(s[digits..].chars().next(), Some('.' | ')'))
        && spaced(&s[digits + 1..]);
    let first = s.chars().next();
    if first == Some('#')
        || (matches!(first, Some('-' | '+')) && spaced(&s[1..]))
        || (first == Some('=') && s.chars().all(|c| c == '=' || c == ' '))
    {
        out.push('\\');
    }
    for (i, c) in s.chars().enumerate() {
        if numbered && i == digits {
            out.push('\\');
        }
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '&' | '~'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A finished SVG document from plotters, which escapes the markup of
/// every text it draws: control characters in that text (but not the
/// document's own line breaks) replaced.
pub fn svg(document: &str) -> String {
    replace_controls(document, true).into_owned()
}

/// Text for a terminal: line breaks kept, every other control character
/// replaced, so no escape sequence in a name or a file reaches the screen.
pub fn terminal(s: &str) -> Cow<'_, str> {
    replace_controls(s, true)
}

/// A link relative to the report's folder: `./` then each segment
/// percent-encoded (everything but `A-Z a-z 0-9 - . _ ~`), joined by `/`.
/// A segment `.` or `..` is encoded too, so a link never leaves the folder.
pub fn relative_href(segments: &[&str]) -> String {
    let mut out = String::from(".");
    for seg in segments {
        out.push('/');
        if *seg == "." || *seg == ".." {
            out.push_str(&seg.replace('.', "%2E"));
            continue;
        }
        for b in seg.bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                out.push(b as char);
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_replaced_in_every_format() {
        let hostile = "a\nb\tc\u{0}d\u{202E}gpj.exe\u{1b}[31m";
        assert_eq!(clean(hostile), "a b c\u{FFFD}d\u{FFFD}gpj.exe\u{FFFD}[31m");
        assert_eq!(terminal("a\nb\u{1b}"), "a\nb\u{FFFD}");
        assert!(!html(hostile).contains(['\n', '\0', '\u{202E}', '\u{1b}']));
        assert!(!markdown(hostile).contains(['\n', '\0', '\u{202E}', '\u{1b}']));
        assert_eq!(
            svg("<svg>\n<text>x\u{0}</text>"),
            "<svg>\n<text>x\u{FFFD}</text>"
        );
        assert!(matches!(clean("plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn html_escapes_markup() {
        assert_eq!(
            html("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn markdown_never_makes_a_link_image_or_block() {
        assert_eq!(
            markdown("[x](javascript:alert(1))"),
            "\\[x\\](javascript:alert(1))"
        );
        assert_eq!(markdown("![i](y)"), "!\\[i\\](y)");
        assert_eq!(markdown("a | b"), "a \\| b");
        assert_eq!(markdown("<script>"), "\\<script\\>");
        assert_eq!(markdown("&#x202E;"), "\\&#x202E;");
        assert_eq!(markdown("# h"), "\\# h");
        assert_eq!(markdown("- item"), "\\- item");
        assert_eq!(markdown("12. item"), "12\\. item");
        assert_eq!(markdown("==="), "\\===");
        // Numbers are not list markers.
        assert_eq!(markdown("-2"), "-2");
        assert_eq!(markdown("1.1"), "1.1");
        assert_eq!(markdown("a_b *c*"), "a\\_b \\*c\\*");
        // Ordinary prose is left as it is.
        assert_eq!(
            markdown("Second PRU car, 08:30-23:00: 12 (95% CI 5 to 19)."),
            "Second PRU car, 08:30-23:00: 12 (95% CI 5 to 19)."
        );
    }

    #[test]
    fn links_are_relative_and_encoded() {
        assert_eq!(
            relative_href(&["javascript:alert(document.domain)", "report.html"]),
            "./javascript%3Aalert%28document.domain%29/report.html"
        );
        assert_eq!(
            relative_href(&["a b", "report.html"]),
            "./a%20b/report.html"
        );
        assert_eq!(relative_href(&["..", "x"]), "./%2E%2E/x");
        assert_eq!(relative_href(&["caf\u{e9}"]), "./caf%C3%A9");
    }
}

//! CSV cells that open cleanly in Excel.
//!
//! Rules: `.` decimals, no thousands separators, no exponent
//! notation, ISO dates, and a text cell never starts with `=`, `+`, `-` or
//! `@` (Excel would evaluate it as a formula: "CSV injection").

/// A number as a CSV cell.
///
/// Rust's `{}` for `f64` prints the shortest string that reads back to the
/// same value, with `.` as the decimal point, no grouping and never an
/// exponent (`1e-7` prints as `0.0000001`, `1e21` as
/// `1000000000000000000000`), which is exactly what Excel reads as a number
/// in any locale that uses `.`. `-0.0` is written as `0` (a "-0" in a board
/// paper invites questions), and NaN or an infinity as an empty cell: the
/// value is undefined (for example the sd of one replication), and an empty
/// cell is what Excel's statistics functions skip.
pub fn number_cell(x: f64) -> String {
    if !x.is_finite() {
        String::new()
    } else if x == 0.0 {
        "0".to_string()
    } else {
        format!("{x}")
    }
}

/// A text cell: made safe for Excel, then quoted per RFC 4180 if needed.
///
/// Excel-safety: a cell starting with `=`, `+`, `-`, `@`, a tab or a
/// carriage return (the characters OWASP lists for formula injection) gets a
/// leading `'`. Excel shows the apostrophe when it opens a CSV, which is the
/// point: the text stays visibly text and is never evaluated. Numbers are
/// written with [`number_cell`] and are not text cells, so `-3.5` is left
/// alone.
///
/// Quoting: a cell containing a comma, a double quote, CR or LF is wrapped
/// in double quotes with inner quotes doubled.
///
/// Control characters are replaced first ([`super::escape::clean`]): a line
/// break becomes a space, so every record is one line.
pub fn text_cell(s: &str) -> String {
    let s = &*super::escape::clean(s);
    let needs_prefix = matches!(s.chars().next(), Some('=' | '+' | '-' | '@' | '\t' | '\r'));
    let safe = if needs_prefix {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if safe.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", safe.replace('"', "\"\""))
    } else {
        safe
    }
}

/// Appends one CSV record (cells already formatted) and a `\n`.
pub(crate) fn push_record(out: &mut String, cells: &[String]) {
    for (i, c) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(c);
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(number_cell(1.5), "1.5");
        assert_eq!(number_cell(-3.25), "-3.25");
        assert_eq!(number_cell(42.0), "42");
        assert_eq!(number_cell(-0.0), "0");
        assert_eq!(number_cell(0.0), "0");
        assert_eq!(number_cell(1e-7), "0.0000001");
        assert_eq!(number_cell(1e21), "1000000000000000000000");
        assert_eq!(number_cell(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(number_cell(f64::NAN), "");
        assert_eq!(number_cell(f64::INFINITY), "");
        assert_eq!(number_cell(f64::NEG_INFINITY), "");
        let tiny = number_cell(5e-324);
        assert!(tiny.starts_with("0.000") && !tiny.contains(['e', 'E']));
        let huge = number_cell(f64::MAX);
        assert!(!huge.contains(['e', 'E', '.']) && huge.len() == 309);
    }

    #[test]
    fn text() {
        assert_eq!(text_cell("admissions"), "admissions");
        assert_eq!(text_cell("=1+1"), "'=1+1");
        assert_eq!(text_cell("+44"), "'+44");
        assert_eq!(text_cell("-x"), "'-x");
        assert_eq!(text_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(text_cell("a,b"), "\"a,b\"");
        assert_eq!(text_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(text_cell("two\nlines"), "two lines");
        assert_eq!(text_cell("nul\u{0}"), "nul\u{FFFD}");
        assert_eq!(
            text_cell("=HYPERLINK(\"x\",\"y\")"),
            "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\""
        );
        assert_eq!(text_cell(""), "");
    }
}

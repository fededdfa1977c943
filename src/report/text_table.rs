//! The one formatter of fixed-width tables for the terminal: the run
//! summary (`report::table`), the comparison headlines (`report::experiment_outputs`),
//! the queueing-theory checks (`validate`) and the offered-load check
//! (`experiment::check`).
//!
//! Layout: columns two spaces apart, each as wide as its widest cell (in
//! characters), text left- or right-aligned as its column says; a rule of
//! dashes across the whole table under the header and after the last row;
//! no trailing spaces on any line.

/// How a column's cells are placed in its width.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    /// Text: padded on the right.
    Left,
    /// Numbers: padded on the left, so that digits line up.
    Right,
}

/// A table being filled: a header and alignment per column, then rows.
#[derive(Clone, Debug, Default)]
pub struct TextTable {
    header: Vec<String>,
    align: Vec<Align>,
    min_width: Vec<usize>,
    rows: Vec<Vec<String>>,
}

/// Space between two columns.
const GAP: &str = "  ";

impl TextTable {
    /// A table with these columns (header, alignment), no rows yet.
    pub fn new(columns: &[(&str, Align)]) -> TextTable {
        TextTable {
            header: columns.iter().map(|(h, _)| h.to_string()).collect(),
            align: columns.iter().map(|(_, a)| *a).collect(),
            min_width: vec![0; columns.len()],
            rows: Vec::new(),
        }
    }

    /// Makes column `i` at least `width` characters wide, however narrow
    /// its cells (for a table whose columns must not move with its values).
    pub fn min_width(mut self, i: usize, width: usize) -> TextTable {
        if let Some(w) = self.min_width.get_mut(i) {
            *w = width;
        }
        self
    }

    /// Adds a row; cells beyond the columns are dropped, missing ones empty.
    pub fn push<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) {
        let mut row: Vec<String> = cells.into_iter().map(Into::into).collect();
        row.resize(self.header.len(), String::new());
        self.rows.push(row);
    }

    /// Width of each column.
    fn widths(&self) -> Vec<usize> {
        let mut widths: Vec<usize> = self
            .header
            .iter()
            .zip(&self.min_width)
            .map(|(h, &min)| h.chars().count().max(min))
            .collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        widths
    }

    /// The table as text, every line ending in `\n`.
    pub fn render(&self) -> String {
        let widths = self.widths();
        let line = |out: &mut String, cells: &[String]| {
            let mut text = String::new();
            for (i, ((cell, &w), align)) in cells.iter().zip(&widths).zip(&self.align).enumerate() {
                if i > 0 {
                    text.push_str(GAP);
                }
                match align {
                    Align::Left => text.push_str(&format!("{cell:<w$}")),
                    Align::Right => text.push_str(&format!("{cell:>w$}")),
                }
            }
            out.push_str(text.trim_end());
            out.push('\n');
        };
        let rule =
            "-".repeat(widths.iter().sum::<usize>() + GAP.len() * widths.len().saturating_sub(1));
        let mut out = String::new();
        line(&mut out, &self.header);
        out.push_str(&rule);
        out.push('\n');
        for row in &self.rows {
            line(&mut out, row);
        }
        out.push_str(&rule);
        out.push('\n');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_and_lines_have_no_trailing_space() {
        let mut t = TextTable::new(&[("name", Align::Left), ("n", Align::Right)]);
        t.push(["a", "1"]);
        t.push(["long name", "123"]);
        t.push(["é", ""]);
        assert_eq!(
            t.render(),
            "name         n\n\
             --------------\n\
             a            1\n\
             long name  123\n\
             é\n\
             --------------\n"
        );
        let t = TextTable::new(&[("x", Align::Left), ("y", Align::Right)]).min_width(0, 4);
        assert_eq!(t.render(), "x     y\n-------\n-------\n");
    }
}

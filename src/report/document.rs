//! A report as a plain document (sections of paragraphs, tables and
//! charts), and its two renderings: one self-contained HTML page and
//! Markdown for pasting into documents.
//!
//! Builders for each kind of output directory (`run_report` for a run,
//! `experiment_report` for a comparison or sweep) fill a [`Document`]; everything about HTML, Markdown and files
//! lives here, once.

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::Path;

use super::escape;
use super::replace_dir_with;

/// Text that marks what a generator cannot know; highlighted in HTML.
pub const AUTHOR_MARK: &str = "[author to complete:";

#[derive(Clone, Debug)]
pub struct Document {
    pub title: String,
    pub subtitle: String,
    pub sections: Vec<Section>,
}

#[derive(Clone, Debug)]
pub struct Section {
    /// Anchor for the contents list (`summary`).
    pub id: String,
    pub title: String,
    pub blocks: Vec<Block>,
}

#[derive(Clone, Debug)]
pub enum Block {
    Paragraph(String),
    /// A paragraph set apart: the caveat every result needs.
    Caveat(String),
    /// A paragraph set apart and coloured: a warning about the figures
    /// (see [`report_text`](super::report_text)).
    Warning(String),
    /// Key findings, one sentence each.
    Headlines(Vec<String>),
    List(Vec<String>),
    Subheading(String),
    Table(Table),
    Chart(Chart),
    /// Links as a list: `(text, path segments below the report's folder)`.
    /// Rendered by [`escape::relative_href`] only (`./`, each segment
    /// percent-encoded), so the page stays self-contained, works from any
    /// copy of the folder, and a folder's name can never be a scheme.
    Links(Vec<(String, Vec<String>)>),
}

#[derive(Clone, Debug)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Right-align this column (numbers).
    pub numeric: Vec<bool>,
}

#[derive(Clone, Debug)]
pub struct Chart {
    /// File name under `charts/`, such as `midnight-census.svg`.
    pub file: String,
    pub title: String,
    pub caption: String,
    /// The chart as a standalone SVG document.
    pub svg: String,
}

impl Document {
    /// Every chart, in document order.
    pub fn charts(&self) -> impl Iterator<Item = &Chart> {
        self.sections.iter().flat_map(|s| {
            s.blocks.iter().filter_map(|b| match b {
                Block::Chart(c) => Some(c),
                _ => None,
            })
        })
    }
}

// ---------------------------------------------------------------------------
// HTML

const CSS: &str = include_str!("report.css");

fn esc(s: &str) -> String {
    escape::html(s)
}

/// Escaped text with every `[author to complete: ...]` marked up.
fn text_html(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find(AUTHOR_MARK) {
        out.push_str(&esc(&rest[..i]));
        let end = rest[i..].find(']').map_or(rest.len(), |j| i + j + 1);
        let _ = write!(out, "<mark class=\"todo\">{}</mark>", esc(&rest[i..end]));
        rest = &rest[end..];
    }
    out.push_str(&esc(rest));
    out
}

/// A chart's SVG for inlining in HTML: the namespace declaration (the one
/// URL in plotters' output) is implied by HTML, so it is dropped, and the
/// chart is labelled for screen readers.
fn inline_svg(chart: &Chart) -> String {
    let body = chart
        .svg
        .replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1);
    body.replacen(
        "<svg ",
        &format!(
            "<svg role=\"img\" aria-label=\"{}\" class=\"chart\" ",
            esc(&chart.title)
        ),
        1,
    )
}

/// The whole report as one HTML page: CSS and SVG inline, no scripts, no
/// fonts, nothing fetched.
pub fn render_html(doc: &Document) -> String {
    let mut h = String::new();
    h.push_str("<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(h, "<title>{}</title>", esc(&doc.title));
    let _ = writeln!(h, "<style>\n{CSS}</style>\n</head>\n<body>\n<main>");
    let _ = writeln!(
        h,
        "<header>\n<h1>{}</h1>\n<p class=\"subtitle\">{}</p>\n</header>",
        esc(&doc.title),
        text_html(&doc.subtitle)
    );
    h.push_str("<nav aria-label=\"Contents\">\n<h2>Contents</h2>\n<ol>\n");
    for s in &doc.sections {
        let _ = writeln!(
            h,
            "<li><a href=\"#{}\">{}</a></li>",
            esc(&s.id),
            esc(&s.title)
        );
    }
    h.push_str("</ol>\n</nav>\n");
    for s in &doc.sections {
        let _ = writeln!(
            h,
            "<section id=\"{}\">\n<h2>{}</h2>",
            esc(&s.id),
            esc(&s.title)
        );
        for b in &s.blocks {
            block_html(&mut h, b);
        }
        h.push_str("</section>\n");
    }
    h.push_str("</main>\n</body>\n</html>\n");
    h
}

/// A bulleted list opened by the tag `ul`.
fn list_html(h: &mut String, ul: &str, items: &[String]) {
    h.push_str(ul);
    h.push('\n');
    for i in items {
        let _ = writeln!(h, "<li>{}</li>", text_html(i));
    }
    h.push_str("</ul>\n");
}

fn block_html(h: &mut String, b: &Block) {
    match b {
        Block::Paragraph(t) => {
            let _ = writeln!(h, "<p>{}</p>", text_html(t));
        }
        Block::Caveat(t) => {
            let _ = writeln!(h, "<p class=\"caveat\">{}</p>", text_html(t));
        }
        Block::Warning(t) => {
            let _ = writeln!(h, "<p class=\"warning\">{}</p>", text_html(t));
        }
        Block::Headlines(items) => list_html(h, "<ul class=\"headlines\">", items),
        Block::List(items) => list_html(h, "<ul>", items),
        Block::Subheading(t) => {
            let _ = writeln!(h, "<h3>{}</h3>", text_html(t));
        }
        Block::Table(t) => {
            h.push_str("<table>\n<thead>\n<tr>");
            for (i, c) in t.header.iter().enumerate() {
                let class = if t.numeric.get(i) == Some(&true) {
                    " class=\"num\""
                } else {
                    ""
                };
                let _ = write!(h, "<th{class}>{}</th>", text_html(c));
            }
            h.push_str("</tr>\n</thead>\n<tbody>\n");
            for r in &t.rows {
                h.push_str("<tr>");
                for (i, c) in r.iter().enumerate() {
                    let class = if t.numeric.get(i) == Some(&true) {
                        " class=\"num\""
                    } else {
                        ""
                    };
                    let _ = write!(h, "<td{class}>{}</td>", text_html(c));
                }
                h.push_str("</tr>\n");
            }
            h.push_str("</tbody>\n</table>\n");
        }
        Block::Links(items) => {
            h.push_str("<ul>\n");
            for (text, path) in items {
                let _ = writeln!(
                    h,
                    "<li><a href=\"{}\">{}</a></li>",
                    esc(&href(path)),
                    text_html(text)
                );
            }
            h.push_str("</ul>\n");
        }
        Block::Chart(c) => {
            let _ = writeln!(
                h,
                "<figure>\n{}<figcaption>File: charts/{}</figcaption>\n</figure>",
                inline_svg(c),
                esc(&c.file)
            );
        }
    }
}

/// The relative, percent-encoded link to `path` (segments).
fn href(path: &[String]) -> String {
    let segments: Vec<&str> = path.iter().map(String::as_str).collect();
    escape::relative_href(&segments)
}

// ---------------------------------------------------------------------------
// Markdown

fn md(s: &str) -> String {
    escape::markdown(s)
}

/// The report as Markdown (CommonMark with pipe tables); charts are
/// referenced as `charts/NAME.svg`, with their caption as text below.
pub fn render_markdown(doc: &Document) -> String {
    let mut m = String::new();
    let _ = writeln!(m, "# {}\n\n{}\n", md(&doc.title), md(&doc.subtitle));
    for s in &doc.sections {
        let _ = writeln!(m, "## {}\n", md(&s.title));
        for b in &s.blocks {
            match b {
                Block::Paragraph(t) => {
                    let _ = writeln!(m, "{}\n", md(t));
                }
                Block::Caveat(t) | Block::Warning(t) => {
                    let _ = writeln!(m, "> {}\n", md(t));
                }
                Block::Headlines(items) | Block::List(items) => {
                    for i in items {
                        let _ = writeln!(m, "- {}", md(i));
                    }
                    m.push('\n');
                }
                Block::Subheading(t) => {
                    let _ = writeln!(m, "### {}\n", md(t));
                }
                Block::Table(t) => {
                    let row = |cells: &[String]| {
                        let cells: Vec<String> = cells.iter().map(|c| md(c)).collect();
                        format!("| {} |\n", cells.join(" | "))
                    };
                    m.push_str(&row(&t.header));
                    let rule: Vec<&str> = (0..t.header.len())
                        .map(|i| {
                            if t.numeric.get(i) == Some(&true) {
                                "---:"
                            } else {
                                "---"
                            }
                        })
                        .collect();
                    let _ = writeln!(m, "| {} |", rule.join(" | "));
                    for r in &t.rows {
                        m.push_str(&row(r));
                    }
                    m.push('\n');
                }
                Block::Links(items) => {
                    for (text, path) in items {
                        let _ = writeln!(m, "- [{}]({})", md(text), href(path));
                    }
                    m.push('\n');
                }
                Block::Chart(c) => {
                    let _ = writeln!(
                        m,
                        "![{}](charts/{})\n\n*{}*\n",
                        md(&c.title),
                        c.file,
                        md(&c.caption)
                    );
                }
            }
        }
    }
    // One trailing newline.
    while m.ends_with("\n\n") {
        m.pop();
    }
    m
}

// ---------------------------------------------------------------------------
// Files

/// The report's files inside `dir`: `report.html`, `report.md` and
/// `charts/*.svg`. For a directory being filled before it is swapped in.
/// The report's files, paths relative to the output directory:
/// `charts/*.svg`, `report.md`, `report.html`.
pub fn report_files(doc: &Document) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = doc
        .charts()
        .map(|c| (format!("charts/{}", c.file), c.svg.clone()))
        .collect();
    files.push(("report.md".into(), render_markdown(doc)));
    files.push(("report.html".into(), render_html(doc)));
    files
}

/// Replaces the report of an existing output directory: `charts/` whole
/// (see [`replace_dir_with`]), then each page through a temporary file and
/// a rename, so no reader sees a half-written file.
pub fn replace_report_in(dir: &Path, doc: &Document) -> io::Result<()> {
    replace_dir_with(&dir.join("charts"), |tmp| {
        for c in doc.charts() {
            fs::write(tmp.join(&c.file), &c.svg)?;
        }
        Ok(())
    })?;
    for (name, text) in [
        ("report.md", render_markdown(doc)),
        ("report.html", render_html(doc)),
    ] {
        let tmp = dir.join(format!(".{name}.partial-{}", std::process::id()));
        fs::write(&tmp, text)?;
        if let Err(e) = fs::rename(&tmp, dir.join(name)) {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn author_marks_are_highlighted_and_text_escaped() {
        assert_eq!(
            text_html("a < b [author to complete: why] done"),
            "a &lt; b <mark class=\"todo\">[author to complete: why]</mark> done"
        );
        assert_eq!(md("a_b | c*"), "a\\_b \\| c\\*");
    }
}

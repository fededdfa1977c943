//! The results a report is built from, read back from the files of an
//! output directory.
//!
//! A report is always made from the saved files, also straight after a run
//! (from the same text that was written), so `patientflow report DIR`
//! reproduces it byte for byte and a report can never show a number that is
//! not in the CSV files beside it.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::model::metrics::Series;
use crate::scenario::calendar::Date;
use crate::scenario::{Scenario, ScenarioDoc, ScenarioError};

use super::RunManifest;

/// Why a report could not be made from a directory: every variant is a
/// problem with the input (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A file the report needs is missing or unreadable.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A file is there but not as `patientflow run` writes it.
    #[error("{file}: {message}")]
    Malformed { file: String, message: String },
    /// The resolved scenario recorded in `run.json` does not load.
    #[error("run.json: the resolved scenario does not load: {0}")]
    Scenario(Box<ScenarioError>),
}

fn malformed(file: &str, message: String) -> ReportError {
    ReportError::Malformed {
        file: file.to_string(),
        message,
    }
}

/// One row of `summary.csv`. Undefined cells are NaN.
#[derive(Clone, Debug, PartialEq)]
pub struct SummaryRow {
    pub metric: String,
    pub unit: String,
    pub mean: f64,
    pub sd: f64,
    pub ci95_low: f64,
    pub ci95_high: f64,
    pub p5: f64,
    pub p50: f64,
    pub p95: f64,
    pub n: usize,
}

/// A daily series summarised over replications, one entry per day.
#[derive(Clone, Debug, PartialEq)]
pub struct DailyBands {
    pub series: Series,
    pub mean: Vec<f64>,
    pub p5: Vec<f64>,
    pub p25: Vec<f64>,
    pub p50: Vec<f64>,
    pub p75: Vec<f64>,
    pub p95: Vec<f64>,
}

/// Everything in a run's output directory that a report uses.
#[derive(Clone, Debug)]
pub struct RunData {
    pub manifest: RunManifest,
    /// `summary.csv`, in file order.
    pub summary: Vec<SummaryRow>,
    /// `daily_bands.csv`, one entry per series in [`Series::ALL`] order.
    pub daily: Vec<DailyBands>,
    /// The resolved scenario from `run.json`, loaded again.
    pub scenario: Scenario,
    /// Its `[sources]` table.
    pub sources: BTreeMap<String, String>,
    /// Its values as (dotted key, TOML text), in file order.
    pub parameters: Vec<(String, String)>,
    /// Day 0 of the window.
    pub first_day: Date,
    /// Acute beds available on each day of the window (dated changes applied).
    pub beds_by_day: Vec<u32>,
}

/// The files [`RunData::read`] needs.
pub const INPUT_FILES: [&str; 3] = ["run.json", "summary.csv", "daily_bands.csv"];

impl RunData {
    /// Reads `run.json`, `summary.csv` and `daily_bands.csv` from `dir`.
    pub fn read(dir: &Path) -> Result<RunData, ReportError> {
        let read = |name: &str| {
            let path = dir.join(name);
            fs::read_to_string(&path).map_err(|source| ReportError::Read { path, source })
        };
        let run_json = read("run.json")?;
        let summary = read("summary.csv")?;
        let daily = read("daily_bands.csv")?;
        RunData::from_texts(&run_json, &summary, &daily)
    }

    /// As [`RunData::read`], from the files' text.
    pub fn from_texts(
        run_json: &str,
        summary_csv: &str,
        daily_csv: &str,
    ) -> Result<RunData, ReportError> {
        let manifest: RunManifest = serde_json::from_str(run_json)
            .map_err(|e| malformed("run.json", format!("not a run manifest: {e}")))?;
        if manifest.resolved_toml.trim().is_empty() {
            return Err(malformed(
                "run.json",
                "no resolved scenario (`resolved_toml` is empty)".to_string(),
            ));
        }
        let doc = ScenarioDoc::parse_str(
            &manifest.resolved_toml,
            Path::new("run.json (resolved_toml)"),
        )
        .map_err(|e| ReportError::Scenario(Box::new(e)))?;
        let (scenario, sources) = doc
            .to_scenario_with_sources()
            .map_err(|e| ReportError::Scenario(Box::new(e)))?;
        let first_day = Date::parse(&manifest.first_day_date).ok_or_else(|| {
            malformed(
                "run.json",
                format!(
                    "`first_day_date` is not a YYYY-MM-DD date: {:?}",
                    manifest.first_day_date
                ),
            )
        })?;
        let summary = parse_summary(summary_csv)?;
        let daily = parse_daily(daily_csv)?;
        let days = daily.first().map_or(0, |d| d.p50.len());
        let beds_by_day = crate::model::schedule::beds_by_day(&scenario.acute, first_day, days);
        Ok(RunData {
            manifest,
            summary,
            daily,
            parameters: doc.parameters(),
            scenario,
            sources,
            first_day,
            beds_by_day,
        })
    }

    /// The `summary.csv` row of `metric`.
    pub fn metric(&self, metric: &str) -> Option<&SummaryRow> {
        self.summary.iter().find(|r| r.metric == metric)
    }

    /// The daily bands of `series`.
    pub fn series(&self, series: Series) -> Option<&DailyBands> {
        self.daily.iter().find(|d| d.series == series)
    }
}

/// A CSV file as written by this crate: a header, then records of plain
/// cells (no cell of `summary.csv` or `daily.csv` needs quoting: names,
/// units, ISO dates and numbers). Returns the header and the records.
fn parse_csv<'t>(
    file: &str,
    text: &'t str,
) -> Result<(Vec<&'t str>, Vec<Vec<&'t str>>), ReportError> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines
        .next()
        .ok_or_else(|| malformed(file, "the file is empty".to_string()))?
        .split(',')
        .collect();
    let mut rows = Vec::new();
    for (i, line) in lines.enumerate() {
        let cells: Vec<&str> = line.split(',').collect();
        if cells.len() != header.len() {
            return Err(malformed(
                file,
                format!(
                    "line {}: expected {} cells, found {}",
                    i + 2,
                    header.len(),
                    cells.len()
                ),
            ));
        }
        rows.push(cells);
    }
    Ok((header, rows))
}

/// Position of `name` in `header`.
fn column(file: &str, header: &[&str], name: &str) -> Result<usize, ReportError> {
    header.iter().position(|h| *h == name).ok_or_else(|| {
        malformed(
            file,
            format!(
                "no `{name}` column (header: {}); was it written by an older patientflow? \
                 Run the scenario again",
                header.join(",")
            ),
        )
    })
}

/// A number cell; empty means undefined (NaN).
fn number(file: &str, line: usize, cell: &str) -> Result<f64, ReportError> {
    if cell.is_empty() {
        return Ok(f64::NAN);
    }
    cell.parse::<f64>().map_err(|_| {
        malformed(
            file,
            format!("line {line}: expected a number, found {cell:?}"),
        )
    })
}

fn parse_summary(text: &str) -> Result<Vec<SummaryRow>, ReportError> {
    const FILE: &str = "summary.csv";
    let (header, rows) = parse_csv(FILE, text)?;
    let col = |name| column(FILE, &header, name);
    let (metric, unit, mean, sd, low, high, p5, p50, p95, n) = (
        col("metric")?,
        col("unit")?,
        col("mean")?,
        col("sd")?,
        col("ci95_low")?,
        col("ci95_high")?,
        col("p5")?,
        col("p50")?,
        col("p95")?,
        col("n")?,
    );
    rows.iter()
        .enumerate()
        .map(|(i, r)| {
            let line = i + 2;
            let num = |c: usize| number(FILE, line, r[c]);
            Ok(SummaryRow {
                metric: r[metric].to_string(),
                unit: r[unit].to_string(),
                mean: num(mean)?,
                sd: num(sd)?,
                ci95_low: num(low)?,
                ci95_high: num(high)?,
                p5: num(p5)?,
                p50: num(p50)?,
                p95: num(p95)?,
                n: r[n].parse().map_err(|_| {
                    malformed(
                        FILE,
                        format!("line {line}: expected a count, found {:?}", r[n]),
                    )
                })?,
            })
        })
        .collect()
}

fn parse_daily(text: &str) -> Result<Vec<DailyBands>, ReportError> {
    const FILE: &str = "daily_bands.csv";
    let (header, rows) = parse_csv(FILE, text)?;
    let col = |name| column(FILE, &header, name);
    let (day, series, mean, p5, p25, p50, p75, p95) = (
        col("day")?,
        col("series")?,
        col("mean")?,
        col("p5")?,
        col("p25")?,
        col("p50")?,
        col("p75")?,
        col("p95")?,
    );
    let mut out: Vec<DailyBands> = Series::ALL
        .iter()
        .map(|&s| DailyBands {
            series: s,
            mean: Vec::new(),
            p5: Vec::new(),
            p25: Vec::new(),
            p50: Vec::new(),
            p75: Vec::new(),
            p95: Vec::new(),
        })
        .collect();
    for (i, r) in rows.iter().enumerate() {
        let line = i + 2;
        let Some(s) = Series::ALL.iter().position(|s| s.name() == r[series]) else {
            return Err(malformed(
                FILE,
                format!("line {line}: unknown series {:?}", r[series]),
            ));
        };
        let bands = &mut out[s];
        // Rows are day-major and complete; anything else is not our file.
        if r[day] != bands.p50.len().to_string() {
            return Err(malformed(
                FILE,
                format!(
                    "line {line}: expected day {} of {}, found {:?}",
                    bands.p50.len(),
                    r[series],
                    r[day]
                ),
            ));
        }
        let num = |c: usize| number(FILE, line, r[c]);
        bands.mean.push(num(mean)?);
        bands.p5.push(num(p5)?);
        bands.p25.push(num(p25)?);
        bands.p50.push(num(p50)?);
        bands.p75.push(num(p75)?);
        bands.p95.push(num(p95)?);
    }
    let days = out[0].p50.len();
    if out.iter().any(|b| b.p50.len() != days) {
        return Err(malformed(
            FILE,
            "the series do not cover the same days".to_string(),
        ));
    }
    Ok(out)
}

//! The results a report is built from, read back from the files of an
//! output directory.
//!
//! A report is always made from the saved files, also straight after a run
//! (from the same text that was written), so `patientflow report DIR`
//! reproduces it byte for byte and a report can never show a number that is
//! not in the CSV files beside it.

use std::io::Read;

use serde::Deserialize;
use std::path::{Path, PathBuf};

use crate::model::metrics::{METRIC_COUNT, Metric, Series};
use crate::scenario::calendar::Date;

use super::RunManifest;
use super::facts::ScenarioFacts;
use super::readback::{self, MAX_VALUE, Num, Records};
use crate::notice::{Notice, Notices};
use crate::stats::Summary;

/// Why a report could not be made from a directory: every variant is a
/// problem with the input (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A file the report needs is missing or unreadable.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why it could not be read.
        source: std::io::Error,
    },
    /// A file is there but not as `patientflow run` writes it.
    #[error("{file}: {message}")]
    Malformed {
        /// The file's name in the directory.
        file: String,
        /// What is wrong, with the line and column where there are some.
        message: String,
    },
    /// A file is not the one its manifest's checksum records, or cannot
    /// be checked: the message names it.
    #[error("{0}")]
    Changed(String),
}

fn malformed(file: &str, message: String) -> ReportError {
    ReportError::Malformed {
        file: file.to_string(),
        message,
    }
}

/// One row of `summary.csv`: a metric and its summary over replications,
/// every value in the metric's unit ([`Metric::unit`]). Undefined cells
/// are NaN.
#[derive(Clone, Debug, PartialEq)]
pub struct SummaryRow {
    /// The metric.
    pub metric: Metric,
    /// Its values summarised over replications.
    pub summary: Summary,
}

/// A daily series summarised over replications, one entry per day.
#[derive(Clone, Debug, PartialEq)]
pub struct DailyBands {
    /// The series, in its unit like every value below.
    pub series: Series,
    /// Mean over replications, by day.
    pub mean: Vec<f64>,
    /// 5th percentile over replications, by day.
    pub p5: Vec<f64>,
    /// 25th percentile, by day.
    pub p25: Vec<f64>,
    /// Median, by day.
    pub p50: Vec<f64>,
    /// 75th percentile, by day.
    pub p75: Vec<f64>,
    /// 95th percentile, by day.
    pub p95: Vec<f64>,
}

/// Everything in a run's output directory that a report uses.
#[derive(Clone, Debug)]
pub struct RunData {
    /// `run.json`.
    pub manifest: RunManifest,
    /// `summary.csv`, in file order.
    pub summary: Vec<SummaryRow>,
    /// `daily_bands.csv`, one entry per series in [`Series::ALL`] order.
    pub daily: Vec<DailyBands>,
    /// The facts of the resolved scenario, as `run.json` records them.
    pub scenario: ScenarioFacts,
    /// Each replication's value of the metrics the calibration table reads,
    /// from `replications.csv` (empty without a calibration table).
    pub replication_values: Vec<(Metric, Vec<f64>)>,
    /// Day 0 of the window.
    pub first_day: Date,
    /// Acute beds available on each day of the window (dated changes applied).
    pub beds_by_day: Vec<u32>,
}

/// `run.json`, read and checked against the scenario it records.
struct Head {
    manifest: RunManifest,
    scenario: ScenarioFacts,
    first_day: Date,
    /// The days every daily series has, when `run.json` was checked.
    days: Option<usize>,
}

impl Head {
    /// Reads `run.json`; `check` holds it to the scenario facts it records
    /// (a file read back), else only its first day is read (a run's own
    /// manifest, about to be written).
    fn parse(run_json: &str, check: bool) -> Result<Head, ReportError> {
        let manifest: RunManifest = serde_json::from_str(run_json)
            .map_err(|e| malformed("run.json", format!("not a run manifest: {e}")))?;
        if manifest.resolved_toml.trim().is_empty() {
            return Err(malformed(
                "run.json",
                "no resolved scenario (`resolved_toml` is empty)".to_string(),
            ));
        }
        let Some(scenario) = manifest.scenario_facts.clone() else {
            return Err(malformed(
                "run.json",
                "no `scenario_facts` (written by an older patientflow): run the scenario \
                 again to make its report"
                    .to_string(),
            ));
        };
        if let Some(why) = super::uncertainty::record_problem(&manifest) {
            return Err(malformed("run.json", why));
        }
        let (first_day, days) = if check {
            let w = readback::check_run_manifest(&manifest, &scenario.timing)
                .map_err(|m| malformed("run.json", m))?;
            (w.first_day, Some(w.days))
        } else {
            let first_day = Date::parse(&manifest.first_day_date).ok_or_else(|| {
                malformed(
                    "run.json",
                    format!(
                        "`first_day_date` is not a YYYY-MM-DD date: {:?}",
                        manifest.first_day_date
                    ),
                )
            })?;
            (first_day, None)
        };
        Ok(Head {
            manifest,
            scenario,
            first_day,
            days,
        })
    }

    /// The metrics the calibration table reads, each once.
    fn calibration_metrics(&self) -> Vec<Metric> {
        let mut out: Vec<Metric> = Vec::new();
        for m in self.scenario.calibration.iter().flat_map(|t| t.metrics()) {
            if !out.contains(&m) {
                out.push(m);
            }
        }
        out
    }

    /// Each replication's values of the calibration's metrics, read from
    /// `replications.csv` (`None`: the file is not needed).
    fn replication_values<R: Read>(
        &self,
        reader: Option<R>,
    ) -> Result<Vec<(Metric, Vec<f64>)>, ReportError> {
        let metrics = self.calibration_metrics();
        match reader {
            Some(r) if !metrics.is_empty() => {
                parse_replications(r, self.manifest.replications as usize, &metrics)
                    .map_err(|m| malformed("replications.csv", m))
            }
            _ => Ok(Vec::new()),
        }
    }

    fn with(
        self,
        summary: Vec<SummaryRow>,
        daily: Vec<DailyBands>,
        replication_values: Vec<(Metric, Vec<f64>)>,
    ) -> RunData {
        let days = daily.first().map_or(0, |d| d.p50.len());
        let beds_by_day = self
            .scenario
            .capacity
            .acute_beds
            .by_day(self.first_day, days);
        RunData {
            manifest: self.manifest,
            summary,
            daily,
            scenario: self.scenario,
            replication_values,
            first_day: self.first_day,
            beds_by_day,
        }
    }
}

/// The files [`RunData::read`] needs.
pub const INPUT_FILES: [&str; 3] = ["run.json", "summary.csv", "daily_bands.csv"];

impl RunData {
    /// Reads `run.json`, `summary.csv` and `daily_bands.csv` from `dir`,
    /// trusting none of them: `run.json` must agree with the scenario it
    /// records, every file it lists must have the SHA-256 it records (see
    /// [`readback`]), and the CSV files are read line by line, each value as
    /// it was written, no further than the rows the run wrote.
    ///
    /// Files without checksums (an older patientflow's) are read as they
    /// are, with no notice: see [`RunData::read_with`].
    pub fn read(dir: &Path) -> Result<RunData, ReportError> {
        Self::read_with(dir, &Notices::none())
    }

    /// As [`RunData::read`], telling `notices` when the files have no
    /// checksums to check.
    pub fn read_with(dir: &Path, notices: &Notices) -> Result<RunData, ReportError> {
        let tampered = |file: &str, message: String| malformed(file, message);
        let run_json =
            readback::read_json(&dir.join("run.json")).map_err(|m| tampered("run.json", m))?;
        let head = Head::parse(&run_json, true)?;
        // replications.csv only when a calibration table needs its values.
        let with_replications = !head.scenario.calibration.is_empty();
        let needed: &[&str] = if with_replications {
            &["summary.csv", "daily_bands.csv", "replications.csv"]
        } else {
            &["summary.csv", "daily_bands.csv"]
        };
        match readback::verify_files(dir, "run.json", &head.manifest.files, needed)
            .map_err(ReportError::Changed)?
        {
            readback::Verified::Yes => {}
            readback::Verified::NoChecksums => notices.send(Notice::Unverified {
                dir: dir.to_path_buf(),
                manifest: "run.json".into(),
            }),
        }
        let open = |name: &str| readback::open(&dir.join(name)).map_err(|m| tampered(name, m));
        let summary = parse_summary(open("summary.csv")?, &head.manifest, true)?;
        let daily = parse_daily(open("daily_bands.csv")?, head.first_day, head.days)?;
        let replications = if with_replications {
            Some(open("replications.csv")?)
        } else {
            None
        };
        let values = head.replication_values(replications)?;
        Ok(head.with(summary, daily, values))
    }

    /// As [`RunData::read`], from the files' text (checksums aside: a run
    /// builds its report from the texts it is about to write).
    pub fn from_texts(
        run_json: &str,
        summary_csv: &str,
        daily_csv: &str,
        replications_csv: &str,
    ) -> Result<RunData, ReportError> {
        let head = Head::parse(run_json, false)?;
        let summary = parse_summary(summary_csv.as_bytes(), &head.manifest, false)?;
        let daily = parse_daily(daily_csv.as_bytes(), head.first_day, head.days)?;
        let values = head.replication_values(Some(replications_csv.as_bytes()))?;
        Ok(head.with(summary, daily, values))
    }
    /// The `summary.csv` row of `metric`.
    pub fn metric(&self, metric: Metric) -> Option<&SummaryRow> {
        self.summary.iter().find(|r| r.metric == metric)
    }

    /// The daily bands of `series`.
    pub fn series(&self, series: Series) -> Option<&DailyBands> {
        self.daily.iter().find(|d| d.series == series)
    }
}

/// The least value a metric can have as written: 0, but for the
/// counterfactual differences (admissions with a service off minus
/// admissions), which chance can make negative in a short run.
pub(crate) fn metric_floor(m: Metric) -> f64 {
    match m {
        Metric::AdmissionsAvoidedPru
        | Metric::AdmissionsAvoidedFrailtyUnit
        | Metric::MhAdmissionsAvoidedCrht => -MAX_VALUE,
        _ => 0.0,
    }
}

/// The largest value a metric can take: 1 for a share of time, of events
/// or of patients; a utilisation or an occupancy share is a ratio of two
/// averages and may exceed 1 (a PRU visit running past closing time, units
/// held above a count that fell on a date, rounding at exactly full), so
/// only its general bound applies.
pub(crate) fn metric_ceiling(m: Metric) -> f64 {
    match m {
        Metric::PruUtilisation
        | Metric::BedOccupancyShare
        | Metric::CommunityUtilisation
        | Metric::MhCrhtUtilisation
        | Metric::MhBedOccupancyShare
        | Metric::HomeCareUtilisation => MAX_VALUE,
        _ if m.unit() == "share" => 1.0,
        _ => MAX_VALUE,
    }
}

/// The columns of `metrics` in `replications.csv`, one value per
/// replication in file order (an empty cell is undefined: NaN); no more rows
/// than the run's `replications`.
fn parse_replications<R: Read>(
    reader: R,
    replications: usize,
    metrics: &[Metric],
) -> Result<Vec<(Metric, Vec<f64>)>, String> {
    let mut records = Records::new(reader, replications)?.limit_says(format!(
        "the {replications} replications its run.json lists"
    ));
    let names: Vec<&str> = metrics.iter().map(|m| m.name()).collect();
    records.require(&names)?;
    let columns: Vec<usize> = names
        .iter()
        .map(|n| records.header().iter().position(|h| h == *n).unwrap_or(0))
        .collect();
    let mut out: Vec<(Metric, Vec<f64>)> = metrics.iter().map(|m| (*m, Vec::new())).collect();
    while let Some((line, record)) = records.next_record()? {
        for ((metric, values), &column) in out.iter_mut().zip(&columns) {
            let cell = record.get(column).unwrap_or("");
            values.push(readback::number(
                cell,
                line,
                metric.name(),
                metric_floor(*metric),
                MAX_VALUE,
            )?);
        }
    }
    Ok(out)
}

/// A row of `summary.csv` as the file holds it.
#[derive(Deserialize)]
struct SummaryRecord {
    metric: Metric,
    unit: String,
    mean: Num,
    sd: Num,
    ci95_low: Num,
    ci95_high: Num,
    p5: Num,
    p50: Num,
    p95: Num,
    #[serde(deserialize_with = "readback::count")]
    n: usize,
}

/// The columns [`SummaryRecord`] reads.
const SUMMARY_COLUMNS: [&str; 10] = [
    "metric",
    "unit",
    "mean",
    "sd",
    "ci95_low",
    "ci95_high",
    "p5",
    "p50",
    "p95",
    "n",
];

/// `checked`: hold each value to the range it has when a run writes it (a
/// file read back); a run's own text, about to be written, is not.
fn parse_summary<R: Read>(
    reader: R,
    manifest: &RunManifest,
    checked: bool,
) -> Result<Vec<SummaryRow>, ReportError> {
    const FILE: &str = "summary.csv";
    let bad = |m: String| malformed(FILE, m);
    let mut records = Records::new(reader, METRIC_COUNT).map_err(bad)?;
    records.require(&SUMMARY_COLUMNS).map_err(bad)?;
    let mut out = Vec::with_capacity(METRIC_COUNT);
    while let Some((line, r)) = records.next_row::<SummaryRecord>().map_err(bad)? {
        let m = r.metric;
        if m.unit() != r.unit {
            return Err(bad(format!(
                "line {line}: {:?} in {:?} is not a metric of this version",
                m.name(),
                r.unit
            )));
        }
        // As written: every value of a metric is at least 0 (a share at
        // most 1, see `metric_ceiling`), but a counterfactual difference; a
        // confidence interval may reach below 0.
        let top = metric_ceiling(m);
        let bottom = metric_floor(m);
        let num = |v: Num, column: &str, lo: f64, hi: f64| {
            let (lo, hi) = if checked {
                (lo, hi)
            } else {
                (f64::MIN, f64::MAX)
            };
            v.within(line, column, lo, hi).map_err(bad)
        };
        if r.n > manifest.replications as usize {
            return Err(bad(format!(
                "line {line}, column `n`: {} values, more than the run's {} replications",
                r.n, manifest.replications
            )));
        }
        out.push(SummaryRow {
            metric: m,
            summary: Summary {
                mean: num(r.mean, "mean", bottom, top)?,
                sd: num(r.sd, "sd", 0.0, MAX_VALUE)?,
                ci95_low: num(r.ci95_low, "ci95_low", -MAX_VALUE, MAX_VALUE)?,
                ci95_high: num(r.ci95_high, "ci95_high", -MAX_VALUE, MAX_VALUE)?,
                p5: num(r.p5, "p5", bottom, top)?,
                p50: num(r.p50, "p50", bottom, top)?,
                p95: num(r.p95, "p95", bottom, top)?,
                n: r.n,
            },
        });
    }
    Ok(out)
}

/// A row of `daily_bands.csv` as the file holds it.
#[derive(Deserialize)]
struct BandsRecord {
    #[serde(deserialize_with = "readback::count")]
    day: usize,
    date: String,
    series: Series,
    mean: Num,
    p5: Num,
    p25: Num,
    p50: Num,
    p75: Num,
    p95: Num,
}

/// The columns [`BandsRecord`] reads.
const BANDS_COLUMNS: [&str; 9] = [
    "day", "date", "series", "mean", "p5", "p25", "p50", "p75", "p95",
];

/// `days`: the days the run's window has, when the file is read back: no
/// more rows are read, every series must have them all, and every value
/// is held to its range (at least 0).
fn parse_daily<R: Read>(
    reader: R,
    first_day: Date,
    days: Option<usize>,
) -> Result<Vec<DailyBands>, ReportError> {
    const FILE: &str = "daily_bands.csv";
    let bad = |m: String| malformed(FILE, m);
    let max_rows = days.map_or(usize::MAX, |d| d * Series::ALL.len());
    let mut records = Records::new(reader, max_rows).map_err(bad)?;
    records.require(&BANDS_COLUMNS).map_err(bad)?;
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
    let (lo, hi) = if days.is_some() {
        (0.0, MAX_VALUE)
    } else {
        (f64::MIN, f64::MAX)
    };
    while let Some((line, r)) = records.next_row::<BandsRecord>().map_err(bad)? {
        let bands = &mut out[r.series.index()];
        // Rows are day-major and complete; anything else is not our file.
        let expected_day = bands.p50.len();
        if r.day != expected_day {
            return Err(bad(format!(
                "line {line}: expected day {expected_day} of {}, found {:?}",
                r.series.name(),
                r.day.to_string()
            )));
        }
        let expected_date = first_day.add_days(expected_day as i64).to_string();
        if r.date != expected_date {
            return Err(bad(format!(
                "line {line}, column `date`: expected {expected_date} (day {expected_day}), \
                 found {:?}",
                r.date
            )));
        }
        let num = |v: Num, column: &str| v.within(line, column, lo, hi).map_err(bad);
        bands.mean.push(num(r.mean, "mean")?);
        bands.p5.push(num(r.p5, "p5")?);
        bands.p25.push(num(r.p25, "p25")?);
        bands.p50.push(num(r.p50, "p50")?);
        bands.p75.push(num(r.p75, "p75")?);
        bands.p95.push(num(r.p95, "p95")?);
    }
    let days = days.unwrap_or(out[0].p50.len());
    if let Some(b) = out.iter().find(|b| b.p50.len() != days) {
        return Err(bad(format!(
            "{} has {} days, but the run's window has {days}",
            b.series.name(),
            b.p50.len()
        )));
    }
    Ok(out)
}

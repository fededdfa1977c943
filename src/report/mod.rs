//! Output writers: `summary.csv`, `replications.csv`, `daily.csv`, `run.json`
//! and the terminal summary table.
//!
//! Every figure comes from [`summarise_metrics`] or [`summarise_daily`], so
//! the CSV files and the terminal table cannot disagree.
//!
//! Files are written for Excel: see [`number_cell`] and
//! [`text_cell`] for the cell rules. In short: numbers in full precision,
//! never in exponent notation; an undefined value (NaN, e.g. the sd of a
//! single replication) is an empty cell (a mean wait over no waits is 0, as
//! `docs/model.md` defines it, not undefined);
//! text that would start with `= + - @` gets a leading `'`; `\n` line
//! endings; ISO dates.
//!
//! The CSV files are byte-identical for identical inputs. `run.json` is not
//! (it records the thread count and wall time).
//!
//! The report (`report.html`, `report.md`, `charts/*.svg`) is built from the
//! text of `run.json`, `summary.csv` and `daily_bands.csv` only ([`RunData`]), both
//! by a run and by [`rebuild_report`], so the two give the same bytes. A
//! comparison or sweep's report is built likewise from the text of
//! `experiment.json` and `comparison.csv` / `sweep.csv`
//! ([`experiment_report_files`]).

mod atomic;
pub mod backtest_report;
pub mod calibration;
mod cells;
pub mod charts;
pub mod data;
pub(crate) mod document;
pub mod escape;
mod experiment_outputs;
pub mod experiment_report;
pub mod facts;
pub mod kept_check;
mod outdir;
pub mod prose;
pub mod readback;
pub mod run_report;
mod table;
pub mod text_table;
pub mod uncertainty;
mod warnings;
pub mod yearly;

pub use atomic::{Lock, TEMP_MARKER, is_interrupted, replace_dir_with};
pub use cells::{number_cell, text_cell};
pub use data::{ReportError, RunData};
pub use experiment_outputs::*;
pub use experiment_report::experiment_report_files;
pub use outdir::{
    EXPERIMENT_FORMAT, OutputDir, RUN_FORMAT, is_patientflow_output, write_output_files_with,
};
pub use table::format_summary_table;
pub use warnings::{
    DOES_NOT_SETTLE, MARK, TERMINAL_MARK, Warning, report_text, terminal_notes, unsettled,
};

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::model::metrics::{Metric, ReplicationResult, Series};
use crate::scenario::calendar::Date;
use crate::stats::{Summary, percentile_r7, summarise};
use cells::push_record;
pub use facts::ScenarioFacts;

/// What was run, how, and by what: enough to reproduce a run and to check
/// that a set of outputs belongs to a given scenario file.
///
/// Fields added after the first release default when absent, so the report
/// of an older output directory can still be rebuilt (with those facts
/// shown as not recorded).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunManifest {
    /// `patientflow` version (`CARGO_PKG_VERSION`).
    pub software_version: String,
    /// Git commit the binary was built from, when known at build time.
    pub git_commit: Option<String>,
    /// `rustc --version` of the compiler that built the binary.
    pub rustc_version: Option<String>,
    /// The scenario file as given on the command line.
    pub scenario_path: String,
    /// The `extends` chain, the given file first.
    pub scenario_files: Vec<String>,
    /// The scenario's own name. Kept verbatim here: JSON is not opened as a
    /// spreadsheet, and the name must match the scenario file.
    pub scenario_name: String,
    /// The scenario after `extends` and `--set`, as TOML (defaults are not
    /// filled in: a key left out keeps its documented default).
    pub resolved_toml: String,
    /// SHA-256 of `resolved_toml` (the scenario after `extends`, defaults and
    /// `--set`), lowercase hex: the same for any files that resolve alike.
    pub sha256: String,
    /// `scenario.seed` as run (after `--seed`).
    pub seed: u64,
    /// Replications of the run: those used under `--precision`, else the
    /// scenario's (a shard records the total, and its share in `shard`).
    pub replications: u32,
    /// Worker threads (does not change the results).
    pub threads: usize,
    /// Random number generator, e.g. `"SplitMix64"` (see `engine::rng`).
    pub generator: String,
    /// How streams are given to replications and processes.
    pub stream_allocation: String,
    /// The warm-up, hours.
    pub warm_up_hours: f64,
    /// The results window after the warm-up, hours.
    pub horizon_hours: f64,
    /// Simulation start (ISO date).
    pub start_date: String,
    /// First day of the results window, day 0 of `daily.csv` (ISO date).
    pub first_day_date: String,
    /// Time the run took, seconds of the clock on the wall.
    pub wall_time_seconds: f64,
    /// The command as typed, one argument a string.
    pub command_line: Vec<String>,
    /// For a scenario of a sweep, its swept values as `key=value`, in the
    /// order of the sweep's keys (so that its report can name what its
    /// inherited description does not); empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub swept: Vec<String>,
    /// Set when this directory holds one shard of a run (see [`ShardRecord`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardRecord>,
    /// Set when the number of replications was chosen by `--precision`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<PrecisionRecord>,
    /// The shard directories this run was merged from (empty when it ran
    /// in one piece).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_from: Vec<String>,
    /// What the flow balance found before the run: each service of this
    /// scenario near or over capacity (see [`Warning`]), kept with the
    /// figures it qualifies. Empty when there is none.
    #[serde(deserialize_with = "warnings::read_warnings")]
    pub warnings: Vec<Warning>,
    /// When the run started, UTC, `YYYY-MM-DDTHH:MM:SSZ`.
    pub run_started_utc: String,
    /// Operating system and architecture (`linux x86_64`).
    pub machine: String,
    /// Logical cores the machine offered (`available_parallelism`).
    pub machine_cores: usize,
    /// SHA-256 (lowercase hex) of each data file written beside this
    /// `run.json` (see [`readback::checksums`]); `merge` and `report DIR`
    /// check them. Empty in directories written before checksums were kept.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub files: BTreeMap<String, String>,
    /// The facts of the resolved scenario that the report reads (see
    /// [`ScenarioFacts`]): its name and description, run settings and
    /// window, capacities and dated bed changes, mental health, `[sources]`,
    /// `[[calibration]]` and parameter table. The report is built from these
    /// and the CSV files, never by loading `resolved_toml` again. Absent in
    /// directories written before they were recorded (their report cannot
    /// be rebuilt: run the scenario again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario_facts: Option<ScenarioFacts>,
    /// With uncertain values: each queueing service that some replications'
    /// draws overload (offered load at or above capacity), with those
    /// replications, ascending (`docs/model.md`, "Draws that overload a
    /// service"). Empty otherwise.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub overloaded_draws: BTreeMap<String, Vec<u32>>,
    /// With `uncertainty.keep = "calibrated"`: the rule, each figure's
    /// noise, each replication's kept draw and what the rejected draws
    /// missed (`docs/model.md`, "Keeping only the draws the calibration
    /// allows"). Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept_draws: Option<KeptDrawsRecord>,
}

/// A calibration figure's noise: the standard deviation of its
/// per-replication values at the central values.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NoiseSd {
    /// The figure's name.
    pub name: String,
    /// Its standard deviation.
    pub sd: f64,
}

/// [`RunManifest::kept_draws`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct KeptDrawsRecord {
    /// The judged scenario: its file as the chain names it, or `--set`.
    pub judged: String,
    /// `uncertainty.cutoff`.
    pub cutoff: f64,
    /// `uncertainty.central_replications`.
    pub central_replications: u32,
    /// `uncertainty.max_draws`.
    pub max_draws: u32,
    /// Each calibration figure's noise, in table order.
    pub noise_sd: Vec<NoiseSd>,
    /// Each replication's kept draw.
    pub draw: BTreeMap<u32, u32>,
    /// Draws tried in all, the kept ones included.
    pub tried: u64,
    /// Draws rejected for overloading a service (the others rejected were
    /// rejected for a figure outside).
    #[serde(default)]
    pub rejected_overloaded: u64,
    /// For each service, the rejected draws that overload it.
    pub overloaded: BTreeMap<String, u64>,
    /// For each figure (by name), the simulated draws it rejected.
    pub outside: BTreeMap<String, u64>,
}

impl KeptDrawsRecord {
    /// Adds replication `replication`'s record; `name(i)` names figure i.
    pub fn add(
        &mut self,
        replication: u32,
        k: &crate::model::kept::KeptRecord,
        name: impl Fn(usize) -> String,
    ) {
        self.draw.insert(replication, k.draw);
        self.tried += u64::from(k.tried);
        self.rejected_overloaded += u64::from(k.rejected_overloaded);
        for (s, n) in &k.overloaded {
            *self.overloaded.entry((*s).to_string()).or_default() += u64::from(*n);
        }
        for (i, n) in &k.outside {
            *self.outside.entry(name(*i)).or_default() += u64::from(*n);
        }
    }

    /// Adds another shard's record of the same rule (its kept draws and
    /// counts).
    pub fn merge(&mut self, other: &KeptDrawsRecord) {
        self.draw.extend(other.draw.iter().map(|(r, d)| (*r, *d)));
        self.tried += other.tried;
        self.rejected_overloaded += other.rejected_overloaded;
        for (s, n) in &other.overloaded {
            *self.overloaded.entry(s.clone()).or_default() += n;
        }
        for (f, n) in &other.outside {
            *self.outside.entry(f.clone()).or_default() += n;
        }
    }

    /// The same rule as `other` (all but the draws and counts).
    pub fn same_rule(&self, other: &KeptDrawsRecord) -> bool {
        self.judged == other.judged
            && self.cutoff.to_bits() == other.cutoff.to_bits()
            && self.central_replications == other.central_replications
            && self.max_draws == other.max_draws
            && self.noise_sd == other.noise_sd
    }
}

/// [`RunManifest::overloaded_draws`] of `results`.
pub fn overloaded_draws(results: &[ReplicationResult]) -> BTreeMap<String, Vec<u32>> {
    let mut by_service: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    for r in results {
        for &service in &r.overloaded {
            by_service
                .entry(service.to_string())
                .or_default()
                .push(r.replication);
        }
    }
    for reps in by_service.values_mut() {
        reps.sort_unstable();
    }
    by_service
}

impl RunManifest {
    /// The commit the running binary was built from, if git was available
    /// at build time (see `build.rs`).
    pub fn build_commit() -> Option<String> {
        option_env!("PATIENTFLOW_GIT_COMMIT").map(str::to_string)
    }

    /// The compiler that built the running binary, if known.
    pub fn build_rustc() -> Option<String> {
        option_env!("PATIENTFLOW_RUSTC_VERSION").map(str::to_string)
    }

    /// This machine's operating system and architecture.
    pub fn this_machine() -> String {
        format!("{} {}", std::env::consts::OS, std::env::consts::ARCH)
    }
}

/// `t` (seconds since 1970-01-01 UTC) as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn utc_timestamp(t: std::time::SystemTime) -> String {
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = (secs / 86_400) as i64;
    let rest = secs % 86_400;
    let date =
        Date::from_ymd(1970, 1, 1).map_or_else(String::new, |d| d.add_days(days).to_string());
    format!(
        "{date}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// `run.json`: the manifest plus a description of the output files, so a
/// reader years later knows which interval is which.
#[derive(Serialize)]
struct RunJson<'a> {
    /// [`RUN_FORMAT`]: says that patientflow wrote this directory.
    format: &'static str,
    #[serde(flatten)]
    manifest: &'a RunManifest,
    /// True when the run was interrupted and only some replications finished.
    partial: bool,
    /// The replications the figures cover, when partial.
    #[serde(skip_serializing_if = "Option::is_none")]
    completed_replications: Option<&'a [u32]>,
    outputs: OutputNotes,
}

/// How [`write_run_outputs_with`] treats the target and what it notes.
#[derive(Clone, Debug, Default)]
pub struct WriteOptions {
    /// Replace an existing directory even when it does not look like a
    /// previous run's output (`--force`). Never the current directory or
    /// one containing it.
    pub force: bool,
    /// `Some` when the run was interrupted: the replications that finished.
    pub partial: Option<Partial>,
}

/// An interrupted run's finished replications (`--keep-partial`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partial {
    /// Replications asked for.
    pub requested: u32,
    /// Indices of the replications that finished, ascending.
    pub completed: Vec<u32>,
}

/// The name of the file that marks a partial run's outputs.
pub const PARTIAL_FILE: &str = "PARTIAL.txt";

fn partial_note(p: &Partial) -> String {
    format!(
        "PARTIAL RESULTS: this run was interrupted. {} of {} replications finished; every \
         figure in these files is over those {} only, so intervals are wider than a full \
         run's and the figures are not those of the scenario's full run.\n\
         Finished replications: {}\n",
        p.completed.len(),
        p.requested,
        p.completed.len(),
        p.completed
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    )
}

#[derive(Serialize)]
struct OutputNotes {
    files: &'static [&'static str],
    percentiles: &'static str,
    confidence_interval: &'static str,
    empty_cell: &'static str,
    text_cells: &'static str,
    daily_row_order: &'static str,
}

const OUTPUT_NOTES: OutputNotes = OutputNotes {
    files: &[
        "summary.csv",
        "replications.csv",
        "daily.csv",
        "daily_bands.csv",
        "report.html",
        "report.md",
        "charts/",
    ],
    percentiles: "p5, p50, p95 (and p25, p75 in daily_bands.csv) are R-7 percentiles (Excel PERCENTILE.INC) of the \
                  replication values: a band of outcomes",
    confidence_interval: "ci95_low, ci95_high are the 95% confidence interval of the mean \
                          over replications (Student t, n-1 df): uncertainty about the \
                          mean, not a range of outcomes",
    empty_cell: "an empty cell is an undefined value (e.g. sd or CI with one \
                 replication); a mean wait over no waits is 0, not empty",
    text_cells: "text starting with = + - @ is prefixed with ' so Excel does not \
                 evaluate it",
    daily_row_order: "day-major: for each day, one row per series \
                      (midnight_census, delayed_patients, community_waiting_list)",
};

/// Across-replication summary of every metric, in [`Metric::ALL`] order.
///
/// Values are taken in the order of `results`; non-finite values are left
/// out (see [`crate::stats`]).
pub fn summarise_metrics(results: &[ReplicationResult]) -> Vec<(Metric, Summary)> {
    Metric::ALL
        .iter()
        .map(|&m| {
            let values: Vec<f64> = results.iter().map(|r| r.metrics[m]).collect();
            (m, summarise(&values))
        })
        .collect()
}

/// One row of `daily.csv`: a series on a day, summarised over replications.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DailySummary {
    /// 0-based day of the window; day 0 is the first day.
    pub day: usize,
    /// The series.
    pub series: Series,
    /// Its mean, confidence interval and percentiles over replications.
    pub summary: Summary,
    /// 25th and 75th percentiles of the replication values: with p5
    /// and p95 they give the 50% and 90% bands of the report's fan charts.
    pub p25: f64,
    /// The 75th percentile (see `p25`).
    pub p75: f64,
}

/// Number of days in the daily series: the longest series of any
/// replication (they are all the same length unless something upstream is
/// wrong, in which case the missing days count as missing values).
pub fn daily_len(results: &[ReplicationResult]) -> usize {
    results
        .iter()
        .flat_map(|r| r.daily.iter().map(Vec::len))
        .max()
        .unwrap_or(0)
}

/// Across-replication summary of each daily series, day-major: all series
/// for day 0, then day 1, and so on. Day-major keeps a day's figures
/// together and lets a planner chart one series with a filter on `series`.
pub fn summarise_daily(results: &[ReplicationResult]) -> Vec<DailySummary> {
    let days = daily_len(results);
    let mut rows = Vec::with_capacity(days * Series::ALL.len());
    let mut values = Vec::with_capacity(results.len());
    for day in 0..days {
        for &series in &Series::ALL {
            values.clear();
            values.extend(results.iter().map(|r| {
                r.daily[series.index()]
                    .get(day)
                    .copied()
                    .unwrap_or(f64::NAN)
            }));
            let mut sorted: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
            sorted.sort_by(f64::total_cmp);
            rows.push(DailySummary {
                day,
                series,
                summary: summarise(&values),
                p25: percentile_r7(&sorted, 0.25),
                p75: percentile_r7(&sorted, 0.75),
            });
        }
    }
    rows
}

/// Header of `summary.csv`.
pub const SUMMARY_HEADER: &str = "metric,unit,mean,sd,ci95_low,ci95_high,p5,p50,p95,n";
/// Header of `daily.csv`.
pub const DAILY_HEADER: &str = "day,date,series,mean,p5,p50,p95";
/// The header of `daily_bands.csv`: the fan charts' data, with the quartiles
/// that `daily.csv` (whose header is fixed) does not carry.
pub const DAILY_BANDS_HEADER: &str = "day,date,series,mean,p5,p25,p50,p75,p95";

/// The text of `summary.csv`: one row per metric, [`Metric::ALL`] order.
pub fn render_summary_csv(summaries: &[(Metric, Summary)]) -> String {
    let mut out = String::new();
    out.push_str(SUMMARY_HEADER);
    out.push('\n');
    for (m, s) in summaries {
        push_record(&mut out, &summary_cells(*m, s));
    }
    out
}

/// The cells of one metric's row of `summary.csv` (also the end of each
/// row of `yearly.csv`), in [`SUMMARY_HEADER`] order.
pub(crate) fn summary_cells(m: Metric, s: &Summary) -> [String; 10] {
    [
        text_cell(m.name()),
        text_cell(m.unit()),
        number_cell(s.mean),
        number_cell(s.sd),
        number_cell(s.ci95_low),
        number_cell(s.ci95_high),
        number_cell(s.p5),
        number_cell(s.p50),
        number_cell(s.p95),
        s.n.to_string(),
    ]
}

/// The text of `replications.csv`: `replication` (the replication's own
/// 0-based index, which identifies its random streams) then one column per
/// metric; rows in the order of `results`.
pub fn render_replications_csv(results: &[ReplicationResult]) -> String {
    let mut out = String::new();
    let mut header = vec![text_cell("replication")];
    header.extend(Metric::ALL.iter().map(|m| text_cell(m.name())));
    push_record(&mut out, &header);
    for r in results {
        let mut row = Vec::with_capacity(1 + Metric::ALL.len());
        row.push(r.replication.to_string());
        row.extend(Metric::ALL.iter().map(|&m| number_cell(r.metrics[m])));
        push_record(&mut out, &row);
    }
    out
}

/// The text of `daily.csv`, rows as given (day-major from
/// [`summarise_daily`]); `date` is `first_day` + `day`.
pub fn render_daily_csv(rows: &[DailySummary], first_day: Date) -> String {
    render_daily(rows, first_day, false)
}

/// The text of `daily_bands.csv`: as `daily.csv`, with p25 and p75.
pub fn render_daily_bands_csv(rows: &[DailySummary], first_day: Date) -> String {
    render_daily(rows, first_day, true)
}

fn render_daily(rows: &[DailySummary], first_day: Date, quartiles: bool) -> String {
    let mut out = String::new();
    out.push_str(if quartiles {
        DAILY_BANDS_HEADER
    } else {
        DAILY_HEADER
    });
    out.push('\n');
    for row in rows {
        let s = &row.summary;
        let mut cells = vec![
            row.day.to_string(),
            text_cell(&first_day.add_days(row.day as i64).to_string()),
            text_cell(row.series.name()),
            number_cell(s.mean),
            number_cell(s.p5),
        ];
        if quartiles {
            cells.push(number_cell(row.p25));
        }
        cells.push(number_cell(s.p50));
        if quartiles {
            cells.push(number_cell(row.p75));
        }
        cells.push(number_cell(s.p95));
        push_record(&mut out, &cells);
    }
    out
}

/// The notes of a shard's `run.json`: which files it holds.
const SHARD_NOTES: OutputNotes = OutputNotes {
    files: &["replications.csv", "daily_replications.csv"],
    ..OUTPUT_NOTES
};

/// The text of `run.json` (pretty-printed, trailing newline).
pub fn render_run_json(manifest: &RunManifest) -> io::Result<String> {
    render_run_json_with(manifest, None)
}

fn render_run_json_with(manifest: &RunManifest, partial: Option<&Partial>) -> io::Result<String> {
    let doc = RunJson {
        format: RUN_FORMAT,
        manifest,
        partial: partial.is_some(),
        completed_replications: partial.map(|p| p.completed.as_slice()),
        outputs: if manifest.shard.is_some() {
            SHARD_NOTES
        } else {
            OUTPUT_NOTES
        },
    };
    let mut s = serde_json::to_string_pretty(&doc).map_err(io::Error::other)?;
    s.push('\n');
    Ok(s)
}

/// Writes `summary.csv`, `replications.csv`, `daily.csv` and `run.json` into
/// `out_dir`, replacing it as a whole (see [`replace_dir_with`]): readers
/// see either the previous outputs or all of the new ones.
///
/// Creates missing parent directories. To avoid deleting something that is
/// not ours, an existing `out_dir` is replaced only if it is empty or
/// [`is_patientflow_output`]; otherwise this returns an `AlreadyExists`
/// error and writes nothing. Another run writing `out_dir` at the same time
/// is an error too (see [`OutputDir`]).
pub fn write_run_outputs(
    out_dir: &Path,
    results: &[ReplicationResult],
    first_day: Date,
    manifest: &RunManifest,
) -> io::Result<()> {
    write_run_outputs_with(
        out_dir,
        results,
        first_day,
        manifest,
        &WriteOptions::default(),
    )
}

/// As [`write_run_outputs`], with `--force` and partial results: a partial
/// run's `run.json` has `"partial": true` and the finished replications,
/// and a [`PARTIAL_FILE`] says so in words.
pub fn write_run_outputs_with(
    out_dir: &Path,
    results: &[ReplicationResult],
    first_day: Date,
    manifest: &RunManifest,
    options: &WriteOptions,
) -> io::Result<()> {
    // Render before touching the disk: a failure here leaves no trace.
    let files = render_run_files_with(results, first_day, manifest, options)?;
    write_output_files_with(out_dir, &files, options.force)
}

/// The files of a run directory, rendered: `(file name, text)`. A shard
/// (`manifest.shard` set) holds the per-replication values only, from
/// which `merge` recomputes every statistic: `replications.csv`,
/// `daily_replications.csv` and `run.json`. A whole run holds
/// `summary.csv`, `replications.csv`, `daily.csv`, `run.json` and its report
/// (`report.html`, `report.md`, `charts/*.svg`).
pub fn render_run_files(
    results: &[ReplicationResult],
    first_day: Date,
    manifest: &RunManifest,
) -> io::Result<Vec<(String, String)>> {
    render_run_files_with(results, first_day, manifest, &WriteOptions::default())
}

/// As [`render_run_files`], with a partial run's marker.
pub fn render_run_files_with(
    results: &[ReplicationResult],
    first_day: Date,
    manifest: &RunManifest,
    options: &WriteOptions,
) -> io::Result<Vec<(String, String)>> {
    render_run_files_until(results, first_day, manifest, options, &|| false)
}

/// As [`render_run_files_with`], asking `stop` between files and between
/// the replications of `daily_replications.csv` (hundreds of megabytes for a
/// large shard): when it says stop (an interrupt), an error that
/// [`is_interrupted`] recognises.
pub fn render_run_files_until(
    results: &[ReplicationResult],
    first_day: Date,
    manifest: &RunManifest,
    options: &WriteOptions,
    stop: &dyn Fn() -> bool,
) -> io::Result<Vec<(String, String)>> {
    let check = || {
        if stop() {
            Err(atomic::interrupted_error())
        } else {
            Ok(())
        }
    };
    let mut files: Vec<(String, String)> = Vec::with_capacity(12);
    if let Some(partial) = &options.partial {
        files.push((PARTIAL_FILE.into(), partial_note(partial)));
    }
    files.push(("replications.csv".into(), render_replications_csv(results)));
    files.extend(uncertainty::run_files(manifest, results));
    check()?;
    let mut bands = None;
    let years = yearly::run_years(manifest);
    if manifest.shard.is_some() {
        files.push((
            DAILY_REPLICATIONS_FILE.into(),
            experiment_outputs::render_daily_replications_csv_until(results, first_day, stop)?,
        ));
        if !years.is_empty() {
            files.push((
                yearly::YEARLY_REPLICATIONS_FILE.into(),
                yearly::render_yearly_replications_csv(&years, results),
            ));
        }
    } else {
        let daily_rows = summarise_daily(results);
        check()?;
        files.push((
            "summary.csv".into(),
            render_summary_csv(&summarise_metrics(results)),
        ));
        if !years.is_empty() {
            files.push((
                yearly::YEARLY_FILE.into(),
                yearly::render_yearly_csv(&years, results),
            ));
        }
        files.push(("daily.csv".into(), render_daily_csv(&daily_rows, first_day)));
        bands = Some(render_daily_bands_csv(&daily_rows, first_day));
        check()?;
    }
    if let Some(b) = &bands {
        files.push(("daily_bands.csv".into(), b.clone()));
    }
    // run.json records the checksum of every data file beside it.
    let manifest = RunManifest {
        files: readback::checksums(&files),
        ..manifest.clone()
    };
    let run_json = render_run_json_with(&manifest, options.partial.as_ref())?;
    if bands.is_some() {
        let text = |name: &str| {
            files
                .iter()
                .find(|(n, _)| n == name)
                .map_or("", |(_, t)| t.as_str())
        };
        // The report reads the same text the files will hold, so that
        // `patientflow report DIR` rebuilds it byte for byte.
        let data = RunData::from_texts(
            &run_json,
            text("summary.csv"),
            text("daily_bands.csv"),
            text("replications.csv"),
        )
        .map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("could not build the report: {e}"),
            )
        })?;
        let mut report = run_report::run_document(&data)?;
        let yearly_text = files
            .iter()
            .find(|(n, _)| n == yearly::YEARLY_FILE)
            .map(|(_, t)| t.as_str());
        add_yearly_section(&mut report, yearly_text, manifest.replications)?;
        let rows: Vec<_> = results.iter().map(|r| (r.replication, r.metrics)).collect();
        report
            .sections
            .extend(uncertainty::run_section(&manifest, &rows));
        check()?;
        files.push(("run.json".into(), run_json));
        files.extend(document::report_files(&report));
    } else {
        files.push(("run.json".into(), run_json));
    }
    Ok(files)
}

/// Writes rendered files (paths relative to `out_dir`, `/`-separated,
/// subdirectories created) into `out_dir`, replacing it whole and
/// atomically as [`write_run_outputs`] does, with the same refusal to
/// replace a directory that is not a patientflow output.
pub fn write_output_files(out_dir: &Path, files: &[(String, String)]) -> io::Result<()> {
    write_output_files_with(out_dir, files, false)
}

/// Why `patientflow report DIR` failed.
#[derive(Debug, thiserror::Error)]
pub enum RebuildError {
    /// The directory or its files are not a run's output (exit code 2).
    #[error("{0}")]
    Input(#[from] ReportError),
    /// Writing the report failed (exit code 1).
    #[error("could not write the report: {0}")]
    Write(#[from] io::Error),
}

/// Puts the section "Results by year" (from `yearly.csv`'s text, when there
/// is one) after the summary.
fn add_yearly_section(
    report: &mut document::Document,
    yearly_csv: Option<&str>,
    replications: u32,
) -> io::Result<()> {
    if let Some(section) = yearly::report_section(yearly_csv, replications)? {
        let at = report.sections.len().min(1);
        report.sections.insert(at, section);
    }
    Ok(())
}

/// Rebuilds the report of the output directory `dir` from its saved files,
/// without running anything: the same bytes as the run wrote, for the same
/// files and the same version of patientflow. Files read without checksums
/// are told to `notices`.
pub fn rebuild_report(dir: &Path, notices: &crate::notice::Notices) -> Result<(), RebuildError> {
    if !dir.is_dir() {
        let why = if dir.exists() {
            "not a directory: give the output directory of a run, compare or sweep, not a file \
             in it"
        } else {
            "no such directory"
        };
        return Err(ReportError::Read {
            path: dir.to_path_buf(),
            source: io::Error::other(why),
        }
        .into());
    }
    // No run may replace the directory while its report is rewritten.
    let _lock = Lock::acquire(dir)?;
    // A comparison or sweep directory is known by its experiment.json.
    let report = if dir.join(EXPERIMENT_FILE).is_file() {
        experiment_report::read_experiment_document(dir, notices)?
    } else {
        let data = RunData::read_with(dir, notices)?;
        let mut report = run_report::run_document(&data)?;
        let path = dir.join(yearly::YEARLY_FILE);
        let yearly_text = if path.is_file() {
            let read = || -> io::Result<String> {
                use std::io::Read;
                let mut text = String::new();
                readback::open_regular(&path)?
                    .take(readback::MAX_TEXT_BYTES)
                    .read_to_string(&mut text)?;
                Ok(text)
            };
            Some(read().map_err(|source| ReportError::Read {
                path: path.clone(),
                source,
            })?)
        } else {
            None
        };
        add_yearly_section(
            &mut report,
            yearly_text.as_deref(),
            data.manifest.replications,
        )?;
        if let Some(rows) = uncertainty::rows_in(dir) {
            let reps: Vec<u32> = rows.iter().map(|(r, _)| *r).collect();
            if let Some(why) = kept_check::replications_problem(&data.manifest, &reps) {
                return Err(ReportError::Changed(format!(
                    "{}: {why}",
                    dir.join("run.json").display()
                ))
                .into());
            }
            if let Some(why) = kept_check::parameters_problem(dir, &data.manifest, &reps) {
                return Err(ReportError::Changed(why).into());
            }
            report
                .sections
                .extend(uncertainty::run_section(&data.manifest, &rows));
        }
        report
    };
    document::replace_report_in(dir, &report)?;
    Ok(())
}

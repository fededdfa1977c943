//! Writers (and, for `merge`, readers) of the capacity-plan outputs:
//! `comparison.csv` and `sweep.csv`, `experiment.json`, a shard's
//! `daily_replications.csv`, `warmup.csv`, and the terminal tables.
//!
//! The per-replication files are the lossless record of a run: numbers are
//! written with [`number_cell`], Rust's shortest representation that reads
//! back to the same `f64`, so a statistic recomputed from them by `merge` is
//! the same to the bit as one computed in memory.

use std::collections::BTreeMap;
use std::io;

use serde::{Deserialize, Serialize};

use super::cells::push_record;
use super::readback::{MAX_VALUE, Records, number};
use super::text_table::{Align, TextTable};
use super::{number_cell, text_cell};
use crate::model::headlines::{COMPARISON, has_mental_health};
use crate::model::metrics::{Metric, Metrics, ReplicationResult, Series};
use crate::scenario::calendar::Date;
use crate::stats::Summary;

/// The manifest of a comparison or sweep directory (beside one run
/// directory per scenario).
pub const EXPERIMENT_FILE: &str = "experiment.json";
/// Per-replication daily series of a shard.
pub const DAILY_REPLICATIONS_FILE: &str = "daily_replications.csv";

/// Which replications a shard ran: `index` of `count`, that is
/// replications `index`, `index + count`, `index + 2 count`, ...
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardRecord {
    /// This shard's index, 0-based, below `count`.
    pub index: u32,
    /// Shards in all.
    pub count: u32,
    /// The replication indices this shard holds, ascending.
    pub replications: Vec<u32>,
}

impl ShardRecord {
    /// The replications of `0..total` that shard `index` of `count` holds,
    /// ascending: `index`, `index + count`, ... (`count` at least 1).
    pub fn replications_of(index: u32, count: u32, total: u32) -> Vec<u32> {
        (index..total).step_by(count.max(1) as usize).collect()
    }
}

/// How `--precision` chose the number of replications.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PrecisionRecord {
    /// The target: 95% CI half-width within this share of the mean.
    pub target_relative_half_width: f64,
    /// Replications added at a time.
    pub batch: u32,
    /// The most replications it could run (`--max-replications`).
    pub max_replications: u32,
    /// Replications kept: the results are those of a fixed run of this many.
    pub replications_used: u32,
    /// Replications simulated (the look-ahead may run a few more than kept).
    pub replications_simulated: u32,
    /// `"reached the precision"` or `"hit the maximum number of replications"`.
    pub stopped_because: String,
    /// The metrics checked, in every scenario run.
    pub metrics: Vec<String>,
    /// The largest relative half-width among them at the replications used.
    pub worst_relative_half_width: f64,
    /// With uncertain values: the largest half-width of the 95% CIs of the
    /// plausible ranges' ends (the 10th and 90th percentiles of each checked
    /// metric, or of each plan's effect on it), as a share of the range's
    /// width (`docs/model.md`, "Enough replications"); absent without.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worst_range_half_width: Option<f64>,
}

/// One scenario of a comparison or sweep.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ArmRecord {
    /// Its subdirectory, and its name in the `plan` column.
    pub name: String,
    /// `"baseline"` or `"plan"`.
    pub role: String,
    /// The scenario file it came from.
    pub scenario_path: String,
    /// SHA-256 of its resolved scenario.
    pub sha256: String,
    /// The scenario's own name (`scenario.name`), which the report uses
    /// for a compared plan. Empty in directories written before it was kept.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scenario_name: String,
    /// For a sweep: the value of each swept key (as in `sweep.csv`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub swept_values: Vec<String>,
    /// Its own warnings (as in its `run.json`): empty when there is none.
    #[serde(default, deserialize_with = "super::warnings::read_warnings")]
    pub warnings: Vec<super::Warning>,
}

/// `experiment.json`: what a comparison or sweep ran.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ExperimentManifest {
    /// `"compare"` or `"sweep"`.
    pub kind: String,
    /// The patientflow version that wrote it.
    pub software_version: String,
    /// The seed every arm ran with.
    pub seed: u64,
    /// Replications of every arm (the total, in a shard too).
    pub replications: u32,
    /// For a sweep: the sweep file and the keys it varies (columns of
    /// `sweep.csv`, in this order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep_file: Option<String>,
    /// The keys a sweep varies; empty for a comparison.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub swept_keys: Vec<String>,
    /// The baseline first, then the plans.
    pub arms: Vec<ArmRecord>,
    /// Set when this directory holds one shard of the experiment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardRecord>,
    /// Set when the number of replications was chosen by `--precision`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<PrecisionRecord>,
    /// The shard directories this was merged from (empty when it ran in one
    /// piece).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_from: Vec<String>,
    /// Time the experiment took, seconds of the clock on the wall.
    pub wall_time_seconds: f64,
    /// The command as typed, one argument a string.
    pub command_line: Vec<String>,
    /// Days in the statistics window of every arm (the report says "a
    /// year" only for 365). Absent in directories written before the
    /// experiment report existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_days: Option<u64>,
    /// SHA-256 of the table file (`comparison.csv` / `sweep.csv`), checked
    /// by `report DIR`; each scenario's `run.json` records its own files.
    /// Empty in directories written before checksums were kept.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub files: BTreeMap<String, String>,
}

impl ExperimentManifest {
    /// The name of the table file: `comparison.csv` or `sweep.csv`.
    pub fn table_file(&self) -> &'static str {
        if self.kind == "sweep" {
            "sweep.csv"
        } else {
            "comparison.csv"
        }
    }
}

/// `experiment.json` as written: the manifest after its format.
#[derive(Serialize)]
struct ExperimentJson<'a> {
    /// [`EXPERIMENT_FORMAT`]: says that patientflow wrote this directory.
    format: &'static str,
    #[serde(flatten)]
    manifest: &'a ExperimentManifest,
}

/// The text of `experiment.json` (pretty, trailing newline).
pub fn render_experiment_json(manifest: &ExperimentManifest) -> io::Result<String> {
    let doc = ExperimentJson {
        format: super::EXPERIMENT_FORMAT,
        manifest,
    };
    let mut s = serde_json::to_string_pretty(&doc).map_err(io::Error::other)?;
    s.push('\n');
    Ok(s)
}

/// The header of `comparison.csv` (no swept keys) or `sweep.csv`.
pub fn comparison_header(swept_keys: &[String]) -> String {
    let mut cells = vec![text_cell("plan")];
    cells.extend(swept_keys.iter().map(|k| text_cell(k)));
    for c in [
        "metric",
        "unit",
        "baseline_mean",
        "plan_mean",
        "diff_mean",
        "diff_ci95_low",
        "diff_ci95_high",
        "n",
    ] {
        cells.push(c.to_string());
    }
    let mut out = String::new();
    push_record(&mut out, &cells);
    out
}

/// One metric of a plan against its baseline.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ComparisonRow {
    /// The metric.
    pub metric: Metric,
    /// The baseline's values over replications.
    pub baseline: Summary,
    /// The plan's values over replications.
    pub plan: Summary,
    /// The paired differences, plan minus baseline, replication by
    /// replication.
    pub diff: Summary,
}

/// One plan's rows for [`render_comparison_csv`].
pub struct PlanRows<'a> {
    /// The plan's name (its `plan` column).
    pub name: &'a str,
    /// Values of the swept keys, in the order of the header (empty for
    /// `compare`).
    pub swept_values: &'a [String],
    /// The plan's rows, one a metric.
    pub rows: &'a [ComparisonRow],
    /// The plan's own warnings: its rows are marked, and the metrics that do
    /// not settle say so instead of an interval.
    pub warnings: &'a [super::Warning],
}

/// The text of `comparison.csv` / `sweep.csv`: one row per plan and
/// metric, plans in the order given, metrics in [`Metric::ALL`] order.
/// `diff` is plan minus baseline; `n` counts the pairs.
pub fn render_comparison_csv(swept_keys: &[String], plans: &[PlanRows]) -> String {
    let mut out = comparison_header(swept_keys);
    for p in plans {
        for r in p.rows {
            let mut cells = vec![text_cell(p.name)];
            cells.extend(p.swept_values.iter().map(|v| text_cell(v)));
            cells.extend([
                text_cell(r.metric.name()),
                text_cell(r.metric.unit()),
                number_cell(r.baseline.mean),
                number_cell(r.plan.mean),
                number_cell(r.diff.mean),
                number_cell(r.diff.ci95_low),
                number_cell(r.diff.ci95_high),
                r.diff.n.to_string(),
            ]);
            push_record(&mut out, &cells);
        }
    }
    out
}

/// The terminal table of a comparison: for each plan, the [`COMPARISON`] headlines in
/// plain words with the paired effect and its 95% CI.
pub fn format_comparison_table(plans: &[PlanRows], replications: usize) -> String {
    let mut table = TextTable::new(&[
        ("plan", Align::Left),
        ("headline", Align::Left),
        ("unit", Align::Left),
        ("baseline", Align::Right),
        ("plan", Align::Right),
        ("effect", Align::Right),
        ("95% CI of effect", Align::Right),
    ]);
    for p in plans {
        let name = if p.warnings.is_empty() {
            p.name.to_string()
        } else {
            format!("{} {}", p.name, super::TERMINAL_MARK)
        };
        let crises = &p.rows[Metric::MhCrises.index()];
        let mental_health =
            has_mental_health(crises.baseline.mean) || has_mental_health(crises.plan.mean);
        for h in COMPARISON.iter().filter(|h| h.shown(mental_health)) {
            let r = &p.rows[h.metric.index()];
            // A "saved" headline is baseline minus plan: flip the interval.
            let (lo, hi) = if h.sign() < 0.0 {
                (-r.diff.ci95_high, -r.diff.ci95_low)
            } else {
                (r.diff.ci95_low, r.diff.ci95_high)
            };
            let effect = h.sign() * r.diff.mean;
            let half = (hi - lo) / 2.0;
            let d = super::table::decimals(r.baseline.mean, 3).max(super::table::decimals(half, 2));
            let f = |x: f64| super::table::fixed(x, d);
            let ci = if super::unsettled(p.warnings, h.metric) {
                format!("{} does not settle", super::TERMINAL_MARK)
            } else if lo.is_finite() && hi.is_finite() {
                format!("{} to {}", f(lo), f(hi))
            } else {
                "n/a".to_string()
            };
            table.push([
                name.clone(),
                h.effect.label.to_string(),
                h.metric.unit().to_string(),
                f(r.baseline.mean),
                f(r.plan.mean),
                f(effect),
                ci,
            ]);
        }
    }
    let mut out = table.render();
    out.push_str(&format!(
        "Effect: paired over {replications} replications with the same seed (common random \
         numbers); \"avoided\" and \"saved\" are baseline minus plan, \"change\" is plan minus \
         baseline.\n95% CI: confidence interval of the mean effect (Student t on the paired \
         differences), not a range of outcomes. Every metric is in the comparison CSV.\n"
    ));
    let warnings: Vec<&super::Warning> = plans.iter().flat_map(|p| p.warnings).collect();
    out.push_str(&super::terminal_notes(&warnings));
    out
}

/// The text of `daily_replications.csv`: for each replication (in the
/// order of `results`) and each day, the value of every daily series.
/// Long format, so it stays a plain table in Excel at any horizon.
pub fn render_daily_replications_csv(results: &[ReplicationResult], first_day: Date) -> String {
    render_daily_replications_csv_until(results, first_day, &|| false).unwrap_or_default()
}

/// As [`render_daily_replications_csv`], asking `stop` before each
/// replication's rows (the file can hold hundreds of megabytes): an
/// interrupted error when it says stop.
pub(crate) fn render_daily_replications_csv_until(
    results: &[ReplicationResult],
    first_day: Date,
    stop: &dyn Fn() -> bool,
) -> io::Result<String> {
    let mut out = String::new();
    let mut header = vec!["replication".to_string(), "day".into(), "date".into()];
    header.extend(Series::ALL.iter().map(|s| text_cell(s.name())));
    push_record(&mut out, &header);
    for r in results {
        if stop() {
            return Err(super::atomic::interrupted_error());
        }
        let days = r.daily.iter().map(Vec::len).max().unwrap_or(0);
        for day in 0..days {
            let mut row = vec![
                r.replication.to_string(),
                day.to_string(),
                text_cell(&first_day.add_days(day as i64).to_string()),
            ];
            row.extend(
                Series::ALL
                    .iter()
                    .map(|s| number_cell(r.daily[s.index()].get(day).copied().unwrap_or(f64::NAN))),
            );
            push_record(&mut out, &row);
        }
    }
    Ok(out)
}

/// The header of a file read back by `merge`, as its writer makes it:
/// `lead` columns, then one per name.
fn expected_header(lead: &[&str], names: impl Iterator<Item = &'static str>) -> csv::StringRecord {
    let mut h: csv::StringRecord = lead.iter().copied().collect();
    for name in names {
        h.push_field(name);
    }
    h
}

/// A count cell (`replication`, `day`) of a record: a plain integer.
fn count_cell(cell: &str, line: usize, column: &str) -> Result<usize, String> {
    cell.parse::<usize>()
        .ok()
        .filter(|n| n.to_string() == cell)
        .ok_or_else(|| format!("line {line}, column `{column}`: expected a count, found {cell:?}"))
}

/// Reads `replications.csv` back as a stream through the `csv` crate:
/// `(replication, metrics)` rows in file order, at most `max_rows`. The
/// header must be this version's exactly (a file from a version with
/// other metrics cannot be merged), so each cell after the first is the
/// value of the [`Metric`] of [`Metric::ALL`] in its place, as
/// [`number_cell`] wrote it, in its range. Errors name the line and column.
pub fn parse_replications_csv<R: io::Read>(
    reader: R,
    max_rows: usize,
) -> Result<Vec<(u32, Metrics)>, String> {
    let mut records = Records::new(reader, max_rows)?
        .limit_says(format!("the {max_rows} replications its run.json lists"));
    if *records.header() != expected_header(&["replication"], Metric::ALL.iter().map(|m| m.name()))
    {
        return Err(
            "line 1: the header is not this version's (replication, then every metric)".into(),
        );
    }
    let mut rows = Vec::new();
    while let Some((line, cells)) = records.next_record()? {
        let rep = count_cell(&cells[0], line, "replication")?;
        let rep = u32::try_from(rep)
            .map_err(|_| format!("line {line}: `{rep}` is not a replication index"))?;
        let mut metrics = Metrics::default();
        for (m, cell) in Metric::ALL.iter().zip(cells.iter().skip(1)) {
            metrics[*m] = number(
                cell,
                line,
                m.name(),
                super::data::metric_floor(*m),
                super::data::metric_ceiling(*m),
            )?;
        }
        rows.push((rep, metrics));
    }
    Ok(rows)
}

/// Reads `daily_replications.csv` back as a stream through the `csv`
/// crate: each replication's daily series, days 0, 1, 2, ... in order
/// with their dates from `first_day`, `days` of them for each replication
/// of `replications` and for no other; each cell after the date is the
/// value of the [`Series`] of [`Series::ALL`] in its place (at least 0).
/// Errors name the line and column.
pub fn parse_daily_replications_csv<R: io::Read>(
    reader: R,
    replications: &[u32],
    first_day: Date,
    days: usize,
) -> Result<BTreeMap<u32, [Vec<f64>; Series::ALL.len()]>, String> {
    let mut records = Records::new(reader, replications.len().saturating_mul(days))?.limit_says(
        format!("{days} days of each replication its run.json lists"),
    );
    let expected = expected_header(
        &["replication", "day", "date"],
        Series::ALL.iter().map(|s| s.name()),
    );
    if *records.header() != expected {
        return Err(format!(
            "line 1: expected the header `{}`",
            expected.iter().collect::<Vec<_>>().join(",")
        ));
    }
    let mut out: BTreeMap<u32, [Vec<f64>; Series::ALL.len()]> = BTreeMap::new();
    while let Some((line, cells)) = records.next_record()? {
        let rep = count_cell(&cells[0], line, "replication")?;
        let Some(&rep) = replications.iter().find(|&&r| r as usize == rep) else {
            return Err(format!(
                "line {line}: replication {rep}, which its run.json does not list"
            ));
        };
        let day = count_cell(&cells[1], line, "day")?;
        let series = out.entry(rep).or_default();
        if series[0].len() != day || day >= days {
            return Err(format!(
                "line {line}: replication {rep} day {day} is out of order (expected day {} \
                 of the window's {days})",
                series[0].len()
            ));
        }
        let date = first_day.add_days(day as i64).to_string();
        if cells[2] != date {
            return Err(format!(
                "line {line}, column `date`: expected {date} (day {day}), found {:?}",
                &cells[2]
            ));
        }
        for (s, cell) in Series::ALL.iter().zip(cells.iter().skip(3)) {
            series[s.index()].push(number(cell, line, s.name(), 0.0, MAX_VALUE)?);
        }
    }
    if let Some((rep, s)) = out.iter().find(|(_, s)| s[0].len() != days) {
        return Err(format!(
            "replication {rep} has {} days, but the window has {days}",
            s[0].len()
        ));
    }
    Ok(out)
}

/// One row of `warmup.csv`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WarmupRow {
    /// Day of the window, 0-based.
    pub day: usize,
    /// The series.
    pub series: Series,
    /// Mean over replications of the value at 00:00.
    pub mean: f64,
    /// Welch's moving average of `mean` (NaN where no centred window fits).
    pub moving_average: f64,
}

/// Header of `warmup.csv`.
pub const WARMUP_HEADER: &str = "day,date,series,mean,moving_average";

/// The text of `warmup.csv`, rows as given; `date` is `first_day + day`.
pub fn render_warmup_csv(rows: &[WarmupRow], first_day: Date) -> String {
    let mut out = String::new();
    out.push_str(WARMUP_HEADER);
    out.push('\n');
    for r in rows {
        push_record(
            &mut out,
            &[
                r.day.to_string(),
                text_cell(&first_day.add_days(r.day as i64).to_string()),
                text_cell(r.series.name()),
                number_cell(r.mean),
                number_cell(r.moving_average),
            ],
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The terminal table of one plan `p` whose every metric has `baseline`,
    /// and `diff` as both its plan's value and its difference.
    fn table_of(baseline: &[f64], diff: &[f64]) -> String {
        let (baseline, diff) = (
            crate::stats::summarise(baseline),
            crate::stats::summarise(diff),
        );
        let rows: Vec<ComparisonRow> = Metric::ALL
            .iter()
            .map(|&metric| ComparisonRow {
                metric,
                baseline,
                plan: diff,
                diff,
            })
            .collect();
        let plans = [PlanRows {
            name: "p",
            swept_values: &[],
            rows: &rows,
            warnings: &[],
        }];
        format_comparison_table(&plans, 3)
    }

    #[test]
    fn the_comparison_table_shows_exactly_the_comparison_headlines() {
        let same = [1.0, 2.0, 3.0];
        let shown = super::super::table::tests::column_of(&table_of(&same, &same), 1);
        let expected: Vec<String> = crate::model::headlines::HEADLINES
            .iter()
            .filter_map(|h| h.comparison)
            .map(|e| (e.position, e.label.to_string()))
            .collect::<std::collections::BTreeMap<_, _>>()
            .into_values()
            .collect();
        assert_eq!(shown, expected);
    }

    /// The terminal comparison table: each effect lies within its printed
    /// interval, whose ends are in order, for every sign of the difference.
    #[test]
    fn the_terminal_comparison_table_keeps_each_effect_inside_its_interval() {
        let diffs: [&[f64]; 5] = [
            &[-5.0, -4.0, -6.0],
            &[5.0, 4.0, 6.0],
            &[-3.0, 1.0, 2.0],
            &[0.0, 0.0, 0.0],
            &[2.0, 2.0, 2.0],
        ];
        for d in diffs {
            let text = table_of(&[100.0, 100.0, 100.0], d);
            for line in text.lines().filter(|l| l.starts_with("p ")) {
                let cells: Vec<&str> = line
                    .split("  ")
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .collect();
                let effect: f64 = cells[cells.len() - 2].parse().expect("an effect");
                let ci = cells[cells.len() - 1];
                if ci == "n/a" {
                    continue;
                }
                let (lo, hi) = ci.split_once(" to ").expect("a to b");
                let (lo, hi): (f64, f64) = (lo.parse().expect("lo"), hi.parse().expect("hi"));
                assert!(lo <= effect && effect <= hi, "{line}");
            }
        }
    }
}

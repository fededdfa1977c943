//! The report of a comparison or sweep directory: headline sentences per
//! plan, forest plots (compare) or effect-against-value charts (sweep), a
//! table of every plan and headline, provenance, and links to each
//! scenario's own run report.
//!
//! Built from the texts of `comparison.csv` / `sweep.csv` and
//! `experiment.json` only, both when the directory is written and by
//! `patientflow report DIR`, so the two give the same bytes.

use std::io;
use std::path::Path;

use crate::model::headlines::{COMPARISON, Compared, Direction};
use crate::model::metrics::{METRIC_COUNT, Metric};

use serde::Deserialize;

use super::RebuildError;
use super::charts::{self, Estimate, ForestPlot, SweepChart, SweepLine};
use super::data::ReportError;
use super::document::{self, Block, Chart, Document, Section, Table};
use super::plans::{ArmRecord, EXPERIMENT_FILE, ExperimentManifest};
use super::prose::{estimate_parts, precision_exponent, prose_count, prose_number};
use super::readback::{Num, Records};
use super::run_report::per_window;
use super::text_cell;
use super::{DOES_NOT_SETTLE, MARK, Warning, report_text, unsettled};

/// The caveat under the headline figures of a comparison.
pub const PLANS_CAVEAT: &str = "These figures compare capacity plans under the assumptions \
stated in each scenario file (its parameters and their sources, listed in each scenario's own \
report). They are not a forecast: they say how the model expects the plans to differ, with the \
uncertainty that comes from running a finite number of replications, not the uncertainty in the \
assumptions themselves.";

/// One plan's effect on one metric, as `comparison.csv` has it (diff is
/// plan minus baseline). Undefined cells are NaN.
#[derive(Clone, Debug, PartialEq)]
pub struct EffectRow {
    pub metric: Metric,
    pub baseline_mean: f64,
    pub plan_mean: f64,
    pub diff_mean: f64,
    pub diff_low: f64,
    pub diff_high: f64,
}

/// A plan with its rows, in the order of the table.
#[derive(Clone, Debug)]
pub struct PlanEffects {
    /// Its directory (the `plan` column).
    pub name: String,
    /// What the report calls it: the scenario's own name for a compared
    /// plan, the swept values for a sweep's (every plan of a sweep shares
    /// the sweep file's name).
    pub label: String,
    pub swept_values: Vec<String>,
    pub rows: Vec<EffectRow>,
}

impl PlanEffects {
    fn row(&self, metric: Metric) -> Option<&EffectRow> {
        self.rows.iter().find(|r| r.metric == metric)
    }

    /// A headline's effect, mean and interval, with the headline's sign:
    /// "avoided" and "saved" are baseline minus plan, so the mean is
    /// negated and the interval flipped.
    pub fn effect(&self, h: &Compared) -> Option<(f64, f64, f64)> {
        self.row(h.metric).map(|r| {
            if h.sign() < 0.0 {
                (-r.diff_mean, -r.diff_high, -r.diff_low)
            } else {
                (r.diff_mean, r.diff_low, r.diff_high)
            }
        })
    }
}

fn malformed(file: &str, message: String) -> ReportError {
    ReportError::Malformed {
        file: file.to_string(),
        message,
    }
}

/// The warnings of the plan named `name`.
fn warnings_of<'a>(manifest: &'a ExperimentManifest, name: &str) -> &'a [Warning] {
    manifest
        .arms
        .iter()
        .find(|a| a.name == name)
        .map_or(&[], |a| &a.warnings)
}

/// What the report calls an arm (see [`PlanEffects::label`]).
fn arm_label(manifest: &ExperimentManifest, arm: &ArmRecord) -> String {
    if !arm.swept_values.is_empty() {
        manifest
            .swept_keys
            .iter()
            .zip(&arm.swept_values)
            .map(|(k, v)| format!("{k} = {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    } else if arm.scenario_name.is_empty() || manifest.kind == "sweep" {
        // A sweep's unswept scenario carries the sweep file's name, which
        // would read as if it were the sweep; its folder says what it is.
        arm.name.clone()
    } else {
        arm.scenario_name.clone()
    }
}

/// A row of `comparison.csv` / `sweep.csv` as the file holds it (the
/// swept keys' columns, between `plan` and `metric`, are not read: each
/// plan's values are in `experiment.json`).
#[derive(Deserialize)]
struct EffectRecord {
    plan: String,
    metric: Metric,
    unit: String,
    baseline_mean: Num,
    plan_mean: Num,
    diff_mean: Num,
    diff_ci95_low: Num,
    diff_ci95_high: Num,
}

/// A cell's text as a CSV reader gives it back from [`text_cell`].
fn read_back(cell: &str) -> String {
    let text = text_cell(cell);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    let mut record = csv::StringRecord::new();
    match reader.read_record(&mut record) {
        Ok(true) => record.get(0).unwrap_or("").to_string(),
        _ => text,
    }
}

/// Reads `comparison.csv` / `sweep.csv` (a stream, no further than a row
/// per plan and metric) into the plans of `manifest`, in its order. Plan
/// names are taken from `experiment.json` (the CSV holds them
/// Excel-escaped) and each must match its rows' `plan` cell.
pub fn parse_effects<R: io::Read>(
    manifest: &ExperimentManifest,
    reader: R,
) -> Result<Vec<PlanEffects>, ReportError> {
    let file = manifest.table_file();
    let bad = |m: String| malformed(file, m);
    let max_rows = manifest.arms.len().saturating_sub(1) * METRIC_COUNT;
    let mut records = Records::new(reader, max_rows)
        .map_err(bad)?
        .limit_says(format!("a row per plan and metric ({max_rows})"));
    let expected = super::comparison_header(&manifest.swept_keys);
    let expected = Records::new(expected.as_bytes(), 0).map_err(bad)?;
    if records.header() != expected.header() {
        let cells: Vec<&str> = expected.header().iter().collect();
        return Err(bad(format!(
            "line 1: expected the header `{}`",
            cells.join(",")
        )));
    }
    let mut plans: Vec<(String, PlanEffects)> = manifest
        .arms
        .iter()
        .skip(1)
        .map(|a| {
            (
                read_back(&a.name),
                PlanEffects {
                    name: a.name.clone(),
                    label: arm_label(manifest, a),
                    swept_values: a.swept_values.clone(),
                    rows: Vec::new(),
                },
            )
        })
        .collect();
    let max = super::readback::MAX_VALUE;
    while let Some((line, r)) = records.next_row::<EffectRecord>().map_err(bad)? {
        let plan = plans
            .iter_mut()
            .find(|(cell, _)| *cell == r.plan)
            .map(|(_, p)| p)
            .ok_or_else(|| {
                bad(format!(
                    "line {line}: plan `{}` is not in {EXPERIMENT_FILE}",
                    r.plan
                ))
            })?;
        if r.unit != r.metric.unit() {
            return Err(bad(format!(
                "line {line}, column `unit`: {:?} is not the unit of {}",
                r.unit,
                r.metric.name()
            )));
        }
        let num = |v: Num, column: &str| v.within(line, column, -max, max).map_err(bad);
        plan.rows.push(EffectRow {
            metric: r.metric,
            baseline_mean: num(r.baseline_mean, "baseline_mean")?,
            plan_mean: num(r.plan_mean, "plan_mean")?,
            diff_mean: num(r.diff_mean, "diff_mean")?,
            diff_low: num(r.diff_ci95_low, "diff_ci95_low")?,
            diff_high: num(r.diff_ci95_high, "diff_ci95_high")?,
        });
    }
    Ok(plans.into_iter().map(|(_, p)| p).collect())
}

/// "a year", "over the N-day window", or "over the window" when the
/// directory does not record its window.
fn per_window_text(manifest: &ExperimentManifest) -> String {
    match manifest.window_days {
        Some(d) => per_window(d as usize),
        None => "over the window".to_string(),
    }
}

/// ` (95% CI a to b)` or nothing.
fn paren(ci: &str) -> String {
    if ci.is_empty() {
        String::new()
    } else {
        format!(" ({ci})")
    }
}

/// A headline's rounded effect and interval for a plan.
fn parts(plan: &PlanEffects, h: &Compared) -> (String, String) {
    match plan.effect(h) {
        Some((m, lo, hi)) => estimate_parts(m, lo, hi),
        None => ("n/a".to_string(), String::new()),
    }
}

/// One effect of a plan's sentence, worded by what its interval shows
/// (`effect` is the mean and 95% interval with positive meaning `verb`,
/// `per` the window's words or nothing):
/// - above zero: `an estimated 481 emergency admissions avoided a year
///   (95% CI 472 to 491)`;
/// - below zero: `an estimated 12 more emergency admissions a year (95% CI
///   5 to 19)`;
/// - including zero: `no clear change in emergency admissions a year (an
///   estimated 3 avoided; 95% CI -4 to 10)`.
///
/// With no interval (every replication agreed) the sign of the mean decides.
fn effect_clause(effect: Option<(f64, f64, f64)>, noun: &str, verb: &str, per: &str) -> String {
    let per = if per.is_empty() {
        String::new()
    } else {
        format!(" {per}")
    };
    let Some((m, lo, hi)) = effect else {
        return format!("n/a {noun} {verb}{per}");
    };
    let has_interval = lo.is_finite() && hi.is_finite() && hi > lo;
    let (above, below) = if has_interval {
        (lo > 0.0, hi < 0.0)
    } else {
        (m > 0.0, m < 0.0)
    };
    if above {
        let (v, ci) = estimate_parts(m, lo, hi);
        format!("an estimated {v} {noun} {verb}{per}{}", paren(&ci))
    } else if below {
        let (v, ci) = estimate_parts(-m, -hi, -lo);
        format!("an estimated {v} more {noun}{per}{}", paren(&ci))
    } else if has_interval {
        let (v, ci) = estimate_parts(m, lo, hi);
        format!("no clear change in {noun}{per} (an estimated {v} {verb}; {ci})")
    } else {
        format!("no change in {noun}{per}")
    }
}

/// The headline sentence of one plan in a comparison: its effect on the
/// first three [`COMPARISON`] headlines, the window's words after the first.
pub fn plan_sentence(plan: &PlanEffects, per: &str) -> String {
    let clause = |h: &Compared, per: &str| {
        let verb = match h.effect.direction {
            Direction::Reduction { past, .. } => past,
            Direction::Change => "changed",
        };
        effect_clause(plan.effect(h), h.effect.noun, verb, per)
    };
    // "Name: ..." rather than "Name avoids": a plan's name may be plural
    // ("Four more teams") and a verb must still agree.
    format!(
        "{}: {}, {} and {}, compared with the baseline.",
        plan.label,
        clause(&COMPARISON[0], per),
        clause(&COMPARISON[1], ""),
        clause(&COMPARISON[2], ""),
    )
}

/// The sweep's sentence for one headline: the plan with the largest effect.
pub fn best_plan_sentence(plans: &[PlanEffects], h: &Compared, per: &str) -> Option<String> {
    let best = plans
        .iter()
        .filter_map(|p| p.effect(h).map(|e| (p, e.0)))
        .filter(|(_, m)| m.is_finite())
        .max_by(|a, b| a.1.total_cmp(&b.1))?
        .0;
    let (v, ci) = parts(best, h);
    let what = match h.effect.direction {
        Direction::Reduction { present, .. } => format!("{present} the most"),
        Direction::Change => "changes the most".to_string(),
    };
    let what = format!("{what} {}: an estimated {v} {per}", h.effect.noun);
    let unclear = best
        .effect(h)
        .is_some_and(|(_, lo, hi)| lo.is_finite() && hi.is_finite() && hi > lo && lo <= 0.0);
    let caveat = if unclear {
        ", an interval that includes no change"
    } else {
        ""
    };
    Some(format!(
        "Of the {}, {} {what}{}{caveat}, compared with the baseline.",
        plans_text(plans.len()),
        best.label,
        paren(&ci)
    ))
}

/// "1 plan", "12 plans".
fn plans_text(n: usize) -> String {
    if n == 1 {
        "1 plan".to_string()
    } else {
        format!("{} plans", prose_count(n as u64))
    }
}

fn slug(label: &str) -> String {
    label
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

const CI_CAPTION: &str = "Intervals are 95% confidence intervals of the mean paired \
difference over replications with common random numbers (Student t): uncertainty about the \
mean effect, not a range of outcomes. \"Avoided\" and \"saved\" are baseline minus plan (the \
negative of diff_mean in the table file), so positive is good.";

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn forest_charts(plans: &[PlanEffects], per: &str, reps: u32) -> io::Result<Vec<Chart>> {
    let mut out = Vec::new();
    for h in &COMPARISON[..3] {
        let estimates: Vec<Estimate> = plans
            .iter()
            .map(|p| {
                let (mean, low, high) = p.effect(h).unwrap_or((f64::NAN, f64::NAN, f64::NAN));
                Estimate {
                    label: p.label.clone(),
                    mean,
                    low,
                    high,
                }
            })
            .collect();
        let title = format!("{} {per}, by plan", capitalise(h.effect.label));
        let x_label = format!(
            "{} (baseline minus plan, {})",
            capitalise(h.effect.label),
            h.effect.unit_words
        );
        let caption = format!(
            "{CI_CAPTION} {} replications.",
            prose_count(u64::from(reps))
        );
        let svg = charts::forest_plot(&ForestPlot {
            title: &title,
            x_label: &x_label,
            caption: &caption,
            point_legend: "Mean effect",
            interval_legend: "95% CI of the mean paired difference",
            estimates: &estimates,
        })?;
        out.push(Chart {
            file: format!("forest-{}.svg", slug(h.effect.label)),
            title,
            caption,
            svg,
        });
    }
    Ok(out)
}

fn sweep_charts(
    manifest: &ExperimentManifest,
    plans: &[PlanEffects],
    per: &str,
) -> io::Result<Vec<Chart>> {
    let Some(first_key) = manifest.swept_keys.first() else {
        return Ok(Vec::new());
    };
    // Values in the order the sweep ran them (the first key varies slowest).
    let distinct = |k: usize| {
        let mut v: Vec<String> = Vec::new();
        for p in plans {
            if let Some(x) = p.swept_values.get(k)
                && !v.contains(x)
            {
                v.push(x.clone());
            }
        }
        v
    };
    let xs = distinct(0);
    let seconds = if manifest.swept_keys.len() > 1 {
        distinct(1)
    } else {
        vec![String::new()]
    };
    let second_key = manifest.swept_keys.get(1);
    let mut out = Vec::new();
    for h in &COMPARISON[..2] {
        let lines: Vec<SweepLine> = seconds
            .iter()
            .map(|s| SweepLine {
                label: second_key.map_or_else(String::new, |k| format!("{k} = {s}")),
                estimates: xs
                    .iter()
                    .map(|x| {
                        let plan = plans.iter().find(|p| {
                            p.swept_values.first() == Some(x)
                                && (second_key.is_none() || p.swept_values.get(1) == Some(s))
                        });
                        let (mean, low, high) = plan.and_then(|p| p.effect(h)).unwrap_or((
                            f64::NAN,
                            f64::NAN,
                            f64::NAN,
                        ));
                        Estimate {
                            label: x.clone(),
                            mean,
                            low,
                            high,
                        }
                    })
                    .collect(),
            })
            .collect();
        let title = format!("{} {per}, by {first_key}", capitalise(h.effect.label));
        // Short, so it fits the chart's height; the caption says which way
        // round the difference is.
        let y_label = format!("{} ({})", capitalise(h.effect.label), h.effect.unit_words);
        let caption = format!(
            "{CI_CAPTION} Shaded: the 95% CI band of each line, in its colour. {} replications.",
            prose_count(u64::from(manifest.replications))
        );
        let svg = charts::sweep_chart(&SweepChart {
            title: &title,
            x_label: first_key,
            y_label: &y_label,
            caption: &caption,
            x_values: &xs,
            lines: &lines,
        })?;
        out.push(Chart {
            file: format!("sweep-{}.svg", slug(h.effect.label)),
            title,
            caption,
            svg,
        });
    }
    Ok(out)
}

/// A value of the table, rounded to the precision of the effect's interval.
fn rounded(x: f64, mean: f64, low: f64, high: f64) -> String {
    prose_number(x, precision_exponent(mean, (high - low) / 2.0))
}

fn effects_table(manifest: &ExperimentManifest, plans: &[PlanEffects]) -> Table {
    // A sweep's plans are named by their swept values, which have their
    // own columns.
    let sweep = !manifest.swept_keys.is_empty();
    let mut header = if sweep {
        Vec::new()
    } else {
        vec!["Plan".to_string()]
    };
    header.extend(manifest.swept_keys.iter().cloned());
    header.extend(
        [
            "Headline",
            "Unit",
            "Baseline mean",
            "Plan mean",
            "Effect",
            "95% CI of effect",
        ]
        .map(String::from),
    );
    let mut numeric = vec![false; header.len() - 4];
    numeric.extend([true; 4]);
    let mut rows = Vec::new();
    for p in plans {
        for h in &COMPARISON {
            let Some(r) = p.row(h.metric) else { continue };
            let Some((m, lo, hi)) = p.effect(h) else {
                continue;
            };
            let mut row = if sweep {
                Vec::new()
            } else {
                vec![p.label.clone()]
            };
            row.extend(p.swept_values.iter().cloned());
            // A plan with warnings is marked in its first cell.
            let warnings = warnings_of(manifest, &p.name);
            if !warnings.is_empty() {
                row[0] = format!("{} {MARK}", row[0]);
            }
            let ci = if unsettled(warnings, h.metric) {
                format!("{MARK} {DOES_NOT_SETTLE}")
            } else if lo.is_finite() && hi.is_finite() && hi > lo {
                format!("{} to {}", rounded(lo, m, lo, hi), rounded(hi, m, lo, hi))
            } else {
                "n/a".to_string()
            };
            row.extend([
                h.effect.label.to_string(),
                h.metric.unit().replace('_', " "),
                rounded(r.baseline_mean, m, lo, hi),
                rounded(r.plan_mean, m, lo, hi),
                rounded(m, m, lo, hi),
                ci,
            ]);
            rows.push(row);
        }
    }
    Table {
        header,
        rows,
        numeric,
    }
}

fn provenance_section(manifest: &ExperimentManifest) -> Section {
    let kv = |k: &str, v: String| vec![k.to_string(), v];
    let mut rows = vec![
        kv("patientflow version", manifest.software_version.clone()),
        kv("Kind", manifest.kind.clone()),
        kv("Seed (every scenario)", manifest.seed.to_string()),
        kv(
            "Replications (every scenario)",
            prose_count(u64::from(manifest.replications)),
        ),
        kv(
            "Statistics window",
            manifest.window_days.map_or_else(
                || "not recorded".to_string(),
                |d| format!("{} days", prose_count(d)),
            ),
        ),
    ];
    if let Some(f) = &manifest.sweep_file {
        rows.push(kv("Sweep file", f.clone()));
        rows.push(kv("Swept keys", manifest.swept_keys.join(", ")));
    }
    if !manifest.merged_from.is_empty() {
        rows.push(kv("Merged from", manifest.merged_from.join(", ")));
    }
    rows.push(kv("Command line", manifest.command_line.join(" ")));
    let arms = Table {
        header: [
            "Scenario",
            "Role",
            "Scenario file",
            "SHA-256 of the resolved scenario",
        ]
        .map(String::from)
        .to_vec(),
        rows: manifest
            .arms
            .iter()
            .map(|a| {
                vec![
                    arm_label(manifest, a),
                    a.role.clone(),
                    a.scenario_path.clone(),
                    a.sha256.clone(),
                ]
            })
            .collect(),
        numeric: vec![false; 4],
    };
    Section {
        id: "provenance".into(),
        title: "How the numbers were made".into(),
        blocks: vec![
            Block::Paragraph(
                "Every scenario ran with the baseline's seed and replications, so replication r \
                 of each sees the same patients (common random numbers) and each plan's effect \
                 is the mean of its paired differences from the baseline."
                    .into(),
            ),
            Block::Table(Table {
                header: vec!["Item".into(), "Value".into()],
                rows,
                numeric: vec![false, false],
            }),
            Block::Subheading("Scenarios".into()),
            Block::Table(arms),
        ],
    }
}

/// Builds the report of a comparison or sweep from the texts of
/// `experiment.json` and its table file.
pub fn experiment_document(experiment_json: &str, table: &str) -> Result<Document, RebuildError> {
    let manifest: ExperimentManifest = serde_json::from_str(experiment_json)
        .map_err(|e| malformed(EXPERIMENT_FILE, e.to_string()))?;
    let plans = parse_effects(&manifest, table.as_bytes())?;
    document_of(&manifest, &plans)
}

/// The report of a comparison or sweep from its manifest and effects.
fn document_of(
    manifest: &ExperimentManifest,
    plans: &[PlanEffects],
) -> Result<Document, RebuildError> {
    let per = per_window_text(manifest);
    let sweep = manifest.kind == "sweep";
    let baseline = manifest
        .arms
        .first()
        .map_or_else(String::new, |a| arm_label(manifest, a));

    let settles =
        |p: &PlanEffects, h: &Compared| !unsettled(warnings_of(manifest, &p.name), h.metric);
    let mut headlines: Vec<String> = if sweep {
        // A figure that does not settle is no plan's effect: the best plan
        // is sought among the others.
        COMPARISON[..2]
            .iter()
            .filter_map(|h| {
                let settled: Vec<PlanEffects> =
                    plans.iter().filter(|p| settles(p, h)).cloned().collect();
                best_plan_sentence(&settled, h, &per)
            })
            .collect()
    } else {
        plans.iter().map(|p| plan_sentence(p, &per)).collect()
    };
    let unsettled_plans: Vec<&str> = plans
        .iter()
        .filter(|p| COMPARISON[..3].iter().any(|h| !settles(p, h)))
        .map(|p| p.label.as_str())
        .collect();
    if !unsettled_plans.is_empty() {
        headlines.push(format!(
            "{MARK} In {}, a service is overloaded: the figures of its queue do not settle \
             (the queue grows through the run), so they are marked in the table below and are \
             not effects of the plan{}.",
            unsettled_plans.join("; "),
            if sweep {
                ", so the sentences above leave them out"
            } else {
                ""
            }
        ));
    }
    let warnings: Vec<Block> = manifest
        .arms
        .iter()
        .flat_map(|a| &a.warnings)
        .map(|w| Block::Warning(report_text(w)))
        .collect();
    let charts = if sweep {
        sweep_charts(manifest, plans, &per)?
    } else {
        forest_charts(plans, &per, manifest.replications)?
    };
    let table_file = manifest.table_file();
    let mut sections = vec![
        Section {
            id: "summary".into(),
            title: "Headline findings".into(),
            blocks: vec![
                Block::Paragraph(format!(
                    "Each plan is compared with the baseline, {baseline}, over {} replications \
                     with the same seed. \"Avoided\" and \"saved\" are baseline minus plan (the \
                     negative of diff_mean in {table_file}). Figures are rounded to the \
                     precision of their 95% confidence interval.",
                    prose_count(u64::from(manifest.replications))
                )),
                Block::Headlines(headlines),
                Block::Caveat(PLANS_CAVEAT.into()),
            ],
        },
        Section {
            id: "charts".into(),
            title: "Charts".into(),
            blocks: charts.into_iter().map(Block::Chart).collect(),
        },
        Section {
            id: "results".into(),
            title: "Every plan and headline".into(),
            blocks: vec![
                Block::Table(effects_table(manifest, plans)),
                Block::Paragraph(format!(
                    "Effect: \"avoided\" and \"saved\" are baseline minus plan, \"change\" is \
                     plan minus baseline. 95% CI: confidence interval of the mean paired \
                     difference, not a range of outcomes. Every metric is in {table_file}."
                )),
            ],
        },
        Section {
            id: "runs".into(),
            title: "Each scenario's own report".into(),
            blocks: vec![Block::Links(
                manifest
                    .arms
                    .iter()
                    .map(|a| {
                        (
                            format!("{} ({}, folder {})", arm_label(manifest, a), a.role, a.name),
                            vec![a.name.clone(), "report.html".to_string()],
                        )
                    })
                    .collect(),
            )],
        },
    ];
    // Each arm's warnings, after the sentences and before the caveat.
    let at = sections[0].blocks.len().saturating_sub(1);
    sections[0].blocks.splice(at..at, warnings);
    sections.push(provenance_section(manifest));
    let (title, subtitle) = if sweep {
        (
            format!(
                "Sweep of {}",
                manifest.sweep_file.as_deref().unwrap_or("a scenario")
            ),
            format!(
                "{} against {baseline}; patientflow {}",
                plans_text(plans.len()),
                manifest.software_version
            ),
        )
    } else {
        (
            format!("Comparison of capacity plans against {baseline}"),
            format!(
                "{}; patientflow {}",
                plans_text(plans.len()),
                manifest.software_version
            ),
        )
    };
    Ok(Document {
        title,
        subtitle,
        sections,
    })
}

/// The report's files of a comparison or sweep directory, paths relative
/// to it.
pub fn experiment_report_files(
    experiment_json: &str,
    table: &str,
) -> io::Result<Vec<(String, String)>> {
    let doc = experiment_document(experiment_json, table).map_err(|e| match e {
        RebuildError::Write(e) => e,
        e => io::Error::new(
            io::ErrorKind::InvalidData,
            format!("could not build the report: {e}"),
        ),
    })?;
    Ok(document::report_files(&doc))
}

/// Reads `experiment.json` and its table from `dir` and builds the report.
/// The table must have the SHA-256 `experiment.json` records, and is read
/// line by line, no further than a row per plan and metric.
/// Files without checksums (an older patientflow's) are told to `notices`.
pub fn read_experiment_document(
    dir: &Path,
    notices: &crate::notice::Notices,
) -> Result<Document, RebuildError> {
    use super::readback;
    let json = readback::read_json(&dir.join(EXPERIMENT_FILE))
        .map_err(|m| malformed(EXPERIMENT_FILE, m))?;
    let manifest: ExperimentManifest =
        serde_json::from_str(&json).map_err(|e| malformed(EXPERIMENT_FILE, e.to_string()))?;
    if manifest.shard.is_some() {
        return Err(malformed(
            EXPERIMENT_FILE,
            "this directory holds one shard; merge the shards first".to_string(),
        )
        .into());
    }
    let file = manifest.table_file();
    match readback::verify_files(dir, EXPERIMENT_FILE, &manifest.files, &[file])
        .map_err(ReportError::Changed)?
    {
        readback::Verified::Yes => {}
        readback::Verified::NoChecksums => notices.send(crate::notice::Notice::Unverified {
            dir: dir.to_path_buf(),
            manifest: EXPERIMENT_FILE.into(),
        }),
    }
    let reader = readback::open(&dir.join(file)).map_err(|m| malformed(file, m))?;
    let plans = parse_effects(&manifest, reader)?;
    document_of(&manifest, &plans)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_year_only_for_365_days_and_the_interval_flips() {
        let mut m = ExperimentManifest::default();
        assert_eq!(per_window_text(&m), "over the window");
        m.window_days = Some(365);
        assert_eq!(per_window_text(&m), "a year");
        m.window_days = Some(180);
        assert_eq!(per_window_text(&m), "over the 180-day window");
        let row = |metric: Metric, diff: f64, lo: f64, hi: f64| EffectRow {
            metric,
            baseline_mean: 1000.0,
            plan_mean: 1000.0 + diff,
            diff_mean: diff,
            diff_low: lo,
            diff_high: hi,
        };
        let plan = PlanEffects {
            name: "p".into(),
            label: "Second PRU car".into(),
            swept_values: Vec::new(),
            rows: vec![
                row(Metric::Admissions, -481.3, -491.0, -471.6),
                row(Metric::DelayedBedDays, -62.0, -98.0, -31.0),
                row(Metric::BedWaitsOver12h, 4.0, f64::NAN, f64::NAN),
            ],
        };
        assert_eq!(
            plan_sentence(&plan, "a year"),
            "Second PRU car: an estimated 481 emergency admissions avoided a year (95% CI 472 \
             to 491), an estimated 60 delayed bed days saved (95% CI 30 to 100) and an \
             estimated 4.00 more decision-to-admit waits over 12 hours, compared with the \
             baseline."
        );
        // An interval that includes zero is no clear change, its numbers
        // kept; one below zero is "more", its interval flipped.
        let plan = PlanEffects {
            rows: vec![
                row(Metric::Admissions, 2.2, -5.0, 9.4),
                row(Metric::DelayedBedDays, 40.0, 21.0, 59.0),
                row(Metric::BedWaitsOver12h, 0.0, f64::NAN, f64::NAN),
            ],
            ..plan
        };
        assert_eq!(
            plan_sentence(&plan, "over the 90-day window"),
            "Second PRU car: no clear change in emergency admissions over the 90-day window (an \
             estimated -2 avoided; 95% CI -9 to 5), an estimated 40 more delayed bed days (95% \
             CI 21 to 59) and no change in decision-to-admit waits over 12 hours, compared with \
             the baseline."
        );
    }

    #[test]
    fn the_results_table_shows_exactly_the_comparison_headlines() {
        let rows = Metric::ALL
            .iter()
            .map(|&metric| EffectRow {
                metric,
                baseline_mean: 10.0,
                plan_mean: 9.0,
                diff_mean: -1.0,
                diff_low: -2.0,
                diff_high: 0.5,
            })
            .collect();
        let plan = PlanEffects {
            name: "p".into(),
            label: "P".into(),
            swept_values: Vec::new(),
            rows,
        };
        let table = effects_table(&ExperimentManifest::default(), &[plan]);
        let col = table.header.iter().position(|h| h == "Headline").unwrap();
        let shown: Vec<&str> = table.rows.iter().map(|r| r[col].as_str()).collect();
        let mut expected: Vec<(usize, &str)> = crate::model::headlines::HEADLINES
            .iter()
            .filter_map(|h| h.comparison.map(|e| (e.position, e.label)))
            .collect();
        expected.sort_unstable();
        assert_eq!(shown, expected.into_iter().map(|e| e.1).collect::<Vec<_>>());
    }

    #[test]
    fn the_best_plan_is_named_with_its_numbers_and_a_caveat_when_unclear() {
        let plan = |label: &str, diff: f64, lo: f64, hi: f64| PlanEffects {
            name: label.to_lowercase(),
            label: label.into(),
            swept_values: Vec::new(),
            rows: vec![EffectRow {
                metric: Metric::Admissions,
                baseline_mean: 1000.0,
                plan_mean: 1000.0 + diff,
                diff_mean: diff,
                diff_low: lo,
                diff_high: hi,
            }],
        };
        let clear = [
            plan("One car", -100.0, -110.0, -90.0),
            plan("Two cars", -180.0, -195.0, -165.0),
        ];
        assert_eq!(
            best_plan_sentence(&clear, &COMPARISON[0], "a year").as_deref(),
            Some(
                "Of the 2 plans, Two cars avoids the most emergency admissions: an estimated 180 \
                 a year (95% CI 165 to 195), compared with the baseline."
            )
        );
        let unclear = [
            plan("One car", 1.0, -3.0, 5.0),
            plan("Two cars", -2.0, -6.0, 2.0),
        ];
        assert_eq!(
            best_plan_sentence(&unclear, &COMPARISON[0], "a year").as_deref(),
            Some(
                "Of the 2 plans, Two cars avoids the most emergency admissions: an estimated 2 a \
                 year (95% CI -2 to 6), an interval that includes no change, compared with the \
                 baseline."
            )
        );
    }

    #[test]
    fn names_read_back_and_slugs() {
        assert_eq!(read_back("=a,\"b\""), "'=a,\"b\"");
        assert_eq!(
            slug("decision-to-admit waits over 12 hours avoided"),
            "decision-to-admit-waits-over-12-hours-avoided"
        );
    }
}

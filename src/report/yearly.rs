//! Results by planning year (`docs/model.md`, "Results by year"):
//! `yearly.csv` of a run whose window is longer than 365 days, and a
//! shard's `yearly_replications.csv`, from which `merge` rebuilds it.

use std::collections::BTreeMap;

use super::cells::push_record;
use super::{RunManifest, number_cell, text_cell};
use crate::model::metrics::{Metric, Metrics, ReplicationResult};
use crate::model::planning_years::{PlanningYear, planning_years};
use crate::scenario::calendar::Date;
use crate::stats::{Summary, summarise};

/// Each metric per planning year, summarised over replications.
pub const YEARLY_FILE: &str = "yearly.csv";
/// A shard's per-replication values by planning year.
pub const YEARLY_REPLICATIONS_FILE: &str = "yearly_replications.csv";
/// Header of `yearly.csv`: the planning year, then the columns of
/// `summary.csv`.
pub const YEARLY_HEADER: &str =
    "year,first_date,last_date,days,partial,metric,unit,mean,sd,ci95_low,ci95_high,p5,p50,p95,n";

/// The planning years of the run `manifest` records (empty for a window of
/// 365 days or less, and for a manifest without a readable start date).
pub fn run_years(manifest: &RunManifest) -> Vec<PlanningYear> {
    let Some(start) = Date::parse(&manifest.start_date) else {
        return Vec::new();
    };
    let from = manifest.warm_up_hours;
    planning_years(start, from, from + manifest.horizon_hours)
}

/// Every metric of planning year `year` summarised over `results` (in
/// their order, as `summary.csv` is).
pub fn summarise_year(results: &[ReplicationResult], year: usize) -> Vec<(Metric, Summary)> {
    Metric::ALL
        .iter()
        .map(|&m| {
            let values: Vec<f64> = results
                .iter()
                .map(|r| r.yearly.get(year).map_or(f64::NAN, |y| y[m]))
                .collect();
            (m, summarise(&values))
        })
        .collect()
}

/// The text of `yearly.csv`: year-major, one row per metric in
/// [`Metric::ALL`] order for each planning year.
pub fn render_yearly_csv(years: &[PlanningYear], results: &[ReplicationResult]) -> String {
    let mut out = String::new();
    out.push_str(YEARLY_HEADER);
    out.push('\n');
    for (k, year) in years.iter().enumerate() {
        for (m, s) in summarise_year(results, k) {
            let mut row = vec![
                text_cell(&year.label),
                text_cell(&year.first_date.to_string()),
                text_cell(&year.last_date.to_string()),
                number_cell(year.days()),
                text_cell(if year.partial { "true" } else { "false" }),
            ];
            row.extend(super::summary_cells(m, &s));
            push_record(&mut out, &row);
        }
    }
    out
}

/// The text of a shard's `yearly_replications.csv`: `replication,year`
/// then one column per metric, one row per replication and year.
pub fn render_yearly_replications_csv(
    years: &[PlanningYear],
    results: &[ReplicationResult],
) -> String {
    let mut out = String::new();
    let mut header = vec![text_cell("replication"), text_cell("year")];
    header.extend(Metric::ALL.iter().map(|m| text_cell(m.name())));
    push_record(&mut out, &header);
    for r in results {
        for (year, metrics) in years.iter().zip(&r.yearly) {
            let mut row = vec![r.replication.to_string(), text_cell(&year.label)];
            row.extend(Metric::ALL.iter().map(|&m| number_cell(metrics[m])));
            push_record(&mut out, &row);
        }
    }
    out
}

/// Reads a shard's `yearly_replications.csv` back: each replication's
/// metrics by planning year, in the order of `years`. Errors name the line.
pub fn parse_yearly_replications_csv(
    text: &str,
    years: &[PlanningYear],
) -> Result<BTreeMap<u32, Vec<Metrics>>, String> {
    let mut lines = text.lines().enumerate();
    let expected_header = {
        let mut h = String::new();
        let mut cells = vec![text_cell("replication"), text_cell("year")];
        cells.extend(Metric::ALL.iter().map(|m| text_cell(m.name())));
        push_record(&mut h, &cells);
        h
    };
    match lines.next() {
        Some((_, header)) if header == expected_header.trim_end() => {}
        _ => return Err("line 1: not the header of this version's yearly_replications.csv".into()),
    }
    let mut out: BTreeMap<u32, Vec<Metrics>> = BTreeMap::new();
    for (i, line) in lines {
        let line_no = i + 1;
        let cells: Vec<&str> = line.split(',').collect();
        if cells.len() != 2 + Metric::ALL.len() {
            return Err(format!(
                "line {line_no}: {} cells, expected {}",
                cells.len(),
                2 + Metric::ALL.len()
            ));
        }
        let replication: u32 = cells[0]
            .parse()
            .map_err(|_| format!("line {line_no}: replication {:?} is not a number", cells[0]))?;
        let entry = out.entry(replication).or_default();
        let expected = years
            .get(entry.len())
            .ok_or_else(|| format!("line {line_no}: more years than the window has"))?;
        if cells[1] != expected.label {
            return Err(format!(
                "line {line_no}: year {:?}, expected {:?}",
                cells[1], expected.label
            ));
        }
        let mut metrics = Metrics::default();
        for (k, &m) in Metric::ALL.iter().enumerate() {
            let cell = cells[2 + k];
            metrics[m] = if cell.is_empty() {
                f64::NAN
            } else {
                cell.parse().map_err(|_| {
                    format!("line {line_no}: {}: {cell:?} is not a number", m.name())
                })?
            };
        }
        entry.push(metrics);
    }
    Ok(out)
}

/// The metrics the report gives per planning year, with how each is said.
const REPORT_METRICS: [(Metric, &str); 5] = [
    (Metric::Admissions, "emergency admissions"),
    (Metric::DelayedBedDays, "delayed bed days"),
    (
        Metric::BedWaitsOver12h,
        "decision-to-admit waits over 12 hours",
    ),
    (Metric::BedOccupancyMean, "occupied acute beds on average"),
    (
        Metric::CommunityWaitingMean,
        "patients on the community nursing waiting list on average",
    ),
];

/// One row of `yearly.csv`, read back for the report.
struct YearRow<'a> {
    year: &'a str,
    days: &'a str,
    partial: bool,
    metric: &'a str,
    mean: f64,
    low: f64,
    high: f64,
}

fn read_rows(text: &str) -> Vec<YearRow<'_>> {
    let mut rows = Vec::new();
    for line in text.lines().skip(1) {
        let c: Vec<&str> = line.split(',').collect();
        if c.len() != 15 {
            continue;
        }
        let num = |s: &str| s.parse::<f64>().unwrap_or(f64::NAN);
        rows.push(YearRow {
            year: c[0],
            days: c[3],
            partial: c[4] == "true",
            metric: c[5],
            mean: num(c[7]),
            low: num(c[9]),
            high: num(c[10]),
        });
    }
    rows
}

/// The report's section "Results by year" from the text of `yearly.csv`:
/// a headline sentence per planning year and bars of admissions and
/// delayed bed days by year. `None` when there is no `yearly.csv`.
pub fn report_section(
    yearly_csv: Option<&str>,
    replications: u32,
) -> std::io::Result<Option<super::document::Section>> {
    use super::charts::{Estimate, IntervalBars, interval_bars};
    use super::document::{Block, Chart, Section};
    use super::prose::prose_number;
    let Some(text) = yearly_csv else {
        return Ok(None);
    };
    let rows = read_rows(text);
    let mut years: Vec<(&str, &str, bool)> = Vec::new();
    for r in &rows {
        if years.last().map(|y| y.0) != Some(r.year) {
            years.push((r.year, r.days, r.partial));
        }
    }
    if years.is_empty() {
        return Ok(None);
    }
    let find = |year: &str, m: Metric| rows.iter().find(|r| r.year == year && r.metric == m.name());
    let mut headlines = Vec::new();
    for (year, days, partial) in &years {
        let parts: Vec<String> = REPORT_METRICS
            .iter()
            .filter_map(|(m, said)| {
                find(year, *m).map(|r| {
                    format!(
                        "{} {said} (95% CI {} to {})",
                        prose_number(r.mean, 0),
                        // A count's interval is cut at 0, as the report's others are.
                        prose_number(r.low.max(super::data::metric_floor(*m)), 0),
                        prose_number(r.high, 0)
                    )
                })
            })
            .collect();
        let span = if *partial {
            format!("{year} ({days} days of it in the window)")
        } else {
            format!("{year} ({days} days)")
        };
        headlines.push(format!("In {span}: {}.", parts.join("; ")));
    }
    let mut blocks = vec![
        Block::Paragraph(format!(
            "The window is longer than a year, so each metric is also given per planning year: \
             the UK financial years (1 April to 31 March) it crosses, the first and last cut to \
             the window (a partial year's counts cover only its days). Each year's figures are \
             those of a run whose statistics window is that year: the mean of {replications} \
             replications with the 95% confidence interval of that mean. Every metric by year \
             is in yearly.csv; the charts above show the daily series over the whole window."
        )),
        Block::Headlines(headlines),
    ];
    for (metric, file, title) in [
        (
            Metric::Admissions,
            "yearly-admissions.svg",
            "Emergency admissions by planning year",
        ),
        (
            Metric::DelayedBedDays,
            "yearly-delayed-bed-days.svg",
            "Delayed bed days by planning year",
        ),
    ] {
        let estimates: Vec<Estimate> = years
            .iter()
            .filter_map(|(year, _, partial)| {
                find(year, metric).map(|r| Estimate {
                    label: if *partial {
                        format!("{year} (part)")
                    } else {
                        year.to_string()
                    },
                    mean: r.mean,
                    low: r.low.max(0.0),
                    high: r.high,
                })
            })
            .collect();
        let caption = format!(
            "Mean of {replications} replications per planning year, with the 95% confidence \
             interval of the mean; a year marked (part) covers only its days inside the window."
        );
        let svg = interval_bars(&IntervalBars {
            title,
            x_label: "Planning year (UK financial year)",
            y_label: metric.unit(),
            caption: &caption,
            bar_legend: "Mean over replications",
            interval_legend: "95% confidence interval of the mean",
            estimates: &estimates,
        })?;
        blocks.push(Block::Chart(Chart {
            file: file.into(),
            title: title.into(),
            caption,
            svg,
        }));
    }
    Ok(Some(Section {
        id: "years".into(),
        title: "Results by year".into(),
        blocks,
    }))
}

/// A comparison's effects by planning year.
pub const YEARLY_COMPARISON_FILE: &str = "yearly_comparison.csv";
/// Header of `yearly_comparison.csv`: the columns of `comparison.csv` with
/// the planning year after the plan.
pub const YEARLY_COMPARISON_HEADER: &str = "plan,year,first_date,last_date,days,partial,metric,unit,\
baseline_mean,plan_mean,diff_mean,diff_ci95_low,diff_ci95_high,n";

/// One metric of one plan in one planning year: paired differences (plan
/// minus baseline) of the year's values, replication by replication.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct YearEffect {
    /// Index of the planning year.
    pub year: usize,
    /// The metric.
    pub metric: Metric,
    /// Mean of the baseline's values.
    pub baseline_mean: f64,
    /// Mean of the plan's values.
    pub plan_mean: f64,
    /// The paired differences.
    pub diff: Summary,
}

/// Every metric of `plan` against `baseline` in each planning year (the
/// two already paired by replication, as `compare_results` checks).
pub fn year_effects(
    years: &[PlanningYear],
    baseline: &[ReplicationResult],
    plan: &[ReplicationResult],
) -> Vec<YearEffect> {
    let mut out = Vec::new();
    for k in 0..years.len() {
        for &m in &Metric::ALL {
            let value = |r: &ReplicationResult| r.yearly.get(k).map_or(f64::NAN, |y| y[m]);
            let a: Vec<f64> = baseline.iter().map(value).collect();
            let b: Vec<f64> = plan.iter().map(value).collect();
            out.push(YearEffect {
                year: k,
                metric: m,
                baseline_mean: summarise(&a).mean,
                plan_mean: summarise(&b).mean,
                diff: crate::stats::paired_differences(&a, &b),
            });
        }
    }
    out
}

/// The text of `yearly_comparison.csv`: plan-major, then year, then metric.
pub fn render_yearly_comparison_csv(
    years: &[PlanningYear],
    plans: &[(&str, Vec<YearEffect>)],
) -> String {
    let mut out = format!("{YEARLY_COMPARISON_HEADER}\n");
    for (name, effects) in plans {
        for e in effects {
            let y = &years[e.year];
            push_record(
                &mut out,
                &[
                    text_cell(name),
                    text_cell(&y.label),
                    text_cell(&y.first_date.to_string()),
                    text_cell(&y.last_date.to_string()),
                    number_cell(y.days()),
                    text_cell(if y.partial { "true" } else { "false" }),
                    text_cell(e.metric.name()),
                    text_cell(e.metric.unit()),
                    number_cell(e.baseline_mean),
                    number_cell(e.plan_mean),
                    number_cell(e.diff.mean),
                    number_cell(e.diff.ci95_low),
                    number_cell(e.diff.ci95_high),
                    e.diff.n.to_string(),
                ],
            );
        }
    }
    out
}

/// A plan's effect on admissions and delayed bed days by year, in a
/// sentence each in plain words, as a plan's headline sentence says it
/// ("second-car, emergency admissions: 120 avoided in 2026/27 (95% CI 100
/// to 140), no clear change in 2027/28 (...), 30 more in ..."), from the
/// text of `yearly_comparison.csv`.
pub fn effect_sentences(yearly_comparison_csv: &str) -> Vec<String> {
    use super::prose::{Finding, effect_exponent, prose_number, unclear_change};
    let mut by_plan: Vec<(String, Vec<Vec<String>>)> = Vec::new();
    for line in yearly_comparison_csv.lines().skip(1) {
        let c: Vec<String> = line.split(',').map(str::to_string).collect();
        if c.len() != 14 {
            continue;
        }
        match by_plan.last_mut() {
            Some((name, rows)) if *name == c[0] => rows.push(c),
            _ => by_plan.push((c[0].clone(), vec![c])),
        }
    }
    let mut out = Vec::new();
    for (plan, rows) in &by_plan {
        for (metric, fewer, noun) in [
            (Metric::Admissions, "avoided", "emergency admissions"),
            (Metric::DelayedBedDays, "saved", "delayed bed days"),
        ] {
            let parts: Vec<String> = rows
                .iter()
                .filter(|c| c[6] == metric.name())
                .map(|c| {
                    let num = |s: &str| s.parse::<f64>().unwrap_or(f64::NAN);
                    // Plan minus baseline, as yearly_comparison.csv has it;
                    // the words carry the sign (no negative numbers).
                    let (d, lo, hi) = (num(&c[10]), num(&c[11]), num(&c[12]));
                    let part = if c[5] == "true" {
                        " (part of the year)"
                    } else {
                        ""
                    };
                    let year = format!("in {}{part}", c[1]);
                    let e = effect_exponent(d, lo, hi);
                    let size = |x: f64| prose_number(x.abs(), e);
                    // ` (95% CI a to b{unit})` from `a` to `b`, or nothing.
                    let ci = |a: f64, b: f64, unit: &str| {
                        if lo.is_finite() && hi.is_finite() {
                            format!(" (95% CI {} to {}{unit})", size(a), size(b))
                        } else {
                            String::new()
                        }
                    };
                    match Finding::of(d, lo, hi) {
                        Finding::Undefined => format!("no figure {year}"),
                        Finding::None | Finding::NoInterval(None) => format!("no change {year}"),
                        Finding::Unclear => unclear_change(&year, d, lo, hi, e),
                        Finding::Down | Finding::NoInterval(Some(false)) => {
                            format!("{} {fewer} {year}{}", size(d), ci(hi, lo, ""))
                        }
                        Finding::Up | Finding::NoInterval(Some(true)) => {
                            format!("{} more {year}{}", size(d), ci(lo, hi, " more"))
                        }
                    }
                })
                .collect();
            if !parts.is_empty() {
                out.push(format!("{plan}, {noun}: {}.", parts.join(", ")));
            }
        }
    }
    out
}

/// The comparison report's section "Effects by year", from the text of
/// `yearly_comparison.csv` (`None` without one).
pub fn comparison_section(yearly_comparison_csv: Option<&str>) -> Option<super::document::Section> {
    use super::document::{Block, Section};
    let sentences = effect_sentences(yearly_comparison_csv?);
    if sentences.is_empty() {
        return None;
    }
    Some(Section {
        id: "years".into(),
        title: "Effects by year".into(),
        blocks: vec![
            Block::Paragraph(
                "The window is longer than a year, so each plan's effect is also given per \
                 planning year (UK financial year, 1 April to 31 March; the first and last cut \
                 to the window): the mean of the paired differences with its 95% confidence \
                 interval, in the words of the headline sentences (\"avoided\" and \"saved\" \
                 only when the interval lies wholly on that side). Every metric by year is in \
                 yearly_comparison.csv."
                    .into(),
            ),
            Block::Headlines(sentences),
        ],
    })
}

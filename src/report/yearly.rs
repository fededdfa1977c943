//! Results by planning year (`docs/model.md`, "Results by year"):
//! `yearly.csv` of a run whose window is longer than 365 days, and a
//! shard's `yearly_replications.csv`, from which `merge` rebuilds it.

use std::collections::BTreeMap;

use super::cells::push_record;
use super::{RunManifest, number_cell, text_cell};
use crate::model::metrics::{Metric, Metrics, ReplicationResult};
use crate::model::years::{PlanningYear, planning_years};
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
            push_record(
                &mut out,
                &[
                    text_cell(&year.label),
                    text_cell(&year.first_date.to_string()),
                    text_cell(&year.last_date.to_string()),
                    number_cell(year.days()),
                    text_cell(if year.partial { "true" } else { "false" }),
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
                ],
            );
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

//! The run report's section "Does the baseline reproduce what it cites?":
//! each target of the scenario's `[[calibration]]` table against the
//! model's value, from the saved outputs alone (`run.json` holds the table
//! in its resolved scenario, `replications.csv` the values).

use super::facts::{CalibrationRecord as Target, Divisor};
use crate::model::metrics::Metric;
use crate::stats::summarise;

use super::data::RunData;
use super::document::{Block, Section, Table};
use super::prose::{precision_exponent, prose_count, prose_number};
use super::{DOES_NOT_SETTLE, unsettled};

/// One target against the model: the mean and 95% CI over replications of
/// the per-replication quantity, `n` the replications where it is defined.
#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    /// The target checked.
    pub target: Target,
    /// The quantity's mean over replications.
    pub mean: f64,
    /// Its 95% confidence interval: lower end.
    pub ci95_low: f64,
    /// Upper end.
    pub ci95_high: f64,
    /// Replications where the quantity is defined.
    pub n: usize,
    /// The mean lies within the tolerance.
    pub within: bool,
    /// A metric it reads measures a queue that does not settle.
    pub unsettled: bool,
    /// With uncertain values: the plausible range of the quantity (10th
    /// and 90th percentiles across replications, each drawing its own
    /// values), `None` otherwise.
    pub plausible: Option<(f64, f64)>,
}

impl Check {
    /// Whether the published figure lies inside the plausible range.
    pub fn target_plausible(&self) -> Option<bool> {
        self.plausible
            .map(|(lo, hi)| lo <= self.target.target && self.target.target <= hi)
    }
}

/// Every target of the run's calibration table, checked, in table order.
pub fn checks(data: &RunData) -> Vec<Check> {
    let window_days = data.manifest.horizon_hours / 24.0;
    let reps = data
        .replication_values
        .first()
        .map_or(0, |(_, values)| values.len());
    let uncertain = super::uncertainty::uncertainty_of(&data.manifest).is_some();
    data.scenario
        .calibration
        .iter()
        .map(|t| {
            let value_of = |m: Metric, r: usize| {
                data.replication_values
                    .iter()
                    .find(|(metric, _)| *metric == m)
                    .and_then(|(_, v)| v.get(r).copied())
                    .unwrap_or(f64::NAN)
            };
            let values: Vec<f64> = (0..reps)
                .map(|r| t.value(|m| value_of(m, r), window_days).unwrap_or(f64::NAN))
                .collect();
            let s = summarise(&values);
            let mut defined: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
            let plausible = (uncertain && !defined.is_empty()).then(|| {
                (
                    crate::stats::percentile_r7_unsorted(&mut defined, 0.10),
                    crate::stats::percentile_r7_unsorted(&mut defined, 0.90),
                )
            });
            Check {
                plausible,
                target: t.clone(),
                mean: s.mean,
                ci95_low: s.ci95_low,
                ci95_high: s.ci95_high,
                n: s.n,
                within: s.n > 0 && t.within(s.mean),
                unsettled: t
                    .metrics()
                    .iter()
                    .any(|m| unsettled(&data.manifest.warnings, *m)),
            }
        })
        .collect()
}

/// A value at the precision of its interval, and at least that of the
/// target and tolerance as written.
fn shown(c: &Check, x: f64) -> String {
    let e = precision_exponent(c.mean, (c.ci95_high - c.ci95_low) / 2.0)
        .min(written_exponent(&c.target));
    prose_number(x, e)
}

/// The finest decimal place the target and its tolerance are written to
/// (at most 4 decimals).
fn written_exponent(t: &Target) -> i32 {
    [t.target, t.low, t.high]
        .iter()
        .map(|v| {
            (0..=4)
                .find(|d| {
                    let scaled = v * 10f64.powi(*d);
                    (scaled - scaled.round()).abs() < 1e-9 * scaled.abs().max(1.0)
                })
                .map_or(-4, |d| -d)
        })
        .min()
        .unwrap_or(0)
}

fn written(t: &Target, x: f64) -> String {
    prose_number(x, written_exponent(t))
}

/// The section, or `None` when the scenario has no calibration table.
pub fn calibration_section(data: &RunData) -> Option<Section> {
    if data.scenario.calibration.is_empty() {
        return None;
    }
    let checks = checks(data);
    let outside: Vec<&str> = checks
        .iter()
        .filter(|c| !c.within)
        .map(|c| c.target.name.as_str())
        .collect();
    let rows = checks
        .iter()
        .map(|c| {
            let mut row = vec![
                c.target.name.clone(),
                c.target.quantity.clone(),
                written(&c.target, c.target.target),
                format!(
                    "{} to {}",
                    written(&c.target, c.target.low),
                    written(&c.target, c.target.high)
                ),
                if c.n == 0 {
                    "undefined".to_string()
                } else {
                    shown(c, c.mean)
                },
                if c.unsettled {
                    DOES_NOT_SETTLE.to_string()
                } else if c.n < 2 {
                    "-".to_string()
                } else {
                    format!("{} to {}", shown(c, c.ci95_low), shown(c, c.ci95_high))
                },
                if c.within { "yes" } else { "no" }.to_string(),
                c.target.source.clone(),
            ];
            if let Some((lo, hi)) = c.plausible {
                row.insert(7, format!("{} to {}", shown(c, lo), shown(c, hi)));
                row.insert(
                    8,
                    if c.target_plausible() == Some(true) {
                        "yes"
                    } else {
                        "no"
                    }
                    .to_string(),
                );
            }
            row
        })
        .collect();
    let files = &data.manifest.scenario_files;
    let whose = if files.len() > 1 {
        format!(
            "The targets are those of the scenario's [[calibration]] table, which \u{201c}{}\u{201d} \
             may inherit through `extends` from {}; the figures are this scenario's own. For a plan \
             that changes a service, a figure outside its tolerance is an effect of the plan, not \
             a failure of the calibration: only the scenario that declares the table is held to it.",
            data.scenario.name,
            files[1..].join(", ")
        )
    } else {
        format!(
            "The targets are those of this scenario's [[calibration]] table; the figures are \
             \u{201c}{}\u{201d}'s own.",
            data.scenario.name
        )
    };
    let verdict = if outside.is_empty() {
        format!(
            "Every one of the {} figures is within its tolerance.",
            prose_count(checks.len() as u64)
        )
    } else {
        format!(
            "{} of {} figures {} outside {} tolerance: {}.",
            prose_count(outside.len() as u64),
            prose_count(checks.len() as u64),
            if outside.len() == 1 { "is" } else { "are" },
            if outside.len() == 1 { "its" } else { "their" },
            outside.join("; ")
        )
    };
    let mut header: Vec<String> = [
        "Published figure",
        "Model quantity",
        "Target",
        "Tolerance",
        "Model mean",
        "95% CI of the mean",
        "Within",
        "Source",
    ]
    .map(String::from)
    .to_vec();
    let mut numeric = vec![false, false, true, true, true, true, false, false];
    let uncertain = checks.iter().any(|c| c.plausible.is_some());
    if uncertain {
        header.insert(7, "Plausible range (10th to 90th percentile)".into());
        header.insert(8, "Target inside it".into());
        numeric.insert(7, true);
        numeric.insert(8, false);
    }
    let ratio = checks
        .iter()
        .any(|c| matches!(c.target.divisor, Divisor::Metric(..)));
    let mut how = format!(
        "Each figure the scenario is calibrated on, with the quantity of the model that should \
         reproduce it (metric names as in summary.csv; `/ day` divides by the window's length \
         in days, {}). \
         The model's value is the mean over {} replications with the 95% confidence interval of \
         that mean (Student t); a figure is within its tolerance when the mean is.",
        prose_count((data.manifest.horizon_hours / 24.0) as u64),
        prose_count(u64::from(data.manifest.replications))
    );
    if uncertain {
        how.push_str(
            " With uncertain values each replication drew its own values: the plausible range \
             is where the quantity fell in 80% of them (10th to 90th percentile), and the last \
             column but one says whether the published figure lies inside it. Within its \
             tolerance is judged on the mean, as without uncertain values.",
        );
    }
    if ratio {
        how.push_str(
            " A ratio of two metrics is computed in each replication, and its mean and \
             t-interval are those of the per-replication ratios (a replication where the divisor \
             is 0 is left out).",
        );
    }
    Some(Section {
        id: "calibration".into(),
        title: "Does the baseline reproduce what it cites?".into(),
        blocks: vec![
            Block::Paragraph(how),
            Block::Paragraph(whose),
            Block::Paragraph(verdict),
            Block::Table(Table {
                header,
                rows,
                numeric,
            }),
        ],
    })
}

//! Paired comparisons of a plan with its baseline (common random numbers).
//!
//! Both scenarios run with the same seed and replication indices, so
//! replication `r` of each sees the same patients with the same needs, and
//! the difference `plan[r] - baseline[r]` is the effect of the plan with
//! most of the noise cancelled (`docs/model.md`, "Metrics").

use crate::model::metrics::{Metric, ReplicationResult};
use crate::report::ComparisonRow;
use crate::scenario::Scenario;
use crate::stats::{paired_differences, summarise};

/// The keys that decide what a replication measures rather than the system
/// it measures: the calendar the run starts on, the warm-up it discards and
/// the statistics window it counts over. Every scenario of a comparison or
/// sweep must agree on them (as on the seed and replications, which
/// `compare` imposes and `sweep` refuses to vary): a paired difference of
/// a 30-day and a 365-day window is the length of the window, not the
/// effect of a plan. Everything else (capacities, demand, opening hours,
/// lengths of stay, ...) is what a plan may change.
pub const PAIRING_KEYS: [&str; 3] = [
    "scenario.start_date",
    "scenario.warm_up",
    "scenario.horizon",
];

/// A key of [`PAIRING_KEYS`] on which a plan differs from its baseline,
/// with both values as a scenario file writes them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unpaired {
    /// The key, such as `scenario.seed`.
    pub key: &'static str,
    /// Its value in the baseline.
    pub baseline: String,
    /// Its value in the plan.
    pub plan: String,
}

/// A duration in hours as a scenario file writes it (`30d`, `36h`).
fn duration_text(hours: f64) -> String {
    let days = hours / 24.0;
    if days.fract() == 0.0 {
        format!("{days}d")
    } else {
        format!("{hours}h")
    }
}

/// The first key of [`PAIRING_KEYS`] on which `plan` differs from
/// `baseline`, if any.
pub fn unpaired(baseline: &Scenario, plan: &Scenario) -> Option<Unpaired> {
    let of = |s: &Scenario| (s.start_date.to_string(), s.warm_up_hours, s.horizon_hours);
    unpaired_values(of(baseline), of(plan))
}

/// As [`unpaired`], from the start date (ISO), warm-up and horizon (hours)
/// of each, as a run's manifest records them.
pub fn unpaired_values(baseline: (String, f64, f64), plan: (String, f64, f64)) -> Option<Unpaired> {
    let pairs: [(&'static str, String, String); 3] = [
        (PAIRING_KEYS[0], baseline.0, plan.0),
        (
            PAIRING_KEYS[1],
            duration_text(baseline.1),
            duration_text(plan.1),
        ),
        (
            PAIRING_KEYS[2],
            duration_text(baseline.2),
            duration_text(plan.2),
        ),
    ];
    pairs
        .into_iter()
        .find(|(_, b, p)| b != p)
        .map(|(key, baseline, plan)| Unpaired {
            key,
            baseline,
            plan,
        })
}

impl Unpaired {
    /// The refusal, for the plan read from `plan_file`.
    pub fn message(&self, plan_file: &str, baseline_file: &str) -> String {
        format!(
            "error: {plan_file}: key `{}`: this plan has {} but the baseline {baseline_file} has \
             {}; a paired comparison needs the same start date, warm-up and horizon in every \
             scenario (they decide what a replication measures, so the difference would not be \
             the plan's effect): give the plan the baseline's value, or set it for every \
             scenario with --set {}=...",
            self.key, self.plan, self.baseline, self.key
        )
    }
}

/// Errors pairing two sets of results.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "cannot pair the results: replication {baseline:?} of the baseline against {plan:?} of the plan"
)]
pub struct PairingError {
    /// The baseline's replication index at the first mismatch (`None`: it has
    /// no more).
    pub baseline: Option<u32>,
    /// The plan's replication index there (`None`: it has no more).
    pub plan: Option<u32>,
}

/// Every metric of `plan` against `baseline`, in [`Metric::ALL`] order.
///
/// The two must hold the same replications in the same order (they are
/// paired by replication index); anything else is an error rather than a
/// silently unpaired comparison.
pub fn compare_results(
    baseline: &[ReplicationResult],
    plan: &[ReplicationResult],
) -> Result<Vec<ComparisonRow>, PairingError> {
    let len = baseline.len().max(plan.len());
    for i in 0..len {
        let (b, p) = (
            baseline.get(i).map(|r| r.replication),
            plan.get(i).map(|r| r.replication),
        );
        if b != p || b.is_none() {
            return Err(PairingError {
                baseline: b,
                plan: p,
            });
        }
    }
    Ok(Metric::ALL
        .iter()
        .map(|&m| {
            let a: Vec<f64> = baseline.iter().map(|r| r.metrics[m]).collect();
            let b: Vec<f64> = plan.iter().map(|r| r.metrics[m]).collect();
            ComparisonRow {
                metric: m,
                baseline: summarise(&a),
                plan: summarise(&b),
                diff: paired_differences(&a, &b),
            }
        })
        .collect())
}

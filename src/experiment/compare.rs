//! Paired comparisons of a plan with its baseline (common random numbers).
//!
//! Both scenarios run with the same seed and replication indices, so
//! replication `r` of each sees the same patients with the same needs, and
//! the difference `plan[r] - baseline[r]` is the effect of the plan with
//! most of the noise cancelled (`docs/model.md`, "Metrics").

use crate::model::metrics::{Metric, ReplicationResult};
use crate::stats::{Summary, paired_differences, summarise};

/// A headline of a comparison, named in plain words for a board paper.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Headline {
    /// What the row is called in the printed table.
    pub label: &'static str,
    pub metric: Metric,
    /// `-1` when the headline is "baseline minus plan" (admissions
    /// avoided, bed days saved: positive is good), `+1` when it is a change
    /// (plan minus baseline).
    pub sign: f64,
}

/// The headlines of a comparison, in display order. They are also the
/// metrics whose precision `--precision` controls.
pub const HEADLINES: [Headline; 5] = [
    Headline {
        label: "admissions avoided",
        metric: Metric::Admissions,
        sign: -1.0,
    },
    Headline {
        label: "delayed bed days saved",
        metric: Metric::DelayedBedDays,
        sign: -1.0,
    },
    Headline {
        label: "decision-to-admit waits over 12 hours avoided",
        metric: Metric::BedWaitsOver12h,
        sign: -1.0,
    },
    Headline {
        label: "bed occupancy change",
        metric: Metric::BedOccupancyMean,
        sign: 1.0,
    },
    Headline {
        label: "community wait change",
        metric: Metric::CommunityWaitingMean,
        sign: 1.0,
    },
];

/// One metric of a plan against its baseline.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ComparisonRow {
    pub metric: Metric,
    /// The baseline's values over replications.
    pub baseline: Summary,
    /// The plan's values over replications.
    pub plan: Summary,
    /// The paired differences, plan minus baseline, replication by
    /// replication.
    pub diff: Summary,
}

/// Errors pairing two sets of results.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "cannot pair the results: replication {baseline:?} of the baseline against {plan:?} of the plan"
)]
pub struct PairingError {
    pub baseline: Option<u32>,
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

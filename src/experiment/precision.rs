//! Replication control: add replications until the confidence intervals
//! are narrow enough.
//!
//! The sequential procedure of Hoad, Robinson and Davies (2010, "Automated
//! selection of the number of replications for a discrete-event
//! simulation", JORS 61(11)): the smallest `N` at which the 95% CI
//! half-width of every checked mean is within a share `P` of the mean, and
//! stays so for a look-ahead of `k(N)` further replications (`k = 5` up to
//! `N = 100`, then `ceil(5 N / 100)`), so that a lucky narrow interval early
//! on does not stop the run. Replications are simulated in batches; the
//! kept results are always replications `0..N`, so a run that stops at `N`
//! is identical, byte for byte, to a fixed run of `N`.

use crate::model::headlines::COMPARISON;
use crate::model::metrics::{Metric, ReplicationResult};
use crate::report::PrecisionRecord;
use crate::stats::summarise;

/// The stopping rule.
#[derive(Clone, Debug, PartialEq)]
pub struct PrecisionRule {
    /// Target relative half-width (0.05: the 95% CI within ±5% of the mean).
    pub relative_half_width: f64,
    /// Replications simulated at a time (the first batch included).
    pub batch: u32,
    /// The most replications to run in all (`--max-replications`).
    pub max_replications: u32,
    /// The metrics whose means must reach the precision, in every scenario
    /// run; empty for the comparison headlines ([`default_metrics`]).
    pub metrics: Vec<Metric>,
}

impl PrecisionRule {
    /// The metrics checked.
    pub fn checked_metrics(&self) -> Vec<Metric> {
        if self.metrics.is_empty() {
            default_metrics()
        } else {
            self.metrics.clone()
        }
    }
}

/// Fewest replications at which the rule is checked (Hoad et al. start at 3).
pub const MIN_REPLICATIONS: usize = 3;

/// Look-ahead after a candidate `n` (Hoad et al.'s `kLimit`).
pub fn look_ahead(n: usize) -> usize {
    if n <= 100 { 5 } else { (5 * n).div_ceil(100) }
}

/// The metrics checked by default: the comparison headlines (the mental
/// health ones left out: out-of-area placements are rare events whose
/// precision would set the replications of every run).
pub fn default_metrics() -> Vec<Metric> {
    COMPARISON
        .iter()
        .filter(|h| !h.effect.mental_health)
        .map(|h| h.metric)
        .collect()
}

/// The worst relative half-width over `arms` and `metrics`, using
/// the first `n` results of each arm. A mean of 0 with a zero-width
/// interval counts as 0 (nothing to estimate); an undefined interval as
/// infinite.
pub fn worst_relative_half_width(
    arms: &[Vec<ReplicationResult>],
    metrics: &[Metric],
    n: usize,
) -> f64 {
    let mut worst: f64 = 0.0;
    for results in arms {
        for &m in metrics {
            let values: Vec<f64> = results[..n].iter().map(|r| r.metrics[m]).collect();
            let s = summarise(&values);
            let half = (s.ci95_high - s.ci95_low) / 2.0;
            let rel = if half == 0.0 {
                0.0
            } else if half.is_finite() && s.mean != 0.0 {
                half / s.mean.abs()
            } else {
                f64::INFINITY
            };
            worst = worst.max(rel);
        }
    }
    worst
}

/// The half-width of the distribution-free 95% CI of the `p`-quantile of
/// `sorted` (n values): half the distance between the order statistics of
/// ranks n p -/+ 1.96 sqrt(n p (1 - p)); infinite when those ranks fall
/// outside 1..n (too few values).
pub fn quantile_half_width(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len() as f64;
    let h = 1.96 * (n * p * (1.0 - p)).sqrt();
    let (lo, hi) = ((n * p - h).floor(), (n * p + h).ceil());
    if lo < 1.0 || hi > n {
        return f64::INFINITY;
    }
    (sorted[hi as usize - 1] - sorted[lo as usize - 1]) / 2.0
}

/// The fewest replications whose order statistics bound the 95% CI of both
/// ends of a plausible range ([`quantile_half_width`] finite at 0.1 and
/// 0.9): 53.
pub fn fewest_bounding_a_range() -> usize {
    (1..)
        .find(|&n| {
            let zeros = vec![0.0; n];
            [0.10, 0.90]
                .iter()
                .all(|&p| quantile_half_width(&zeros, p).is_finite())
        })
        .unwrap_or(usize::MAX)
}

/// With uncertain values: the worst half-width of the 95% CI of a
/// plausible range's end (10th or 90th percentile) as a share of the
/// range's width, over `metrics` of the first arm and of each later arm's
/// paired effect (arm minus the first), using the first `n` results. A
/// range of zero width with exact ends counts as 0.
pub fn worst_range_half_width(
    arms: &[Vec<ReplicationResult>],
    metrics: &[Metric],
    n: usize,
) -> f64 {
    let mut worst: f64 = 0.0;
    for (k, results) in arms.iter().enumerate() {
        for &m in metrics {
            let mut values: Vec<f64> = (0..n)
                .map(|i| {
                    let v = results[i].metrics[m];
                    if k == 0 { v } else { v - arms[0][i].metrics[m] }
                })
                .collect();
            values.sort_by(f64::total_cmp);
            let p10 = crate::stats::percentile_r7(&values, 0.10);
            let p90 = crate::stats::percentile_r7(&values, 0.90);
            let width = p90 - p10;
            for p in [0.10, 0.90] {
                let half = quantile_half_width(&values, p);
                let rel = if half == 0.0 {
                    0.0
                } else if width > 0.0 && half.is_finite() {
                    half / width
                } else {
                    f64::INFINITY
                };
                worst = worst.max(rel);
            }
        }
    }
    worst
}

/// Runs batches through `simulate(arm, replications)` until the rule
/// stops, and returns each arm's results for replications `0..N` and the
/// record of how `N` was chosen. With `ranges` (a scenario with uncertain
/// values) the ends of the plausible ranges must also reach the precision
/// ([`worst_range_half_width`] within the target).
pub fn run_to_precision<E>(
    arms: usize,
    rule: &PrecisionRule,
    ranges: bool,
    mut simulate: impl FnMut(usize, &[u32]) -> Result<Vec<ReplicationResult>, E>,
) -> Result<(Vec<Vec<ReplicationResult>>, PrecisionRecord), E> {
    let batch = rule.batch.max(1);
    let max = rule.max_replications.max(1);
    let target = rule.relative_half_width;
    let metrics = rule.checked_metrics();
    let mut results: Vec<Vec<ReplicationResult>> = vec![Vec::new(); arms];
    // `met[n]`: the rule holds with the first n replications (cached: a
    // prefix's results never change).
    let mut met: Vec<bool> = Vec::new();
    let mut done: u32 = 0;
    loop {
        let next = done.saturating_add(batch).min(max);
        let indices: Vec<u32> = (done..next).collect();
        for (arm, r) in results.iter_mut().enumerate() {
            r.extend(simulate(arm, &indices)?);
        }
        done = next;
        let d = done as usize;
        while met.len() <= d {
            let n = met.len();
            met.push(
                n >= MIN_REPLICATIONS
                    && worst_relative_half_width(&results, &metrics, n) <= target
                    && (!ranges || worst_range_half_width(&results, &metrics, n) <= target),
            );
        }
        let stop = (MIN_REPLICATIONS..=d).find(|&n| {
            let end = n + look_ahead(n);
            end <= d && (n..=end).all(|k| met[k])
        });
        let (used, reason) = match stop {
            Some(n) => (n, "reached the precision"),
            None if done >= max => (d, "hit the maximum number of replications"),
            None => continue,
        };
        for r in &mut results {
            r.truncate(used);
        }
        let record = PrecisionRecord {
            target_relative_half_width: target,
            batch,
            max_replications: max,
            replications_used: used as u32,
            replications_simulated: done,
            stopped_because: reason.to_string(),
            metrics: metrics.iter().map(|m| m.name().to_string()).collect(),
            worst_relative_half_width: worst_relative_half_width(&results, &metrics, used),
            worst_range_half_width: ranges
                .then(|| worst_range_half_width(&results, &metrics, used)),
        };
        return Ok((results, record));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifty_three_replications_bound_a_plausible_range() {
        assert_eq!(fewest_bounding_a_range(), 53);
    }

    #[test]
    fn quantile_half_width_from_order_statistics() {
        // n = 100, p = 0.1: ranks 10 -/+ 1.96 x 3 = 4.12 and 15.88, so the
        // 4th and 16th values; too few values give no interval.
        let sorted: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile_half_width(&sorted, 0.10), (16.0 - 4.0) / 2.0);
        assert_eq!(quantile_half_width(&sorted, 0.90), (97.0 - 85.0) / 2.0);
        assert!(quantile_half_width(&sorted[..10], 0.10).is_infinite());
    }
}

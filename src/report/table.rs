//! The terminal summary of a run: headline metrics, mean and 95% CI.

use crate::model::headlines::summary_metrics;
use crate::model::metrics::{Metric, ReplicationResult};
use crate::stats::Summary;

use super::text_table::{Align, TextTable};
use super::{TERMINAL_MARK, Warning, summarise_metrics};

/// A fixed-width table of the headline metrics (those of
/// [`HEADLINES`](crate::model::headlines::HEADLINES) marked `summary`): metric, unit, mean and the
/// 95% confidence interval of the mean, with a footer saying what the
/// interval is (a board paper must not present it as a range of outcomes).
///
/// An interval reaching below zero starts at 0: no metric can be negative.
///
/// Rounding: the mean and both ends of its interval share one number of
/// decimals, enough for 3 significant figures of the mean and 2 of the
/// interval's half-width (at most 6), so `1234` is shown as a whole number
/// and `0.0123` keeps its digits. Undefined values show as `n/a`.
///
/// A metric that one of `warnings` says does not settle shows that, marked,
/// instead of its interval, and the warnings follow the table.
pub fn format_summary_table(results: &[ReplicationResult], warnings: &[Warning]) -> String {
    let n_reps = results.len();
    if n_reps == 0 {
        return "No replications: nothing to summarise.\n".to_string();
    }
    let all = summarise_metrics(results);

    let mut table = TextTable::new(&[
        ("metric", Align::Left),
        ("unit", Align::Left),
        ("mean", Align::Right),
        ("95% CI of mean", Align::Right),
    ]);
    for m in summary_metrics() {
        let mut row = row(m, &all[m.index()].1, n_reps);
        if super::unsettled(warnings, m) {
            row[3] = format!("{TERMINAL_MARK} does not settle");
        }
        table.push(row);
    }
    let mut out = table.render();
    let plural = if n_reps == 1 { "" } else { "s" };
    out.push_str(&format!(
        "95% CI: confidence interval of the mean over {n_reps} replication{plural} \
         (Student t), not a range of outcomes.\n"
    ));
    if n_reps == 1 {
        out.push_str("One replication gives no interval; run more replications.\n");
    }
    out.push_str("Ranges of outcomes (p5-p95 across replications) are in summary.csv.\n");
    out.push_str(&super::terminal_notes(&warnings.iter().collect::<Vec<_>>()));
    out
}

fn row(m: Metric, s: &Summary, n_reps: usize) -> [String; 4] {
    let half = (s.ci95_high - s.ci95_low) / 2.0;
    let d = decimals(s.mean, 3).max(decimals(half, 2));
    let mean = fixed(s.mean, d);
    let mut ci = if s.ci95_low.is_finite() && s.ci95_high.is_finite() {
        // No metric is negative: an interval reaching below zero is shown
        // from 0 (summary.csv keeps the t-interval as computed).
        let low = s.ci95_low.max(0.0);
        format!("{} to {}", fixed(low, d), fixed(s.ci95_high, d))
    } else {
        "n/a".to_string()
    };
    if s.n != n_reps {
        // Some replications had no defined value: say so.
        ci.push_str(&format!(" (n={})", s.n));
    }
    [m.name().to_string(), m.unit().to_string(), mean, ci]
}

/// Decimals needed to show `sig` significant figures of `x` (0 to 6).
pub(super) fn decimals(x: f64, sig: i32) -> usize {
    if !x.is_finite() || x == 0.0 {
        return 0;
    }
    let magnitude = x.abs().log10().floor() as i32;
    (sig - 1 - magnitude).clamp(0, 6) as usize
}

/// `x` with `d` decimals; `n/a` when undefined; never `-0` or `-0.00`.
pub(super) fn fixed(x: f64, d: usize) -> String {
    if !x.is_finite() {
        return "n/a".to_string();
    }
    let s = format!("{x:.d$}");
    match s.strip_prefix('-') {
        Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_string(),
        _ => s,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn an_interval_reaching_below_zero_starts_at_zero() {
        // Mostly zeros: the t-interval of the mean reaches below zero.
        let s = crate::stats::summarise(&[0.0, 0.0, 0.0, 0.0, 1.3]);
        assert!(s.ci95_low < 0.0);
        let [_, _, mean, ci] = row(Metric::DelayedBedDaysP3, &s, 5);
        assert_eq!(mean, "0.260");
        assert!(ci.starts_with("0.000 to "), "{ci}");
    }

    /// The cells of column `col` in the rows between the two rules.
    pub(crate) fn column_of(table: &str, col: usize) -> Vec<String> {
        table
            .lines()
            .skip_while(|l| !l.starts_with("---"))
            .skip(1)
            .take_while(|l| !l.starts_with("---"))
            .map(|l| {
                l.split("  ")
                    .filter(|c| !c.is_empty())
                    .nth(col)
                    .unwrap_or("")
                    .trim()
                    .to_string()
            })
            .collect()
    }

    #[test]
    fn the_summary_shows_exactly_the_summary_headlines() {
        let results: Vec<ReplicationResult> = (0..3)
            .map(|r| ReplicationResult {
                replication: r,
                metrics: crate::model::metrics::Metrics(
                    [f64::from(r); crate::model::metrics::METRIC_COUNT],
                ),
                daily: Default::default(),
                events: 0,
                yearly: Vec::new(),
                overloaded: Vec::new(),
                kept: None,
            })
            .collect();
        let shown = column_of(&format_summary_table(&results, &[]), 0);
        let expected: Vec<String> = crate::model::headlines::HEADLINES
            .iter()
            .filter(|h| h.summary)
            .map(|h| h.metric.name().to_string())
            .collect();
        assert_eq!(shown, expected);
    }

    #[test]
    fn rounding() {
        assert_eq!(decimals(1234.5, 3), 0);
        assert_eq!(decimals(12.345, 3), 1);
        assert_eq!(decimals(0.0123, 3), 4);
        assert_eq!(decimals(1e-12, 3), 6);
        assert_eq!(fixed(1234.4, 0), "1234");
        assert_eq!(fixed(-0.0004, 2), "0.00");
        assert_eq!(fixed(-1.5, 1), "-1.5");
        assert_eq!(fixed(f64::NAN, 2), "n/a");
    }
}

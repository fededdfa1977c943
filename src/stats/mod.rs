//! Statistics across replications (`docs/model.md`, "Metrics").
//!
//! Every percentile is R-7, the definition Excel uses for `PERCENTILE.INC`,
//! so a planner who recomputes a cell from `replications.csv` in Excel gets
//! the same number. Every sum runs in slice order, so the same inputs give
//! the same bits whatever the thread count that produced them.
//!
//! Missing values: a mean wait over no waits is 0 (`docs/model.md`), but a
//! metric may be undefined (`delayed_per_100k_adults` without a population),
//! and so may a paired difference or a value read back from a file. [`summarise`] ignores
//! non-finite values and reports how many it used in [`Summary::n`], so an
//! undefined value neither poisons the mean nor silently counts as zero.

use statrs::distribution::{ContinuousCDF, StudentsT};

pub mod sensitivity;
pub mod warmup;

pub use warmup::{MserResult, mser, welch_moving_average};

/// R-7 percentile (Excel `PERCENTILE.INC`) of an ascending slice.
///
/// With `n` values and `h = (n - 1) p`, the result interpolates linearly
/// between the values at positions `floor(h)` and `floor(h) + 1` (0-based).
///
/// Returns NaN when `sorted` is empty, or when `p` is NaN or outside
/// `[0, 1]`: there is no percentile to report, and NaN becomes an empty
/// cell in every writer. The slice must already be sorted ascending; this is
/// not checked, because callers sort once and ask for several percentiles.
pub fn percentile_r7(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    if n == 0 || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    let h = (n - 1) as f64 * p;
    let lo = h.floor();
    let i = lo as usize;
    let frac = h - lo;
    if i + 1 >= n || frac == 0.0 {
        // Exactly on a value: return it as is (no `x + 0 * (y - x)`, which
        // would give NaN next to an infinity).
        return sorted[i.min(n - 1)];
    }
    sorted[i] + frac * (sorted[i + 1] - sorted[i])
}

/// [`percentile_r7`] of values in any order, by selection (O(n) on average)
/// rather than a full sort; reorders `values`. NaN for no values.
pub fn percentile_r7_unsorted(values: &mut [f64], p: f64) -> f64 {
    let n = values.len();
    if n == 0 || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    let h = (n - 1) as f64 * p;
    let i = h.floor() as usize;
    let (_, &mut lo, above) = values.select_nth_unstable_by(i, f64::total_cmp);
    let frac = h - i as f64;
    if frac == 0.0 || above.is_empty() {
        return lo;
    }
    // The next order statistic is the smallest of those above the i-th.
    let hi = above.iter().copied().fold(f64::INFINITY, f64::min);
    lo + frac * (hi - lo)
}

/// Across-replication summary of one quantity.
///
/// Fields that cannot be computed are NaN: everything when `n == 0`; `sd`
/// and the confidence interval when `n == 1` (one value says nothing about
/// spread). Writers turn NaN into an empty cell.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    /// Arithmetic mean.
    pub mean: f64,
    /// Sample standard deviation (divisor `n - 1`).
    pub sd: f64,
    /// Lower end of the 95% confidence interval of the mean (Student t).
    /// This is about the mean, not a band in which outcomes fall.
    pub ci95_low: f64,
    /// Upper end of the 95% confidence interval of the mean.
    pub ci95_high: f64,
    /// 5th percentile of the values: a band of outcomes.
    pub p5: f64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// Number of finite values summarised.
    pub n: usize,
}

impl Summary {
    /// The summary of no values: every statistic NaN, `n == 0`.
    pub const EMPTY: Summary = Summary {
        mean: f64::NAN,
        sd: f64::NAN,
        ci95_low: f64::NAN,
        ci95_high: f64::NAN,
        p5: f64::NAN,
        p50: f64::NAN,
        p95: f64::NAN,
        n: 0,
    };
}

/// Two-sided 97.5% quantile of Student's t with `df` degrees of freedom: the
/// multiplier of the standard error in a 95% confidence interval.
///
/// NaN for `df == 0`.
pub fn t_975(df: usize) -> f64 {
    if df == 0 {
        return f64::NAN;
    }
    match StudentsT::new(0.0, 1.0, df as f64) {
        Ok(t) => t.inverse_cdf(0.975),
        Err(_) => f64::NAN,
    }
}

/// Mean, sd, 95% CI of the mean and R-7 percentiles of the finite values.
///
/// Non-finite values (NaN, ±inf) are left out and `n` counts the rest; see
/// the module documentation for why.
///
/// Accuracy: two passes (mean, then squared deviations) with the usual
/// correction term, which keeps the variance accurate when the mean is large
/// relative to the spread (bed occupancy of ~400 varying by ~2). When every
/// value is identical the mean is that value exactly and the sd is 0, rather
/// than a rounding residue like 1e-17 that would look odd in Excel.
pub fn summarise(values: &[f64]) -> Summary {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    let n = sorted.len();
    if n == 0 {
        return Summary::EMPTY;
    }

    // Mean and sd from the values in the caller's order (before sorting):
    // index order is the documented summation order.
    let (mean, sd) = mean_sd(&sorted);
    sorted.sort_by(f64::total_cmp);

    let (ci95_low, ci95_high) = if n >= 2 {
        if sd == 0.0 {
            (mean, mean)
        } else {
            let half = t_975(n - 1) * sd / (n as f64).sqrt();
            (mean - half, mean + half)
        }
    } else {
        (f64::NAN, f64::NAN)
    };

    Summary {
        mean,
        sd,
        ci95_low,
        ci95_high,
        p5: percentile_r7(&sorted, 0.05),
        p50: percentile_r7(&sorted, 0.50),
        p95: percentile_r7(&sorted, 0.95),
        n,
    }
}

/// Mean and sample sd of a non-empty slice of finite values, summed in
/// index order. The sd is NaN for a single value.
fn mean_sd(xs: &[f64]) -> (f64, f64) {
    let n = xs.len();
    let first = xs[0];
    if xs.iter().all(|&x| x == first) {
        let sd = if n >= 2 { 0.0 } else { f64::NAN };
        // `first + 0.0` turns -0.0 into 0.0: a mean of zeros is zero.
        return (first + 0.0, sd);
    }
    let nf = n as f64;
    let mut sum = 0.0;
    for &x in xs {
        sum += x;
    }
    let mean0 = sum / nf;
    let mut dev = 0.0;
    let mut sq = 0.0;
    for &x in xs {
        let d = x - mean0;
        dev += d;
        sq += d * d;
    }
    // Corrected two-pass: `dev` is the rounding error of the first pass.
    let mean = mean0 + dev / nf;
    let sd = if n >= 2 {
        ((sq - dev * dev / nf) / (nf - 1.0)).max(0.0).sqrt()
    } else {
        f64::NAN
    };
    (mean, sd)
}

/// Summary of the paired differences `b[i] - a[i]` (plan minus baseline when
/// `a` is the baseline), for two runs with the same seed and replications.
///
/// The slices should have the same length; if they do not, the extra
/// values of the longer one are ignored (and `n` shows how many pairs were
/// used). Pairs whose difference is not finite are left out, as in
/// [`summarise`].
pub fn paired_differences(a: &[f64], b: &[f64]) -> Summary {
    debug_assert_eq!(a.len(), b.len(), "paired samples of different lengths");
    let diffs: Vec<f64> = a.iter().zip(b).map(|(x, y)| y - x).collect();
    summarise(&diffs)
}

/// A 95% confidence interval for the difference of two means.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Difference {
    /// Mean of `b` minus mean of `a`.
    pub mean: f64,
    /// Half-width of the 95% interval: `mean ± half_width`.
    pub half_width: f64,
    /// Degrees of freedom of the t multiplier.
    pub df: f64,
    /// Estimated variance of `mean` (its squared standard error).
    pub variance: f64,
}

/// The 95% interval for `mean(b) - mean(a)` when `a` and `b` are
/// independent samples (different random numbers): Welch's t interval,
/// with the Welch-Satterthwaite degrees of freedom. This is what a
/// comparison would give without common random numbers; set against
/// [`paired_differences`] it shows what pairing gains.
///
/// Non-finite values are left out. NaN fields when either sample has fewer
/// than two values.
pub fn independent_difference(a: &[f64], b: &[f64]) -> Difference {
    let sa = summarise(a);
    let sb = summarise(b);
    let (na, nb) = (sa.n as f64, sb.n as f64);
    let va = sa.sd * sa.sd / na;
    let vb = sb.sd * sb.sd / nb;
    let variance = va + vb;
    let df = variance * variance / (va * va / (na - 1.0) + vb * vb / (nb - 1.0));
    let t = match StudentsT::new(0.0, 1.0, df) {
        Ok(t) if df.is_finite() => t.inverse_cdf(0.975),
        _ => f64::NAN,
    };
    Difference {
        mean: sb.mean - sa.mean,
        half_width: t * variance.sqrt(),
        df,
        variance,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection_percentile_equals_sorted_percentile() {
        let mut x: u64 = 7;
        for n in 1..60 {
            let values: Vec<f64> = (0..n)
                .map(|_| {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                    ((x >> 40) % 50) as f64 / 3.0
                })
                .collect();
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            for p in [0.0, 0.05, 0.5, 0.95, 1.0] {
                let mut v = values.clone();
                assert_eq!(percentile_r7_unsorted(&mut v, p), percentile_r7(&sorted, p));
            }
        }
    }

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn r7_matches_excel_percentile_inc() {
        let v = [1.0, 2.0, 3.0, 4.0];
        // PERCENTILE.INC({1,2,3,4}, 0.95) = 3.85; 0.05 -> 1.15; 0.5 -> 2.5.
        assert!(close(percentile_r7(&v, 0.95), 3.85, 1e-12));
        assert!(close(percentile_r7(&v, 0.05), 1.15, 1e-12));
        assert_eq!(percentile_r7(&v, 0.5), 2.5);
        assert_eq!(percentile_r7(&v, 0.0), 1.0);
        assert_eq!(percentile_r7(&v, 1.0), 4.0);
        // PERCENTILE.INC({10,20,30,40,50}, 0.3) = 22 (h = 1.2).
        let w = [10.0, 20.0, 30.0, 40.0, 50.0];
        assert!(close(percentile_r7(&w, 0.3), 22.0, 1e-12));
    }

    #[test]
    fn r7_edge_cases() {
        assert!(percentile_r7(&[], 0.5).is_nan());
        assert_eq!(percentile_r7(&[7.0], 0.95), 7.0);
        assert!(percentile_r7(&[1.0, 2.0], 1.5).is_nan());
        assert!(percentile_r7(&[1.0, 2.0], f64::NAN).is_nan());
        assert_eq!(percentile_r7(&[3.0, 3.0, 3.0], 0.37), 3.0);
    }

    #[test]
    fn t_quantile() {
        assert!(close(t_975(9), 2.262_157_162_740_99, 1e-9));
        assert!(close(t_975(1), 12.706_204_736_174_7, 1e-7));
        assert!(close(t_975(29), 2.045_229_642_132_7, 1e-9));
        assert!(t_975(0).is_nan());
    }

    #[test]
    fn summary_of_known_sample() {
        // 1..=10: mean 5.5, sd sqrt(55/6) = 3.0276503540974917,
        // half-width t(9) * sd / sqrt(10) = 2.1658506...
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        let s = summarise(&v);
        assert_eq!(s.n, 10);
        assert!(close(s.mean, 5.5, 1e-12));
        assert!(close(s.sd, 3.027_650_354_097_491_7, 1e-12));
        let half = 2.262_157_162_740_99 * 3.027_650_354_097_491_7 / 10f64.sqrt();
        assert!(close(s.ci95_low, 5.5 - half, 1e-9));
        assert!(close(s.ci95_high, 5.5 + half, 1e-9));
        assert!(close(s.ci95_low, 3.334_149_4, 1e-6));
        // p5 at h = 0.45 -> 1.45; p95 at h = 8.55 -> 9.55.
        assert!(close(s.p5, 1.45, 1e-12));
        assert!(close(s.p50, 5.5, 1e-12));
        assert!(close(s.p95, 9.55, 1e-12));
    }

    #[test]
    fn summary_edge_cases() {
        let e = summarise(&[]);
        assert_eq!(e.n, 0);
        assert!(e.mean.is_nan() && e.p50.is_nan());

        let one = summarise(&[4.2]);
        assert_eq!(one.n, 1);
        assert_eq!(one.mean, 4.2);
        assert!(one.sd.is_nan() && one.ci95_low.is_nan() && one.ci95_high.is_nan());
        assert_eq!(one.p5, 4.2);

        let same = summarise(&[0.1; 10]);
        assert_eq!(same.mean, 0.1);
        assert_eq!(same.sd, 0.0);
        assert_eq!((same.ci95_low, same.ci95_high), (0.1, 0.1));

        let zeros = summarise(&[-0.0, -0.0]);
        assert!(zeros.mean.is_sign_positive());

        let gaps = summarise(&[1.0, f64::NAN, 3.0, f64::INFINITY]);
        assert_eq!(gaps.n, 2);
        assert_eq!(gaps.mean, 2.0);
    }

    #[test]
    fn accurate_with_large_offset() {
        // Variance of 1e9 + {1, 2, 3, 4}: 5/3 exactly in real arithmetic.
        let v = [1e9 + 1.0, 1e9 + 2.0, 1e9 + 3.0, 1e9 + 4.0];
        let s = summarise(&v);
        assert!(close(s.sd * s.sd, 5.0 / 3.0, 1e-9));
        assert_eq!(s.mean, 1e9 + 2.5);
    }

    #[test]
    fn paired() {
        let a = [10.0, 12.0, 11.0];
        let b = [8.0, 11.0, 8.0];
        let d = paired_differences(&a, &b);
        assert_eq!(d.n, 3);
        assert!(close(d.mean, -2.0, 1e-12));
        assert!(close(d.sd, 1.0, 1e-12));
    }

    #[test]
    fn welch_interval() {
        // Equal sizes and variances: df = 2(n-1), variance = 2 s^2 / n.
        let a = [1.0, 2.0, 3.0, 4.0];
        let b = [3.0, 4.0, 5.0, 6.0];
        let d = independent_difference(&a, &b);
        assert!(close(d.mean, 2.0, 1e-12));
        assert!(close(d.df, 6.0, 1e-9));
        assert!(close(d.variance, 2.0 * (5.0 / 3.0) / 4.0, 1e-12));
        // t(6, 0.975) = 2.446911851144969.
        assert!(close(
            d.half_width,
            2.446_911_851_144_969 * d.variance.sqrt(),
            1e-9
        ));
        assert!(independent_difference(&[1.0], &b).half_width.is_nan());
    }
}

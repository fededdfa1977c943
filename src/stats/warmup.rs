//! Warm-up analysis: Welch's moving average and the MSER-5 truncation rule.
//!
//! Both work on one series of per-day values that has already been averaged
//! over replications (Welch's procedure; Law, *Simulation Modeling and
//! Analysis*, 5th ed., section 9.5.1). The model starts empty, so the early
//! days of every daily series are biased low; these tools say how many days
//! to discard.

/// Welch's moving average of `series` with window `w` (days either side).
///
/// For 1-based index `i`: the mean of `Y[i-w..=i+w]` when `i > w`, and of
/// `Y[1..=2i-1]` when `i <= w` (a centred window that shrinks towards the
/// start, so the first values are not dragged towards later ones). Defined
/// for `i <= m - w`; the last `w` entries are NaN (no centred window fits),
/// which every writer turns into an empty cell. `w == 0` returns the series.
pub fn welch_moving_average(series: &[f64], w: usize) -> Vec<f64> {
    let m = series.len();
    (0..m)
        .map(|i| {
            // `i` is 0-based here: the 1-based index is i + 1.
            if i + w >= m {
                return if w == 0 { series[i] } else { f64::NAN };
            }
            let half = w.min(i);
            let window = &series[i - half..=i + half];
            // Summed in index order: the same inputs give the same bits.
            window.iter().sum::<f64>() / window.len() as f64
        })
        .collect()
}

/// The result of [`mser`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MserResult {
    /// Values to discard from the start (a multiple of the batch size).
    pub truncate: usize,
    /// The MSER statistic at that truncation point (the squared standard
    /// error of the remaining mean, up to a constant).
    pub statistic: f64,
    /// Batches the series was cut into.
    pub batches: usize,
}

/// MSER-`batch` (White 1997; MSER-5 with `batch == 5`): cut `series` into
/// means of `batch` consecutive values (a partial batch at the end is left
/// out), and choose the truncation point `d` (in batches) minimising
///
/// ```text
/// MSER(d) = sum_{j=d}^{b-1} (z_j - mean(z_d..z_{b-1}))^2 / (b - d)^2
/// ```
///
/// searching only `d <= b / 2`: a minimum in the second half means the
/// series is too short to tell (the usual safeguard). Ties go to the
/// earliest `d`. `None` when there are fewer than two batches or a value is
/// not finite.
pub fn mser(series: &[f64], batch: usize) -> Option<MserResult> {
    if batch == 0 || series.iter().any(|x| !x.is_finite()) {
        return None;
    }
    let z: Vec<f64> = series
        .chunks_exact(batch)
        .map(|c| c.iter().sum::<f64>() / batch as f64)
        .collect();
    let b = z.len();
    if b < 2 {
        return None;
    }
    let mut best: Option<(usize, f64)> = None;
    for d in 0..=b / 2 {
        let rest = &z[d..];
        let k = rest.len() as f64;
        let mean = rest.iter().sum::<f64>() / k;
        let ss: f64 = rest.iter().map(|x| (x - mean) * (x - mean)).sum();
        let stat = ss / (k * k);
        if best.is_none_or(|(_, s)| stat < s) {
            best = Some((d, stat));
        }
    }
    best.map(|(d, statistic)| MserResult {
        truncate: d * batch,
        statistic,
        batches: b,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moving_average_by_hand() {
        let y = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0];
        let ma = welch_moving_average(&y, 2);
        // i=1: Y1; i=2: mean(Y1..Y3); i=3..5: centred 5; i=6,7: undefined.
        assert_eq!(&ma[..5], &[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert!(ma[5].is_nan() && ma[6].is_nan());
        let z = [3.0, 0.0, 6.0];
        assert_eq!(welch_moving_average(&z, 0), z.to_vec());
        let step = [0.0, 9.0, 0.0, 3.0];
        assert_eq!(welch_moving_average(&step, 1)[1], 3.0);
    }

    #[test]
    fn mser_finds_an_initial_transient() {
        // 20 days rising from 0, then 80 days flat at 10 with a small wobble.
        let series: Vec<f64> = (0..100)
            .map(|i| {
                if i < 20 {
                    i as f64 / 2.0
                } else {
                    10.0 + if i % 2 == 0 { 0.1 } else { -0.1 }
                }
            })
            .collect();
        let r = mser(&series, 5).expect("enough data");
        assert_eq!(r.batches, 20);
        assert_eq!(r.truncate, 20);
        // A series with no transient is not truncated.
        let flat: Vec<f64> = (0..50).map(|i| (i % 3) as f64).collect();
        assert_eq!(mser(&flat, 5).map(|r| r.truncate), Some(0));
        assert!(mser(&[1.0; 7], 5).is_none());
        assert!(mser(&[1.0, f64::NAN, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], 5).is_none());
    }
}

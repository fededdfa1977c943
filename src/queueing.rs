//! Queueing formulas: Erlang's loss and delay formulas, the M/M/c queue,
//! and Poisson and chi-square quantiles. The flow balance
//! ([`crate::model::flow`]) uses Erlang B for the loss services, and the
//! verification cases (`validate`) compare runs with these exact answers.

use statrs::distribution::{ChiSquared, ContinuousCDF, DiscreteCDF, Poisson};

/// Erlang's loss formula B(c, a): the probability that an arrival finds all
/// `c` servers busy in a loss system offered `a` erlangs (Erlang 1917). By
/// the insensitivity property (Sevastyanov 1957) it holds for any service
/// time distribution with the given mean.
///
/// # Remarks
///
/// Computed by the recursion B(0) = 1, B(k) = a B(k-1) / (k + a B(k-1)),
/// which is stable for any `c` (no factorials, no powers), for up to
/// [`ERLANG_STEPS`] servers. Beyond, the work is bounded whatever `c` (up
/// to 4,294,967,295 servers in well under a millisecond for a few erlangs,
/// tens of milliseconds for billions):
/// - B falls below 1e-300 a few times sqrt(a) steps past `a`, and is then
///   returned as 0;
/// - for `c <= a`, 1 / B(c, a) = sum over j of c (c-1) ... (c-j+1) / a^j,
///   whose terms fall from 1 and are summed until they no longer count
///   (about 9 sqrt(c) of them at most);
/// - for `c > a`, the recursion starts from B(floor(a), a) so computed, and
///   once B is below 1e-20 (all but a share 1e-20 of the Poisson(a)
///   probability is at or below `k`), B(c) = B(k) a^(c-k) k! / c!, by
///   Stirling's series (relative error about 1e-10 in the log).
///
/// B(c, 0) = 0 for `c >= 1`; NaN for a negative or non-finite `a`.
pub fn erlang_b(c: u32, a: f64) -> f64 {
    if !(a >= 0.0 && a.is_finite()) {
        return f64::NAN;
    }
    if c <= ERLANG_STEPS {
        let mut b = 1.0;
        for k in 1..=c {
            b = a * b / (f64::from(k) + a * b);
        }
        return b;
    }
    let (from, b) = if a < f64::from(ERLANG_STEPS) {
        (0, 1.0)
    } else if f64::from(c) <= a {
        return 1.0 / inverse_sum(c, a);
    } else {
        // floor(a) < c.
        let k = a.floor() as u32;
        (k, 1.0 / inverse_sum(k, a))
    };
    erlang_b_tail(from, b, c, a)
}

/// Servers up to which [`erlang_b`] runs its recursion from B(0) to the end.
pub const ERLANG_STEPS: u32 = 10_000;

/// 1 / B(c, a) for `c <= a`: the sum of c (c-1) ... (c-j+1) / a^j over j,
/// whose terms fall from 1 (each ratio (c-j+1) / a is at most 1).
fn inverse_sum(c: u32, a: f64) -> f64 {
    let (mut sum, mut term) = (1.0, 1.0);
    let mut j = 0u32;
    while j < c && term > 1e-17 * sum {
        term *= f64::from(c - j) / a;
        sum += term;
        j += 1;
    }
    sum
}

/// B(c, a) from B(`from`, a) = `b`, for `from < c`: the recursion while B
/// is not tiny, then Stirling's series for the rest.
fn erlang_b_tail(from: u32, mut b: f64, c: u32, a: f64) -> f64 {
    let mut k = from;
    while k < c {
        if b < 1e-300 {
            return 0.0;
        }
        if b < 1e-20 && f64::from(k) > a {
            return b * (ln_power_over_factorials(a, k, c)).exp();
        }
        k += 1;
        b = a * b / (f64::from(k) + a * b);
    }
    b
}

/// ln(a^(c-k) k! / c!) for `a < k < c` (k at least a few thousand), by
/// Stirling's series: with h(u) = (1+u) ln(1+u) - u,
/// n ln(n / a) - (n - a) = a h(n/a - 1), so the log is
/// -a h(c/a - 1) + a h(k/a - 1) - ln(c/k) / 2 - (1/(12c) - 1/(12k)).
fn ln_power_over_factorials(a: f64, k: u32, c: u32) -> f64 {
    let h = |n: f64| {
        let u = (n - a) / a;
        a * ((1.0 + u) * u.ln_1p() - u)
    };
    let (k, c) = (f64::from(k), f64::from(c));
    -h(c) + h(k) - 0.5 * (c / k).ln() - (1.0 / (12.0 * c) - 1.0 / (12.0 * k))
}

/// Erlang's delay formula C(c, a): the probability that an arrival waits in
/// an M/M/c queue offered `a` erlangs, from B(c, a):
/// C = B / (1 - rho (1 - B)) with rho = a / c. NaN unless `a < c` (no
/// steady state otherwise).
pub fn erlang_c(c: u32, a: f64) -> f64 {
    let rho = a / f64::from(c);
    if !(a >= 0.0 && rho < 1.0) {
        return f64::NAN;
    }
    let b = erlang_b(c, a);
    b / (1.0 - rho * (1.0 - b))
}

/// Mean number waiting (not in service) in an M/M/c queue offered `a`
/// erlangs: Lq = C(c, a) rho / (1 - rho) (Kleinrock 1975, section 3.5).
/// The mean wait is Lq / lambda (Little's law).
pub fn mmc_mean_queue(c: u32, a: f64) -> f64 {
    let rho = a / f64::from(c);
    erlang_c(c, a) * rho / (1.0 - rho)
}

/// The 95th percentile of Poisson(`mean`): the least `k` with
/// P(N <= k) >= 0.95, and that probability. `None` for a mean that is not
/// positive and finite.
pub fn poisson_p95(mean: f64) -> Option<(u64, f64)> {
    let poisson = Poisson::new(mean).ok()?;
    let k = poisson.inverse_cdf(0.95);
    Some((k, poisson.cdf(k)))
}

/// The `p` quantile of chi-square with `df` degrees of freedom (NaN for
/// `df == 0`).
pub fn chi_square_quantile(df: usize, p: f64) -> f64 {
    match ChiSquared::new(df as f64) {
        Ok(d) => d.inverse_cdf(p),
        Err(_) => f64::NAN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs()
    }

    /// Direct formula B = (a^c / c!) / sum_k a^k / k!, fine for small c.
    fn erlang_b_direct(c: u32, a: f64) -> f64 {
        let mut term = 1.0;
        let mut sum = 1.0;
        for k in 1..=c {
            term *= a / f64::from(k);
            sum += term;
        }
        term / sum
    }

    #[test]
    fn erlang_b_matches_the_direct_formula_and_published_tables() {
        for c in 1..=20 {
            for a in [0.1, 0.5, 1.0, 2.5, 4.0, 7.3, 15.0] {
                assert!(close(erlang_b(c, a), erlang_b_direct(c, a), 1e-12));
            }
        }
        // Small cases by hand: B(1, a) = a / (1 + a); B(2, 1) = 0.2.
        assert!(close(erlang_b(1, 1.0), 0.5, 1e-15));
        assert!(close(erlang_b(2, 1.0), 0.2, 1e-15));
        // Published Erlang B tables (grade of service 1%): 5 circuits carry
        // 1.361 erlangs, 10 circuits 4.461, 20 circuits 12.03.
        assert!((erlang_b(5, 1.361) - 0.01).abs() < 5e-5);
        assert!((erlang_b(10, 4.461) - 0.01).abs() < 5e-5);
        assert!((erlang_b(20, 12.03) - 0.01).abs() < 5e-5);
        // Stable where factorials overflow.
        let big = erlang_b(1000, 950.0);
        assert!(big > 0.0 && big < 0.1);
        assert_eq!(erlang_b(3, 0.0), 0.0);
        assert!(erlang_b(3, -1.0).is_nan());
    }

    /// Any number of servers, instantly: beyond the plain recursion's reach,
    /// the early-stopped and summed forms agree with the recursion run to
    /// the end (slow, so only at sizes it can reach in a test), and
    /// 4,294,967,295 servers take a bounded number of steps.
    #[test]
    fn erlang_b_for_any_number_of_servers() {
        let full = |c: u32, a: f64| {
            let mut b = 1.0;
            for k in 1..=c {
                b = a * b / (f64::from(k) + a * b);
            }
            b
        };
        for (c, a) in [
            (20_000u32, 5.0),
            (20_000, 12_000.0),
            (20_000, 19_000.0),
            (20_000, 20_000.0),
            (20_000, 21_000.0),
            (50_000, 30_000.0),
            (50_000, 49_500.0),
            (300_000, 299_000.0),
            (300_000, 1e6),
        ] {
            let (got, want) = (erlang_b(c, a), full(c, a));
            assert!(
                close(got, want, 1e-9) || (want < 1e-300 && got == 0.0),
                "B({c}, {a}) = {got}, the recursion gives {want}"
            );
        }
        // The tail by Stirling's series: B falls below 1e-20 within the
        // recursion's reach, so it is checked there.
        let (c, a) = (52_700u32, 50_000.0);
        let (got, want) = (erlang_b(c, a), full(c, a));
        assert!(want > 0.0 && want < 1e-20, "{want}");
        assert!(close(got, want, 1e-6), "B({c}, {a}) = {got} against {want}");
        // Huge numbers of servers: as the limits say.
        assert_eq!(erlang_b(u32::MAX, 3.0), 0.0);
        assert!(close(
            erlang_b(u32::MAX, 1e12),
            1.0 - f64::from(u32::MAX) / 1e12,
            1e-3
        ));
        // Two standard deviations above the load: B(a, a) is about
        // sqrt(2 / (pi a)), 1.2e-5, and falls by about exp(-2) from there.
        let b = erlang_b(u32::MAX, f64::from(u32::MAX) - 2.0 * 65_536.0);
        assert!(b > 1e-7 && b < 1e-5, "{b}");
        assert_eq!(erlang_b(u32::MAX, 4.0e9), 0.0);
    }

    #[test]
    fn erlang_c_and_mmc_queue() {
        // M/M/1: C = rho, Lq = rho^2 / (1 - rho).
        assert!(close(erlang_c(1, 0.5), 0.5, 1e-12));
        assert!(close(mmc_mean_queue(1, 0.8), 3.2, 1e-12));
        // M/M/2 with a = 1: C = 1/3, Lq = 1/3.
        assert!(close(erlang_c(2, 1.0), 1.0 / 3.0, 1e-12));
        assert!(close(mmc_mean_queue(2, 1.0), 1.0 / 3.0, 1e-12));
        // Against the textbook form C = [a^c/c! * c/(c-a)] / [sum_{k<c} a^k/k! + a^c/c! * c/(c-a)].
        for (c, a) in [(3u32, 2.5), (4, 3.2), (10, 8.0), (50, 45.0)] {
            let mut term = 1.0;
            let mut sum = 0.0;
            for k in 0..c {
                sum += term;
                term *= a / f64::from(k + 1);
            }
            let top = term * f64::from(c) / (f64::from(c) - a);
            assert!(
                close(erlang_c(c, a), top / (sum + top), 1e-10),
                "C({c}, {a})"
            );
        }
        assert!(erlang_c(2, 2.0).is_nan());
    }

    #[test]
    fn quantiles() {
        // Poisson(80): P(N <= 94) = 0.9475 < 0.95 <= P(N <= 95) = 0.9585.
        let (k, f) = poisson_p95(80.0).unwrap();
        assert_eq!(k, 95);
        assert!((0.95..0.96).contains(&f));
        assert!(poisson_p95(0.0).is_none());
        // Chi-square tables: 0.999 quantile with 6 df is 22.458, 23 df 49.728.
        assert!((chi_square_quantile(6, 0.999) - 22.458).abs() < 1e-3);
        assert!((chi_square_quantile(23, 0.999) - 49.728).abs() < 1e-3);
    }
}

//! The exact answers the verification cases compare with: Erlang's loss and
//! delay formulas, the M/M/c queue, and Poisson and chi-square quantiles.

use statrs::distribution::{ChiSquared, ContinuousCDF, DiscreteCDF, Poisson};

/// Erlang's loss formula B(c, a): the probability that an arrival finds all
/// `c` servers busy in a loss system offered `a` erlangs (Erlang 1917). By
/// the insensitivity property (Sevastyanov 1957) it holds for any service
/// time distribution with the given mean.
///
/// # Remarks
///
/// Computed by the recursion B(0) = 1, B(k) = a B(k-1) / (k + a B(k-1)),
/// which is stable for any `c` (no factorials, no powers). B(c, 0) = 0 for
/// `c >= 1`; NaN for a negative or non-finite `a`.
pub fn erlang_b(c: u32, a: f64) -> f64 {
    if !(a >= 0.0 && a.is_finite()) {
        return f64::NAN;
    }
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (f64::from(k) + a * b);
    }
    b
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

//! What is left of a duration already under way: for a patient already in
//! a bed, or a resident already in a care home, when a run starts from a
//! state rather than from empty.
//!
//! Two cases (`docs/model.md`, "Remaining durations"):
//!
//! - **Elapsed time known** (`e` hours so far): the remaining time is
//!   `S - e` for `S` drawn from the distribution *conditioned on* `S > e`.
//!   Drawing a whole new stay instead overstates what is left for every
//!   distribution but the exponential.
//! - **Elapsed time unknown**, the stay seen at a random moment of a system
//!   in equilibrium: the remaining time has the equilibrium residual
//!   density `(1 - F(x)) / E[S]`, with mean `E[S^2] / (2 E[S])`. It is drawn
//!   exactly as `U x S*`, with `U` uniform on (0, 1) and `S*` drawn from the
//!   length-biased distribution (density `x f(x) / E[S]`): a stay seen at a
//!   random moment is long in proportion to its length, and the moment falls
//!   uniformly inside it.
//!
//! Both are exact for every family (closed forms, or inversion of a
//! monotone function by bisection with a fixed number of steps), so a
//! draw takes bounded time.

use rand::Rng;
use rand_distr::{Distribution, Exp1, Gamma, StandardNormal, StandardUniform};
use statrs::distribution::{ContinuousCDF, Normal};

use super::{Dist, DistSpec, Kind};

impl Dist {
    /// The time left, in hours, of a duration that has lasted `elapsed`
    /// hours so far: `S - elapsed` for `S` drawn given `S > elapsed`. When
    /// the distribution cannot exceed `elapsed` (a fixed or bounded stay
    /// already past its end), 0: the duration ends at once.
    pub fn sample_remaining<R: Rng + ?Sized>(&self, elapsed: f64, rng: &mut R) -> f64 {
        let e = elapsed.max(0.0);
        let u: f64 = StandardUniform.sample(rng);
        let left = match (&self.kind, &self.spec) {
            (&Kind::Fixed(v), _) => v - e,
            (&Kind::Exponential { mean }, _) => {
                // Memoryless: what is left is a whole new duration.
                let x: f64 = Exp1.sample(rng);
                return mean * x;
            }
            (&Kind::LogNormal { mu, sigma }, _) => {
                if e <= 0.0 {
                    let z: f64 = StandardNormal.sample(rng);
                    return (mu + sigma * z).exp();
                }
                // S > e has survival p = P(Z > z_e); draw Z from the upper
                // tail by inverting the survival function.
                let n = Normal::standard();
                let z_e = (e.ln() - mu) / sigma;
                let p = n.sf(z_e);
                if p <= 0.0 {
                    return 0.0;
                }
                let z = -n.inverse_cdf((1.0 - u) * p);
                (mu + sigma * z).exp() - e
            }
            (Kind::Gamma(_), &DistSpec::Gamma { mean, sd }) => {
                let shape = (mean / sd).powi(2);
                let scale = sd * sd / mean;
                let g = statrs::distribution::Gamma::new(shape, 1.0 / scale)
                    .expect("checked when the distribution was built");
                let p = g.sf(e);
                if p <= 0.0 {
                    return 0.0;
                }
                let target = (1.0 - u) * p;
                // The x above e whose survival is `target`, by bisection.
                bisect(e, e + 1.0 + 50.0 * mean, 200, |x| g.sf(x) > target) - e
            }
            (&Kind::Weibull { inv_shape, scale }, _) => {
                // S = scale E^(1/k): given S > e, E - (e/scale)^k is Exp(1).
                let x: f64 = Exp1.sample(rng);
                let k = 1.0 / inv_shape;
                scale * ((e / scale).powf(k) + x).powf(inv_shape) - e
            }
            (&Kind::Uniform { min, width }, _) => {
                let max = min + width;
                let lo = e.max(min);
                lo + (max - lo) * u - e
            }
            (&Kind::Triangular { min, mode, max }, _) => {
                let f_e = triangular_cdf(e, min, mode, max);
                if f_e >= 1.0 {
                    return 0.0;
                }
                triangular_quantile(f_e + (1.0 - f_e) * u, min, mode, max) - e
            }
            (Kind::Empirical { values, cumulative }, _) => {
                // The values above `e`, with their weights.
                let mut above = 0.0;
                let mut prev = 0.0;
                for (v, &c) in values.iter().zip(cumulative) {
                    if *v > e {
                        above += c - prev;
                    }
                    prev = c;
                }
                if above <= 0.0 {
                    return 0.0;
                }
                let target = u * above;
                let (mut acc, mut prev) = (0.0, 0.0);
                let mut chosen = e;
                for (v, &c) in values.iter().zip(cumulative) {
                    if *v > e {
                        acc += c - prev;
                        chosen = *v;
                        if target < acc {
                            break;
                        }
                    }
                    prev = c;
                }
                chosen - e
            }
            (Kind::Gamma(_), _) => unreachable!("a gamma kind is built from a gamma spec"),
        };
        left.max(0.0)
    }

    /// The time left, in hours, of a duration seen at a random moment of a
    /// system in equilibrium (elapsed time unknown): `U x S*`, `S*` drawn
    /// from the length-biased distribution; for an exponential, a whole new
    /// duration.
    pub fn sample_equilibrium_remaining<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        // Memoryless: the equilibrium residual of an exponential is the
        // same exponential (and a whole stay is one draw, not two).
        if let Kind::Exponential { .. } = self.kind {
            return self.sample(rng);
        }
        let u: f64 = StandardUniform.sample(rng);
        u * self.sample_length_biased(rng)
    }

    /// A draw from the length-biased distribution, density `x f(x) / E[S]`.
    fn sample_length_biased<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match (&self.kind, &self.spec) {
            (&Kind::Fixed(v), _) => v,
            // Gamma(2, mean).
            (&Kind::Exponential { mean }, _) => {
                let a: f64 = Exp1.sample(rng);
                let b: f64 = Exp1.sample(rng);
                mean * (a + b)
            }
            // Lognormal with mu + sigma^2.
            (&Kind::LogNormal { mu, sigma }, _) => {
                let z: f64 = StandardNormal.sample(rng);
                (mu + sigma * sigma + sigma * z).exp()
            }
            // Gamma(k + 1, theta).
            (Kind::Gamma(_), &DistSpec::Gamma { mean, sd }) => {
                let shape = (mean / sd).powi(2);
                let scale = sd * sd / mean;
                Gamma::new(shape + 1.0, scale)
                    .expect("a valid gamma stays valid one shape up")
                    .sample(rng)
            }
            // S = scale E^(1/k) weighted by S: E becomes Gamma(1 + 1/k, 1).
            (&Kind::Weibull { inv_shape, scale }, _) => {
                let g: f64 = Gamma::new(1.0 + inv_shape, 1.0)
                    .expect("shape above 1")
                    .sample(rng);
                scale * g.powf(inv_shape)
            }
            // Density proportional to x on [min, max].
            (&Kind::Uniform { min, width }, _) => {
                let u: f64 = StandardUniform.sample(rng);
                let max = min + width;
                (min * min + u * (max * max - min * min)).sqrt()
            }
            (&Kind::Triangular { min, mode, max }, _) => {
                let total = triangular_partial_mean(max, min, mode, max);
                if total <= 0.0 {
                    return 0.0;
                }
                let u: f64 = StandardUniform.sample(rng);
                let target = u * total;
                bisect(min, max, 100, |x| {
                    triangular_partial_mean(x, min, mode, max) < target
                })
            }
            (Kind::Empirical { values, cumulative }, _) => {
                // Weights p_i v_i.
                let mut prev = 0.0;
                let weighted: Vec<f64> = values
                    .iter()
                    .zip(cumulative)
                    .map(|(v, &c)| {
                        let p = c - prev;
                        prev = c;
                        p * v
                    })
                    .collect();
                let total: f64 = weighted.iter().sum();
                if total <= 0.0 {
                    return 0.0;
                }
                let u: f64 = StandardUniform.sample(rng);
                let target = u * total;
                let mut acc = 0.0;
                for (v, w) in values.iter().zip(&weighted) {
                    acc += w;
                    if target < acc {
                        return *v;
                    }
                }
                values.last().copied().unwrap_or(0.0)
            }
            (Kind::Gamma(_), _) => unreachable!("a gamma kind is built from a gamma spec"),
        }
    }
}

/// The `x` in `[lo, hi]` where `below(x)` turns false, to within
/// `(hi - lo) / 2^steps` (a fixed number of steps: bounded time).
fn bisect(mut lo: f64, mut hi: f64, steps: u32, below: impl Fn(f64) -> bool) -> f64 {
    for _ in 0..steps {
        let mid = 0.5 * (lo + hi);
        if below(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// CDF of the triangular distribution.
fn triangular_cdf(x: f64, min: f64, mode: f64, max: f64) -> f64 {
    if x <= min {
        0.0
    } else if x >= max {
        1.0
    } else if x <= mode {
        (x - min).powi(2) / ((max - min) * (mode - min))
    } else {
        1.0 - (max - x).powi(2) / ((max - min) * (max - mode))
    }
}

/// Quantile of the triangular distribution (the inverse of its CDF).
fn triangular_quantile(p: f64, min: f64, mode: f64, max: f64) -> f64 {
    let split = (mode - min) / (max - min);
    if p < split {
        min + ((max - min) * (mode - min) * p).sqrt()
    } else {
        max - ((max - min) * (max - mode) * (1.0 - p)).sqrt()
    }
}

/// `integral from min to x of t f(t) dt` for the triangular density `f`.
fn triangular_partial_mean(x: f64, min: f64, mode: f64, max: f64) -> f64 {
    let x = x.clamp(min, max);
    // Rising part, f(t) = 2 (t - min) / ((max - min)(mode - min)).
    let rising = |t: f64| {
        if mode > min {
            2.0 / ((max - min) * (mode - min))
                * (t.powi(3) / 3.0 - min * t * t / 2.0 + min.powi(3) / 6.0)
        } else {
            0.0
        }
    };
    // Falling part, f(t) = 2 (max - t) / ((max - min)(max - mode)).
    let falling = |from: f64, to: f64| {
        if max > mode {
            let g = |t: f64| max * t * t / 2.0 - t.powi(3) / 3.0;
            2.0 / ((max - min) * (max - mode)) * (g(to) - g(from))
        } else {
            0.0
        }
    };
    if x <= mode {
        rising(x)
    } else {
        rising(mode) + falling(mode, x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{StreamKey, StreamRng};

    fn dist(spec: DistSpec) -> Dist {
        Dist::new(spec).expect("valid")
    }

    /// Mean and standard error of `n` draws of `f`, fixed seed.
    fn mean_se(n: usize, mut f: impl FnMut(&mut StreamRng) -> f64) -> (f64, f64) {
        let mut rng = StreamRng::new(StreamKey::new(20261201, 0, 0, 0));
        let xs: Vec<f64> = (0..n).map(|_| f(&mut rng)).collect();
        let m = xs.iter().sum::<f64>() / n as f64;
        let v = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n as f64 - 1.0);
        (m, (v / n as f64).sqrt())
    }

    fn close(what: &str, (m, se): (f64, f64), theory: f64) {
        assert!(
            (m - theory).abs() <= 4.0 * se + 1e-9 * theory.abs(),
            "{what}: {m} (SE {se}) against {theory}"
        );
    }

    /// The equilibrium residual mean is E[S^2] / (2 E[S]) for every family.
    #[test]
    fn equilibrium_residual_mean_is_second_moment_over_twice_the_mean() {
        let specs = [
            DistSpec::Fixed { value: 10.0 },
            DistSpec::Exponential { mean: 10.0 },
            DistSpec::LogNormal {
                mean: 10.0,
                sd: 15.0,
            },
            DistSpec::Gamma {
                mean: 10.0,
                sd: 4.0,
            },
            DistSpec::Weibull {
                shape: 0.8,
                scale: 10.0,
            },
            DistSpec::Weibull {
                shape: 3.0,
                scale: 10.0,
            },
            DistSpec::Uniform {
                min: 2.0,
                max: 12.0,
            },
            DistSpec::Triangular {
                min: 1.0,
                mode: 3.0,
                max: 20.0,
            },
            DistSpec::Empirical {
                values: vec![1.0, 5.0, 30.0],
                weights: vec![0.5, 0.3, 0.2],
            },
        ];
        for spec in specs {
            let d = dist(spec.clone());
            let (m, s) = (d.mean(), d.sd());
            let theory = (s * s + m * m) / (2.0 * m);
            close(
                &format!("{spec:?}"),
                mean_se(200_000, |r| d.sample_equilibrium_remaining(r)),
                theory,
            );
        }
    }

    /// Given e hours so far, the remaining mean is E[S - e | S > e]; for a
    /// lognormal, E[S | S > e] = e^(mu + sigma^2/2) Phi(sigma - z) / Phi(-z)
    /// with z = (ln e - mu) / sigma.
    #[test]
    fn remaining_lognormal_given_elapsed_matches_theory() {
        let d = dist(DistSpec::LogNormal {
            mean: 240.0,
            sd: 360.0,
        });
        let Kind::LogNormal { mu, sigma } = d.kind else {
            unreachable!()
        };
        let n = Normal::standard();
        for e in [0.0, 24.0, 240.0, 1000.0] {
            let theory = if e == 0.0 {
                240.0
            } else {
                let z = (f64::ln(e) - mu) / sigma;
                (mu + sigma * sigma / 2.0).exp() * n.cdf(sigma - z) / n.cdf(-z) - e
            };
            close(
                &format!("elapsed {e}"),
                mean_se(200_000, |r| d.sample_remaining(e, r)),
                theory,
            );
        }
    }

    /// Every family, against the remaining mean computed by numerical
    /// integration of the survival function: E[S - e | S > e] =
    /// integral from e of (1 - F) / (1 - F(e)).
    #[test]
    fn remaining_given_elapsed_matches_the_survival_integral() {
        let cases = [
            (DistSpec::Exponential { mean: 10.0 }, 7.0),
            (
                DistSpec::Gamma {
                    mean: 10.0,
                    sd: 4.0,
                },
                12.0,
            ),
            (
                DistSpec::Weibull {
                    shape: 1.7,
                    scale: 10.0,
                },
                9.0,
            ),
            (
                DistSpec::Uniform {
                    min: 2.0,
                    max: 12.0,
                },
                5.0,
            ),
            (
                DistSpec::Triangular {
                    min: 1.0,
                    mode: 3.0,
                    max: 20.0,
                },
                6.0,
            ),
        ];
        for (spec, e) in cases {
            let d = dist(spec.clone());
            // The survival function, estimated from 400,000 whole draws.
            let mut rng = StreamRng::new(StreamKey::new(7, 0, 0, 0));
            let draws: Vec<f64> = (0..400_000).map(|_| d.sample(&mut rng)).collect();
            let over: Vec<f64> = draws.iter().filter(|&&x| x > e).map(|x| x - e).collect();
            let theory = over.iter().sum::<f64>() / over.len() as f64;
            let (m, se) = mean_se(200_000, |r| d.sample_remaining(e, r));
            // Two estimates, each with its own error.
            let var_t =
                over.iter().map(|x| (x - theory).powi(2)).sum::<f64>() / (over.len() as f64 - 1.0);
            let se_t = (var_t / over.len() as f64).sqrt();
            let se_both = (se * se + se_t * se_t).sqrt();
            assert!(
                (m - theory).abs() <= 4.0 * se_both,
                "{spec:?}: {m} against {theory}"
            );
        }
    }

    #[test]
    fn a_duration_past_its_end_ends_at_once() {
        let mut rng = StreamRng::new(StreamKey::new(1, 0, 0, 0));
        assert_eq!(
            dist(DistSpec::Fixed { value: 5.0 }).sample_remaining(8.0, &mut rng),
            0.0
        );
        assert_eq!(
            dist(DistSpec::Uniform { min: 1.0, max: 4.0 }).sample_remaining(9.0, &mut rng),
            0.0
        );
        let e = dist(DistSpec::Empirical {
            values: vec![1.0, 2.0],
            weights: vec![],
        });
        assert_eq!(e.sample_remaining(3.0, &mut rng), 0.0);
        assert_eq!(e.sample_remaining(1.5, &mut rng), 0.5);
    }
}

//! Duration distributions, parameterised as in `docs/scenario-format.md` and sampled in hours.
//!
//! Each constructor checks its parameters and precomputes what sampling needs,
//! so drawing is a handful of arithmetic operations and never fails.
//!
//! # Remarks
//! `lognormal` and `gamma` take the mean and standard deviation of the
//! duration itself (not of its log): a lognormal with mean `m` and sd `s` has
//! `sigma^2 = ln(1 + s^2/m^2)` and `mu = ln m - sigma^2/2`; a gamma has shape
//! `m^2/s^2` and scale `s^2/m`.

use rand::Rng;

use super::error::human_number;
use rand_distr::{Distribution, Exp1, Gamma, StandardNormal, StandardUniform};

mod residual;

/// A validated duration distribution; every sample is finite and `>= 0` hours.
#[derive(Clone, Debug)]
pub struct Dist {
    kind: Kind,
    spec: DistSpec,
}

/// The distribution as written in the scenario (hours), for reports and the
/// resolved scenario.
#[derive(Clone, Debug, PartialEq)]
pub enum DistSpec {
    /// `fixed`: always the same duration.
    Fixed {
        /// The duration, hours.
        value: f64,
    },
    /// `exponential`: memoryless.
    Exponential {
        /// Mean, hours.
        mean: f64,
    },
    /// `lognormal`, given by the mean and standard deviation of the duration
    /// itself (not of its logarithm).
    LogNormal {
        /// Mean, hours.
        mean: f64,
        /// Standard deviation, hours.
        sd: f64,
    },
    /// `gamma`, given by its mean and standard deviation.
    Gamma {
        /// Mean, hours.
        mean: f64,
        /// Standard deviation, hours.
        sd: f64,
    },
    /// `weibull`.
    Weibull {
        /// Shape (a number, no unit).
        shape: f64,
        /// Scale, hours.
        scale: f64,
    },
    /// `triangular`.
    Triangular {
        /// Smallest value, hours.
        min: f64,
        /// Most likely value, hours.
        mode: f64,
        /// Largest value, hours.
        max: f64,
    },
    /// `uniform` on `[min, max)`.
    Uniform {
        /// Smallest value, hours.
        min: f64,
        /// Largest value, hours.
        max: f64,
    },
    /// `empirical`: one of the listed values.
    Empirical {
        /// The values, hours.
        values: Vec<f64>,
        /// One weight per value, or empty: all values equally likely.
        weights: Vec<f64>,
    },
}

#[derive(Clone, Debug)]
enum Kind {
    Fixed(f64),
    Exponential {
        mean: f64,
    },
    LogNormal {
        mu: f64,
        sigma: f64,
    },
    Gamma(Gamma<f64>),
    Weibull {
        inv_shape: f64,
        scale: f64,
    },
    Triangular {
        min: f64,
        mode: f64,
        max: f64,
    },
    Uniform {
        min: f64,
        width: f64,
    },
    /// Values with cumulative weights normalised so the last is 1.
    Empirical {
        values: Vec<f64>,
        cumulative: Vec<f64>,
    },
}

/// Why a distribution's parameters were refused; the text says what was expected.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct DistError(pub String);

fn check(ok: bool, msg: impl FnOnce() -> String) -> Result<(), DistError> {
    if ok { Ok(()) } else { Err(DistError(msg())) }
}

fn finite_non_negative(name: &str, v: f64) -> Result<(), DistError> {
    check(v.is_finite() && v >= 0.0, || {
        format!(
            "expected `{name}` to be a finite duration >= 0, found {} h",
            human_number(v)
        )
    })
}

fn positive(name: &str, v: f64) -> Result<(), DistError> {
    check(v.is_finite() && v > 0.0, || {
        format!(
            "expected `{name}` to be a finite positive duration, found {} h",
            human_number(v)
        )
    })
}

impl Dist {
    /// Builds the distribution from its specification, checking every parameter.
    pub fn new(spec: DistSpec) -> Result<Dist, DistError> {
        let kind = match &spec {
            &DistSpec::Fixed { value } => {
                finite_non_negative("value", value)?;
                Kind::Fixed(value)
            }
            &DistSpec::Exponential { mean } => {
                positive("mean", mean)?;
                Kind::Exponential { mean }
            }
            &DistSpec::LogNormal { mean, sd } => {
                positive("mean", mean)?;
                positive("sd", sd)?;
                let sigma2 = (1.0 + (sd / mean).powi(2)).ln();
                Kind::LogNormal {
                    mu: mean.ln() - sigma2 / 2.0,
                    sigma: sigma2.sqrt(),
                }
            }
            &DistSpec::Gamma { mean, sd } => {
                positive("mean", mean)?;
                positive("sd", sd)?;
                let shape = (mean / sd).powi(2);
                let scale = sd * sd / mean;
                let g = Gamma::new(shape, scale).map_err(|e| {
                    DistError(format!(
                        "gamma with mean {} h and sd {} h: {e}",
                        human_number(mean),
                        human_number(sd)
                    ))
                })?;
                Kind::Gamma(g)
            }
            &DistSpec::Weibull { shape, scale } => {
                check(shape.is_finite() && shape > 0.0, || {
                    format!(
                        "expected `shape` to be a finite positive number, found {}",
                        human_number(shape)
                    )
                })?;
                positive("scale", scale)?;
                Kind::Weibull {
                    inv_shape: 1.0 / shape,
                    scale,
                }
            }
            &DistSpec::Triangular { min, mode, max } => {
                finite_non_negative("min", min)?;
                finite_non_negative("mode", mode)?;
                finite_non_negative("max", max)?;
                check(min <= mode && mode <= max && min < max, || {
                    format!(
                        "expected min <= mode <= max with min < max, found min {} h, mode {} h, max {} h",
                        human_number(min),
                        human_number(mode),
                        human_number(max)
                    )
                })?;
                Kind::Triangular { min, mode, max }
            }
            &DistSpec::Uniform { min, max } => {
                finite_non_negative("min", min)?;
                finite_non_negative("max", max)?;
                check(min < max, || {
                    format!(
                        "expected min < max, found min {} h, max {} h",
                        human_number(min),
                        human_number(max)
                    )
                })?;
                Kind::Uniform {
                    min,
                    width: max - min,
                }
            }
            DistSpec::Empirical { values, weights } => {
                check(!values.is_empty(), || {
                    "expected `values` to hold at least one duration".to_string()
                })?;
                for &v in values {
                    finite_non_negative("values", v)?;
                }
                let weights: Vec<f64> = if weights.is_empty() {
                    vec![1.0; values.len()]
                } else {
                    weights.clone()
                };
                check(weights.len() == values.len(), || {
                    format!(
                        "expected as many `weights` as `values` ({}), found {}",
                        values.len(),
                        weights.len()
                    )
                })?;
                for &w in &weights {
                    check(w.is_finite() && w >= 0.0, || {
                        format!(
                            "expected `weights` to be finite and >= 0, found {}",
                            human_number(w)
                        )
                    })?;
                }
                let total: f64 = weights.iter().sum();
                check(total > 0.0 && total.is_finite(), || {
                    format!(
                        "expected `weights` to have a positive, finite sum, found a sum of {}",
                        human_number(total)
                    )
                })?;
                let mut acc = 0.0;
                let mut cumulative: Vec<f64> = weights
                    .iter()
                    .map(|w| {
                        acc += w / total;
                        acc
                    })
                    .collect();
                if let Some(last) = cumulative.last_mut() {
                    *last = 1.0;
                }
                Kind::Empirical {
                    values: values.clone(),
                    cumulative,
                }
            }
        };
        let dist = Dist { kind, spec };
        // Parameters each finite can still give an infinite mean or
        // variance (a Weibull of shape 0.001 has mean scale x Γ(1001)): the
        // offered-load check and the report would show `inf` or NaN, and
        // samples could overflow. Refused, with the moments by the family's
        // own formulas.
        let (mean, sd) = (dist.mean(), dist.sd());
        let variance = sd * sd;
        check(mean.is_finite() && variance.is_finite(), || {
            let given = if mean.is_finite() {
                format!("an infinite variance ({} h²)", human_number(variance))
            } else {
                format!("an infinite mean ({} h)", human_number(mean))
            };
            format!(
                "these parameters give {given}; a distribution's mean and variance must be \
                 finite numbers of hours"
            )
        })?;
        Ok(dist)
    }

    /// A distribution that always gives `hours`.
    pub fn fixed(hours: f64) -> Dist {
        Dist {
            kind: Kind::Fixed(hours),
            spec: DistSpec::Fixed { value: hours },
        }
    }

    /// The specification it was built from.
    pub fn spec(&self) -> &DistSpec {
        &self.spec
    }

    /// Draws one duration in hours (finite, `>= 0`).
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match &self.kind {
            Kind::Fixed(v) => *v,
            Kind::Exponential { mean } => {
                let e: f64 = Exp1.sample(rng);
                mean * e
            }
            Kind::LogNormal { mu, sigma } => {
                let z: f64 = StandardNormal.sample(rng);
                (mu + sigma * z).exp()
            }
            Kind::Gamma(g) => g.sample(rng),
            Kind::Weibull { inv_shape, scale } => {
                let u = open01(rng);
                scale * (-u.ln()).powf(*inv_shape)
            }
            &Kind::Triangular { min, mode, max } => {
                let u: f64 = StandardUniform.sample(rng);
                let split = (mode - min) / (max - min);
                if u < split {
                    min + ((max - min) * (mode - min) * u).sqrt()
                } else {
                    max - ((max - min) * (max - mode) * (1.0 - u)).sqrt()
                }
            }
            &Kind::Uniform { min, width } => {
                let u: f64 = StandardUniform.sample(rng);
                min + width * u
            }
            Kind::Empirical { values, cumulative } => {
                let u: f64 = StandardUniform.sample(rng);
                let i = cumulative.partition_point(|&c| c <= u);
                values[i.min(values.len() - 1)]
            }
        }
    }

    /// The mean in hours (theory, not a sample).
    pub fn mean(&self) -> f64 {
        match &self.spec {
            DistSpec::Fixed { value } => *value,
            DistSpec::Exponential { mean } => *mean,
            DistSpec::LogNormal { mean, .. } | DistSpec::Gamma { mean, .. } => *mean,
            DistSpec::Weibull { shape, scale } => scale * gamma_fn(1.0 + 1.0 / shape),
            DistSpec::Triangular { min, mode, max } => (min + mode + max) / 3.0,
            DistSpec::Uniform { min, max } => (min + max) / 2.0,
            DistSpec::Empirical { values, .. } => self.empirical_moment(values, 1),
        }
    }

    /// The standard deviation in hours (theory, not a sample).
    pub fn sd(&self) -> f64 {
        match &self.spec {
            DistSpec::Fixed { .. } => 0.0,
            DistSpec::Exponential { mean } => *mean,
            DistSpec::LogNormal { sd, .. } | DistSpec::Gamma { sd, .. } => *sd,
            DistSpec::Weibull { shape, scale } => {
                let g1 = gamma_fn(1.0 + 1.0 / shape);
                let g2 = gamma_fn(1.0 + 2.0 / shape);
                // Γ(1 + 2/k) outgrows Γ(1 + 1/k)²: infinite stays infinite
                // rather than inf - inf.
                let variance = if g2.is_infinite() {
                    f64::INFINITY
                } else {
                    g2 - g1 * g1
                };
                scale * variance.max(0.0).sqrt()
            }
            DistSpec::Triangular { min, mode, max } => {
                ((min * min + mode * mode + max * max - min * mode - min * max - mode * max) / 18.0)
                    .sqrt()
            }
            DistSpec::Uniform { min, max } => (max - min) / 12f64.sqrt(),
            DistSpec::Empirical { values, .. } => {
                let m = self.empirical_moment(values, 1);
                (self.empirical_moment(values, 2) - m * m).max(0.0).sqrt()
            }
        }
    }

    fn empirical_moment(&self, values: &[f64], power: i32) -> f64 {
        let Kind::Empirical { cumulative, .. } = &self.kind else {
            return 0.0;
        };
        let mut prev = 0.0;
        values
            .iter()
            .zip(cumulative)
            .map(|(v, &c)| {
                let p = c - prev;
                prev = c;
                p * v.powi(power)
            })
            .sum()
    }
}

/// A uniform draw in (0, 1], safe for `ln`.
#[inline]
fn open01<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    let u: f64 = StandardUniform.sample(rng);
    1.0 - u
}

/// The gamma function, by the Lanczos approximation (g = 7, n = 9), accurate to
/// about 1e-15 relative for the arguments used here (> 1).
fn gamma_fn(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        return std::f64::consts::PI / ((std::f64::consts::PI * x).sin() * gamma_fn(1.0 - x));
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    if x > 140.0 {
        // t^(x + 1/2) alone would overflow (and x e^-t underflow to NaN):
        // the same formula in logarithms, infinite past Γ(171.6).
        let ln = 0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln();
        return ln.exp();
    }
    (2.0 * std::f64::consts::PI).sqrt() * t.powf(x + 0.5) * (-t).exp() * a
}

// ---------------------------------------------------------------------------
// The families as a scenario file names them: `dist = "..."` and parameters.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ParamKind {
    Duration,
    Number,
    Durations,
    Numbers,
}

pub(crate) struct ParamSpec {
    pub(crate) name: &'static str,
    pub(crate) kind: ParamKind,
    pub(crate) required: bool,
}

pub(crate) enum ParamValue {
    One(f64),
    List(Vec<f64>),
}

impl ParamValue {
    fn one(&self) -> f64 {
        match self {
            ParamValue::One(v) => *v,
            ParamValue::List(_) => f64::NAN,
        }
    }

    fn list(&self) -> Vec<f64> {
        match self {
            ParamValue::List(v) => v.clone(),
            ParamValue::One(v) => vec![*v],
        }
    }
}

/// A distribution family: its name in files, its parameters (in the order
/// `build` reads them) and how to make a [`DistSpec`] from them.
pub(crate) struct Family {
    pub(crate) name: &'static str,
    pub(crate) params: &'static [ParamSpec],
    pub(crate) build: fn(&[ParamValue]) -> DistSpec,
}

const fn req(name: &'static str, kind: ParamKind) -> ParamSpec {
    ParamSpec {
        name,
        kind,
        required: true,
    }
}

use ParamKind::{Duration as D, Durations as DS, Number as N, Numbers as NS};

/// Every parameter name of any family, each once, in table order.
pub(crate) fn dist_parameter_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Vec::new();
    for p in FAMILIES.iter().flat_map(|f| f.params) {
        if !names.contains(&p.name) {
            names.push(p.name);
        }
    }
    names
}

/// Whether `param` is a parameter of the distribution family `family`;
/// `None` when `family` is not a family name.
pub(crate) fn is_dist_parameter(family: &str, param: &str) -> Option<bool> {
    FAMILIES
        .iter()
        .find(|f| f.name == family)
        .map(|f| f.params.iter().any(|p| p.name == param))
}

/// The table of `docs/scenario-format.md`. `build` only runs after every required
/// parameter was read, so indexing `p` is within bounds; `get` keeps it total.
pub(crate) const FAMILIES: &[Family] = &[
    Family {
        name: "fixed",
        params: &[req("value", D)],
        build: |p| DistSpec::Fixed { value: at(p, 0) },
    },
    Family {
        name: "exponential",
        params: &[req("mean", D)],
        build: |p| DistSpec::Exponential { mean: at(p, 0) },
    },
    Family {
        name: "lognormal",
        params: &[req("mean", D), req("sd", D)],
        build: |p| DistSpec::LogNormal {
            mean: at(p, 0),
            sd: at(p, 1),
        },
    },
    Family {
        name: "gamma",
        params: &[req("mean", D), req("sd", D)],
        build: |p| DistSpec::Gamma {
            mean: at(p, 0),
            sd: at(p, 1),
        },
    },
    Family {
        name: "weibull",
        params: &[req("shape", N), req("scale", D)],
        build: |p| DistSpec::Weibull {
            shape: at(p, 0),
            scale: at(p, 1),
        },
    },
    Family {
        name: "triangular",
        params: &[req("min", D), req("mode", D), req("max", D)],
        build: |p| DistSpec::Triangular {
            min: at(p, 0),
            mode: at(p, 1),
            max: at(p, 2),
        },
    },
    Family {
        name: "uniform",
        params: &[req("min", D), req("max", D)],
        build: |p| DistSpec::Uniform {
            min: at(p, 0),
            max: at(p, 1),
        },
    },
    Family {
        name: "empirical",
        params: &[
            req("values", DS),
            ParamSpec {
                name: "weights",
                kind: NS,
                required: false,
            },
        ],
        build: |p| DistSpec::Empirical {
            values: p.first().map(ParamValue::list).unwrap_or_default(),
            weights: p.get(1).map(ParamValue::list).unwrap_or_default(),
        },
    },
];

/// Parameter `i` as a number; NaN (refused by `Dist::new`) if absent.
fn at(p: &[ParamValue], i: usize) -> f64 {
    p.get(i).map_or(f64::NAN, ParamValue::one)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gamma_function_known_values() {
        assert!((gamma_fn(5.0) - 24.0).abs() < 1e-10);
        assert!((gamma_fn(1.5) - std::f64::consts::PI.sqrt() / 2.0).abs() < 1e-12);
        assert_eq!(gamma_fn(1001.0), f64::INFINITY);
        assert_eq!(gamma_fn(172.0), f64::INFINITY);
        // 170! = 7.257415615307994e306
        assert!((gamma_fn(171.0) / 7.257_415_615_307_994e306 - 1.0).abs() < 1e-12);
        assert!((gamma_fn(141.0) / 1.346_201_247_571_752_5e241 - 1.0).abs() < 1e-12);
    }

    #[test]
    fn refuses_bad_parameters() {
        assert!(Dist::new(DistSpec::LogNormal { mean: 0.0, sd: 1.0 }).is_err());
        assert!(
            Dist::new(DistSpec::Gamma {
                mean: 1.0,
                sd: f64::NAN
            })
            .is_err()
        );
        assert!(
            Dist::new(DistSpec::Triangular {
                min: 2.0,
                mode: 1.0,
                max: 3.0
            })
            .is_err()
        );
        assert!(Dist::new(DistSpec::Uniform { min: 2.0, max: 2.0 }).is_err());
        assert!(
            Dist::new(DistSpec::Empirical {
                values: vec![1.0],
                weights: vec![1.0, 2.0]
            })
            .is_err()
        );
        assert!(
            Dist::new(DistSpec::Empirical {
                values: vec![1.0, 2.0],
                weights: vec![0.0, 0.0]
            })
            .is_err()
        );
        assert!(Dist::new(DistSpec::Fixed { value: -1.0 }).is_err());
        // Finite parameters, moments not finite.
        let weibull = |shape| Dist::new(DistSpec::Weibull { shape, scale: 96.0 });
        let e = weibull(0.001).expect_err("infinite mean");
        assert!(e.0.contains("an infinite mean (inf h)"), "{e}");
        let e = weibull(0.01).expect_err("infinite variance");
        assert!(e.0.contains("an infinite variance (inf h²)"), "{e}");
        assert!(weibull(0.5).is_ok());
        let e = Dist::new(DistSpec::Empirical {
            values: vec![24.0, 48.0],
            weights: vec![1e308, 1e308],
        })
        .expect_err("weights summing past the largest number");
        assert!(
            e.0.contains("positive, finite sum, found a sum of inf"),
            "{e}"
        );
    }
}

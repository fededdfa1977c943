//! Every duration distribution: sample mean and standard deviation against
//! the parameters, with tolerances from the standard errors.
//!
//! The mean is checked within 4 standard errors (`sd / sqrt(n)`, theory sd).
//! The variance is checked within 4 standard errors estimated from 50
//! independent batches (the batch variances are i.i.d., so their mean's
//! standard error is their sd over sqrt(50)); this needs no fourth moment,
//! which the lognormal's heavy tail makes large.

use patientflow::engine::{StreamKey, StreamRng};
use patientflow::scenario::dist::{Dist, DistSpec};

const BATCHES: usize = 50;
const PER_BATCH: usize = 20_000;

fn check(spec: DistSpec, theory_mean: f64, theory_sd: f64, seed: u64) {
    let dist = Dist::new(spec.clone()).expect("valid parameters");
    assert!(
        (dist.mean() - theory_mean).abs() < 1e-9 * theory_mean.max(1.0),
        "{spec:?} mean()"
    );
    assert!(
        (dist.sd() - theory_sd).abs() < 1e-9 * theory_sd.max(1.0),
        "{spec:?} sd()"
    );
    let mut rng = StreamRng::new(StreamKey::new(seed, 0, 99, 0));
    let mut batch_vars = Vec::with_capacity(BATCHES);
    let mut total = 0.0;
    for _ in 0..BATCHES {
        let xs: Vec<f64> = (0..PER_BATCH).map(|_| dist.sample(&mut rng)).collect();
        assert!(
            xs.iter().all(|x| x.is_finite() && *x >= 0.0),
            "{spec:?}: bad sample"
        );
        let m = xs.iter().sum::<f64>() / PER_BATCH as f64;
        total += m;
        let v = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (PER_BATCH - 1) as f64;
        batch_vars.push(v);
    }
    let n = (BATCHES * PER_BATCH) as f64;
    let mean = total / BATCHES as f64;
    let se_mean = theory_sd / n.sqrt();
    assert!(
        (mean - theory_mean).abs() <= 4.0 * se_mean + 1e-12,
        "{spec:?}: sample mean {mean}, theory {theory_mean}, 4 SE = {}",
        4.0 * se_mean
    );
    let var_mean = batch_vars.iter().sum::<f64>() / BATCHES as f64;
    let var_sd = (batch_vars
        .iter()
        .map(|v| (v - var_mean).powi(2))
        .sum::<f64>()
        / (BATCHES - 1) as f64)
        .sqrt();
    let se_var = var_sd / (BATCHES as f64).sqrt();
    let theory_var = theory_sd * theory_sd;
    assert!(
        (var_mean - theory_var).abs() <= 4.0 * se_var + 1e-12,
        "{spec:?}: sample variance {var_mean}, theory {theory_var}, 4 SE = {}",
        4.0 * se_var
    );
}

#[test]
fn fixed() {
    check(DistSpec::Fixed { value: 3.5 }, 3.5, 0.0, 1);
}

#[test]
fn exponential() {
    check(DistSpec::Exponential { mean: 12.0 }, 12.0, 12.0, 2);
}

#[test]
fn lognormal_by_mean_and_sd_of_the_duration() {
    check(
        DistSpec::LogNormal {
            mean: 264.0,
            sd: 312.0,
        },
        264.0,
        312.0,
        3,
    );
    check(DistSpec::LogNormal { mean: 1.7, sd: 0.7 }, 1.7, 0.7, 4);
}

#[test]
fn gamma_by_mean_and_sd() {
    check(DistSpec::Gamma { mean: 6.0, sd: 3.0 }, 6.0, 3.0, 5);
    // Shape below one (sd > mean).
    check(
        DistSpec::Gamma {
            mean: 24.0,
            sd: 48.0,
        },
        24.0,
        48.0,
        6,
    );
}

#[test]
fn weibull() {
    // shape 2, scale 10: mean 10 Gamma(1.5) = 8.862269, sd 10 sqrt(1 - pi/4).
    let mean = 10.0 * 0.886_226_925_452_758;
    let sd = 10.0 * (1.0 - std::f64::consts::PI / 4.0).sqrt();
    check(
        DistSpec::Weibull {
            shape: 2.0,
            scale: 10.0,
        },
        mean,
        sd,
        7,
    );
}

#[test]
fn triangular() {
    let (a, c, b): (f64, f64, f64) = (1.0, 2.0, 6.0);
    let sd = ((a * a + b * b + c * c - a * b - a * c - b * c) / 18.0).sqrt();
    check(
        DistSpec::Triangular {
            min: a,
            mode: c,
            max: b,
        },
        3.0,
        sd,
        8,
    );
}

#[test]
fn uniform() {
    check(
        DistSpec::Uniform { min: 2.0, max: 8.0 },
        5.0,
        6.0 / 12f64.sqrt(),
        9,
    );
}

#[test]
fn empirical_with_weights() {
    // Values 1, 2, 10 with weights 1, 2, 1: mean (1 + 4 + 10) / 4 = 3.75.
    let mean = 3.75;
    let second = (1.0 + 2.0 * 4.0 + 100.0) / 4.0;
    check(
        DistSpec::Empirical {
            values: vec![1.0, 2.0, 10.0],
            weights: vec![1.0, 2.0, 1.0],
        },
        mean,
        (second - mean * mean).sqrt(),
        10,
    );
}

//! The board measures (`docs/model.md`, "Metrics"): stranded and
//! super-stranded patients, zero-day stays, the no-criteria-to-reside count,
//! the fit-to-leave wait, occupancy as a share of beds and care home
//! residents' admissions per resident-year, each against a value from
//! queueing theory or an exact identity, with a fixed seed and a tolerance of
//! four standard errors of the mean over replications.

use patientflow::experiment::{Progress, run_replications};
use patientflow::model::Prepared;
use patientflow::model::metrics::Metric;
use patientflow::scenario::load;
use statrs::distribution::{ContinuousCDF, Normal};

use crate::common::root;

/// Values of `metrics` in each replication of the validation `case`.
fn values(case: &str, sets: &[&str], metrics: &[Metric]) -> Vec<Vec<f64>> {
    let path = root().join("scenarios/validation").join(case);
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let loaded = load(&path, &sets).expect("the case loads");
    let replications = loaded.scenario.replications;
    let prepared = Prepared::new(loaded.scenario);
    let reps: Vec<u32> = (0..replications).collect();
    let results = run_replications(&prepared, &reps, 0, Progress::Hidden).expect("runs");
    metrics
        .iter()
        .map(|&m| results.iter().map(|r| r.metrics[m]).collect())
        .collect()
}

/// Mean and standard error of the mean.
fn mean_se(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

fn assert_within_4_se(name: &str, xs: &[f64], theory: f64) {
    let (mean, se) = mean_se(xs);
    assert!(
        (mean - theory).abs() <= 4.0 * se,
        "{name}: simulated {mean} (SE {se}) against theory {theory}"
    );
}

/// Lognormal length of stay with mean and sd in days: (mu, sigma) of its log.
fn lognormal(mean: f64, sd: f64) -> (f64, f64) {
    let s2 = (1.0 + (sd / mean).powi(2)).ln();
    (mean.ln() - s2 / 2.0, s2.sqrt())
}

/// E[(S - a)+] for a lognormal S: the mean time beyond `a`, which by
/// Little's law for the M/G/infinity system is the mean number in for
/// longer than `a`, divided by the arrival rate.
fn lognormal_excess_mean(mu: f64, sigma: f64, a: f64) -> f64 {
    let z = Normal::standard();
    let mean = (mu + sigma * sigma / 2.0).exp();
    mean * z.cdf((mu + sigma * sigma - a.ln()) / sigma) - a * z.sf((a.ln() - mu) / sigma)
}

#[test]
fn stranded_and_zero_day_stays_match_m_g_infinity() {
    // Case 3: Poisson admissions at 20 a day into unlimited beds, lognormal
    // stays (mean 4 d, sd 4 d), every patient home at medically fit.
    let metrics = [
        Metric::StrandedCensusMean,
        Metric::SuperStrandedCensusMean,
        Metric::ZeroDayStayShare,
        Metric::NctrCensusMean,
        Metric::ReadyToLeaveWaitMeanDays,
        Metric::BedOccupancyShare,
        Metric::BedOccupancyMean,
        Metric::SuperStrandedBedShare,
        Metric::MidnightCensusMean,
    ];
    let v = values("mg-infinity-beds.toml", &[], &metrics);
    let (mu, sigma) = lognormal(4.0, 4.0);
    let lambda = 20.0;
    // The number in for 7+ days at any instant of the stationary system is
    // Poisson with mean lambda E[(S - 7)+]; the midnights' mean estimates it.
    assert_within_4_se(
        "stranded_census_mean",
        &v[0],
        lambda * lognormal_excess_mean(mu, sigma, 7.0),
    );
    assert_within_4_se(
        "super_stranded_census_mean",
        &v[1],
        lambda * lognormal_excess_mean(mu, sigma, 21.0),
    );
    // Stays under a day: P(S < 1 d).
    let p_short = Normal::standard().cdf((1.0f64.ln() - mu) / sigma);
    assert_within_4_se("zero_day_stay_share", &v[2], p_short);
    // Nobody stays past medically fit when the discharge hours are always open.
    #[allow(clippy::needless_range_loop)] // several metrics of replication r
    for r in 0..v[3].len() {
        assert_eq!(v[3][r], 0.0, "nctr_census_mean, replication {r}");
        assert_eq!(
            v[4][r], 0.0,
            "ready_to_leave_wait_mean_days, replication {r}"
        );
        // 100,000 beds all the time: the share is the mean over the beds.
        let share = v[6][r] / 100_000.0;
        assert!(
            (v[5][r] - share).abs() <= 1e-12 * share,
            "bed_occupancy_share"
        );
        assert!(
            (v[7][r] - v[1][r] / v[8][r]).abs() <= 1e-12,
            "super_stranded_bed_share"
        );
    }
}

#[test]
fn no_criteria_to_reside_counts_the_process_delay() {
    // The same beds, every patient on P1 with a fixed 2-day process delay and
    // ample community places: medically fit patients are in bed for exactly
    // 2 days, so at any instant their number is Poisson(20 x 2), and each
    // waits 2 days from fit to leaving.
    let v = values(
        "mg-infinity-beds.toml",
        &[
            "pathways.other={p0=0.0,p1=1.0,p2=0.0,p3=0.0}",
            "pathways.process_delay.p1={dist=\"fixed\",value=\"2d\"}",
            "community.teams=100",
            "community.caseload_per_team=100",
            "community.episode.discharge={dist=\"fixed\",value=\"1h\"}",
        ],
        &[Metric::NctrCensusMean, Metric::ReadyToLeaveWaitMeanDays],
    );
    assert_within_4_se("nctr_census_mean", &v[0], 40.0);
    for (r, wait) in v[1].iter().enumerate() {
        assert!(
            (wait - 2.0).abs() < 1e-9,
            "ready_to_leave_wait_mean_days {wait}, replication {r}"
        );
    }
}

#[test]
fn care_home_residents_admissions_per_resident_year_match_their_crisis_rate() {
    // Care homes alone: 200 beds full of residents staying far beyond the run,
    // 2 crises a resident-year while in their bed, every crisis admitted
    // (frail, no PRU, no frailty unit) for exactly 2 days, during which the
    // resident keeps the bed but has no crisis clock: a renewal process with
    // cycles of mean 1/2 + 2/365 years, so 2 / (1 + 2 x 2/365) admissions per
    // resident-year.
    let v = values(
        "services-off.toml",
        &[
            "care_homes.beds=200",
            "care_homes.initial_occupancy=1.0",
            "care_homes.stay={dist=\"fixed\",value=\"20000d\"}",
            "care_homes.crises_per_resident_year=2.0",
            "ed.frail_admit_share=1.0",
            "acute.beds=1000",
            "acute.los.frail={dist=\"fixed\",value=\"2d\"}",
            "scenario.horizon=365d",
        ],
        &[
            Metric::CareHomeAdmissionsPerResidentYear,
            Metric::Admissions,
        ],
    );
    let theory = 2.0 / (1.0 + 2.0 * 2.0 / 365.0);
    assert_within_4_se("care_home_admissions_per_resident_year", &v[0], theory);
    // Residents away in hospital still hold their bed: resident-years are
    // 200 a year, so the rate is the admissions over 200.
    for (rate, admissions) in v[0].iter().zip(&v[1]) {
        assert!((rate - admissions / 200.0).abs() < 1e-9);
    }
}

#[test]
fn delayed_transfers_per_100k_adults_scale_the_delayed_bed_days() {
    // The baseline, a short run: with 100,000 adults the rate is the mean
    // number delayed (delayed bed days over the window's days); without a
    // population it is undefined.
    let with = values(
        "../tower-hamlets-baseline.toml",
        &[
            "population.adults=100000",
            "scenario.horizon=60d",
            "scenario.replications=4",
        ],
        &[Metric::DelayedPer100kAdults, Metric::DelayedBedDays],
    );
    for (rate, bed_days) in with[0].iter().zip(&with[1]) {
        assert!((rate - bed_days / 60.0).abs() <= 1e-9 * bed_days.max(1.0));
    }
    let without = values(
        "../tower-hamlets-baseline.toml",
        &[
            "population.adults=0",
            "scenario.horizon=60d",
            "scenario.replications=2",
        ],
        &[Metric::DelayedPer100kAdults],
    );
    assert!(without[0].iter().all(|v| v.is_nan()));
}

//! Every figure called "avoided" is a counterfactual (`docs/model.md`,
//! "Counterfactual arms"): `admissions_avoided_pru` and
//! `admissions_avoided_frailty_unit` must equal the paired difference from a
//! run with the service switched off, and agree with what theory expects
//! where the services do not interact.

use std::fs;

use patientflow::experiment::{Progress, run_replications};
use patientflow::model::metrics::Metric;
use patientflow::model::{Prepared, Stopped};
use patientflow::scenario::{Scenario, load};

use crate::common::{baseline, root, run_ok, summary_mean, write_extending};

/// The mean of `metric` in a run's `summary.csv`.
#[test]
fn each_avoided_figure_is_the_paired_run_with_its_service_off() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let base = baseline();
    let reps = ["--replications", "12"];
    let run_dir = tmp.path().join("run");
    run_ok(&[&["run", base.as_str()][..], &reps[..]].concat(), &run_dir);
    for (table, key, metric) in [
        ("pru", "cars", "admissions_avoided_pru"),
        ("frailty_unit", "slots", "admissions_avoided_frailty_unit"),
    ] {
        // A plan a planner could write: the baseline with the service off.
        let plan = write_extending(
            tmp.path(),
            &format!("{table}-off.toml"),
            &base,
            &format!("[scenario]\nname = \"{table} off\"\n[{table}]\n{key} = 0\n"),
        );
        let out = tmp.path().join(format!("{table}-compare"));
        run_ok(
            &[
                &["compare", base.as_str(), plan.to_str().expect("utf-8")][..],
                &reps[..],
            ]
            .concat(),
            &out,
        );
        let csv = fs::read_to_string(out.join("comparison.csv")).expect("comparison.csv");
        let row: Vec<&str> = csv
            .lines()
            .find(|l| l.split(',').nth(1) == Some("admissions"))
            .expect("admissions row")
            .split(',')
            .collect();
        // plan minus baseline, paired over the same replications.
        let paired: f64 = row[5].parse().expect("diff_mean");
        let avoided = summary_mean(&run_dir, metric);
        assert!(avoided > 100.0, "{metric} = {avoided}");
        assert!(
            (avoided - paired).abs() <= 1e-9 * avoided.abs(),
            "{metric} {avoided} is not the paired difference {paired}"
        );
    }
}

/// The verification base with the [`COMMON`] sets, then `sets`.
fn common_with(sets: &[&str]) -> Scenario {
    let path = root().join("scenarios/validation/services-off.toml");
    let sets: Vec<String> = COMMON.iter().chain(sets).map(|s| s.to_string()).collect();
    load(&path, &sets).expect("loads").scenario
}

/// Per-replication values of `metrics` in the verification base with the
/// [`COMMON`] sets, then `sets`.
fn values(sets: &[&str], metrics: &[Metric]) -> Vec<Vec<f64>> {
    let scenario = common_with(sets);
    let reps: Vec<u32> = (0..scenario.replications).collect();
    let results =
        run_replications(&Prepared::new(scenario), &reps, 0, Progress::Hidden).expect("runs");
    metrics
        .iter()
        .map(|&m| results.iter().map(|r| r.metrics[m]).collect())
        .collect()
}

/// The first of `v` (what a service avoided, a replication each) is
/// `share` times the second (what it did, over 100 in every replication),
/// within four standard errors.
fn assert_avoids_share(what: &str, v: &[Vec<f64>], share: f64) {
    assert!(v[1].iter().all(|&t| t > 100.0), "{what}: {:?}", v[1]);
    let d: Vec<f64> = v[0].iter().zip(&v[1]).map(|(a, t)| a - share * t).collect();
    assert_mean_zero_within_4_se(what, &d);
}

/// `xs` has mean 0 within four standard errors of the mean.
fn assert_mean_zero_within_4_se(what: &str, xs: &[f64]) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let se = (var / n).sqrt();
    assert!(se > 0.0, "{what}: no variation");
    assert!(mean.abs() <= 4.0 * se, "{what}: mean {mean}, se {se}");
}

const COMMON: [&str; 6] = [
    "demand.crises_per_day=40",
    "demand.frail_share=0.5",
    "acute.beds=2000",
    "scenario.horizon=60d",
    "ed.frail_admit_share=0.35",
    "ed.other_admit_share=0.35",
];

/// A PRU open 08:00-20:00 (no visit runs past the end of the window) that
/// treats 60% of its visits at home.
const PRU: [&str; 5] = [
    "pru.cars=3",
    "pru.open=\"08:00-20:00\"",
    "pru.eligible_share=0.5",
    "pru.visit={dist=\"exponential\",mean=\"1.5h\"}",
    "pru.treated_at_home=0.6",
];

#[test]
fn the_pru_avoids_its_home_treatments_times_the_admission_share() {
    // No frailty unit and one admission share for everyone: each patient
    // the PRU treats at home would have been admitted with share 0.35, so
    // E[avoided] = 0.35 E[treated at home]. The PRU closes at 20:00, so no
    // visit runs past the end of the window.
    let v = values(
        &PRU,
        &[Metric::AdmissionsAvoidedPru, Metric::PruTreatedAtHome],
    );
    assert_avoids_share("PRU", &v, 0.35);
}

#[test]
fn with_treatable_patients_the_pru_avoids_their_own_admission_share() {
    // With ed.home_treatable_admit_share = 0.097 (Joy et al. 2020) a patient
    // the PRU treats at home would have been admitted with share 0.097, not
    // the ED's 0.35: E[avoided] = 0.097 E[treated at home], and the
    // treatable patients the PRU misses are admitted at 0.097 too, so
    // E[admissions] = 0.097 (eligible x 0.6 - treated) + 0.35 (crises -
    // eligible x 0.6) over the crises of the window.
    let treatable = ["ed.home_treatable_admit_share=0.097"];
    let v = values(
        &[&PRU[..], &treatable].concat(),
        &[
            Metric::AdmissionsAvoidedPru,
            Metric::PruTreatedAtHome,
            Metric::Admissions,
            Metric::PruEligible,
            Metric::Crises,
        ],
    );
    assert_avoids_share("PRU, treatable", &v, 0.097);
    let d: Vec<f64> = (0..v[0].len())
        .map(|r| {
            let treatable = 0.6 * v[3][r];
            v[2][r] - 0.097 * (treatable - v[1][r]) - 0.35 * (v[4][r] - treatable)
        })
        .collect();
    assert_mean_zero_within_4_se("admissions, treatable", &d);
}

#[test]
fn the_frailty_unit_avoids_the_difference_in_admission_shares() {
    // No PRU. A frail patient the unit assesses is admitted with share
    // 1 - 0.7 = 0.3, and without the unit with 0.35 + 0.4 = 0.75 (frail
    // share raised below): E[avoided] = 0.45 E[assessed].
    let frailty_unit = [
        "ed.frail_admit_share=0.75",
        "frailty_unit.slots=2",
        "frailty_unit.open=\"08:00-20:00\"",
        "frailty_unit.assessment={dist=\"exponential\",mean=\"3h\"}",
        "frailty_unit.discharged_same_day=0.7",
    ];
    let v = values(
        &frailty_unit,
        &[Metric::AdmissionsAvoidedFrailtyUnit, Metric::FauAssessed],
    );
    assert_avoids_share("frailty unit", &v, 0.45);
}

#[test]
fn a_service_that_is_off_avoids_nothing_and_runs_no_arm() {
    let v = values(
        &[],
        &[
            Metric::AdmissionsAvoidedPru,
            Metric::AdmissionsAvoidedFrailtyUnit,
        ],
    );
    assert!(v.iter().flatten().all(|&x| x == 0.0));
}

#[test]
fn an_arm_that_overloads_stops_the_run_and_says_which() {
    // The PRU treats every crisis at home; without it every crisis is
    // admitted to no beds, and that queue passes the bound.
    let scenario = common_with(&[
        "acute.beds=0",
        "pru.cars=1000",
        "pru.open=\"00:00-24:00\"",
        "pru.eligible_share=1.0",
        "pru.treated_at_home=1.0",
        "ed.frail_admit_share=1.0",
        "ed.other_admit_share=1.0",
    ]);
    let prepared = Prepared::new(scenario).with_queue_limit(500);
    match prepared.simulate(0) {
        Err(Stopped::InArm { metric, reason, .. }) => {
            assert_eq!(metric, "admissions_avoided_pru");
            assert!(matches!(*reason, Stopped::Overloaded { .. }), "{reason}");
        }
        other => panic!("expected the PRU-off arm to stop, got {other:?}"),
    }
}

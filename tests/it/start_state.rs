//! The starting state is a fact about today, not a function of a plan's
//! capacity (`docs/model.md`, "Care homes"): `care_homes.initial_residents`
//! gives the same residents to a plan and its baseline, the earlier
//! `initial_occupancy` keeps its meaning, and a plan that only adds capacity
//! nobody is waiting for changes nothing.

use std::fs;

use patientflow::experiment::{Progress, run_replications};
use patientflow::model::Prepared;
use patientflow::model::metrics::Series;
use patientflow::scenario::load;

use crate::common::{baseline, refused_run, root, run_ok};

/// The care home residents at each midnight of each replication of the
/// scenario at `path` with `sets`, run from time zero (no warm-up).
fn residents(path: &std::path::Path, sets: &[&str]) -> Vec<Vec<f64>> {
    let mut sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    sets.push("scenario.warm_up=0d".into());
    let loaded = load(path, &sets).expect("the scenario loads");
    let replications = loaded.scenario.replications.min(8);
    let prepared = Prepared::new(loaded.scenario);
    let reps: Vec<u32> = (0..replications).collect();
    run_replications(&prepared, &reps, 0, Progress::Hidden)
        .expect("runs")
        .into_iter()
        .map(|r| r.daily[Series::CareHomeResidents.index()].clone())
        .collect()
}

#[test]
fn a_plan_starts_from_its_baselines_residents() {
    let plan = root().join("scenarios/plans/thirty-more-care-home-beds.toml");
    for series in residents(&plan, &["scenario.horizon=2d"]) {
        // Midnight 0 is time zero, after the starting residents moved in.
        assert_eq!(series[0], 305.0, "the plan starts with the baseline's 305");
    }
    for series in residents(
        std::path::Path::new(&baseline()),
        &["scenario.horizon=2d", "care_homes.beds=250"],
    ) {
        assert_eq!(series[0], 305.0, "fewer beds than residents: all 305 stay");
    }
}

#[test]
fn initial_occupancy_keeps_its_earlier_meaning() {
    // A file written before `initial_residents`: the count follows the beds.
    let minimal = root().join("tests/data/scenarios/minimal.toml");
    let text = fs::read_to_string(&minimal).expect("minimal.toml");
    assert!(text.contains("initial_occupancy = 0.9"));
    for (beds, expected) in [(100, 90.0), (105, 95.0), (0, 0.0)] {
        let set = format!("care_homes.beds={beds}");
        for series in residents(&minimal, &["scenario.horizon=2d", &set]) {
            // round(105 x 0.9) = round(94.5) = 95: halves away from zero.
            assert_eq!(series[0], expected, "beds {beds}");
        }
    }
}

#[test]
fn closed_beds_are_not_granted_again() {
    // 305 residents in 200 beds: until the residents fall below 200 no bed
    // is granted, so the count never rises while it is at or above 200.
    let mut saw_fall = false;
    for series in residents(
        std::path::Path::new(&baseline()),
        &["scenario.horizon=400d", "care_homes.beds=200"],
    ) {
        for pair in series.windows(2) {
            if pair[0] >= 200.0 {
                assert!(
                    pair[1] <= pair[0],
                    "a bed was granted above capacity: {} then {}",
                    pair[0],
                    pair[1]
                );
            }
        }
        saw_fall |= series.last().is_some_and(|&last| last < 305.0);
        assert!(series.iter().all(|&r| r <= 305.0));
    }
    assert!(saw_fall, "residents leave over 400 days");
}

#[test]
fn capacity_nobody_waits_for_has_no_effect_on_any_metric() {
    // The baseline with the earlier queue rule for its care homes (hospital
    // patients first, no placement search): at ~90% occupancy nobody waits
    // for a care home bed, so thirty more beds change nobody's path: every
    // paired difference is 0 (its CI includes 0). With the earlier start
    // (residents a share of the plan's beds) this plan showed ~12 more
    // admissions a year, all from the start. (With the shipped baseline's
    // placement search, people do wait: tests/it/care_home_search.rs.)
    let dir = tempfile::tempdir().expect("tempdir");
    let text = fs::read_to_string(baseline()).expect("the baseline");
    let search = text
        .lines()
        .find(|l| l.starts_with("search_at_one_free_bed"))
        .expect("the baseline's placement search");
    let queue_rule = text.replacen(search, "hospital_first = true", 1);
    let base = dir.path().join("queue-rule-baseline.toml");
    fs::write(&base, queue_rule).expect("write the baseline");
    let plan = dir.path().join("thirty-more-beds.toml");
    fs::write(
        &plan,
        "extends = \"queue-rule-baseline.toml\"\n[care_homes]\nbeds = 369\n",
    )
    .expect("write the plan");
    let out = dir.path().join("out");
    run_ok(
        &[
            "compare",
            &base.display().to_string(),
            &plan.display().to_string(),
            "--replications",
            "20",
        ],
        &out,
    );
    let csv = fs::read_to_string(out.join("comparison.csv")).expect("comparison.csv");
    let mut header = csv.lines().next().expect("header").split(',');
    let col = |name: &str, header: &mut std::str::Split<'_, char>| {
        header.position(|h| h == name).expect("column")
    };
    let (lo, hi) = (
        col("diff_ci95_low", &mut header.clone()),
        col("diff_ci95_high", &mut header),
    );
    let mut checked = 0;
    for line in csv.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        // A metric with no value (no population given) has empty cells.
        let (Ok(lo), Ok(hi)) = (cells[lo].parse::<f64>(), cells[hi].parse::<f64>()) else {
            continue;
        };
        assert!(lo <= 0.0 && 0.0 <= hi, "an effect from nothing: {line}");
        checked += 1;
    }
    assert!(checked >= 40, "only {checked} metrics compared");
}

#[test]
fn both_ways_of_giving_the_residents_are_refused_together() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sets = ["care_homes.initial_occupancy=0.9"];
    let says = ["care_homes.initial_occupancy", "initial_residents"];
    refused_run(&baseline(), &sets, &says);
    // Neither: the table is named and both keys are offered.
    let text = fs::read_to_string(baseline()).expect("baseline");
    let without: String = text
        .lines()
        .filter(|l| !l.starts_with("initial_residents"))
        .map(|l| format!("{l}\n"))
        .collect();
    let file = dir.path().join("no-residents.toml");
    fs::write(&file, without).expect("write");
    let says = [
        "no-residents.toml:",
        "care_homes.initial_residents",
        "initial_occupancy",
    ];
    refused_run(file.to_str().expect("utf-8"), &[], &says);
}

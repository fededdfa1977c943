//! The mental health system (`docs/model.md`, "Mental health"): switched
//! off it changes nothing; every patient is accounted for; the beds with
//! out-of-area overflow are Erlang B's loss system; supported accommodation
//! obeys Little's law; the CRHT counterfactual is the paired run with CRHT
//! off; its keys' errors are located.

use std::fs;
use std::path::{Path, PathBuf};

use patientflow::experiment::{Progress, run_replications};
use patientflow::model::metrics::Metric;
use patientflow::model::{Prepared, Resource, TraceEvent};
use patientflow::queueing::erlang_b;
use patientflow::scenario::load;

use crate::common::{
    baseline, bin, refused_run, replications_column, root, run_ok, write_extending,
};

/// A `[mental_health]` table with every required key; `extra` lines are
/// appended inside it (later keys of the same name are refused by TOML, so
/// callers pass only keys not given here, or use `--set`).
fn mh_table(extra: &str) -> String {
    format!(
        "[mental_health]\n\
         crises_per_day = 6.0\n\
         referrals_per_day = 1.0\n\
         liaison_assessment = {{ dist = \"exponential\", mean = \"4h\" }}\n\
         ed_admit_share = 0.2\n\
         ed_crht_share = 0.3\n\
         beds = 30\n\
         stay = {{ dist = \"lognormal\", mean = \"20d\", sd = \"20d\" }}\n\
         out_of_area_after = \"24h\"\n\
         pathways = {{ home = 0.8, supported = 0.15, care_home = 0.05 }}\n\
         crht = {{ places = 20, open = \"08:30-22:00\", episode = {{ dist = \"gamma\", mean = \"14d\", sd = \"7d\" }}, escalation_share = 0.2, when_full = \"wait\" }}\n\
         supported_accommodation = {{ places = 10, stay = {{ dist = \"exponential\", mean = \"60d\" }} }}\n\
         {extra}\n"
    )
}

/// Writes a scenario extending `base` with `body` into `dir`; its path.
fn write_plan(dir: &Path, name: &str, base: &str, body: &str) -> PathBuf {
    write_extending(dir, &format!("{name}.toml"), base, body)
}

fn services_off() -> String {
    root()
        .join("scenarios/validation/services-off.toml")
        .display()
        .to_string()
}

/// The columns of `replications.csv` before the first `mh_` one, and the
/// lines of `daily.csv` of the other series.
fn physical_results(dir: &Path) -> (String, String) {
    let reps = fs::read_to_string(dir.join("replications.csv")).expect("replications.csv");
    let header: Vec<&str> = reps.lines().next().expect("header").split(',').collect();
    let keep = header
        .iter()
        .position(|h| h.starts_with("mh_"))
        .expect("mh_ columns");
    let reps: Vec<String> = reps
        .lines()
        .map(|l| l.split(',').take(keep).collect::<Vec<_>>().join(","))
        .collect();
    let daily = fs::read_to_string(dir.join("daily.csv")).expect("daily.csv");
    let daily: Vec<&str> = daily.lines().filter(|l| !l.contains(",mh_")).collect();
    (reps.join("\n"), daily.join("\n"))
}

/// Switched off (a table with no demand), every result file's values are
/// byte-identical to the baseline's; with demand but no care home pathway
/// (the one thing the two systems share), every physical-health result is.
#[test]
fn switched_off_or_apart_the_rest_of_the_model_is_unchanged() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // The baseline without its own mental health system.
    let base = crate::common::physical_baseline(tmp.path())
        .display()
        .to_string();
    let reps = ["--replications", "3", "--threads", "2"];
    let without = tmp.path().join("without");
    run_ok(&[&["run", base.as_str()][..], &reps[..]].concat(), &without);

    let zero = write_plan(
        tmp.path(),
        "zero",
        &base,
        &mh_table("")
            .replace("crises_per_day = 6.0", "crises_per_day = 0.0")
            .replace("referrals_per_day = 1.0", "referrals_per_day = 0.0"),
    );
    let zero_dir = tmp.path().join("zero-out");
    run_ok(
        &[&["run", zero.to_str().expect("utf-8")][..], &reps[..]].concat(),
        &zero_dir,
    );
    for file in ["replications.csv", "daily.csv"] {
        assert_eq!(
            fs::read(without.join(file)).expect("without"),
            fs::read(zero_dir.join(file)).expect("zero"),
            "{file} differs with a mental health table of no demand"
        );
    }

    let apart = write_plan(
        tmp.path(),
        "apart",
        &base,
        &mh_table("").replace(
            "pathways = { home = 0.8, supported = 0.15, care_home = 0.05 }",
            "pathways = { home = 0.8, supported = 0.2, care_home = 0.0 }",
        ),
    );
    let apart_dir = tmp.path().join("apart-out");
    run_ok(
        &[&["run", apart.to_str().expect("utf-8")][..], &reps[..]].concat(),
        &apart_dir,
    );
    assert_ne!(
        fs::read(without.join("replications.csv")).expect("without"),
        fs::read(apart_dir.join("replications.csv")).expect("apart"),
        "the mental health system ran"
    );
    assert_eq!(physical_results(&without), physical_results(&apart_dir));
}

/// Per-replication results of the verification base with `body` and `sets`.
fn results(body: &str, sets: &[&str]) -> Vec<patientflow::model::metrics::ReplicationResult> {
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = write_plan(tmp.path(), "mh", &services_off(), body);
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let loaded = load(&path, &sets).expect("loads");
    let reps: Vec<u32> = (0..loaded.scenario.replications).collect();
    run_replications(&Prepared::new(loaded.scenario), &reps, 0, Progress::Hidden).expect("runs")
}

fn mean_se(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

/// Every mental health patient is in exactly one place or has left, at the
/// end of runs that use every route (CRHT queue, out of area, repatriation,
/// supported accommodation, care homes, readmissions).
#[test]
fn every_mental_health_patient_is_in_one_place_or_has_left() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for (name, extra) in [
        (
            "wait",
            "repatriate = true\nreadmission = { window = \"30d\", share = 0.2 }\nprocess_delay = { dist = \"exponential\", mean = \"2d\" }",
        ),
        (
            "admit",
            "out_of_area_stay = { dist = \"fixed\", value = \"10d\" }",
        ),
    ] {
        let mut body = mh_table(extra);
        if name == "admit" {
            body = body.replace("when_full = \"wait\"", "when_full = \"admit\"");
        }
        body.push_str("[care_homes]\nbeds = 5\n");
        let path = write_plan(tmp.path(), name, &baseline(), &body);
        let sets = ["scenario.horizon=120d".to_string()];
        let loaded = load(&path, &sets).expect("loads");
        let prepared = Prepared::new(loaded.scenario);
        for r in 0..3 {
            let (result, census) = prepared.simulate_with_census(r).expect("runs");
            assert!(census.mh_arrived > 500, "{name}: {census:?}");
            assert!(census.mh_out_of_area + census.mh_in_bed > 0, "{name}");
            assert_eq!(
                census.mh_arrived,
                census.mh_accounted(),
                "{name}: {census:?}"
            );
            assert_eq!(
                census.arrived,
                census.in_pru
                    + census.in_frailty_unit
                    + census.waiting_for_bed
                    + census.in_bed
                    + census.left,
                "{name}"
            );
            let m = &result.metrics;
            assert!(m[Metric::MhOutOfAreaPlacements] > 0.0, "{name}");
            assert!(m[Metric::MhDelayedBedDays] > 0.0, "{name}");
            if name == "wait" {
                assert!(m[Metric::MhReadmissions] > 0.0, "{name}");
            }
        }
    }
}

/// The local beds alone with `out_of_area_after = "0h"` are an M/G/c/c
/// loss system: the share of admissions placed out of area is Erlang B
/// (the liaison assessment, fixed, keeps decisions to admit Poisson; a
/// lognormal stay checks insensitivity).
#[test]
fn beds_with_immediate_overflow_lose_erlang_b() {
    let (lambda, mean_days, beds) = (4.0, 5.0, 22);
    let body = format!(
        "[scenario]\nwarm_up = \"60d\"\nhorizon = \"200d\"\nreplications = 30\n\
         [mental_health]\n\
         crises_per_day = {lambda}\nreferrals_per_day = 0.0\n\
         liaison_assessment = {{ dist = \"fixed\", value = \"3h\" }}\n\
         ed_admit_share = 1.0\ned_crht_share = 0.0\nbeds = {beds}\n\
         stay = {{ dist = \"lognormal\", mean = \"{mean_days}d\", sd = \"6d\" }}\n\
         out_of_area_after = \"0h\"\n\
         out_of_area_stay = {{ dist = \"fixed\", value = \"1d\" }}\n\
         pathways = {{ home = 1.0, supported = 0.0, care_home = 0.0 }}\n\
         crht = {{ places = 0, open = \"none\", episode = {{ dist = \"fixed\", value = \"1d\" }}, escalation_share = 0.0, when_full = \"admit\" }}\n\
         supported_accommodation = {{ places = 0, stay = {{ dist = \"fixed\", value = \"1d\" }} }}\n"
    );
    let rs = results(&body, &[]);
    let shares: Vec<f64> = rs
        .iter()
        .map(|r| r.metrics[Metric::MhOutOfAreaPlacements] / r.metrics[Metric::MhAdmissions])
        .collect();
    let (mean, se) = mean_se(&shares);
    let expected = erlang_b(beds, lambda * mean_days);
    assert!(expected > 0.05, "a case that loses: {expected}");
    assert!(
        (mean - expected).abs() <= 4.0 * se,
        "out-of-area share {mean} (se {se}) against Erlang B {expected}"
    );
    // Nobody waits: no recorded wait is over 12 hours.
    assert!(
        rs.iter()
            .all(|r| r.metrics[Metric::MhBedWaitsOver12h] == 0.0)
    );
}

/// Supported accommodation that never fills: its mean occupancy (from the
/// trace of places held) equals its arrival rate (crises x admitted x the
/// supported share) times the mean stay.
#[test]
fn supported_accommodation_obeys_littles_law() {
    let (lambda, share, stay_days) = (5.0, 0.3, 20.0);
    let body = format!(
        "[scenario]\nwarm_up = \"150d\"\nhorizon = \"200d\"\nreplications = 20\n\
         [mental_health]\n\
         crises_per_day = {lambda}\nreferrals_per_day = 0.0\n\
         liaison_assessment = {{ dist = \"fixed\", value = \"2h\" }}\n\
         ed_admit_share = 1.0\ned_crht_share = 0.0\nbeds = 1000\n\
         stay = {{ dist = \"exponential\", mean = \"4d\" }}\n\
         out_of_area_after = \"24h\"\n\
         pathways = {{ home = {home}, supported = {share}, care_home = 0.0 }}\n\
         crht = {{ places = 0, open = \"none\", episode = {{ dist = \"fixed\", value = \"1d\" }}, escalation_share = 0.0, when_full = \"admit\" }}\n\
         supported_accommodation = {{ places = 1000, stay = {{ dist = \"gamma\", mean = \"{stay_days}d\", sd = \"10d\" }} }}\n",
        home = 1.0 - share
    );
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = write_plan(tmp.path(), "little", &services_off(), &body);
    let loaded = load(&path, &[]).expect("loads");
    let (start, end) = (150.0 * 24.0, 350.0 * 24.0);
    let prepared = Prepared::new(loaded.scenario);
    let mut means = Vec::new();
    for r in 0..20 {
        let (result, trace) = prepared.simulate_traced(r, Vec::new()).expect("runs");
        let mut level = 0.0f64;
        let (mut since, mut area) = (0.0f64, 0.0f64);
        for e in &trace {
            let (at, delta) = match *e {
                TraceEvent::Took {
                    at,
                    resource: Resource::SupportedPlace,
                    ..
                } => (at, 1.0),
                TraceEvent::Released {
                    at,
                    resource: Resource::SupportedPlace,
                    ..
                } => (at, -1.0),
                _ => continue,
            };
            area += level * (at.min(end) - since.max(start)).max(0.0);
            since = at;
            level += delta;
        }
        area += level * (end - since.max(start)).max(0.0);
        means.push(area / (end - start));
        assert_eq!(
            result.metrics[Metric::MhSupportedAccommodationWaitMeanDays],
            0.0
        );
    }
    let (mean, se) = mean_se(&means);
    let expected = lambda * share * stay_days;
    assert!(
        (mean - expected).abs() <= 4.0 * se,
        "supported accommodation occupied {mean} (se {se}) against {expected}"
    );
}

/// `mh_admissions_avoided_crht` of a run is, replication by replication, the
/// CRHT-off run's `mh_admissions` minus the run's (through the binary).
#[test]
fn crht_avoided_is_the_paired_run_with_crht_off() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let plan = write_plan(
        tmp.path(),
        "mh",
        &baseline(),
        &mh_table("").replace("places = 20", "places = 12"),
    );
    let plan = plan.to_str().expect("utf-8");
    let reps = [
        "--replications",
        "4",
        "--threads",
        "2",
        "--set",
        "scenario.horizon=120d",
    ];
    let on = tmp.path().join("on");
    run_ok(&[&["run", plan][..], &reps[..]].concat(), &on);
    let off = tmp.path().join("off");
    run_ok(
        &[
            &["run", plan][..],
            &reps[..],
            &[
                "--set",
                "mental_health.crht.places=0",
                "--set",
                "mental_health.crht.when_full=admit",
            ][..],
        ]
        .concat(),
        &off,
    );
    let avoided = replications_column(&on, "mh_admissions_avoided_crht");
    let with = replications_column(&on, "mh_admissions");
    let without = replications_column(&off, "mh_admissions");
    assert_eq!(
        replications_column(&off, "mh_admissions_avoided_crht"),
        vec![0.0; 4]
    );
    for r in 0..4 {
        assert!(avoided[r] > 20.0, "{avoided:?}");
        assert_eq!(avoided[r], without[r] - with[r], "replication {r}");
    }
}

/// Key errors name the file, line, column and key, and say what was expected.
#[test]
fn mental_health_key_errors_are_located() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for (name, from, to, key, says) in [
        (
            "shares",
            "ed_crht_share = 0.3",
            "ed_crht_share = 0.9",
            "mental_health.ed_crht_share",
            "ed_admit_share + ed_crht_share <= 1",
        ),
        (
            "when",
            "when_full = \"wait\"",
            "when_full = \"queue\"",
            "mental_health.crht.when_full",
            "expected \"admit\" or \"wait\"",
        ),
        (
            "pathways",
            "supported = 0.15",
            "supported = 0.25",
            "mental_health.pathways",
            "home + supported + care_home = 1",
        ),
    ] {
        let body = mh_table("").replace(from, to);
        let path = write_plan(tmp.path(), name, &baseline(), &body);
        let text = fs::read_to_string(&path).expect("reads");
        let line = text.lines().position(|l| l.contains(to)).expect("line") + 1;
        let out = bin().args(["check"]).arg(&path).output().expect("runs");
        assert_eq!(out.status.code(), Some(2), "{name}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(key), "{name}: {err}");
        assert!(err.contains(says), "{name}: {err}");
        assert!(
            err.contains(&format!("{name}.toml:{line}:")),
            "{name}: line {line}: {err}"
        );
    }
}

/// Cases 9 to 11 of `patientflow validate` pass, check something, and tell
/// the right number of beds and CRHT places from one fewer.
#[test]
fn validate_mental_health_cases_pass_and_reject_a_wrong_capacity() {
    use patientflow::verify::{self, Options, Outcome, mental_health};
    let options = Options {
        dir: verify::default_dir(),
        replications: None,
        threads: 0,
        progress: Progress::Hidden,
    };
    let mut names = Vec::new();
    let checks = mental_health::run_cases(&options, |n| names.push(n.to_string()))
        .expect("the mental health case files load and run");
    let table = verify::format_table(&checks);
    assert!(checks.iter().all(|c| c.passed()), "{table}");
    for case in ["9 ", "10 ", "11 "] {
        assert!(names.iter().any(|n| n.starts_with(case)), "{names:?}");
        assert!(
            checks.iter().filter(|c| c.case.starts_with(case)).count() >= 2,
            "{table}"
        );
    }
    for c in &checks {
        if let Outcome::Rule { checked, .. } = c.outcome {
            assert!(checked > 1000, "{} checked {checked}", c.quantity);
        }
    }
    // The loss shares are told apart from one bed or one place fewer.
    for (case, wrong) in [("9 ", erlang_b(21, 20.0)), ("10 ", erlang_b(11, 10.0))] {
        let c = checks
            .iter()
            .find(|c| c.case.starts_with(case))
            .expect("case");
        let Outcome::Mean { summary, .. } = c.outcome else {
            panic!("a mean check")
        };
        let wrong = verify::Check {
            outcome: Outcome::Mean {
                theory: wrong,
                summary,
            },
            ..c.clone()
        };
        assert!(!wrong.passed(), "{case}: {table}");
    }
}

/// The run report has a mental health section (sentences and two fan
/// charts) and the `mh_*` rows in its results table only when the scenario
/// has a `[mental_health]` table; `summary.csv` has the metrics either way.
#[test]
fn the_run_report_shows_mental_health_only_with_the_table() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // The baseline has mental health; the minimal scenario has none.
    let without = root().join("tests/data/scenarios/minimal.toml");
    let reps = ["--replications", "3", "--threads", "2"];
    for (name, scenario, with) in [
        ("with", baseline(), true),
        ("without", without.display().to_string(), false),
    ] {
        let dir = tmp.path().join(name);
        run_ok(&[&["run", scenario.as_str()][..], &reps[..]].concat(), &dir);
        let md = fs::read_to_string(dir.join("report.md")).expect("report.md");
        let html = fs::read_to_string(dir.join("report.html")).expect("report.html");
        let summary = fs::read_to_string(dir.join("summary.csv")).expect("summary.csv");
        assert!(summary.contains("\nmh_out_of_area_placements,"), "{name}");
        assert_eq!(md.contains("## Mental health"), with, "{name}");
        assert_eq!(
            md.contains("mh\\_out\\_of\\_area\\_placements"),
            with,
            "{name}"
        );
        assert_eq!(html.contains("mh_delayed_bed_days"), with, "{name}");
        assert_eq!(
            dir.join("charts/mh-beds-occupied.svg").exists(),
            with,
            "{name}"
        );
        assert_eq!(dir.join("charts/mh-out-of-area.svg").exists(), with);
        if with {
            for words in [
                "Crisis resolution and home treatment avoids an estimated",
                "mental health admissions a year (95% CI",
                "local mental health beds are occupied",
                "placed in a bed out of the area",
                "delayed bed days a year",
                "wait more than 12 hours in the emergency department for a bed",
            ] {
                assert!(md.contains(words), "{words}");
            }
        }
    }
}

/// A comparison shows the mental health headlines when its scenarios have
/// mental health, and not otherwise (no rows of zeros for the baseline).
#[test]
fn comparisons_show_mental_health_headlines_only_with_mental_health() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let plans = root().join("scenarios/plans");
    // The baseline has mental health; the minimal scenario has none.
    let minimal = root().join("tests/data/scenarios/minimal.toml");
    let car = write_extending(tmp.path(), "second-car.toml", &minimal, "[pru]\ncars = 2\n");
    let reps = ["--replications", "3", "--threads", "2"];
    for (name, base, plan, with) in [
        (
            "mh",
            baseline(),
            plans.join("mental-health-package.toml"),
            true,
        ),
        ("physical", minimal.display().to_string(), car, false),
    ] {
        let dir = tmp.path().join(name);
        let plan = plan.display().to_string();
        let out = run_ok(
            &[&["compare", base.as_str(), plan.as_str()][..], &reps[..]].concat(),
            &dir,
        );
        let terminal = String::from_utf8_lossy(&out.stdout);
        let md = fs::read_to_string(dir.join("report.md")).expect("report.md");
        for label in [
            "mental health admissions avoided",
            "out-of-area placements avoided",
            "mental health delayed bed days saved",
        ] {
            assert_eq!(terminal.contains(label), with, "{name}: {terminal}");
            assert_eq!(md.contains(label), with, "{name}: {label}");
        }
        assert!(terminal.contains("delayed bed days saved"), "{name}");
        assert_eq!(md.contains(" In mental health: "), with, "{name}");
    }
}

/// `check` says what a loss is for each mental health service: a placement
/// out of area for the beds, an admission for CRHT when it admits when full.
#[test]
fn check_words_the_losses_of_mental_health_services() {
    let out = bin()
        .arg("check")
        .arg(baseline())
        .args(["--set", "mental_health.crht.when_full=\"admit\""])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = |service: &str| {
        text.lines()
            .find(|l| l.starts_with(service))
            .unwrap_or_else(|| panic!("no {service} line: {text}"))
            .to_string()
    };
    assert!(
        line("mental health beds").contains("placed out of area"),
        "{text}"
    );
    assert!(
        line("CRHT").contains("admitted: CRHT closed or full"),
        "{text}"
    );
}

/// Readmissions that feed themselves (every leaver back and admitted) are
/// refused before the run, at their key, as acute readmissions are.
#[test]
fn mental_health_readmissions_that_feed_themselves_are_refused_at_their_key() {
    let sets = [
        "mental_health.readmission={window=\"30d\",share=1.0}",
        "mental_health.ed_admit_share=1.0",
        "mental_health.ed_crht_share=0.0",
        "mental_health.pathways={home=1.0,supported=0.0,care_home=0.0}",
    ];
    let says = ["key `mental_health.readmission`", "feed themselves"];
    refused_run(&baseline(), &sets, &says);
}

//! Valid but degenerate plans (issue 12, class 2): every value within its
//! documented range, and yet a loop that never ends, a quadratic event
//! list or an Erlang calculation over four billion servers. Each is either
//! refused before it runs (exit 2), stopped at a bound (exit 3), or runs in
//! bounded time.

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use patientflow::experiment::check::{self, MAX_EVENTS_PER_REPLICATION, size_limits};
use patientflow::model::{Cause, EventBudget, Prepared, Stopped};
use patientflow::scenario::load;

use crate::common::{baseline, root, run, text};

/// `--set` arguments for a plan where every crisis is admitted, stays no
/// time, leaves on P0 at once and is readmitted with certainty after
/// `window`: each readmission brings exactly one more, for ever.
fn readmission_loop(window: &str) -> Vec<String> {
    [
        "pru.eligible_share=0",
        "ed.frail_admit_share=1",
        "ed.other_admit_share=1",
        "acute.los.frail={ dist = \"fixed\", value = \"0m\" }",
        "acute.los.other={ dist = \"fixed\", value = \"0m\" }",
        "acute.discharge_hours=\"00:00-24:00\"",
        "acute.weekend_discharge_hours=\"00:00-24:00\"",
        "pathways.frail={ p0 = 1.0, p1 = 0.0, p2 = 0.0, p3 = 0.0 }",
        "pathways.other={ p0 = 1.0, p1 = 0.0, p2 = 0.0, p3 = 0.0 }",
        "readmission.p0=1",
        "readmission.p1=1",
        "readmission.p2=1",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([format!("readmission.window=\"{window}\"")])
    .collect()
}

fn with_sets(command: &str, sets: &[impl AsRef<str>], extra: &[&str]) -> Output {
    let base = baseline();
    let mut args: Vec<&str> = vec![command, &base];
    for s in sets {
        args.push("--set");
        args.push(s.as_ref());
    }
    args.extend_from_slice(extra);
    run(&args)
}

/// Before: a readmission window of 0m looped at one instant until a
/// multi-GB allocation failed (exit 134 and a backtrace); a window of 1m over
/// 8 years ran for minutes into gigabytes. Now both are refused before
/// anything runs, naming the readmission table, and nothing is written.
#[test]
fn a_readmission_loop_that_feeds_itself_is_refused_before_running() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    for (window, horizon) in [("0m", "365d"), ("1m", "2920d")] {
        let out_dir = dir.path().join(format!("out-{window}"));
        let mut sets = readmission_loop(window);
        sets.push(format!("scenario.horizon=\"{horizon}\""));
        let out = with_sets(
            "run",
            &sets,
            &[
                "--quiet",
                "--replications",
                "2",
                "--out",
                &out_dir.display().to_string(),
            ],
        );
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "window {window}: {stderr}");
        assert!(stderr.contains("key `readmission`"), "{stderr}");
        assert!(stderr.contains("feed themselves without bound"), "{stderr}");
        assert!(stderr.contains("100 of every 100"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!out_dir.exists(), "nothing is written for a refused run");
    }
    // `check` says so in its table's notes (and reports the overload).
    let out = with_sets("check", &readmission_loop("0m"), &[]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stdout}");
    assert!(stdout.contains("diverges"), "{stdout}");
    assert!(stdout.contains("A run is refused (exit 2)"), "{stdout}");
}

/// A readmission loop with a gain just below 1 is finite: the flow balance
/// solves it (it used to stop after 500 rounds unconverged and call it
/// divergent) and finds g / (1 - g) readmissions per new crisis.
#[test]
fn a_near_critical_readmission_loop_is_solved_not_called_divergent() {
    let mut sets = readmission_loop("30d");
    sets.retain(|s| !s.starts_with("readmission.p"));
    sets.extend(["readmission.p0=0.99".to_string()]);
    sets.extend([
        "readmission.p1=0".to_string(),
        "readmission.p2=0".to_string(),
    ]);
    let loaded = load(Path::new(&baseline()), &sets).expect("loads");
    let c = check::offered_load(&loaded.scenario);
    assert!(c.converged);
    // Frail patients may be sent home by the frailty unit, so only the
    // other patients' gain is exactly 0.99 (all admitted, all on P0).
    assert!(
        (c.readmission_gain[1] - 0.99).abs() < 1e-12,
        "{:?}",
        c.readmission_gain
    );
    let sc = &loaded.scenario;
    let new_other = sc.demand.crises_per_day * (1.0 - sc.demand.frail_share);
    assert!(
        c.flows.readmissions > 99.0 * new_other * 0.999,
        "{} readmissions a day for {new_other} new crises of others",
        c.flows.readmissions
    );
    // About 10 million crises in a replication: within the limits.
    assert_eq!(size_limits(sc, &c), Ok(()));
    // A gain of 0.999: about 100 million, refused as too many crises, the
    // readmissions named as their source.
    let sets: Vec<String> = sets
        .into_iter()
        .map(|s| s.replace("readmission.p0=0.99", "readmission.p0=0.999"))
        .collect();
    let loaded = load(Path::new(&baseline()), &sets).expect("loads");
    let c = check::offered_load(&loaded.scenario);
    assert!(c.converged);
    let refused = size_limits(&loaded.scenario, &c).expect_err("refused");
    assert_eq!(refused.key, "readmission", "{}", refused.message);
    assert!(
        refused.message.contains("crises in each replication"),
        "{}",
        refused.message
    );
}

/// A replication past its event budget stops, naming the source of most
/// work; likewise past its crisis limit. (The budgets are small here: on a
/// plan the flow balance describes, the default budget is four times the
/// events expected, see the next test, and never reached.)
#[test]
fn a_replication_past_its_budget_stops_naming_the_cause() {
    let mut sets = readmission_loop("1d");
    sets.retain(|s| !s.starts_with("readmission.p"));
    sets.extend(["readmission.p0=0.9", "readmission.p1=0", "readmission.p2=0"].map(String::from));
    sets.push("scenario.horizon=\"60d\"".into());
    sets.push("scenario.warm_up=\"0d\"".into());
    let loaded = load(Path::new(&baseline()), &sets).expect("loads");
    let sc = loaded.scenario;
    let budget = EventBudget {
        expected: 1000.0,
        limit: 50_000,
        crises: u64::MAX,
    };
    match Prepared::with_budget(sc.clone(), budget).simulate(0) {
        Err(e @ Stopped::EventBudget { .. }) => {
            let Stopped::EventBudget { cause, budget, .. } = &e else {
                unreachable!()
            };
            assert_eq!(*cause, Cause::Readmissions);
            assert_eq!(*budget, 50_000);
            assert_eq!(e.exit_code(), 3);
            let message = e.to_string();
            assert!(message.contains("more than 50000 events"), "{message}");
            assert!(message.contains("readmission.p0"), "{message}");
        }
        other => panic!("expected the event budget to stop it, got {other:?}"),
    }
    let budget = EventBudget {
        expected: 1e9,
        limit: u64::MAX,
        crises: 20_000,
    };
    match Prepared::with_budget(sc.clone(), budget).simulate(0) {
        Err(e @ Stopped::TooManyCrises { .. }) => {
            let Stopped::TooManyCrises { crises, cause, .. } = &e else {
                unreachable!()
            };
            assert_eq!(*cause, Cause::Readmissions);
            // Looked at every 4,096 events.
            assert!((20_001..30_000).contains(crises), "{crises}");
            assert_eq!(e.exit_code(), 3);
        }
        other => panic!("expected the crisis limit to stop it, got {other:?}"),
    }
    // With its own budget, the same plan runs to the end.
    assert!(Prepared::new(sc).simulate(0).is_ok());
}

/// The expected events of the flow balance against a run, on the shipped
/// scenarios: a replication handles less than 1.5 times as many (and more
/// than half, but for one of a few events), so its budget (4 times, and at least 10 million) leaves a wide margin.
#[test]
fn expected_events_match_runs_of_the_shipped_scenarios() {
    let mut files = vec![root().join("scenarios/tower-hamlets-baseline.toml")];
    for dir in ["scenarios/plans", "scenarios/validation"] {
        let mut more: Vec<_> = std::fs::read_dir(root().join(dir))
            .expect("a scenario directory")
            .map(|e| e.expect("an entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        more.sort();
        files.extend(more);
    }
    for file in files {
        let loaded = load(&file, &[]).expect("loads");
        let c = check::offered_load(&loaded.scenario);
        let expected = check::expected_events(&loaded.scenario, &c);
        let prepared = Prepared::new(loaded.scenario);
        let events = prepared.simulate(0).expect("runs").events as f64;
        let ratio = events / expected;
        eprintln!(
            "{}: {events} events, {expected:.0} expected",
            file.display()
        );
        // A replication of few events (services switched off) has fewer than
        // expected: midnights and openings are counted at three a day.
        let low = if expected > 1e5 { 0.5 } else { 0.0 };
        assert!(
            (low..1.5).contains(&ratio),
            "{}: {events} events against {expected:.0} expected",
            file.display()
        );
        assert!(prepared.event_budget().limit as f64 >= 4.0 * expected);
    }
}

/// Plans whose expected events pass the most a run may handle are refused
/// before running, naming the source: here a million community referrals a
/// day with the places for them (before: no queue grew, so nothing stopped a
/// run of half a billion events).
#[test]
fn too_many_expected_events_are_refused_naming_the_source() {
    let sets = [
        "community.referrals_per_day=1000000",
        "community.teams=1000000",
        "community.caseload_per_team=1000",
    ];
    let out = with_sets(
        "run",
        &sets,
        &["--quiet", "--out", "/nonexistent/never-written"],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("key `community.referrals_per_day`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("events are expected in each replication"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{MAX_EVENTS_PER_REPLICATION:.0e}")),
        "{stderr}"
    );
}

/// A million care home beds whose residents have crises every few days:
/// the first hour holds hundreds of thousands of events, each of which used
/// to cost a move of all the others (193 s for one simulated day, measured;
/// 1.2 s now). The bound is generous: a hundred times the time it takes.
#[test]
fn a_crowded_hour_of_events_runs_in_bounded_time() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let sets = [
        "care_homes.beds=1000000",
        "care_homes.crises_per_resident_year=7000",
        "scenario.warm_up=\"0d\"",
        "scenario.horizon=\"1d\"",
    ];
    let started = Instant::now();
    let out = with_sets(
        "run",
        &sets,
        &[
            "--quiet",
            "--replications",
            "1",
            "--out",
            &dir.path().join("out").display().to_string(),
        ],
    );
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(took < Duration::from_secs(120), "took {took:?}");
}

/// Erlang B over 4,294,967,295 PRU cars (and frailty unit slots): `check`,
/// and the check before `run`, used to take six minutes; now instant (the
/// bound is generous).
#[test]
fn erlang_b_over_four_billion_servers_is_instant() {
    // More community places: so many cars' follow-ups would overload the
    // baseline's community nursing (a refusal, not what this test is about).
    let sets = [
        "pru.cars=4294967295",
        "frailty_unit.slots=4294967295",
        "community.teams=30",
    ];
    let started = Instant::now();
    let out = with_sets("check", &sets, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("4294967295"), "{stdout}");
    // Loads of billions of erlangs on as many servers: the summed form.
    let heavy = [
        "pru.cars=4294967295",
        "pru.eligible_share=1",
        "demand.crises_per_day=58000000000",
    ];
    let out = with_sets("check", &heavy, &[]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("turns away 3% while open"),
        "{}",
        text(&out.stdout)
    );
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
}

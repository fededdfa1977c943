//! Dated discharge hours and dated rates and shares (issue 16, "Dated
//! changes to any service"; `docs/model.md`, "Capacity over time" and
//! "Dated values"), at the level of events, and their refusals.

use std::path::{Path, PathBuf};

use patientflow::model::{Resource, TraceEvent};
use patientflow::scenario::{Scenario, load};

use crate::common::{bin, crisis_times, gp_referral_times, root, text, traced, write_extending};

/// Hours from the start (2026-01-01) to 00:00 on 2026-02-01.
const FEB: f64 = 31.0 * 24.0;

/// `tests/data/scenarios/years.toml` with `extra` appended, written to a
/// file in `dir`.
fn file_with(dir: &Path, extra: &str) -> PathBuf {
    let base = std::fs::read_to_string(root().join("tests/data/scenarios/years.toml")).unwrap();
    let path = dir.join("dated.toml");
    std::fs::write(&path, format!("{base}\n{extra}\n")).unwrap();
    path
}

/// The scenario of [`file_with`] with `sets`.
fn scenario(extra: &str, sets: &[&str]) -> Scenario {
    let dir = tempfile::tempdir().unwrap();
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    load(&file_with(dir.path(), extra), &sets)
        .expect("loads")
        .scenario
}

fn took(trace: &[TraceEvent], resource: Resource) -> Vec<(f64, u32)> {
    trace
        .iter()
        .filter_map(|e| match *e {
            TraceEvent::Took {
                at,
                resource: r,
                patient,
            } if r == resource => Some((at, patient)),
            _ => None,
        })
        .collect()
}

/// `n` arrivals against a Poisson expectation, within four standard errors.
fn assert_poisson(label: &str, n: usize, expected: f64) {
    let se = expected.sqrt();
    assert!(
        (n as f64 - expected).abs() < 4.0 * se,
        "{label}: {n} arrivals, {expected:.0} expected (se {se:.1})"
    );
}

/// Enough cars that every eligible crisis is visited at once.
const MANY_CARS: &str = "pru.cars=1000";

/// A share changed from 0 to 1 for February switches every decision taken
/// in February and none before or after: every crisis of February (all new
/// crises; the PRU is open all day with cars to spare) takes a car, and
/// none outside it does.
#[test]
fn a_share_switches_every_decision_on_its_dates_and_none_outside() {
    let sc = scenario(
        "[[rate_changes]]\nfrom = \"2026-02-01\"\nto = \"2026-02-28\"\npru.eligible_share = 1.0\n",
        &[MANY_CARS, "pru.eligible_share=0"],
    );
    let (_, t) = traced(sc);
    let end = FEB + 28.0 * 24.0;
    let visits = took(&t, Resource::PruCar);
    let in_feb = |x: f64| (FEB..end).contains(&x);
    assert!(
        visits.iter().all(|&(at, _)| in_feb(at)),
        "a visit outside February: {:?}",
        visits.iter().find(|&&(at, _)| !in_feb(at))
    );
    let feb_crises = crisis_times(&t).into_iter().filter(|&x| in_feb(x)).count();
    assert!(feb_crises > 900, "{feb_crises}");
    assert_eq!(visits.len(), feb_crises);
}

/// Where changes naming a key overlap, the last one listed wins, day by
/// day: eligible from 2026-01-11 on, except 2026-01-21 to 2026-01-31
/// (listed later).
#[test]
fn overlapping_changes_the_last_listed_wins() {
    let sc = scenario(
        "[[rate_changes]]\nfrom = \"2026-01-11\"\npru.eligible_share = 1\n\n\
         [[rate_changes]]\nfrom = \"2026-01-21\"\nto = \"2026-01-31\"\npru.eligible_share = 0\n",
        &[MANY_CARS, "pru.eligible_share=0", "scenario.horizon=45d"],
    );
    let (_, t) = traced(sc);
    let visits = took(&t, Resource::PruCar);
    let on = |x: f64| (240.0..480.0).contains(&x) || x >= FEB;
    assert!(visits.iter().all(|&(at, _)| on(at)));
    let expected = crisis_times(&t).into_iter().filter(|&x| on(x)).count();
    assert_eq!(visits.len(), expected);
    assert!(visits.iter().any(|&(at, _)| at >= FEB) && visits.iter().any(|&(at, _)| at < 480.0));
}

/// A pathway share changed on a date: the pathway is drawn on getting a
/// bed, so every rehab stay is of a patient who got their bed on or after
/// the date, and patients in bed before it keep their pathway (home) even
/// when they leave after it.
#[test]
fn a_pathway_drawn_before_the_date_stands() {
    let sc = scenario(
        "[[rate_changes]]\nfrom = \"2026-02-01\"\n\
         pathways.frail = { p0 = 0, p1 = 0, p2 = 1, p3 = 0 }\n\
         pathways.other = { p0 = 0, p1 = 0, p2 = 1, p3 = 0 }\n",
        &[
            "rehab.beds=100000",
            "pathways.frail={p0=1,p1=0,p2=0,p3=0}",
            "pathways.other={p0=1,p1=0,p2=0,p3=0}",
            "scenario.horizon=60d",
        ],
    );
    let (_, t) = traced(sc);
    // Each patient's latest acute bed, by arena index (reused only after
    // the patient has left every traced resource).
    let mut bed_at = std::collections::HashMap::new();
    let mut rehab = 0;
    let mut kept_home = 0;
    for e in &t {
        match *e {
            TraceEvent::Took {
                at,
                resource: Resource::AcuteBed,
                patient,
            } => {
                bed_at.insert(patient, at);
            }
            TraceEvent::Took {
                resource: Resource::RehabBed,
                patient,
                ..
            } => {
                let got_bed = bed_at[&patient];
                assert!(got_bed >= FEB, "rehab for a bed of {got_bed}");
                rehab += 1;
            }
            TraceEvent::Released {
                at,
                resource: Resource::AcuteBed,
                patient,
            } if at > FEB && bed_at[&patient] < FEB => kept_home += 1,
            _ => {}
        }
    }
    assert!(rehab > 200, "{rehab}");
    assert!(kept_home > 10, "{kept_home}");
}

/// Rates changed on dates with growth: new crises double from day 60 and
/// GP referrals, 0 before, start at 10 a day; each period's count is the
/// integral of the dated rate times the growth (5% a year), within four
/// Poisson standard errors.
#[test]
fn rates_change_on_their_dates_and_compose_with_growth() {
    let sc = scenario(
        "[[rate_changes]]\nfrom = \"2026-03-02\"\ndemand.crises_per_day = 80\n\
         community.referrals_per_day = 10\n",
        &[
            "growth.crises=0.05",
            "growth.community_referrals=0.05",
            "community.referrals_per_day=0",
            "scenario.horizon=120d",
            "pathways.frail={p0=1,p1=0,p2=0,p3=0}",
            "pathways.other={p0=1,p1=0,p2=0,p3=0}",
        ],
    );
    let (_, t) = traced(sc);
    let day60 = 60.0 * 24.0;
    let end = 120.0 * 24.0;
    // The integral of (1.05)^(t / 8766) over [a, b) hours.
    let g = |a: f64, b: f64| {
        let k = 1.05_f64.ln() / 8766.0;
        ((k * b).exp() - (k * a).exp()) / k
    };
    let c = crisis_times(&t);
    assert_poisson(
        "crises before",
        c.iter().filter(|&&x| x < day60).count(),
        40.0 / 24.0 * g(0.0, day60),
    );
    assert_poisson(
        "crises after",
        c.iter().filter(|&&x| x >= day60).count(),
        80.0 / 24.0 * g(day60, end),
    );
    let referrals = gp_referral_times(&t);
    assert!(referrals.iter().all(|&x| x >= day60));
    assert_poisson("referrals", referrals.len(), 10.0 / 24.0 * g(day60, end));
}

/// Discharge hours cut to 10:00-12:00 from 2026-02-01 (the weekend's too:
/// the scenario has no weekend hours): no patient leaves in the closed hours
/// after the date, and many did before it.
#[test]
fn discharge_hours_close_on_their_date() {
    let sc = scenario(
        "",
        &[
            "acute.capacity_changes=[{from=\"2026-02-01\", discharge_hours=\"10:00-12:00\"}]",
            "scenario.horizon=60d",
            "pathways.frail={p0=1,p1=0,p2=0,p3=0}",
            "pathways.other={p0=1,p1=0,p2=0,p3=0}",
        ],
    );
    let (_, t) = traced(sc);
    let leavings: Vec<f64> = t
        .iter()
        .filter_map(|e| match *e {
            TraceEvent::Released {
                at,
                resource: Resource::AcuteBed,
                ..
            } => Some(at),
            _ => None,
        })
        .collect();
    let hour = |x: f64| x - (x / 24.0).floor() * 24.0;
    let after: Vec<f64> = leavings.iter().copied().filter(|&x| x >= FEB).collect();
    assert!(after.len() > 300, "{}", after.len());
    assert!(
        after.iter().all(|&x| (10.0..12.0).contains(&hour(x))),
        "left in closed hours: {:?}",
        after.iter().find(|&&x| !(10.0..12.0).contains(&hour(x)))
    );
    let before_outside = leavings
        .iter()
        .filter(|&&x| x < FEB && !(10.0..12.0).contains(&hour(x)))
        .count();
    assert!(before_outside > 300, "{before_outside}");
}

/// Changes that name the values the scenario already has change nothing:
/// the same events, to the bit, as without them (discharge hours, a share,
/// a rate and pathway shares).
#[test]
fn changes_to_the_same_values_change_nothing() {
    let (_, plain) = traced(scenario("", &["scenario.horizon=40d"]));
    let (_, same) = traced(scenario(
        "[[rate_changes]]\nfrom = \"2026-01-10\"\npru.eligible_share = 0.5\n\
         demand.crises_per_day = 40\n\
         pathways.frail = { p0 = 0.3, p1 = 0.3, p2 = 0.2, p3 = 0.2 }\n",
        &[
            "scenario.horizon=40d",
            "acute.capacity_changes=[{from=\"2026-01-05\", to=\"2026-01-20\", \
             discharge_hours=\"00:00-24:00\"}]",
        ],
    ));
    assert_eq!(plain.len(), same.len());
    assert!(plain == same, "the traces differ");
}

/// `patientflow check` on a file with `extra`: exit 2, and stderr.
fn refused(extra: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = file_with(dir.path(), extra);
    let out = bin().arg("check").arg(&path).output().unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{extra}\n-> {err}");
    assert!(err.contains("dated.toml:"), "not located: {err}");
    err
}

/// Refusals at their key, with line and column, saying what was expected.
#[test]
fn bad_dated_values_are_refused_at_their_key() {
    let lines = |body: &str| format!("[[rate_changes]]\nfrom = \"2026-02-01\"\n{body}\n");
    let cases: &[(String, &[&str])] = &[
        // A count, whose changes are elsewhere: the list of dated keys.
        (
            lines("pru.cars = 2"),
            &["rate_changes[0].pru.cars", "capacity_changes", "`pru.treated_at_home`"],
        ),
        (
            lines("acute.los.frail = 3"),
            &["rate_changes[0].acute.los.frail", "cannot change by date"],
        ),
        (
            "[[rate_changes]]\nfrom = \"2026-02-30\"\npru.treated_at_home = 0.5\n".to_string(),
            &["rate_changes[0].from", "2026-02-30"],
        ),
        (
            lines("pru.treated_at_home = 1.5"),
            &["rate_changes[0].pru.treated_at_home", "[0, 1]"],
        ),
        (
            lines("demand.crises_per_day = -1"),
            &["rate_changes[0].demand.crises_per_day", ">= 0"],
        ),
        (
            lines("pru.treated_at_home = { low = 0.5, high = 0.7 }"),
            &["uncertain value", "cannot be dated"],
        ),
        (
            lines("readmission.p0 = 0.1"),
            &["rate_changes[0].readmission.p0", "no `[readmission]`"],
        ),
        (
            lines("pathways.frail = { p0 = 0.5, p1 = 0.3, p2 = 0.3, p3 = 0 }"),
            &["rate_changes[0].pathways.frail", "= 1"],
        ),
        (
            "[[rate_changes]]\nfrom = \"2026-03-01\"\nto = \"2026-02-01\"\npru.treated_at_home = 0.5\n"
                .to_string(),
            &["rate_changes[0]", "from` <= `to`"],
        ),
        (
            "[[rate_changes]]\nfrom = \"2026-03-01\"\n".to_string(),
            &["rate_changes[0]", "at least one key"],
        ),
        (
            "[[rate_changes]]\npru.treated_at_home = 0.5\n".to_string(),
            &["rate_changes[0].from"],
        ),
        (
            lines("mental_health.ed_admit_share = 0.5"),
            &["ed_crht_share <= 1", "2026-02-01"],
        ),
        (
            lines("pru.treated_at_home = 0.5\n\"pru.treated_at_home\" = 0.6"),
            &["written twice"],
        ),
    ];
    for (extra, needles) in cases {
        let err = refused(extra);
        for needle in *needles {
            assert!(
                err.contains(needle),
                "{extra}\n-> {err}\n(missing {needle:?})"
            );
        }
    }
    // An element of `acute.capacity_changes` naming nothing to change, and
    // discharge hours that are no clock window.
    let err = refused("[[acute.capacity_changes]]\nfrom = \"2026-02-01\"\n");
    assert!(
        err.contains("acute.capacity_changes[0]") && err.contains("discharge_hours"),
        "{err}"
    );
    let err = refused(
        "[[acute.capacity_changes]]\nfrom = \"2026-02-01\"\ndischarge_hours = \"25:00-26:00\"\n",
    );
    assert!(
        err.contains("acute.capacity_changes[0].discharge_hours"),
        "{err}"
    );
}

#[test]
fn the_residents_crisis_rate_changes_on_its_dates() {
    // 2,000 residents who stay all run, crises only in February at 3.65 a
    // resident-year (0.01 a day). Nobody else has crises, and a resident's
    // crisis takes no time (no PRU, no frailty unit, never admitted), so
    // every resident is at risk all February: Poisson with mean
    // 2,000 x 0.01 x 28 = 560, and none outside February. Before the rate
    // rose nobody had a crisis pending: without drawing again at the date,
    // February would have none.
    let extra = "[[rate_changes]]\nfrom = \"2026-02-01\"\nto = \"2026-02-28\"\n\
                 care_homes.crises_per_resident_year = 3.65";
    let sc = scenario(
        extra,
        &[
            "demand.crises_per_day=0",
            "pru.cars=0",
            "frailty_unit.slots=0",
            "ed.frail_admit_share=0",
            "care_homes.beds=2000",
            "care_homes.initial_residents=2000",
            "care_homes.stay={ dist = \"fixed\", value = \"1000d\" }",
            "care_homes.community_placements_per_day=0",
        ],
    );
    let at = crisis_times(&traced(sc).1);
    let march = FEB + 28.0 * 24.0;
    assert!(
        at.iter().all(|&t| (FEB..march).contains(&t)),
        "a crisis outside February: {:?}",
        at.iter().find(|&&t| !(FEB..march).contains(&t))
    );
    let mean = 560.0_f64;
    assert!(
        (at.len() as f64 - mean).abs() <= 4.0 * mean.sqrt(),
        "{} crises in February against Poisson mean {mean}",
        at.len()
    );
}

#[test]
fn mental_health_pathways_and_the_home_treatable_share_dated_from_the_start_equal_the_plain_values()
{
    // A change in force from time zero gives, to the event, the run with
    // the value written in the scenario: the dated value is the one used.
    // The changed values differ from the file's (home 1 -> supported 0.5,
    // care home 0.5; the home-treatable share 0.2 -> 0.05), so a change that
    // was ignored would give the file's trace instead.
    let sets = [
        "scenario.horizon=40d",
        "ed.home_treatable_admit_share=0.2",
        "mental_health.crises_per_day=3",
    ];
    let dated = traced(scenario(
        "[[rate_changes]]\nfrom = \"2026-01-01\"\n\
         mental_health.pathways = { home = 0, supported = 0.5, care_home = 0.5 }\n\
         ed.home_treatable_admit_share = 0.05\n",
        &sets,
    ))
    .1;
    let mut plain_sets = sets.to_vec();
    plain_sets.extend([
        "mental_health.pathways={ home = 0, supported = 0.5, care_home = 0.5 }",
        "ed.home_treatable_admit_share=0.05",
    ]);
    let plain = traced(scenario("", &plain_sets)).1;
    let undated = traced(scenario("", &sets)).1;
    assert!(
        plain == dated,
        "the dated values were not used from their date"
    );
    assert!(
        plain != undated,
        "the values changed nothing: the test shows nothing"
    );
    // Without the share in the scenario, dating it is refused at its key.
    let err =
        refused("[[rate_changes]]\nfrom = \"2026-02-01\"\ned.home_treatable_admit_share = 0.1\n");
    assert!(err.contains("does not set it"), "{err}");
    // Mental health pathway shares are named as such.
    let err = refused(
        "[[rate_changes]]\nfrom = \"2026-02-01\"\n\
         mental_health.pathways = { home = 0.5, supported = 0.2, p3 = 0.3 }\n",
    );
    assert!(
        err.contains("expected home, supported and care_home"),
        "{err}"
    );
}

#[test]
fn check_gives_each_planning_years_utilisation_and_marks_an_overloaded_year() {
    // The five-year scenario with its rehab beds doubled from 2027-04-01 and
    // cut to 10 from 2029-04-01: the rehab load grows only with the crises
    // (1.6% a year), so 2027/28's utilisation is about half 2026/27's, and
    // 2029/30 is marked as at or above capacity.
    let dir = tempfile::tempdir().unwrap();
    let path = write_extending(
        dir.path(),
        "five.toml",
        root().join("scenarios/tower-hamlets-five-years.toml"),
        "[rehab]\ncapacity_changes = [\n  { from = \"2027-04-01\", to = \"2029-03-31\", beds = 68 },\n  { from = \"2029-04-01\", beds = 10 },\n]\n",
    );
    let out = bin().arg("check").arg(&path).output().unwrap();
    let stdout = text(&out.stdout);
    let table: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("utilisation by planning year"))
        .collect();
    let header: Vec<&str> = table
        .first()
        .expect("a table by year")
        .split_whitespace()
        .collect();
    assert_eq!(
        &header[4..],
        [
            "2025/26", "2026/27", "2027/28", "2028/29", "2029/30", "2030/31"
        ]
    );
    // Each year's cell: its utilisation, and whether `!` marks it.
    let mut rehab: Vec<(f64, bool)> = Vec::new();
    let row = table
        .iter()
        .find(|l| l.starts_with("rehab beds"))
        .expect("a rehab row");
    for cell in row.split_whitespace().skip(2) {
        match (cell, rehab.last_mut()) {
            ("!", Some(last)) => last.1 = true,
            _ => rehab.push((cell.parse().expect("a number"), false)),
        }
    }
    assert_eq!(rehab.len(), 6, "{row}");
    // Offered load grows ~1.6% a year with the crises; capacity 34 -> 68.
    let ratio = rehab[2].0 / rehab[1].0;
    assert!(
        (0.49..0.53).contains(&ratio),
        "2027/28 against 2026/27: {row}"
    );
    // 10 beds from 2029-04-01: at or above capacity, and marked; the years
    // below capacity are not.
    for (u, marked) in &rehab {
        assert_eq!(*marked, *u >= 1.0, "{row}");
    }
    assert!(
        rehab[4].0 > 1.0 && rehab[4].1,
        "2029/30 with 10 beds: {row}"
    );
}

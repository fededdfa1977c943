//! Years ahead (issue 16, part 2): demand growth and dated changes to any
//! service's count (`docs/model.md`, "Demand growth" and "Capacity over
//! time"), at the level of events.

use std::path::{Path, PathBuf};

use patientflow::experiment::check::{offered_load, size_limits};
use patientflow::model::metrics::Series;
use patientflow::model::years::Service;
use patientflow::model::{Prepared, Resource, TraceEvent};
use patientflow::scenario::{Scenario, load};

use crate::common::{crisis_times, exits_saying, gp_referral_times, root, traced, write_extending};

fn s(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

fn years_file() -> PathBuf {
    root().join("tests/data/scenarios/years.toml")
}

/// `tests/data/scenarios/years.toml` (every counted service overloaded)
/// with `sets`.
fn years(sets: &[&str]) -> Scenario {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    load(&years_file(), &sets).expect("loads").scenario
}

/// Every patient to the first pathway: fewer patients in the queues over
/// years; the arrivals are the point.
const P0_ONLY: [&str; 2] = [
    "pathways.frail={p0=1,p1=0,p2=0,p3=0}",
    "pathways.other={p0=1,p1=0,p2=0,p3=0}",
];

/// Hours of a growth year (365.25 days).
const YEAR: f64 = 8766.0;

/// Arrivals per growth year of a source of `per_day` growing at `g`:
/// counted against the integral of the grown rate over the year, within four
/// Poisson standard errors (and the counts must rise as the rate does).
fn assert_per_year(label: &str, times: &[f64], per_day: f64, g: f64, years: usize) {
    for k in 0..years {
        let (a, b) = (k as f64 * YEAR, (k + 1) as f64 * YEAR);
        let n = times.iter().filter(|&&t| a <= t && t < b).count() as f64;
        // Integral of per_day / 24 x (1 + g)^(t / YEAR) over [a, b).
        let expected = per_day / 24.0 * YEAR * g / (1.0 + g).ln() * (1.0 + g).powi(k as i32);
        let se = expected.sqrt();
        assert!(
            (n - expected).abs() < 4.0 * se,
            "{label}, year {k}: {n} arrivals, {expected:.0} expected (se {se:.0})"
        );
    }
}

/// New crises and GP referrals over ten growth years: each year's count is
/// the integral of the grown rate (5% a year, fixed seed), not the flat
/// rate's (ten years of 5% are 55% more by the last).
#[test]
fn growth_reproduces_the_integrated_rate_per_year() {
    let growth = [
        "scenario.horizon=3653d",
        "growth.crises=0.05",
        "growth.community_referrals=0.05",
    ];
    let (_, trace) = traced(years(&[&growth[..], &P0_ONLY].concat()));
    // Only new crises: no readmissions, residents have no crises.
    let crises = crisis_times(&trace);
    let referrals = gp_referral_times(&trace);
    assert_per_year("new crises", &crises, 40.0, 0.05, 10);
    assert_per_year("GP referrals", &referrals, 5.0, 0.05, 10);
}

/// A table of yearly multipliers (a population projection): constant
/// within each growth year, the last holding after the table ends.
#[test]
fn growth_multipliers_hold_per_year() {
    let growth = ["scenario.horizon=1827d", "growth.crises=[1.0, 1.5, 0.75]"];
    let (_, trace) = traced(years(&[&growth[..], &P0_ONLY].concat()));
    let crises = crisis_times(&trace);
    for (k, m) in [1.0, 1.5, 0.75, 0.75, 0.75].into_iter().enumerate() {
        let (a, b) = (k as f64 * YEAR, (k + 1) as f64 * YEAR);
        let n = crises.iter().filter(|&&t| a <= t && t < b).count() as f64;
        let expected = 40.0 / 24.0 * YEAR * m;
        assert!(
            (n - expected).abs() < 4.0 * expected.sqrt(),
            "year {k}: {n} crises, {expected:.0} expected"
        );
    }
}

/// Without `[growth]`, or with rates of 0, nothing changes: the same
/// replication to the bit.
#[test]
fn zero_growth_is_no_growth() {
    let plain = Prepared::new(years(&[])).simulate(0).expect("runs");
    let zero = Prepared::new(years(&[
        "growth.crises=0",
        "growth.community_referrals=0",
        "growth.care_home_placements=0",
        "growth.mh_crises=0",
        "growth.mh_referrals=0",
    ]))
    .simulate(0)
    .expect("runs");
    assert_eq!(
        format!("{:?}", plain.metrics),
        format!("{:?}", zero.metrics)
    );
    assert_eq!(plain.events, zero.events);
}

/// 2026-02-01 and 2026-03-01 (the day after 2026-02-28) from 2026-01-01.
const FROM: f64 = 31.0 * 24.0;
const AFTER: f64 = 59.0 * 24.0;

/// The change of every counted service from 2026-02-01 to 2026-02-28.
const CHANGES: [&str; 6] = [
    "pru.capacity_changes=[{from=2026-02-01,to=2026-02-28,cars=3}]",
    "frailty_unit.capacity_changes=[{from=2026-02-01,to=2026-02-28,slots=4}]",
    "community.capacity_changes=[{from=2026-02-01,to=2026-02-28,teams=3}]",
    "rehab.capacity_changes=[{from=2026-02-01,to=2026-02-28,beds=8}]",
    "care_homes.capacity_changes=[{from=2026-02-01,to=2026-02-28,beds=40}]",
    "mental_health.crht.capacity_changes=[{from=2026-02-01,to=2026-02-28,places=6}]",
];

/// The count of a resource at `t`: `old` outside February, `new` inside.
fn count_at(t: f64, old: u32, new: u32) -> u32 {
    if (FROM..AFTER).contains(&t) { new } else { old }
}

/// Every kind of dated change takes effect at 00:00 of its `from` date and
/// ends at 00:00 after its `to` date: the count's events are there, no
/// patient takes a unit while the units in use are at the day's count (a
/// fall takes nothing from anyone), and the rise is used (every service is
/// overloaded).
#[test]
fn every_dated_change_takes_effect_on_its_date() {
    let sc = years(&CHANGES);
    let (result, trace) = traced(sc);
    let expected = [
        (Service::PruCars, 1, 3),
        (Service::FrailtyUnitSlots, 2, 4),
        (Service::CommunityTeams, 1, 3),
        (Service::RehabBeds, 5, 8),
        (Service::CareHomeBeds, 20, 40),
        (Service::CrhtPlaces, 3, 6),
    ];
    for (service, old, new) in expected {
        let changes: Vec<(f64, u32)> = trace
            .iter()
            .filter_map(|e| match *e {
                TraceEvent::Capacity {
                    at,
                    service: s,
                    count,
                } if s == service => Some((at, count)),
                _ => None,
            })
            .collect();
        assert_eq!(changes, vec![(FROM, new), (AFTER, old)], "{service:?}");
    }
    for (resource, old, new) in [
        (Resource::PruCar, 1, 3),
        (Resource::FrailtyUnitPlace, 2, 4),
        (Resource::RehabBed, 5, 8),
        (Resource::CrhtPlace, 3, 6),
    ] {
        let mut in_use = 0u32;
        let (mut most_before, mut most_inside, mut first_above_old) = (0, 0, f64::INFINITY);
        for e in &trace {
            match *e {
                TraceEvent::Took {
                    at, resource: r, ..
                } if r == resource => {
                    let count = count_at(at, old, new);
                    assert!(
                        in_use < count,
                        "{resource:?} taken at {at} with {in_use} in use of {count}"
                    );
                    in_use += 1;
                    if at < FROM {
                        most_before = most_before.max(in_use);
                    } else if at < AFTER {
                        most_inside = most_inside.max(in_use);
                    }
                    if in_use > old {
                        first_above_old = first_above_old.min(at);
                    }
                }
                TraceEvent::Released { resource: r, .. } if r == resource => in_use -= 1,
                _ => {}
            }
        }
        assert_eq!(most_before, old, "{resource:?} used to its count before");
        assert_eq!(most_inside, new, "{resource:?} used to its new count");
        assert!(
            (FROM..FROM + 24.0).contains(&first_above_old),
            "{resource:?}: more than {old} in use first at {first_above_old}"
        );
    }
    // A rise serves a queue at the instant of the change.
    let took_at_change = |resource| {
        trace.iter().any(
            |e| matches!(*e, TraceEvent::Took { at, resource: r, .. } if r == resource && at == FROM),
        )
    };
    assert!(took_at_change(Resource::RehabBed));
    assert!(took_at_change(Resource::CrhtPlace));
    // Community places and care home beds, by the midnight counts (taken
    // after the change at the same 00:00): filled at once, emptied only as
    // episodes and stays end (fixed 10 and 60 days).
    let caseload = &result.daily[Series::CommunityCaseload.index()];
    assert_eq!(
        (caseload[30], caseload[31], caseload[58]),
        (10.0, 30.0, 30.0)
    );
    assert!(caseload[59] > 10.0, "a fall takes no place from anyone");
    assert!(
        caseload[70..].iter().all(|&n| n == 10.0),
        "{:?}",
        &caseload[59..72]
    );
    let residents = &result.daily[Series::CareHomeResidents.index()];
    assert_eq!((residents[30], residents[31]), (20.0, 40.0));
    assert_eq!(residents[60], 40.0, "residents of closed beds stay");
    assert_eq!(residents[119], 20.0, "closed beds are not offered again");
}

/// A change without `to` lasts to the end of the run; one dated before the
/// start applies from time zero; overlapping entries: the last listed wins.
#[test]
fn open_ended_early_and_overlapping_changes() {
    let sc = years(&[
        "pru.capacity_changes=[{from=2025-06-01,cars=2},{from=2026-02-01,to=2026-02-10,cars=4},{from=2026-02-05,cars=3}]",
    ]);
    let (_, trace) = traced(sc);
    let changes: Vec<(f64, u32)> = trace
        .iter()
        .filter_map(|e| match *e {
            TraceEvent::Capacity { at, count, .. } => Some((at, count)),
            _ => None,
        })
        .collect();
    // 2 from time zero, 4 from 2026-02-01, 3 from 2026-02-05 to the end.
    assert_eq!(changes, vec![(FROM, 4), (FROM + 4.0 * 24.0, 3)]);
    let most = trace
        .iter()
        .scan(0i32, |n, e| {
            match *e {
                TraceEvent::Took {
                    resource: Resource::PruCar,
                    at,
                    ..
                } if at < FROM => *n += 1,
                TraceEvent::Released {
                    resource: Resource::PruCar,
                    at,
                    ..
                } if at < FROM => *n -= 1,
                _ => {}
            }
            Some(*n)
        })
        .max();
    assert_eq!(most, Some(2), "two cars from time zero");
}

/// The acute beds' changes keep their meaning: the beds available change
/// at 00:00 of `from` and of the day after `to`, and a file without the new
/// keys schedules no other count change.
#[test]
fn acute_capacity_changes_unchanged() {
    let file = root().join("scenarios/validation/capacity-changes-beds.toml");
    let sc = load(&file, &[]).expect("loads").scenario;
    let start = sc.start_date;
    let (_, trace) = Prepared::new(sc.clone())
        .simulate_traced(0, Vec::new())
        .expect("runs");
    let mut available = vec![(0.0, sc.acute.beds)];
    for e in &trace {
        if let TraceEvent::Beds {
            at, available: n, ..
        } = *e
            && available.last().is_some_and(|&(_, last)| last != n)
        {
            available.push((at, n));
        }
        assert!(!matches!(e, TraceEvent::Capacity { .. }));
    }
    let hours = |date: &str| {
        let d = patientflow::scenario::calendar::Date::parse(date).unwrap();
        start.days_until(d) as f64 * 24.0
    };
    assert_eq!(
        available,
        vec![
            (0.0, 20),
            (hours("2025-05-01"), 30),
            (hours("2025-05-11"), 20),
            (hours("2025-06-01"), 10),
            (hours("2025-06-11"), 20),
        ]
    );
}

/// The counterfactual arm of a PRU with no car until a date still runs
/// (the service is on from then), and switches the dated cars off too.
#[test]
fn an_arm_switches_dated_cars_off() {
    let sc = years(&[
        "pru.cars=0",
        "pru.capacity_changes=[{from=2026-02-01,cars=2}]",
    ]);
    let r = Prepared::new(sc).simulate(0).expect("runs");
    let avoided = r.metrics[patientflow::model::metrics::Metric::AdmissionsAvoidedPru];
    let visits = r.metrics[patientflow::model::metrics::Metric::PruVisits];
    assert!(visits > 0.0);
    assert!(avoided != 0.0, "the arm ran without the dated cars");
}

/// A ten-year run growing at 2% a year is neither refused nor stopped by its
/// event budget; the balance sees the grown demand and the changed counts.
#[test]
fn ten_years_of_growth_run_and_are_balanced() {
    let file = root().join("scenarios/tower-hamlets-five-years.toml");
    let sets = vec![
        "scenario.horizon=3653d".to_string(),
        "growth.crises=0.02".to_string(),
    ];
    let sc = load(&file, &sets).expect("loads").scenario;
    let check = offered_load(&sc);
    size_limits(&sc, &check).expect("within the limits");
    let pru = check
        .services
        .iter()
        .find(|s| s.service == "physician response unit");
    assert_eq!(
        pru.map(|s| s.capacity),
        Some(2.0),
        "the second car is in the balance"
    );
    let flat = load(&root().join("scenarios/tower-hamlets-baseline.toml"), &[])
        .expect("loads")
        .scenario;
    let flat = offered_load(&flat);
    // 2% a year for 10.5 to 11.5 years since start_date: ~24% more crises.
    let ratio = check.flows.crises / flat.flows.crises;
    assert!((1.2..1.3).contains(&ratio), "{ratio}");
    let prepared = Prepared::new(sc).without_counterfactuals();
    let r = prepared.simulate(0).expect("not stopped");
    assert!((r.events as f64) < prepared.event_budget().expected);
}

/// Through the binary: growth out of range, a change with the wrong count,
/// an impossible date and `from` after `to` are refused (exit 2) at their
/// file, line, column and key.
#[test]
fn bad_years_are_refused_at_their_key() {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let cases = [
        (
            "[growth]\ncrises = 0.9\n",
            "2:10",
            "growth.crises",
            "from -0.5 to 0.5",
        ),
        (
            "[pru]\ncapacity_changes = [{ from = \"2027-04-01\", beds = 2 }]\n",
            "2:44",
            "pru.capacity_changes[0].beds",
            "takes `from`, `to`, `cars`, `open` and `days`",
        ),
        (
            "[rehab]\ncapacity_changes = [{ from = \"2027-02-30\", beds = 2 }]\n",
            "2:30",
            "rehab.capacity_changes[0].from",
            "exists in the calendar",
        ),
        (
            "[care_homes]\ncapacity_changes = [{ from = \"2028-04-01\", to = \"2028-01-01\", beds = 2 }]\n",
            "2:21",
            "care_homes.capacity_changes[0]",
            "expected `from` <= `to`",
        ),
        (
            "[frailty_unit]\ncapacity_changes = [{ from = \"2028-04-01\" }]\n",
            "2:21",
            "frailty_unit.capacity_changes[0]",
            "expected at least one of `slots`, `open` and `days`",
        ),
    ];
    for (i, (body, at, key, says)) in cases.into_iter().enumerate() {
        let path = write_extending(tmp.path(), &format!("bad{i}.toml"), years_file(), body);
        let out_dir = tmp.path().join(format!("out{i}"));
        let args = ["run", s(&path), "--quiet", "--out", s(&out_dir)];
        // Lines count from the file's first line (`extends` is line 1).
        let (line, col) = at.split_once(':').unwrap();
        let line: usize = line.parse::<usize>().unwrap() + 1;
        let located = format!("bad{i}.toml:{line}:{col}");
        exits_saying(body, &args, 2, &[&located, &format!("key `{key}`"), says]);
    }
    // Absurd growth within the range: 50% a year for a century is refused
    // for its crises, naming the growth.
    let (file, out_dir) = (years_file(), tmp.path().join("absurd"));
    let args = [
        "run",
        s(&file),
        "--set",
        "growth.crises=0.5",
        "--set",
        "scenario.horizon=36000d",
        "--quiet",
        "--out",
        s(&out_dir),
    ];
    let says = ["demand.crises_per_day", "[growth]"];
    exits_saying("50% a year for a century", &args, 2, &says);
}

/// The five-year scenario and its plans run, compare and report.
#[test]
fn five_years_run_and_compare_with_reports() {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let base = root().join("scenarios/tower-hamlets-five-years.toml");
    let plan = root().join("scenarios/plans/five-years-no-second-car.toml");
    let closes = root().join("scenarios/plans/five-years-care-home-closes.toml");
    let quick = ["--replications", "3", "--quiet", "--out"];
    let (run_dir, compare_dir) = (tmp.path().join("run"), tmp.path().join("compare"));
    let args = [&["run", s(&base)][..], &quick, &[s(&run_dir)]].concat();
    exits_saying("run", &args, 0, &[]);
    assert!(tmp.path().join("run/report.html").is_file());
    let plans = [s(&base), s(&plan), s(&closes)];
    let args = [&["compare"][..], &plans, &quick, &[s(&compare_dir)]].concat();
    exits_saying("compare", &args, 0, &[]);
    let report = std::fs::read_to_string(tmp.path().join("compare/report.md")).expect("a report");
    assert!(report.contains("no second PRU car"), "{report}");
}

/// Opening hours and days change on dates too, by the same rule: the PRU
/// closes from 2026-02-01 (no car is taken from then; a visit under way
/// finishes), and in February the frailty unit opens on weekends only.
#[test]
fn opening_hours_and_days_change_on_their_dates() {
    let sc = years(&[
        "pru.capacity_changes=[{from=2026-02-01,open=\"none\"}]",
        "frailty_unit.capacity_changes=[{from=2026-02-01,to=2026-02-28,days=[\"Sat\",\"Sun\"]}]",
    ]);
    let (_, trace) = traced(sc);
    let took = |resource| {
        trace
            .iter()
            .filter_map(move |e| match *e {
                TraceEvent::Took {
                    at, resource: r, ..
                } if r == resource => Some(at),
                _ => None,
            })
            .collect::<Vec<f64>>()
    };
    let cars = took(Resource::PruCar);
    assert!(cars.iter().any(|&t| t > FROM - 24.0 && t < FROM));
    assert!(
        cars.iter().all(|&t| t < FROM),
        "a car taken after the PRU closed"
    );
    let frailty_unit = took(Resource::FrailtyUnitPlace);
    // 2026-02-01 is a Sunday: whole days after it that are 0 or 6 modulo 7
    // are Sundays and Saturdays.
    let weekend = |t: f64| [0, 6].contains(&(((t - FROM) / 24.0).floor() as i64).rem_euclid(7));
    let february: Vec<f64> = frailty_unit
        .iter()
        .copied()
        .filter(|t| (FROM..AFTER).contains(t))
        .collect();
    assert!(!february.is_empty());
    assert!(
        february.iter().all(|&t| weekend(t)),
        "a weekday assessment in February"
    );
    assert!(
        frailty_unit.iter().any(|&t| t >= AFTER && !weekend(t)),
        "weekdays again from March"
    );
}

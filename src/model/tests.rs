//! Model tests on scenarios built in code (the file format has its own tests).

use super::metrics::{Metric, Series};
use super::{Census, Prepared};
use crate::scenario::calendar::{ClockWindow, Date};
use crate::scenario::dist::{Dist, DistSpec};
use crate::scenario::*;

fn d(days: f64) -> f64 {
    days * 24.0
}

fn gamma(mean_h: f64, sd_h: f64) -> Dist {
    Dist::new(DistSpec::Gamma {
        mean: mean_h,
        sd: sd_h,
    })
    .unwrap()
}

fn lognormal(mean_h: f64, sd_h: f64) -> Dist {
    Dist::new(DistSpec::LogNormal {
        mean: mean_h,
        sd: sd_h,
    })
    .unwrap()
}

/// A borough-sized scenario close to the shipped baseline, every service
/// stable (offered load below capacity).
pub(crate) fn borough() -> Scenario {
    let w = |s: &str| ClockWindow::parse(s).unwrap();
    Scenario {
        name: "test borough".into(),
        description: String::new(),
        start_date: Date::parse("2025-04-01").unwrap(),
        warm_up_hours: d(90.0),
        horizon_hours: d(365.0),
        replications: 4,
        seed: 20251122,
        demand: Demand {
            crises_per_day: 250.0,
            frail_share: 0.15,
            hour_of_day: [1.0; 24],
            day_of_week: [1.0; 7],
            month_of_year: [1.0; 12],
        },
        pru: Pru {
            cars: 1,
            open: w("08:00-20:00"),
            days: EVERY_DAY,
            eligible_share: 0.04,
            visit: lognormal(1.7, 0.7),
            treated_at_home: 0.67,
            community_follow_up: 0.3,
            capacity_changes: vec![],
            hours_changes: vec![],
        },
        frailty_unit: FrailtyUnit {
            slots: 6,
            open: w("08:00-20:00"),
            days: [true, true, true, true, true, false, false],
            assessment: gamma(6.0, 3.0),
            discharged_same_day: 0.45,
            community_follow_up: 0.6,
            capacity_changes: vec![],
            hours_changes: vec![],
        },
        ed: Ed {
            frail_admit_share: 0.6,
            other_admit_share: 0.28,
            home_treatable_admit_share: None,
        },
        acute: Acute {
            beds: 560,
            discharge_hours: w("08:00-18:00"),
            weekend_discharge_hours: w("10:00-14:00"),
            los_frail: lognormal(d(11.0), d(13.0)),
            los_other: lognormal(d(4.0), d(6.0)),
            capacity_changes: vec![],
            discharge_changes: vec![],
        },
        pathways: Pathways {
            frail: [0.50, 0.42, 0.07, 0.01],
            other: [0.88, 0.10, 0.02, 0.0],
            process_delay: [
                Some(gamma(d(1.0), d(1.0))),
                Some(gamma(d(2.0), d(1.5))),
                Some(gamma(d(3.0), d(2.0))),
            ],
        },
        community: Community {
            teams: 16,
            caseload_per_team: 50,
            referrals_per_day: 25.0,
            priority: [
                ReferralClass::Discharge,
                ReferralClass::Avoidance,
                ReferralClass::Community,
            ],
            episode: [
                gamma(d(14.0), d(10.0)),
                gamma(d(10.0), d(7.0)),
                gamma(d(21.0), d(15.0)),
            ],
            capacity_changes: vec![],
        },
        rehab: Rehab {
            beds: 70,
            stay: gamma(d(21.0), d(10.0)),
            community_follow_up: 0.7,
            capacity_changes: vec![],
        },
        care_homes: CareHomes {
            beds: 340,
            start: CareHomeStart::Occupancy(0.9),
            stay: Dist::new(DistSpec::Exponential { mean: d(730.0) }).unwrap(),
            community_placements_per_day: 0.1,
            hospital_first: true,
            search_hours: None,
            crises_per_resident_year: 0.7,
            red_bag: Some(RedBag {
                los_reduction_hours: d(4.0),
                min_los_hours: d(1.0),
            }),
            capacity_changes: vec![],
        },
        readmission: Some(Readmission {
            window_hours: d(30.0),
            p0: 0.1,
            p1: 0.1,
            p2: 0.08,
        }),
        adults: Some(250_000),
        mental_health: None,
        home_care: None,
        start: Default::default(),
        growth: Default::default(),
        rate_changes: vec![],
    }
}

#[test]
fn borough_runs_and_reports_every_metric() {
    let p = Prepared::new(borough());
    let r = p.simulate(0).expect("a stable scenario");
    for m in Metric::ALL {
        assert!(r.metrics[m].is_finite(), "{} is not finite", m.name());
    }
    for s in Series::ALL {
        assert_eq!(r.daily[s.index()].len(), 365, "{}", s.name());
    }
    assert!(r.metrics[Metric::Admissions] > 0.0);
    eprintln!("events {}", r.events);
    for m in Metric::ALL {
        eprintln!("{:40} {:>12.3}", m.name(), r.metrics[m]);
    }
}

#[test]
fn conservation_every_patient_is_somewhere() {
    let p = Prepared::new(borough());
    let (_, c): (_, Census) = p.simulate_with_census(1).expect("a stable scenario");
    assert!(c.arrived > 100_000);
    assert_eq!(
        c.arrived,
        c.in_pru + c.in_frailty_unit + c.waiting_for_bed + c.in_bed + c.left
    );
}

#[test]
fn same_replication_same_result_different_replication_differs() {
    let p = Prepared::new(borough());
    assert_eq!(p.simulate(3).ok(), p.simulate(3).ok());
    assert_ne!(
        p.simulate(3).map(|r| r.metrics).ok(),
        p.simulate(4).map(|r| r.metrics).ok()
    );
}

/// A thread reuses its replication storage (the event list, the arenas):
/// a replication run after others on the same thread, of a different
/// scenario and cut short, gives the same result as one run on a fresh
/// thread.
#[test]
fn a_replication_does_not_depend_on_what_ran_before_it_on_the_thread() {
    let p = Prepared::new(borough());
    let fresh = std::thread::spawn({
        let p = p.clone();
        move || p.simulate(5).ok()
    })
    .join()
    .expect("the replication thread finished");
    // Stopped early: the storage is dropped, not kept.
    let mut tight = borough();
    tight.acute.beds = 20;
    assert!(
        Prepared::new(tight)
            .with_queue_limit(50)
            .simulate(0)
            .is_err()
    );
    // Ends with patients waiting for beds and many care home beds free.
    let mut other = borough();
    other.care_homes.beds = 2000;
    other.care_homes.start = CareHomeStart::Occupancy(0.5);
    other.acute.beds = 300;
    other.demand.crises_per_day *= 1.3;
    assert!(Prepared::new(other).simulate(2).is_ok());
    assert!(fresh.is_some());
    assert_eq!(p.simulate(5).ok(), fresh);
}

/// Crisis counts by hour of day and by weekday follow the weights: each
/// bucket's count is Poisson with mean the integrated rate, checked within 4
/// standard errors (sqrt of the mean).
#[test]
fn arrival_profile_follows_the_weights() {
    use super::schedule::ArrivalProfile;
    use crate::engine::{StreamKey, StreamRng};
    let mut demand = borough().demand;
    demand.hour_of_day = [
        0.7, 0.55, 0.45, 0.4, 0.35, 0.35, 0.45, 0.65, 0.95, 1.25, 1.45, 1.5, 1.5, 1.45, 1.4, 1.4,
        1.35, 1.35, 1.3, 1.25, 1.15, 1.05, 0.95, 0.8,
    ];
    demand.day_of_week = [1.3, 1.0, 1.0, 1.0, 1.0, 0.6, 0.6];
    demand.month_of_year = [1.2, 1.1, 1.0, 1.0, 0.9, 0.9, 0.9, 0.8, 1.0, 1.0, 1.1, 1.2];
    let start = Date::parse("2025-04-01").unwrap();
    let days = 2 * 365;
    let end = days as f64 * 24.0;
    let profile = ArrivalProfile::new(&demand, start, days + 1);
    let mut by_hour = [0.0f64; 24];
    let mut by_weekday = [0.0f64; 7];
    let mut expected_hour = [0.0f64; 24];
    let mut expected_weekday = [0.0f64; 7];
    for h in 0..(days * 24) {
        let rate = profile.rate(h as f64 + 0.5);
        expected_hour[h % 24] += rate;
        expected_weekday[start.add_days((h / 24) as i64).weekday().index()] += rate;
    }
    let mut rng = StreamRng::new(StreamKey::new(5, 0, 0, 0));
    let mut t = 0.0;
    let mut total = 0.0;
    let mut cursor = super::schedule::ArrivalCursor::start();
    while let Some(next) = profile.next_arrival(&mut cursor, t, rng.exp1(), end) {
        t = next;
        total += 1.0;
        let hour = t.floor() as usize;
        by_hour[hour % 24] += 1.0;
        by_weekday[start.add_days((hour / 24) as i64).weekday().index()] += 1.0;
    }
    let expected_total: f64 = expected_hour.iter().sum();
    assert!((total - expected_total).abs() < 4.0 * expected_total.sqrt());
    for h in 0..24 {
        let e = expected_hour[h];
        assert!(
            (by_hour[h] - e).abs() < 4.0 * e.sqrt(),
            "hour {h}: {} vs {e}",
            by_hour[h]
        );
    }
    for d in 0..7 {
        let e = expected_weekday[d];
        assert!(
            (by_weekday[d] - e).abs() < 4.0 * e.sqrt(),
            "weekday {d}: {} vs {e}",
            by_weekday[d]
        );
    }
    // The weights shape the rate exactly: Monday 11:00 in January against
    // Saturday 04:00 in August.
    let monday_jan = Date::parse("2026-01-05").unwrap();
    let saturday_aug = Date::parse("2025-08-02").unwrap();
    let at = |date: Date, hour: f64| profile.rate(start.days_until(date) as f64 * 24.0 + hour);
    let ratio = at(monday_jan, 11.2) / at(saturday_aug, 4.7);
    let want = (1.5 / 0.35) * (1.3 / 0.6) * (1.2 / 0.8);
    assert!((ratio - want).abs() < 1e-9 * want, "{ratio} vs {want}");
}

/// With only new crises, the whole-model crisis count over the window is
/// Poisson with mean the integrated rate (4 standard errors).
#[test]
fn crisis_count_matches_the_integrated_rate() {
    let mut sc = borough();
    sc.demand.month_of_year = [1.2, 1.1, 1.0, 1.0, 0.9, 0.9, 0.9, 0.8, 1.0, 1.0, 1.1, 1.2];
    sc.care_homes.crises_per_resident_year = 0.0;
    sc.readmission = None;
    let p = Prepared::new(sc);
    let mut expected = 0.0;
    let (from, to) = (
        p.scenario.warm_up_hours as usize,
        (p.scenario.warm_up_hours + p.scenario.horizon_hours) as usize,
    );
    for h in from..to {
        expected += p.arrivals.rate(h as f64 + 0.5);
    }
    let r = p.simulate(0).expect("a stable scenario");
    let got = r.metrics[Metric::Crises];
    assert!(
        (got - expected).abs() < 4.0 * f64::sqrt(expected),
        "{got} vs {expected}"
    );
}

/// A plan whose demand far exceeds its beds stops with the service named,
/// long before the end of its window, instead of returning numbers.
#[test]
fn an_overloaded_service_stops_the_replication() {
    use super::Stopped;
    let mut sc = borough();
    sc.acute.beds = 20;
    let p = Prepared::new(sc).with_queue_limit(500);
    match p.simulate(0) {
        Err(Stopped::Overloaded {
            service,
            waiting,
            day,
            limit,
        }) => {
            assert_eq!(service, "acute beds");
            assert_eq!(limit, 500);
            assert_eq!(waiting, 501);
            // About 80 admissions a day beyond 20 beds: the bound of 500 is
            // reached within the first two weeks.
            assert!(day < 14.0, "day {day}");
        }
        other => panic!("expected an overload, got {other:?}"),
    }
    // The same plan with the default bound on a stable borough runs through.
    assert!(Prepared::new(borough()).simulate(0).is_ok());
}

#[test]
fn a_cancelled_replication_stops() {
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;
    let flag = Arc::new(AtomicBool::new(true));
    let p = Prepared::new(borough()).with_cancel(flag);
    assert_eq!(p.simulate(0).err(), Some(super::Stopped::Cancelled));
}

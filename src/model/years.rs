//! Years ahead (`docs/model.md`, "Capacity over time" and "Demand growth"):
//! the services whose count can change on a date, the count of each on
//! every simulated day, and the demand rates multiplied by their growth.

use crate::scenario::calendar::{ClockWindow, Date};
use crate::scenario::dated::covering;
use crate::scenario::{CapacityChange, Growth, GrowthSpec, HoursChange, OpenDays, Scenario};

use super::schedule::beds_by_day_of;

/// A service whose count a dated `capacity_changes` entry sets (besides the
/// acute and mental health beds, which keep their own events and levels).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Service {
    /// `pru.cars`.
    PruCars = 0,
    /// `frailty_unit.slots`.
    FrailtyUnitSlots = 1,
    /// `community.teams` (places: teams x `community.caseload_per_team`).
    CommunityTeams = 2,
    /// `rehab.beds`.
    RehabBeds = 3,
    /// `care_homes.beds`.
    CareHomeBeds = 4,
    /// `mental_health.crht.places`.
    CrhtPlaces = 5,
    /// `home_care.packages`.
    HomeCarePackages = 6,
}

impl Service {
    /// Every service, in the order their changes are scheduled at time zero.
    pub const ALL: [Service; 7] = [
        Service::PruCars,
        Service::FrailtyUnitSlots,
        Service::CommunityTeams,
        Service::RehabBeds,
        Service::CareHomeBeds,
        Service::CrhtPlaces,
        Service::HomeCarePackages,
    ];

    /// The key of the count, as in the scenario file.
    pub fn key(self) -> &'static str {
        match self {
            Service::PruCars => "pru.cars",
            Service::FrailtyUnitSlots => "frailty_unit.slots",
            Service::CommunityTeams => "community.teams",
            Service::RehabBeds => "rehab.beds",
            Service::CareHomeBeds => "care_homes.beds",
            Service::CrhtPlaces => "mental_health.crht.places",
            Service::HomeCarePackages => "home_care.packages",
        }
    }

    /// The count outside dated changes and its changes, in `sc` (`None` for
    /// CRHT without a mental health system).
    pub fn of(self, sc: &Scenario) -> Option<(u32, &[CapacityChange])> {
        Some(match self {
            Service::PruCars => (sc.pru.cars, &sc.pru.capacity_changes[..]),
            Service::FrailtyUnitSlots => {
                (sc.frailty_unit.slots, &sc.frailty_unit.capacity_changes[..])
            }
            Service::CommunityTeams => (sc.community.teams, &sc.community.capacity_changes[..]),
            Service::RehabBeds => (sc.rehab.beds, &sc.rehab.capacity_changes[..]),
            Service::CareHomeBeds => (sc.care_homes.beds, &sc.care_homes.capacity_changes[..]),
            Service::CrhtPlaces => {
                let mh = sc.mental_health.as_ref()?;
                (mh.crht.places, &mh.crht.capacity_changes[..])
            }
            Service::HomeCarePackages => {
                let hc = sc.home_care.as_ref()?;
                (hc.packages, &hc.capacity_changes[..])
            }
        })
    }

    /// Whether the service has any place on some date: its count or a
    /// change's is above 0 (for the counterfactual arms).
    pub fn ever_open(self, sc: &Scenario) -> bool {
        self.of(sc)
            .is_some_and(|(n, changes)| n > 0 || changes.iter().any(|c| c.beds > 0))
    }
}

/// The count of each [`Service`] on each simulated day; an empty table for
/// a service without changes (its count is the scenario's all along).
#[derive(Clone, Debug, Default)]
pub struct DatedCounts {
    tables: [Vec<u32>; 7],
}

impl DatedCounts {
    /// The tables of `sc` for `days` simulated days from its start date.
    pub fn new(sc: &Scenario, days: usize) -> DatedCounts {
        DatedCounts {
            tables: Service::ALL.map(|s| match s.of(sc) {
                Some((n, changes)) if !changes.is_empty() => {
                    beds_by_day_of(n, changes, sc.start_date, days)
                }
                _ => Vec::new(),
            }),
        }
    }

    /// The count on each day (empty: no changes).
    pub fn table(&self, service: Service) -> &[u32] {
        &self.tables[service as usize]
    }

    /// Whether `service` has dated changes.
    pub fn changes(&self, service: Service) -> bool {
        !self.tables[service as usize].is_empty()
    }

    /// The count at time zero, or `base` without changes.
    pub fn first(&self, service: Service, base: u32) -> u32 {
        self.table(service).first().copied().unwrap_or(base)
    }

    /// The largest count on any day, or `base` without changes.
    pub fn max(&self, service: Service, base: u32) -> u32 {
        self.table(service).iter().copied().max().unwrap_or(base)
    }

    /// The mean count over `[from, to)` hours, counting each day by the
    /// hours of it inside; `base` without changes.
    pub fn mean_over(&self, service: Service, base: u32, from: f64, to: f64) -> f64 {
        let table = self.table(service);
        if table.is_empty() || to <= from {
            return f64::from(base);
        }
        let mut area = 0.0;
        let first = (from / 24.0).floor() as usize;
        for (day, &n) in table.iter().enumerate().skip(first) {
            let (a, b) = (
                (day as f64 * 24.0).max(from),
                ((day + 1) as f64 * 24.0).min(to),
            );
            if b <= a {
                break;
            }
            area += f64::from(n) * (b - a);
        }
        area / (to - from)
    }
}

/// Whether `sc` grows or changes a count on a date (any service, the beds
/// included): the flow balance then looks at [`balance_view`].
pub fn has_years(sc: &Scenario) -> bool {
    sc.growth.any()
        || !sc.rate_changes.is_empty()
        || !sc.acute.discharge_changes.is_empty()
        || !sc.acute.capacity_changes.is_empty()
        || !sc.pru.hours_changes.is_empty()
        || !sc.frailty_unit.hours_changes.is_empty()
        || sc
            .mental_health
            .as_ref()
            .is_some_and(|mh| !mh.capacity_changes.is_empty())
        || Service::ALL
            .iter()
            .any(|s| s.of(sc).is_some_and(|(_, changes)| !changes.is_empty()))
}

/// The mean count over `[from, to)` hours of `base` with dated `changes`
/// from `start`, rounded to the nearest whole count.
fn mean_count(base: u32, changes: &[CapacityChange], start: Date, from: f64, to: f64) -> u32 {
    if changes.is_empty() || to <= from {
        return base;
    }
    let days = (to / 24.0).ceil() as usize;
    let table = beds_by_day_of(base, changes, start, days);
    let mut area = 0.0;
    for (day, &n) in table.iter().enumerate() {
        let (a, b) = (
            (day as f64 * 24.0).max(from),
            ((day + 1) as f64 * 24.0).min(to),
        );
        if b > a {
            area += f64::from(n) * (b - a);
        }
    }
    (area / (to - from)).round() as u32
}

/// What the flow balance evaluates for a scenario that grows or changes
/// counts on dates (`docs/model.md`, "In the flow balance" under "Years
/// ahead"): the last 365 days of the run (the whole run if shorter), every
/// demand rate times its mean growth multiplier over those days (or its
/// largest over the run when `peak`: for the event budget and the size
/// limits), every count at its mean over those days, rounded, and no growth
/// or dated change left.
pub fn balance_view(sc: &Scenario, peak: bool) -> Scenario {
    let end = sc.warm_up_hours + sc.horizon_hours;
    view_between(sc, (end - 365.0 * 24.0).max(0.0), end, peak)
}

/// What the flow balance evaluates over the hours `[from, to)` of the run
/// (a planning year, for `check`'s table by year), as [`balance_view`] does
/// over the last 365 days: rates at their mean growth and dated value over
/// the span, counts at their mean, hours those in force on its last day.
pub fn balance_view_between(sc: &Scenario, from: f64, to: f64) -> Scenario {
    view_between(sc, from, to, false)
}

fn view_between(sc: &Scenario, from: f64, end: f64, peak: bool) -> Scenario {
    let factor = |g: &GrowthSpec| {
        if peak {
            g.peak(end)
        } else {
            g.mean_between(from, end)
        }
    };
    let mut v = sc.clone();
    dated_means(&mut v, from, end, peak);
    let g = &sc.growth;
    v.growth = Growth::default();
    v.demand.crises_per_day *= factor(&g.crises);
    v.community.referrals_per_day *= factor(&g.community_referrals);
    v.care_homes.community_placements_per_day *= factor(&g.care_home_placements);
    let start = sc.start_date;
    let count = |n: &mut u32, changes: &mut Vec<CapacityChange>| {
        *n = mean_count(*n, changes, start, from, end);
        changes.clear();
    };
    count(&mut v.acute.beds, &mut v.acute.capacity_changes);
    // Opening hours and days: those in force on the last day of the run.
    let last = start.add_days(((end / 24.0).ceil() as i64 - 1).max(0));
    let hours = |open: &mut ClockWindow, days: &mut OpenDays, changes: &mut Vec<HoursChange>| {
        if let Some(w) = covering(changes, last).find_map(|c| c.open) {
            *open = w;
        }
        if let Some(d) = covering(changes, last).find_map(|c| c.days) {
            *days = d;
        }
        changes.clear();
    };
    hours(&mut v.pru.open, &mut v.pru.days, &mut v.pru.hours_changes);
    let discharge = |weekend: bool| {
        covering(&sc.acute.discharge_changes, last)
            .find_map(|c| if weekend { c.weekend } else { c.weekday })
    };
    if let Some(w) = discharge(false) {
        v.acute.discharge_hours = w;
    }
    if let Some(w) = discharge(true) {
        v.acute.weekend_discharge_hours = w;
    }
    v.acute.discharge_changes.clear();
    let frailty_unit = &mut v.frailty_unit;
    hours(
        &mut frailty_unit.open,
        &mut frailty_unit.days,
        &mut frailty_unit.hours_changes,
    );
    count(&mut v.pru.cars, &mut v.pru.capacity_changes);
    count(
        &mut v.frailty_unit.slots,
        &mut v.frailty_unit.capacity_changes,
    );
    count(&mut v.community.teams, &mut v.community.capacity_changes);
    count(&mut v.rehab.beds, &mut v.rehab.capacity_changes);
    count(&mut v.care_homes.beds, &mut v.care_homes.capacity_changes);
    if let Some(mh) = &mut v.mental_health {
        mh.crises_per_day *= factor(&g.mh_crises);
        mh.referrals_per_day *= factor(&g.mh_referrals);
        count(&mut mh.beds, &mut mh.capacity_changes);
        count(&mut mh.crht.places, &mut mh.crht.capacity_changes);
    }
    if let Some(hc) = &mut v.home_care {
        hc.community_starts_per_day *= factor(&g.home_care_starts);
        count(&mut hc.packages, &mut hc.capacity_changes);
    }
    v
}

/// Every dated value of `v` at its mean over `[from, to)` hours
/// (`docs/model.md`, "Years ahead in the flow balance"), or, when `peak`,
/// each rate at its largest over the run; the change list cleared. A rate
/// is weighed day by day with its growth multiplier over the day, which
/// [`balance_view`] then divides out again (it multiplies every rate by its
/// mean or peak growth).
fn dated_means(v: &mut Scenario, from: f64, to: f64, peak: bool) {
    use crate::scenario::dated::{DatedKind, value_on};
    use crate::scenario::{DatedKey, DatedValue};
    if v.rate_changes.is_empty() {
        return;
    }
    let g = v.growth.clone();
    let growth = |key: DatedKey| match key {
        DatedKey::CrisesPerDay => Some(&g.crises),
        DatedKey::CommunityReferrals => Some(&g.community_referrals),
        DatedKey::CareHomePlacements => Some(&g.care_home_placements),
        DatedKey::HomeCareStarts => Some(&g.home_care_starts),
        DatedKey::MhCrises => Some(&g.mh_crises),
        DatedKey::MhReferrals => Some(&g.mh_referrals),
        _ => None,
    };
    let changes = std::mem::take(&mut v.rate_changes);
    let (first, last) = ((from / 24.0).floor() as i64, (to / 24.0).ceil() as i64);
    let all_days = ((to / 24.0).ceil() as i64).max(1);
    for &key in DatedKey::ALL {
        let Some(base) = key.get(v) else { continue };
        if !changes
            .iter()
            .any(|c| c.values.iter().any(|(k, _)| *k == key))
        {
            continue;
        }
        let on = |d: i64| value_on(&changes, key, v.start_date.add_days(d)).unwrap_or(base);
        if peak && key.kind() == DatedKind::Rate {
            let top = (0..all_days)
                .map(|d| DatedKey::number(on(d)))
                .fold(DatedKey::number(base), f64::max);
            key.set(v, DatedValue::Number(top));
            continue;
        }
        // Weights: the hours of each day inside the span, times the growth
        // multiplier's mean over them for a rate.
        let (mut total, mut weight, mut shares) = (0.0, 0.0, [0.0; 4]);
        for d in first..last {
            let (a, b) = ((d as f64 * 24.0).max(from), ((d + 1) as f64 * 24.0).min(to));
            if b <= a {
                continue;
            }
            let w = (b - a) * growth(key).map_or(1.0, |g| g.mean_between(a, b));
            weight += w;
            match on(d) {
                DatedValue::Number(x) => total += w * x,
                DatedValue::Shares(s) => (0..4).for_each(|i| shares[i] += w * s[i]),
            }
        }
        if weight > 0.0 {
            let value = match base {
                DatedValue::Number(_) => DatedValue::Number(total / weight),
                DatedValue::Shares(_) => DatedValue::Shares(shares.map(|s| s / weight)),
            };
            key.set(v, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    #[test]
    fn mean_factors() {
        let y = crate::scenario::GROWTH_YEAR_HOURS;
        let rate = GrowthSpec::Rate(0.02);
        let m = rate.mean_between(0.0, y);
        assert!((m - 0.02 / 1.02_f64.ln()).abs() < 1e-12);
        let m = rate.mean_between(y, 2.0 * y);
        assert!((m - 1.02 * 0.02 / 1.02_f64.ln()).abs() < 1e-12);
        assert_eq!(GrowthSpec::Rate(0.0).mean_between(5.0, 9.0), 1.0);
        assert!((rate.peak(2.0 * y) - 1.0404).abs() < 1e-12);
        assert_eq!(GrowthSpec::Rate(-0.1).peak(2.0 * y), 1.0);
        // A table: constant within each growth year, the last holding after.
        let table = GrowthSpec::Multipliers(vec![1.0, 1.5, 0.5]);
        assert_eq!(table.hour_factor(y - 1.0), 1.0);
        assert_eq!(table.hour_factor(y), 1.5);
        assert_eq!(table.hour_factor(10.0 * y), 0.5);
        assert!((table.mean_between(0.5 * y, 1.5 * y) - 1.25).abs() < 1e-12);
        assert_eq!(table.peak(1.0 * y), 1.0);
        assert_eq!(table.peak(1.5 * y), 1.5);
        assert_eq!(GrowthSpec::Multipliers(vec![0.5]).peak(3.0 * y), 1.0);
    }

    /// The mean count weighs each day by its hours inside the span; a change
    /// without `to` (the last supported date) lasts to the end.
    #[test]
    fn mean_counts() {
        let start = date("2026-01-01");
        let change = |from: &str, beds| CapacityChange {
            from: date(from),
            to: Date::last_supported(),
            beds,
        };
        // 10 days of 1, then 2: over days 0..20, 1.5.
        let changes = [change("2026-01-11", 2)];
        assert_eq!(mean_count(1, &changes, start, 0.0, 20.0 * 24.0), 2);
        assert_eq!(mean_count(1, &changes, start, 0.0, 40.0 * 24.0), 2);
        assert_eq!(mean_count(1, &changes, start, 0.0, 10.0 * 24.0), 1);
        assert_eq!(mean_count(10, &changes, start, 0.0, 20.0 * 24.0), 6);
        assert_eq!(mean_count(7, &[], start, 0.0, 20.0 * 24.0), 7);
    }
}

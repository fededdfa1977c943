//! Years ahead (`docs/model.md`, "Capacity over time" and "Demand growth"):
//! the services whose count can change on a date, the count of each on
//! every simulated day, and the demand rates multiplied by their growth.

use crate::scenario::calendar::Date;
use crate::scenario::{CapacityChange, Growth, Scenario};

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
}

impl Service {
    /// Every service, in the order their changes are scheduled at time zero.
    pub const ALL: [Service; 6] = [
        Service::PruCars,
        Service::FrailtyUnitSlots,
        Service::CommunityTeams,
        Service::RehabBeds,
        Service::CareHomeBeds,
        Service::CrhtPlaces,
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
        }
    }

    /// The count outside dated changes and its changes, in `sc` (`None` for
    /// CRHT without a mental health system).
    pub fn of(self, sc: &Scenario) -> Option<(u32, &[CapacityChange])> {
        Some(match self {
            Service::PruCars => (sc.pru.cars, &sc.pru.capacity_changes[..]),
            Service::FrailtyUnitSlots => (
                sc.frailty_unit.slots,
                &sc.frailty_unit.capacity_changes[..],
            ),
            Service::CommunityTeams => (sc.community.teams, &sc.community.capacity_changes[..]),
            Service::RehabBeds => (sc.rehab.beds, &sc.rehab.capacity_changes[..]),
            Service::CareHomeBeds => (sc.care_homes.beds, &sc.care_homes.capacity_changes[..]),
            Service::CrhtPlaces => {
                let mh = sc.mental_health.as_ref()?;
                (mh.crht.places, &mh.crht.capacity_changes[..])
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
    tables: [Vec<u32>; 6],
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
            let (a, b) = ((day as f64 * 24.0).max(from), ((day + 1) as f64 * 24.0).min(to));
            if b <= a {
                break;
            }
            area += f64::from(n) * (b - a);
        }
        area / (to - from)
    }
}

/// The lowest count of each change list over the dates from `first` to
/// `last` (for the flow balance's worst case): `base` where no change
/// covers a date.
pub fn least_count(base: u32, changes: &[CapacityChange], first: Date, last: Date) -> u32 {
    if changes.is_empty() || last < first {
        return base;
    }
    let days = first.days_until(last) as usize + 1;
    beds_by_day_of(base, changes, first, days)
        .into_iter()
        .min()
        .unwrap_or(base)
}

/// The largest growth multiplier of rate `g` over `[0, end)` hours: at the
/// end for growth, 1 (time zero) for decline.
pub fn peak_factor(g: f64, end: f64) -> f64 {
    Growth::factor_at(g, end).max(1.0)
}

/// The mean growth multiplier of rate `g` over `[0, end)` hours (what the
/// expected count of arrivals scales by).
pub fn mean_factor(g: f64, end: f64) -> f64 {
    if g == 0.0 || end <= 0.0 {
        return 1.0;
    }
    let k = (1.0 + g).ln() / crate::scenario::GROWTH_YEAR_HOURS;
    (k * end).exp_m1() / (k * end)
}

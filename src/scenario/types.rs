//! The validated scenario: every value checked, every duration in hours,
//! every distribution constructed. Nothing downstream re-checks input.
//!
//! Field names follow the scenario file (`docs/scenario-format.md`); durations carry
//! `_hours` where the file has a duration string.

use super::calendar::{ClockWindow, Date, Weekday};
use super::dist::Dist;

/// A capacity plan, ready to simulate.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub start_date: Date,
    pub warm_up_hours: f64,
    pub horizon_hours: f64,
    pub replications: u32,
    pub seed: u64,
    pub demand: Demand,
    pub pru: Pru,
    pub frailty_unit: FrailtyUnit,
    pub ed: Ed,
    pub acute: Acute,
    pub pathways: Pathways,
    pub community: Community,
    pub rehab: Rehab,
    pub care_homes: CareHomes,
    /// `None` when the file has no `[readmission]` table: no readmissions.
    pub readmission: Option<Readmission>,
    /// Adults living in the borough (`population.adults`), for rates per
    /// 100,000 adults; `None` when the scenario does not say.
    pub adults: Option<u32>,
    /// `[mental_health]`; `None`: no mental health system.
    pub mental_health: Option<MentalHealth>,
}

#[derive(Clone, Debug)]
pub struct Demand {
    pub crises_per_day: f64,
    pub frail_share: f64,
    /// Raw weights as written (non-negative, positive sum); the model divides
    /// each list by the simple mean of its entries.
    pub hour_of_day: [f64; 24],
    /// Monday first.
    pub day_of_week: [f64; 7],
    /// January first.
    pub month_of_year: [f64; 12],
}

/// Days on which a service opens, indexed by [`Weekday::index`].
pub type OpenDays = [bool; 7];

/// Every day of the week.
pub const EVERY_DAY: OpenDays = [true; 7];

/// Whether `day` is in `days`.
pub fn opens_on(days: &OpenDays, day: Weekday) -> bool {
    days[day.index()]
}

#[derive(Clone, Debug)]
pub struct Pru {
    pub cars: u32,
    pub open: ClockWindow,
    pub days: OpenDays,
    pub eligible_share: f64,
    pub visit: Dist,
    pub treated_at_home: f64,
    pub community_follow_up: f64,
}

#[derive(Clone, Debug)]
pub struct FrailtyUnit {
    pub slots: u32,
    pub open: ClockWindow,
    pub days: OpenDays,
    pub assessment: Dist,
    pub discharged_same_day: f64,
    pub community_follow_up: f64,
}

#[derive(Clone, Debug)]
pub struct Ed {
    pub frail_admit_share: f64,
    pub other_admit_share: f64,
    /// `ed.home_treatable_admit_share`: the admission share of a patient
    /// whose crisis the PRU could treat at home; `None` for the earlier
    /// rule (no such patients).
    pub home_treatable_admit_share: Option<f64>,
}

#[derive(Clone, Debug)]
pub struct Acute {
    pub beds: u32,
    pub discharge_hours: ClockWindow,
    /// Same as `discharge_hours` when the file omits it.
    pub weekend_discharge_hours: ClockWindow,
    pub los_frail: Dist,
    pub los_other: Dist,
    /// In file order; where changes overlap, the last one listed wins.
    pub capacity_changes: Vec<CapacityChange>,
}

/// Beds from 00:00 on `from` to 24:00 on `to` (`from <= to`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CapacityChange {
    pub from: Date,
    pub to: Date,
    pub beds: u32,
}

/// Discharge pathways after an acute stay.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Pathway {
    /// Home with no new support.
    P0,
    /// Home with community nursing support.
    P1,
    /// A rehab / intermediate care bed.
    P2,
    /// A care home bed.
    P3,
}

impl Pathway {
    pub const ALL: [Pathway; 4] = [Pathway::P0, Pathway::P1, Pathway::P2, Pathway::P3];

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        ["p0", "p1", "p2", "p3"][self.index()]
    }
}

#[derive(Clone, Debug)]
pub struct Pathways {
    /// Shares of P0..P3 for frail patients; they sum to 1 (within 1e-6).
    pub frail: [f64; 4],
    /// Shares of P0..P3 for other patients; they sum to 1 (within 1e-6).
    pub other: [f64; 4],
    /// Process delay for P1, P2, P3 (index 0, 1, 2); `None` means zero.
    pub process_delay: [Option<Dist>; 3],
}

/// Classes of community nursing referral.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReferralClass {
    /// From an acute discharge (P1) or after rehab.
    Discharge,
    /// After an avoided admission (PRU treated at home, FAU discharged).
    Avoidance,
    /// Referred by a GP from the community.
    Community,
}

impl ReferralClass {
    pub const ALL: [ReferralClass; 3] = [
        ReferralClass::Discharge,
        ReferralClass::Avoidance,
        ReferralClass::Community,
    ];

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        ["discharge", "avoidance", "community"][self.index()]
    }

    pub fn parse(s: &str) -> Option<ReferralClass> {
        ReferralClass::ALL.into_iter().find(|c| c.name() == s)
    }
}

#[derive(Clone, Debug)]
pub struct Community {
    pub teams: u32,
    pub caseload_per_team: u32,
    pub referrals_per_day: f64,
    /// A permutation of the three classes, highest priority first.
    pub priority: [ReferralClass; 3],
    /// Episode duration by class, indexed by [`ReferralClass::index`].
    pub episode: [Dist; 3],
}

#[derive(Clone, Debug)]
pub struct Rehab {
    pub beds: u32,
    pub stay: Dist,
    pub community_follow_up: f64,
}

#[derive(Clone, Debug)]
pub struct CareHomes {
    pub beds: u32,
    /// Who is in the care homes at time zero.
    pub start: CareHomeStart,
    pub stay: Dist,
    pub community_placements_per_day: f64,
    pub hospital_first: bool,
    pub crises_per_resident_year: f64,
    /// `None` when the red bag scheme is disabled.
    pub red_bag: Option<RedBag>,
}

/// The care home residents at time zero (`docs/model.md`, "Care homes").
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CareHomeStart {
    /// `care_homes.initial_residents`: this many residents whatever the
    /// beds, each with the equilibrium residual of a stay.
    Residents(u32),
    /// `care_homes.initial_occupancy`: this share of the beds occupied,
    /// each resident with a whole stay.
    Occupancy(f64),
}

impl CareHomes {
    /// Residents at time zero.
    pub fn initial_residents(&self) -> u32 {
        match self.start {
            CareHomeStart::Residents(n) => n,
            // Halves away from zero; at most `beds` (the share is at most 1).
            CareHomeStart::Occupancy(share) => {
                ((f64::from(self.beds) * share).round() as u32).min(self.beds)
            }
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct RedBag {
    pub los_reduction_hours: f64,
    pub min_los_hours: f64,
}

#[derive(Clone, Copy, Debug)]
pub struct Readmission {
    pub window_hours: f64,
    /// Probability of readmission after leaving on P0, P1, P2.
    pub p0: f64,
    pub p1: f64,
    pub p2: f64,
}

/// The adult mental health system (`docs/model.md`, "Mental health").
#[derive(Clone, Debug)]
pub struct MentalHealth {
    pub crises_per_day: f64,
    pub referrals_per_day: f64,
    pub liaison_assessment: Dist,
    pub ed_admit_share: f64,
    pub ed_crht_share: f64,
    pub beds: u32,
    /// In file order; where changes overlap, the last one listed wins.
    pub capacity_changes: Vec<CapacityChange>,
    pub stay: Dist,
    pub out_of_area_after_hours: f64,
    /// `stay` when the file omits it.
    pub out_of_area_stay: Dist,
    pub repatriate: bool,
    /// `None` means zero.
    pub process_delay: Option<Dist>,
    /// Shares of home, supported accommodation, care home; they sum to 1.
    pub pathways: [f64; 3],
    pub crht: Crht,
    pub supported_places: u32,
    pub supported_stay: Dist,
    pub readmission: Option<MhReadmission>,
}

/// Where a patient goes from a local mental health bed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MhPathway {
    Home,
    Supported,
    CareHome,
}

impl MhPathway {
    pub const ALL: [MhPathway; 3] = [MhPathway::Home, MhPathway::Supported, MhPathway::CareHome];
}

/// Crisis resolution and home treatment.
#[derive(Clone, Debug)]
pub struct Crht {
    pub places: u32,
    pub open: ClockWindow,
    pub episode: Dist,
    pub escalation_share: f64,
    /// `when_full = "wait"`: referrals wait; `"admit"`: they are admitted.
    pub wait_when_full: bool,
}

#[derive(Clone, Copy, Debug)]
pub struct MhReadmission {
    pub window_hours: f64,
    pub share: f64,
}

impl Scenario {
    /// Community nursing caseload places.
    pub fn community_places(&self) -> u64 {
        u64::from(self.community.teams) * u64::from(self.community.caseload_per_team)
    }
}

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
    /// `scenario.name`: shown in reports and outputs.
    pub name: String,
    /// `scenario.description`: the longer description shown in the report.
    pub description: String,
    /// `scenario.start_date`: the calendar date of time zero (00:00).
    pub start_date: Date,
    /// `scenario.warm_up`: hours simulated before results are collected.
    pub warm_up_hours: f64,
    /// `scenario.horizon`: length of the results window after the warm-up,
    /// hours.
    pub horizon_hours: f64,
    /// `scenario.replications`: independent replications to run.
    pub replications: u32,
    /// `scenario.seed`: the seed of every random stream.
    pub seed: u64,
    /// The `[demand]` table: new crises.
    pub demand: Demand,
    /// The `[pru]` table: the physician response unit.
    pub pru: Pru,
    /// The `[frailty_unit]` table: the frailty assessment unit.
    pub frailty_unit: FrailtyUnit,
    /// The `[ed]` table: admission shares in the emergency department.
    pub ed: Ed,
    /// The `[acute]` table: acute beds and discharge hours.
    pub acute: Acute,
    /// The `[pathways]` table: discharge pathways after an acute stay.
    pub pathways: Pathways,
    /// The `[community]` table: community nursing teams.
    pub community: Community,
    /// The `[rehab]` table: rehab beds.
    pub rehab: Rehab,
    /// The `[care_homes]` table: care home beds and residents.
    pub care_homes: CareHomes,
    /// `None` when the file has no `[readmission]` table: no readmissions.
    pub readmission: Option<Readmission>,
    /// Adults living in the borough (`population.adults`), for rates per
    /// 100,000 adults; `None` when the scenario does not say.
    pub adults: Option<u32>,
    /// `[mental_health]`; `None`: no mental health system.
    pub mental_health: Option<MentalHealth>,
    /// `[start]`: the patients in the services at time zero; empty when
    /// the run starts empty.
    pub start: super::start::StartState,
    /// `[home_care]`; `None`: P1 patients ask for community nursing.
    pub home_care: Option<HomeCare>,
    /// `[growth]`: yearly demand growth; every rate 0 without the table.
    pub growth: Growth,
    /// `[[rate_changes]]`: rates and shares changed on dates, in file order
    /// (`docs/model.md`, "Dated values").
    pub rate_changes: Vec<super::dated::RateChange>,
}

/// The `[home_care]` table: home care packages for P1 patients
/// (`docs/model.md`, "Home care").
#[derive(Clone, Debug)]
pub struct HomeCare {
    /// `home_care.packages`: packages that can run at once.
    pub packages: u32,
    /// `home_care.capacity_changes`: dated changes of `packages`.
    pub capacity_changes: Vec<CapacityChange>,
    /// `home_care.package`: length of a package, hours.
    pub package: Dist,
    /// `home_care.community_starts_per_day`: packages started a day for
    /// people at home.
    pub community_starts_per_day: f64,
    /// `home_care.hospital_first`: P1 patients before community starts.
    pub hospital_first: bool,
    /// `home_care.community_follow_up`: share of P1 patients also referred
    /// to community nursing when they leave hospital.
    pub community_follow_up: f64,
    /// `home_care.initial_packages`: packages running at time zero.
    pub initial_packages: u32,
}

/// The `[growth]` table: the growth of each demand source from
/// `scenario.start_date` (`docs/model.md`, "Demand growth"); none without
/// the table.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Growth {
    /// `growth.crises`: new crises (`demand.crises_per_day`).
    pub crises: GrowthSpec,
    /// `growth.community_referrals`: `community.referrals_per_day`.
    pub community_referrals: GrowthSpec,
    /// `growth.care_home_placements`: `care_homes.community_placements_per_day`.
    pub care_home_placements: GrowthSpec,
    /// `growth.mh_crises`: `mental_health.crises_per_day`.
    pub mh_crises: GrowthSpec,
    /// `growth.mh_referrals`: `mental_health.referrals_per_day`.
    pub mh_referrals: GrowthSpec,
    /// `growth.home_care_starts`: `home_care.community_starts_per_day`.
    pub home_care_starts: GrowthSpec,
}

/// How one source grows: a yearly rate compounding smoothly, or a
/// multiplier for each growth year (constant within the year, the last
/// one holding after it).
#[derive(Clone, Debug, PartialEq)]
pub enum GrowthSpec {
    /// A yearly rate in [-0.5, 0.5]; 0 is no growth.
    Rate(f64),
    /// A multiplier (> 0) for each growth year from the start, in order.
    Multipliers(Vec<f64>),
}

impl Default for GrowthSpec {
    fn default() -> GrowthSpec {
        GrowthSpec::Rate(0.0)
    }
}

/// Hours in a growth year: 365.25 days (`docs/model.md`, "Demand growth").
pub const GROWTH_YEAR_HOURS: f64 = 365.25 * 24.0;

impl Growth {
    /// Whether any source grows.
    pub fn any(&self) -> bool {
        [
            &self.crises,
            &self.community_referrals,
            &self.care_home_placements,
            &self.mh_crises,
            &self.mh_referrals,
            &self.home_care_starts,
        ]
        .iter()
        .any(|g| g.grows())
    }
}

impl GrowthSpec {
    /// Whether the rate changes at all (a rate other than 0, or a table).
    pub fn grows(&self) -> bool {
        !matches!(self, GrowthSpec::Rate(g) if *g == 0.0)
    }

    /// The multiplier of growth year `year` (from 0) of a table.
    fn multiplier(table: &[f64], year: f64) -> f64 {
        let i = (year.max(0.0) as usize).min(table.len().saturating_sub(1));
        table.get(i).copied().unwrap_or(1.0)
    }

    /// The growth multiplier of the clock hour `[h, h + 1)` (hours since time
    /// zero): for a rate `g`, the mean of `(1 + g)^(t / year)` over the hour;
    /// for a table, the multiplier of the year the hour is in. Exactly 1
    /// without growth.
    pub fn hour_factor(&self, h: f64) -> f64 {
        match self {
            GrowthSpec::Rate(g) if *g == 0.0 => 1.0,
            GrowthSpec::Rate(g) => {
                let k = (1.0 + g).ln() / GROWTH_YEAR_HOURS;
                // Mean of exp(k t) over [h, h + 1): (exp(k (h + 1)) - exp(k h)) / k.
                (k * h).exp() * (k.exp_m1() / k)
            }
            GrowthSpec::Multipliers(m) => Self::multiplier(m, h / GROWTH_YEAR_HOURS),
        }
    }

    /// The multiplier at instant `t` (hours since time zero).
    pub fn factor_at(&self, t: f64) -> f64 {
        match self {
            GrowthSpec::Rate(g) if *g == 0.0 => 1.0,
            GrowthSpec::Rate(g) => (1.0 + g).powf(t / GROWTH_YEAR_HOURS),
            GrowthSpec::Multipliers(m) => Self::multiplier(m, t / GROWTH_YEAR_HOURS),
        }
    }

    /// The mean multiplier over `[from, to)` hours.
    pub fn mean_between(&self, from: f64, to: f64) -> f64 {
        match self {
            _ if to <= from => self.factor_at(from),
            GrowthSpec::Rate(g) if *g == 0.0 => 1.0,
            GrowthSpec::Rate(g) => {
                let k = (1.0 + g).ln() / GROWTH_YEAR_HOURS;
                ((k * to).exp() - (k * from).exp()) / (k * (to - from))
            }
            GrowthSpec::Multipliers(m) => {
                // Year by year.
                let mut area = 0.0;
                let mut a = from;
                while a < to {
                    let year = (a / GROWTH_YEAR_HOURS).floor();
                    let b = ((year + 1.0) * GROWTH_YEAR_HOURS).min(to);
                    area += Self::multiplier(m, year) * (b - a);
                    a = b;
                }
                area / (to - from)
            }
        }
    }

    /// The largest multiplier over `[0, end)` hours, and at least 1.
    pub fn peak(&self, end: f64) -> f64 {
        match self {
            GrowthSpec::Rate(_) => self.factor_at(end).max(1.0),
            GrowthSpec::Multipliers(m) => {
                let years = (end / GROWTH_YEAR_HOURS).ceil().max(1.0) as usize;
                m.iter().take(years).copied().fold(1.0, f64::max)
            }
        }
    }
}

/// The `[demand]` table: new crises and how their rate varies with the clock
/// and calendar.
#[derive(Clone, Debug)]
pub struct Demand {
    /// `demand.crises_per_day`: mean new crises a day (the average of the
    /// shaped rate).
    pub crises_per_day: f64,
    /// `demand.frail_share`: share of new crises in older people with frailty,
    /// in [0, 1].
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

/// The `[pru]` table: the physician response unit, cars visiting patients at
/// home.
#[derive(Clone, Debug)]
pub struct Pru {
    /// `pru.cars`: cars that can be on a visit at once.
    pub cars: u32,
    /// `pru.open`: the hours the PRU takes calls on its days.
    pub open: ClockWindow,
    /// `pru.days`: the days the PRU opens.
    pub days: OpenDays,
    /// `pru.eligible_share`: share of crises (every source) suitable for a
    /// visit, in [0, 1].
    pub eligible_share: f64,
    /// `pru.visit`: length of one visit, hours.
    pub visit: Dist,
    /// `pru.treated_at_home`: share of visits ending with the patient treated
    /// at home, in [0, 1].
    pub treated_at_home: f64,
    /// `pru.community_follow_up`: share of those treated at home then referred
    /// to community nursing, in [0, 1].
    pub community_follow_up: f64,
    /// Dated changes of `pru.cars` (`docs/model.md`, "Capacity over time"),
    /// in file order; where changes overlap, the last one listed wins.
    pub capacity_changes: Vec<CapacityChange>,
    /// The entries of `pru.capacity_changes` that name `open` or `days`, in
    /// file order.
    pub hours_changes: Vec<HoursChange>,
}

/// The `[frailty_unit]` table: the frailty assessment unit.
#[derive(Clone, Debug)]
pub struct FrailtyUnit {
    /// `frailty_unit.slots`: patients the unit can assess at once.
    pub slots: u32,
    /// `frailty_unit.open`: the hours the unit takes patients on its days.
    pub open: ClockWindow,
    /// `frailty_unit.days`: the days the unit opens.
    pub days: OpenDays,
    /// `frailty_unit.assessment`: length of one assessment, hours.
    pub assessment: Dist,
    /// `frailty_unit.discharged_same_day`: share of assessed patients sent
    /// home, in [0, 1].
    pub discharged_same_day: f64,
    /// `frailty_unit.community_follow_up`: share of those sent home then
    /// referred to community nursing, in [0, 1].
    pub community_follow_up: f64,
    /// Dated changes of `frailty_unit.slots` (`docs/model.md`, "Capacity over time"),
    /// in file order; where changes overlap, the last one listed wins.
    pub capacity_changes: Vec<CapacityChange>,
    /// The entries of `frailty_unit.capacity_changes` that name `open` or
    /// `days`, in file order.
    pub hours_changes: Vec<HoursChange>,
}

/// The `[ed]` table: who the emergency department admits.
#[derive(Clone, Debug)]
pub struct Ed {
    /// `ed.frail_admit_share`: share of frail ED patients admitted when the
    /// frailty unit does not see them, in [0, 1].
    pub frail_admit_share: f64,
    /// `ed.other_admit_share`: share of other ED patients admitted, in [0, 1].
    pub other_admit_share: f64,
    /// `ed.home_treatable_admit_share`: the admission share of a patient
    /// whose crisis the PRU could treat at home; `None` for the earlier
    /// rule (no such patients).
    pub home_treatable_admit_share: Option<f64>,
}

/// The `[acute]` table: acute beds, their dated changes and discharge hours.
#[derive(Clone, Debug)]
pub struct Acute {
    /// `acute.beds`: acute beds outside dated changes.
    pub beds: u32,
    /// `acute.discharge_hours`: the hours, Monday to Friday, in which patients
    /// may leave.
    pub discharge_hours: ClockWindow,
    /// Same as `discharge_hours` when the file omits it.
    pub weekend_discharge_hours: ClockWindow,
    /// `acute.los.frail`: acute length of stay of frail patients, hours, from
    /// getting a bed to medically fit.
    pub los_frail: Dist,
    /// `acute.los.other`: acute length of stay of other patients, hours.
    pub los_other: Dist,
    /// In file order; where changes overlap, the last one listed wins.
    pub capacity_changes: Vec<CapacityChange>,
    /// The entries of `acute.capacity_changes` that name discharge hours,
    /// in file order.
    pub discharge_changes: Vec<DischargeChange>,
}

/// Discharge hours from 00:00 on `from` to 24:00 on `to`, for the keys the
/// entry names (`docs/model.md`, "Capacity over time").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DischargeChange {
    /// The first day.
    pub from: Date,
    /// The last day (inclusive); [`Date::last_supported`] without `to`.
    pub to: Date,
    /// `discharge_hours` (Monday to Friday), if the entry names it.
    pub weekday: Option<ClockWindow>,
    /// `weekend_discharge_hours`, if the entry names it (or follows
    /// `discharge_hours` when the scenario has no weekend hours).
    pub weekend: Option<ClockWindow>,
}

/// Opening hours and days of the PRU or the frailty unit from 00:00 on
/// `from` to 24:00 on `to`, for the keys the entry names (`docs/model.md`,
/// "Capacity over time").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HoursChange {
    /// The first day.
    pub from: Date,
    /// The last day (inclusive); [`Date::last_supported`] without `to`.
    pub to: Date,
    /// `open`, if the entry names it.
    pub open: Option<ClockWindow>,
    /// `days`, if the entry names them.
    pub days: Option<OpenDays>,
}

/// A service's count (beds, cars, slots, teams, places) from 00:00 on
/// `from` to 24:00 on `to` (`from <= to`), `docs/model.md`, "Capacity over
/// time".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CapacityChange {
    /// `capacity_changes[].from`: the first day of the change.
    pub from: Date,
    /// `capacity_changes[].to`: the last day of the change (inclusive);
    /// [`Date::last_supported`] when the file gives none.
    pub to: Date,
    /// The count on those days (`beds`, `cars`, `slots`, `teams` or
    /// `places`, by service).
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
    /// The four pathways, P0 first.
    pub const ALL: [Pathway; 4] = [Pathway::P0, Pathway::P1, Pathway::P2, Pathway::P3];

    /// Place in [`Pathway::ALL`], 0 to 3.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The pathway's name in keys and outputs: `p0` to `p3`.
    pub fn name(self) -> &'static str {
        ["p0", "p1", "p2", "p3"][self.index()]
    }
}

/// The `[pathways]` table: discharge pathway shares and process delays.
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
    /// The three classes, in the order of [`ReferralClass::index`].
    pub const ALL: [ReferralClass; 3] = [
        ReferralClass::Discharge,
        ReferralClass::Avoidance,
        ReferralClass::Community,
    ];

    /// Place in [`ReferralClass::ALL`], 0 to 2.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The class's name in the file and outputs: `discharge`, `avoidance` or
    /// `community`.
    pub fn name(self) -> &'static str {
        ["discharge", "avoidance", "community"][self.index()]
    }

    /// The class named `s`, if it is one of [`ReferralClass::name`]'s.
    pub fn parse(s: &str) -> Option<ReferralClass> {
        ReferralClass::ALL.into_iter().find(|c| c.name() == s)
    }
}

/// The `[community]` table: community nursing teams and their waiting list.
#[derive(Clone, Debug)]
pub struct Community {
    /// `community.teams`: neighbourhood nursing teams.
    pub teams: u32,
    /// `community.caseload_per_team`: caseload places per team.
    pub caseload_per_team: u32,
    /// `community.referrals_per_day`: GP referrals from the community a day
    /// (class `community`).
    pub referrals_per_day: f64,
    /// A permutation of the three classes, highest priority first.
    pub priority: [ReferralClass; 3],
    /// Episode duration by class, indexed by [`ReferralClass::index`].
    pub episode: [Dist; 3],
    /// Dated changes of `community.teams` (`docs/model.md`, "Capacity over time"),
    /// in file order; where changes overlap, the last one listed wins.
    pub capacity_changes: Vec<CapacityChange>,
}

/// The `[rehab]` table: rehab (intermediate care) beds.
#[derive(Clone, Debug)]
pub struct Rehab {
    /// `rehab.beds`: rehab beds.
    pub beds: u32,
    /// `rehab.stay`: length of a rehab stay, hours.
    pub stay: Dist,
    /// `rehab.community_follow_up`: share of rehab leavers referred to
    /// community nursing, in [0, 1].
    pub community_follow_up: f64,
    /// Dated changes of `rehab.beds` (`docs/model.md`, "Capacity over time"),
    /// in file order; where changes overlap, the last one listed wins.
    pub capacity_changes: Vec<CapacityChange>,
}

/// The `[care_homes]` table: care home beds, their residents and placements.
#[derive(Clone, Debug)]
pub struct CareHomes {
    /// `care_homes.beds`: care home beds.
    pub beds: u32,
    /// Who is in the care homes at time zero.
    pub start: CareHomeStart,
    /// `care_homes.stay`: length of a resident's stay (to death or a move),
    /// hours.
    pub stay: Dist,
    /// `care_homes.community_placements_per_day`: placements from the community
    /// a day.
    pub community_placements_per_day: f64,
    /// `care_homes.hospital_first`: whether patients from hospital are placed
    /// before community placements (the queue rule; `false` under the
    /// placement search, where it has no meaning).
    pub hospital_first: bool,
    /// `care_homes.search_at_one_free_bed`, hours: `Some` for the placement
    /// search (`docs/model.md`, "Care homes"), `None` for the queue rule.
    pub search_hours: Option<f64>,
    /// `care_homes.crises_per_resident_year`: crises of each resident in their
    /// bed, per resident-year.
    pub crises_per_resident_year: f64,
    /// `None` when the red bag scheme is disabled.
    pub red_bag: Option<RedBag>,
    /// Dated changes of `care_homes.beds` (`docs/model.md`, "Capacity over time"),
    /// in file order; where changes overlap, the last one listed wins.
    pub capacity_changes: Vec<CapacityChange>,
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

/// `care_homes.red_bag`: the red bag scheme, which shortens residents' acute
/// stays.
#[derive(Clone, Copy, Debug)]
pub struct RedBag {
    /// `care_homes.red_bag.los_reduction`: hours taken off a resident's acute
    /// stay.
    pub los_reduction_hours: f64,
    /// `care_homes.red_bag.min_los`: the shortest stay, hours, the reduction
    /// may leave.
    pub min_los_hours: f64,
}

/// The `[readmission]` table: return crises after leaving hospital.
#[derive(Clone, Copy, Debug)]
pub struct Readmission {
    /// `readmission.window`: hours after leaving within which a return crisis
    /// happens.
    pub window_hours: f64,
    /// `readmission.p0`: probability of a return crisis after leaving on P0, in
    /// [0, 1].
    pub p0: f64,
    /// The same after leaving on P1.
    pub p1: f64,
    /// The same after leaving on P2.
    pub p2: f64,
}

/// The adult mental health system (`docs/model.md`, "Mental health").
#[derive(Clone, Debug)]
pub struct MentalHealth {
    /// `mental_health.crises_per_day`: crises at the ED a day, shaped by
    /// the `[demand]` weights.
    pub crises_per_day: f64,
    /// `mental_health.referrals_per_day`: community referrals to CRHT a day.
    pub referrals_per_day: f64,
    /// `mental_health.liaison_assessment`: the ED liaison assessment (hours).
    pub liaison_assessment: Dist,
    /// `mental_health.ed_admit_share`: admitted after liaison.
    pub ed_admit_share: f64,
    /// `mental_health.ed_crht_share`: referred to CRHT after liaison.
    pub ed_crht_share: f64,
    /// `mental_health.beds`: local adult acute mental health beds.
    pub beds: u32,
    /// In file order; where changes overlap, the last one listed wins.
    pub capacity_changes: Vec<CapacityChange>,
    /// `mental_health.stay`: a local stay (hours).
    pub stay: Dist,
    /// `mental_health.out_of_area_after`: the longest wait in the ED for a
    /// local bed before an out-of-area placement, in hours.
    pub out_of_area_after_hours: f64,
    /// `stay` when the file omits it.
    pub out_of_area_stay: Dist,
    /// `mental_health.repatriate`: out-of-area patients return to a local
    /// bed that frees with nobody waiting.
    pub repatriate: bool,
    /// `None` means zero.
    pub process_delay: Option<Dist>,
    /// Shares of home, supported accommodation, care home; they sum to 1.
    pub pathways: [f64; 3],
    /// `[mental_health.crht]`.
    pub crht: Crht,
    /// `mental_health.supported_accommodation.places`.
    pub supported_places: u32,
    /// `mental_health.supported_accommodation.stay` (hours).
    pub supported_stay: Dist,
    /// `mental_health.readmission`; `None` for no readmissions.
    pub readmission: Option<MhReadmission>,
}

/// Where a patient goes from a local mental health bed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MhPathway {
    /// Home, with community mental health team follow-up (no capacity).
    Home,
    /// Supported accommodation.
    Supported,
    /// A care home bed.
    CareHome,
}

impl MhPathway {
    /// Every pathway, in the order of the shares.
    pub const ALL: [MhPathway; 3] = [MhPathway::Home, MhPathway::Supported, MhPathway::CareHome];
}

/// Crisis resolution and home treatment.
#[derive(Clone, Debug)]
pub struct Crht {
    /// `places`: the caseload.
    pub places: u32,
    /// `open`: when new episodes start (the caseload runs 24 h).
    pub open: ClockWindow,
    /// `episode`: an episode's length (hours).
    pub episode: Dist,
    /// `escalation_share`: episodes that end in a decision to admit.
    pub escalation_share: f64,
    /// `when_full = "wait"`: referrals wait; `"admit"`: they are admitted.
    pub wait_when_full: bool,
    /// Dated changes of `places` (`docs/model.md`, "Capacity over time"),
    /// in file order; where changes overlap, the last one listed wins.
    pub capacity_changes: Vec<CapacityChange>,
}

/// `mental_health.readmission`.
#[derive(Clone, Copy, Debug)]
pub struct MhReadmission {
    /// `window`, in hours.
    pub window_hours: f64,
    /// `share` of leavers readmitted.
    pub share: f64,
}

impl Scenario {
    /// Community nursing caseload places.
    pub fn community_places(&self) -> u64 {
        u64::from(self.community.teams) * u64::from(self.community.caseload_per_team)
    }
}

/// `uncertainty.keep = "calibrated"`: a run keeps only the drawn worlds
/// its calibration figures allow (`docs/model.md`, "Keeping only the draws
/// the calibration allows"). `keep = "all"` (the default) has no rule.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KeepRule {
    /// `uncertainty.cutoff`: noise standard deviations a figure may lie
    /// outside its tolerance.
    pub cutoff: f64,
    /// `uncertainty.central_replications`: replications at the central
    /// values that measure each figure's noise.
    pub central_replications: u32,
    /// `uncertainty.max_draws`: draws a replication tries.
    pub max_draws: u32,
}

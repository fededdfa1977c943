//! What stops a replication before the end of its window: a queue past its
//! bound, the event budget, the crisis limit, or cancellation
//! (`docs/model.md`, "Stopping a replication").

use crate::scenario::Scenario;

/// The default bound on any one queue (patients waiting for an acute bed,
/// community nursing, rehab, a care home). It guards memory and time, not
/// stability: a service switched off (capacity 0) or overloaded is a valid
/// plan whose queue grows, and its run still reports numbers (with `check`
/// warning about the overload). Only a queue of this size, far beyond any
/// borough's patients in a run, stops the replication.
pub const DEFAULT_QUEUE_LIMIT: usize = 1_000_000;

/// Longest simulated time, warm-up included: 100 years. Several per-day
/// tables are built before a run (8 bytes a simulated hour for the arrival
/// rate), so an absurd horizon must be refused before it is allocated.
pub const MAX_SIMULATED_DAYS: f64 = 36_500.0;

/// Most crises in one replication (warm-up included): 20 million, about 160
/// times the baseline's 125,000. Each admission keeps its bed wait for the 95th
/// percentile (8 bytes), and a replication takes about 0.4 s per million
/// crises, so this bounds a replication at about 160 MB and 10 s. A run
/// expected to pass it is refused before it starts (`check::size_limits`);
/// a replication that passes it anyway stops.
pub const MAX_CRISES_PER_REPLICATION: u64 = 20_000_000;

/// A replication's budget (warm-up included): of events, [`MULTIPLE`] times
/// the events expected from the flow balance and at least [`FLOOR`]; of
/// crises, [`MAX_CRISES_PER_REPLICATION`]. The expected count is an estimate
/// within tens of percent on any plan the balance describes; a replication
/// far beyond it is in a loop the balance does not see, and is stopped
/// rather than left to run for hours.
///
/// [`MULTIPLE`]: EventBudget::MULTIPLE
/// [`FLOOR`]: EventBudget::FLOOR
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EventBudget {
    /// Events expected in a replication (NaN or infinite when the balance
    /// diverges; the budget is then its cap).
    pub expected: f64,
    /// The budget: at least [`EventBudget::FLOOR`], at most [`EventBudget::CAP`].
    pub limit: u64,
    /// Most crises ([`MAX_CRISES_PER_REPLICATION`]; less in tests).
    pub crises: u64,
}

impl EventBudget {
    /// Budget multiple of the expected events.
    pub const MULTIPLE: f64 = 4.0;
    /// Least budget: 10 million events, about a second.
    pub const FLOOR: u64 = 10_000_000;
    /// Most budget: four times the most events a run may be expected to
    /// handle (`check::MAX_EVENTS_PER_REPLICATION`, 100 million), about a
    /// minute of one core.
    pub const CAP: u64 = 400_000_000;

    /// The budget for `expected` events a replication.
    pub fn new(expected: f64) -> EventBudget {
        let scaled = Self::MULTIPLE * expected;
        let limit = if scaled.is_nan() || scaled >= Self::CAP as f64 {
            Self::CAP
        } else {
            (scaled.ceil() as u64).max(Self::FLOOR)
        };
        EventBudget {
            expected,
            limit,
            crises: MAX_CRISES_PER_REPLICATION,
        }
    }

    /// The budget for `scenario`, from its flow balance.
    pub fn for_scenario(scenario: &Scenario) -> EventBudget {
        let check = super::flow::offered_load(scenario);
        EventBudget::new(super::flow::expected_events(scenario, &check))
    }
}

/// Where the crises of a replication came from, to name the cause when a
/// replication passes a bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cause {
    /// New crises (`demand.crises_per_day`).
    NewCrises,
    /// Readmissions: return crises after leaving hospital.
    Readmissions,
    /// Crises of care home residents in their beds.
    ResidentsCrises,
    /// GP referrals to community nursing.
    CommunityReferrals,
    /// Care home placements from the community.
    CommunityPlacements,
    /// Mental health crises, referrals and readmissions.
    MentalHealth,
}

impl Cause {
    /// What grew, and the keys that set it.
    pub fn describe(self) -> &'static str {
        match self {
            Cause::NewCrises => "new crises (demand.crises_per_day)",
            Cause::Readmissions => {
                "readmissions, which feed themselves (readmission.window, readmission.p0/p1/p2, \
                 with the admission shares and stays)"
            }
            Cause::ResidentsCrises => {
                "care home residents' crises (care_homes.crises_per_resident_year, \
                 care_homes.beds)"
            }
            Cause::CommunityReferrals => "community referrals (community.referrals_per_day)",
            Cause::CommunityPlacements => {
                "care home placements from the community \
                 (care_homes.community_placements_per_day)"
            }
            Cause::MentalHealth => {
                "mental health crises, referrals and readmissions \
                 (mental_health.crises_per_day, mental_health.referrals_per_day, \
                 mental_health.readmission)"
            }
        }
    }
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
}

/// Why a replication stopped before the end of its window.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Stopped {
    /// A queue grew past the bound: the plan's demand exceeds the service's
    /// capacity, and its numbers would describe a system that never settles.
    #[error(
        "the queue for {service} reached {waiting} patients on day {day:.0} (the bound is {limit}, \
         --max-queue): demand far exceeds the capacity of {service}"
    )]
    Overloaded {
        /// The service whose queue passed the bound.
        service: &'static str,
        /// Patients waiting when it did.
        waiting: usize,
        /// The simulated day it did (days since time zero, whole).
        day: f64,
        /// The bound (`--max-queue`), patients.
        limit: usize,
    },
    /// The replication handled more events than its budget: something
    /// feeds itself far beyond what the flow balance expects.
    #[error(
        "it handled more than {budget} events by day {day:.0} (its budget: {multiple} times the \
         {expected:.0} events expected from the flow balance, and at least {floor}); most came \
         from {cause}"
    )]
    EventBudget {
        /// The budget passed, events.
        budget: u64,
        /// Events the flow balance expects of a whole replication.
        expected: f64,
        /// The budget's multiple of the expected events.
        multiple: f64,
        /// The least budget, events.
        floor: u64,
        /// The simulated day the budget was passed (days since time zero,
        /// whole).
        day: f64,
        /// Where most arrivals came from.
        cause: Cause,
    },
    /// More crises than [`MAX_CRISES_PER_REPLICATION`] (the flow balance
    /// expected fewer).
    #[error(
        "it reached {crises} crises by day {day:.0}, more than the {limit} a replication may \
         have (each admission's bed wait is kept for the 95th percentile); most came from {cause}"
    )]
    TooManyCrises {
        /// Crises so far (new, residents' and readmissions).
        crises: u64,
        /// The most a replication may have ([`MAX_CRISES_PER_REPLICATION`];
        /// less in tests).
        limit: u64,
        /// The simulated day the limit was passed (days since time zero,
        /// whole).
        day: f64,
        /// Where most arrivals came from.
        cause: Cause,
    },
    /// The run was cancelled (Ctrl-C).
    #[error("cancelled")]
    Cancelled,
    /// A counterfactual arm stopped (`docs/model.md`, "Counterfactual arms").
    #[error(
        "with {service} switched off (the counterfactual run for {metric}), {reason}; without \
         {service} there is no counterfactual to report"
    )]
    InArm {
        /// The service switched off in the arm, such as "the PRU".
        service: &'static str,
        /// The metric the arm is run for, such as `admissions_avoided_pru`.
        metric: &'static str,
        /// Why the arm stopped.
        reason: Box<Stopped>,
    },
    /// The replication's drawn parameter values make a scenario that is
    /// refused (`docs/model.md`, "Parameter uncertainty").
    #[error("{0}")]
    Draw(String),
    /// No draw of the replication was consistent with the calibration
    /// figures within `uncertainty.max_draws` (`docs/model.md`, "Keeping
    /// only the draws the calibration allows").
    #[error("{0}")]
    NoKeptDraw(String),
    /// A replication at the central values, run to measure each
    /// calibration figure's noise, stopped (`docs/model.md`, "Keeping only
    /// the draws the calibration allows").
    #[error(
        "in the replications at the central values that measure each calibration figure's \
         noise, {0}"
    )]
    InCentral(Box<Stopped>),
}

impl Stopped {
    /// 130 when cancelled (as a shell reports Ctrl-C); 3 for a bound passed
    /// (a queue, the event budget, the crisis limit).
    pub fn exit_code(&self) -> u8 {
        match self {
            Stopped::Cancelled => 130,
            Stopped::InArm { reason, .. } | Stopped::InCentral(reason) => reason.exit_code(),
            Stopped::Draw(_) => 2,
            Stopped::NoKeptDraw(_) => 1,
            Stopped::Overloaded { .. }
            | Stopped::EventBudget { .. }
            | Stopped::TooManyCrises { .. } => 3,
        }
    }
}

//! One replication of the patient flow model of `docs/model.md`.
//!
//! The simulation is a single loop over a future-event list of small `Copy`
//! events that name patients and care home beds by index into arenas
//! (`Vec`s with free lists), so the hot path allocates nothing once the
//! arenas and queues have reached their working size.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::metrics::{Metric, Metrics, ReplicationResult, Series};
use super::observe::{Level, WaitMean, Window};
use super::schedule::{ArrivalCursor, ArrivalProfile, Opening, WeeklySchedule, beds_by_day};
use crate::engine::{EventQueue, StreamFamily, StreamKey, StreamRng};
use crate::scenario::{Pathway, ReferralClass, Scenario};

/// Demand sources and other named stream families (part of each stream key).
///
/// Arrival times come from one stream per source (`*Times`); every patient
/// has a stream of its own keyed by (source, arrival index).
#[derive(Clone, Copy, Debug)]
#[repr(u32)]
pub enum Source {
    CrisisTimes = 0,
    Crisis = 1,
    ReferralTimes = 2,
    Referral = 3,
    PlacementTimes = 4,
    Placement = 5,
    /// Residents in their care home bed at time zero.
    InitialResident = 6,
}

impl Source {
    const COUNT: usize = 7;
}

/// Tag for the stream of a readmission, derived from its patient's key.
const READMISSION_TAG: u64 = 0x5245_4144_4d49_5400;

/// Everything about a scenario that every replication shares: schedules,
/// the arrival profile, the bed calendar. Built once per run.
#[derive(Clone, Debug)]
pub struct Prepared {
    pub scenario: Scenario,
    pru_hours: WeeklySchedule,
    fau_hours: WeeklySchedule,
    discharge_hours: WeeklySchedule,
    pub(crate) arrivals: ArrivalProfile,
    /// Beds available on each simulated day.
    beds_by_day: Vec<u32>,
    window: Window,
    /// Simulated hours of the first midnight inside the window.
    first_midnight: f64,
    /// Midnights inside the window: the length of each daily series.
    days_in_window: usize,
    /// Open car-hours of the PRU inside the window (cars x opening hours).
    pru_open_car_hours: f64,
    /// A replication stops when any queue holds more than this many.
    queue_limit: usize,
    /// A replication stops when it has handled more events than this.
    event_budget: EventBudget,
    /// Set from outside (Ctrl-C) to stop every replication soon.
    cancel: Option<Arc<AtomicBool>>,
}

/// The default bound on any one queue (patients waiting for an acute bed,
/// community nursing, rehab, a care home). It guards memory and time, not
/// stability: a service switched off (capacity 0) or overloaded is a valid
/// plan whose queue grows, and its run still reports numbers (with `check`
/// warning about the overload). Only a queue of this size, far beyond any
/// borough's patients in a run, stops the replication.
pub const DEFAULT_QUEUE_LIMIT: usize = 1_000_000;

/// How often (in events) a replication looks at the cancel flag, its event
/// budget and its crisis count: about a millisecond of simulation, so a
/// cancelled run stops promptly.
const CANCEL_CHECK_EVENTS: u64 = 4096;

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
        let check = crate::experiment::check::offered_load(scenario);
        EventBudget::new(crate::experiment::check::expected_events(scenario, &check))
    }
}

/// Where the crises of a replication came from, to name the cause when a
/// replication passes a bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cause {
    NewCrises,
    Readmissions,
    ResidentsCrises,
    CommunityReferrals,
    CommunityPlacements,
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
        service: &'static str,
        waiting: usize,
        day: f64,
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
        budget: u64,
        expected: f64,
        multiple: f64,
        floor: u64,
        day: f64,
        cause: Cause,
    },
    /// More crises than [`MAX_CRISES_PER_REPLICATION`] (the flow balance
    /// expected fewer).
    #[error(
        "it reached {crises} crises by day {day:.0}, more than the {limit} a replication may \
         have (each admission's bed wait is kept for the 95th percentile); most came from {cause}"
    )]
    TooManyCrises {
        crises: u64,
        limit: u64,
        day: f64,
        cause: Cause,
    },
    /// The run was cancelled (Ctrl-C).
    #[error("cancelled")]
    Cancelled,
}

impl Stopped {
    /// 130 when cancelled (as a shell reports Ctrl-C); 3 for a bound passed
    /// (a queue, the event budget, the crisis limit).
    pub fn exit_code(&self) -> u8 {
        match self {
            Stopped::Cancelled => 130,
            Stopped::Overloaded { .. }
            | Stopped::EventBudget { .. }
            | Stopped::TooManyCrises { .. } => 3,
        }
    }
}

impl Prepared {
    /// The scenario ready to run, with the event budget of its flow balance.
    pub fn new(scenario: Scenario) -> Prepared {
        let budget = EventBudget::for_scenario(&scenario);
        Prepared::with_budget(scenario, budget)
    }

    /// As [`Prepared::new`], with a replication's event budget given (the
    /// flow balance already computed, or a budget for a test).
    pub fn with_budget(scenario: Scenario, event_budget: EventBudget) -> Prepared {
        let start = scenario.start_date;
        let window = Window {
            start: scenario.warm_up_hours,
            end: scenario.warm_up_hours + scenario.horizon_hours,
        };
        let days = (window.end / 24.0).ceil() as usize + 1;
        let first_midnight = (window.start / 24.0).ceil() * 24.0;
        let days_in_window = if first_midnight < window.end {
            ((window.end - first_midnight) / 24.0).ceil() as usize
        } else {
            0
        };
        let pru_hours = WeeklySchedule::service(start, scenario.pru.open, &scenario.pru.days);
        let pru_open_car_hours =
            f64::from(scenario.pru.cars) * pru_hours.open_hours_between(window.start, window.end);
        Prepared {
            fau_hours: WeeklySchedule::service(
                start,
                scenario.frailty_unit.open,
                &scenario.frailty_unit.days,
            ),
            discharge_hours: WeeklySchedule::discharge(
                start,
                scenario.acute.discharge_hours,
                scenario.acute.weekend_discharge_hours,
            ),
            arrivals: ArrivalProfile::new(&scenario.demand, start, days),
            beds_by_day: beds_by_day(&scenario.acute, start, days),
            pru_hours,
            window,
            first_midnight,
            days_in_window,
            pru_open_car_hours,
            queue_limit: DEFAULT_QUEUE_LIMIT,
            event_budget,
            scenario,
            cancel: None,
        }
    }

    /// The event budget of each replication.
    pub fn event_budget(&self) -> EventBudget {
        self.event_budget
    }

    /// Stops a replication when any queue holds more than `limit` patients.
    pub fn with_queue_limit(mut self, limit: usize) -> Prepared {
        self.queue_limit = limit;
        self
    }

    /// Stops every replication soon after `flag` is set.
    pub fn with_cancel(mut self, flag: Arc<AtomicBool>) -> Prepared {
        self.cancel = Some(flag);
        self
    }

    /// The date of day 0 of the daily series.
    pub fn first_day(&self) -> crate::scenario::calendar::Date {
        self.scenario
            .start_date
            .add_days((self.first_midnight / 24.0) as i64)
    }

    /// Midnights in the window (the length of every daily series).
    pub fn days_in_window(&self) -> usize {
        self.days_in_window
    }

    /// Runs replication `replication` to the end of the window.
    pub fn simulate(&self, replication: u32) -> Result<ReplicationResult, Stopped> {
        Ok(self.simulate_traced(replication, ())?.0)
    }

    /// Runs replication `replication` and also returns where every patient
    /// is at the end, for conservation checks.
    pub fn simulate_with_census(
        &self,
        replication: u32,
    ) -> Result<(ReplicationResult, Census), Stopped> {
        let mut sim = Sim::new(self, replication, (), Workspace::take());
        sim.run()?;
        let census = sim.census;
        let (result, (), workspace) = sim.finish();
        workspace.keep();
        Ok((result, census))
    }

    /// Runs replication `replication`, telling `tracer` of each [`TraceEvent`]
    /// (for verification: the order of service, bed counts over time).
    pub fn simulate_traced<T: Tracer>(
        &self,
        replication: u32,
        tracer: T,
    ) -> Result<(ReplicationResult, T), Stopped> {
        let mut sim = Sim::new(self, replication, tracer, Workspace::take());
        sim.run()?;
        let (result, tracer, workspace) = sim.finish();
        workspace.keep();
        Ok((result, tracer))
    }
}

/// Moments of a run that verification needs to see (whole run, warm-up
/// included). Times are simulated hours.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TraceEvent {
    /// A community nursing place granted to a referral of `class` that asked
    /// at `requested_at`.
    CommunityGranted {
        at: f64,
        class: ReferralClass,
        requested_at: f64,
    },
    /// Occupied acute beds or beds available changed (each change, in order).
    Beds {
        at: f64,
        occupied: u32,
        available: u32,
    },
    /// A crisis from any source (new, care home resident's, readmission).
    Crisis { at: f64 },
    /// A referral of `class` joined the community nursing waiting list.
    CommunityReferred { at: f64, class: ReferralClass },
    /// `patient` (an arena index, reused only after the patient has left
    /// every traced resource) started to hold one unit of `resource`.
    Took {
        at: f64,
        resource: Resource,
        patient: u32,
    },
    /// `patient` gave back the unit of `resource` it held.
    Released {
        at: f64,
        resource: Resource,
        patient: u32,
    },
}

/// Resources whose holding times [`TraceEvent::Took`] and
/// [`TraceEvent::Released`] report (for Little's law).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    PruCar,
    AcuteBed,
    RehabBed,
}

/// Receives [`TraceEvent`]s. The unit type ignores them, and a normal run
/// compiles to no tracing at all.
pub trait Tracer {
    fn trace(&mut self, event: TraceEvent);
}

impl Tracer for () {
    #[inline(always)]
    fn trace(&mut self, _: TraceEvent) {}
}

impl Tracer for Vec<TraceEvent> {
    fn trace(&mut self, event: TraceEvent) {
        self.push(event);
    }
}

/// Where the crisis patients are (counts over the whole run, warm-up included).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Census {
    /// Crisis patients created (new, residents', readmissions).
    pub arrived: u64,
    pub in_pru: u64,
    pub in_fau: u64,
    pub waiting_for_bed: u64,
    pub in_bed: u64,
    /// Left the crisis pathway: home (from the PRU, ED or FAU, or after a
    /// hospital stay, to rehab or to a care home).
    pub left: u64,
}

#[derive(Clone, Copy, Debug)]
enum Event {
    NextCrisis,
    NextReferral,
    NextPlacement,
    Readmission {
        key: StreamKey,
        frail: bool,
    },
    ResidentCrisis {
        bed: u32,
        generation: u32,
    },
    ResidentStayEnd {
        bed: u32,
        generation: u32,
    },
    PruVisitEnd {
        patient: u32,
    },
    FauAssessmentEnd {
        patient: u32,
    },
    ProcessDelayEnd {
        patient: u32,
    },
    LeaveHospital {
        patient: u32,
    },
    RehabStayEnd {
        patient: u32,
    },
    CommunityEpisodeEnd,
    BedCapacity {
        day: u32,
    },
    /// The discharge hours open and the patients waiting for them leave.
    DischargeOpening,
    Midnight,
}

/// Recurring processes whose next event sits in a timer slot of the queue.
#[derive(Clone, Copy, Debug)]
enum Timer {
    /// The busiest process, in the queue's fast slot 0.
    Crisis,
    Referral,
    Placement,
    DischargeOpening,
    Midnight,
}

impl Timer {
    const COUNT: usize = 5;
}

const NONE: u32 = u32::MAX;

/// A patient on the crisis pathway (and on to rehab).
#[derive(Clone, Debug)]
struct Patient {
    rng: StreamRng,
    key: StreamKey,
    frail: bool,
    /// The care home bed of a resident in crisis, or `NONE`.
    home_bed: u32,
    pathway: Pathway,
    /// Decision to admit.
    admitted_at: f64,
    /// When the patient asked for the downstream place.
    requested_at: f64,
    /// Whether the patient is counted as in a capacity wait.
    capacity_waiting: bool,
    /// P0 or a resident: leaving was scheduled when the patient got a bed.
    direct_leave: bool,
    /// Community episode length (P1), drawn at referral.
    episode_hours: f64,
    /// Care home bed granted (P3), or `NONE`.
    care_home_bed: u32,
}

/// A patient at the start of a crisis, before (or without ever) taking a
/// place in the patient arena: most crises end at home within the same event,
/// drawing from a stream that never leaves the registers.
#[derive(Clone, Debug)]
struct Arrival {
    key: StreamKey,
    rng: StreamRng,
    frail: bool,
    /// The care home bed of a resident in crisis, or `NONE`.
    home_bed: u32,
}

impl Arrival {
    fn new(key: StreamKey, frail: bool, home_bed: u32) -> Arrival {
        Arrival {
            key,
            rng: StreamRng::new(key),
            frail,
            home_bed,
        }
    }
}

/// What the emergency department decided.
enum EdOutcome {
    /// Assessed on the frailty unit, for this many hours.
    Fau(f64),
    Admit,
    Home,
}

/// A care home bed and its resident.
#[derive(Clone, Debug)]
struct CareHomeBed {
    held: bool,
    /// Bumped when a resident leaves, so their pending events go stale.
    generation: u32,
    /// The resident is in the bed (not away in a crisis or still in hospital).
    in_bed: bool,
    /// The stay has ended while the resident was away: leave on return.
    stay_over: bool,
    key: StreamKey,
    rng: StreamRng,
    crises: u64,
}

#[derive(Clone, Copy, Debug)]
struct CommunityRequest {
    at: f64,
    episode_hours: f64,
    /// The patient waiting in hospital, or `NONE` for one at home.
    patient: u32,
}

#[derive(Clone, Copy, Debug)]
struct Placement {
    at: f64,
    key: StreamKey,
}

/// The storage of a replication that grows as it runs (the event list, the
/// patient arena, the queues), kept by each thread for its next replication
/// so that a run does not allocate and fault in the same memory again for
/// every replication. Emptied before reuse: a replication's results never
/// depend on what ran before it on the thread. A replication that stops
/// early (an overloaded plan, a cancel) drops its storage rather than keep
/// an unusually large one.
struct Workspace {
    queue: EventQueue<Event, { Timer::COUNT }>,
    patients: Vec<Patient>,
    free_patients: Vec<u32>,
    bed_queue: VecDeque<u32>,
    /// Patients in bed who will leave when the discharge hours next open,
    /// grouped by opening: `discharge_waits[j]` leave at opening number
    /// `Sim::first_opening + j` (`WeeklySchedule::opening`), in the order they
    /// were added, which is the order their leaving was decided. One timer
    /// event per opening instead of one event per patient: most patients
    /// leave at an opening.
    discharge_waits: VecDeque<Vec<u32>>,
    /// Emptied lists of `discharge_waits`, kept for reuse.
    spare_waits: Vec<Vec<u32>>,
    community_queues: [VecDeque<CommunityRequest>; 3],
    rehab_queue: VecDeque<u32>,
    care_home_beds: Vec<CareHomeBed>,
    care_home_free: Vec<u32>,
    care_home_hospital_queue: VecDeque<u32>,
    care_home_community_queue: VecDeque<Placement>,
    bed_waits: Vec<f64>,
}

thread_local! {
    static WORKSPACE: std::cell::Cell<Option<Workspace>> = const { std::cell::Cell::new(None) };
}

impl Workspace {
    fn new() -> Workspace {
        Workspace {
            queue: EventQueue::new(4096, Event::Midnight),
            patients: Vec::with_capacity(2048),
            free_patients: Vec::with_capacity(2048),
            bed_queue: VecDeque::with_capacity(256),
            discharge_waits: VecDeque::with_capacity(1024),
            spare_waits: Vec::new(),
            community_queues: Default::default(),
            rehab_queue: VecDeque::with_capacity(64),
            care_home_beds: Vec::new(),
            care_home_free: Vec::new(),
            care_home_hospital_queue: VecDeque::with_capacity(64),
            care_home_community_queue: VecDeque::with_capacity(64),
            bed_waits: Vec::new(),
        }
    }

    /// This thread's workspace, emptied, or a new one.
    fn take() -> Workspace {
        let Some(mut ws) = WORKSPACE.take() else {
            return Workspace::new();
        };
        ws.queue.clear();
        ws.patients.clear();
        ws.free_patients.clear();
        ws.bed_queue.clear();
        while let Some(mut list) = ws.discharge_waits.pop_front() {
            list.clear();
            ws.spare_waits.push(list);
        }
        for queue in &mut ws.community_queues {
            queue.clear();
        }
        ws.rehab_queue.clear();
        ws.care_home_beds.clear();
        ws.care_home_free.clear();
        ws.care_home_hospital_queue.clear();
        ws.care_home_community_queue.clear();
        ws.bed_waits.clear();
        ws
    }

    /// Keeps this workspace for the thread's next replication.
    fn keep(self) {
        WORKSPACE.set(Some(self));
    }
}

struct Sim<'p, T: Tracer> {
    p: &'p Prepared,
    tracer: T,
    sc: &'p Scenario,
    replication: u32,
    now: f64,
    end: f64,
    events: u64,
    /// The storage that grows as the replication runs.
    ws: Workspace,

    /// Per-source stream families, indexed by `Source as usize`.
    families: [StreamFamily; Source::COUNT],
    /// Arrival-time streams of the crisis, referral and placement sources,
    /// indexed by their `Timer`.
    arrival_times: [StreamRng; 3],
    crisis_count: u64,
    /// Readmissions and care home residents' crises so far (to name the
    /// cause when a replication passes a bound).
    readmission_count: u64,
    resident_crisis_count: u64,
    crisis_cursor: ArrivalCursor,
    referral_count: u64,
    placement_count: u64,

    pru_busy: u32,
    fau_busy: u32,
    beds_available: u32,
    beds_occupied: u32,
    first_opening: u64,

    community_places: u64,
    community_held: u64,
    rehab_held: u32,
    care_home_held: u32,

    // Observations.
    counts: Metrics,
    occupied: Level,
    beds_full: Level,
    pru_busy_level: Level,
    process_level: Level,
    capacity_level: [Level; 3],
    community_held_level: Level,
    community_waiting_level: Level,
    rehab_level: Level,
    care_home_level: Level,
    community_waits: [WaitMean; 3],
    rehab_waits: WaitMean,
    care_home_waits: WaitMean,
    daily: [Vec<f64>; 3],
    census: Census,
    /// Set when the replication must stop early.
    stopped: Option<Stopped>,
}

impl<'p, T: Tracer> Sim<'p, T> {
    fn new(p: &'p Prepared, replication: u32, tracer: T, mut ws: Workspace) -> Sim<'p, T> {
        let sc = &p.scenario;
        let stream = |source: Source| {
            StreamRng::new(StreamFamily::new(sc.seed, replication, source as u32).key(0))
        };
        let places = sc.community_places();
        let expected_admissions = sc.demand.crises_per_day * sc.horizon_hours / 24.0 * 0.5;
        ws.care_home_beds.reserve(sc.care_homes.beds as usize);
        ws.care_home_free.reserve(sc.care_homes.beds as usize);
        ws.bed_waits
            .reserve(expected_admissions.clamp(0.0, 1e6) as usize);
        let mut sim = Sim {
            p,
            tracer,
            sc,
            replication,
            now: 0.0,
            end: p.window.end,
            events: 0,
            ws,
            families: std::array::from_fn(|i| StreamFamily::new(sc.seed, replication, i as u32)),
            arrival_times: [
                stream(Source::CrisisTimes),
                stream(Source::ReferralTimes),
                stream(Source::PlacementTimes),
            ],
            crisis_count: 0,
            readmission_count: 0,
            resident_crisis_count: 0,
            crisis_cursor: ArrivalCursor::start(),
            referral_count: 0,
            placement_count: 0,
            pru_busy: 0,
            fau_busy: 0,
            beds_available: p.beds_by_day.first().copied().unwrap_or(sc.acute.beds),
            beds_occupied: 0,
            first_opening: 0,
            community_places: places,
            community_held: 0,
            rehab_held: 0,
            care_home_held: 0,
            counts: Metrics::default(),
            occupied: Level::default(),
            beds_full: Level::default(),
            pru_busy_level: Level::default(),
            process_level: Level::default(),
            capacity_level: [Level::default(); 3],
            community_held_level: Level::default(),
            community_waiting_level: Level::default(),
            rehab_level: Level::default(),
            care_home_level: Level::default(),
            community_waits: [WaitMean::default(); 3],
            rehab_waits: WaitMean::default(),
            care_home_waits: WaitMean::default(),
            daily: std::array::from_fn(|_| Vec::with_capacity(p.days_in_window)),
            census: Census::default(),
            stopped: None,
        };
        sim.start();
        sim
    }

    // ----- the event list -------------------------------------------------

    /// Schedules `event` at `t` unless it falls at or after the end of the run.
    #[inline]
    fn at(&mut self, t: f64, event: Event) {
        if t < self.end {
            self.ws.queue.schedule(t, event);
        }
    }

    /// Sets a recurring process's next event, unless it falls at or after the end.
    #[inline]
    fn at_timer(&mut self, timer: Timer, t: f64, event: Event) {
        if t < self.end {
            self.ws.queue.set_timer(timer as usize, t, event);
        }
    }

    fn start(&mut self) {
        let sc = self.sc;
        // Empty acute beds, ED, PRU, FAU, community caseload and rehab;
        // care homes with their initial residents.
        self.beds_full
            .set(0.0, self.full_indicator(), &self.p.window);
        let beds = sc.care_homes.beds;
        let initial =
            ((f64::from(beds) * sc.care_homes.initial_occupancy).round() as u32).min(beds);
        for b in 0..beds {
            let key = self.families[Source::InitialResident as usize].key(u64::from(b));
            self.ws.care_home_beds.push(CareHomeBed {
                held: false,
                generation: 0,
                in_bed: false,
                stay_over: false,
                key,
                rng: StreamRng::new(key),
                crises: 0,
            });
        }
        // Free beds are taken lowest index first.
        self.ws.care_home_free.extend((initial..beds).rev());
        for b in 0..initial {
            let stay = sc
                .care_homes
                .stay
                .sample(&mut self.ws.care_home_beds[b as usize].rng);
            self.resident_moves_in(0.0, b, stay);
        }
        self.care_home_held = initial;
        self.care_home_level
            .set(0.0, f64::from(initial), &self.p.window);

        // Bed capacity changes, on the days the count changes.
        for day in 1..self.p.beds_by_day.len() {
            if self.p.beds_by_day[day] != self.p.beds_by_day[day - 1] {
                self.at(day as f64 * 24.0, Event::BedCapacity { day: day as u32 });
            }
        }
        if self.p.days_in_window > 0 {
            self.at_timer(Timer::Midnight, self.p.first_midnight, Event::Midnight);
        }
        self.schedule_next_crisis(0.0);
        self.schedule_next_referral(0.0);
        self.schedule_next_placement(0.0);
    }

    fn run(&mut self) -> Result<(), Stopped> {
        while let Some((t, event)) = self.ws.queue.pop() {
            // `at` never schedules past the end.
            self.now = t;
            self.events += 1;
            if self.events.is_multiple_of(CANCEL_CHECK_EVENTS) {
                self.check_bounds(t)?;
            }
            if self.stopped.is_some() {
                break;
            }
            match event {
                Event::NextCrisis => self.on_next_crisis(t),
                Event::NextReferral => self.on_next_referral(t),
                Event::NextPlacement => self.on_next_placement(t),
                Event::Readmission { key, frail } => {
                    self.readmission_count += 1;
                    self.count(t, Metric::Readmissions);
                    self.other_crisis(t, key, frail, NONE);
                }
                Event::ResidentCrisis { bed, generation } => {
                    self.on_resident_crisis(t, bed, generation)
                }
                Event::ResidentStayEnd { bed, generation } => {
                    self.on_resident_stay_end(t, bed, generation)
                }
                Event::PruVisitEnd { patient } => self.on_pru_visit_end(t, patient),
                Event::FauAssessmentEnd { patient } => self.on_fau_end(t, patient),
                Event::ProcessDelayEnd { patient } => self.request_place(t, patient),
                Event::LeaveHospital { patient } => self.leave_hospital(t, patient),
                Event::RehabStayEnd { patient } => self.on_rehab_stay_end(t, patient),
                Event::CommunityEpisodeEnd => self.on_community_episode_end(t),
                Event::BedCapacity { day } => self.on_bed_capacity(t, day),
                Event::DischargeOpening => self.on_discharge_opening(t),
                Event::Midnight => self.on_midnight(t),
            }
        }
        self.stopped.take().map_or(Ok(()), Err)
    }

    /// Every [`CANCEL_CHECK_EVENTS`] events: stops on a cancel, past the
    /// event budget or past the crisis limit.
    #[cold]
    fn check_bounds(&self, t: f64) -> Result<(), Stopped> {
        if let Some(flag) = &self.p.cancel
            && flag.load(Ordering::Relaxed)
        {
            return Err(Stopped::Cancelled);
        }
        let budget = self.p.event_budget;
        let day = (t / 24.0).floor();
        if self.events > budget.limit {
            return Err(Stopped::EventBudget {
                budget: budget.limit,
                expected: budget.expected,
                multiple: EventBudget::MULTIPLE,
                floor: EventBudget::FLOOR,
                day,
                cause: self.cause(),
            });
        }
        if self.census.arrived > budget.crises {
            return Err(Stopped::TooManyCrises {
                crises: self.census.arrived,
                limit: budget.crises,
                day,
                cause: self.cause(),
            });
        }
        Ok(())
    }

    /// The source of most arrivals so far.
    fn cause(&self) -> Cause {
        [
            (self.crisis_count, Cause::NewCrises),
            (self.readmission_count, Cause::Readmissions),
            (self.resident_crisis_count, Cause::ResidentsCrises),
            (self.referral_count, Cause::CommunityReferrals),
            (self.placement_count, Cause::CommunityPlacements),
        ]
        .into_iter()
        .max_by_key(|&(n, _)| n)
        .map_or(Cause::NewCrises, |(_, cause)| cause)
    }

    /// Stops the replication if a queue has grown past the bound.
    #[inline]
    fn check_queue(&mut self, t: f64, service: &'static str, waiting: usize) {
        let limit = self.p.queue_limit;
        if waiting > limit && self.stopped.is_none() {
            self.stopped = Some(Stopped::Overloaded {
                service,
                waiting,
                day: (t / 24.0).floor(),
                limit,
            });
        }
    }

    // ----- observation helpers ------------------------------------------------

    #[inline]
    fn count(&mut self, t: f64, metric: Metric) {
        if self.p.window.contains(t) {
            self.counts[metric] += 1.0;
        }
    }

    fn full_indicator(&self) -> f64 {
        if self.beds_occupied >= self.beds_available {
            1.0
        } else {
            0.0
        }
    }

    fn set_beds(&mut self, t: f64, occupied: u32, available: u32) {
        self.beds_occupied = occupied;
        self.beds_available = available;
        let w = &self.p.window;
        self.occupied.set(t, f64::from(occupied), w);
        self.beds_full.set(t, self.full_indicator(), w);
        self.tracer.trace(TraceEvent::Beds {
            at: t,
            occupied,
            available,
        });
    }

    #[inline]
    fn trace_took(&mut self, at: f64, resource: Resource, patient: u32) {
        self.tracer.trace(TraceEvent::Took {
            at,
            resource,
            patient,
        });
    }

    #[inline]
    fn trace_released(&mut self, at: f64, resource: Resource, patient: u32) {
        self.tracer.trace(TraceEvent::Released {
            at,
            resource,
            patient,
        });
    }

    // ----- patients -----------------------------------------------------------

    /// Gives `a` a place in the patient arena.
    fn new_patient(&mut self, a: Arrival) -> u32 {
        let patient = Patient {
            rng: a.rng,
            key: a.key,
            frail: a.frail,
            home_bed: a.home_bed,
            pathway: Pathway::P0,
            admitted_at: 0.0,
            requested_at: 0.0,
            capacity_waiting: false,
            direct_leave: false,
            episode_hours: 0.0,
            care_home_bed: NONE,
        };
        match self.ws.free_patients.pop() {
            Some(i) => {
                self.ws.patients[i as usize] = patient;
                i
            }
            None => {
                self.ws.patients.push(patient);
                (self.ws.patients.len() - 1) as u32
            }
        }
    }

    fn release_patient(&mut self, patient: u32) {
        self.ws.free_patients.push(patient);
    }

    #[inline]
    fn pt(&mut self, patient: u32) -> &mut Patient {
        &mut self.ws.patients[patient as usize]
    }

    // ----- demand -------------------------------------------------------------

    /// The crisis after the one at `t`, unless it falls after the end.
    #[inline]
    fn next_crisis_time(&mut self, t: f64) -> Option<f64> {
        let e = self.arrival_times[Timer::Crisis as usize].exp1();
        let cursor = &mut self.crisis_cursor;
        self.p.arrivals.next_arrival(cursor, t, e, self.end)
    }

    fn schedule_next_crisis(&mut self, t: f64) {
        if let Some(next) = self.next_crisis_time(t) {
            self.at_timer(Timer::Crisis, next, Event::NextCrisis);
        }
    }

    fn on_next_crisis(&mut self, mut t: f64) {
        let sc = self.sc;
        loop {
            let key = self.families[Source::Crisis as usize].key(self.crisis_count);
            self.crisis_count += 1;
            let mut rng = StreamRng::new(key);
            let frail = rng.chance(sc.demand.frail_share);
            self.crisis(
                t,
                Arrival {
                    key,
                    rng,
                    frail,
                    home_bed: NONE,
                },
            );
            let Some(next) = self.next_crisis_time(t) else {
                return;
            };
            // With nothing else due before the next crisis, the event list
            // would return it next: handle it now, without the list (most
            // crises come between two other events). Through the list when
            // another event is due at the same instant (it was scheduled
            // first), at a cancel check point, or when stopping.
            let due = self.ws.queue.next_time().unwrap_or(f64::INFINITY);
            if next < due
                && !(self.events + 1).is_multiple_of(CANCEL_CHECK_EVENTS)
                && self.stopped.is_none()
            {
                t = next;
                self.now = next;
                self.events += 1;
                continue;
            }
            self.at_timer(Timer::Crisis, next, Event::NextCrisis);
            return;
        }
    }

    /// The next arrival of a homogeneous Poisson source after `t`.
    fn schedule_next_poisson(&mut self, t: f64, per_day: f64, timer: Timer, event: Event) {
        if per_day > 0.0 {
            let next = t + self.arrival_times[timer as usize].exp1() / (per_day / 24.0);
            self.at_timer(timer, next, event);
        }
    }

    fn schedule_next_referral(&mut self, t: f64) {
        let per_day = self.sc.community.referrals_per_day;
        self.schedule_next_poisson(t, per_day, Timer::Referral, Event::NextReferral);
    }

    fn on_next_referral(&mut self, t: f64) {
        let sc = self.sc;
        let key = self.families[Source::Referral as usize].key(self.referral_count);
        self.referral_count += 1;
        let mut rng = StreamRng::new(key);
        let class = ReferralClass::Community;
        let episode = sc.community.episode[class.index()].sample(&mut rng);
        self.refer_to_community(t, class, episode, NONE);
        self.schedule_next_referral(t);
    }

    fn schedule_next_placement(&mut self, t: f64) {
        let per_day = self.sc.care_homes.community_placements_per_day;
        self.schedule_next_poisson(t, per_day, Timer::Placement, Event::NextPlacement);
    }

    fn on_next_placement(&mut self, t: f64) {
        let key = self.families[Source::Placement as usize].key(self.placement_count);
        self.placement_count += 1;
        self.ws
            .care_home_community_queue
            .push_back(Placement { at: t, key });
        let waiting = self.ws.care_home_community_queue.len();
        self.check_queue(t, "care home beds (community placements)", waiting);
        self.fill_care_home_beds(t);
        self.schedule_next_placement(t);
    }

    // ----- the crisis pathway -----------------------------------------------

    /// A crisis of a readmission or a care home resident (the stream's own
    /// crises have `crisis` inlined into their loop).
    #[inline(never)]
    fn other_crisis(&mut self, t: f64, key: StreamKey, frail: bool, home_bed: u32) {
        self.crisis(t, Arrival::new(key, frail, home_bed));
    }

    /// A crisis from any source: the PRU if eligible and able, else the ED.
    /// The patient takes a place in the arena only if the crisis lasts
    /// beyond this instant (a PRU visit, the frailty unit, an admission).
    #[inline(always)]
    fn crisis(&mut self, t: f64, mut a: Arrival) {
        let sc = self.sc;
        self.count(t, Metric::Crises);
        self.census.arrived += 1;
        self.tracer.trace(TraceEvent::Crisis { at: t });
        if a.rng.chance(sc.pru.eligible_share) {
            self.count(t, Metric::PruEligible);
            if !self.p.pru_hours.is_open(t) {
                self.count(t, Metric::PruMissedClosed);
            } else if self.pru_busy >= sc.pru.cars {
                self.count(t, Metric::PruMissedBusy);
            } else {
                self.count(t, Metric::PruVisits);
                self.pru_busy += 1;
                self.pru_busy_level.add(t, 1.0, &self.p.window);
                self.census.in_pru += 1;
                let visit = sc.pru.visit.sample(&mut a.rng);
                let patient = self.new_patient(a);
                self.trace_took(t, Resource::PruCar, patient);
                self.at(t + visit, Event::PruVisitEnd { patient });
                return;
            }
        }
        match self.ed_decision(t, a.frail, &mut a.rng) {
            EdOutcome::Fau(d) => {
                let patient = self.new_patient(a);
                self.at(t + d, Event::FauAssessmentEnd { patient });
            }
            EdOutcome::Admit => {
                let patient = self.new_patient(a);
                self.admit(t, patient);
            }
            EdOutcome::Home => self.leave_crisis(t, a.home_bed),
        }
    }

    fn on_pru_visit_end(&mut self, t: f64, patient: u32) {
        let sc = self.sc;
        self.pru_busy -= 1;
        self.pru_busy_level.add(t, -1.0, &self.p.window);
        self.census.in_pru -= 1;
        self.trace_released(t, Resource::PruCar, patient);
        if self.pt(patient).rng.chance(sc.pru.treated_at_home) {
            self.count(t, Metric::PruTreatedAtHome);
            self.avoided_admission(t, patient, sc.pru.community_follow_up);
        } else {
            self.emergency_department(t, patient);
        }
    }

    /// Resolved without admission by the PRU or the FAU: maybe a community
    /// follow-up, then home.
    fn avoided_admission(&mut self, t: f64, patient: u32, follow_up: f64) {
        let sc = self.sc;
        let class = ReferralClass::Avoidance;
        let p = &mut self.ws.patients[patient as usize];
        if p.rng.chance(follow_up) {
            let episode = sc.community.episode[class.index()].sample(&mut p.rng);
            self.refer_to_community(t, class, episode, NONE);
        }
        self.go_home(t, patient);
    }

    /// Leaves the crisis pathway without a hospital stay.
    fn go_home(&mut self, t: f64, patient: u32) {
        let home_bed = self.pt(patient).home_bed;
        self.leave_crisis(t, home_bed);
        self.release_patient(patient);
    }

    /// Home (to their care home bed, for a resident) without a hospital stay.
    fn leave_crisis(&mut self, t: f64, home_bed: u32) {
        self.census.left += 1;
        if home_bed != NONE {
            self.resident_returns(t, home_bed);
        }
    }

    /// The emergency department for `patient`, in the arena (after a PRU visit).
    fn emergency_department(&mut self, t: f64, patient: u32) {
        let frail = self.pt(patient).frail;
        let mut rng = self.pt(patient).rng.clone();
        let outcome = self.ed_decision(t, frail, &mut rng);
        self.pt(patient).rng = rng;
        match outcome {
            EdOutcome::Fau(d) => self.at(t + d, Event::FauAssessmentEnd { patient }),
            EdOutcome::Admit => self.admit(t, patient),
            EdOutcome::Home => self.go_home(t, patient),
        }
    }

    /// The emergency department's decision for a patient (`frail` or not,
    /// drawing from `rng`): the frailty unit (taken here, for the drawn
    /// assessment time), admission, or home.
    #[inline]
    fn ed_decision(&mut self, t: f64, frail: bool, rng: &mut StreamRng) -> EdOutcome {
        let sc = self.sc;
        self.count(t, Metric::EdAttendances);
        let admit_share = if frail {
            let fau = &sc.frailty_unit;
            if self.fau_busy < fau.slots && self.p.fau_hours.is_open(t) {
                self.count(t, Metric::FauAssessed);
                self.fau_busy += 1;
                self.census.in_fau += 1;
                return EdOutcome::Fau(fau.assessment.sample(rng));
            }
            self.count(t, Metric::FauMissed);
            sc.ed.frail_admit_share
        } else {
            sc.ed.other_admit_share
        };
        if rng.chance(admit_share) {
            EdOutcome::Admit
        } else {
            EdOutcome::Home
        }
    }

    fn on_fau_end(&mut self, t: f64, patient: u32) {
        let fau = &self.sc.frailty_unit;
        self.fau_busy -= 1;
        self.census.in_fau -= 1;
        if self.pt(patient).rng.chance(fau.discharged_same_day) {
            self.count(t, Metric::FauDischarged);
            self.avoided_admission(t, patient, fau.community_follow_up);
        } else {
            self.admit(t, patient);
        }
    }

    // ----- acute beds -----------------------------------------------------------

    /// The decision to admit: a free bed now, or a first-come-first-served wait.
    fn admit(&mut self, t: f64, patient: u32) {
        self.count(t, Metric::Admissions);
        self.pt(patient).admitted_at = t;
        self.census.waiting_for_bed += 1;
        self.ws.bed_queue.push_back(patient);
        self.check_queue(t, "acute beds", self.ws.bed_queue.len());
        self.fill_acute_beds(t);
    }

    fn fill_acute_beds(&mut self, t: f64) {
        while self.beds_occupied < self.beds_available {
            let Some(patient) = self.ws.bed_queue.pop_front() else {
                break;
            };
            self.take_bed(t, patient);
        }
    }

    fn take_bed(&mut self, t: f64, patient: u32) {
        let sc = self.sc;
        self.census.waiting_for_bed -= 1;
        self.census.in_bed += 1;
        self.set_beds(t, self.beds_occupied + 1, self.beds_available);
        self.trace_took(t, Resource::AcuteBed, patient);
        let p = &mut self.ws.patients[patient as usize];
        let wait = t - p.admitted_at;
        let los_dist = if p.frail {
            &sc.acute.los_frail
        } else {
            &sc.acute.los_other
        };
        let mut los = los_dist.sample(&mut p.rng);
        if p.home_bed != NONE
            && let Some(red_bag) = &sc.care_homes.red_bag
            // A stay already shorter than the floor is unchanged.
            && los >= red_bag.min_los_hours
        {
            los = (los - red_bag.los_reduction_hours).max(red_bag.min_los_hours);
        }
        let fit = t + los;
        // Residents draw no pathway. The pathway is drawn now rather than at
        // medically fit: it comes from the patient's own stream either way.
        let direct = p.home_bed != NONE || {
            let shares = if p.frail {
                &sc.pathways.frail
            } else {
                &sc.pathways.other
            };
            p.pathway = draw_pathway(shares, p.rng.uniform());
            p.pathway == Pathway::P0
        };
        p.direct_leave = direct;
        if self.p.window.contains(t) {
            self.ws.bed_waits.push(wait);
            if wait > 4.0 {
                self.counts[Metric::BedWaitsOver4h] += 1.0;
            }
            if wait > 12.0 {
                self.counts[Metric::BedWaitsOver12h] += 1.0;
            }
        }
        if direct {
            // For P0 and residents nothing happens at medically fit but the
            // start of the wait for the discharge hours, whose end is known
            // now: schedule the leaving itself and count the wait's bed days
            // at once (about a quarter of all events saved).
            let window = self.p.window;
            match self.p.discharge_hours.opening(fit) {
                Opening::Now => self.at(fit, Event::LeaveHospital { patient }),
                // Leaving with the others at this opening, in order.
                Opening::Starting { index } => self.leave_at_opening(fit, index, patient),
                Opening::At { time, index } => {
                    self.process_level.add_interval(fit, time, &window);
                    self.leave_at_opening(time, index, patient);
                }
                // Discharge hours "none" every day: the patient never leaves.
                Opening::Never => self.process_level.add_interval(fit, f64::INFINITY, &window),
            }
        } else {
            // P1 to P3: the process delay is drawn now rather than at
            // medically fit. It comes from the patient's own stream, from
            // which nothing else draws while they are in bed, so it is the
            // same number; medically fit then needs no event of its own: the
            // delay's bed days are counted at once and the request for a
            // place is the next event.
            let p = &mut self.ws.patients[patient as usize];
            let delay = match &sc.pathways.process_delay[p.pathway.index() - 1] {
                Some(d) => d.sample(&mut p.rng),
                None => 0.0,
            };
            let requested = fit + delay;
            self.process_level
                .add_interval(fit, requested, &self.p.window);
            self.at(requested, Event::ProcessDelayEnd { patient });
        }
    }

    fn on_bed_capacity(&mut self, t: f64, day: u32) {
        let available = self.p.beds_by_day[day as usize];
        self.set_beds(t, self.beds_occupied, available);
        // A rise fills at once; a fall evicts nobody.
        self.fill_acute_beds(t);
    }

    /// Leaves now if inside the discharge hours, else at the next opening.
    fn await_discharge_hours(&mut self, t: f64, patient: u32) {
        match self.p.discharge_hours.opening(t) {
            Opening::Now | Opening::Starting { .. } => self.leave_hospital(t, patient),
            Opening::At { time, index } => self.leave_at_opening(time, index, patient),
            // Discharge hours "none" every day: the patient never leaves.
            Opening::Never => {}
        }
    }

    /// `patient` leaves at opening number `index` of the discharge hours, at
    /// `time` (unless that is after the end of the run).
    fn leave_at_opening(&mut self, time: f64, index: u64, patient: u32) {
        if time >= self.end {
            return;
        }
        let earliest_changed = match self.ws.discharge_waits.is_empty() {
            true => {
                self.first_opening = index;
                true
            }
            false if index < self.first_opening => {
                for _ in index..self.first_opening {
                    let list = self.ws.spare_waits.pop().unwrap_or_default();
                    self.ws.discharge_waits.push_front(list);
                }
                self.first_opening = index;
                true
            }
            false => false,
        };
        let j = (index - self.first_opening) as usize;
        while self.ws.discharge_waits.len() <= j {
            let list = self.ws.spare_waits.pop().unwrap_or_default();
            self.ws.discharge_waits.push_back(list);
        }
        self.ws.discharge_waits[j].push(patient);
        if earliest_changed {
            self.at_timer(Timer::DischargeOpening, time, Event::DischargeOpening);
        }
    }

    /// The discharge hours open: the patients waiting for this opening leave,
    /// in the order their leaving was decided.
    fn on_discharge_opening(&mut self, t: f64) {
        let Some(leaving) = self.ws.discharge_waits.pop_front() else {
            return;
        };
        self.first_opening += 1;
        while let Some(list) = self.ws.discharge_waits.pop_front_if(|l| l.is_empty()) {
            self.ws.spare_waits.push(list);
            self.first_opening += 1;
        }
        if !self.ws.discharge_waits.is_empty() {
            let next = self.p.discharge_hours.opening_time(self.first_opening);
            self.at_timer(Timer::DischargeOpening, next, Event::DischargeOpening);
        }
        for &patient in &leaving {
            self.leave_hospital(t, patient);
        }
        let mut list = leaving;
        list.clear();
        self.ws.spare_waits.push(list);
    }

    /// After the process delay: ask for the place the pathway needs.
    fn request_place(&mut self, t: f64, patient: u32) {
        let sc = self.sc;
        let window = self.p.window;
        let pathway = {
            let p = self.pt(patient);
            p.requested_at = t;
            p.capacity_waiting = true;
            p.pathway
        };
        // Counted as a capacity wait until granted (maybe at once, below).
        self.capacity_level[pathway.index() - 1].add(t, 1.0, &window);
        match pathway {
            Pathway::P1 => {
                let class = ReferralClass::Discharge;
                let p = &mut self.ws.patients[patient as usize];
                let episode = sc.community.episode[class.index()].sample(&mut p.rng);
                p.episode_hours = episode;
                self.refer_to_community(t, class, episode, patient);
            }
            Pathway::P2 => {
                self.ws.rehab_queue.push_back(patient);
                self.check_queue(t, "rehab beds", self.ws.rehab_queue.len());
                self.fill_rehab_beds(t);
            }
            Pathway::P3 => {
                self.ws.care_home_hospital_queue.push_back(patient);
                let waiting = self.ws.care_home_hospital_queue.len();
                self.check_queue(t, "care home beds (from hospital)", waiting);
                self.fill_care_home_beds(t);
            }
            Pathway::P0 => unreachable!("P0 asks for no place"),
        }
    }

    /// The downstream place is granted to a patient in hospital.
    fn place_granted(&mut self, t: f64, patient: u32) {
        let window = self.p.window;
        let (pathway, wait) = {
            let p = self.pt(patient);
            p.capacity_waiting = false;
            (p.pathway, t - p.requested_at)
        };
        self.capacity_level[pathway.index() - 1].add(t, -1.0, &window);
        self.process_level.add(t, 1.0, &window);
        if wait > 0.0 {
            let metric = match pathway {
                Pathway::P1 => Metric::DelayedPatientsP1,
                Pathway::P2 => Metric::DelayedPatientsP2,
                _ => Metric::DelayedPatientsP3,
            };
            self.count(t, metric);
        }
        self.await_discharge_hours(t, patient);
    }

    fn leave_hospital(&mut self, t: f64, patient: u32) {
        let sc = self.sc;
        let window = self.p.window;
        if !self.pt(patient).direct_leave {
            self.process_level.add(t, -1.0, &window);
        }
        self.census.in_bed -= 1;
        self.trace_released(t, Resource::AcuteBed, patient);
        let home_bed = self.pt(patient).home_bed;
        let mut keep = false;
        if home_bed != NONE {
            self.resident_returns(t, home_bed);
        } else {
            let pathway = self.pt(patient).pathway;
            match pathway {
                Pathway::P0 => {}
                Pathway::P1 => {
                    let episode = self.pt(patient).episode_hours;
                    self.at(t + episode, Event::CommunityEpisodeEnd);
                }
                Pathway::P2 => {
                    let stay = sc.rehab.stay.sample(&mut self.pt(patient).rng);
                    self.at(t + stay, Event::RehabStayEnd { patient });
                    keep = true;
                }
                Pathway::P3 => {
                    let bed = self.pt(patient).care_home_bed;
                    let p = &mut self.ws.patients[patient as usize];
                    let stay = sc.care_homes.stay.sample(&mut p.rng);
                    let ch = &mut self.ws.care_home_beds[bed as usize];
                    ch.key = p.key;
                    ch.rng = p.rng.clone();
                    ch.crises = 0;
                    self.resident_moves_in(t, bed, stay);
                }
            }
            if let Some(r) = &sc.readmission {
                let p = match pathway {
                    Pathway::P0 => r.p0,
                    Pathway::P1 => r.p1,
                    Pathway::P2 => r.p2,
                    Pathway::P3 => 0.0,
                };
                let pt = &mut self.ws.patients[patient as usize];
                if p > 0.0 && pt.rng.chance(p) {
                    let when = t + pt.rng.uniform() * r.window_hours;
                    let event = Event::Readmission {
                        key: pt.key.child(READMISSION_TAG),
                        frail: pt.frail,
                    };
                    self.at(when, event);
                }
            }
        }
        self.census.left += 1;
        if !keep {
            self.release_patient(patient);
        }
        self.set_beds(t, self.beds_occupied - 1, self.beds_available);
        self.fill_acute_beds(t);
    }

    // ----- community nursing ----------------------------------------------------

    /// A referral of `class`; `patient` is the one waiting in hospital, or `NONE`.
    fn refer_to_community(
        &mut self,
        t: f64,
        class: ReferralClass,
        episode_hours: f64,
        patient: u32,
    ) {
        self.ws.community_queues[class.index()].push_back(CommunityRequest {
            at: t,
            episode_hours,
            patient,
        });
        let waiting: usize = self.ws.community_queues.iter().map(VecDeque::len).sum();
        self.check_queue(t, "community nursing", waiting);
        self.community_waiting_level.add(t, 1.0, &self.p.window);
        self.tracer
            .trace(TraceEvent::CommunityReferred { at: t, class });
        self.fill_community_places(t);
    }

    fn fill_community_places(&mut self, t: f64) {
        let window = self.p.window;
        while self.community_held < self.community_places {
            let Some(class) = self
                .sc
                .community
                .priority
                .into_iter()
                .find(|c| !self.ws.community_queues[c.index()].is_empty())
            else {
                break;
            };
            let Some(req) = self.ws.community_queues[class.index()].pop_front() else {
                break;
            };
            self.community_waiting_level.add(t, -1.0, &window);
            self.community_held += 1;
            self.community_held_level.add(t, 1.0, &window);
            if window.contains(t) {
                self.community_waits[class.index()].record((t - req.at) / 24.0);
            }
            self.tracer.trace(TraceEvent::CommunityGranted {
                at: t,
                class,
                requested_at: req.at,
            });
            if req.patient == NONE {
                self.at(t + req.episode_hours, Event::CommunityEpisodeEnd);
            } else {
                self.place_granted(t, req.patient);
            }
        }
    }

    fn on_community_episode_end(&mut self, t: f64) {
        self.community_held -= 1;
        self.community_held_level.add(t, -1.0, &self.p.window);
        self.fill_community_places(t);
    }

    // ----- rehab ------------------------------------------------------------------

    fn fill_rehab_beds(&mut self, t: f64) {
        let window = self.p.window;
        while self.rehab_held < self.sc.rehab.beds {
            let Some(patient) = self.ws.rehab_queue.pop_front() else {
                break;
            };
            self.rehab_held += 1;
            self.rehab_level.add(t, 1.0, &window);
            self.trace_took(t, Resource::RehabBed, patient);
            if window.contains(t) {
                let wait = t - self.pt(patient).requested_at;
                self.rehab_waits.record(wait / 24.0);
            }
            self.place_granted(t, patient);
        }
    }

    fn on_rehab_stay_end(&mut self, t: f64, patient: u32) {
        let sc = self.sc;
        self.rehab_held -= 1;
        self.rehab_level.add(t, -1.0, &self.p.window);
        self.trace_released(t, Resource::RehabBed, patient);
        let class = ReferralClass::Discharge;
        let p = &mut self.ws.patients[patient as usize];
        if p.rng.chance(sc.rehab.community_follow_up) {
            let episode = sc.community.episode[class.index()].sample(&mut p.rng);
            self.refer_to_community(t, class, episode, NONE);
        }
        self.release_patient(patient);
        self.fill_rehab_beds(t);
    }

    // ----- care homes ---------------------------------------------------------------

    /// Grants free care home beds to the waiting hospital and community
    /// placements: hospital first when `hospital_first`, else first come
    /// first served (hospital first on a tie).
    fn fill_care_home_beds(&mut self, t: f64) {
        let window = self.p.window;
        let hospital_first = self.sc.care_homes.hospital_first;
        while let Some(&bed) = self.ws.care_home_free.last() {
            let from_hospital = match (
                self.ws.care_home_hospital_queue.front(),
                self.ws.care_home_community_queue.front(),
            ) {
                (None, None) => break,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some(&h), Some(c)) => {
                    hospital_first || self.ws.patients[h as usize].requested_at <= c.at
                }
            };
            self.ws.care_home_free.pop();
            self.care_home_held += 1;
            self.care_home_level.add(t, 1.0, &window);
            let ch = &mut self.ws.care_home_beds[bed as usize];
            // Held from now; the resident arrives from hospital later.
            ch.held = true;
            ch.in_bed = false;
            ch.stay_over = false;
            if from_hospital {
                let Some(patient) = self.ws.care_home_hospital_queue.pop_front() else {
                    unreachable!("the hospital queue has a front")
                };
                let wait = t - self.pt(patient).requested_at;
                if window.contains(t) {
                    self.care_home_waits.record(wait / 24.0);
                }
                self.pt(patient).care_home_bed = bed;
                self.place_granted(t, patient);
            } else {
                let Some(placement) = self.ws.care_home_community_queue.pop_front() else {
                    unreachable!("the community queue has a front")
                };
                if window.contains(t) {
                    self.care_home_waits.record((t - placement.at) / 24.0);
                }
                let ch = &mut self.ws.care_home_beds[bed as usize];
                ch.key = placement.key;
                ch.rng = StreamRng::new(placement.key);
                ch.crises = 0;
                let stay = self.sc.care_homes.stay.sample(&mut ch.rng);
                self.resident_moves_in(t, bed, stay);
            }
        }
    }

    /// A new resident takes up `bed` at `t` for `stay` hours (fixed now).
    fn resident_moves_in(&mut self, t: f64, bed: u32, stay: f64) {
        let ch = &mut self.ws.care_home_beds[bed as usize];
        ch.held = true;
        ch.in_bed = true;
        ch.stay_over = false;
        let generation = ch.generation;
        self.at(t + stay, Event::ResidentStayEnd { bed, generation });
        self.schedule_resident_crisis(t, bed);
    }

    fn schedule_resident_crisis(&mut self, t: f64, bed: u32) {
        let per_hour = self.sc.care_homes.crises_per_resident_year / (365.0 * 24.0);
        if per_hour > 0.0 {
            let ch = &mut self.ws.care_home_beds[bed as usize];
            let next = t + ch.rng.exp1() / per_hour;
            let generation = ch.generation;
            self.at(next, Event::ResidentCrisis { bed, generation });
        }
    }

    fn on_resident_crisis(&mut self, t: f64, bed: u32, generation: u32) {
        let ch = &mut self.ws.care_home_beds[bed as usize];
        if ch.generation != generation || !ch.in_bed {
            return;
        }
        ch.in_bed = false;
        let key = ch.key.child(ch.crises);
        ch.crises += 1;
        self.resident_crisis_count += 1;
        self.other_crisis(t, key, true, bed);
    }

    /// A resident is back in their bed after a crisis.
    fn resident_returns(&mut self, t: f64, bed: u32) {
        let ch = &mut self.ws.care_home_beds[bed as usize];
        ch.in_bed = true;
        if ch.stay_over {
            self.resident_leaves(t, bed);
        } else {
            self.schedule_resident_crisis(t, bed);
        }
    }

    fn on_resident_stay_end(&mut self, t: f64, bed: u32, generation: u32) {
        let ch = &mut self.ws.care_home_beds[bed as usize];
        if ch.generation != generation {
            return;
        }
        if ch.in_bed {
            self.resident_leaves(t, bed);
        } else {
            // Away in a crisis: the bed is kept until they return.
            ch.stay_over = true;
        }
    }

    fn resident_leaves(&mut self, t: f64, bed: u32) {
        let ch = &mut self.ws.care_home_beds[bed as usize];
        ch.generation = ch.generation.wrapping_add(1);
        ch.held = false;
        ch.in_bed = false;
        ch.stay_over = false;
        self.ws.care_home_free.push(bed);
        self.care_home_held -= 1;
        self.care_home_level.add(t, -1.0, &self.p.window);
        self.fill_care_home_beds(t);
    }

    // ----- daily series ---------------------------------------------------------------

    fn on_midnight(&mut self, t: f64) {
        // The snapshot is taken after every other event due at 00:00 (a
        // discharge opening at midnight, a bed change), whenever those were
        // scheduled: set the timer again at the same instant, behind them.
        if self.ws.queue.next_time() == Some(t) {
            self.at_timer(Timer::Midnight, t, Event::Midnight);
            return;
        }
        let delayed: f64 = self.capacity_level.iter().map(Level::value).sum();
        self.daily[Series::MidnightCensus.index()].push(f64::from(self.beds_occupied));
        self.daily[Series::DelayedPatients.index()].push(delayed);
        self.daily[Series::CommunityWaitingList.index()].push(self.community_waiting_level.value());
        self.at_timer(Timer::Midnight, t + 24.0, Event::Midnight);
    }

    // ----- results ----------------------------------------------------------------------

    fn finish(mut self) -> (ReplicationResult, T, Workspace) {
        let w = self.p.window;
        let hours = w.hours();
        let mut m = self.counts;
        let mean_level = |l: &Level| l.area_at_end(&w) / hours;
        let bed_days = |l: &Level| l.area_at_end(&w) / 24.0;

        // Defined as the sum of its two parts (docs/model.md), so it is
        // computed here once rather than counted alongside them.
        m[Metric::AdmissionsAvoidedDirect] = m[Metric::PruTreatedAtHome] + m[Metric::FauDischarged];
        m[Metric::PruUtilisation] = if self.p.pru_open_car_hours > 0.0 {
            self.pru_busy_level.area_at_end(&w) / self.p.pru_open_car_hours
        } else {
            0.0
        };
        m[Metric::BedOccupancyMean] = mean_level(&self.occupied);
        m[Metric::BedsFullShare] = mean_level(&self.beds_full);

        let census = &self.daily[Series::MidnightCensus.index()];
        m[Metric::MidnightCensusMean] = mean_or_zero(census);
        m[Metric::MidnightCensusP95] = percentile_or_zero(&mut census.clone(), 0.95);
        m[Metric::BedWaitMeanHours] = mean_or_zero(&self.ws.bed_waits);
        m[Metric::BedWaitP95Hours] = percentile_or_zero(&mut self.ws.bed_waits, 0.95);

        m[Metric::DelayedBedDaysP1] = bed_days(&self.capacity_level[0]);
        m[Metric::DelayedBedDaysP2] = bed_days(&self.capacity_level[1]);
        m[Metric::DelayedBedDaysP3] = bed_days(&self.capacity_level[2]);
        m[Metric::DelayedBedDays] =
            m[Metric::DelayedBedDaysP1] + m[Metric::DelayedBedDaysP2] + m[Metric::DelayedBedDaysP3];
        m[Metric::ProcessDelayBedDays] = bed_days(&self.process_level);

        m[Metric::CommunityUtilisation] = if self.community_places > 0 {
            mean_level(&self.community_held_level) / self.community_places as f64
        } else {
            0.0
        };
        m[Metric::CommunityWaitingMean] = mean_level(&self.community_waiting_level);
        m[Metric::CommunityWaitMeanDaysDischarge] =
            self.community_waits[ReferralClass::Discharge.index()].mean();
        m[Metric::CommunityWaitMeanDaysAvoidance] =
            self.community_waits[ReferralClass::Avoidance.index()].mean();
        m[Metric::CommunityWaitMeanDaysCommunity] =
            self.community_waits[ReferralClass::Community.index()].mean();
        m[Metric::RehabOccupancyMean] = mean_level(&self.rehab_level);
        m[Metric::RehabWaitMeanDays] = self.rehab_waits.mean();
        m[Metric::CareHomeOccupancyMean] = mean_level(&self.care_home_level);
        m[Metric::CareHomeWaitMeanDays] = self.care_home_waits.mean();

        let result = ReplicationResult {
            replication: self.replication,
            metrics: m,
            daily: self.daily,
            events: self.events,
        };
        (result, self.tracer, self.ws)
    }
}

/// The pathway for a uniform draw `u`: the first whose cumulative share
/// exceeds `u`; a pathway with share 0 is never chosen, even at the top of
/// the range (shares summing to slightly under 1).
fn draw_pathway(shares: &[f64; 4], u: f64) -> Pathway {
    let mut acc = 0.0;
    let mut pathway = Pathway::P3;
    for pw in Pathway::ALL {
        acc += shares[pw.index()];
        if u < acc {
            pathway = pw;
            break;
        }
    }
    while shares[pathway.index()] == 0.0 && pathway != Pathway::P0 {
        pathway = Pathway::ALL[pathway.index() - 1];
    }
    pathway
}

/// R-7 percentile, 0 for no values (as for a mean over no waits). Reorders
/// `values`; selection, not a full sort.
fn percentile_or_zero(values: &mut [f64], p: f64) -> f64 {
    if values.is_empty() {
        0.0
    } else {
        crate::stats::percentile_r7_unsorted(values, p)
    }
}

fn mean_or_zero(values: &[f64]) -> f64 {
    if values.is_empty() {
        0.0
    } else {
        values.iter().sum::<f64>() / values.len() as f64
    }
}

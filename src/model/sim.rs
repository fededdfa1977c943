//! One replication of the patient flow model of `docs/model.md`.
//!
//! The simulation is a single loop over a future-event list of small `Copy`
//! events that name patients and care home beds by index into arenas
//! (`Vec`s with free lists), so the hot path allocates nothing once the
//! arenas and queues have reached their working size.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::bounds::{Cause, DEFAULT_QUEUE_LIMIT, EventBudget, Stopped};
use super::dated;
use super::kept::{KeptDraws, KeptRecord};
use super::metrics::{Metric, Metrics, ReplicationResult, Series};
use super::observe::{Level, StatsWindow};
use super::planning_years::PlanningYear;
use super::planning_years::planning_years;
use super::schedule::{ArrivalProfile, DatedHours, DischargeHours, beds_by_day};
use super::trace::{Census, Resource, TraceEvent, Tracer};
use super::years::{DatedCounts, Service};
use crate::engine::{EventQueue, StreamFamily, StreamKey, StreamRng};
use crate::scenario::{DatedKey, Pathway, ReferralClass, Scenario};

// One module per service: each owns its state and its event handlers, as
// `impl Sim` blocks; this file holds the event loop, the dispatch and the
// results. A new service is one more module here, its state a field of
// `Sim`, its events variants of `Event`.
mod acute;
mod capacity;
mod care_homes;
mod community;
mod demand;
mod emergency;
mod home_care;
mod mental_health;
mod pru;
mod rehab;
mod start;
mod yearly;

use acute::AcuteBeds;
use care_homes::{CareHomeBed, CareHomes, Placement};
use community::{Community, CommunityRequest};
use demand::Arrivals;
use emergency::FrailtyUnit;
use home_care::HomeCareState;
use mental_health::{MentalHealthState, MhPatient, MhPrepared};
use pru::Pru;
use rehab::Rehab;

/// Demand sources and other named stream families (part of each stream key).
///
/// Arrival times come from one stream per source (`*Times`); every patient
/// has a stream of its own keyed by (source, arrival index).
#[derive(Clone, Copy, Debug)]
#[repr(u32)]
pub enum StreamSource {
    /// Arrival times of new crises.
    CrisisTimes = 0,
    /// Each new crisis patient's own stream, by arrival index.
    Crisis = 1,
    /// Arrival times of GP referrals to community nursing.
    ReferralTimes = 2,
    /// Each GP referral's own stream, by arrival index.
    Referral = 3,
    /// Arrival times of care home placements from the community.
    PlacementTimes = 4,
    /// Each community placement's own stream, by arrival index.
    Placement = 5,
    /// Residents in their care home bed at time zero.
    InitialResident = 6,
    /// Mental health crises at the ED: their times, then each patient.
    MhCrisisTimes = 7,
    /// Each mental health crisis patient's own stream, by arrival index.
    MhCrisis = 8,
    /// Community referrals to CRHT: their times, then each patient.
    MhReferralTimes = 9,
    /// Each CRHT community referral's own stream, by arrival index.
    MhReferral = 10,
    /// Arrival times of home care packages started from the community.
    HomeCareStartTimes = 11,
    /// Each home care start from the community, by arrival index.
    HomeCareStart = 12,
    /// Home care packages running at time zero, by package number.
    HomeCareInitial = 13,
    /// Each patient of the starting state (`[start]` and its census), by
    /// their index in it.
    StartingPatient = 14,
}

impl StreamSource {
    const COUNT: usize = 15;
}

/// Tag for the stream of a readmission, derived from its patient's key.
const READMISSION_TAG: u64 = 0x5245_4144_4d49_5400;

/// Everything about a scenario that every replication shares: schedules,
/// the arrival profile, the bed calendar. Built once per run.
#[derive(Clone, Debug)]
pub struct Prepared {
    /// The scenario it was prepared from.
    pub scenario: Scenario,
    pru_hours: DatedHours,
    frailty_unit_hours: DatedHours,
    discharge_hours: DischargeHours,
    pub(crate) arrivals: ArrivalProfile,
    /// Beds available on each simulated day.
    beds_by_day: Vec<u32>,
    /// The mental health system's calendars; `None` without one.
    mh: Option<MhPrepared>,
    window: StatsWindow,
    /// Simulated hours of the first midnight inside the window.
    first_midnight: f64,
    /// Midnights inside the window: the length of each daily series.
    days_in_window: usize,
    /// Open car-hours of the PRU inside the window (cars x opening hours).
    pru_open_car_hours: f64,
    /// Each service's count by day where it has dated changes.
    counts: DatedCounts,
    /// The scenario in force in each period of dated values (first day,
    /// scenario); empty without `[[rate_changes]]` (`docs/model.md`, "Dated
    /// values").
    periods: Vec<(u32, Scenario)>,
    /// Community referrals and care home placements from the community as
    /// grown rates by clock hour; `None` without growth (a constant rate).
    referral_profile: Option<ArrivalProfile>,
    placement_profile: Option<ArrivalProfile>,
    home_care_profile: Option<ArrivalProfile>,
    /// Mean community nursing places over the window.
    community_places_mean: f64,
    /// A replication stops when any queue holds more than this many.
    queue_limit: usize,
    /// A replication stops when it has handled more events than this.
    event_budget: EventBudget,
    /// Set from outside (Ctrl-C) to stop every replication soon.
    cancel: Option<Arc<AtomicBool>>,
    /// The counterfactual arms run beside each replication (empty for an
    /// arm itself, and when the services are already off).
    arms: Vec<Arm>,
    /// The planning years of a window longer than 365 days (empty
    /// otherwise), each with this scenario prepared with that year as its
    /// statistics window (`sim/yearly.rs`).
    years: Vec<(PlanningYear, Box<Prepared>)>,
    /// Each replication's own scenario, when it draws uncertain values.
    draws: Option<Arc<dyn ScenarioDraws>>,
    /// Each replication's kept draw, when the run keeps only the draws its
    /// calibration allows; with `true` when this is the judged scenario
    /// (whose result of the kept draw is the replication's own).
    kept: Option<(Arc<dyn KeptDraws>, bool)>,
}

/// A replication's drawn scenario with its flow balance, before it is
/// prepared (see [`Prepared::screen`]).
pub(crate) struct Screened {
    /// The drawn scenario.
    pub scenario: Scenario,
    /// The services its flow balance overloads.
    pub overloaded: Vec<&'static str>,
    /// Events its flow balance expects of a replication.
    expected: f64,
}

/// A replication's own prepared scenario, drawn (see [`Prepared::drawn`]).
pub(crate) struct Drawn {
    /// The drawn scenario, prepared.
    pub prepared: Prepared,
    /// The services its flow balance overloads.
    pub overloaded: Vec<&'static str>,
    /// How its kept draw was found, when draws are judged.
    kept: Option<KeptRecord>,
    /// The judged scenario's result of this draw, when it is this one's,
    /// with the metrics of the counterfactual arms it ran.
    result: Option<(ReplicationResult, Vec<Metric>)>,
}

/// Each replication's scenario, drawn from the uncertain values
/// (`docs/model.md`, "Parameter uncertainty").
pub trait ScenarioDraws: Send + Sync + std::fmt::Debug {
    /// The scenario replication `replication` runs in its draw `draw` (0
    /// unless draws are judged); why not, in words.
    fn scenario(&self, replication: u32, draw: u32) -> Result<Scenario, String>;
}

/// A counterfactual arm (`docs/model.md`, "Counterfactual arms"): the
/// scenario with one avoidance service switched off, and the metric its
/// difference in admissions fills.
#[derive(Clone, Debug)]
struct Arm {
    metric: Metric,
    /// The admissions metric the arm's difference is taken of.
    counted: Metric,
    service: &'static str,
    prepared: Box<Prepared>,
}

/// The counterfactual arms (`docs/model.md`, "Counterfactual arms"): the
/// service whose count (with its dated changes) switches it off, the metric
/// the arm fills, the admissions metric it differs in, the service's name,
/// and how the arm's scenario switches it off.
type ArmSpec = (Service, Metric, Metric, &'static str, fn(&mut Scenario));

const ARMS: [ArmSpec; 3] = [
    (
        Service::PruCars,
        Metric::AdmissionsAvoidedPru,
        Metric::Admissions,
        "the PRU",
        |sc| {
            sc.pru.cars = 0;
            sc.pru.capacity_changes.clear();
        },
    ),
    (
        Service::FrailtyUnitSlots,
        Metric::AdmissionsAvoidedFrailtyUnit,
        Metric::Admissions,
        "the frailty unit",
        |sc| {
            sc.frailty_unit.slots = 0;
            sc.frailty_unit.capacity_changes.clear();
        },
    ),
    (
        Service::CrhtPlaces,
        Metric::MhAdmissionsAvoidedCrht,
        Metric::MhAdmissions,
        "mental health CRHT",
        |sc| {
            if let Some(mh) = &mut sc.mental_health {
                mh.crht.places = 0;
                mh.crht.capacity_changes.clear();
                mh.crht.wait_when_full = false;
            }
        },
    ),
];

impl Arm {
    /// The arms of `scenario`: one per avoidance service that is on.
    fn of(scenario: &Scenario) -> Vec<Arm> {
        ARMS.iter()
            .filter(|(service, ..)| service.ever_open(scenario))
            .map(|&(_, metric, counted, service, off)| {
                let mut sc = scenario.clone();
                off(&mut sc);
                let budget = EventBudget::for_scenario(&sc);
                Arm {
                    metric,
                    counted,
                    service,
                    prepared: Box::new(Prepared::without_arms(sc, budget)),
                }
            })
            .collect()
    }
}

/// How often (in events) a replication looks at the cancel flag, its event
/// budget and its crisis count: about a millisecond of simulation, so a
/// cancelled run stops promptly.
const CANCEL_CHECK_EVENTS: u64 = 4096;

impl Prepared {
    /// The scenario ready to run, with the event budget of its flow balance.
    pub fn new(scenario: Scenario) -> Prepared {
        let budget = EventBudget::for_scenario(&scenario);
        Prepared::with_budget(scenario, budget)
    }

    /// As [`Prepared::new`], with a replication's event budget given (the
    /// flow balance already computed, or a budget for a test).
    pub fn with_budget(scenario: Scenario, event_budget: EventBudget) -> Prepared {
        let arms = Arm::of(&scenario);
        Prepared {
            arms,
            ..Prepared::without_arms(scenario, event_budget)
        }
    }

    /// As [`Prepared::with_budget`], with no counterfactual arms: the
    /// counterfactual metrics stay 0. For an arm itself, and for analyses
    /// that read no metric (the warm-up analysis, benchmarks).
    pub fn without_arms(scenario: Scenario, event_budget: EventBudget) -> Prepared {
        let start = scenario.start_date;
        let window = StatsWindow {
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
        let pru = &scenario.pru;
        let pru_hours = DatedHours::service(start, pru.open, &pru.days, &pru.hours_changes, days);
        let counts = DatedCounts::new(&scenario, days);
        let pru_open_car_hours = open_car_hours(&scenario, &pru_hours, &counts, window);
        let community_places_mean = community_places_mean(&scenario, &counts, window);
        let g = &scenario.growth;
        let grown = |per_day: f64, key: DatedKey, g: &crate::scenario::GrowthSpec| {
            match dated::rate_by_day(&scenario, key, days) {
                Some(by_day) => Some(ArrivalProfile::by_day(&by_day).grown(g)),
                None => g
                    .grows()
                    .then(|| ArrivalProfile::flat(per_day, days).grown(g)),
            }
        };
        let crises = dated::rate_by_day(&scenario, DatedKey::CrisesPerDay, days);
        let mut prepared = Prepared {
            referral_profile: grown(
                scenario.community.referrals_per_day,
                DatedKey::CommunityReferrals,
                &g.community_referrals,
            ),
            placement_profile: grown(
                scenario.care_homes.community_placements_per_day,
                DatedKey::CareHomePlacements,
                &g.care_home_placements,
            ),
            home_care_profile: grown(
                scenario
                    .home_care
                    .as_ref()
                    .map_or(0.0, |h| h.community_starts_per_day),
                DatedKey::HomeCareStarts,
                &g.home_care_starts,
            ),
            periods: dated::periods(&scenario, days),
            community_places_mean,
            counts,
            frailty_unit_hours: DatedHours::service(
                start,
                scenario.frailty_unit.open,
                &scenario.frailty_unit.days,
                &scenario.frailty_unit.hours_changes,
                days,
            ),
            discharge_hours: DischargeHours::new(
                start,
                scenario.acute.discharge_hours,
                scenario.acute.weekend_discharge_hours,
                &scenario.acute.discharge_changes,
                days,
            ),
            arrivals: ArrivalProfile::dated(&scenario.demand, start, days, crises.as_deref())
                .grown(&g.crises),
            beds_by_day: beds_by_day(&scenario.acute, start, days),
            mh: MhPrepared::new(&scenario, start, days),
            pru_hours,
            window,
            first_midnight,
            days_in_window,
            pru_open_car_hours,
            queue_limit: DEFAULT_QUEUE_LIMIT,
            event_budget,
            scenario,
            cancel: None,
            arms: Vec::new(),
            years: Vec::new(),
            draws: None,
            kept: None,
        };
        prepared.years = planning_years(start, window.start, window.end)
            .into_iter()
            .map(|year| {
                let view = prepared.with_window(year.start_hours, year.end_hours);
                (year, Box::new(view))
            })
            .collect();
        prepared
    }

    /// A copy with the statistics window `[start, end)` inside its own (for
    /// a planning year): the same calendars, the simulation still running
    /// to the end of its own window.
    fn with_window(&self, start: f64, end: f64) -> Prepared {
        let window = StatsWindow { start, end };
        let first_midnight = (start / 24.0).ceil() * 24.0;
        let days_in_window = if first_midnight < end {
            ((end - first_midnight) / 24.0).ceil() as usize
        } else {
            0
        };
        Prepared {
            window,
            first_midnight,
            days_in_window,
            pru_open_car_hours: open_car_hours(
                &self.scenario,
                &self.pru_hours,
                &self.counts,
                window,
            ),
            community_places_mean: community_places_mean(&self.scenario, &self.counts, window),
            scenario: self.scenario.clone(),
            pru_hours: self.pru_hours.clone(),
            frailty_unit_hours: self.frailty_unit_hours.clone(),
            discharge_hours: self.discharge_hours.clone(),
            arrivals: self.arrivals.clone(),
            periods: self.periods.clone(),
            referral_profile: self.referral_profile.clone(),
            placement_profile: self.placement_profile.clone(),
            home_care_profile: self.home_care_profile.clone(),
            counts: self.counts.clone(),
            beds_by_day: self.beds_by_day.clone(),
            mh: self.mh.clone(),
            queue_limit: self.queue_limit,
            event_budget: self.event_budget,
            cancel: self.cancel.clone(),
            arms: Vec::new(),
            years: Vec::new(),
            draws: None,
            kept: None,
        }
    }

    /// The planning years of the window: empty unless it is longer than
    /// 365 days (`docs/model.md`, "Results by year").
    pub fn planning_years(&self) -> Vec<PlanningYear> {
        self.years.iter().map(|(y, _)| y.clone()).collect()
    }

    /// The same, each replication running its own scenario from `draws`
    /// (with its own counterfactual arms, event budget and flow balance);
    /// this one's scenario stands for them in what is decided before a run.
    pub fn with_draws(mut self, draws: Arc<dyn ScenarioDraws>) -> Prepared {
        self.draws = Some(draws);
        self
    }

    /// The same, each replication running the draw `kept` finds for it
    /// (`docs/model.md`, "Keeping only the draws the calibration allows");
    /// `judged` when this is the judged scenario, whose result of the kept
    /// draw is then the replication's own.
    pub fn with_kept(mut self, kept: Arc<dyn KeptDraws>, judged: bool) -> Prepared {
        self.kept = Some((kept, judged));
        self
    }

    /// Replication `replication`'s own prepared scenario, when it draws
    /// one: its kept draw's, or draw 0.
    fn drawn(&self, replication: u32) -> Result<Option<Drawn>, Stopped> {
        if self.draws.is_none() {
            return Ok(None);
        }
        let (draw, record, result) = match &self.kept {
            None => (0, None, None),
            Some((kept, judged)) => {
                let k = kept.kept(replication)?;
                (k.record.draw, Some(k.record), k.result.filter(|_| *judged))
            }
        };
        let Some((prepared, overloaded)) = self.drawn_at(replication, draw)? else {
            return Ok(None);
        };
        Ok(Some(Drawn {
            prepared,
            overloaded,
            kept: record,
            result,
        }))
    }

    /// Draw `draw` of replication `replication`, prepared, with the
    /// services its flow balance overloads; `None` without draws.
    pub(crate) fn drawn_at(
        &self,
        replication: u32,
        draw: u32,
    ) -> Result<Option<(Prepared, Vec<&'static str>)>, Stopped> {
        let Some(screened) = self.screen(replication, draw)? else {
            return Ok(None);
        };
        let overloaded = screened.overloaded.clone();
        Ok(Some((self.prepare_screened(screened), overloaded)))
    }

    /// Draw `draw` of replication `replication` and its flow balance, not
    /// yet prepared (a draw its flow balance rejects is never prepared);
    /// `None` without draws.
    pub(crate) fn screen(&self, replication: u32, draw: u32) -> Result<Option<Screened>, Stopped> {
        let Some(draws) = &self.draws else {
            return Ok(None);
        };
        let scenario = draws.scenario(replication, draw).map_err(Stopped::Draw)?;
        // Its flow balance sets its event budget and names the services
        // its draw overloads (`docs/model.md`, "Draws that overload a
        // service").
        let check = super::flow::offered_load(&scenario);
        let mut overloaded: Vec<&'static str> = check.overloaded().map(|s| s.service).collect();
        for year in &check.by_year {
            for s in &year.services {
                if s.verdict() == super::flow::Verdict::Overloaded
                    && !overloaded.contains(&s.service)
                {
                    overloaded.push(s.service);
                }
            }
        }
        let expected = super::flow::expected_events(&scenario, &check);
        Ok(Some(Screened {
            scenario,
            overloaded,
            expected,
        }))
    }

    /// A screened draw, prepared as this scenario is: its own event budget,
    /// this one's counterfactual arms (those it keeps), queue bound, cancel
    /// flag and years.
    pub(crate) fn prepare_screened(&self, screened: Screened) -> Prepared {
        let mut budget = EventBudget::new(screened.expected);
        budget.crises = self.event_budget.crises;
        let mut p = if self.arms.is_empty() {
            Prepared::without_arms(screened.scenario, budget)
        } else {
            let arm_metrics: Vec<Metric> = self.arms.iter().map(|a| a.metric).collect();
            Prepared::with_budget(screened.scenario, budget).keeping_arms(&arm_metrics)
        }
        .with_queue_limit(self.queue_limit);
        if let Some(flag) = &self.cancel {
            p = p.with_cancel(Arc::clone(flag));
        }
        if self.years.is_empty() {
            p.years.clear();
        }
        p
    }

    /// Whether the run was cancelled (Ctrl-C).
    pub(crate) fn is_cancelled(&self) -> bool {
        self.cancel
            .as_ref()
            .is_some_and(|flag| flag.load(Ordering::Relaxed))
    }

    /// The metrics of this scenario's counterfactual arms.
    pub(crate) fn arm_metrics(&self) -> Vec<Metric> {
        self.arms.iter().map(|a| a.metric).collect()
    }

    /// The same, keeping only the counterfactual arms that fill one of
    /// `metrics` (a judged scenario's figures that read one).
    pub fn keeping_arms(mut self, metrics: &[Metric]) -> Prepared {
        self.arms.retain(|a| metrics.contains(&a.metric));
        self
    }

    /// The same, with its counterfactual arms dropped (see
    /// [`Prepared::without_arms`]).
    pub fn without_counterfactuals(mut self) -> Prepared {
        self.arms.clear();
        self
    }

    /// The same, with no results by year (for analyses that read only the
    /// daily series: the warm-up analysis, the backtest).
    pub fn without_years(mut self) -> Prepared {
        self.years.clear();
        self
    }

    /// The event budget of each replication.
    pub fn event_budget(&self) -> EventBudget {
        self.event_budget
    }

    /// Stops a replication when any queue holds more than `limit` patients.
    pub fn with_queue_limit(mut self, limit: usize) -> Prepared {
        self.set_queue_limit(limit);
        self
    }

    fn set_queue_limit(&mut self, limit: usize) {
        self.queue_limit = limit;
        for (_, view) in &mut self.years {
            view.set_queue_limit(limit);
        }
        for arm in &mut self.arms {
            arm.prepared.set_queue_limit(limit);
        }
    }

    /// Stops every replication soon after `flag` is set.
    pub fn with_cancel(mut self, flag: Arc<AtomicBool>) -> Prepared {
        self.set_cancel(&flag);
        self
    }

    fn set_cancel(&mut self, flag: &Arc<AtomicBool>) {
        self.cancel = Some(Arc::clone(flag));
        for (_, view) in &mut self.years {
            view.set_cancel(flag);
        }
        for arm in &mut self.arms {
            arm.prepared.set_cancel(flag);
        }
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
        if let Some(d) = self.drawn(replication)? {
            let (mut result, census) = d.prepared.simulate_with_census(replication)?;
            result.overloaded = d.overloaded;
            result.kept = d.kept;
            return Ok((result, census));
        }
        let mut sim = Sim::new(self, replication, (), Workspace::take(), false);
        sim.run()?;
        let census = sim.census;
        let (mut result, (), workspace) = sim.finish();
        workspace.keep();
        self.run_arms(replication, &mut result)?;
        self.run_years(replication, &mut result)?;
        Ok((result, census))
    }

    /// Runs replication `replication`, telling `tracer` of each [`TraceEvent`]
    /// (for verification: the order of service, bed counts over time).
    pub fn simulate_traced<T: Tracer>(
        &self,
        replication: u32,
        tracer: T,
    ) -> Result<(ReplicationResult, T), Stopped> {
        if let Some(d) = self.drawn(replication)? {
            let (mut result, tracer) = match d.result {
                // The judged scenario's run of this draw is this
                // replication's run: only its arms and years remain.
                Some((mut result, done)) if tracer.is_silent() => {
                    d.prepared
                        .run_arms_except(replication, &mut result, &done)?;
                    d.prepared.run_years(replication, &mut result)?;
                    (result, tracer)
                }
                _ => d.prepared.simulate_traced(replication, tracer)?,
            };
            result.overloaded = d.overloaded;
            result.kept = d.kept;
            return Ok((result, tracer));
        }
        let mut sim = Sim::new(self, replication, tracer, Workspace::take(), false);
        sim.run()?;
        let (mut result, tracer, workspace) = sim.finish();
        workspace.keep();
        self.run_arms(replication, &mut result)?;
        self.run_years(replication, &mut result)?;
        Ok((result, tracer))
    }

    /// Runs replication `replication` of each counterfactual arm and fills
    /// its metric: the arm's admissions minus `result`'s.
    pub(crate) fn run_arms(
        &self,
        replication: u32,
        result: &mut ReplicationResult,
    ) -> Result<(), Stopped> {
        self.run_arms_except(replication, result, &[])
    }

    /// As [`Prepared::run_arms`], leaving the arms whose metric is in
    /// `done` (filled already, by the same arm of the same draw).
    fn run_arms_except(
        &self,
        replication: u32,
        result: &mut ReplicationResult,
        done: &[Metric],
    ) -> Result<(), Stopped> {
        for arm in self.arms.iter().filter(|a| !done.contains(&a.metric)) {
            let without = match arm.prepared.simulate_whole(replication) {
                Ok(r) => r,
                Err(Stopped::Cancelled) => return Err(Stopped::Cancelled),
                Err(reason) => {
                    return Err(Stopped::InArm {
                        service: arm.service,
                        metric: arm.metric.name(),
                        reason: Box::new(reason),
                    });
                }
            };
            result.metrics[arm.metric] = without.metrics[arm.counted] - result.metrics[arm.counted];
        }
        Ok(())
    }

    /// The replication over the whole window only (no results by year).
    pub(crate) fn simulate_whole(&self, replication: u32) -> Result<ReplicationResult, Stopped> {
        let mut sim = Sim::new(self, replication, (), Workspace::take(), false);
        sim.run()?;
        let (result, (), workspace) = sim.finish();
        workspace.keep();
        Ok(result)
    }

    /// With planning years: the replication once more, its statistics window
    /// moving from year to year (`docs/model.md`, "Results by year"), and
    /// its counterfactual arms the same way; fills `result.yearly`.
    fn run_years(&self, replication: u32, result: &mut ReplicationResult) -> Result<(), Stopped> {
        if self.years.is_empty() {
            return Ok(());
        }
        result.yearly = self.simulate_years(replication)?;
        for arm in &self.arms {
            let without = match arm.prepared.simulate_years(replication) {
                Ok(r) => r,
                Err(Stopped::Cancelled) => return Err(Stopped::Cancelled),
                Err(reason) => {
                    return Err(Stopped::InArm {
                        service: arm.service,
                        metric: arm.metric.name(),
                        reason: Box::new(reason),
                    });
                }
            };
            for (year, arm_year) in result.yearly.iter_mut().zip(&without) {
                year[arm.metric] = arm_year[arm.counted] - year[arm.counted];
            }
        }
        Ok(())
    }

    /// Every planning year's metrics of replication `replication`, arms
    /// not included: each is the metrics of a run whose statistics window
    /// is that year.
    fn simulate_years(&self, replication: u32) -> Result<Vec<Metrics>, Stopped> {
        let mut sim = Sim::new(self, replication, (), Workspace::take(), true);
        sim.run()?;
        let (result, (), workspace) = sim.finish();
        workspace.keep();
        Ok(result.yearly)
    }
}

/// Open car-hours of the PRU inside `window` (cars x opening hours, day by
/// day with dated cars): the denominator of `pru_utilisation`.
fn open_car_hours(
    scenario: &Scenario,
    pru_hours: &DatedHours,
    counts: &DatedCounts,
    window: StatsWindow,
) -> f64 {
    match counts.table(Service::PruCars) {
        [] => f64::from(scenario.pru.cars) * pru_hours.open_hours_between(window.start, window.end),
        cars => cars
            .iter()
            .enumerate()
            .map(|(d, &n)| {
                let (a, b) = (
                    (d as f64 * 24.0).max(window.start),
                    (d as f64 * 24.0 + 24.0).min(window.end),
                );
                if b > a {
                    f64::from(n) * pru_hours.open_hours_between(a, b)
                } else {
                    0.0
                }
            })
            .sum(),
    }
}

/// Community nursing places on average over `window` (with dated teams).
fn community_places_mean(scenario: &Scenario, counts: &DatedCounts, window: StatsWindow) -> f64 {
    let caseload = u64::from(scenario.community.caseload_per_team) as f64;
    match counts.changes(Service::CommunityTeams) {
        false => scenario.community_places() as f64,
        true => counts.mean_over(Service::CommunityTeams, 0, window.start, window.end) * caseload,
    }
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
    FrailtyUnitAssessmentEnd {
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
    NextMhCrisis,
    NextMhReferral,
    MhReadmission {
        key: StreamKey,
    },
    MhLiaisonEnd {
        patient: u32,
    },
    MhCrhtEnd {
        patient: u32,
    },
    MhCrhtOpening,
    MhOutOfArea {
        patient: u32,
        generation: u32,
    },
    MhAskPlace {
        patient: u32,
    },
    MhOutOfAreaEnd {
        patient: u32,
    },
    MhSupportedEnd {
        patient: u32,
    },
    MhBedCapacity {
        day: u32,
    },
    NextHomeCareStart,
    HomeCarePackageEnd,
    ServiceCapacity {
        service: Service,
        day: u32,
    },
    /// The end of a planning year when the statistics window moves from
    /// year to year (`yearly.rs`).
    YearEnd,
    /// The next care home placement search may end (stale when
    /// `generation` is not the care homes' current one).
    CareHomeSearchEnd {
        generation: u32,
    },
    /// Dated values change: period `period` of `Prepared::periods` starts.
    DatedValues {
        period: u32,
    },
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
    MhCrisis,
    MhReferral,
    HomeCareStart,
}

impl Timer {
    const COUNT: usize = 8;
}

const NONE: u32 = u32::MAX;

/// A patient on the crisis pathway (and on to rehab).
#[derive(Clone, Debug)]
struct Patient {
    rng: StreamRng,
    key: StreamKey,
    frail: bool,
    /// Treatable at home by the PRU (`docs/model.md`, "Treatable at home").
    treatable: bool,
    /// The care home bed of a resident in crisis, or `NONE`.
    home_bed: u32,
    pathway: Pathway,
    /// Decision to admit.
    admitted_at: f64,
    /// Took an acute bed.
    bed_at: f64,
    /// Medically fit (the end of the length of stay).
    fit_at: f64,
    /// The patient's place in `Workspace::in_bed` while in an acute bed.
    bed_slot: u32,
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
    /// Treatable at home by the PRU (`docs/model.md`, "Treatable at home").
    treatable: bool,
    /// The care home bed of a resident in crisis, or `NONE`.
    home_bed: u32,
}

impl Arrival {
    fn new(key: StreamKey, frail: bool, home_bed: u32) -> Arrival {
        Arrival {
            key,
            rng: StreamRng::new(key),
            frail,
            treatable: false,
            home_bed,
        }
    }
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
    /// The patients in an acute bed, in no order (each knows its slot).
    in_bed: Vec<u32>,
    mh_patients: Vec<MhPatient>,
    mh_free: Vec<u32>,
    mh_bed_queue: VecDeque<u32>,
    mh_crht_queue: VecDeque<u32>,
    mh_supported_queue: VecDeque<u32>,
    /// Patients placed out of area with their generation, earliest first
    /// (only with `repatriate`; entries of patients gone are skipped).
    mh_out_of_area: VecDeque<(u32, u32)>,
    home_care_hospital_queue: VecDeque<u32>,
    home_care_community_queue: VecDeque<Placement>,
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
            in_bed: Vec::with_capacity(1024),
            mh_patients: Vec::new(),
            mh_free: Vec::new(),
            mh_bed_queue: VecDeque::new(),
            mh_crht_queue: VecDeque::new(),
            mh_supported_queue: VecDeque::new(),
            mh_out_of_area: VecDeque::new(),
            home_care_hospital_queue: VecDeque::new(),
            home_care_community_queue: VecDeque::new(),
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
        ws.in_bed.clear();
        ws.mh_patients.clear();
        ws.mh_free.clear();
        ws.mh_bed_queue.clear();
        ws.mh_crht_queue.clear();
        ws.mh_supported_queue.clear();
        ws.mh_out_of_area.clear();
        ws.home_care_hospital_queue.clear();
        ws.home_care_community_queue.clear();
        ws
    }

    /// Keeps this workspace for the thread's next replication.
    fn keep(self) {
        WORKSPACE.set(Some(self));
    }
}

struct Sim<'p, T: Tracer> {
    prepared: &'p Prepared,
    tracer: T,
    sc: &'p Scenario,
    replication: u32,
    now: f64,
    end: f64,
    events: u64,
    /// The storage that grows as the replication runs.
    ws: Workspace,
    /// Per-source stream families, indexed by `StreamSource as usize`.
    families: [StreamFamily; StreamSource::COUNT],

    // Each service's state, in its own module.
    arrivals: Arrivals,
    pru: Pru,
    frailty_unit: FrailtyUnit,
    beds: AcuteBeds,
    community: Community,
    rehab: Rehab,
    care_homes: CareHomes,
    mental_health: MentalHealthState,
    home_care: HomeCareState,

    // Observations shared by the services.
    /// Moving from year to year (`yearly.rs`): the planning years (`p` is
    /// the current one's), the index of the current one, the metrics of
    /// the years closed, and each later year's bed-hours of process delays
    /// already known. Empty otherwise.
    years: &'p [(PlanningYear, Box<Prepared>)],
    year: usize,
    yearly: Vec<Metrics>,
    process_ahead: Vec<f64>,
    counts: Metrics,
    daily: [Vec<f64>; Series::ALL.len()],
    census: Census,
    /// Set when the replication must stop early.
    stopped: Option<Stopped>,
}

impl<'p, T: Tracer> Sim<'p, T> {
    /// A replication ready to run; `by_year`: its statistics window moves
    /// from one planning year to the next (`yearly.rs`).
    fn new(
        prepared: &'p Prepared,
        replication: u32,
        tracer: T,
        mut ws: Workspace,
        by_year: bool,
    ) -> Sim<'p, T> {
        // The scenario in force at time zero (`docs/model.md`, "Dated values").
        let sc = prepared
            .periods
            .first()
            .map_or(&prepared.scenario, |(_, s)| s);
        let stream = |source: StreamSource| {
            StreamRng::new(StreamFamily::new(sc.seed, replication, source as u32).key(0))
        };
        let counts = &prepared.counts;
        let teams = counts.first(Service::CommunityTeams, sc.community.teams);
        let places = u64::from(teams) * u64::from(sc.community.caseload_per_team);
        let expected_admissions = sc.demand.crises_per_day * sc.horizon_hours / 24.0 * 0.5;
        let care_home_beds = prepared
            .counts
            .max(Service::CareHomeBeds, sc.care_homes.beds);
        ws.care_home_beds
            .reserve(care_home_beds.max(sc.care_homes.initial_residents()) as usize);
        ws.care_home_free.reserve(care_home_beds as usize);
        ws.bed_waits
            .reserve(expected_admissions.clamp(0.0, 1e6) as usize);
        let mut sim = Sim {
            prepared,
            tracer,
            sc,
            replication,
            now: 0.0,
            end: prepared.window.end,
            events: 0,
            ws,
            families: std::array::from_fn(|i| StreamFamily::new(sc.seed, replication, i as u32)),
            arrivals: Arrivals::new([
                stream(StreamSource::CrisisTimes),
                stream(StreamSource::ReferralTimes),
                stream(StreamSource::PlacementTimes),
            ]),
            pru: Pru {
                cars: counts.first(Service::PruCars, sc.pru.cars),
                ..Pru::default()
            },
            frailty_unit: FrailtyUnit {
                slots: counts.first(Service::FrailtyUnitSlots, sc.frailty_unit.slots),
                ..FrailtyUnit::default()
            },
            beds: AcuteBeds::new(
                prepared
                    .beds_by_day
                    .first()
                    .copied()
                    .unwrap_or(sc.acute.beds),
            ),
            community: Community::new(places),
            rehab: Rehab {
                beds: counts.first(Service::RehabBeds, sc.rehab.beds),
                ..Rehab::default()
            },
            care_homes: CareHomes {
                beds: counts.first(Service::CareHomeBeds, sc.care_homes.beds),
                ..CareHomes::default()
            },
            mental_health: MentalHealthState::new(
                [
                    stream(StreamSource::MhCrisisTimes),
                    stream(StreamSource::MhReferralTimes),
                ],
                prepared
                    .mh
                    .as_ref()
                    .and_then(|m| m.beds_by_day.first().copied())
                    .unwrap_or(0),
                sc.mental_health
                    .as_ref()
                    .map_or(0, |m| counts.first(Service::CrhtPlaces, m.crht.places)),
            ),
            home_care: HomeCareState::new(
                stream(StreamSource::HomeCareStartTimes),
                sc.home_care
                    .as_ref()
                    .map_or(0, |h| counts.first(Service::HomeCarePackages, h.packages)),
            ),
            years: &[],
            year: 0,
            yearly: Vec::new(),
            process_ahead: Vec::new(),
            counts: Metrics::default(),
            daily: std::array::from_fn(|_| Vec::with_capacity(prepared.days_in_window)),
            census: Census::default(),
            stopped: None,
        };
        if by_year {
            sim.start_years();
        }
        sim.start();
        sim
    }

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
        // Dated values change before anything else at their instant.
        for (k, &(day, _)) in self.prepared.periods.iter().enumerate().skip(1) {
            self.at(
                f64::from(day) * 24.0,
                Event::DatedValues { period: k as u32 },
            );
        }
        // Care homes with their initial residents; the starting patients
        // (`[start]`) in their places; every other service empty.
        self.beds
            .full_level
            .set(0.0, self.full_indicator(), &self.prepared.window);
        self.beds
            .available_level
            .set(0.0, f64::from(self.beds.available), &self.prepared.window);
        self.start_care_homes();
        self.start_patients();
        self.start_home_care();

        // Bed capacity changes, on the days the count changes.
        for day in 1..self.prepared.beds_by_day.len() {
            if self.prepared.beds_by_day[day] != self.prepared.beds_by_day[day - 1] {
                self.at(day as f64 * 24.0, Event::BedCapacity { day: day as u32 });
            }
        }
        self.start_mental_health_beds();
        self.start_service_capacity();
        if self.prepared.days_in_window > 0 {
            self.at_timer(
                Timer::Midnight,
                self.prepared.first_midnight,
                Event::Midnight,
            );
        }
        self.schedule_next_crisis(0.0);
        self.schedule_next_referral(0.0);
        self.schedule_next_placement(0.0);
        self.start_mental_health_arrivals();
        self.start_home_care_arrivals();
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
                    self.arrivals.readmissions += 1;
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
                Event::FrailtyUnitAssessmentEnd { patient } => self.on_frailty_unit_end(t, patient),
                Event::ProcessDelayEnd { patient } => self.request_place(t, patient),
                Event::LeaveHospital { patient } => self.leave_hospital(t, patient),
                Event::RehabStayEnd { patient } => self.on_rehab_stay_end(t, patient),
                Event::CommunityEpisodeEnd => self.on_community_episode_end(t),
                Event::BedCapacity { day } => self.on_bed_capacity(t, day),
                Event::DischargeOpening => self.on_discharge_opening(t),
                Event::Midnight => self.on_midnight(t),
                Event::NextMhCrisis => self.on_next_mh_crisis(t),
                Event::NextMhReferral => self.on_next_mh_referral(t),
                Event::MhReadmission { key } => self.on_mh_readmission(t, key),
                Event::MhLiaisonEnd { patient } => self.on_mh_liaison_end(t, patient),
                Event::MhCrhtEnd { patient } => self.on_crht_end(t, patient),
                Event::MhCrhtOpening => self.on_crht_opening(t),
                Event::MhOutOfArea {
                    patient,
                    generation,
                } => self.on_mh_out_of_area(t, patient, generation),
                Event::MhAskPlace { patient } => self.on_mh_ask_place(t, patient),
                Event::MhOutOfAreaEnd { patient } => self.on_mh_out_of_area_end(t, patient),
                Event::MhSupportedEnd { patient } => self.on_mh_supported_end(t, patient),
                Event::MhBedCapacity { day } => self.on_mh_bed_capacity(t, day),
                Event::NextHomeCareStart => self.on_next_home_care_start(t),
                Event::HomeCarePackageEnd => self.on_home_care_package_end(t),
                Event::ServiceCapacity { service, day } => {
                    self.on_service_capacity(t, service, day)
                }
                Event::YearEnd => self.on_year_end(),
                Event::CareHomeSearchEnd { generation } => {
                    self.on_care_home_search_end(t, generation)
                }
                Event::DatedValues { period } => self.on_dated_values(t, period),
            }
        }
        self.stopped.take().map_or(Ok(()), Err)
    }

    /// Period `period` of the dated values starts: its scenario is the one
    /// every later decision reads.
    #[cold]
    fn on_dated_values(&mut self, t: f64, period: u32) {
        let prepared: &'p Prepared = self.prepared;
        let before = self.sc.care_homes.crises_per_resident_year;
        self.sc = &prepared.periods[period as usize].1;
        if self.sc.care_homes.crises_per_resident_year != before {
            self.resident_crisis_rate_changed(t);
        }
    }

    /// Every [`CANCEL_CHECK_EVENTS`] events: stops on a cancel, past the
    /// event budget or past the crisis limit.
    #[cold]
    fn check_bounds(&self, t: f64) -> Result<(), Stopped> {
        if let Some(flag) = &self.prepared.cancel
            && flag.load(Ordering::Relaxed)
        {
            return Err(Stopped::Cancelled);
        }
        let budget = self.prepared.event_budget;
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
        let crises = self.census.arrived + self.census.mh_arrived;
        if crises > budget.crises {
            return Err(Stopped::TooManyCrises {
                crises,
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
            (self.arrivals.crises, Cause::NewCrises),
            (self.arrivals.readmissions, Cause::Readmissions),
            (self.arrivals.residents_crises, Cause::ResidentsCrises),
            (self.arrivals.referrals, Cause::CommunityReferrals),
            (self.arrivals.placements, Cause::CommunityPlacements),
            (
                self.mental_health.crises
                    + self.mental_health.referrals
                    + self.mental_health.readmissions,
                Cause::MentalHealth,
            ),
        ]
        .into_iter()
        .max_by_key(|&(n, _)| n)
        .map_or(Cause::NewCrises, |(_, cause)| cause)
    }

    /// Stops the replication if a queue has grown past the bound.
    #[inline]
    fn check_queue(&mut self, t: f64, service: &'static str, waiting: usize) {
        let limit = self.prepared.queue_limit;
        if waiting > limit && self.stopped.is_none() {
            self.stopped = Some(Stopped::Overloaded {
                service,
                waiting,
                day: (t / 24.0).floor(),
                limit,
            });
        }
    }

    #[inline]
    fn count(&mut self, t: f64, metric: Metric) {
        if self.prepared.window.contains(t) {
            self.counts[metric] += 1.0;
        }
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

    /// Gives `a` a place in the patient arena.
    fn new_patient(&mut self, a: Arrival) -> u32 {
        let patient = Patient {
            rng: a.rng,
            key: a.key,
            frail: a.frail,
            treatable: a.treatable,
            home_bed: a.home_bed,
            pathway: Pathway::P0,
            admitted_at: 0.0,
            bed_at: 0.0,
            fit_at: 0.0,
            bed_slot: 0,
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

    fn on_midnight(&mut self, t: f64) {
        // The snapshot is taken after every other event due at 00:00 (a
        // discharge opening at midnight, a bed change), whenever those were
        // scheduled: set the timer again at the same instant, behind them.
        if self.ws.queue.next_time() == Some(t) {
            self.at_timer(Timer::Midnight, t, Event::Midnight);
            return;
        }
        let delayed: f64 = self.beds.capacity_level.iter().map(Level::value).sum();
        let fit_before = self.beds.fit_at_midnight;
        self.beds
            .count_at_midnight(t, &self.ws.in_bed, &self.ws.patients);
        self.daily[Series::MidnightCensus.index()].push(f64::from(self.beds.occupied));
        self.daily[Series::DelayedPatients.index()].push(delayed);
        self.daily[Series::CommunityWaitingList.index()].push(self.community.waiting_level.value());
        self.daily[Series::CommunityCaseload.index()].push(self.community.held as f64);
        self.daily[Series::RehabOccupied.index()].push(f64::from(self.rehab.held));
        self.daily[Series::CareHomeResidents.index()].push(f64::from(self.care_homes.held));
        self.daily[Series::MhBedsOccupied.index()].push(f64::from(self.mental_health.occupied));
        self.daily[Series::MhOutOfArea.index()].push(f64::from(self.mental_health.out_of_area));
        self.daily[Series::HomeCarePackages.index()].push(f64::from(self.home_care.held));
        // The sum's step tonight: whole numbers, so exact.
        let fit = self.beds.fit_at_midnight - fit_before;
        self.daily[Series::NctrCount.index()].push(fit);
        self.at_timer(Timer::Midnight, t + 24.0, Event::Midnight);
    }

    fn finish(mut self) -> (ReplicationResult, T, Workspace) {
        let m = self.window_metrics();
        let mut yearly = std::mem::take(&mut self.yearly);
        if self.by_year() {
            yearly.push(m);
        }
        let result = ReplicationResult {
            replication: self.replication,
            metrics: m,
            daily: self.daily,
            events: self.events,
            yearly,
            overloaded: Vec::new(),
            kept: None,
        };
        (result, self.tracer, self.ws)
    }

    /// Every metric over the statistics window, from what was recorded in
    /// it; called at its end. Reorders the bed waits.
    fn window_metrics(&mut self) -> Metrics {
        let w = self.prepared.window;
        let hours = w.hours();
        let mut m = self.counts;
        let mean_level = |l: &Level| l.area_at_end(&w) / hours;
        let bed_days = |l: &Level| l.area_at_end(&w) / 24.0;

        // Defined as the sum of its two parts (docs/model.md), so it is
        // computed here once rather than counted alongside them.
        m[Metric::PruFauSentHome] = m[Metric::PruTreatedAtHome] + m[Metric::FauDischarged];
        m[Metric::PruUtilisation] = if self.prepared.pru_open_car_hours > 0.0 {
            self.pru.busy_level.area_at_end(&w) / self.prepared.pru_open_car_hours
        } else {
            0.0
        };
        m[Metric::BedOccupancyMean] = mean_level(&self.beds.occupied_level);
        m[Metric::BedsFullShare] = mean_level(&self.beds.full_level);
        let available = mean_level(&self.beds.available_level);
        m[Metric::BedOccupancyShare] = ratio_or_zero(m[Metric::BedOccupancyMean], available);

        let census = &self.daily[Series::MidnightCensus.index()];
        m[Metric::MidnightCensusMean] = mean_or_zero(census);
        m[Metric::MidnightCensusP95] = percentile_or_zero(&mut census.clone(), 0.95);
        let midnights = census.len() as f64;
        m[Metric::StrandedCensusMean] = ratio_or_zero(self.beds.stranded_at_midnight, midnights);
        m[Metric::SuperStrandedCensusMean] =
            ratio_or_zero(self.beds.super_stranded_at_midnight, midnights);
        m[Metric::SuperStrandedBedShare] = ratio_or_zero(
            m[Metric::SuperStrandedCensusMean],
            m[Metric::MidnightCensusMean],
        );
        m[Metric::ZeroDayStayShare] = ratio_or_zero(
            self.beds.stays_under_a_day as f64,
            self.beds.stays_ended as f64,
        );
        m[Metric::NctrCensusMean] = ratio_or_zero(self.beds.fit_at_midnight, midnights);
        m[Metric::ReadyToLeaveWaitMeanDays] = self.beds.ready_to_leave.mean();
        m[Metric::BedWaitMeanHours] = mean_or_zero(&self.ws.bed_waits);
        m[Metric::BedWaitP95Hours] = percentile_or_zero(&mut self.ws.bed_waits, 0.95);

        m[Metric::DelayedBedDaysP1] = bed_days(&self.beds.capacity_level[0]);
        m[Metric::DelayedBedDaysP2] = bed_days(&self.beds.capacity_level[1]);
        m[Metric::DelayedBedDaysP3] = bed_days(&self.beds.capacity_level[2]);
        m[Metric::DelayedBedDays] =
            m[Metric::DelayedBedDaysP1] + m[Metric::DelayedBedDaysP2] + m[Metric::DelayedBedDaysP3];
        m[Metric::ProcessDelayBedDays] = bed_days(&self.beds.process_level);
        // Undefined without a population to divide by (an empty cell).
        m[Metric::DelayedPer100kAdults] = match self.sc.adults {
            Some(adults) if adults > 0 => {
                m[Metric::DelayedBedDays] / (hours / 24.0) * 100_000.0 / f64::from(adults)
            }
            _ => f64::NAN,
        };

        m[Metric::CommunityUtilisation] = if self.prepared.community_places_mean > 0.0 {
            mean_level(&self.community.held_level) / self.prepared.community_places_mean
        } else {
            0.0
        };
        m[Metric::CommunityWaitingMean] = mean_level(&self.community.waiting_level);
        m[Metric::CommunityWaitMeanDaysDischarge] =
            self.community.waits[ReferralClass::Discharge.index()].mean();
        m[Metric::CommunityWaitMeanDaysAvoidance] =
            self.community.waits[ReferralClass::Avoidance.index()].mean();
        m[Metric::CommunityWaitMeanDaysCommunity] =
            self.community.waits[ReferralClass::Community.index()].mean();
        m[Metric::RehabOccupancyMean] = mean_level(&self.rehab.level);
        m[Metric::RehabWaitMeanDays] = self.rehab.waits.mean();
        m[Metric::CareHomeOccupancyMean] = mean_level(&self.care_homes.level);
        m[Metric::CareHomeWaitMeanDays] = self.care_homes.waits.mean();
        let resident_years = m[Metric::CareHomeOccupancyMean] * hours / (24.0 * 365.0);
        m[Metric::CareHomeAdmissionsPerResidentYear] =
            ratio_or_zero(self.care_homes.admissions as f64, resident_years);
        self.finish_mental_health(&mut m);
        self.finish_home_care(&mut m);
        m
    }
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

/// `numerator / denominator`, 0 when the denominator is 0 (a share or rate
/// of nothing, as `docs/model.md` defines it).
fn ratio_or_zero(numerator: f64, denominator: f64) -> f64 {
    if denominator > 0.0 {
        numerator / denominator
    } else {
        0.0
    }
}

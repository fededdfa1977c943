//! The steady-state flow balance of the model: offered load per service
//! from the scenario alone, before anything runs (`patientflow check`, the
//! size limits and each replication's event budget use it).
//!
//! A queueing service whose demand exceeds its capacity never settles: its
//! queue grows for as long as the run lasts, and a run of such a plan stops
//! at the queue bound (exit 3). The check predicts that from the scenario by
//! a steady-state **flow balance** of the routing in `docs/model.md`: expected
//! patients per day through each step, times the mean time each holds a
//! place (Little's law), against the places there are.
//!
//! # Remarks: what is exact and what is approximate
//!
//! Exact in expectation: the routing shares, the distribution means, the
//! share of crises arriving while the PRU or the frailty unit is open (from
//! the hour-of-day and day-of-week weights and the opening hours), the mean
//! wait for the discharge hours (averaged over the week), the red bag
//! reduction (estimated from 20,000 draws with a fixed seed).
//!
//! Approximations, each stated so a reader can judge the verdicts:
//! - PRU and frailty unit losses use Erlang B at the *average* load during
//!   opening hours; demand peaks within the day lose a little more.
//! - Month-of-year weights are averaged over the year (a winter peak may
//!   overload a service that is fine on average); bed capacity changes are
//!   ignored (`acute.beds` is the capacity).
//! - No capacity waits: the load is what is offered, not what the queues
//!   would add. So a utilisation >= 1 means "unstable", and one just below 1
//!   still means long queues.
//! - Care home residents' crises use the steady-state occupancy
//!   min(offered load, beds), and ignore the time residents spend away.
//! - PRU conveyances reach the ED at the crisis time (not after the visit)
//!   when deciding whether the frailty unit is open.
//!
//! Readmissions and residents' crises feed back into demand, so the balance
//! is solved by fixed-point iteration, with the readmissions of each group
//! (frail, other) solved in closed form at each step: with `g` the share of
//! a group's crises that come back as readmissions (the loop gain), `g / (1 -
//! g)` readmissions for each new crisis. When the gain once the PRU and the
//! frailty unit are full is 1 or more, readmissions alone sustain an
//! ever-growing flow: the balance diverges, every service downstream is
//! reported overloaded and a run is refused (`experiment::check::size_limits`).

use crate::engine::rng::{StreamKey, StreamRng};
use crate::model::metrics::Metric;
use crate::model::schedule::WeeklySchedule;
use crate::queueing::erlang_b;
use crate::scenario::dist::Dist;
use crate::scenario::{CareHomeStart, OpenDays, Pathway, ReferralClass, Scenario};

/// Utilisation from which a queueing service is reported `high`.
pub const HIGH_UTILISATION: f64 = 0.95;

/// A flow above this (patients a day) is taken as divergence of the balance.
const DIVERGED: f64 = 1e12;

/// How a service treats a patient who finds it full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceKind {
    /// Turns the patient away (PRU, frailty unit): never unstable, only lossy.
    Loss,
    /// Makes the patient wait (beds, places): unstable when overloaded.
    Queue,
}

/// The verdict on one service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Utilisation below [`HIGH_UTILISATION`].
    Ok,
    /// Utilisation at least [`HIGH_UTILISATION`] but below 1: long queues.
    High,
    /// Utilisation at least 1 (a queueing service): the queue grows without bound.
    Overloaded,
    /// A loss service at or above [`HIGH_UTILISATION`]: it turns many away,
    /// which is a result, not a failure.
    Busy,
}

impl Verdict {
    /// The verdict as the `check` table prints it.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::High => "high",
            Verdict::Overloaded => "OVERLOADED",
            Verdict::Busy => "busy",
        }
    }
}

/// Offered load on one service.
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceLoad {
    /// As the run names it when its queue overflows.
    pub service: &'static str,
    /// Whether the service turns patients away or makes them wait.
    pub kind: ServiceKind,
    /// Mean places that demand would hold (erlangs); for a loss service,
    /// during its opening hours.
    pub offered: f64,
    /// Places: cars, slots, beds, caseload places.
    pub capacity: f64,
    /// For a loss service: the share of patients arriving while it is open
    /// whom it turns away (Erlang B).
    pub loss_share: Option<f64>,
}

impl ServiceLoad {
    /// Offered / capacity: 0 for no demand, infinite for demand and no places.
    pub fn utilisation(&self) -> f64 {
        if self.offered <= 0.0 {
            0.0
        } else if self.capacity <= 0.0 {
            f64::INFINITY
        } else {
            self.offered / self.capacity
        }
    }

    /// The verdict on this service's [`utilisation`](Self::utilisation).
    pub fn verdict(&self) -> Verdict {
        // NaN (a divergent balance) fails every comparison: overloaded.
        let u = self.utilisation();
        match self.kind {
            ServiceKind::Loss if u >= HIGH_UTILISATION => Verdict::Busy,
            ServiceKind::Loss => Verdict::Ok,
            ServiceKind::Queue if u < HIGH_UTILISATION => Verdict::Ok,
            ServiceKind::Queue if u < 1.0 => Verdict::High,
            ServiceKind::Queue => Verdict::Overloaded,
        }
    }
}

/// Expected patients per day at each step, in steady state.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Flows {
    /// Every source: new crises, residents' crises, readmissions.
    pub crises: f64,
    /// Crises of care home residents in their beds.
    pub residents_crises: f64,
    /// Readmissions (return crises after leaving hospital).
    pub readmissions: f64,
    /// PRU visits.
    pub pru_visits: f64,
    /// Emergency department attendances.
    pub ed_attendances: f64,
    /// Patients assessed in the frailty unit.
    pub fau_assessed: f64,
    /// Emergency admissions to acute beds.
    pub admissions: f64,
    /// Non-resident admissions leaving on P0..P3.
    pub pathway: [f64; 4],
    /// Community referrals by class, [`ReferralClass::index`] order.
    pub referrals: [f64; 3],
    /// Care home placements (from hospital and from the community).
    pub care_home_placements: f64,
    /// Mean hours from medically fit to the next discharge opening.
    pub discharge_wait_hours: f64,
}

/// The result of [`offered_load`].
#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    /// The offered load on each service, in the order `check` prints them.
    pub services: Vec<ServiceLoad>,
    /// The expected flows behind them.
    pub flows: Flows,
    /// The mental health system's flows (zero without one).
    pub mental_health: MhFlows,
    /// False when readmissions make the balance diverge.
    pub converged: bool,
    /// The readmission loop gain of frail and other patients once the PRU
    /// and the frailty unit are full: the share of a group's crises that
    /// come back as readmissions. The balance diverges when one is at least
    /// 1 (for a group with new crises).
    pub readmission_gain: [f64; 2],
    /// With the care home placement search: its mean in days at the beds
    /// left free by the offered load (`search_at_one_free_bed` / (beds -
    /// offered load)); infinite when no bed is left free. `None` without
    /// the search.
    pub care_home_search_days: Option<f64>,
    /// For a scenario that grows or changes counts on dates and whose window
    /// is longer than a year: the offered load of each planning year of the
    /// window (`docs/model.md`, "Years ahead in the flow balance"); empty
    /// otherwise.
    pub by_year: Vec<YearLoad>,
}

/// The offered load on each service in one planning year.
#[derive(Clone, Debug, PartialEq)]
pub struct YearLoad {
    /// `"2026/27"`.
    pub label: String,
    /// As [`Check::services`], over that year.
    pub services: Vec<ServiceLoad>,
}

impl Check {
    /// The balance diverged because readmissions feed themselves (a loop
    /// gain of 1 or more), rather than overflowing for sheer demand.
    pub fn readmissions_diverge(&self) -> bool {
        let [frail, other] = self.readmission_gain;
        !self.converged && (frail >= 1.0 || other >= 1.0)
    }

    /// Queueing services at utilisation >= 1.
    pub fn overloaded(&self) -> impl Iterator<Item = &ServiceLoad> {
        self.services
            .iter()
            .filter(|s| s.verdict() == Verdict::Overloaded)
    }
}

/// Share of a week's demand (hour-of-day x day-of-week weights) arriving
/// while `schedule` is open, and the mean demand rate per hour, relative to
/// the weekly average, during the open hours. (0, 0) when never open.
fn open_demand(sc: &Scenario, schedule: &WeeklySchedule) -> (f64, f64) {
    let hours = &sc.demand.hour_of_day;
    let days = &sc.demand.day_of_week;
    let mean_h = hours.iter().sum::<f64>() / 24.0;
    let mean_d = days.iter().sum::<f64>() / 7.0;
    let (mut demand_open, mut demand_all, mut open_hours) = (0.0, 0.0, 0.0);
    for h in 0..168 {
        let weekday = sc.start_date.add_days(h / 24).weekday();
        let w = hours[(h % 24) as usize] / mean_h * days[weekday.index()] / mean_d;
        let t = h as f64;
        let open = schedule.open_hours_between(t, t + 1.0);
        demand_all += w;
        demand_open += w * open;
        open_hours += open;
    }
    if open_hours <= 0.0 || demand_all <= 0.0 {
        return (0.0, 0.0);
    }
    (demand_open / demand_all, demand_open / open_hours)
}

/// A loss service: share of its arrivals in open hours, offered erlangs
/// while open, and the share of those turned away.
struct LossService {
    open_share: f64,
    relative_rate_open: f64,
    mean_hours: f64,
    servers: u32,
}

impl LossService {
    fn new(
        sc: &Scenario,
        open: crate::scenario::calendar::ClockWindow,
        days: &OpenDays,
        service: &Dist,
        servers: u32,
    ) -> Self {
        let (open_share, relative_rate_open) =
            open_demand(sc, &WeeklySchedule::service(sc.start_date, open, days));
        LossService {
            open_share,
            relative_rate_open,
            mean_hours: service.mean(),
            servers,
        }
    }

    /// (offered erlangs while open, loss share while open) for `per_day` arrivals.
    fn load(&self, per_day: f64) -> (f64, f64) {
        let offered = per_day / 24.0 * self.relative_rate_open * self.mean_hours;
        let loss = if self.servers == 0 || !offered.is_finite() {
            1.0
        } else {
            erlang_b(self.servers, offered)
        };
        (offered, loss)
    }

    /// Share of all arrivals served, for a loss share while open of `loss`.
    fn served_share(&self, loss: f64) -> f64 {
        self.open_share * (1.0 - loss)
    }

    /// Share of all arrivals served as arrivals grow without bound: none
    /// when a visit takes time (all places are busy), else every arrival
    /// while open (a visit of no time holds no place).
    fn served_share_saturated(&self) -> f64 {
        if self.servers > 0 && self.mean_hours == 0.0 {
            self.open_share
        } else {
            0.0
        }
    }
}

/// Mean hours from an instant uniform over the week to the next discharge
/// opening (0 inside the hours); infinite when there are none.
fn mean_discharge_wait(sc: &Scenario) -> f64 {
    let schedule = WeeklySchedule::discharge(
        sc.start_date,
        sc.acute.discharge_hours,
        sc.acute.weekend_discharge_hours,
    );
    // Minute steps: windows are whole minutes, so this is exact to a minute.
    let steps = 168 * 60;
    let mut total = 0.0;
    for i in 0..steps {
        let t = f64::from(i) / 60.0;
        match schedule.next_open(t) {
            Some(open) => total += open - t,
            None => return f64::INFINITY,
        }
    }
    total / f64::from(steps)
}

/// Mean acute stay of a care home resident under the red bag scheme (the
/// model's rule: a stay of at least `min_los` is cut by `los_reduction`, never
/// below `min_los`), estimated from fixed-seed draws.
fn resident_los_mean(sc: &Scenario) -> f64 {
    let los = &sc.acute.los_frail;
    let Some(rb) = &sc.care_homes.red_bag else {
        return los.mean();
    };
    const DRAWS: u32 = 20_000;
    let mut rng = StreamRng::new(StreamKey(0x4348_4543_4b00_0001));
    let mut total = 0.0;
    for _ in 0..DRAWS {
        let x = los.sample(&mut rng);
        total += if x >= rb.min_los_hours {
            (x - rb.los_reduction_hours).max(rb.min_los_hours)
        } else {
            x
        };
    }
    total / f64::from(DRAWS)
}

/// The queueing services, in the order [`offered_load`] lists them, each
/// with the metrics that measure its queue: the waits for it, the places
/// it holds, and the patients held in an acute bed while they wait for it
/// (with, when the third field is true, the [`DELAY_TOTALS`] these feed).
/// When a service is [`Verdict::Overloaded`] its queue grows through the
/// run, so these metrics of that plan do not settle: their value depends on
/// how long the run lasts, and the reports mark them (`docs/model.md`, the
/// flow balance).
pub const QUEUES: [(&str, &[Metric], bool); 7] = {
    use Metric::*;
    [
        (
            "acute beds",
            &[
                BedOccupancyMean,
                BedOccupancyShare,
                MidnightCensusMean,
                MidnightCensusP95,
                BedsFullShare,
                BedWaitMeanHours,
                BedWaitP95Hours,
                BedWaitsOver4h,
                BedWaitsOver12h,
            ],
            false,
        ),
        (
            "community nursing",
            &[
                CommunityUtilisation,
                CommunityWaitingMean,
                CommunityWaitMeanDaysDischarge,
                CommunityWaitMeanDaysAvoidance,
                CommunityWaitMeanDaysCommunity,
                DelayedPatientsP1,
                DelayedBedDaysP1,
            ],
            true,
        ),
        (
            "rehab beds",
            &[
                RehabOccupancyMean,
                RehabWaitMeanDays,
                DelayedPatientsP2,
                DelayedBedDaysP2,
            ],
            true,
        ),
        (
            "care home beds",
            &[
                CareHomeOccupancyMean,
                CareHomeWaitMeanDays,
                DelayedPatientsP3,
                DelayedBedDaysP3,
            ],
            true,
        ),
        ("CRHT", &[MhCrhtUtilisation], false),
        (
            "supported accommodation",
            &[
                MhSupportedAccommodationWaitMeanDays,
                MhDelayedPatients,
                MhDelayedBedDays,
            ],
            false,
        ),
        (
            "home care",
            &[
                HomeCareUtilisation,
                HomeCareWaitMeanDays,
                DelayedPatientsP1,
                DelayedBedDaysP1,
            ],
            true,
        ),
    ]
};

/// The mental health system's steady-state flows (`docs/model.md`,
/// "Mental health", "In the flow balance"), per day.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MhFlows {
    /// Crises at the ED, readmissions included.
    pub ed: f64,
    /// Readmissions (each also a crisis at the ED).
    pub readmissions: f64,
    /// Community referrals to CRHT.
    pub referrals: f64,
    /// CRHT episodes started.
    pub crht_episodes: f64,
    /// Decisions to admit to a mental health bed.
    pub admissions: f64,
    /// CRHT: offered places (erlangs), and the share of referrals admitted
    /// because it is closed or full (`when_full = "admit"`).
    crht_offered: f64,
    crht_loss: f64,
    beds_offered: f64,
    supported_offered: f64,
    /// Patients going on to a care home bed.
    pub care_home_placements: f64,
    /// False when readmissions feed themselves without bound.
    pub converged: bool,
}

/// The mental health flows of `sc` (all zero without `[mental_health]`).
pub fn mental_health_flows(sc: &Scenario) -> MhFlows {
    let Some(mh) = &sc.mental_health else {
        return MhFlows {
            converged: true,
            ..MhFlows::default()
        };
    };
    let schedule =
        WeeklySchedule::service(sc.start_date, mh.crht.open, &crate::scenario::EVERY_DAY);
    let open_share = schedule.open_hours_between(0.0, 168.0) / 168.0;
    let episode = mh.crht.episode.mean();
    let stay = mh.stay.mean() + mh.process_delay.as_ref().map_or(0.0, Dist::mean);
    let leave_home = mh.pathways[0] + mh.pathways[1];
    let readmit = mh.readmission.map_or(0.0, |r| r.share);
    let mut f = MhFlows::default();
    let mut readm = 0.0;
    for _ in 0..500 {
        let ed = mh.crises_per_day + readm;
        let refs = ed * mh.ed_crht_share + mh.referrals_per_day;
        let offered = refs * episode / 24.0;
        let loss = if mh.crht.wait_when_full {
            0.0
        } else if mh.crht.places == 0 || !offered.is_finite() {
            1.0
        } else {
            1.0 - open_share * (1.0 - erlang_b(mh.crht.places, offered * open_share))
        };
        let episodes = refs * (1.0 - loss);
        let admissions = ed * mh.ed_admit_share + episodes * mh.crht.escalation_share + refs * loss;
        // Patients placed out of area (the local beds' Erlang B share) leave
        // from there for home, with no pathway (docs/model.md, "Out of
        // area"): only those in local beds go on to supported accommodation
        // or a care home; every leaver for home or supported accommodation
        // may come back.
        let beds_offered = admissions * stay / 24.0;
        let local = if mh.beds == 0 || !beds_offered.is_finite() {
            0.0
        } else {
            1.0 - erlang_b(mh.beds, beds_offered)
        };
        let next = admissions * (local * leave_home + (1.0 - local)) * readmit;
        f = MhFlows {
            ed,
            readmissions: readm,
            referrals: mh.referrals_per_day,
            crht_episodes: episodes,
            admissions,
            crht_offered: offered,
            crht_loss: loss,
            beds_offered,
            supported_offered: admissions * local * mh.pathways[1] * mh.supported_stay.mean()
                / 24.0,
            care_home_placements: admissions * local * mh.pathways[2],
            converged: false,
        };
        let change = (next - readm).abs();
        readm = next;
        if !next.is_finite() || next >= DIVERGED {
            break;
        }
        if change <= 1e-9 * (1.0 + ed) {
            f.converged = true;
            break;
        }
    }
    f
}

/// The totals that every queue of patients ready to leave an acute bed
/// feeds (pathways P1 to P3 and home care): they grow with any of them.
pub const DELAY_TOTALS: [Metric; 4] = [
    Metric::DelayedBedDays,
    Metric::DelayedPer100kAdults,
    Metric::NctrCensusMean,
    Metric::ReadyToLeaveWaitMeanDays,
];

/// The metrics that measure `service`'s queue (see [`QUEUES`]), its own
/// then the [`DELAY_TOTALS`] it feeds; none for a loss service or an
/// unknown name.
pub fn queue_metrics(service: &str) -> Vec<Metric> {
    QUEUES
        .iter()
        .find(|(name, ..)| *name == service)
        .map_or_else(Vec::new, |&(_, own, delays)| {
            let totals: &[Metric] = if delays { &DELAY_TOTALS } else { &[] };
            [own, totals].concat()
        })
}

/// Offered load per service, from the scenario alone. See the module docs
/// for what is approximate. A scenario that grows or changes counts on
/// dates is balanced over the last year of its run
/// ([`crate::model::years::balance_view`]).
pub fn offered_load(sc: &Scenario) -> Check {
    use crate::model::years::{balance_view, balance_view_between, has_years};
    if !has_years(sc) {
        return offered_load_flat(sc);
    }
    let mut check = offered_load_flat(&balance_view(sc, false));
    let end = sc.warm_up_hours + sc.horizon_hours;
    check.by_year =
        crate::model::planning_years::planning_years(sc.start_date, sc.warm_up_hours, end)
            .into_iter()
            .map(|y| YearLoad {
                services: offered_load_flat(&balance_view_between(sc, y.start_hours, y.end_hours))
                    .services,
                label: y.label,
            })
            .collect();
    check
}

fn offered_load_flat(sc: &Scenario) -> Check {
    let pru = LossService::new(sc, sc.pru.open, &sc.pru.days, &sc.pru.visit, sc.pru.cars);
    let frailty_unit = LossService::new(
        sc,
        sc.frailty_unit.open,
        &sc.frailty_unit.days,
        &sc.frailty_unit.assessment,
        sc.frailty_unit.slots,
    );
    let wait = mean_discharge_wait(sc);
    let mh = mental_health_flows(sc);
    let los_frail = sc.acute.los_frail.mean();
    let los_other = sc.acute.los_other.mean();
    let los_resident = resident_los_mean(sc);
    let delay = |p: usize| {
        sc.pathways.process_delay[p]
            .as_ref()
            .map_or(0.0, Dist::mean)
    };
    let post_fit = |shares: &[f64; 4]| {
        shares[1] * delay(0) + shares[2] * delay(1) + shares[3] * delay(2) + wait
    };
    let readmit = sc.readmission.map_or([0.0; 3], |r| [r.p0, r.p1, r.p2]);
    let episode = |c: ReferralClass| sc.community.episode[c.index()].mean();
    let rehab_stay = sc.rehab.stay.mean();
    let care_stay = sc.care_homes.stay.mean();
    let care_beds = f64::from(sc.care_homes.beds);

    // Readmissions per crisis of each group that leaves hospital, and the
    // loop gain of each group for a PRU and frailty unit serving these shares.
    let f = &sc.pathways.frail;
    let o = &sc.pathways.other;
    let readmitted_frail = f[0] * readmit[0] + f[1] * readmit[1] + f[2] * readmit[2];
    let readmitted_other = o[0] * readmit[0] + o[1] * readmit[1] + o[2] * readmit[2];
    let gains = |pru_served: f64, frailty_unit_served: f64| {
        let frail_admit = (1.0 - frailty_unit_served) * sc.ed.frail_admit_share
            + frailty_unit_served * (1.0 - sc.frailty_unit.discharged_same_day);
        [
            admitted_per_crisis(sc, pru_served, frail_admit) * readmitted_frail,
            admitted_per_crisis(sc, pru_served, sc.ed.other_admit_share) * readmitted_other,
        ]
    };
    let readmission_gain = gains(
        pru.served_share_saturated(),
        frailty_unit.served_share_saturated(),
    );
    let new_crises = [
        sc.demand.crises_per_day * sc.demand.frail_share,
        sc.demand.crises_per_day * (1.0 - sc.demand.frail_share),
    ];
    // NaN gains (a broken balance) diverge too.
    let diverges = (0..2).any(|g| {
        new_crises[g] > 0.0 && (readmission_gain[g] >= 1.0 || readmission_gain[g].is_nan())
    });

    // Unknowns of the fixed point: readmissions by group, residents in bed.
    let (mut readm_frail, mut readm_other) = (0.0, 0.0);
    let mut residents = starting_residents(sc);
    let mut converged = false;
    let mut flows = Flows::default();
    let mut loads = [0.0; 4];
    let (mut pru_load, mut frailty_unit_load) = ((0.0, 0.0), (0.0, 0.0));
    for _ in 0..500 {
        let new_frail = sc.demand.crises_per_day * sc.demand.frail_share;
        let new_other = sc.demand.crises_per_day * (1.0 - sc.demand.frail_share);
        let resident_crises = residents * sc.care_homes.crises_per_resident_year / 365.0;
        let frail = new_frail + readm_frail;
        let other = new_other + readm_other;
        let crises = frail + other + resident_crises;

        let eligible = crises * sc.pru.eligible_share;
        pru_load = pru.load(eligible);
        let pru_served = pru.served_share(pru_load.1);
        let pru_visits = eligible * pru_served;
        // Per crisis of any group: PRU treated at home.
        let treated = sc.pru.eligible_share * pru_served * sc.pru.treated_at_home;
        let ed = crises * (1.0 - treated);
        let frail_ed = (frail + resident_crises) * (1.0 - treated);
        frailty_unit_load = frailty_unit.load(frail_ed);
        let frailty_unit_served = frailty_unit.served_share(frailty_unit_load.1);
        let frail_admit = (1.0 - frailty_unit_served) * sc.ed.frail_admit_share
            + frailty_unit_served * (1.0 - sc.frailty_unit.discharged_same_day);
        let a_frail = frail * admitted_per_crisis(sc, pru_served, frail_admit);
        let a_resident = resident_crises * admitted_per_crisis(sc, pru_served, frail_admit);
        let a_other = other * admitted_per_crisis(sc, pru_served, sc.ed.other_admit_share);

        let pathway: [f64; 4] = std::array::from_fn(|k| a_frail * f[k] + a_other * o[k]);
        let avoidance = crises * treated * sc.pru.community_follow_up
            + frail_ed
                * frailty_unit_served
                * sc.frailty_unit.discharged_same_day
                * sc.frailty_unit.community_follow_up;
        let p1 = pathway[Pathway::P1.index()];
        let p2 = pathway[Pathway::P2.index()];
        let p3 = pathway[Pathway::P3.index()];
        let after_rehab = p2 * sc.rehab.community_follow_up;
        // With home care, P1 patients are referred to community nursing
        // from home, a share of them, when they leave hospital.
        let p1_referred = sc
            .home_care
            .as_ref()
            .map_or(p1, |hc| p1 * hc.community_follow_up);
        let referrals = [
            p1_referred + after_rehab,
            avoidance,
            sc.community.referrals_per_day,
        ];
        let placements = p3 + sc.care_homes.community_placements_per_day + mh.care_home_placements;

        loads = [
            a_frail * (los_frail + post_fit(f))
                + a_resident * (los_resident + wait)
                + a_other * (los_other + post_fit(o)),
            // A place is held from the grant, so P1 patients hold it while
            // they wait for the discharge hours.
            match sc.home_care {
                None => p1 * (episode(ReferralClass::Discharge) + wait),
                Some(_) => p1_referred * episode(ReferralClass::Discharge),
            } + after_rehab * episode(ReferralClass::Discharge)
                + avoidance * episode(ReferralClass::Avoidance)
                + sc.community.referrals_per_day * episode(ReferralClass::Community),
            p2 * (rehab_stay + wait),
            placements * care_stay + p3 * wait,
        ]
        .map(|hours_per_day| hours_per_day / 24.0);

        // Readmissions at these PRU and frailty unit shares: the closed form
        // new x g / (1 - g) for a gain below 1, else one more round of the loop.
        let gain = gains(pru_served, frailty_unit_served);
        let next = |g: usize, readmitted: f64, gain: f64, admitted: f64| {
            if gain < 1.0 {
                new_crises[g] * gain / (1.0 - gain)
            } else {
                admitted * readmitted
            }
        };
        let next_frail = next(0, readmitted_frail, gain[0], a_frail);
        let next_other = next(1, readmitted_other, gain[1], a_other);
        let next_residents = loads[3].min(care_beds);
        flows = Flows {
            crises,
            residents_crises: resident_crises,
            readmissions: readm_frail + readm_other,
            pru_visits,
            ed_attendances: ed,
            fau_assessed: frail_ed * frailty_unit_served,
            admissions: a_frail + a_resident + a_other,
            pathway,
            referrals,
            care_home_placements: placements,
            discharge_wait_hours: wait,
        };
        let change = (next_frail - readm_frail).abs()
            + (next_other - readm_other).abs()
            + (next_residents - residents).abs();
        readm_frail = next_frail;
        readm_other = next_other;
        residents = next_residents;
        // NaN (a broken balance) stops the iteration too.
        if crises.is_nan() || crises >= DIVERGED {
            break;
        }
        if change <= 1e-9 * (1.0 + crises) {
            converged = true;
            break;
        }
    }
    // A fixed point found at loads where the PRU or the frailty unit turn
    // readmissions back is not steady: a run of more readmissions fills them,
    // and from there readmissions grow without bound.
    converged &= !diverges && mh.converged;
    if !converged {
        // Demand that feeds itself without bound: every downstream service
        // is overloaded (NaN utilisation is reported as such).
        loads = [f64::INFINITY; 4];
    }
    let queue = |service, offered, capacity: f64| ServiceLoad {
        service,
        kind: ServiceKind::Queue,
        offered,
        capacity,
        loss_share: None,
    };
    let mut services = vec![
        ServiceLoad {
            service: "physician response unit",
            kind: ServiceKind::Loss,
            offered: pru_load.0,
            capacity: f64::from(sc.pru.cars),
            loss_share: Some(pru_load.1),
        },
        ServiceLoad {
            service: "frailty unit",
            kind: ServiceKind::Loss,
            offered: frailty_unit_load.0,
            capacity: f64::from(sc.frailty_unit.slots),
            loss_share: Some(frailty_unit_load.1),
        },
        queue(QUEUES[0].0, loads[0], f64::from(sc.acute.beds)),
        queue(QUEUES[1].0, loads[1], sc.community_places() as f64),
        queue(QUEUES[2].0, loads[2], f64::from(sc.rehab.beds)),
        queue(QUEUES[3].0, loads[3], care_beds),
    ];
    if let Some(hc) = &sc.home_care {
        // A package is held from the grant, so P1 patients hold it while
        // they wait for the discharge hours.
        let offered = if converged {
            (flows.pathway[Pathway::P1.index()] * (hc.package.mean() + wait)
                + hc.community_starts_per_day * hc.package.mean())
                / 24.0
        } else {
            f64::INFINITY
        };
        services.push(queue(QUEUES[6].0, offered, f64::from(hc.packages)));
    }
    if let Some(m) = &sc.mental_health {
        let mh_loads = if converged {
            [mh.beds_offered, mh.crht_offered, mh.supported_offered]
        } else {
            [f64::INFINITY; 3]
        };
        let beds_loss = if m.beds == 0 || !mh_loads[0].is_finite() {
            1.0
        } else {
            erlang_b(m.beds, mh_loads[0])
        };
        services.push(ServiceLoad {
            service: "mental health beds",
            kind: ServiceKind::Loss,
            offered: mh_loads[0],
            capacity: f64::from(m.beds),
            loss_share: Some(beds_loss),
        });
        services.push(if m.crht.wait_when_full {
            let open =
                WeeklySchedule::service(sc.start_date, m.crht.open, &crate::scenario::EVERY_DAY)
                    .open_hours_between(0.0, 168.0);
            queue(
                QUEUES[4].0,
                mh_loads[1],
                if open > 0.0 {
                    f64::from(m.crht.places)
                } else {
                    0.0
                },
            )
        } else {
            ServiceLoad {
                service: QUEUES[4].0,
                kind: ServiceKind::Loss,
                offered: mh_loads[1],
                capacity: f64::from(m.crht.places),
                loss_share: Some(mh.crht_loss),
            }
        });
        services.push(queue(
            QUEUES[5].0,
            mh_loads[2],
            f64::from(m.supported_places),
        ));
    }
    let care_home_search_days = sc.care_homes.search_hours.map(|d| {
        let free = care_beds - loads[3];
        if free > 0.0 {
            d / 24.0 / free
        } else {
            f64::INFINITY
        }
    });
    Check {
        services,
        flows,
        mental_health: mh,
        converged,
        readmission_gain,
        care_home_search_days,
        by_year: Vec::new(),
    }
}

/// The arrivals a day (patients per day) of each source of work, with the
/// care home residents' crises at the larger of the initial and the
/// steady-state occupancy (a run starts with its initial residents, and many
/// more of them than the steady state would keep take a while to leave).
pub(crate) struct ArrivalRates {
    new_crises: f64,
    readmissions: f64,
    residents_crises: f64,
    referrals: f64,
    placements: f64,
    mental_health: f64,
    home_care_starts: f64,
}

impl ArrivalRates {
    pub(crate) fn new(sc: &Scenario, check: &Check) -> ArrivalRates {
        let f = &check.flows;
        let initial = starting_residents(sc);
        let initial_crises = initial * sc.care_homes.crises_per_resident_year / 365.0;
        ArrivalRates {
            new_crises: sc.demand.crises_per_day,
            readmissions: f.readmissions,
            residents_crises: f.residents_crises.max(initial_crises),
            referrals: sc.community.referrals_per_day,
            placements: sc.care_homes.community_placements_per_day,
            mental_health: check.mental_health.ed + check.mental_health.referrals,
            home_care_starts: sc
                .home_care
                .as_ref()
                .map_or(0.0, |hc| hc.community_starts_per_day),
        }
    }

    /// Crises a day, from every source.
    pub(crate) fn crises(&self) -> f64 {
        self.new_crises + self.readmissions + self.residents_crises + self.mental_health
    }

    /// Residents' crises a day beyond those of the flow balance.
    pub(crate) fn extra_residents_crises(&self, check: &Check) -> f64 {
        self.residents_crises - check.flows.residents_crises
    }

    /// The key of the largest source of crises.
    pub(crate) fn largest_crisis_source(&self) -> &'static str {
        largest_of(&[
            (self.new_crises, "demand.crises_per_day"),
            (self.readmissions, "readmission"),
            (self.residents_crises, "care_homes.crises_per_resident_year"),
            (self.mental_health, "mental_health.crises_per_day"),
        ])
    }

    /// The key of the largest source of work.
    pub(crate) fn largest(&self) -> &'static str {
        largest_of(&[
            (self.new_crises, "demand.crises_per_day"),
            (self.readmissions, "readmission"),
            (self.residents_crises, "care_homes.crises_per_resident_year"),
            (self.referrals, "community.referrals_per_day"),
            (self.placements, "care_homes.community_placements_per_day"),
            (self.mental_health, "mental_health.crises_per_day"),
            (self.home_care_starts, "home_care.community_starts_per_day"),
        ])
    }
}

/// The key of the largest value (NaN counts as largest; the first on a tie).
fn largest_of(values: &[(f64, &'static str)]) -> &'static str {
    let mut best = values[0];
    for &v in &values[1..] {
        if v.0 > best.0 || (v.0.is_nan() && !best.0.is_nan()) {
            best = v;
        }
    }
    best.1
}

/// Events a replication is expected to handle, warm-up included, from the
/// flow balance: each arrival (crisis, referral, placement) is an event; a
/// PRU visit, a frailty unit assessment, a rehab stay, a community episode
/// and a care home stay end with one; an admission takes at most two (the
/// end of the process delay and leaving, which for most is shared by all who
/// leave at one opening of the discharge hours); a care home stay may leave
/// one stale crisis behind; midnight, the discharge opening and bed changes
/// are at most three a day. Residents' crises count at the larger of the
/// initial and the steady-state occupancy, each with the events of an
/// admission; the initial residents' stays end with two events each.
/// Infinite or NaN when the balance diverges.
pub fn expected_events(sc: &Scenario, check: &Check) -> f64 {
    // With growth, every day of the run at the largest rates (an upper
    // bound, as a budget must be).
    if crate::model::years::has_years(sc) {
        let peak = crate::model::years::balance_view(sc, true);
        return expected_events_flat(&peak, &offered_load_flat(&peak));
    }
    expected_events_flat(sc, check)
}

fn expected_events_flat(sc: &Scenario, check: &Check) -> f64 {
    if !check.converged {
        return f64::INFINITY;
    }
    let f = &check.flows;
    let sources = ArrivalRates::new(sc, check);
    let per_day = f.crises
        + f.pru_visits
        + f.fau_assessed
        + 2.0 * f.admissions
        + f.referrals.iter().sum::<f64>()
        + sc.community.referrals_per_day
        + f.pathway[Pathway::P2.index()]
        + 2.0 * f.care_home_placements
        + sc.care_homes.community_placements_per_day
        + 4.0 * sources.extra_residents_crises(check)
        + 3.0
        + mental_health_events(check)
        + home_care_events(sc, check);
    let days = (sc.warm_up_hours + sc.horizon_hours) / 24.0;
    let initial = starting_residents(sc)
        + sc.home_care
            .as_ref()
            .map_or(0.0, |hc| f64::from(hc.initial_packages) / 2.0);
    per_day * days + 2.0 * initial
}

/// Mental health events a day: a crisis at the ED and the end of its
/// liaison assessment; a referral; a CRHT episode's end; an admission's
/// deadline, stay end and leaving; a supported accommodation stay's end; a
/// CRHT opening and a bed change at most a day. 0 without a mental health
/// system.
fn mental_health_events(check: &Check) -> f64 {
    let m = &check.mental_health;
    if m.ed + m.referrals <= 0.0 {
        return 0.0;
    }
    2.0 * m.ed + m.referrals + m.crht_episodes + 3.0 * m.admissions + m.admissions + 2.0
}

/// Home care events a day: a start from the community and its package's
/// end; a P1 patient's package end. 0 without home care.
fn home_care_events(sc: &Scenario, check: &Check) -> f64 {
    sc.home_care.as_ref().map_or(0.0, |hc| {
        2.0 * hc.community_starts_per_day + check.flows.pathway[Pathway::P1.index()]
    })
}

/// Care home residents at time zero, as the balance counts them (a share of
/// the beds is not rounded here: it is a starting guess and a bound).
fn starting_residents(sc: &Scenario) -> f64 {
    match sc.care_homes.start {
        CareHomeStart::Residents(n) => f64::from(n),
        CareHomeStart::Occupancy(share) => f64::from(sc.care_homes.beds) * share,
    }
}

/// Admissions per crisis of a group admitted with `share` in the ED (the
/// frailty unit's part folded in), when the PRU serves `pru_served` of the
/// eligible crises: the crises that reach the ED, and with
/// `ed.home_treatable_admit_share` (`docs/model.md`, "Treatable at home")
/// the treatable ones the PRU missed admitted at that share instead.
fn admitted_per_crisis(sc: &Scenario, pru_served: f64, share: f64) -> f64 {
    let (e, t) = (sc.pru.eligible_share, sc.pru.treated_at_home);
    match sc.ed.home_treatable_admit_share {
        None => (1.0 - e * pru_served * t) * share,
        Some(h) => e * (1.0 - pru_served) * t * h + (1.0 - e * t) * share,
    }
}

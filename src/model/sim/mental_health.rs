//! The adult mental health system (`docs/model.md`, "Mental health"):
//! crises at the ED with a liaison assessment, community referrals, crisis
//! resolution and home treatment (CRHT), local beds with out-of-area
//! overflow and repatriation, discharge to home, supported accommodation or
//! a care home (the mental health delayed transfers), and readmissions.
//! Without `[mental_health]` nothing here is scheduled or drawn.

use super::{Event, READMISSION_TAG, Sim, StreamSource, Timer};
use crate::engine::{StreamKey, StreamRng};
use crate::model::dated;
use crate::model::metrics::Metric;
use crate::model::observe::{Level, WaitMean};
use crate::model::schedule::{
    ArrivalCursor, ArrivalProfile, Opening, WeeklySchedule, beds_by_day_of,
};
use crate::model::trace::{Resource, Tracer};
use crate::scenario::calendar::Date;
use crate::scenario::{DatedKey, EVERY_DAY, MentalHealth, MhPathway, Scenario};

/// A care home queue entry with this bit set is a mental health patient
/// (its index without the bit), not an acute one.
pub(super) const MH_BIT: u32 = 1 << 31;

/// What a scenario's mental health system shares across replications.
#[derive(Clone, Debug)]
pub(super) struct MhPrepared {
    pub(super) arrivals: ArrivalProfile,
    pub(super) beds_by_day: Vec<u32>,
    pub(super) crht_hours: WeeklySchedule,
    /// Community referrals as grown rates by clock hour; `None` without
    /// growth (a constant rate).
    pub(super) referral_profile: Option<ArrivalProfile>,
}

impl MhPrepared {
    pub(super) fn new(sc: &Scenario, start: Date, days: usize) -> Option<MhPrepared> {
        let mh = sc.mental_health.as_ref()?;
        let mut demand = sc.demand.clone();
        demand.crises_per_day = mh.crises_per_day;
        let g = &sc.growth;
        let crises = dated::rate_by_day(sc, DatedKey::MhCrises, days);
        let referrals = dated::rate_by_day(sc, DatedKey::MhReferrals, days);
        Some(MhPrepared {
            arrivals: ArrivalProfile::dated(&demand, start, days, crises.as_deref())
                .grown(&g.mh_crises),
            referral_profile: match referrals {
                Some(by_day) => Some(ArrivalProfile::by_day(&by_day).grown(&g.mh_referrals)),
                None => g.mh_referrals.grows().then(|| {
                    ArrivalProfile::flat(mh.referrals_per_day, days).grown(&g.mh_referrals)
                }),
            },
            beds_by_day: beds_by_day_of(mh.beds, &mh.capacity_changes, start, days),
            crht_hours: WeeklySchedule::service(start, mh.crht.open, &EVERY_DAY),
        })
    }
}

/// Where a mental health patient is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum MhState {
    Liaison,
    CrhtQueue,
    Crht,
    WaitingBed,
    InBed,
    OutOfArea,
    /// Placed out of area, then moved into a local bed.
    Repatriated,
    /// Asked for a supported accommodation or care home place, in a local bed.
    Delayed,
}

/// A mental health patient in the arena.
#[derive(Clone, Debug)]
pub(super) struct MhPatient {
    pub(super) rng: StreamRng,
    pub(super) key: StreamKey,
    /// Bumped when the arena slot is freed, so stale events are ignored.
    pub(super) generation: u32,
    pub(super) state: MhState,
    pub(super) escalates: bool,
    pub(super) pathway: MhPathway,
    pub(super) admitted_at: f64,
    pub(super) requested_at: f64,
}

/// The mental health system in a replication.
pub(super) struct MentalHealthState {
    /// Arrival-time streams: ED crises, community referrals.
    pub(super) times: [StreamRng; 2],
    pub(super) crisis_cursor: ArrivalCursor,
    pub(super) crises: u64,
    pub(super) referrals: u64,
    pub(super) readmissions: u64,
    pub(super) available: u32,
    pub(super) occupied: u32,
    pub(super) occupied_level: Level,
    pub(super) available_level: Level,
    pub(super) out_of_area: u32,
    pub(super) out_of_area_level: Level,
    /// CRHT places today (`crht.places`, or its dated change).
    pub(super) crht_places: u32,
    /// Where the referral stream is in its grown profile.
    pub(super) referral_cursor: ArrivalCursor,
    pub(super) crht_held: u32,
    pub(super) crht_level: Level,
    /// An opening event of CRHT is pending.
    pub(super) crht_opening_pending: bool,
    pub(super) supported_held: u32,
    /// Patients in a local bed waiting for a supported accommodation or
    /// care home place.
    pub(super) delayed_level: Level,
    pub(super) supported_waits: WaitMean,
}

impl MentalHealthState {
    pub(super) fn new(
        times: [StreamRng; 2],
        available: u32,
        crht_places: u32,
    ) -> MentalHealthState {
        MentalHealthState {
            times,
            crisis_cursor: ArrivalCursor::start(),
            crises: 0,
            referrals: 0,
            readmissions: 0,
            available,
            occupied: 0,
            occupied_level: Level::default(),
            available_level: Level::default(),
            out_of_area: 0,
            out_of_area_level: Level::default(),
            crht_places,
            referral_cursor: ArrivalCursor::start(),
            crht_held: 0,
            crht_level: Level::default(),
            crht_opening_pending: false,
            supported_held: 0,
            delayed_level: Level::default(),
            supported_waits: WaitMean::default(),
        }
    }
}

/// The pathway for a uniform draw `u` (as the acute pathway draw: the first
/// whose cumulative share exceeds `u`, never one with share 0).
fn draw_mh_pathway(shares: &[f64; 3], u: f64) -> MhPathway {
    let mut acc = 0.0;
    let mut k = 2;
    for (i, s) in shares.iter().enumerate() {
        acc += s;
        if u < acc {
            k = i;
            break;
        }
    }
    while shares[k] == 0.0 && k > 0 {
        k -= 1;
    }
    MhPathway::ALL[k]
}

impl<'p, T: Tracer> Sim<'p, T> {
    #[inline]
    fn mh(&self) -> &'p MentalHealth {
        match &self.sc.mental_health {
            Some(mh) => mh,
            None => unreachable!("mental health events only with [mental_health]"),
        }
    }

    #[inline]
    fn mh_prepared(&self) -> &'p MhPrepared {
        match &self.prepared.mh {
            Some(mh) => mh,
            None => unreachable!("mental health events only with [mental_health]"),
        }
    }

    #[inline]
    fn mp(&mut self, patient: u32) -> &mut MhPatient {
        &mut self.ws.mh_patients[patient as usize]
    }

    /// At time zero: the bed changes (after the acute ones).
    pub(super) fn start_mental_health_beds(&mut self) {
        let Some(prep) = &self.prepared.mh else {
            return;
        };
        let w = self.prepared.window;
        self.mental_health
            .available_level
            .set(0.0, f64::from(self.mental_health.available), &w);
        for day in 1..prep.beds_by_day.len() {
            if prep.beds_by_day[day] != prep.beds_by_day[day - 1] {
                self.at(day as f64 * 24.0, Event::MhBedCapacity { day: day as u32 });
            }
        }
    }

    /// At time zero: the first arrivals (after every other source).
    pub(super) fn start_mental_health_arrivals(&mut self) {
        if self.prepared.mh.is_some() {
            self.schedule_next_mh_crisis(0.0);
            self.schedule_next_mh_referral(0.0);
        }
    }

    fn new_mh_patient(&mut self, key: StreamKey, state: MhState) -> u32 {
        self.census.mh_arrived += 1;
        let fresh = MhPatient {
            rng: StreamRng::new(key),
            key,
            generation: 0,
            state,
            escalates: false,
            pathway: MhPathway::Home,
            admitted_at: 0.0,
            requested_at: 0.0,
        };
        match self.ws.mh_free.pop() {
            Some(i) => {
                let generation = self.ws.mh_patients[i as usize].generation;
                self.ws.mh_patients[i as usize] = MhPatient {
                    generation,
                    ..fresh
                };
                i
            }
            None => {
                self.ws.mh_patients.push(fresh);
                (self.ws.mh_patients.len() - 1) as u32
            }
        }
    }

    /// The patient leaves the mental health system (home, supported
    /// accommodation's end, a care home).
    fn release_mh_patient(&mut self, patient: u32) {
        self.census.mh_left += 1;
        let p = self.mp(patient);
        p.generation = p.generation.wrapping_add(1);
        self.ws.mh_free.push(patient);
    }

    // ---- Demand ----------------------------------------------------------

    fn schedule_next_mh_crisis(&mut self, t: f64) {
        let e = self.mental_health.times[0].exp1();
        let prep = self.mh_prepared();
        if let Some(next) =
            prep.arrivals
                .next_arrival(&mut self.mental_health.crisis_cursor, t, e, self.end)
        {
            self.at_timer(Timer::MhCrisis, next, Event::NextMhCrisis);
        }
    }

    pub(super) fn on_next_mh_crisis(&mut self, t: f64) {
        let key = self.families[StreamSource::MhCrisis as usize].key(self.mental_health.crises);
        self.mental_health.crises += 1;
        self.mh_ed_arrival(t, key);
        self.schedule_next_mh_crisis(t);
    }

    fn schedule_next_mh_referral(&mut self, t: f64) {
        let per_day = self.mh().referrals_per_day;
        // With a profile (growth or a dated rate) the rate can rise later.
        if per_day > 0.0 || self.mh_prepared().referral_profile.is_some() {
            let e = self.mental_health.times[1].exp1();
            let next = match &self.mh_prepared().referral_profile {
                None => Some(t + e / (per_day / 24.0)),
                Some(profile) => {
                    profile.next_arrival(&mut self.mental_health.referral_cursor, t, e, self.end)
                }
            };
            if let Some(next) = next {
                self.at_timer(Timer::MhReferral, next, Event::NextMhReferral);
            }
        }
    }

    pub(super) fn on_next_mh_referral(&mut self, t: f64) {
        let key =
            self.families[StreamSource::MhReferral as usize].key(self.mental_health.referrals);
        self.mental_health.referrals += 1;
        self.count(t, Metric::MhCrises);
        let patient = self.new_mh_patient(key, MhState::CrhtQueue);
        self.crht_referral(t, patient);
        self.schedule_next_mh_referral(t);
    }

    pub(super) fn on_mh_readmission(&mut self, t: f64, key: StreamKey) {
        self.mental_health.readmissions += 1;
        self.count(t, Metric::MhReadmissions);
        self.mh_ed_arrival(t, key);
    }

    /// A crisis at the ED: the liaison assessment starts.
    fn mh_ed_arrival(&mut self, t: f64, key: StreamKey) {
        self.count(t, Metric::MhCrises);
        self.count(t, Metric::MhEdAttendances);
        let patient = self.new_mh_patient(key, MhState::Liaison);
        self.census.mh_in_liaison += 1;
        let d = self
            .mh()
            .liaison_assessment
            .sample(&mut self.mp(patient).rng);
        self.at(t + d, Event::MhLiaisonEnd { patient });
    }

    pub(super) fn on_mh_liaison_end(&mut self, t: f64, patient: u32) {
        let mh = self.mh();
        self.census.mh_in_liaison -= 1;
        let u = self.mp(patient).rng.uniform();
        if u < mh.ed_admit_share {
            self.mh_admit(t, patient);
        } else if u < mh.ed_admit_share + mh.ed_crht_share {
            self.crht_referral(t, patient);
        } else {
            self.release_mh_patient(patient);
        }
    }

    // ---- CRHT -------------------------------------------------------------

    fn crht_referral(&mut self, t: f64, patient: u32) {
        let mh = self.mh();
        let open = self.mh_prepared().crht_hours.is_open(t);
        if open
            && self.mental_health.crht_held < self.mental_health.crht_places
            && self.ws.mh_crht_queue.is_empty()
        {
            self.start_crht_episode(t, patient);
        } else if mh.crht.wait_when_full {
            self.mp(patient).state = MhState::CrhtQueue;
            self.census.mh_waiting_crht += 1;
            self.ws.mh_crht_queue.push_back(patient);
            let waiting = self.ws.mh_crht_queue.len();
            self.check_queue(t, "CRHT", waiting);
            self.fill_crht(t);
        } else {
            self.mh_admit(t, patient);
        }
    }

    fn start_crht_episode(&mut self, t: f64, patient: u32) {
        let mh = self.mh();
        self.count(t, Metric::MhCrhtEpisodes);
        self.mental_health.crht_held += 1;
        self.mental_health
            .crht_level
            .add(t, 1.0, &self.prepared.window);
        self.census.mh_in_crht += 1;
        self.trace_took(t, Resource::CrhtPlace, patient);
        let p = self.mp(patient);
        p.state = MhState::Crht;
        let episode = mh.crht.episode.sample(&mut p.rng);
        p.escalates = p.rng.chance(mh.crht.escalation_share);
        self.at(t + episode, Event::MhCrhtEnd { patient });
    }

    /// Serves the CRHT queue while open with places free; when closed with
    /// referrals waiting, makes sure the next opening is an event.
    pub(super) fn fill_crht(&mut self, t: f64) {
        if self.ws.mh_crht_queue.is_empty() {
            return;
        }
        let hours = &self.mh_prepared().crht_hours;
        if !hours.is_open(t) {
            if !self.mental_health.crht_opening_pending
                && let Opening::At { time, .. } = hours.opening(t)
            {
                self.mental_health.crht_opening_pending = true;
                self.at(time, Event::MhCrhtOpening);
            }
            return;
        }
        while self.mental_health.crht_held < self.mental_health.crht_places {
            let Some(patient) = self.ws.mh_crht_queue.pop_front() else {
                break;
            };
            self.census.mh_waiting_crht -= 1;
            self.start_crht_episode(t, patient);
        }
    }

    pub(super) fn on_crht_opening(&mut self, t: f64) {
        self.mental_health.crht_opening_pending = false;
        self.fill_crht(t);
    }

    pub(super) fn on_crht_end(&mut self, t: f64, patient: u32) {
        self.mental_health.crht_held -= 1;
        self.mental_health
            .crht_level
            .add(t, -1.0, &self.prepared.window);
        self.trace_released(t, Resource::CrhtPlace, patient);
        self.census.mh_in_crht -= 1;
        if self.mp(patient).escalates {
            self.mh_admit(t, patient);
        } else {
            self.release_mh_patient(patient);
        }
        self.fill_crht(t);
    }

    // ---- Beds -------------------------------------------------------------

    fn set_mh_occupied(&mut self, t: f64, occupied: u32) {
        self.mental_health.occupied = occupied;
        self.mental_health
            .occupied_level
            .set(t, f64::from(occupied), &self.prepared.window);
    }

    fn set_out_of_area(&mut self, t: f64, n: u32) {
        self.mental_health.out_of_area = n;
        self.mental_health
            .out_of_area_level
            .set(t, f64::from(n), &self.prepared.window);
    }

    /// A decision to admit: a free local bed now, a wait, or out of area.
    fn mh_admit(&mut self, t: f64, patient: u32) {
        self.count(t, Metric::MhAdmissions);
        let after = self.mh().out_of_area_after_hours;
        let (generation, p) = {
            let p = self.mp(patient);
            p.admitted_at = t;
            p.state = MhState::WaitingBed;
            (p.generation, patient)
        };
        self.census.mh_waiting_bed += 1;
        if self.mental_health.occupied < self.mental_health.available
            && self.ws.mh_bed_queue.is_empty()
        {
            self.take_mh_bed(t, p);
        } else if after <= 0.0 {
            self.place_out_of_area(t, p);
        } else {
            self.ws.mh_bed_queue.push_back(p);
            let waiting = self.ws.mh_bed_queue.len();
            self.check_queue(t, "mental health beds", waiting);
            self.at(
                t + after,
                Event::MhOutOfArea {
                    patient: p,
                    generation,
                },
            );
        }
    }

    /// Records the decision-to-admit wait ending now.
    fn end_mh_bed_wait(&mut self, t: f64, patient: u32) {
        self.census.mh_waiting_bed -= 1;
        let wait = t - self.mp(patient).admitted_at;
        if self.prepared.window.contains(t) && wait > 12.0 {
            self.counts[Metric::MhBedWaitsOver12h] += 1.0;
        }
    }

    fn take_mh_bed(&mut self, t: f64, patient: u32) {
        let mh = self.mh();
        self.end_mh_bed_wait(t, patient);
        self.census.mh_in_bed += 1;
        self.set_mh_occupied(t, self.mental_health.occupied + 1);
        self.trace_took(t, Resource::MhBed, patient);
        let p = self.mp(patient);
        p.state = MhState::InBed;
        let stay = mh.stay.sample(&mut p.rng);
        p.pathway = draw_mh_pathway(&mh.pathways, p.rng.uniform());
        let delay = match &mh.process_delay {
            Some(d) => d.sample(&mut p.rng),
            None => 0.0,
        };
        self.at(t + stay + delay, Event::MhAskPlace { patient });
    }

    fn place_out_of_area(&mut self, t: f64, patient: u32) {
        let mh = self.mh();
        self.end_mh_bed_wait(t, patient);
        self.count(t, Metric::MhOutOfAreaPlacements);
        self.census.mh_out_of_area += 1;
        self.set_out_of_area(t, self.mental_health.out_of_area + 1);
        let p = self.mp(patient);
        p.state = MhState::OutOfArea;
        let generation = p.generation;
        let stay = mh.out_of_area_stay.sample(&mut p.rng);
        if mh.repatriate {
            self.ws.mh_out_of_area.push_back((patient, generation));
        }
        self.at(t + stay, Event::MhOutOfAreaEnd { patient });
    }

    pub(super) fn on_mh_out_of_area(&mut self, t: f64, patient: u32, generation: u32) {
        let p = &self.ws.mh_patients[patient as usize];
        if p.generation != generation || p.state != MhState::WaitingBed {
            return;
        }
        // Everyone waits the same limit, so the patient due is at the front.
        match self.ws.mh_bed_queue.front() {
            Some(&front) if front == patient => {
                self.ws.mh_bed_queue.pop_front();
            }
            _ => self.ws.mh_bed_queue.retain(|&q| q != patient),
        }
        self.place_out_of_area(t, patient);
    }

    /// Free local beds go to the queue, then (with `repatriate`) to the
    /// patients placed out of area, earliest first.
    fn fill_mh_beds(&mut self, t: f64) {
        while self.mental_health.occupied < self.mental_health.available {
            if let Some(patient) = self.ws.mh_bed_queue.pop_front() {
                self.take_mh_bed(t, patient);
                continue;
            }
            let Some((patient, generation)) = self.ws.mh_out_of_area.pop_front() else {
                break;
            };
            let p = &mut self.ws.mh_patients[patient as usize];
            if p.generation != generation || p.state != MhState::OutOfArea {
                continue;
            }
            p.state = MhState::Repatriated;
            self.census.mh_out_of_area -= 1;
            self.census.mh_in_bed += 1;
            self.set_out_of_area(t, self.mental_health.out_of_area - 1);
            self.set_mh_occupied(t, self.mental_health.occupied + 1);
            self.trace_took(t, Resource::MhBed, patient);
        }
    }

    pub(super) fn on_mh_bed_capacity(&mut self, t: f64, day: u32) {
        let available = self.mh_prepared().beds_by_day[day as usize];
        self.mental_health.available = available;
        self.mental_health
            .available_level
            .set(t, f64::from(available), &self.prepared.window);
        self.fill_mh_beds(t);
    }

    /// A starting patient (`docs/model.md`, "Starting state") in a local
    /// bed (the time left of the stay, the pathway, the process delay) or
    /// out of area (the time left of the out-of-area stay), at time zero.
    pub(super) fn start_mh_patient(&mut self, key: StreamKey, elapsed: Option<f64>, away: bool) {
        let mh = self.mh();
        let patient = self.new_mh_patient(key, MhState::InBed);
        if away {
            self.census.mh_out_of_area += 1;
            self.set_out_of_area(0.0, self.mental_health.out_of_area + 1);
            let p = self.mp(patient);
            p.state = MhState::OutOfArea;
            let generation = p.generation;
            let left = super::start::remaining(&mh.out_of_area_stay, elapsed, &mut p.rng);
            if mh.repatriate {
                self.ws.mh_out_of_area.push_back((patient, generation));
            }
            self.at(left, Event::MhOutOfAreaEnd { patient });
        } else {
            self.census.mh_in_bed += 1;
            self.set_mh_occupied(0.0, self.mental_health.occupied + 1);
            self.trace_took(0.0, Resource::MhBed, patient);
            let p = self.mp(patient);
            let left = super::start::remaining(&mh.stay, elapsed, &mut p.rng);
            p.pathway = draw_mh_pathway(&mh.pathways, p.rng.uniform());
            let delay = match &mh.process_delay {
                Some(d) => d.sample(&mut p.rng),
                None => 0.0,
            };
            self.at(left + delay, Event::MhAskPlace { patient });
        }
    }

    /// A local bed is given up.
    fn free_mh_bed(&mut self, t: f64, patient: u32) {
        self.census.mh_in_bed -= 1;
        self.trace_released(t, Resource::MhBed, patient);
        self.set_mh_occupied(t, self.mental_health.occupied - 1);
    }

    /// Leaving a bed (local or out of area) for home or supported
    /// accommodation: the readmission draw.
    fn mh_readmission_draw(&mut self, t: f64, patient: u32) {
        if let Some(r) = self.mh().readmission {
            let p = self.mp(patient);
            if p.rng.chance(r.share) {
                let when = t + p.rng.uniform() * r.window_hours;
                let key = p.key.child(READMISSION_TAG);
                self.at(when, Event::MhReadmission { key });
            }
        }
    }

    pub(super) fn on_mh_out_of_area_end(&mut self, t: f64, patient: u32) {
        match self.mp(patient).state {
            MhState::OutOfArea => {
                self.census.mh_out_of_area -= 1;
                self.set_out_of_area(t, self.mental_health.out_of_area - 1);
            }
            _ => self.free_mh_bed(t, patient),
        }
        self.mh_readmission_draw(t, patient);
        self.release_mh_patient(patient);
        self.fill_mh_beds(t);
    }

    /// Ready for discharge and past the process delay: ask for the place.
    pub(super) fn on_mh_ask_place(&mut self, t: f64, patient: u32) {
        match self.mp(patient).pathway {
            MhPathway::Home => {
                self.free_mh_bed(t, patient);
                self.mh_readmission_draw(t, patient);
                self.release_mh_patient(patient);
                self.fill_mh_beds(t);
            }
            MhPathway::Supported => {
                self.mh_delay_starts(t, patient);
                self.ws.mh_supported_queue.push_back(patient);
                let waiting = self.ws.mh_supported_queue.len();
                self.check_queue(t, "supported accommodation", waiting);
                self.fill_supported(t);
            }
            MhPathway::CareHome => {
                self.mh_delay_starts(t, patient);
                self.ask_care_home_bed(t, patient | MH_BIT);
            }
        }
    }

    fn mh_delay_starts(&mut self, t: f64, patient: u32) {
        let p = self.mp(patient);
        p.state = MhState::Delayed;
        p.requested_at = t;
        self.mental_health
            .delayed_level
            .add(t, 1.0, &self.prepared.window);
    }

    /// The place is granted: the wait ends; the patient leaves the bed.
    fn mh_delay_ends(&mut self, t: f64, patient: u32) {
        self.mental_health
            .delayed_level
            .add(t, -1.0, &self.prepared.window);
        if t > self.mp(patient).requested_at {
            self.count(t, Metric::MhDelayedPatients);
        }
        self.free_mh_bed(t, patient);
    }

    fn fill_supported(&mut self, t: f64) {
        let places = self.mh().supported_places;
        while self.mental_health.supported_held < places {
            let Some(patient) = self.ws.mh_supported_queue.pop_front() else {
                break;
            };
            self.mental_health.supported_held += 1;
            self.trace_took(t, Resource::SupportedPlace, patient);
            if self.prepared.window.contains(t) {
                let wait = t - self.mp(patient).requested_at;
                self.mental_health.supported_waits.record(wait / 24.0);
            }
            self.mh_delay_ends(t, patient);
            let stay = self.mh().supported_stay.sample(&mut self.mp(patient).rng);
            self.mh_readmission_draw(t, patient);
            self.census.mh_in_supported += 1;
            // The arena slot is kept until the stay ends (for the trace and
            // the census).
            self.at(t + stay, Event::MhSupportedEnd { patient });
        }
        self.fill_mh_beds(t);
    }

    pub(super) fn on_mh_supported_end(&mut self, t: f64, patient: u32) {
        self.mental_health.supported_held -= 1;
        self.census.mh_in_supported -= 1;
        self.trace_released(t, Resource::SupportedPlace, patient);
        self.release_mh_patient(patient);
        self.fill_supported(t);
    }

    /// When a mental health patient in the care home queue asked.
    pub(super) fn mh_requested_at(&self, entry: u32) -> f64 {
        self.ws.mh_patients[(entry & !MH_BIT) as usize].requested_at
    }

    /// A care home bed granted to a mental health patient: they leave the
    /// local bed and move in, as a P3 patient leaving hospital does.
    pub(super) fn mh_care_home_granted(&mut self, t: f64, entry: u32, bed: u32) {
        let patient = entry & !MH_BIT;
        self.mh_delay_ends(t, patient);
        let sc = self.sc;
        let p = &mut self.ws.mh_patients[patient as usize];
        let stay = sc.care_homes.stay.sample(&mut p.rng);
        let ch = &mut self.ws.care_home_beds[bed as usize];
        ch.key = p.key;
        ch.rng = p.rng.clone();
        ch.crises = 0;
        self.resident_moves_in(t, bed, stay);
        self.release_mh_patient(patient);
        self.fill_mh_beds(t);
    }

    /// Results of the mental health system (the counts are already in).
    pub(super) fn finish_mental_health(&self, m: &mut crate::model::metrics::Metrics) {
        let w = self.prepared.window;
        let hours = w.hours();
        let mh = &self.mental_health;
        let places = self.sc.mental_health.as_ref().map_or(0, |m| m.crht.places);
        let service = crate::model::years::Service::CrhtPlaces;
        let places = self
            .prepared
            .counts
            .mean_over(service, places, w.start, w.end);
        m[Metric::MhCrhtUtilisation] = if places > 0.0 {
            mh.crht_level.area_at_end(&w) / hours / places
        } else {
            0.0
        };
        m[Metric::MhBedOccupancyMean] = mh.occupied_level.area_at_end(&w) / hours;
        let available = mh.available_level.area_at_end(&w) / hours;
        m[Metric::MhBedOccupancyShare] = if available > 0.0 {
            m[Metric::MhBedOccupancyMean] / available
        } else {
            0.0
        };
        m[Metric::MhOutOfAreaBedDays] = mh.out_of_area_level.area_at_end(&w) / 24.0;
        m[Metric::MhDelayedBedDays] = mh.delayed_level.area_at_end(&w) / 24.0;
        m[Metric::MhSupportedAccommodationWaitMeanDays] = mh.supported_waits.mean();
    }
}

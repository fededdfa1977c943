//! Acute beds and discharge: the decision to admit and the first-come
//! first-served wait for a bed, the stay to medically fit, the pathway
//! (P0 home, P1 community nursing, P2 rehab, P3 care home) with its process
//! delay and capacity wait, the discharge hours, leaving hospital, and the
//! readmission drawn on leaving.

use super::{Event, NONE, Patient, READMISSION_TAG, Sim, Timer};
use crate::model::metrics::Metric;
use crate::model::observe::{Level, WaitMean};
use crate::model::schedule::Opening;
use crate::model::trace::{Resource, TraceEvent, Tracer};
use crate::scenario::{Pathway, ReferralClass};

/// The acute beds in a replication.
pub(super) struct AcuteBeds {
    pub(super) available: u32,
    pub(super) occupied: u32,
    /// The number of the earliest discharge opening with patients waiting
    /// for it (`Workspace::discharge_waits`).
    pub(super) first_opening: u64,
    /// Occupied beds over time.
    pub(super) occupied_level: Level,
    /// 1 while every bed is occupied, else 0.
    pub(super) full_level: Level,
    /// Medically fit patients in a process delay or waiting for the
    /// discharge hours.
    pub(super) process_level: Level,
    /// Patients in a capacity wait, by pathway P1 to P3.
    pub(super) capacity_level: [Level; 3],
    /// Beds available over time.
    pub(super) available_level: Level,
    /// Sums over the window's midnights of the patients medically fit, in
    /// for 7 days or more, and in for 21 days or more.
    pub(super) fit_at_midnight: f64,
    pub(super) stranded_at_midnight: f64,
    pub(super) super_stranded_at_midnight: f64,
    /// Waits from medically fit to leaving, over leavings in the window.
    pub(super) ready_to_leave: WaitMean,
    /// Stays ending in the window, and those under 24 hours.
    pub(super) stays_ended: u64,
    pub(super) stays_under_a_day: u64,
}

/// Hours in a bed that make a patient stranded, and super-stranded.
const STRANDED_HOURS: f64 = 7.0 * 24.0;
const SUPER_STRANDED_HOURS: f64 = 21.0 * 24.0;

impl AcuteBeds {
    pub(super) fn new(available: u32) -> AcuteBeds {
        AcuteBeds {
            available,
            occupied: 0,
            first_opening: 0,
            occupied_level: Level::default(),
            full_level: Level::default(),
            process_level: Level::default(),
            capacity_level: [Level::default(); 3],
            available_level: Level::default(),
            fit_at_midnight: 0.0,
            stranded_at_midnight: 0.0,
            super_stranded_at_midnight: 0.0,
            ready_to_leave: WaitMean::default(),
            stays_ended: 0,
            stays_under_a_day: 0,
        }
    }

    /// Adds the patients in bed at midnight `t` to the sums of the bed
    /// states: medically fit, in for 7 days or more, in for 21 days or more.
    /// One pass over the beds' patients (`in_bed`) each midnight costs less
    /// than keeping counts up to date at every admission and leaving.
    pub(super) fn count_at_midnight(&mut self, t: f64, in_bed: &[u32], patients: &[Patient]) {
        let (mut fit, mut stranded, mut super_stranded) = (0u32, 0u32, 0u32);
        // `t` is a whole number of hours, so these are exact.
        let stranded_since = t - STRANDED_HOURS;
        let super_stranded_since = t - SUPER_STRANDED_HOURS;
        for &i in in_bed {
            let p = &patients[i as usize];
            fit += u32::from(p.fit_at <= t);
            stranded += u32::from(p.bed_at <= stranded_since);
            super_stranded += u32::from(p.bed_at <= super_stranded_since);
        }
        self.fit_at_midnight += f64::from(fit);
        self.stranded_at_midnight += f64::from(stranded);
        self.super_stranded_at_midnight += f64::from(super_stranded);
    }
}

impl<'p, T: Tracer> Sim<'p, T> {
    pub(super) fn full_indicator(&self) -> f64 {
        if self.beds.occupied >= self.beds.available {
            1.0
        } else {
            0.0
        }
    }

    pub(super) fn set_beds(&mut self, t: f64, occupied: u32, available: u32) {
        let available_changed = available != self.beds.available;
        self.beds.occupied = occupied;
        self.beds.available = available;
        let w = &self.prepared.window;
        self.beds.occupied_level.set(t, f64::from(occupied), w);
        if available_changed {
            self.beds.available_level.set(t, f64::from(available), w);
        }
        self.beds.full_level.set(t, self.full_indicator(), w);
        self.tracer.trace(TraceEvent::Beds {
            at: t,
            occupied,
            available,
        });
    }

    /// The decision to admit: a free bed now, or a first-come-first-served wait.
    pub(super) fn admit(&mut self, t: f64, patient: u32) {
        self.count(t, Metric::Admissions);
        if self.pt(patient).home_bed != NONE && self.prepared.window.contains(t) {
            self.care_homes.admissions += 1;
        }
        self.pt(patient).admitted_at = t;
        self.census.waiting_for_bed += 1;
        self.ws.bed_queue.push_back(patient);
        self.check_queue(t, "acute beds", self.ws.bed_queue.len());
        self.fill_acute_beds(t);
    }

    pub(super) fn fill_acute_beds(&mut self, t: f64) {
        while self.beds.occupied < self.beds.available {
            let Some(patient) = self.ws.bed_queue.pop_front() else {
                break;
            };
            self.take_bed(t, patient);
        }
    }

    pub(super) fn take_bed(&mut self, t: f64, patient: u32) {
        let sc = self.sc;
        self.census.waiting_for_bed -= 1;
        self.census.in_bed += 1;
        self.set_beds(t, self.beds.occupied + 1, self.beds.available);
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
        if self.prepared.window.contains(t) {
            self.ws.bed_waits.push(wait);
            if wait > 4.0 {
                self.counts[Metric::BedWaitsOver4h] += 1.0;
            }
            if wait > 12.0 {
                self.counts[Metric::BedWaitsOver12h] += 1.0;
            }
        }
        self.settle_in_bed(t, patient, t, los, None, true);
    }

    /// A patient in a bed since `bed_at` with `los` hours from `t` to
    /// medically fit: the pathway (drawn from the shares unless `pathway`
    /// is given; none for a care home resident), then what happens at
    /// medically fit: for P0 and residents the wait for the discharge
    /// hours, for P1 to P3 the process delay (drawn when `delay`, else
    /// none) and the request for a place.
    #[inline(always)]
    pub(super) fn settle_in_bed(
        &mut self,
        t: f64,
        patient: u32,
        bed_at: f64,
        los: f64,
        pathway: Option<Pathway>,
        delay: bool,
    ) {
        let sc = self.sc;
        let p = &mut self.ws.patients[patient as usize];
        let fit = t + los;
        p.bed_at = bed_at;
        p.fit_at = fit;
        p.bed_slot = self.ws.in_bed.len() as u32;
        // Residents draw no pathway. The pathway is drawn now rather than at
        // medically fit: it comes from the patient's own stream either way.
        let direct = p.home_bed != NONE || {
            p.pathway = match pathway {
                Some(given) => given,
                None => {
                    let shares = if p.frail {
                        &sc.pathways.frail
                    } else {
                        &sc.pathways.other
                    };
                    draw_pathway(shares, p.rng.uniform())
                }
            };
            p.pathway == Pathway::P0
        };
        p.direct_leave = direct;
        self.ws.in_bed.push(patient);
        if direct {
            // For P0 and residents nothing happens at medically fit but the
            // start of the wait for the discharge hours, whose end is known
            // now: schedule the leaving itself and count the wait's bed days
            // at once (about a quarter of all events saved).
            match self.prepared.discharge_hours.opening(fit) {
                Opening::Now => self.at(fit, Event::LeaveHospital { patient }),
                // Leaving with the others at this opening, in order.
                Opening::Starting { index } => self.leave_at_opening(fit, index, patient),
                Opening::At { time, index } => {
                    self.process_interval(fit, time);
                    self.leave_at_opening(time, index, patient);
                }
                // Discharge hours "none" every day: the patient never leaves.
                Opening::Never => self.process_interval(fit, f64::INFINITY),
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
                Some(d) if delay => d.sample(&mut p.rng),
                _ => 0.0,
            };
            let requested = fit + delay;
            self.process_interval(fit, requested);
            self.at(requested, Event::ProcessDelayEnd { patient });
        }
    }

    pub(super) fn on_bed_capacity(&mut self, t: f64, day: u32) {
        let available = self.prepared.beds_by_day[day as usize];
        self.set_beds(t, self.beds.occupied, available);
        // A rise fills at once; a fall evicts nobody.
        self.fill_acute_beds(t);
    }

    /// Leaves now if inside the discharge hours, else at the next opening.
    pub(super) fn await_discharge_hours(&mut self, t: f64, patient: u32) {
        match self.prepared.discharge_hours.opening(t) {
            Opening::Now | Opening::Starting { .. } => self.leave_hospital(t, patient),
            Opening::At { time, index } => self.leave_at_opening(time, index, patient),
            // Discharge hours "none" every day: the patient never leaves.
            Opening::Never => {}
        }
    }

    /// `patient` leaves at opening number `index` of the discharge hours, at
    /// `time` (unless that is after the end of the run).
    pub(super) fn leave_at_opening(&mut self, time: f64, index: u64, patient: u32) {
        if time >= self.end {
            return;
        }
        let earliest_changed = match self.ws.discharge_waits.is_empty() {
            true => {
                self.beds.first_opening = index;
                true
            }
            false if index < self.beds.first_opening => {
                for _ in index..self.beds.first_opening {
                    let list = self.ws.spare_waits.pop().unwrap_or_default();
                    self.ws.discharge_waits.push_front(list);
                }
                self.beds.first_opening = index;
                true
            }
            false => false,
        };
        let j = (index - self.beds.first_opening) as usize;
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
    pub(super) fn on_discharge_opening(&mut self, t: f64) {
        let Some(leaving) = self.ws.discharge_waits.pop_front() else {
            return;
        };
        self.beds.first_opening += 1;
        while let Some(list) = self.ws.discharge_waits.pop_front_if(|l| l.is_empty()) {
            self.ws.spare_waits.push(list);
            self.beds.first_opening += 1;
        }
        if !self.ws.discharge_waits.is_empty() {
            let next = self
                .prepared
                .discharge_hours
                .opening_time(self.beds.first_opening);
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
    pub(super) fn request_place(&mut self, t: f64, patient: u32) {
        let sc = self.sc;
        let window = self.prepared.window;
        let pathway = {
            let p = self.pt(patient);
            p.requested_at = t;
            p.capacity_waiting = true;
            p.pathway
        };
        // Counted as a capacity wait until granted (maybe at once, below).
        self.beds.capacity_level[pathway.index() - 1].add(t, 1.0, &window);
        match pathway {
            Pathway::P1 if sc.home_care.is_some() => self.ask_home_care(t, patient),
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
            Pathway::P3 => self.ask_care_home_bed(t, patient),
            Pathway::P0 => unreachable!("P0 asks for no place"),
        }
    }

    /// The downstream place is granted to a patient in hospital.
    pub(super) fn place_granted(&mut self, t: f64, patient: u32) {
        let window = self.prepared.window;
        let (pathway, wait) = {
            let p = self.pt(patient);
            p.capacity_waiting = false;
            (p.pathway, t - p.requested_at)
        };
        self.beds.capacity_level[pathway.index() - 1].add(t, -1.0, &window);
        self.beds.process_level.add(t, 1.0, &window);
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

    pub(super) fn leave_hospital(&mut self, t: f64, patient: u32) {
        let sc = self.sc;
        let window = self.prepared.window;
        if !self.pt(patient).direct_leave {
            self.beds.process_level.add(t, -1.0, &window);
        }
        self.census.in_bed -= 1;
        self.trace_released(t, Resource::AcuteBed, patient);
        let (bed_at, fit_at, slot) = {
            let p = self.pt(patient);
            (p.bed_at, p.fit_at, p.bed_slot as usize)
        };
        self.ws.in_bed.swap_remove(slot);
        if let Some(&moved) = self.ws.in_bed.get(slot) {
            self.ws.patients[moved as usize].bed_slot = slot as u32;
        }
        if window.contains(t) {
            self.beds.ready_to_leave.record((t - fit_at) / 24.0);
            self.beds.stays_ended += 1;
            if t - bed_at < 24.0 {
                self.beds.stays_under_a_day += 1;
            }
        }
        let home_bed = self.pt(patient).home_bed;
        let mut keep = false;
        if home_bed != NONE {
            self.resident_returns(t, home_bed);
        } else {
            let pathway = self.pt(patient).pathway;
            match pathway {
                Pathway::P0 => {}
                Pathway::P1 if sc.home_care.is_some() => self.home_care_starts(t, patient),
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
                    let resident = &mut self.ws.patients[patient as usize];
                    let stay = sc.care_homes.stay.sample(&mut resident.rng);
                    let ch = &mut self.ws.care_home_beds[bed as usize];
                    ch.key = resident.key;
                    ch.rng = resident.rng.clone();
                    ch.crises = 0;
                    self.resident_moves_in(t, bed, stay);
                }
            }
            if let Some(r) = &sc.readmission {
                let share = match pathway {
                    Pathway::P0 => r.p0,
                    Pathway::P1 => r.p1,
                    Pathway::P2 => r.p2,
                    Pathway::P3 => 0.0,
                };
                let leaving = &mut self.ws.patients[patient as usize];
                if share > 0.0 && leaving.rng.chance(share) {
                    let when = t + leaving.rng.uniform() * r.window_hours;
                    let event = Event::Readmission {
                        key: leaving.key.child(READMISSION_TAG),
                        frail: leaving.frail,
                    };
                    self.at(when, event);
                }
            }
        }
        self.census.left += 1;
        if !keep {
            self.release_patient(patient);
        }
        self.set_beds(t, self.beds.occupied - 1, self.beds.available);
        self.fill_acute_beds(t);
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

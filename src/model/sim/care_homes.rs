//! Care homes: beds with their residents, placements from hospital (P3)
//! and from the community, residents' crises (with the red bag scheme
//! applied in hospital) and the end of a stay.

use super::mental_health::MH_BIT;
use super::{Event, Sim, StreamSource};
use crate::engine::{StreamKey, StreamRng};
use crate::model::observe::{Level, WaitMean};
use crate::model::trace::Tracer;
use crate::scenario::CareHomeStart;

/// A care home bed and its resident.
#[derive(Clone, Debug)]
pub(super) struct CareHomeBed {
    pub(super) held: bool,
    /// Bumped when a resident leaves, so their pending events go stale.
    pub(super) generation: u32,
    /// The resident is in the bed (not away in a crisis or still in hospital).
    pub(super) in_bed: bool,
    /// The stay has ended while the resident was away: leave on return.
    pub(super) stay_over: bool,
    pub(super) key: StreamKey,
    pub(super) rng: StreamRng,
    pub(super) crises: u64,
}

#[derive(Clone, Copy, Debug)]
pub(super) struct Placement {
    pub(super) at: f64,
    pub(super) key: StreamKey,
}

/// Care home beds in a replication (the beds themselves are in the
/// workspace).
#[derive(Default)]
pub(super) struct CareHomes {
    /// Beds today (`care_homes.beds`, or its dated change).
    pub(super) beds: u32,
    pub(super) held: u32,
    pub(super) level: Level,
    pub(super) waits: WaitMean,
    /// Decisions to admit residents in crisis inside the window.
    pub(super) admissions: u64,
}

impl<'p, T: Tracer> Sim<'p, T> {
    /// Care home beds at time zero with their starting residents: resident
    /// `i` in bed `i`, with the time left of a stay (`initial_residents`) or
    /// a whole stay (`initial_occupancy`). Starting residents above
    /// `care_homes.beds` have places of their own, never granted again.
    pub(super) fn start_care_homes(&mut self) {
        let sc = self.sc;
        let beds = self.care_homes.beds;
        let initial = sc.care_homes.initial_residents();
        // Slots for the most beds any day has (dated changes), so that a
        // rise needs no new slot.
        let slots = self
            .p
            .counts
            .max(crate::model::years::Service::CareHomeBeds, beds);
        for b in 0..slots.max(initial) {
            let key = self.families[StreamSource::InitialResident as usize].key(u64::from(b));
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
            let rng = &mut self.ws.care_home_beds[b as usize].rng;
            let stay = match sc.care_homes.start {
                CareHomeStart::Residents(_) => sc.care_homes.stay.sample_equilibrium_remaining(rng),
                CareHomeStart::Occupancy(_) => sc.care_homes.stay.sample(rng),
            };
            self.resident_moves_in(0.0, b, stay);
        }
        self.care_homes.held = initial;
        self.care_homes
            .level
            .set(0.0, f64::from(initial), &self.p.window);
    }

    /// Grants free care home beds to the waiting hospital and community
    /// placements: hospital first when `hospital_first`, else first come
    /// first served (hospital first on a tie).
    pub(super) fn fill_care_home_beds(&mut self, t: f64) {
        let window = self.p.window;
        let hospital_first = self.sc.care_homes.hospital_first;
        // Residents above the beds (starting residents of closed beds) hold
        // places of their own: a bed is granted only below the beds.
        while self.care_homes.held < self.care_homes.beds {
            let Some(&bed) = self.ws.care_home_free.last() else {
                break;
            };
            let from_hospital = match (
                self.ws.care_home_hospital_queue.front(),
                self.ws.care_home_community_queue.front(),
            ) {
                (None, None) => break,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some(&h), Some(c)) => hospital_first || self.hospital_requested_at(h) <= c.at,
            };
            self.ws.care_home_free.pop();
            self.care_homes.held += 1;
            self.care_homes.level.add(t, 1.0, &window);
            let ch = &mut self.ws.care_home_beds[bed as usize];
            // Held from now; the resident arrives from hospital later.
            ch.held = true;
            ch.in_bed = false;
            ch.stay_over = false;
            if from_hospital {
                let Some(patient) = self.ws.care_home_hospital_queue.pop_front() else {
                    unreachable!("the hospital queue has a front")
                };
                let wait = t - self.hospital_requested_at(patient);
                if window.contains(t) {
                    self.care_homes.waits.record(wait / 24.0);
                }
                if patient & MH_BIT != 0 {
                    self.mh_care_home_granted(t, patient, bed);
                } else {
                    self.pt(patient).care_home_bed = bed;
                    self.place_granted(t, patient);
                }
            } else {
                let Some(placement) = self.ws.care_home_community_queue.pop_front() else {
                    unreachable!("the community queue has a front")
                };
                if window.contains(t) {
                    self.care_homes.waits.record((t - placement.at) / 24.0);
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

    /// When a hospital patient in the care home queue asked (an acute
    /// patient, or a mental health one marked with [`MH_BIT`]).
    #[inline]
    fn hospital_requested_at(&self, entry: u32) -> f64 {
        if entry & MH_BIT != 0 {
            self.mh_requested_at(entry)
        } else {
            self.ws.patients[entry as usize].requested_at
        }
    }

    /// A new resident takes up `bed` at `t` for `stay` hours (fixed now).
    pub(super) fn resident_moves_in(&mut self, t: f64, bed: u32, stay: f64) {
        let ch = &mut self.ws.care_home_beds[bed as usize];
        ch.held = true;
        ch.in_bed = true;
        ch.stay_over = false;
        let generation = ch.generation;
        self.at(t + stay, Event::ResidentStayEnd { bed, generation });
        self.schedule_resident_crisis(t, bed);
    }

    pub(super) fn schedule_resident_crisis(&mut self, t: f64, bed: u32) {
        let per_hour = self.sc.care_homes.crises_per_resident_year / (365.0 * 24.0);
        if per_hour > 0.0 {
            let ch = &mut self.ws.care_home_beds[bed as usize];
            let next = t + ch.rng.exp1() / per_hour;
            let generation = ch.generation;
            self.at(next, Event::ResidentCrisis { bed, generation });
        }
    }

    pub(super) fn on_resident_crisis(&mut self, t: f64, bed: u32, generation: u32) {
        let ch = &mut self.ws.care_home_beds[bed as usize];
        if ch.generation != generation || !ch.in_bed {
            return;
        }
        ch.in_bed = false;
        let key = ch.key.child(ch.crises);
        ch.crises += 1;
        self.arrivals.residents_crises += 1;
        self.other_crisis(t, key, true, bed);
    }

    /// A resident is back in their bed after a crisis.
    pub(super) fn resident_returns(&mut self, t: f64, bed: u32) {
        let ch = &mut self.ws.care_home_beds[bed as usize];
        ch.in_bed = true;
        if ch.stay_over {
            self.resident_leaves(t, bed);
        } else {
            self.schedule_resident_crisis(t, bed);
        }
    }

    pub(super) fn on_resident_stay_end(&mut self, t: f64, bed: u32, generation: u32) {
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

    pub(super) fn resident_leaves(&mut self, t: f64, bed: u32) {
        let ch = &mut self.ws.care_home_beds[bed as usize];
        ch.generation = ch.generation.wrapping_add(1);
        ch.held = false;
        ch.in_bed = false;
        ch.stay_over = false;
        if bed < self.care_homes.beds {
            self.ws.care_home_free.push(bed);
        }
        self.care_homes.held -= 1;
        self.care_homes.level.add(t, -1.0, &self.p.window);
        self.fill_care_home_beds(t);
    }
}

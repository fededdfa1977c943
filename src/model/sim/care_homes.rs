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
    /// Bumped when a resident leaves or their next crisis is drawn again
    /// (a dated change of the crisis rate), so a pending crisis goes stale.
    pub(super) crisis_generation: u32,
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
    /// The placement search (`care_homes.search_at_one_free_bed`): the
    /// placements searching, in no order.
    pub(super) searches: Vec<Search>,
    /// The search clock: the integral of the grantable beds over time,
    /// divided by the mean search with one bed free. A search ends when
    /// the clock has advanced by its need since it started.
    pub(super) clock: f64,
    /// When `clock` was last brought up to date.
    pub(super) clock_at: f64,
    /// Grantable beds since `clock_at`.
    pub(super) grantable: u32,
    /// Bumped at every change, so that a pending search end goes stale.
    pub(super) search_generation: u32,
    /// Searches started so far (the order of exact ties).
    pub(super) search_seq: u64,
}

/// A placement searching for a suitable home.
#[derive(Clone, Copy, Debug)]
pub(super) struct Search {
    /// The search clock's reading at which it ends.
    target: f64,
    seq: u64,
    who: Seeker,
}

/// Who asks for a care home bed.
#[derive(Clone, Copy, Debug)]
pub(super) enum Seeker {
    /// A patient in hospital: an acute patient's index, or a mental health
    /// patient's marked with [`MH_BIT`].
    Hospital(u32),
    Community(Placement),
}

/// The tag of a search's own stream (`SEARCH` in ASCII).
const SEARCH_TAG: u64 = 0x5345_4152_4348;

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
            .prepared
            .counts
            .max(crate::model::years::Service::CareHomeBeds, beds);
        for b in 0..slots.max(initial) {
            let key = self.families[StreamSource::InitialResident as usize].key(u64::from(b));
            self.ws.care_home_beds.push(CareHomeBed {
                held: false,
                generation: 0,
                crisis_generation: 0,
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
            .set(0.0, f64::from(initial), &self.prepared.window);
        self.search_update(0.0);
    }

    /// A patient in hospital (`entry`, an acute patient or a mental health
    /// one marked with [`MH_BIT`]) asks for a care home bed.
    pub(super) fn ask_care_home_bed(&mut self, t: f64, entry: u32) {
        const SERVICE: &str = "care home beds (from hospital)";
        let waiting = if self.sc.care_homes.search_hours.is_some() {
            let key = if entry & MH_BIT != 0 {
                self.ws.mh_patients[(entry & !MH_BIT) as usize].key
            } else {
                self.ws.patients[entry as usize].key
            };
            self.start_search(t, Seeker::Hospital(entry), key)
        } else {
            self.ws.care_home_hospital_queue.push_back(entry);
            self.ws.care_home_hospital_queue.len()
        };
        self.check_queue(t, SERVICE, waiting);
        self.fill_care_home_beds(t);
    }

    /// A placement from the community asks for a care home bed.
    pub(super) fn ask_care_home_placement(&mut self, t: f64, placement: Placement) {
        const SERVICE: &str = "care home beds (community placements)";
        let waiting = if self.sc.care_homes.search_hours.is_some() {
            self.start_search(t, Seeker::Community(placement), placement.key)
        } else {
            self.ws.care_home_community_queue.push_back(placement);
            self.ws.care_home_community_queue.len()
        };
        self.check_queue(t, SERVICE, waiting);
        self.fill_care_home_beds(t);
    }

    /// Starts a placement search at `t`, its need drawn from its own stream
    /// (a child of `key`); returns the number searching.
    fn start_search(&mut self, t: f64, who: Seeker, key: StreamKey) -> usize {
        self.search_advance(t);
        let need = StreamRng::new(key.child(SEARCH_TAG)).exp1();
        let ch = &mut self.care_homes;
        ch.searches.push(Search {
            target: ch.clock + need,
            seq: ch.search_seq,
            who,
        });
        ch.search_seq += 1;
        ch.searches.len()
    }

    /// Brings the search clock up to `t` at the grantable beds in force
    /// since it was last brought up to date.
    fn search_advance(&mut self, t: f64) {
        if let Some(d) = self.sc.care_homes.search_hours {
            let ch = &mut self.care_homes;
            ch.clock += f64::from(ch.grantable) * (t - ch.clock_at) / d;
            ch.clock_at = t;
        }
    }

    /// After any change at `t` (beds held, beds in force, searches): brings
    /// the clock up to date, takes the grantable beds from now on and
    /// schedules the next search end.
    fn search_update(&mut self, t: f64) {
        let Some(d) = self.sc.care_homes.search_hours else {
            return;
        };
        self.search_advance(t);
        let ch = &mut self.care_homes;
        ch.grantable = ch.beds.saturating_sub(ch.held);
        ch.search_generation = ch.search_generation.wrapping_add(1);
        if ch.grantable == 0 {
            return;
        }
        let Some(next) = ch.searches.iter().map(|s| s.target).reduce(f64::min) else {
            return;
        };
        let when = t + (next - ch.clock).max(0.0) * d / f64::from(ch.grantable);
        let generation = ch.search_generation;
        self.at(when, Event::CareHomeSearchEnd { generation });
    }

    /// The search with the lowest target ends: its placement takes a bed.
    pub(super) fn on_care_home_search_end(&mut self, t: f64, generation: u32) {
        if generation != self.care_homes.search_generation {
            return;
        }
        self.search_advance(t);
        let searches = &mut self.care_homes.searches;
        let first = searches
            .iter()
            .enumerate()
            .min_by(|(_, a), (_, b)| a.target.total_cmp(&b.target).then(a.seq.cmp(&b.seq)))
            .map(|(i, _)| i);
        if let Some(i) = first {
            let search = searches.swap_remove(i);
            self.grant_care_home_bed(t, search.who);
        }
        self.search_update(t);
    }

    /// Grants free care home beds to the waiting hospital and community
    /// placements: hospital first when `hospital_first`, else first come
    /// first served (hospital first on a tie). Under the placement search
    /// nobody queues: the searches are brought up to date instead.
    pub(super) fn fill_care_home_beds(&mut self, t: f64) {
        if self.sc.care_homes.search_hours.is_some() {
            self.search_update(t);
            return;
        }
        let hospital_first = self.sc.care_homes.hospital_first;
        // Residents above the beds (starting residents of closed beds) hold
        // places of their own: a bed is granted only below the beds.
        while self.care_homes.held < self.care_homes.beds && !self.ws.care_home_free.is_empty() {
            let from_hospital = match (
                self.ws.care_home_hospital_queue.front(),
                self.ws.care_home_community_queue.front(),
            ) {
                (None, None) => break,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some(&h), Some(c)) => hospital_first || self.hospital_requested_at(h) <= c.at,
            };
            let who = if from_hospital {
                self.ws
                    .care_home_hospital_queue
                    .pop_front()
                    .map(Seeker::Hospital)
            } else {
                self.ws
                    .care_home_community_queue
                    .pop_front()
                    .map(Seeker::Community)
            };
            let Some(who) = who else {
                unreachable!("the queue chosen has a front")
            };
            self.grant_care_home_bed(t, who);
        }
    }

    /// Grants the lowest free bed to `who` at `t` (a bed is free and below
    /// the beds in force).
    fn grant_care_home_bed(&mut self, t: f64, who: Seeker) {
        let window = self.prepared.window;
        let Some(bed) = self.ws.care_home_free.pop() else {
            unreachable!("a grant needs a free bed")
        };
        self.care_homes.held += 1;
        self.care_homes.level.add(t, 1.0, &window);
        let ch = &mut self.ws.care_home_beds[bed as usize];
        // Held from now; the resident arrives from hospital later.
        ch.held = true;
        ch.in_bed = false;
        ch.stay_over = false;
        match who {
            Seeker::Hospital(patient) => {
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
            }
            Seeker::Community(placement) => {
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
            let generation = ch.crisis_generation;
            self.at(next, Event::ResidentCrisis { bed, generation });
        }
    }

    /// The residents' crisis rate changed at `t` (a dated value): every
    /// resident in their bed draws their next crisis again at the new rate
    /// (exact: the time to a crisis is memoryless); one away in a crisis
    /// draws it on their return, as always.
    pub(super) fn resident_crisis_rate_changed(&mut self, t: f64) {
        for bed in 0..self.ws.care_home_beds.len() as u32 {
            let ch = &mut self.ws.care_home_beds[bed as usize];
            if ch.held && ch.in_bed {
                ch.crisis_generation = ch.crisis_generation.wrapping_add(1);
                self.schedule_resident_crisis(t, bed);
            }
        }
    }

    pub(super) fn on_resident_crisis(&mut self, t: f64, bed: u32, generation: u32) {
        let ch = &mut self.ws.care_home_beds[bed as usize];
        if ch.crisis_generation != generation || !ch.in_bed {
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
        ch.crisis_generation = ch.crisis_generation.wrapping_add(1);
        ch.held = false;
        ch.in_bed = false;
        ch.stay_over = false;
        if bed < self.care_homes.beds {
            self.ws.care_home_free.push(bed);
        }
        self.care_homes.held -= 1;
        self.care_homes.level.add(t, -1.0, &self.prepared.window);
        self.fill_care_home_beds(t);
    }
}

//! Rehab (intermediate care) beds for pathway P2: a first-come first-served
//! wait from hospital, a stay, and maybe community nursing afterwards.

use super::{NONE, Sim};
use crate::model::observe::{Level, WaitMean};
use crate::model::trace::{Resource, Tracer};
use crate::scenario::ReferralClass;

/// Rehab beds in a replication.
#[derive(Default)]
pub(super) struct Rehab {
    /// Beds today (`rehab.beds`, or its dated change).
    pub(super) beds: u32,
    pub(super) held: u32,
    pub(super) level: Level,
    pub(super) waits: WaitMean,
}

impl<'p, T: Tracer> Sim<'p, T> {
    pub(super) fn fill_rehab_beds(&mut self, t: f64) {
        let window = self.prepared.window;
        while self.rehab.held < self.rehab.beds {
            let Some(patient) = self.ws.rehab_queue.pop_front() else {
                break;
            };
            self.rehab.held += 1;
            self.rehab.level.add(t, 1.0, &window);
            self.trace_took(t, Resource::RehabBed, patient);
            if window.contains(t) {
                let wait = t - self.pt(patient).requested_at;
                self.rehab.waits.record(wait / 24.0);
            }
            self.place_granted(t, patient);
        }
    }

    pub(super) fn on_rehab_stay_end(&mut self, t: f64, patient: u32) {
        let sc = self.sc;
        self.rehab.held -= 1;
        self.rehab.level.add(t, -1.0, &self.prepared.window);
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
}

//! The starting state (`docs/model.md`, "Starting state"): the patients of
//! `[start]` and its census put in their places at time zero, each drawing
//! the time left of what they are doing from a stream of their own. Runs
//! once per replication.

use super::{Arrival, Event, NONE, Sim, StreamSource};
use crate::engine::StreamRng;
use crate::model::trace::{Resource, Tracer};
use crate::scenario::Pathway;
use crate::scenario::dist::Dist;
use crate::scenario::start::{AcuteState, StartPlace};

use super::community::CommunityRequest;

/// The time left of a duration from `dist` under way for `elapsed` hours,
/// or, when that is not known, from the equilibrium residual.
pub(super) fn remaining(dist: &Dist, elapsed: Option<f64>, rng: &mut StreamRng) -> f64 {
    match elapsed {
        Some(e) => dist.sample_remaining(e, rng),
        None => dist.sample_equilibrium_remaining(rng),
    }
}

impl<'p, T: Tracer> Sim<'p, T> {
    /// Puts every starting patient in their place at time zero, in index
    /// order, then fills the acute beds and the community caseload from
    /// their queues.
    pub(super) fn start_patients(&mut self) {
        let sc = self.sc;
        if sc.start.is_empty() {
            return;
        }
        let window = self.prepared.window;
        for (i, sp) in sc.start.patients.iter().enumerate() {
            let key = self.families[StreamSource::StartingPatient as usize].key(i as u64);
            let elapsed = sp.elapsed_hours;
            let since = -elapsed.unwrap_or(0.0);
            match sp.place {
                StartPlace::Acute { frail, state } => {
                    let patient = self.new_patient(Arrival::new(key, frail, NONE));
                    self.census.arrived += 1;
                    self.census.in_bed += 1;
                    self.set_beds(0.0, self.beds.occupied + 1, self.beds.available);
                    self.trace_took(0.0, Resource::AcuteBed, patient);
                    let p = &mut self.ws.patients[patient as usize];
                    p.admitted_at = since;
                    match state {
                        AcuteState::InStay => {
                            let los = if frail {
                                &sc.acute.los_frail
                            } else {
                                &sc.acute.los_other
                            };
                            let left = remaining(los, elapsed, &mut p.rng);
                            self.settle_in_bed(0.0, patient, since, left, None, true);
                        }
                        AcuteState::Fit(pathway) => {
                            self.settle_in_bed(0.0, patient, since, 0.0, pathway, false);
                        }
                    }
                }
                StartPlace::EdWaiting { frail } => {
                    let patient = self.new_patient(Arrival::new(key, frail, NONE));
                    self.census.arrived += 1;
                    self.census.waiting_for_bed += 1;
                    self.pt(patient).admitted_at = since;
                    self.ws.bed_queue.push_back(patient);
                }
                StartPlace::Rehab => {
                    let patient = self.new_patient(Arrival::new(key, false, NONE));
                    self.census.arrived += 1;
                    self.census.left += 1;
                    let p = &mut self.ws.patients[patient as usize];
                    p.pathway = Pathway::P2;
                    let left = remaining(&sc.rehab.stay, elapsed, &mut p.rng);
                    self.rehab.held += 1;
                    self.rehab.level.add(0.0, 1.0, &window);
                    self.trace_took(0.0, Resource::RehabBed, patient);
                    self.at(left, Event::RehabStayEnd { patient });
                }
                StartPlace::Community(class) => {
                    let mut rng = StreamRng::new(key);
                    let left = remaining(&sc.community.episode[class.index()], elapsed, &mut rng);
                    self.community.held += 1;
                    self.community.held_level.add(0.0, 1.0, &window);
                    self.at(left, Event::CommunityEpisodeEnd);
                }
                StartPlace::CommunityWaiting(class) => {
                    let mut rng = StreamRng::new(key);
                    let episode = sc.community.episode[class.index()].sample(&mut rng);
                    self.ws.community_queues[class.index()].push_back(CommunityRequest {
                        at: since,
                        episode_hours: episode,
                        patient: NONE,
                    });
                    self.community.waiting_level.add(0.0, 1.0, &window);
                }
                StartPlace::MhBed => self.start_mh_patient(key, elapsed, false),
                StartPlace::MhOutOfArea => self.start_mh_patient(key, elapsed, true),
            }
        }
        let waiting = self.ws.bed_queue.len();
        self.check_queue(0.0, "acute beds", waiting);
        self.fill_acute_beds(0.0);
        let waiting: usize = self.ws.community_queues.iter().map(|q| q.len()).sum();
        self.check_queue(0.0, "community nursing", waiting);
        self.fill_community_places(0.0);
    }
}

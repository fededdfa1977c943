//! Community nursing (Buurtzorg-style teams): places on the caseload,
//! referrals of three classes (discharge support, admission avoidance,
//! community) waiting by strict priority, and episodes.

use std::collections::VecDeque;

use super::{Event, NONE, Sim};
use crate::model::observe::{Level, WaitMean};
use crate::model::trace::{TraceEvent, Tracer};
use crate::scenario::ReferralClass;

#[derive(Clone, Copy, Debug)]
pub(super) struct CommunityRequest {
    pub(super) at: f64,
    pub(super) episode_hours: f64,
    /// The patient waiting in hospital, or `NONE` for one at home.
    pub(super) patient: u32,
}

/// Community nursing in a replication.
pub(super) struct Community {
    /// Places on the caseload (teams x places per team).
    pub(super) places: u64,
    pub(super) held: u64,
    pub(super) held_level: Level,
    /// Referrals waiting, every class.
    pub(super) waiting_level: Level,
    /// Waits for a place, by referral class.
    pub(super) waits: [WaitMean; 3],
}

impl Community {
    pub(super) fn new(places: u64) -> Community {
        Community {
            places,
            held: 0,
            held_level: Level::default(),
            waiting_level: Level::default(),
            waits: [WaitMean::default(); 3],
        }
    }
}

impl<'p, T: Tracer> Sim<'p, T> {
    /// A referral of `class`; `patient` is the one waiting in hospital, or `NONE`.
    pub(super) fn refer_to_community(
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
        self.community
            .waiting_level
            .add(t, 1.0, &self.prepared.window);
        self.tracer
            .trace(TraceEvent::CommunityReferred { at: t, class });
        self.fill_community_places(t);
    }

    pub(super) fn fill_community_places(&mut self, t: f64) {
        let window = self.prepared.window;
        while self.community.held < self.community.places {
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
            self.community.waiting_level.add(t, -1.0, &window);
            self.community.held += 1;
            self.community.held_level.add(t, 1.0, &window);
            if window.contains(t) {
                self.community.waits[class.index()].record((t - req.at) / 24.0);
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

    pub(super) fn on_community_episode_end(&mut self, t: f64) {
        self.community.held -= 1;
        self.community
            .held_level
            .add(t, -1.0, &self.prepared.window);
        self.fill_community_places(t);
    }
}

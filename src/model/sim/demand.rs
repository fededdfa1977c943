//! Demand: the crisis stream (time-varying Poisson), community referrals
//! and care home placements from the community (homogeneous Poisson), and
//! the crises of readmissions and care home residents as they arrive.

use super::{Arrival, CANCEL_CHECK_EVENTS, Event, NONE, Sim, StreamSource, Timer};
use crate::engine::{StreamKey, StreamRng};
use crate::model::schedule::ArrivalCursor;
use crate::model::trace::Tracer;
use crate::scenario::ReferralClass;

use super::care_homes::Placement;

/// The arrival processes of a replication: their time streams and how many
/// of each have arrived (also to name the cause when a replication passes
/// a bound).
pub(super) struct Arrivals {
    /// Arrival-time streams of the crisis, referral and placement sources,
    /// indexed by their `Timer`.
    pub(super) times: [StreamRng; 3],
    pub(super) crises: u64,
    pub(super) crisis_cursor: ArrivalCursor,
    pub(super) readmissions: u64,
    pub(super) residents_crises: u64,
    pub(super) referrals: u64,
    pub(super) placements: u64,
    /// Where the referral and placement streams are in their grown
    /// profiles (unused without growth).
    pub(super) referral_cursor: ArrivalCursor,
    pub(super) placement_cursor: ArrivalCursor,
}

impl Arrivals {
    pub(super) fn new(times: [StreamRng; 3]) -> Arrivals {
        Arrivals {
            times,
            crises: 0,
            crisis_cursor: ArrivalCursor::start(),
            readmissions: 0,
            residents_crises: 0,
            referrals: 0,
            placements: 0,
            referral_cursor: ArrivalCursor::start(),
            placement_cursor: ArrivalCursor::start(),
        }
    }
}

impl<'p, T: Tracer> Sim<'p, T> {
    /// The crisis after the one at `t`, unless it falls after the end.
    #[inline]
    pub(super) fn next_crisis_time(&mut self, t: f64) -> Option<f64> {
        let e = self.arrivals.times[Timer::Crisis as usize].exp1();
        let cursor = &mut self.arrivals.crisis_cursor;
        self.prepared.arrivals.next_arrival(cursor, t, e, self.end)
    }

    pub(super) fn schedule_next_crisis(&mut self, t: f64) {
        if let Some(next) = self.next_crisis_time(t) {
            self.at_timer(Timer::Crisis, next, Event::NextCrisis);
        }
    }

    pub(super) fn on_next_crisis(&mut self, mut t: f64) {
        let sc = self.sc;
        loop {
            let key = self.families[StreamSource::Crisis as usize].key(self.arrivals.crises);
            self.arrivals.crises += 1;
            let mut rng = StreamRng::new(key);
            let frail = rng.chance(sc.demand.frail_share);
            self.crisis(
                t,
                Arrival {
                    key,
                    rng,
                    frail,
                    treatable: false,
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

    /// The next arrival of a Poisson source of `per_day` a day after `t`:
    /// homogeneous, or with the grown rate of the source's profile.
    pub(super) fn schedule_next_poisson(
        &mut self,
        t: f64,
        per_day: f64,
        timer: Timer,
        event: Event,
    ) {
        let profiled = match timer {
            Timer::Referral => self.prepared.referral_profile.is_some(),
            _ => self.prepared.placement_profile.is_some(),
        };
        // With a profile (growth or a dated rate) the rate can rise later.
        if per_day > 0.0 || profiled {
            let e = self.arrivals.times[timer as usize].exp1();
            let (profile, cursor) = match timer {
                Timer::Referral => (
                    &self.prepared.referral_profile,
                    &mut self.arrivals.referral_cursor,
                ),
                _ => (
                    &self.prepared.placement_profile,
                    &mut self.arrivals.placement_cursor,
                ),
            };
            let next = match profile {
                None => Some(t + e / (per_day / 24.0)),
                Some(profile) => profile.next_arrival(cursor, t, e, self.end),
            };
            if let Some(next) = next {
                self.at_timer(timer, next, event);
            }
        }
    }

    pub(super) fn schedule_next_referral(&mut self, t: f64) {
        let per_day = self.sc.community.referrals_per_day;
        self.schedule_next_poisson(t, per_day, Timer::Referral, Event::NextReferral);
    }

    pub(super) fn on_next_referral(&mut self, t: f64) {
        let sc = self.sc;
        let key = self.families[StreamSource::Referral as usize].key(self.arrivals.referrals);
        self.arrivals.referrals += 1;
        let mut rng = StreamRng::new(key);
        let class = ReferralClass::Community;
        let episode = sc.community.episode[class.index()].sample(&mut rng);
        self.refer_to_community(t, class, episode, NONE);
        self.schedule_next_referral(t);
    }

    pub(super) fn schedule_next_placement(&mut self, t: f64) {
        let per_day = self.sc.care_homes.community_placements_per_day;
        self.schedule_next_poisson(t, per_day, Timer::Placement, Event::NextPlacement);
    }

    pub(super) fn on_next_placement(&mut self, t: f64) {
        let key = self.families[StreamSource::Placement as usize].key(self.arrivals.placements);
        self.arrivals.placements += 1;
        self.ask_care_home_placement(t, Placement { at: t, key });
        self.schedule_next_placement(t);
    }

    /// A crisis of a readmission or a care home resident (the stream's own
    /// crises have `crisis` inlined into their loop).
    #[inline(never)]
    pub(super) fn other_crisis(&mut self, t: f64, key: StreamKey, frail: bool, home_bed: u32) {
        self.crisis(t, Arrival::new(key, frail, home_bed));
    }
}

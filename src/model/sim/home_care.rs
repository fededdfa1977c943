//! Home care (`docs/model.md`, "Home care"): packages of care at home that
//! P1 patients ask for when the scenario has a `[home_care]` table, and
//! starts from the community competing with them.

use super::care_homes::Placement;
use super::{Event, NONE, Sim, StreamSource, Timer};
use crate::engine::StreamRng;
use crate::model::observe::{Level, WaitMean};
use crate::model::schedule::ArrivalCursor;
use crate::model::trace::Tracer;
use crate::scenario::{HomeCare, ReferralClass};

/// Home care in a replication (the queues are in the workspace).
pub(super) struct HomeCareState {
    /// Packages that can run now (`home_care.packages` with its dated
    /// changes).
    pub(super) packages: u32,
    /// Packages held (granted and not yet ended).
    pub(super) held: u32,
    pub(super) level: Level,
    pub(super) waits: WaitMean,
    /// Starts from the community so far (their arrival numbers).
    pub(super) starts: u64,
    /// Arrival times of the starts from the community.
    times: StreamRng,
    /// Where the starts are in their grown profile (unused without growth).
    cursor: ArrivalCursor,
}

impl HomeCareState {
    pub(super) fn new(times: StreamRng, packages: u32) -> HomeCareState {
        HomeCareState {
            packages,
            held: 0,
            level: Level::default(),
            waits: WaitMean::default(),
            starts: 0,
            times,
            cursor: ArrivalCursor::start(),
        }
    }
}

impl<'p, T: Tracer> Sim<'p, T> {
    /// The scenario's home care, when it has some.
    #[inline]
    fn home_care_sc(&self) -> Option<&'p HomeCare> {
        self.sc.home_care.as_ref()
    }

    /// The packages running at time zero, each with the time left drawn from
    /// its own stream.
    pub(super) fn start_home_care(&mut self) {
        let Some(hc) = self.home_care_sc() else {
            return;
        };
        for i in 0..hc.initial_packages {
            let key = self.families[StreamSource::HomeCareInitial as usize].key(u64::from(i));
            let left = hc
                .package
                .sample_equilibrium_remaining(&mut StreamRng::new(key));
            self.at(left, Event::HomeCarePackageEnd);
        }
        self.home_care.held = hc.initial_packages;
        self.home_care
            .level
            .set(0.0, f64::from(hc.initial_packages), &self.prepared.window);
    }

    /// The first start from the community.
    pub(super) fn start_home_care_arrivals(&mut self) {
        self.schedule_next_home_care_start(0.0);
    }

    fn schedule_next_home_care_start(&mut self, t: f64) {
        let Some(hc) = self.home_care_sc() else {
            return;
        };
        if hc.community_starts_per_day > 0.0 || self.prepared.home_care_profile.is_some() {
            let e = self.home_care.times.exp1();
            let next = match &self.prepared.home_care_profile {
                None => Some(t + e / (hc.community_starts_per_day / 24.0)),
                Some(profile) => profile.next_arrival(&mut self.home_care.cursor, t, e, self.end),
            };
            if let Some(next) = next {
                self.at_timer(Timer::HomeCareStart, next, Event::NextHomeCareStart);
            }
        }
    }

    pub(super) fn on_next_home_care_start(&mut self, t: f64) {
        let key = self.families[StreamSource::HomeCareStart as usize].key(self.home_care.starts);
        self.home_care.starts += 1;
        self.ws
            .home_care_community_queue
            .push_back(Placement { at: t, key });
        let waiting = self.ws.home_care_community_queue.len();
        self.check_queue(t, "home care (community starts)", waiting);
        self.fill_home_care(t);
        self.schedule_next_home_care_start(t);
    }

    /// A P1 patient asks for a package at the end of the process delay.
    pub(super) fn ask_home_care(&mut self, t: f64, patient: u32) {
        self.ws.home_care_hospital_queue.push_back(patient);
        let waiting = self.ws.home_care_hospital_queue.len();
        self.check_queue(t, "home care (from hospital)", waiting);
        self.fill_home_care(t);
    }

    /// Grants free packages: hospital first when `hospital_first`, else
    /// first come first served (hospital first on a tie).
    pub(super) fn fill_home_care(&mut self, t: f64) {
        let Some(hc) = self.home_care_sc() else {
            return;
        };
        let window = self.prepared.window;
        while self.home_care.held < self.home_care.packages {
            let from_hospital = match (
                self.ws.home_care_hospital_queue.front(),
                self.ws.home_care_community_queue.front(),
            ) {
                (None, None) => break,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some(&h), Some(c)) => {
                    hc.hospital_first || self.ws.patients[h as usize].requested_at <= c.at
                }
            };
            self.home_care.held += 1;
            self.home_care.level.add(t, 1.0, &window);
            if from_hospital {
                let Some(patient) = self.ws.home_care_hospital_queue.pop_front() else {
                    unreachable!("the hospital queue has a front")
                };
                if window.contains(t) {
                    let wait = t - self.ws.patients[patient as usize].requested_at;
                    self.home_care.waits.record(wait / 24.0);
                }
                self.place_granted(t, patient);
            } else {
                let Some(start) = self.ws.home_care_community_queue.pop_front() else {
                    unreachable!("the community queue has a front")
                };
                if window.contains(t) {
                    self.home_care.waits.record((t - start.at) / 24.0);
                }
                let package = hc.package.sample(&mut StreamRng::new(start.key));
                self.at(t + package, Event::HomeCarePackageEnd);
            }
        }
    }

    /// A P1 patient with a package leaves hospital: the package runs from
    /// now, then the community nursing follow-up (drawn from their stream).
    pub(super) fn home_care_starts(&mut self, t: f64, patient: u32) {
        let Some(hc) = self.home_care_sc() else {
            return;
        };
        let sc = self.sc;
        let rng = &mut self.ws.patients[patient as usize].rng;
        let package = hc.package.sample(rng);
        let episode = if hc.community_follow_up > 0.0 && rng.chance(hc.community_follow_up) {
            Some(sc.community.episode[ReferralClass::Discharge.index()].sample(rng))
        } else {
            None
        };
        self.at(t + package, Event::HomeCarePackageEnd);
        if let Some(episode) = episode {
            self.refer_to_community(t, ReferralClass::Discharge, episode, NONE);
        }
    }

    pub(super) fn on_home_care_package_end(&mut self, t: f64) {
        self.home_care.held -= 1;
        self.home_care.level.add(t, -1.0, &self.prepared.window);
        self.fill_home_care(t);
    }

    /// `home_care_utilisation` and `home_care_wait_mean_days`.
    pub(super) fn finish_home_care(&self, m: &mut crate::model::metrics::Metrics) {
        use crate::model::metrics::Metric;
        let Some(hc) = self.home_care_sc() else {
            return;
        };
        let w = self.prepared.window;
        // Over the packages available on average (dated changes included).
        let service = crate::model::years::Service::HomeCarePackages;
        let packages = self
            .prepared
            .counts
            .mean_over(service, hc.packages, w.start, w.end);
        if packages > 0.0 {
            m[Metric::HomeCareUtilisation] =
                self.home_care.level.area_at_end(&w) / w.hours() / packages;
        }
        m[Metric::HomeCareWaitMeanDays] = self.home_care.waits.mean();
    }
}

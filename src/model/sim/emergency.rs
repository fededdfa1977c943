//! The emergency department and the frailty assessment unit (FAU): the ED's
//! decision for a patient (the frailty unit for a frail patient when it is
//! open and has a place, else admission or home), the unit's assessment and
//! same-day discharge, and leaving the crisis pathway without a stay.

use super::{Event, NONE, Sim};
use crate::engine::StreamRng;
use crate::model::metrics::Metric;
use crate::model::trace::{Resource, Tracer};
use crate::scenario::ReferralClass;

/// What the emergency department decided.
pub(super) enum EdOutcome {
    /// Assessed on the frailty unit, for this many hours.
    FrailtyUnit(f64),
    Admit,
    Home,
}

/// The frailty unit in a replication: places in use.
#[derive(Default)]
pub(super) struct FrailtyUnit {
    /// Places today (`frailty_unit.slots`, or its dated change).
    pub(super) slots: u32,
    pub(super) busy: u32,
}

impl<'p, T: Tracer> Sim<'p, T> {
    /// Resolved without admission by the PRU or the FAU: maybe a community
    /// follow-up, then home.
    pub(super) fn avoided_admission(&mut self, t: f64, patient: u32, follow_up: f64) {
        let sc = self.sc;
        let class = ReferralClass::Avoidance;
        let p = &mut self.ws.patients[patient as usize];
        if p.rng.chance(follow_up) {
            let episode = sc.community.episode[class.index()].sample(&mut p.rng);
            self.refer_to_community(t, class, episode, NONE);
        }
        self.go_home(t, patient);
    }

    /// Leaves the crisis pathway without a hospital stay.
    pub(super) fn go_home(&mut self, t: f64, patient: u32) {
        let home_bed = self.pt(patient).home_bed;
        self.leave_crisis(t, home_bed);
        self.release_patient(patient);
    }

    /// Home (to their care home bed, for a resident) without a hospital stay.
    pub(super) fn leave_crisis(&mut self, t: f64, home_bed: u32) {
        self.census.left += 1;
        if home_bed != NONE {
            self.resident_returns(t, home_bed);
        }
    }

    /// The emergency department for `patient`, in the arena (after a PRU visit).
    pub(super) fn emergency_department(&mut self, t: f64, patient: u32) {
        let (frail, treatable) = (self.pt(patient).frail, self.pt(patient).treatable);
        let mut rng = self.pt(patient).rng.clone();
        let outcome = self.ed_decision(t, frail, treatable, &mut rng);
        self.pt(patient).rng = rng;
        match outcome {
            EdOutcome::FrailtyUnit(d) => {
                self.trace_took(t, Resource::FrailtyUnitPlace, patient);
                self.at(t + d, Event::FrailtyUnitAssessmentEnd { patient });
            }
            EdOutcome::Admit => self.admit(t, patient),
            EdOutcome::Home => self.go_home(t, patient),
        }
    }

    /// The emergency department's decision for a patient (`frail` or not,
    /// `treatable` at home or not, drawing from `rng`): the frailty unit
    /// (taken here, for the drawn assessment time), admission, or home.
    #[inline]
    pub(super) fn ed_decision(
        &mut self,
        t: f64,
        frail: bool,
        treatable: bool,
        rng: &mut StreamRng,
    ) -> EdOutcome {
        let sc = self.sc;
        self.count(t, Metric::EdAttendances);
        let admit_share = if frail {
            if self.frailty_unit.busy < self.frailty_unit.slots
                && let Some(hours) = self.frailty_unit_takes(t, rng)
            {
                return EdOutcome::FrailtyUnit(hours);
            }
            self.count(t, Metric::FauMissed);
            sc.ed.frail_admit_share
        } else {
            sc.ed.other_admit_share
        };
        let admit_share = match sc.ed.home_treatable_admit_share {
            Some(h) if treatable => h,
            _ => admit_share,
        };
        if rng.chance(admit_share) {
            EdOutcome::Admit
        } else {
            EdOutcome::Home
        }
    }

    /// A frail patient on the frailty unit if it is open (a place is free):
    /// the assessment's hours. Out of line, so that the ED's decision for
    /// everyone else saves no registers for it.
    #[inline(never)]
    fn frailty_unit_takes(&mut self, t: f64, rng: &mut StreamRng) -> Option<f64> {
        if !self.prepared.frailty_unit_hours.is_open(t) {
            return None;
        }
        self.count(t, Metric::FauAssessed);
        self.frailty_unit.busy += 1;
        self.census.in_frailty_unit += 1;
        Some(self.sc.frailty_unit.assessment.sample(rng))
    }

    pub(super) fn on_frailty_unit_end(&mut self, t: f64, patient: u32) {
        let settings = &self.sc.frailty_unit;
        self.frailty_unit.busy -= 1;
        self.census.in_frailty_unit -= 1;
        self.trace_released(t, Resource::FrailtyUnitPlace, patient);
        let p = &mut self.ws.patients[patient as usize];
        let discharged = match self.sc.ed.home_treatable_admit_share {
            Some(h) if p.treatable => !p.rng.chance(h),
            _ => p.rng.chance(settings.discharged_same_day),
        };
        if discharged {
            self.count(t, Metric::FauDischarged);
            self.avoided_admission(t, patient, settings.community_follow_up);
        } else {
            self.admit(t, patient);
        }
    }
}

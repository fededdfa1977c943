//! The physician response unit (PRU): a car with a senior clinician that
//! sees an eligible crisis at home while the unit is open and a car is free,
//! and treats the patient there or sends them on to the emergency department.
//! Every crisis enters the model here (`crisis`).

use super::{Arrival, Event, Sim};
use crate::model::metrics::Metric;
use crate::model::observe::Level;
use crate::model::trace::{Resource, TraceEvent, Tracer};

use super::emergency::EdOutcome;

/// The PRU in a replication: cars on a visit, and the same as a level over
/// time (for `pru_utilisation`).
#[derive(Default)]
pub(super) struct Pru {
    /// Cars today (`pru.cars`, or its dated change).
    pub(super) cars: u32,
    pub(super) busy: u32,
    pub(super) busy_level: Level,
}

impl<'p, T: Tracer> Sim<'p, T> {
    /// A crisis from any source: the PRU if eligible and able, else the ED.
    /// The patient takes a place in the arena only if the crisis lasts
    /// beyond this instant (a PRU visit, the frailty unit, an admission).
    #[inline(always)]
    pub(super) fn crisis(&mut self, t: f64, mut a: Arrival) {
        let sc = self.sc;
        self.count(t, Metric::Crises);
        self.census.arrived += 1;
        self.tracer.trace(TraceEvent::Crisis { at: t });
        if a.rng.chance(sc.pru.eligible_share) {
            self.count(t, Metric::PruEligible);
            if sc.ed.home_treatable_admit_share.is_some() {
                a.treatable = a.rng.chance(sc.pru.treated_at_home);
            }
            if !self.prepared.pru_hours.is_open(t) {
                self.count(t, Metric::PruMissedClosed);
            } else if self.pru.busy >= self.pru.cars {
                self.count(t, Metric::PruMissedBusy);
            } else {
                self.count(t, Metric::PruVisits);
                self.pru.busy += 1;
                self.pru.busy_level.add(t, 1.0, &self.prepared.window);
                self.census.in_pru += 1;
                let visit = sc.pru.visit.sample(&mut a.rng);
                let patient = self.new_patient(a);
                self.trace_took(t, Resource::PruCar, patient);
                self.at(t + visit, Event::PruVisitEnd { patient });
                return;
            }
        }
        match self.ed_decision(t, a.frail, a.treatable, &mut a.rng) {
            EdOutcome::FrailtyUnit(d) => {
                let patient = self.new_patient(a);
                self.trace_took(t, Resource::FrailtyUnitPlace, patient);
                self.at(t + d, Event::FrailtyUnitAssessmentEnd { patient });
            }
            EdOutcome::Admit => {
                let patient = self.new_patient(a);
                self.admit(t, patient);
            }
            EdOutcome::Home => self.leave_crisis(t, a.home_bed),
        }
    }

    pub(super) fn on_pru_visit_end(&mut self, t: f64, patient: u32) {
        let sc = self.sc;
        self.pru.busy -= 1;
        self.pru.busy_level.add(t, -1.0, &self.prepared.window);
        self.census.in_pru -= 1;
        self.trace_released(t, Resource::PruCar, patient);
        let treated = if sc.ed.home_treatable_admit_share.is_some() {
            self.pt(patient).treatable
        } else {
            self.pt(patient).rng.chance(sc.pru.treated_at_home)
        };
        if treated {
            self.count(t, Metric::PruTreatedAtHome);
            self.avoided_admission(t, patient, sc.pru.community_follow_up);
        } else {
            self.emergency_department(t, patient);
        }
    }
}

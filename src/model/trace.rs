//! What a replication can report beyond its metrics, for verification: a
//! stream of [`TraceEvent`]s to a [`Tracer`], and where the crisis patients
//! are at the end ([`Census`]).

use crate::scenario::ReferralClass;

/// Moments of a run that verification needs to see (whole run, warm-up
/// included). Times are simulated hours.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TraceEvent {
    /// A community nursing place granted to a referral of `class` that asked
    /// at `requested_at`.
    CommunityGranted {
        /// When the place was granted, hours.
        at: f64,
        /// The referral's class.
        class: ReferralClass,
        /// When the referral joined the waiting list, hours.
        requested_at: f64,
    },
    /// Occupied acute beds or beds available changed (each change, in order).
    Beds {
        /// When the change happened, hours.
        at: f64,
        /// Acute beds occupied after the change.
        occupied: u32,
        /// Acute beds available after the change.
        available: u32,
    },
    /// A crisis from any source (new, care home resident's, readmission).
    Crisis {
        /// When the crisis happened, hours.
        at: f64,
    },
    /// A referral of `class` joined the community nursing waiting list.
    CommunityReferred {
        /// When the referral joined the list, hours.
        at: f64,
        /// The referral's class.
        class: ReferralClass,
    },
    /// `patient` (an arena index, reused only after the patient has left
    /// every traced resource) started to hold one unit of `resource`.
    Took {
        /// When the patient took the unit, hours.
        at: f64,
        /// The resource taken.
        resource: Resource,
        /// The patient's arena index.
        patient: u32,
    },
    /// `patient` gave back the unit of `resource` it held.
    Released {
        /// When the patient gave the unit back, hours.
        at: f64,
        /// The resource given back.
        resource: Resource,
        /// The patient's arena index.
        patient: u32,
    },
    /// A service's count changed on a date (`docs/model.md`, "Capacity over
    /// time"); the acute beds are in [`TraceEvent::Beds`].
    Capacity {
        /// When the change happened (00:00 of its date), hours.
        at: f64,
        /// The service.
        service: crate::model::years::Service,
        /// The count from then on.
        count: u32,
    },
}

/// Resources whose holding times [`TraceEvent::Took`] and
/// [`TraceEvent::Released`] report (for Little's law).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    /// A PRU car, held for a visit.
    PruCar,
    /// An acute bed, held from admission until the patient leaves hospital.
    AcuteBed,
    /// A rehab bed, held for a rehab stay.
    RehabBed,
    /// A local mental health bed.
    MhBed,
    /// A mental health supported accommodation place.
    SupportedPlace,
    /// A frailty unit place, held for an assessment.
    FrailtyUnitPlace,
    /// A CRHT place, held for an episode (mental health patients' indices).
    CrhtPlace,
}

/// Receives [`TraceEvent`]s. The unit type ignores them, and a normal run
/// compiles to no tracing at all.
pub trait Tracer {
    /// Receives one event, in the order the run makes them.
    fn trace(&mut self, event: TraceEvent);

    /// True when the tracer records nothing, so a replication already
    /// simulated need not run again for it.
    fn is_silent(&self) -> bool {
        false
    }
}

impl Tracer for () {
    #[inline(always)]
    fn trace(&mut self, _: TraceEvent) {}

    fn is_silent(&self) -> bool {
        true
    }
}

impl Tracer for Vec<TraceEvent> {
    fn trace(&mut self, event: TraceEvent) {
        self.push(event);
    }
}

/// Where the crisis patients are (counts over the whole run, warm-up included).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Census {
    /// Crisis patients created (new, residents', readmissions).
    pub arrived: u64,
    /// On a PRU visit.
    pub in_pru: u64,
    /// Being assessed in the frailty unit.
    pub in_frailty_unit: u64,
    /// Waiting for an acute bed.
    pub waiting_for_bed: u64,
    /// In an acute bed (until they leave hospital, medically fit or not).
    pub in_bed: u64,
    /// Left the crisis pathway: home (from the PRU, ED or FAU, or after a
    /// hospital stay, to rehab or to a care home).
    pub left: u64,
    /// Mental health patients created (crises at the ED, referrals,
    /// readmissions), and where they are: every one is in exactly one of
    /// the places below or has left.
    pub mh_arrived: u64,
    /// In the ED's liaison assessment.
    pub mh_in_liaison: u64,
    /// Waiting for a CRHT place (`when_full = "wait"`).
    pub mh_waiting_crht: u64,
    /// On the CRHT caseload.
    pub mh_in_crht: u64,
    /// Waiting in the ED for a local mental health bed.
    pub mh_waiting_bed: u64,
    /// In a local mental health bed (delays included).
    pub mh_in_bed: u64,
    /// Placed out of area.
    pub mh_out_of_area: u64,
    /// In supported accommodation.
    pub mh_in_supported: u64,
    /// Left the mental health system: home, to a care home, or at the end
    /// of supported accommodation.
    pub mh_left: u64,
}

impl Census {
    /// Mental health patients in some place or gone: `mh_arrived` when
    /// every patient is counted exactly once.
    pub fn mh_accounted(&self) -> u64 {
        self.mh_in_liaison
            + self.mh_waiting_crht
            + self.mh_in_crht
            + self.mh_waiting_bed
            + self.mh_in_bed
            + self.mh_out_of_area
            + self.mh_in_supported
            + self.mh_left
    }
}

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
        at: f64,
        class: ReferralClass,
        requested_at: f64,
    },
    /// Occupied acute beds or beds available changed (each change, in order).
    Beds {
        at: f64,
        occupied: u32,
        available: u32,
    },
    /// A crisis from any source (new, care home resident's, readmission).
    Crisis { at: f64 },
    /// A referral of `class` joined the community nursing waiting list.
    CommunityReferred { at: f64, class: ReferralClass },
    /// `patient` (an arena index, reused only after the patient has left
    /// every traced resource) started to hold one unit of `resource`.
    Took {
        at: f64,
        resource: Resource,
        patient: u32,
    },
    /// `patient` gave back the unit of `resource` it held.
    Released {
        at: f64,
        resource: Resource,
        patient: u32,
    },
}

/// Resources whose holding times [`TraceEvent::Took`] and
/// [`TraceEvent::Released`] report (for Little's law).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    PruCar,
    AcuteBed,
    RehabBed,
    /// A local mental health bed.
    MhBed,
    /// A mental health supported accommodation place.
    SupportedPlace,
}

/// Receives [`TraceEvent`]s. The unit type ignores them, and a normal run
/// compiles to no tracing at all.
pub trait Tracer {
    fn trace(&mut self, event: TraceEvent);
}

impl Tracer for () {
    #[inline(always)]
    fn trace(&mut self, _: TraceEvent) {}
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
    pub in_pru: u64,
    pub in_fau: u64,
    pub waiting_for_bed: u64,
    pub in_bed: u64,
    /// Left the crisis pathway: home (from the PRU, ED or FAU, or after a
    /// hospital stay, to rehab or to a care home).
    pub left: u64,
    /// Mental health patients created (crises at the ED, referrals,
    /// readmissions), and where they are: every one is in exactly one of
    /// the places below or has left.
    pub mh_arrived: u64,
    pub mh_in_liaison: u64,
    pub mh_waiting_crht: u64,
    pub mh_in_crht: u64,
    pub mh_waiting_bed: u64,
    pub mh_in_bed: u64,
    pub mh_out_of_area: u64,
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

//! The results of one replication, under the names of `MODEL.md` ("Results").
//!
//! This table is the one source of truth for metric names, units and order:
//! the model fills a [`Metrics`] by [`Metric`], and every writer (CSV, JSON,
//! summary table) iterates [`Metric::ALL`].

/// Every metric, in the order of `MODEL.md`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Metric {
    Crises,
    Readmissions,
    EdAttendances,
    Admissions,
    AdmissionsAvoidedDirect,
    PruEligible,
    PruVisits,
    PruMissedBusy,
    PruMissedClosed,
    PruTreatedAtHome,
    PruUtilisation,
    FauAssessed,
    FauDischarged,
    FauMissed,
    BedOccupancyMean,
    MidnightCensusMean,
    MidnightCensusP95,
    BedsFullShare,
    BedWaitMeanHours,
    BedWaitP95Hours,
    BedWaitsOver4h,
    BedWaitsOver12h,
    DelayedPatientsP1,
    DelayedPatientsP2,
    DelayedPatientsP3,
    DelayedBedDaysP1,
    DelayedBedDaysP2,
    DelayedBedDaysP3,
    DelayedBedDays,
    ProcessDelayBedDays,
    CommunityUtilisation,
    CommunityWaitingMean,
    CommunityWaitMeanDaysDischarge,
    CommunityWaitMeanDaysAvoidance,
    CommunityWaitMeanDaysCommunity,
    RehabOccupancyMean,
    RehabWaitMeanDays,
    CareHomeOccupancyMean,
    CareHomeWaitMeanDays,
}

/// Number of metrics.
pub const METRIC_COUNT: usize = 39;

/// Name, unit and meaning of a metric.
#[derive(Clone, Copy, Debug)]
pub struct MetricDef {
    pub name: &'static str,
    pub unit: &'static str,
    pub description: &'static str,
}

const fn def(name: &'static str, unit: &'static str, description: &'static str) -> MetricDef {
    MetricDef {
        name,
        unit,
        description,
    }
}

const DEFS: [MetricDef; METRIC_COUNT] = [
    def(
        "crises",
        "patients",
        "Crises from every source (new, care home residents', readmissions)",
    ),
    def(
        "readmissions",
        "patients",
        "Readmissions arriving as crises",
    ),
    def(
        "ed_attendances",
        "patients",
        "Emergency department attendances, PRU conveyances included",
    ),
    def(
        "admissions",
        "patients",
        "Emergency admissions, counted at the decision to admit",
    ),
    def(
        "admissions_avoided_direct",
        "patients",
        "PRU treated at home plus frailty unit discharged same day",
    ),
    def(
        "pru_eligible",
        "patients",
        "Crises eligible for the physician response unit",
    ),
    def(
        "pru_visits",
        "patients",
        "PRU visits, counted when the visit starts",
    ),
    def(
        "pru_missed_busy",
        "patients",
        "Eligible crises missed because every car was busy",
    ),
    def(
        "pru_missed_closed",
        "patients",
        "Eligible crises missed because the PRU was closed",
    ),
    def(
        "pru_treated_at_home",
        "patients",
        "PRU visits ending with treatment at home",
    ),
    def(
        "pru_utilisation",
        "share",
        "Busy car-hours / open car-hours",
    ),
    def(
        "fau_assessed",
        "patients",
        "Frailty unit assessments, counted when they start",
    ),
    def(
        "fau_discharged",
        "patients",
        "Frailty unit patients discharged the same day",
    ),
    def(
        "fau_missed",
        "patients",
        "Frail ED patients the frailty unit could not take (closed or full)",
    ),
    def(
        "bed_occupancy_mean",
        "beds",
        "Time-averaged occupied acute beds",
    ),
    def(
        "midnight_census_mean",
        "beds",
        "Mean occupied acute beds at 00:00",
    ),
    def(
        "midnight_census_p95",
        "beds",
        "95th percentile of occupied acute beds at 00:00",
    ),
    def(
        "beds_full_share",
        "share",
        "Share of time with occupied beds >= beds available",
    ),
    def(
        "bed_wait_mean_hours",
        "hours",
        "Mean decision-to-admit wait for a bed",
    ),
    def(
        "bed_wait_p95_hours",
        "hours",
        "95th percentile decision-to-admit wait",
    ),
    def(
        "bed_waits_over_4h",
        "patients",
        "Decision-to-admit waits over 4 hours",
    ),
    def(
        "bed_waits_over_12h",
        "patients",
        "Decision-to-admit waits over 12 hours",
    ),
    def(
        "delayed_patients_p1",
        "patients",
        "P1 patients with a capacity wait",
    ),
    def(
        "delayed_patients_p2",
        "patients",
        "P2 patients with a capacity wait",
    ),
    def(
        "delayed_patients_p3",
        "patients",
        "P3 patients with a capacity wait",
    ),
    def(
        "delayed_bed_days_p1",
        "bed_days",
        "Bed days lost waiting for community nursing",
    ),
    def(
        "delayed_bed_days_p2",
        "bed_days",
        "Bed days lost waiting for a rehab bed",
    ),
    def(
        "delayed_bed_days_p3",
        "bed_days",
        "Bed days lost waiting for a care home bed",
    ),
    def(
        "delayed_bed_days",
        "bed_days",
        "Delayed transfers of care: capacity bed days, all pathways",
    ),
    def(
        "process_delay_bed_days",
        "bed_days",
        "Bed days from medically fit to leaving that are not capacity waits",
    ),
    def(
        "community_utilisation",
        "share",
        "Held community caseload places / places",
    ),
    def(
        "community_waiting_mean",
        "patients",
        "Time-averaged community nursing waiting list",
    ),
    def(
        "community_wait_mean_days_discharge",
        "days",
        "Mean wait for community nursing, discharge class",
    ),
    def(
        "community_wait_mean_days_avoidance",
        "days",
        "Mean wait for community nursing, avoidance class",
    ),
    def(
        "community_wait_mean_days_community",
        "days",
        "Mean wait for community nursing, community class",
    ),
    def(
        "rehab_occupancy_mean",
        "beds",
        "Time-averaged rehab beds held",
    ),
    def("rehab_wait_mean_days", "days", "Mean wait for a rehab bed"),
    def(
        "care_home_occupancy_mean",
        "beds",
        "Time-averaged care home beds held",
    ),
    def(
        "care_home_wait_mean_days",
        "days",
        "Mean wait for a care home bed, hospital and community",
    ),
];

impl Metric {
    /// Every metric, in output order.
    pub const ALL: [Metric; METRIC_COUNT] = [
        Metric::Crises,
        Metric::Readmissions,
        Metric::EdAttendances,
        Metric::Admissions,
        Metric::AdmissionsAvoidedDirect,
        Metric::PruEligible,
        Metric::PruVisits,
        Metric::PruMissedBusy,
        Metric::PruMissedClosed,
        Metric::PruTreatedAtHome,
        Metric::PruUtilisation,
        Metric::FauAssessed,
        Metric::FauDischarged,
        Metric::FauMissed,
        Metric::BedOccupancyMean,
        Metric::MidnightCensusMean,
        Metric::MidnightCensusP95,
        Metric::BedsFullShare,
        Metric::BedWaitMeanHours,
        Metric::BedWaitP95Hours,
        Metric::BedWaitsOver4h,
        Metric::BedWaitsOver12h,
        Metric::DelayedPatientsP1,
        Metric::DelayedPatientsP2,
        Metric::DelayedPatientsP3,
        Metric::DelayedBedDaysP1,
        Metric::DelayedBedDaysP2,
        Metric::DelayedBedDaysP3,
        Metric::DelayedBedDays,
        Metric::ProcessDelayBedDays,
        Metric::CommunityUtilisation,
        Metric::CommunityWaitingMean,
        Metric::CommunityWaitMeanDaysDischarge,
        Metric::CommunityWaitMeanDaysAvoidance,
        Metric::CommunityWaitMeanDaysCommunity,
        Metric::RehabOccupancyMean,
        Metric::RehabWaitMeanDays,
        Metric::CareHomeOccupancyMean,
        Metric::CareHomeWaitMeanDays,
    ];

    /// Position in [`Metric::ALL`] and in [`Metrics`].
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn def(self) -> &'static MetricDef {
        &DEFS[self.index()]
    }

    /// The name used in every output (`"delayed_bed_days"`).
    pub fn name(self) -> &'static str {
        self.def().name
    }

    pub fn unit(self) -> &'static str {
        self.def().unit
    }

    /// Looks a metric up by its output name.
    pub fn from_name(name: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// One replication's value of every metric.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Metrics(pub [f64; METRIC_COUNT]);

impl Default for Metrics {
    fn default() -> Self {
        Metrics([0.0; METRIC_COUNT])
    }
}

impl std::ops::Index<Metric> for Metrics {
    type Output = f64;
    fn index(&self, m: Metric) -> &f64 {
        &self.0[m.index()]
    }
}

impl std::ops::IndexMut<Metric> for Metrics {
    fn index_mut(&mut self, m: Metric) -> &mut f64 {
        &mut self.0[m.index()]
    }
}

/// The daily series of `MODEL.md`: one value per midnight in the window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Series {
    /// Occupied acute beds at 00:00 (patients waiting in the ED excluded).
    MidnightCensus,
    /// Patients in a capacity wait (P1-P3) at 00:00.
    DelayedPatients,
    /// Community nursing waiting list at 00:00, every class.
    CommunityWaitingList,
}

impl Series {
    pub const ALL: [Series; 3] = [
        Series::MidnightCensus,
        Series::DelayedPatients,
        Series::CommunityWaitingList,
    ];

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        [
            "midnight_census",
            "delayed_patients",
            "community_waiting_list",
        ][self.index()]
    }

    pub fn unit(self) -> &'static str {
        ["beds", "patients", "patients"][self.index()]
    }
}

/// Everything one replication reports.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplicationResult {
    /// Replication index (0-based).
    pub replication: u32,
    pub metrics: Metrics,
    /// `daily[s.index()][day]` for each [`Series`]; every series has one value
    /// per midnight in the window, day 0 being the first.
    pub daily: [Vec<f64>; 3],
    /// Events the engine processed (for throughput figures; not a model output).
    pub events: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_consistent() {
        for (i, m) in Metric::ALL.iter().enumerate() {
            assert_eq!(m.index(), i);
            assert_eq!(Metric::from_name(m.name()), Some(*m));
        }
        let mut names: Vec<_> = DEFS.iter().map(|d| d.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), METRIC_COUNT);
    }
}

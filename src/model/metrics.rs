//! The results of one replication, under the names of `docs/model.md` ("Metrics").
//!
//! This table is the one source of truth for metric names, units and order:
//! the model fills a [`Metrics`] by [`Metric`], and every writer (CSV, JSON,
//! summary table) iterates [`Metric::ALL`].

/// Declares every metric once: the enum variant, its output name, unit and
/// meaning, in output order. The enum, [`METRIC_COUNT`], [`Metric::ALL`] and
/// the definitions table are all generated from this one list.
macro_rules! metrics {
    ($($variant:ident: $name:literal, $unit:literal, $description:literal;)+) => {
        /// Every metric, in output order (`docs/model.md`, "Metrics").
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Metric {
            $(#[doc = $description] $variant,)+
        }

        /// Number of metrics.
        pub const METRIC_COUNT: usize = [$(Metric::$variant),+].len();

        const DEFS: [MetricDef; METRIC_COUNT] = [
            $(MetricDef { name: $name, unit: $unit, description: $description },)+
        ];

        impl Metric {
            /// Every metric, in output order.
            pub const ALL: [Metric; METRIC_COUNT] = [$(Metric::$variant),+];
        }
    };
}

/// Name, unit and meaning of a metric.
#[derive(Clone, Copy, Debug)]
pub struct MetricDef {
    /// The name in every output (`"delayed_bed_days"`).
    pub name: &'static str,
    /// The unit (`"bed_days"`, `"share"`, ...).
    pub unit: &'static str,
    /// What is counted, in a sentence (`docs/model.md` says when).
    pub description: &'static str,
}

metrics! {
    Crises: "crises", "patients",
        "Crises from every source (new, care home residents', readmissions)";
    Readmissions: "readmissions", "patients",
        "Readmissions arriving as crises";
    EdAttendances: "ed_attendances", "patients",
        "Emergency department attendances, PRU conveyances included";
    Admissions: "admissions", "patients",
        "Emergency admissions, counted at the decision to admit";
    AdmissionsAvoidedPru: "admissions_avoided_pru", "patients",
        "Admissions with the PRU switched off minus admissions (paired counterfactual)";
    AdmissionsAvoidedFrailtyUnit: "admissions_avoided_frailty_unit", "patients",
        "Admissions with the frailty unit switched off minus admissions (paired counterfactual)";
    PruFauSentHome: "pru_fau_sent_home", "patients",
        "PRU treated at home plus frailty unit discharged same day (activity, not admissions avoided)";
    PruEligible: "pru_eligible", "patients",
        "Crises eligible for the physician response unit";
    PruVisits: "pru_visits", "patients",
        "PRU visits, counted when the visit starts";
    PruMissedBusy: "pru_missed_busy", "patients",
        "Eligible crises missed because every car was busy";
    PruMissedClosed: "pru_missed_closed", "patients",
        "Eligible crises missed because the PRU was closed";
    PruTreatedAtHome: "pru_treated_at_home", "patients",
        "PRU visits ending with treatment at home";
    PruUtilisation: "pru_utilisation", "share",
        "Busy car-hours / open car-hours";
    FauAssessed: "fau_assessed", "patients",
        "Frailty unit assessments, counted when they start";
    FauDischarged: "fau_discharged", "patients",
        "Frailty unit patients discharged the same day";
    FauMissed: "fau_missed", "patients",
        "Frail ED patients the frailty unit could not take (closed or full)";
    BedOccupancyMean: "bed_occupancy_mean", "beds",
        "Time-averaged occupied acute beds";
    BedOccupancyShare: "bed_occupancy_share", "share",
        "Time-averaged occupied acute beds over time-averaged beds available";
    MidnightCensusMean: "midnight_census_mean", "beds",
        "Mean occupied acute beds at 00:00";
    MidnightCensusP95: "midnight_census_p95", "beds",
        "95th percentile of occupied acute beds at 00:00";
    StrandedCensusMean: "stranded_census_mean", "patients",
        "Patients in an acute bed for 7 days or more at midnight, mean over midnights";
    SuperStrandedCensusMean: "super_stranded_census_mean", "patients",
        "Patients in an acute bed for 21 days or more at midnight, mean over midnights";
    SuperStrandedBedShare: "super_stranded_bed_share", "share",
        "Share of occupied beds at midnight held by patients in for 21 days or more";
    ZeroDayStayShare: "zero_day_stay_share", "share",
        "Share of acute stays ending in the window that lasted under 24 hours";
    BedsFullShare: "beds_full_share", "share",
        "Share of time with occupied beds >= beds available";
    BedWaitMeanHours: "bed_wait_mean_hours", "hours",
        "Mean decision-to-admit wait for a bed";
    BedWaitP95Hours: "bed_wait_p95_hours", "hours",
        "95th percentile decision-to-admit wait";
    BedWaitsOver4h: "bed_waits_over_4h", "patients",
        "Decision-to-admit waits over 4 hours";
    BedWaitsOver12h: "bed_waits_over_12h", "patients",
        "Decision-to-admit waits over 12 hours";
    DelayedPatientsP1: "delayed_patients_p1", "patients",
        "P1 patients with a capacity wait";
    DelayedPatientsP2: "delayed_patients_p2", "patients",
        "P2 patients with a capacity wait";
    DelayedPatientsP3: "delayed_patients_p3", "patients",
        "P3 patients with a capacity wait";
    DelayedBedDaysP1: "delayed_bed_days_p1", "bed_days",
        "Bed days lost waiting for care at home (community nursing, or a home care package when the scenario has home care)";
    DelayedBedDaysP2: "delayed_bed_days_p2", "bed_days",
        "Bed days lost waiting for a rehab bed";
    DelayedBedDaysP3: "delayed_bed_days_p3", "bed_days",
        "Bed days lost waiting for a care home bed";
    DelayedBedDays: "delayed_bed_days", "bed_days",
        "Delayed transfers of care: capacity bed days, all pathways";
    DelayedPer100kAdults: "delayed_per_100k_adults", "patients per 100k adults",
        "Patients in a capacity wait, time-averaged, per 100,000 adults (population.adults)";
    ProcessDelayBedDays: "process_delay_bed_days", "bed_days",
        "Bed days from medically fit to leaving that are not capacity waits";
    NctrCensusMean: "nctr_census_mean", "patients",
        "Medically fit patients still in an acute bed at midnight (no criteria to reside), mean";
    ReadyToLeaveWaitMeanDays: "ready_to_leave_wait_mean_days", "days",
        "Mean time from medically fit to leaving the acute bed";
    CommunityUtilisation: "community_utilisation", "share",
        "Held community caseload places / places";
    CommunityWaitingMean: "community_waiting_mean", "patients",
        "Time-averaged community nursing waiting list";
    CommunityWaitMeanDaysDischarge: "community_wait_mean_days_discharge", "days",
        "Mean wait for community nursing, discharge class";
    CommunityWaitMeanDaysAvoidance: "community_wait_mean_days_avoidance", "days",
        "Mean wait for community nursing, avoidance class";
    CommunityWaitMeanDaysCommunity: "community_wait_mean_days_community", "days",
        "Mean wait for community nursing, community class";
    RehabOccupancyMean: "rehab_occupancy_mean", "beds",
        "Time-averaged rehab beds held";
    RehabWaitMeanDays: "rehab_wait_mean_days", "days",
        "Mean wait for a rehab bed";
    CareHomeOccupancyMean: "care_home_occupancy_mean", "beds",
        "Time-averaged care home beds held";
    CareHomeWaitMeanDays: "care_home_wait_mean_days", "days",
        "Mean wait for a care home bed, hospital and community";
    CareHomeAdmissionsPerResidentYear: "care_home_admissions_per_resident_year",
        "admissions per resident-year",
        "Emergency admissions of care home residents per resident-year";
    MhCrises: "mh_crises", "patients",
        "Mental health crises: at the ED (readmissions included) and community referrals to CRHT";
    MhEdAttendances: "mh_ed_attendances", "patients",
        "Mental health crises at the ED (liaison assessments started)";
    MhAdmissions: "mh_admissions", "patients",
        "Mental health decisions to admit";
    MhAdmissionsAvoidedCrht: "mh_admissions_avoided_crht", "patients",
        "Mental health admissions with CRHT switched off minus admissions (paired counterfactual)";
    MhCrhtEpisodes: "mh_crht_episodes", "patients",
        "CRHT episodes, counted when they start";
    MhCrhtUtilisation: "mh_crht_utilisation", "share",
        "Time-averaged CRHT places held / places";
    MhBedOccupancyMean: "mh_bed_occupancy_mean", "beds",
        "Time-averaged occupied local mental health beds";
    MhBedOccupancyShare: "mh_bed_occupancy_share", "share",
        "Time-averaged occupied local mental health beds over beds available";
    MhBedWaitsOver12h: "mh_bed_waits_over_12h", "patients",
        "Mental health decision-to-admit waits over 12 hours";
    MhOutOfAreaPlacements: "mh_out_of_area_placements", "patients",
        "Mental health patients placed out of area";
    MhOutOfAreaBedDays: "mh_out_of_area_bed_days", "bed_days",
        "Bed days of mental health patients out of area";
    MhDelayedPatients: "mh_delayed_patients", "patients",
        "Mental health patients with a wait for supported accommodation or a care home";
    MhDelayedBedDays: "mh_delayed_bed_days", "bed_days",
        "Mental health delayed transfers: bed days waiting for supported accommodation or a care home";
    MhSupportedAccommodationWaitMeanDays: "mh_supported_accommodation_wait_mean_days", "days",
        "Mean wait for a supported accommodation place";
    MhReadmissions: "mh_readmissions", "patients",
        "Mental health readmissions arriving at the ED";
    HomeCareUtilisation: "home_care_utilisation", "share",
        "Time-averaged home care packages held / packages";
    HomeCareWaitMeanDays: "home_care_wait_mean_days", "days",
        "Mean wait for a home care package, hospital and community";
}

impl Metric {
    /// Position in [`Metric::ALL`] and in [`Metrics`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// Its name, unit and meaning.
    pub fn def(self) -> &'static MetricDef {
        &DEFS[self.index()]
    }

    /// The name used in every output (`"delayed_bed_days"`).
    pub fn name(self) -> &'static str {
        self.def().name
    }

    /// Its unit in every output (`"patients"`, `"bed_days"`, ...).
    pub fn unit(self) -> &'static str {
        self.def().unit
    }

    /// Looks a metric up by its output name.
    pub fn from_name(name: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// A metric read back from a file by its output name; an unknown name is
/// an error saying so.
impl<'de> serde::Deserialize<'de> for Metric {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Metric, D::Error> {
        let name = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
        Metric::from_name(&name).ok_or_else(|| {
            serde::de::Error::custom(format!("{name:?} is not a metric of this version"))
        })
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

/// Declares every daily series once (variant, output name, unit), in
/// output order; [`Series::ALL`] and the name and unit tables come from
/// this one list.
macro_rules! series {
    ($($(#[$doc:meta])* $variant:ident: $name:literal, $unit:literal;)+) => {
        /// The daily series of `docs/model.md`: one value per midnight in the window.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Series {
            $($(#[$doc])* $variant,)+
        }

        impl Series {
            /// Every series, in output order.
            pub const ALL: [Series; [$(Series::$variant),+].len()] = [$(Series::$variant),+];
            const NAMES: [&'static str; Series::ALL.len()] = [$($name),+];
            const UNITS: [&'static str; Series::ALL.len()] = [$($unit),+];
        }
    };
}

series! {
    /// Occupied acute beds at 00:00 (patients waiting in the ED excluded).
    MidnightCensus: "midnight_census", "beds";
    /// Patients in a capacity wait (P1-P3) at 00:00.
    DelayedPatients: "delayed_patients", "patients";
    /// Community nursing waiting list at 00:00, every class.
    CommunityWaitingList: "community_waiting_list", "patients";
    /// Community nursing places held at 00:00.
    CommunityCaseload: "community_caseload", "patients";
    /// Rehab beds held at 00:00.
    RehabOccupied: "rehab_occupied", "beds";
    /// Care home places held at 00:00.
    CareHomeResidents: "care_home_residents", "residents";
    /// Occupied local mental health beds at 00:00.
    MhBedsOccupied: "mh_beds_occupied", "beds";
    /// Mental health patients out of area at 00:00.
    MhOutOfArea: "mh_out_of_area", "patients";
    /// Home care packages held at 00:00.
    HomeCarePackages: "home_care_packages", "packages";
    /// Medically fit patients still in an acute bed at 00:00 (no criteria
    /// to reside), in a process delay, a capacity wait or waiting for the
    /// discharge hours.
    NctrCount: "nctr_count", "patients";
}

impl Series {
    /// Position in [`Series::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// Output name.
    pub fn name(self) -> &'static str {
        Series::NAMES[self.index()]
    }

    /// Unit of the values.
    pub fn unit(self) -> &'static str {
        Series::UNITS[self.index()]
    }

    /// Looks a series up by its output name.
    pub fn from_name(name: &str) -> Option<Series> {
        Series::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// A series read back from a file by its output name; an unknown name is
/// an error saying so.
impl<'de> serde::Deserialize<'de> for Series {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Series, D::Error> {
        let name = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
        Series::from_name(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown series {name:?}")))
    }
}

/// Everything one replication reports.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplicationResult {
    /// Replication index (0-based).
    pub replication: u32,
    /// The value of every metric, by [`Metric`].
    pub metrics: Metrics,
    /// `daily[s.index()][day]` for each [`Series`]; every series has one value
    /// per midnight in the window, day 0 being the first.
    pub daily: [Vec<f64>; Series::ALL.len()],
    /// Events the engine processed (for throughput figures; not a model output).
    pub events: u64,
    /// With a window longer than 365 days, the metrics of each planning
    /// year in order (`docs/model.md`, "Results by year"); empty otherwise.
    pub yearly: Vec<Metrics>,
    /// With uncertain values: the queueing services whose offered load the
    /// replication's draw puts at or above capacity (`docs/model.md`,
    /// "Draws that overload a service"); empty otherwise.
    pub overloaded: Vec<&'static str>,
    /// With `uncertainty.keep = "calibrated"`: how the replication found
    /// its kept draw (`docs/model.md`, "Keeping only the draws the
    /// calibration allows"); `None` otherwise.
    pub kept: Option<super::kept::KeptRecord>,
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

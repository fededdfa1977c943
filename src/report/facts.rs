//! The facts of a run's scenario that its report uses, recorded by the run
//! in `run.json` (`scenario_facts`), so that a report is built from result
//! records and never loads the scenario again. The resolved TOML stays in
//! `run.json` for provenance; these are what a report reads.
//!
//! `experiment::facts` fills them in from the loaded scenario.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::metrics::Metric;
use crate::scenario::calendar::Date;
use crate::scenario::uncertain::UncertainValue;

/// The resolved scenario as a report needs it: `run.json`'s
/// `scenario_facts`. Everything here is a value of the scenario after
/// `extends`, defaults and `--set` (the run itself is in the manifest).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScenarioFacts {
    /// `scenario.name`.
    pub name: String,
    /// `scenario.description` (empty when not given).
    pub description: String,
    /// The scenario's run settings and the window they give.
    pub timing: Timing,
    /// The services' capacities.
    pub capacity: Capacity,
    /// `community.priority`: the referral classes' names, highest first.
    pub community_priority: Vec<String>,
    /// The `[mental_health]` table's facts, when the scenario has one.
    pub mental_health: Option<MentalHealthFacts>,
    /// The `[sources]` table: dotted key to citation.
    pub sources: BTreeMap<String, String>,
    /// The `[[calibration]]` table, in table order (empty without one).
    pub calibration: Vec<CalibrationRecord>,
    /// Every value of the resolved scenario as (dotted key, TOML text), one
    /// per line of `resolved_toml` and in its order (`[sources]` and
    /// `[[calibration]]` left out): the report's parameter table.
    pub parameters: Vec<(String, String)>,
    /// The scenario's uncertain values, in the format's key order (empty
    /// without any; not written then): with the run's seed they give every
    /// replication's drawn values (`docs/model.md`, "Parameter
    /// uncertainty").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uncertain_values: Vec<UncertainValue>,
}

/// The scenario's `[scenario]` run settings and the statistics window they
/// give; `run.json`'s own fields must agree with them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    /// `scenario.seed`.
    pub seed: u64,
    /// `scenario.replications`.
    pub replications: u32,
    /// `scenario.warm_up`, hours.
    pub warm_up_hours: f64,
    /// `scenario.horizon`, hours.
    pub horizon_hours: f64,
    /// `scenario.start_date`.
    #[serde(with = "iso_date")]
    pub start_date: Date,
    /// Day 0 of the window (the first midnight after the warm-up).
    #[serde(with = "iso_date")]
    pub first_day: Date,
    /// Midnights in the window: the length of every daily series.
    pub days: usize,
}

/// The capacities of the services, as the scenario gives them, each with
/// its dated changes (`docs/model.md`, "Capacity over time").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Capacity {
    /// `pru.cars` and `pru.capacity_changes`' cars.
    pub pru_cars: BedCalendar,
    /// `frailty_unit.slots` and its dated changes.
    pub frailty_unit_slots: BedCalendar,
    /// `acute.beds` and `acute.capacity_changes`.
    pub acute_beds: BedCalendar,
    /// `community.teams` and its dated changes.
    pub community_teams: BedCalendar,
    /// `community.caseload_per_team`.
    pub community_caseload_per_team: u32,
    /// `rehab.beds` and its dated changes.
    pub rehab_beds: BedCalendar,
    /// `care_homes.beds` and its dated changes.
    pub care_home_beds: BedCalendar,
    /// `home_care.packages` and its dated changes, when the scenario has
    /// `[home_care]`.
    pub home_care_packages: Option<BedCalendar>,
}

/// A count and its dated changes (`acute.beds` and
/// `acute.capacity_changes`, the mental health beds', PRU cars, ...;
/// `beds` is the count whatever it counts).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BedCalendar {
    /// Beds on a day no change covers.
    pub beds: u32,
    /// The dated changes, in the order listed (the last covering a day wins).
    pub changes: Vec<BedChange>,
}

/// Beds from 00:00 on `from` to 24:00 on `to`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct BedChange {
    /// The first day of the change.
    #[serde(with = "iso_date")]
    pub from: Date,
    /// The last day of the change (inclusive).
    #[serde(with = "iso_date")]
    pub to: Date,
    /// Beds on those days.
    pub beds: u32,
}

impl BedCalendar {
    /// Whether the service has a place on some date (its count or a
    /// change's is above 0).
    pub fn any_open(&self) -> bool {
        self.beds > 0 || self.changes.iter().any(|c| c.beds > 0)
    }

    /// Beds available on each of `days` days from `first_day` (the model's
    /// rule, `model::schedule::beds_by_day_of`).
    pub fn by_day(&self, first_day: Date, days: usize) -> Vec<u32> {
        let changes: Vec<crate::scenario::CapacityChange> = self
            .changes
            .iter()
            .map(|c| crate::scenario::CapacityChange {
                from: c.from,
                to: c.to,
                beds: c.beds,
            })
            .collect();
        crate::model::schedule::beds_by_day_of(self.beds, &changes, first_day, days)
    }
}

/// What a report says of the mental health service.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MentalHealthFacts {
    /// `mental_health.beds` and its `capacity_changes`.
    pub beds: BedCalendar,
    /// `mental_health.crht.places`.
    pub crht_places: u32,
    /// Whether `mental_health.crht.open` is ever open.
    pub crht_open: bool,
}

impl MentalHealthFacts {
    /// Crisis resolution and home treatment takes patients.
    pub fn crht_running(&self) -> bool {
        self.crht_places > 0 && self.crht_open
    }
}

/// One target of the `[[calibration]]` table, with the scenario value its
/// quantity divides by (if any) already read from the scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CalibrationRecord {
    /// What the figure is, in words.
    pub name: String,
    /// The quantity as written in the scenario (`admissions / day`).
    pub quantity: String,
    /// The metric divided.
    #[serde(with = "metric_name")]
    pub metric: Metric,
    /// What it is divided by.
    pub divisor: Divisor,
    /// The published (or derived) value.
    pub target: f64,
    /// The tolerance: within it when `low <= mean <= high`.
    pub low: f64,
    /// The tolerance's upper end.
    pub high: f64,
    /// Where the figure comes from.
    pub source: String,
}

/// The bottom of a calibration quantity.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Divisor {
    /// Nothing: the metric as `summary.csv` gives it.
    One,
    /// The days of the statistics window (`/ day`).
    Day,
    /// Another metric, replication by replication.
    Metric(#[serde(with = "metric_name")] Metric),
    /// A value of the scenario (`/ acute.beds`), `None` when the scenario
    /// does not give it (`population.adults`).
    Value(Option<f64>),
}

impl CalibrationRecord {
    /// The metrics the quantity reads.
    pub fn metrics(&self) -> Vec<Metric> {
        match self.divisor {
            Divisor::Metric(b) => vec![self.metric, b],
            _ => vec![self.metric],
        }
    }

    /// One replication's value, from its metric values (`value(m)`);
    /// `None` when undefined (a divisor of 0, or a value not given).
    pub fn value(&self, value: impl Fn(Metric) -> f64, window_days: f64) -> Option<f64> {
        let bottom = match self.divisor {
            Divisor::One => 1.0,
            Divisor::Day => window_days,
            Divisor::Metric(b) => value(b),
            Divisor::Value(v) => v?,
        };
        let q = value(self.metric) / bottom;
        (bottom != 0.0 && q.is_finite()).then_some(q)
    }

    /// Whether `mean` lies within the tolerance (ends included).
    pub fn within(&self, mean: f64) -> bool {
        self.low <= mean && mean <= self.high
    }
}

/// A [`Date`] as `YYYY-MM-DD`.
mod iso_date {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    use crate::scenario::calendar::Date;

    pub fn serialize<S: Serializer>(d: &Date, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(d)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let text = String::deserialize(d)?;
        Date::parse(&text)
            .ok_or_else(|| D::Error::custom(format!("not a YYYY-MM-DD date: {text:?}")))
    }
}

/// A [`Metric`] as its name in `summary.csv`.
mod metric_name {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::model::metrics::Metric;

    pub fn serialize<S: Serializer>(m: &Metric, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(m.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Metric, D::Error> {
        Metric::deserialize(d)
    }
}

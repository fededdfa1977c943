//! Raw structs that mirror the scenario file, and the value types they use.
//!
//! This is the first of two stages. Deserializing into these structs checks
//! the *shape* of the document (known keys, required keys present, each value
//! of the right kind) and the format of each single value (a duration has a
//! unit, a share is in [0, 1], a count is whole). Checks that relate several
//! values, or build objects (distributions), are the conversion's job
//! (`convert.rs`); the fields it needs to point at are [`Spanned`], and it
//! names their key paths itself. The single values are read by `TryFrom`
//! from the [`toml::Value`] written, and refuse a value as serde phrases it
//! (`invalid type: ..., expected ...`), so the loader reports every refusal
//! the same way, with the value found described from the document.
//!
//! Every struct denies unknown keys; none uses `#[serde(flatten)]`, which
//! would defeat that. Optional keys are `Option`s; defaults are applied in
//! the conversion, next to the code that documents them.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, Visitor};
use toml::{Spanned, Value};

use super::calendar::{ClockWindow, Date, Weekday};
use super::doc::Origin;
use super::error::{format_float, truncate_for_message, truncate_token};
use super::suggest::did_you_mean;

/// A value together with where it was written and its key path, for checks
/// that the conversion stage makes after deserialization.
#[derive(Clone, Debug)]
pub(crate) struct Located<T> {
    pub value: T,
    pub origin: Origin,
    pub path: String,
}

impl<T> Located<T> {
    /// The value of `s`, known to be at key path `path`.
    pub fn at(s: Spanned<T>, path: impl Into<String>) -> Located<T> {
        Located {
            origin: Origin::of(s.span()),
            value: s.into_inner(),
            path: path.into(),
        }
    }
}

/// A table of the format, read only from a TOML table: serde's derived
/// structs would also take an array, field by field in order.
#[derive(Debug)]
pub(crate) struct Section<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Section<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Section<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(TABLE)
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Section<T>, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Section)
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// Whether a table key is the one `toml` hands a date-time over with (a
/// date-time reaches a visitor as a table of one entry under this key).
pub(crate) fn is_datetime_key(key: &str) -> bool {
    key.starts_with("$__toml_private_datetime")
}

/// What a [`Section`] expects.
pub(crate) const TABLE: &str = "a table";

/// What a distribution table expects.
pub(crate) const DIST_TABLE: &str =
    "a distribution table such as { dist = \"gamma\", mean = \"2d\", sd = \"1d\" }";

/// What the `[sources]` table expects.
pub(crate) const SOURCES_TABLE: &str =
    "a table of sources such as { \"pru.treated_at_home\" = \"Joy et al. 2020, EMJ\" }";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFile {
    pub scenario: Section<RawScenario>,
    pub demand: Section<RawDemand>,
    pub pru: Section<RawPru>,
    pub frailty_unit: Section<RawFrailtyUnit>,
    pub ed: Section<RawEd>,
    pub acute: Section<RawAcute>,
    pub pathways: Section<RawPathways>,
    pub community: Section<RawCommunity>,
    pub rehab: Section<RawRehab>,
    pub care_homes: Spanned<Section<RawCareHomes>>,
    /// `[home_care]`: absent means P1 patients ask for community nursing.
    pub home_care: Option<Section<RawHomeCare>>,
    pub readmission: Option<Section<RawReadmission>>,
    /// `[mental_health]`: absent means no mental health system.
    pub mental_health: Option<Spanned<Section<RawMentalHealth>>>,
    pub population: Option<Section<RawPopulation>>,
    /// `[growth]`: yearly demand growth (`docs/model.md`, "Years ahead").
    pub growth: Option<Section<RawGrowth>>,
    /// `[uncertainty]`: which drawn worlds a run keeps.
    pub uncertainty: Option<Section<RawUncertainty>>,
    /// `[[calibration]]`: published figures the scenario reproduces.
    pub calibration: Option<Vec<Spanned<Section<RawCalibration>>>>,
    /// `[start]`: the starting state; absent means an empty start.
    pub start: Option<Section<RawStart>>,
    /// `[sources]`: where each value comes from (checked in the conversion).
    pub sources: Option<SourcesTable>,
    /// `[[rate_changes]]`: read from the document by `dated.rs` (only
    /// accepted here).
    #[allow(dead_code)]
    pub rate_changes: Option<IgnoredAny>,
}

/// `[growth]`: a yearly growth rate per demand source.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawGrowth {
    pub crises: Option<GrowthRate>,
    pub community_referrals: Option<GrowthRate>,
    pub care_home_placements: Option<GrowthRate>,
    pub mh_crises: Option<Spanned<GrowthRate>>,
    pub mh_referrals: Option<Spanned<GrowthRate>>,
    pub home_care_starts: Option<GrowthRate>,
}

/// One entry of `[[calibration]]` (checked in the conversion).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCalibration {
    pub name: Spanned<String>,
    pub quantity: Spanned<String>,
    pub target: Spanned<f64>,
    pub range: Spanned<Vec<f64>>,
    pub source: Spanned<String>,
}

/// The `[sources]` table: dotted scenario keys to citations, each located.
#[derive(Debug)]
pub(crate) struct SourcesTable(pub Vec<(Spanned<String>, Spanned<String>)>);

impl<'de> Deserialize<'de> for SourcesTable {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = SourcesTable;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(SOURCES_TABLE)
            }
            fn visit_map<A: de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<SourcesTable, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<Spanned<String>>()? {
                    let value = map.next_value::<Spanned<String>>()?;
                    entries.push((key, value));
                }
                Ok(SourcesTable(entries))
            }
        }
        d.deserialize_map(V)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawScenario {
    pub name: String,
    pub description: Option<String>,
    pub start_date: Option<DateValue>,
    pub warm_up: Hours,
    pub horizon: Spanned<Hours>,
    pub replications: Spanned<Count>,
    pub seed: Seed,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDemand {
    pub crises_per_day: NonNegative,
    pub frail_share: Share,
    pub hour_of_day: Option<Spanned<Vec<NonNegative>>>,
    pub day_of_week: Option<Spanned<Vec<NonNegative>>>,
    pub month_of_year: Option<Spanned<Vec<NonNegative>>>,
}

/// `days = ["Mon", ...]`, each day located to report duplicates.
pub(crate) type RawDays = Option<Vec<Spanned<Day>>>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPru {
    pub cars: Count,
    pub open: ClockWindowValue,
    pub days: RawDays,
    pub eligible_share: Share,
    pub visit: RawDist,
    pub treated_at_home: Share,
    pub community_follow_up: Share,
    pub capacity_changes: Option<Vec<Spanned<Section<RawCarsChange>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFrailtyUnit {
    pub slots: Count,
    pub open: ClockWindowValue,
    pub days: RawDays,
    pub assessment: RawDist,
    pub discharged_same_day: Share,
    pub community_follow_up: Share,
    pub capacity_changes: Option<Vec<Spanned<Section<RawSlotsChange>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEd {
    pub frail_admit_share: Share,
    pub other_admit_share: Share,
    pub home_treatable_admit_share: Option<Share>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAcute {
    pub beds: Count,
    pub discharge_hours: ClockWindowValue,
    pub weekend_discharge_hours: Option<ClockWindowValue>,
    pub los: Section<RawLos>,
    pub capacity_changes: Option<Vec<Spanned<Section<RawBedsChange>>>>,
}

/// A dated change of `acute.beds` and the discharge hours.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBedsChange {
    pub from: DateValue,
    pub to: Option<DateValue>,
    pub beds: Option<Count>,
    pub discharge_hours: Option<ClockWindowValue>,
    pub weekend_discharge_hours: Option<ClockWindowValue>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLos {
    pub frail: RawDist,
    pub other: RawDist,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCapacityChange {
    pub from: DateValue,
    pub to: Option<DateValue>,
    pub beds: Count,
}

/// A dated change of `pru.cars`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCarsChange {
    pub from: DateValue,
    pub to: Option<DateValue>,
    pub cars: Option<Count>,
    pub open: Option<ClockWindowValue>,
    pub days: RawDays,
}

/// A dated change of `frailty_unit.slots`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSlotsChange {
    pub from: DateValue,
    pub to: Option<DateValue>,
    pub slots: Option<Count>,
    pub open: Option<ClockWindowValue>,
    pub days: RawDays,
}

/// A dated change of `community.teams`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTeamsChange {
    pub from: DateValue,
    pub to: Option<DateValue>,
    pub teams: Count,
}

/// A dated change of `mental_health.crht.places`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPlacesChange {
    pub from: DateValue,
    pub to: Option<DateValue>,
    pub places: Count,
}

/// A dated change of `home_care.packages`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPackagesChange {
    pub from: DateValue,
    pub to: Option<DateValue>,
    pub packages: Count,
}

/// A dated change of any service's capacity, whatever its count is called.
pub(crate) trait RawDatedCount {
    /// (`from`, `to` if written, the count if written).
    fn parts(&self) -> (Date, Option<Date>, Option<u32>);
    /// The name of the count's key.
    const COUNT: &'static str;
    /// The entry's opening hours and days, taken out (PRU, frailty unit).
    fn take_hours(&mut self) -> (Option<ClockWindow>, RawDays) {
        (None, None)
    }
}

macro_rules! dated_count {
    ($t:ty, $field:ident) => {
        impl RawDatedCount for $t {
            const COUNT: &'static str = stringify!($field);
            fn parts(&self) -> (Date, Option<Date>, Option<u32>) {
                (self.from.0, self.to.map(|d| d.0), Some(self.$field.0))
            }
        }
    };
}
macro_rules! dated_count_hours {
    ($t:ty, $field:ident) => {
        impl RawDatedCount for $t {
            const COUNT: &'static str = stringify!($field);
            fn parts(&self) -> (Date, Option<Date>, Option<u32>) {
                (self.from.0, self.to.map(|d| d.0), self.$field.map(|c| c.0))
            }
            fn take_hours(&mut self) -> (Option<ClockWindow>, RawDays) {
                (self.open.take().map(|w| w.0), self.days.take())
            }
        }
    };
}
dated_count!(RawCapacityChange, beds);
impl RawDatedCount for RawBedsChange {
    const COUNT: &'static str = "beds";
    fn parts(&self) -> (Date, Option<Date>, Option<u32>) {
        (self.from.0, self.to.map(|d| d.0), self.beds.map(|c| c.0))
    }
}
dated_count_hours!(RawCarsChange, cars);
dated_count_hours!(RawSlotsChange, slots);
dated_count!(RawTeamsChange, teams);
dated_count!(RawPlacesChange, places);
dated_count!(RawPackagesChange, packages);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPathways {
    pub frail: Spanned<Section<RawShares>>,
    pub other: Spanned<Section<RawShares>>,
    pub process_delay: Option<Section<RawProcessDelay>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawShares {
    pub p0: Share,
    pub p1: Share,
    pub p2: Share,
    pub p3: Share,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawProcessDelay {
    pub p1: Option<RawDist>,
    pub p2: Option<RawDist>,
    pub p3: Option<RawDist>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCommunity {
    pub teams: Count,
    pub caseload_per_team: Count,
    pub referrals_per_day: NonNegative,
    pub priority: Option<Spanned<Vec<Spanned<String>>>>,
    pub episode: Section<RawEpisodes>,
    pub capacity_changes: Option<Vec<Spanned<Section<RawTeamsChange>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEpisodes {
    pub discharge: RawDist,
    pub avoidance: RawDist,
    pub community: RawDist,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRehab {
    pub beds: Count,
    pub stay: RawDist,
    pub community_follow_up: Share,
    pub capacity_changes: Option<Vec<Spanned<Section<RawCapacityChange>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCareHomes {
    pub beds: Count,
    pub initial_residents: Option<Spanned<Count>>,
    pub initial_occupancy: Option<Spanned<Share>>,
    pub stay: RawDist,
    pub community_placements_per_day: NonNegative,
    pub hospital_first: Option<Spanned<bool>>,
    pub search_at_one_free_bed: Option<Spanned<Hours>>,
    pub crises_per_resident_year: NonNegative,
    pub red_bag: Option<Spanned<Section<RawRedBag>>>,
    pub capacity_changes: Option<Vec<Spanned<Section<RawCapacityChange>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRedBag {
    pub enabled: bool,
    pub los_reduction: Option<Hours>,
    pub min_los: Option<Hours>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawHomeCare {
    pub packages: Count,
    pub capacity_changes: Option<Vec<Spanned<Section<RawPackagesChange>>>>,
    pub package: RawDist,
    pub community_starts_per_day: Option<NonNegative>,
    pub hospital_first: Option<bool>,
    pub community_follow_up: Option<Share>,
    pub initial_packages: Option<Count>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawUncertainty {
    pub keep: Option<Spanned<String>>,
    pub cutoff: Option<Spanned<f64>>,
    /// Whole numbers, checked with their ranges in the conversion.
    pub central_replications: Option<Spanned<Value>>,
    pub max_draws: Option<Spanned<Value>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPopulation {
    pub adults: Count,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawReadmission {
    pub window: Hours,
    pub p0: Share,
    pub p1: Share,
    pub p2: Share,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMentalHealth {
    pub crises_per_day: NonNegative,
    pub referrals_per_day: NonNegative,
    pub liaison_assessment: RawDist,
    pub ed_admit_share: Share,
    pub ed_crht_share: Spanned<Share>,
    pub beds: Count,
    pub capacity_changes: Option<Vec<Spanned<Section<RawCapacityChange>>>>,
    pub stay: RawDist,
    pub out_of_area_after: Hours,
    pub out_of_area_stay: Option<RawDist>,
    pub repatriate: Option<bool>,
    pub process_delay: Option<RawDist>,
    pub pathways: Spanned<Section<RawMhShares>>,
    pub crht: Section<RawCrht>,
    pub supported_accommodation: Section<RawSupported>,
    pub readmission: Option<Section<RawMhReadmission>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMhShares {
    pub home: Share,
    pub supported: Share,
    pub care_home: Share,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCrht {
    pub places: Count,
    pub open: ClockWindowValue,
    pub episode: RawDist,
    pub escalation_share: Share,
    pub when_full: Spanned<String>,
    pub capacity_changes: Option<Vec<Spanned<Section<RawPlacesChange>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSupported {
    pub places: Count,
    pub stay: RawDist,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMhReadmission {
    pub window: Hours,
    pub share: Share,
}

// ---------------------------------------------------------------------------
// Distributions: read as a list of located entries, checked in the conversion
// once `dist` is known (serde's internally tagged enums would report errors
// at the table, not at the offending parameter).

/// A distribution table, located, as written.
pub(crate) type RawDist = Spanned<DistTable>;

/// The entries of a distribution table, in key order.
#[derive(Debug)]
pub(crate) struct DistTable(pub Vec<(Spanned<String>, Spanned<Param>)>);

/// A distribution parameter before its meaning is known.
#[derive(Debug)]
pub(crate) enum Param {
    Str(String),
    Int(i64),
    Float(f64),
    Array(Vec<Spanned<Param>>),
    /// Anything else, described for the error message.
    Other(String),
}

impl<'de> Deserialize<'de> for DistTable {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DistTable;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(DIST_TABLE)
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<DistTable, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<Spanned<String>>()? {
                    let value = map.next_value::<Spanned<Param>>()?;
                    entries.push((key, value));
                }
                Ok(DistTable(entries))
            }
        }
        d.deserialize_map(V)
    }
}

impl<'de> Deserialize<'de> for Param {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Param;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a distribution parameter (a duration such as \"4d\", or a number)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Param, E> {
                Ok(Param::Str(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Param, E> {
                Ok(Param::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Param, E> {
                Ok(i64::try_from(v).map_or(Param::Float(v as f64), Param::Int))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Param, E> {
                Ok(Param::Float(v))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Param, E> {
                Ok(Param::Other(v.to_string()))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Param, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Spanned<Param>>()? {
                    items.push(item);
                }
                Ok(Param::Array(items))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Param, A::Error> {
                // `toml` hands a date-time over as a table of one entry
                // under its own private key.
                let first = map.next_key::<String>()?;
                if first.as_deref().is_some_and(is_datetime_key) {
                    return Err(de::Error::invalid_type(
                        de::Unexpected::Other("a date-time"),
                        &self,
                    ));
                }
                if first.is_some() {
                    map.next_value::<IgnoredAny>()?;
                }
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Param::Other("a table".to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

// ---------------------------------------------------------------------------
// Single values.

/// The units a duration may carry, with their length in hours.
pub(crate) const DURATION_UNITS: [(&str, f64, &str); 4] = [
    ("m", 1.0 / 60.0, "minutes"),
    ("h", 1.0, "hours"),
    ("d", 24.0, "days"),
    ("w", 168.0, "weeks"),
];

/// Parses `"90m"`, `"1.5h"`, `"4d"`, `"2w"` into hours. The number is plain
/// decimal (digits, optionally one `.` and more digits): no sign, no
/// exponent, nothing a reader could misread.
pub(crate) fn parse_duration(s: &str) -> Result<f64, String> {
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let shown = {
        let mut t = format!("{s:?}");
        truncate_for_message(&mut t);
        t
    };
    if unit.is_empty() {
        return Err(if number.is_empty() {
            format!("expected a duration with a unit, such as \"4d\", found {shown}")
        } else {
            format!(
                "durations need a unit, such as \"{}d\"; found {shown}",
                truncate_token(number)
            )
        });
    }
    if number.is_empty() {
        return Err(if unit.starts_with('-') {
            format!("expected a duration >= 0, such as \"4d\", found {shown}")
        } else {
            format!("expected a duration: a number then a unit, such as \"4d\", found {shown}")
        });
    }
    let Some(&(_, hours_per_unit, _)) = DURATION_UNITS.iter().find(|(u, _, _)| *u == unit) else {
        let mut u = unit.to_string();
        truncate_for_message(&mut u);
        return Err(format!(
            "unknown duration unit `{u}` in {shown}; the units are m (minutes), h (hours), d (days) and w (weeks)"
        ));
    };
    let well_formed = match number.split_once('.') {
        None => true,
        Some((a, b)) => !a.is_empty() && !b.is_empty() && !b.contains('.'),
    };
    let value: f64 = match (well_formed, number.parse::<f64>()) {
        (true, Ok(v)) => v,
        _ => {
            return Err(format!(
                "expected a duration: a decimal number such as 4 or 1.5, then a unit; found {shown}"
            ));
        }
    };
    let hours = value * hours_per_unit;
    if !hours.is_finite() {
        return Err(format!("the duration {shown} is too large"));
    }
    Ok(hours)
}

/// Text for "found ..." when a number stands where a duration should be.
pub(crate) fn bare_number_message(shown: &str) -> String {
    format!("durations need a unit, such as \"4d\"; found the bare number {shown}")
}

/// Why a single value was refused. serde's phrasing for the two common
/// cases, so the loader translates every refusal one way.
pub(crate) enum Refusal {
    /// The value is of the wrong TOML type; what was expected.
    WrongType(&'static str),
    /// The value is of the right type but not allowed; what was expected.
    Invalid(&'static str),
    /// A whole message, written by the reader.
    Message(String),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::WrongType(exp) => write!(f, "invalid type: the value, expected {exp}"),
            Refusal::Invalid(exp) => write!(f, "invalid value: the value, expected {exp}"),
            Refusal::Message(m) => f.write_str(m),
        }
    }
}

/// A duration, in hours (finite, >= 0).
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(try_from = "Value")]
pub(crate) struct Hours(pub f64);

impl TryFrom<Value> for Hours {
    type Error = Refusal;
    fn try_from(v: Value) -> Result<Hours, Refusal> {
        match v {
            Value::String(s) => parse_duration(&s).map(Hours).map_err(Refusal::Message),
            Value::Integer(i) => Err(Refusal::Message(bare_number_message(&i.to_string()))),
            Value::Float(f) => Err(Refusal::Message(bare_number_message(&format_float(f)))),
            _ => Err(Refusal::WrongType("a duration with a unit, such as \"4d\"")),
        }
    }
}

/// A non-negative whole number that fits in `u32` (capacities, counts).
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(try_from = "Value")]
pub(crate) struct Count(pub u32);

impl TryFrom<Value> for Count {
    type Error = Refusal;
    fn try_from(v: Value) -> Result<Count, Refusal> {
        const WHOLE: &str = "a whole number >= 0";
        match v {
            Value::Integer(i) if i < 0 => Err(Refusal::Invalid(WHOLE)),
            // `2.0` is a float in TOML: say so, rather than quietly truncating.
            Value::Integer(i) => u32::try_from(i)
                .map(Count)
                .map_err(|_| Refusal::Invalid("a whole number >= 0 and at most 4294967295")),
            _ => Err(Refusal::WrongType(WHOLE)),
        }
    }
}

/// A non-negative integer seed.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(try_from = "Value")]
pub(crate) struct Seed(pub u64);

impl TryFrom<Value> for Seed {
    type Error = Refusal;
    fn try_from(v: Value) -> Result<Seed, Refusal> {
        match v {
            Value::Integer(i) => u64::try_from(i)
                .map(Seed)
                .map_err(|_| Refusal::Invalid("a whole number >= 0")),
            _ => Err(Refusal::WrongType("a whole number >= 0")),
        }
    }
}

/// A probability in [0, 1].
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(try_from = "Value")]
pub(crate) struct Share(pub f64);

impl TryFrom<Value> for Share {
    type Error = Refusal;
    fn try_from(v: Value) -> Result<Share, Refusal> {
        const SHARE: &str = "a share between 0 and 1";
        match v {
            Value::Integer(i @ (0 | 1)) => Ok(Share(i as f64)),
            Value::Float(f) if (0.0..=1.0).contains(&f) => Ok(Share(f)),
            Value::Integer(_) | Value::Float(_) => Err(Refusal::Invalid(SHARE)),
            _ => Err(Refusal::WrongType(SHARE)),
        }
    }
}

/// A source's growth: a yearly rate, a finite number from -0.5 to 0.5
/// (0.018 is 1.8% a year), or a list of yearly multipliers, each above 0 and
/// at most 100 (at most 1,000 of them); integers accepted.
#[derive(Clone, Debug, Deserialize)]
#[serde(try_from = "Value")]
pub(crate) struct GrowthRate(pub super::types::GrowthSpec);

impl TryFrom<Value> for GrowthRate {
    type Error = Refusal;
    fn try_from(v: Value) -> Result<GrowthRate, Refusal> {
        use super::types::GrowthSpec;
        const RATE: &str = "a yearly growth rate from -0.5 to 0.5 (0.018 for 1.8% a year) or a \
                            list of yearly multipliers above 0 and at most 100 ([1.0, 1.02, 1.05])";
        let number = |v: &Value| match v {
            Value::Integer(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        };
        if let Value::Array(list) = &v {
            if list.is_empty() || list.len() > 1000 {
                return Err(Refusal::Invalid(RATE));
            }
            let mut table = Vec::with_capacity(list.len());
            for x in list {
                match number(x) {
                    Some(m) if m > 0.0 && m <= 100.0 => table.push(m),
                    Some(_) => return Err(Refusal::Invalid(RATE)),
                    None => return Err(Refusal::WrongType(RATE)),
                }
            }
            return Ok(GrowthRate(GrowthSpec::Multipliers(table)));
        }
        match number(&v) {
            Some(x) if (-0.5..=0.5).contains(&x) => Ok(GrowthRate(GrowthSpec::Rate(x))),
            Some(_) => Err(Refusal::Invalid(RATE)),
            None => Err(Refusal::WrongType(RATE)),
        }
    }
}

/// A finite number >= 0 (rates, weights); integers accepted.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(try_from = "Value")]
pub(crate) struct NonNegative(pub f64);

impl TryFrom<Value> for NonNegative {
    type Error = Refusal;
    fn try_from(v: Value) -> Result<NonNegative, Refusal> {
        const NON_NEGATIVE: &str = "a finite number >= 0";
        match v {
            Value::Integer(i) if i >= 0 => Ok(NonNegative(i as f64)),
            Value::Float(f) if f.is_finite() && f >= 0.0 => Ok(NonNegative(f)),
            Value::Integer(_) | Value::Float(_) => Err(Refusal::Invalid(NON_NEGATIVE)),
            _ => Err(Refusal::WrongType(NON_NEGATIVE)),
        }
    }
}

/// A clock window, via [`ClockWindow::parse`].
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(try_from = "Value")]
pub(crate) struct ClockWindowValue(pub ClockWindow);

impl TryFrom<Value> for ClockWindowValue {
    type Error = Refusal;
    fn try_from(v: Value) -> Result<ClockWindowValue, Refusal> {
        match v {
            Value::String(s) => ClockWindow::parse(&s)
                .map(ClockWindowValue)
                .map_err(Refusal::Message),
            _ => Err(Refusal::WrongType(
                "a clock window such as \"08:00-20:00\", \"00:00-24:00\" or \"none\"",
            )),
        }
    }
}

/// A weekday name, `"Mon"` to `"Sun"`.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(try_from = "Value")]
pub(crate) struct Day(pub Weekday);

impl TryFrom<Value> for Day {
    type Error = Refusal;
    fn try_from(v: Value) -> Result<Day, Refusal> {
        let Value::String(v) = v else {
            return Err(Refusal::WrongType(
                "a day name \"Mon\", \"Tue\", \"Wed\", \"Thu\", \"Fri\", \"Sat\" or \"Sun\"",
            ));
        };
        if let Some(d) = Weekday::parse(&v) {
            return Ok(Day(d));
        }
        let names: Vec<&str> = Weekday::ALL.iter().map(|d| d.name()).collect();
        // Accept nothing else, but help with "Monday" or "mon".
        let hint = Weekday::ALL
            .iter()
            .find(|d| {
                v.to_ascii_lowercase()
                    .starts_with(&d.name().to_ascii_lowercase())
            })
            .map(|d| format!(", did you mean `{}`?", d.name()))
            .unwrap_or_else(|| did_you_mean(&v, &names));
        let mut shown = format!("{v:?}");
        truncate_for_message(&mut shown);
        Err(Refusal::Message(format!(
            "expected a day name \"Mon\" to \"Sun\", found {shown}{hint}"
        )))
    }
}

/// A date: `"YYYY-MM-DD"` or a TOML local date literal.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(try_from = "Value")]
pub(crate) struct DateValue(pub Date);

impl TryFrom<Value> for DateValue {
    type Error = Refusal;
    fn try_from(v: Value) -> Result<DateValue, Refusal> {
        let text = match v {
            Value::String(s) => s,
            Value::Datetime(d) if d.date.is_some() && d.time.is_none() && d.offset.is_none() => {
                d.to_string()
            }
            _ => return Err(Refusal::WrongType("a date \"YYYY-MM-DD\"")),
        };
        Date::parse(&text).map(DateValue).ok_or_else(|| {
            let mut shown = format!("{text:?}");
            truncate_for_message(&mut shown);
            Refusal::Message(format!(
                "expected a date \"YYYY-MM-DD\" that exists in the calendar (years 0001 \
                 to 9999), found {shown}"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_hours() {
        assert_eq!(parse_duration("90m"), Ok(1.5));
        assert_eq!(parse_duration("1.5h"), Ok(1.5));
        assert_eq!(parse_duration("4d"), Ok(96.0));
        assert_eq!(parse_duration("2w"), Ok(336.0));
        assert_eq!(parse_duration("0d"), Ok(0.0));
    }

    #[test]
    fn durations_refused() {
        let msg = |s: &str| parse_duration(s).expect_err(s);
        assert!(msg("4").contains("durations need a unit"));
        assert!(msg("4x").contains("unknown duration unit `x`"));
        assert!(msg("4days").contains("unknown duration unit `days`"));
        assert!(msg("4 d").contains("unknown duration unit ` d`"));
        assert!(msg("-4d").contains(">= 0"));
        assert!(msg("1.d").contains("decimal number"));
        assert!(msg("1.2.3d").contains("decimal number"));
        assert!(msg("").contains("expected a duration"));
        assert!(msg(&format!("{}w", "9".repeat(400))).contains("too large"));
    }
}

/// `[start]`: the starting state (`docs/scenario-format.md`, "[start]").
/// Every count is optional (0 when absent); `census` names a CSV file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStart {
    pub census: Option<Spanned<String>>,
    pub acute_frail: Option<Spanned<Count>>,
    pub acute_other: Option<Spanned<Count>>,
    pub fit_p0: Option<Spanned<Count>>,
    pub fit_p1: Option<Spanned<Count>>,
    pub fit_p2: Option<Spanned<Count>>,
    pub fit_p3: Option<Spanned<Count>>,
    pub ed_frail: Option<Spanned<Count>>,
    pub ed_other: Option<Spanned<Count>>,
    pub rehab: Option<Spanned<Count>>,
    pub community_discharge: Option<Spanned<Count>>,
    pub community_avoidance: Option<Spanned<Count>>,
    pub community_community: Option<Spanned<Count>>,
    pub waiting_discharge: Option<Spanned<Count>>,
    pub waiting_avoidance: Option<Spanned<Count>>,
    pub waiting_community: Option<Spanned<Count>>,
    pub mh_beds: Option<Spanned<Count>>,
    pub mh_out_of_area: Option<Spanned<Count>>,
}

//! Raw structs that mirror the scenario file, and the value types they use.
//!
//! This is the first of two stages. Deserializing into these structs checks
//! the *shape* of the document (known keys, required keys present, each value
//! of the right kind) and the format of each single value (a duration has a
//! unit, a share is in [0, 1], a count is whole). Checks that relate several
//! values, or build objects (distributions), are the conversion's job
//! (`convert.rs`); the fields it needs to point at are wrapped in
//! [`Located`].
//!
//! Every struct denies unknown keys; none uses `#[serde(flatten)]`, which
//! would defeat that. Optional keys are `Option`s; defaults are applied in
//! the conversion, next to the code that documents them.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, Visitor};

use super::calendar::{ClockWindow, Date, Weekday};
use super::de::{DATE_NEWTYPE, Located};
use super::suggest::did_you_mean;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFile {
    pub scenario: RawScenario,
    pub demand: RawDemand,
    pub pru: RawPru,
    pub frailty_unit: RawFrailtyUnit,
    pub ed: RawEd,
    pub acute: RawAcute,
    pub pathways: RawPathways,
    pub community: RawCommunity,
    pub rehab: RawRehab,
    pub care_homes: RawCareHomes,
    pub readmission: Option<RawReadmission>,
    /// `[sources]`: where each value comes from (checked in the conversion).
    pub sources: Option<SourcesTable>,
}

/// The `[sources]` table: dotted scenario keys to citations, each located.
#[derive(Debug)]
pub(crate) struct SourcesTable(pub Vec<(Located<String>, Located<String>)>);

impl<'de> Deserialize<'de> for SourcesTable {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = SourcesTable;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a table of sources such as { \"pru.treated_at_home\" = \"Joy et al. 2020, EMJ\" }",
                )
            }
            fn visit_map<A: de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<SourcesTable, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<Located<String>>()? {
                    let value = map.next_value::<Located<String>>()?;
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
    pub horizon: Located<Hours>,
    pub replications: Located<Count>,
    pub seed: Seed,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDemand {
    pub crises_per_day: NonNegative,
    pub frail_share: Share,
    pub hour_of_day: Option<Located<Vec<NonNegative>>>,
    pub day_of_week: Option<Located<Vec<NonNegative>>>,
    pub month_of_year: Option<Located<Vec<NonNegative>>>,
}

/// `days = ["Mon", ...]`, each day located to report duplicates.
pub(crate) type RawDays = Option<Vec<Located<Day>>>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPru {
    pub cars: Count,
    pub open: Window,
    pub days: RawDays,
    pub eligible_share: Share,
    pub visit: RawDist,
    pub treated_at_home: Share,
    pub community_follow_up: Share,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFrailtyUnit {
    pub slots: Count,
    pub open: Window,
    pub days: RawDays,
    pub assessment: RawDist,
    pub discharged_same_day: Share,
    pub community_follow_up: Share,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEd {
    pub frail_admit_share: Share,
    pub other_admit_share: Share,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAcute {
    pub beds: Count,
    pub discharge_hours: Window,
    pub weekend_discharge_hours: Option<Window>,
    pub los: RawLos,
    pub capacity_changes: Option<Vec<Located<RawCapacityChange>>>,
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
    pub to: DateValue,
    pub beds: Count,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPathways {
    pub frail: Located<RawShares>,
    pub other: Located<RawShares>,
    pub process_delay: Option<RawProcessDelay>,
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
    pub priority: Option<Located<Vec<Located<String>>>>,
    pub episode: RawEpisodes,
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
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCareHomes {
    pub beds: Count,
    pub initial_occupancy: Share,
    pub stay: RawDist,
    pub community_placements_per_day: NonNegative,
    pub hospital_first: bool,
    pub crises_per_resident_year: NonNegative,
    pub red_bag: Option<Located<RawRedBag>>,
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
pub(crate) struct RawReadmission {
    pub window: Hours,
    pub p0: Share,
    pub p1: Share,
    pub p2: Share,
}

// ---------------------------------------------------------------------------
// Distributions: read as a list of located entries, checked in the conversion
// once `dist` is known (serde's internally tagged enums would report errors
// at the table, not at the offending parameter).

/// A distribution table, located, as written.
pub(crate) type RawDist = Located<DistTable>;

/// The entries of a distribution table, in key order.
#[derive(Debug)]
pub(crate) struct DistTable(pub Vec<(Located<String>, Located<Param>)>);

/// A distribution parameter before its meaning is known.
#[derive(Debug)]
pub(crate) enum Param {
    Str(String),
    Int(i64),
    Float(f64),
    Array(Vec<Located<Param>>),
    /// Anything else, described for the error message.
    Other(String),
}

impl<'de> Deserialize<'de> for DistTable {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DistTable;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a distribution table such as { dist = \"gamma\", mean = \"2d\", sd = \"1d\" }",
                )
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<DistTable, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<Located<String>>()? {
                    let value = map.next_value::<Located<Param>>()?;
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
                while let Some(item) = seq.next_element::<Located<Param>>()? {
                    items.push(item);
                }
                Ok(Param::Array(items))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Param, A::Error> {
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
        super::error::truncate_for_message(&mut t);
        t
    };
    if unit.is_empty() {
        return Err(if number.is_empty() {
            format!("expected a duration with a unit, such as \"4d\", found {shown}")
        } else {
            format!(
                "durations need a unit, such as \"{}d\"; found {shown}",
                super::error::truncate_token(number)
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
        super::error::truncate_for_message(&mut u);
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

/// A duration, in hours (finite, >= 0).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Hours(pub f64);

impl<'de> Deserialize<'de> for Hours {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Hours;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration with a unit, such as \"4d\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Hours, E> {
                parse_duration(v).map(Hours).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Hours, E> {
                Err(E::custom(bare_number_message(&v.to_string())))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Hours, E> {
                Err(E::custom(bare_number_message(&v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Hours, E> {
                Err(E::custom(bare_number_message(&super::error::format_float(
                    v,
                ))))
            }
        }
        d.deserialize_any(V)
    }
}

/// A non-negative whole number that fits in `u32` (capacities, counts).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Count(pub u32);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Count;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a whole number >= 0")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Count, E> {
                if v < 0 {
                    return Err(E::invalid_value(de::Unexpected::Signed(v), &self));
                }
                self.visit_u64(v.unsigned_abs())
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Count, E> {
                u32::try_from(v).map(Count).map_err(|_| {
                    E::invalid_value(
                        de::Unexpected::Unsigned(v),
                        &"a whole number >= 0 and at most 4294967295",
                    )
                })
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Count, E> {
                // `2.0` is a float in TOML: say so, rather than quietly truncating.
                Err(E::invalid_type(de::Unexpected::Float(v), &self))
            }
        }
        d.deserialize_any(V)
    }
}

/// A non-negative integer seed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Seed(pub u64);

impl<'de> Deserialize<'de> for Seed {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Seed;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a whole number >= 0")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Seed, E> {
                if v < 0 {
                    return Err(E::invalid_value(de::Unexpected::Signed(v), &self));
                }
                Ok(Seed(v.unsigned_abs()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Seed, E> {
                Ok(Seed(v))
            }
        }
        d.deserialize_any(V)
    }
}

/// A probability in [0, 1].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Share(pub f64);

impl<'de> Deserialize<'de> for Share {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Share;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a share between 0 and 1")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Share, E> {
                if v == 0 || v == 1 {
                    Ok(Share(v as f64))
                } else {
                    Err(E::invalid_value(de::Unexpected::Signed(v), &self))
                }
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Share, E> {
                Err(E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Share, E> {
                if (0.0..=1.0).contains(&v) {
                    Ok(Share(v))
                } else {
                    Err(E::invalid_value(de::Unexpected::Float(v), &self))
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// A finite number >= 0 (rates, weights); integers accepted.
#[derive(Clone, Copy, Debug)]
pub(crate) struct NonNegative(pub f64);

impl<'de> Deserialize<'de> for NonNegative {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = NonNegative;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a finite number >= 0")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<NonNegative, E> {
                if v < 0 {
                    return Err(E::invalid_value(de::Unexpected::Signed(v), &self));
                }
                Ok(NonNegative(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<NonNegative, E> {
                Ok(NonNegative(v as f64))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<NonNegative, E> {
                if v.is_finite() && v >= 0.0 {
                    Ok(NonNegative(v))
                } else {
                    Err(E::invalid_value(de::Unexpected::Float(v), &self))
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// A clock window, via [`ClockWindow::parse`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Window(pub ClockWindow);

impl<'de> Deserialize<'de> for Window {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Window;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a clock window such as \"08:00-20:00\", \"00:00-24:00\" or \"none\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Window, E> {
                ClockWindow::parse(v).map(Window).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// A weekday name, `"Mon"` to `"Sun"`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Day(pub Weekday);

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Day;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a day name \"Mon\", \"Tue\", \"Wed\", \"Thu\", \"Fri\", \"Sat\" or \"Sun\"",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Day, E> {
                if let Some(d) = Weekday::parse(v) {
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
                    .unwrap_or_else(|| did_you_mean(v, &names));
                let mut shown = format!("{v:?}");
                super::error::truncate_for_message(&mut shown);
                Err(E::custom(format!(
                    "expected a day name \"Mon\" to \"Sun\", found {shown}{hint}"
                )))
            }
        }
        d.deserialize_any(V)
    }
}

/// A date: `"YYYY-MM-DD"` or a TOML local date literal.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DateValue(pub Date);

impl<'de> Deserialize<'de> for DateValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = DateValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a date \"YYYY-MM-DD\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<DateValue, E> {
                Date::parse(v).map(DateValue).ok_or_else(|| {
                    let mut shown = format!("{v:?}");
                    super::error::truncate_for_message(&mut shown);
                    E::custom(format!(
                        "expected a date \"YYYY-MM-DD\" that exists in the calendar (years 0001 \
                         to 9999), found {shown}"
                    ))
                })
            }
        }
        d.deserialize_newtype_struct(DATE_NEWTYPE, V)
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

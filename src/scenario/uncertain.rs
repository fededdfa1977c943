//! Uncertain values: an 80% interval in place of a value
//! (`docs/scenario-format.md`, "Uncertain values"), and each replication's
//! draw of them (`docs/model.md`, "Parameter uncertainty").
//!
//! The merged document is read as written; the intervals are found by key
//! (the format's list in `keys.rs`), checked, and each replication's values
//! are put in their place as `--set`s would be, so a drawn scenario passes
//! every check of the loader and the conversion.

use std::fmt::Write as _;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use statrs::function::erf::erfc_inv;
use toml::de::DeValue;

use super::doc::{self, Inputs, Item, Origin, Table, float, integer};
use super::error::{ErrorKind, ScenarioError, format_float, truncate_token};
use super::keys::{FORMAT, Shape};
use super::load::ScenarioDoc;
use super::raw::{bare_number_message, parse_duration};
use super::types::Scenario;
use crate::engine::rng::{StreamKey, StreamRng};

/// The standard normal's 90th percentile: `low` and `high` are this many
/// standard deviations either side of the centre on the transformed scale.
pub const Z90: f64 = 1.281_551_565_544_600_4;

/// The stream source of parameter draws (far from the model's sources).
pub const PARAMETER_SOURCE: u32 = 0x5041_5241;

/// What an uncertain value is, which fixes its distribution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A share in (0, 1): logit-normal.
    Share,
    /// A rate per day (or per year) > 0: lognormal.
    Rate,
    /// A duration > 0, in hours: lognormal.
    Duration,
    /// A plain positive number (a weibull's `shape`): lognormal.
    Number,
}

impl Kind {
    /// The name used in messages and docs.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Share => "share",
            Kind::Rate => "rate",
            Kind::Duration => "duration",
            Kind::Number => "number",
        }
    }

    fn forward(self, x: f64) -> f64 {
        match self {
            Kind::Share => (x / (1.0 - x)).ln(),
            _ => x.ln(),
        }
    }

    fn back(self, y: f64) -> f64 {
        match self {
            Kind::Share => 1.0 / (1.0 + (-y).exp()),
            _ => y.exp(),
        }
    }
}

/// The value keys that may be uncertain, by kind (distribution parameters
/// are found in every distribution table). Everything else (capacities,
/// the run's settings, calendars, profiles, pathway shares) may not.
const VALUE_KEYS: &[(&str, Kind)] = &[
    ("demand.crises_per_day", Kind::Rate),
    ("demand.frail_share", Kind::Share),
    ("pru.eligible_share", Kind::Share),
    ("pru.treated_at_home", Kind::Share),
    ("pru.community_follow_up", Kind::Share),
    ("frailty_unit.discharged_same_day", Kind::Share),
    ("frailty_unit.community_follow_up", Kind::Share),
    ("ed.frail_admit_share", Kind::Share),
    ("ed.other_admit_share", Kind::Share),
    ("ed.home_treatable_admit_share", Kind::Share),
    ("community.referrals_per_day", Kind::Rate),
    ("rehab.community_follow_up", Kind::Share),
    ("care_homes.community_placements_per_day", Kind::Rate),
    ("care_homes.crises_per_resident_year", Kind::Rate),
    ("care_homes.red_bag.los_reduction", Kind::Duration),
    ("care_homes.red_bag.min_los", Kind::Duration),
    ("care_homes.search_at_one_free_bed", Kind::Duration),
    ("home_care.community_starts_per_day", Kind::Rate),
    ("home_care.community_follow_up", Kind::Share),
    ("readmission.p0", Kind::Share),
    ("readmission.p1", Kind::Share),
    ("readmission.p2", Kind::Share),
    ("mental_health.crises_per_day", Kind::Rate),
    ("mental_health.referrals_per_day", Kind::Rate),
    ("mental_health.ed_admit_share", Kind::Share),
    ("mental_health.ed_crht_share", Kind::Share),
    ("mental_health.out_of_area_after", Kind::Duration),
    ("mental_health.crht.escalation_share", Kind::Share),
    ("mental_health.readmission.share", Kind::Share),
];

/// One uncertain value of a scenario: its dotted key (a distribution's
/// parameter as `acute.los.frail.mean`), kind and 80% interval (durations
/// in hours). Recorded in `run.json` (`scenario_facts`) with its key,
/// kind and interval, so that a report can draw it again.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UncertainValue {
    /// The dotted key.
    pub key: String,
    /// What it is.
    pub kind: Kind,
    /// The 10th percentile.
    pub low: f64,
    /// The 90th percentile.
    pub high: f64,
    /// Where the interval is written (not recorded: a report has no file).
    #[serde(skip)]
    pub(crate) origin: Origin,
}

impl UncertainValue {
    /// The value at standard normal deviate `z`, as it is put in the
    /// scenario (a duration to the microhour, the precision it is written
    /// with).
    pub fn value_at(&self, z: f64) -> f64 {
        let (a, b) = (self.kind.forward(self.low), self.kind.forward(self.high));
        let v = if self.low == self.high {
            self.low
        } else {
            self.kind.back((a + b) / 2.0 + (b - a) / (2.0 * Z90) * z)
        };
        match self.kind {
            Kind::Duration => parse_duration(&duration_text(v)).unwrap_or(v),
            _ => v,
        }
    }

    /// The median: what every check before the run uses.
    pub fn central(&self) -> f64 {
        self.value_at(0.0)
    }

    /// The `--set` that puts `v` in place of the interval.
    fn assignment(&self, v: f64) -> String {
        match self.kind {
            Kind::Duration => format!("{}=\"{}\"", self.key, duration_text(v)),
            _ => format!("{}={v:?}", self.key),
        }
    }
}

fn duration_text(hours: f64) -> String {
    format!("{hours:.6}h")
}

/// The standard normal deviate of key `key` in replication `replication`.
pub fn deviate(seed: u64, replication: u32, key: &str) -> f64 {
    let stream = StreamKey::new(seed, replication, PARAMETER_SOURCE, 0).child(fnv1a(key));
    let bits = StreamRng::new(stream).next_u64() >> 11;
    // In (0, 1), never 0 or 1: the quantile is always finite.
    let u = (bits as f64 + 0.5) / (1u64 << 53) as f64;
    -std::f64::consts::SQRT_2 * erfc_inv(2.0 * u)
}

/// 64-bit FNV-1a.
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Whether a table is written as an interval.
fn is_interval(t: &Table<'_>) -> bool {
    t.contains_key("low") || t.contains_key("high")
}

fn lookup<'t, 'a>(root: &'t Table<'a>, path: &str) -> Option<&'t Item<'a>> {
    let mut parts = path.split('.');
    let mut item = root.get(parts.next()?)?;
    for part in parts {
        match item.get_ref() {
            DeValue::Table(t) => item = t.get(part)?,
            _ => return None,
        }
    }
    Some(item)
}

/// Every uncertain value of the merged document, checked, in the format's
/// key order.
pub(crate) fn find(
    root: &Table<'_>,
    inputs: &Inputs,
) -> Result<Vec<UncertainValue>, ScenarioError> {
    let mut out = Vec::new();
    for &(path, shape) in FORMAT {
        let Some(item) = lookup(root, path) else {
            continue;
        };
        let DeValue::Table(table) = item.get_ref() else {
            continue;
        };
        match shape {
            Shape::Value if is_interval(table) => {
                let Some(&(_, kind)) = VALUE_KEYS.iter().find(|(k, _)| *k == path) else {
                    return Err(not_uncertain(inputs, item, path));
                };
                out.push(read(inputs, path, kind, item, table)?);
            }
            Shape::Dist => {
                for (k, v) in table {
                    let DeValue::Table(inner) = v.get_ref() else {
                        continue;
                    };
                    if !is_interval(inner) {
                        continue;
                    }
                    let key = format!("{path}.{}", k.get_ref());
                    let kind = match k.get_ref().as_ref() {
                        "shape" => Kind::Number,
                        "dist" | "values" | "weights" => {
                            return Err(not_uncertain(inputs, v, &key));
                        }
                        _ => Kind::Duration,
                    };
                    out.push(read(inputs, &key, kind, v, inner)?);
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

fn not_uncertain(inputs: &Inputs, item: &Item<'_>, key: &str) -> ScenarioError {
    inputs.error(
        ErrorKind::InvalidValue,
        Origin::of(item.span()),
        Some(key.to_string()),
        format!(
            "`{key}` cannot be an uncertain value: only the shares, rates and durations a \
             scenario estimates can (docs/scenario-format.md, \"Uncertain values\"); \
             capacities, the run's settings, profiles and pathway shares are written plain"
        ),
    )
}

/// Reads and checks one interval.
fn read(
    inputs: &Inputs,
    key: &str,
    kind: Kind,
    item: &Item<'_>,
    table: &Table<'_>,
) -> Result<UncertainValue, ScenarioError> {
    let err = |kind: ErrorKind, span: std::ops::Range<usize>, sub: Option<&str>, m: String| {
        let k = match sub {
            Some(s) => format!("{key}.{s}"),
            None => key.to_string(),
        };
        inputs.error(kind, Origin::of(span), Some(k), m)
    };
    for (k, _) in table {
        if !["low", "high"].contains(&k.get_ref().as_ref()) {
            return Err(err(
                ErrorKind::UnknownKey,
                k.span(),
                Some(k.get_ref()),
                format!(
                    "unknown key `{}` in an uncertain value: it has only `low` and `high` (its \
                     10th and 90th percentiles)",
                    truncate_token(k.get_ref())
                ),
            ));
        }
    }
    let bound = |name: &str| -> Result<(f64, std::ops::Range<usize>), ScenarioError> {
        let Some(v) = table.get(name) else {
            return Err(err(
                ErrorKind::MissingKey,
                item.span(),
                None,
                format!(
                    "an uncertain value needs `low` and `high` (its 10th and 90th percentiles), \
                     such as {}; `{name}` is missing",
                    example(kind)
                ),
            ));
        };
        let span = v.span();
        let bad = |m: String| err(ErrorKind::InvalidValue, span.clone(), Some(name), m);
        let wrong = |m: String| err(ErrorKind::WrongType, span.clone(), Some(name), m);
        let x = match (kind, v.get_ref()) {
            (Kind::Duration, DeValue::String(s)) => parse_duration(s).map_err(bad)?,
            (Kind::Duration, DeValue::Integer(_) | DeValue::Float(_)) => {
                let shown = integer(v.get_ref())
                    .map(|i| i.to_string())
                    .or_else(|| float(v.get_ref()).map(format_float))
                    .unwrap_or_default();
                return Err(bad(bare_number_message(&shown)));
            }
            (Kind::Duration, other) => {
                return Err(wrong(format!(
                    "expected a duration with a unit, such as \"4d\", found {}",
                    doc::describe(other)
                )));
            }
            (_, DeValue::Integer(_)) => integer(v.get_ref()).unwrap_or(0) as f64,
            (_, DeValue::Float(_)) => float(v.get_ref()).unwrap_or(f64::NAN),
            (_, other) => {
                return Err(wrong(format!(
                    "expected a number ({} {}), found {}",
                    if kind == Kind::Share {
                        "a"
                    } else {
                        "a positive"
                    },
                    kind.name(),
                    doc::describe(other)
                )));
            }
        };
        if !x.is_finite() {
            return Err(bad(format!("expected a finite number, found {x}")));
        }
        Ok((x, span))
    };
    let (low, low_span) = bound("low")?;
    let (high, high_span) = bound("high")?;
    let shown = |x: f64| match kind {
        Kind::Duration => format!("{}h", format_float(x)),
        _ => format_float(x),
    };
    if kind == Kind::Share {
        for (x, span, name) in [(low, &low_span, "low"), (high, &high_span, "high")] {
            if !(x > 0.0 && x < 1.0) {
                return Err(err(
                    ErrorKind::InvalidValue,
                    span.clone(),
                    Some(name),
                    format!(
                        "a share's interval must lie inside (0, 1), strictly: its distribution \
                         is logit-normal; found {name} = {}",
                        shown(x)
                    ),
                ));
            }
        }
    } else if low <= 0.0 {
        return Err(err(
            ErrorKind::InvalidValue,
            low_span,
            Some("low"),
            format!(
                "a {}'s interval must lie above 0: its distribution is lognormal; found low = {}",
                kind.name(),
                shown(low)
            ),
        ));
    }
    if low > high {
        return Err(err(
            ErrorKind::InvalidValue,
            low_span,
            Some("low"),
            format!(
                "`low` ({}) is above `high` ({}): low is the 10th percentile, high the 90th",
                shown(low),
                shown(high)
            ),
        ));
    }
    Ok(UncertainValue {
        key: key.to_string(),
        kind,
        low,
        high,
        origin: Origin::of(item.span()),
    })
}

fn example(kind: Kind) -> &'static str {
    match kind {
        Kind::Share => "{ low = 0.60, high = 0.74 }",
        Kind::Rate | Kind::Number => "{ low = 30, high = 36 }",
        Kind::Duration => "{ low = \"3d\", high = \"5d\" }",
    }
}

/// The document with every interval replaced by `value(v)`.
pub(crate) fn substituted(
    doc: &ScenarioDoc,
    values: &[UncertainValue],
    value: impl Fn(usize, &UncertainValue) -> f64,
) -> Result<ScenarioDoc, ScenarioError> {
    let sets: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(i, v)| v.assignment(value(i, v)))
        .collect();
    let mut d = doc.clone();
    d.set_all(&sets)?;
    Ok(d)
}

/// Uncertain values and the seed that draws them: all a report needs to
/// know each replication's values again, with no scenario file.
#[derive(Clone, Debug, PartialEq)]
pub struct Draws {
    values: Vec<UncertainValue>,
    seed: u64,
}

impl Draws {
    /// `values` (as recorded), drawn with `seed`.
    pub fn new(values: Vec<UncertainValue>, seed: u64) -> Draws {
        Draws { values, seed }
    }

    /// The uncertain values, in the format's key order.
    pub fn values(&self) -> &[UncertainValue] {
        &self.values
    }

    /// The values as `run.json` records them: without where they are
    /// written, which a record read back does not have either.
    pub fn recorded(&self) -> Vec<UncertainValue> {
        self.values
            .iter()
            .map(|v| UncertainValue {
                origin: Origin::default(),
                ..v.clone()
            })
            .collect()
    }

    /// The standard normal deviates replication `replication` draws, one
    /// per value.
    pub fn deviates(&self, replication: u32) -> Vec<f64> {
        self.values
            .iter()
            .map(|v| deviate(self.seed, replication, &v.key))
            .collect()
    }

    /// The values replication `replication` runs with (durations in hours).
    pub fn draws(&self, replication: u32) -> Vec<f64> {
        self.values
            .iter()
            .zip(self.deviates(replication))
            .map(|(v, z)| v.value_at(z))
            .collect()
    }
}

/// A scenario's uncertain values and how each replication draws them.
#[derive(Debug)]
pub struct Uncertainty {
    doc: ScenarioDoc,
    draws: Draws,
}

impl Uncertainty {
    /// The uncertain values of `doc` (already converted once, so checked),
    /// drawn with `seed`; `None` when it has none.
    pub(crate) fn of(doc: &ScenarioDoc, seed: u64) -> Option<Arc<Uncertainty>> {
        let values = doc.uncertain_values().ok()?;
        (!values.is_empty()).then(|| {
            Arc::new(Uncertainty {
                doc: doc.clone(),
                draws: Draws::new(values, seed),
            })
        })
    }

    /// The values and seed, without the document: what `run.json` records.
    pub fn record(&self) -> &Draws {
        &self.draws
    }

    /// The uncertain values, in the format's key order.
    pub fn values(&self) -> &[UncertainValue] {
        self.draws.values()
    }

    /// The values replication `replication` runs with (durations in hours).
    pub fn draws(&self, replication: u32) -> Vec<f64> {
        self.draws.draws(replication)
    }

    /// The scenario replication `replication` runs: the document with its
    /// draws in place of the intervals, converted as a file is.
    pub fn scenario(&self, replication: u32) -> Result<Scenario, ScenarioError> {
        let draws = self.draws(replication);
        substituted(&self.doc, self.values(), |i, _| draws[i])?
            .to_parts_checking(false)
            .map(|p| p.scenario)
    }
}

impl crate::model::ScenarioDraws for Uncertainty {
    fn scenario(&self, replication: u32) -> Result<Scenario, String> {
        Uncertainty::scenario(self, replication).map_err(|e| {
            let mut drawn = String::new();
            for (v, x) in self.values().iter().zip(self.draws(replication)) {
                let shown = match v.kind {
                    Kind::Duration => format!("{}h", format_float(x)),
                    _ => format_float(x),
                };
                let _ = write!(
                    drawn,
                    "{}{} = {shown}",
                    if drawn.is_empty() { "" } else { ", " },
                    v.key
                );
            }
            let why = e.to_string();
            format!(
                "replication {replication}'s drawn values ({drawn}) make a scenario that is \
                 refused: {}",
                why.strip_prefix("error: ").unwrap_or(&why)
            )
        })
    }
}

/// Relocates an error that the central values' conversion found at one of
/// the `--set`s standing for an interval, to the interval itself.
pub(crate) fn relocate(
    e: ScenarioError,
    inputs: &Inputs,
    values: &[UncertainValue],
) -> ScenarioError {
    let central = |v: &UncertainValue| {
        let c = v.central();
        match v.kind {
            Kind::Duration => format!("{}h", format_float(c)),
            _ => format_float(c),
        }
    };
    let Some(v) = values
        .iter()
        .find(|v| e.0.key.as_deref() == Some(v.key.as_str()))
    else {
        // An error about a table holding intervals (a distribution) stays
        // where it is, naming the central values it was checked with.
        let Some(key) = e.0.key.clone() else {
            return e;
        };
        let inside: Vec<String> = values
            .iter()
            .filter(|v| v.key.starts_with(&format!("{key}.")))
            .map(|v| format!("{} = {}", v.key, central(v)))
            .collect();
        let mut e = e;
        if !inside.is_empty() {
            e.0.message = format!(
                "{} (with the central values of its intervals: {})",
                e.0.message,
                inside.join(", ")
            );
        }
        return e;
    };
    inputs.error(
        e.kind(),
        v.origin,
        Some(v.key.clone()),
        format!(
            "{} (with the interval's central value, {})",
            e.message(),
            central(v)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(kind: Kind, low: f64, high: f64) -> UncertainValue {
        UncertainValue {
            key: "k".into(),
            kind,
            low,
            high,
            origin: Origin::of(0..0),
        }
    }

    #[test]
    fn low_and_high_are_the_10th_and_90th_percentiles() {
        for v in [
            value(Kind::Share, 0.6, 0.74),
            value(Kind::Rate, 30.0, 36.0),
            value(Kind::Duration, 72.0, 120.0),
        ] {
            assert!((v.value_at(-Z90) - v.low).abs() < 1e-5, "{v:?}");
            assert!((v.value_at(Z90) - v.high).abs() < 1e-5, "{v:?}");
        }
        let s = value(Kind::Share, 0.2, 0.8);
        assert!((s.central() - 0.5).abs() < 1e-12);
        let r = value(Kind::Rate, 4.0, 9.0);
        assert!((r.central() - 6.0).abs() < 1e-12);
    }

    /// Every key that may be uncertain is a value of the format, and its
    /// kind is the reader's: a share refuses 1.5, a rate takes it, a
    /// duration takes "2.5h" (on `full.toml`, which sets every key).
    #[test]
    fn value_keys_are_values_of_the_format_of_their_kind() {
        let full =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/scenarios/full.toml");
        for &(key, kind) in VALUE_KEYS {
            assert!(
                FORMAT.iter().any(|&(k, s)| k == key && s == Shape::Value),
                "{key} is not a value of the format"
            );
            let set = match kind {
                Kind::Duration => format!("{key}=\"2.5h\""),
                _ => format!("{key}=1.5"),
            };
            let loaded = crate::scenario::load(&full, std::slice::from_ref(&set));
            match kind {
                Kind::Share => {
                    let e = loaded.expect_err(&set);
                    assert!(e.message().contains("share"), "{set}: {e}");
                }
                _ => {
                    loaded.unwrap_or_else(|e| panic!("{set}: {e}"));
                }
            }
        }
    }

    #[test]
    fn deviates_are_standard_normal_and_keyed() {
        let n = 20_000;
        let zs: Vec<f64> = (0..n)
            .map(|r| deviate(7, r, "pru.treated_at_home"))
            .collect();
        let mean = zs.iter().sum::<f64>() / f64::from(n);
        let var = zs.iter().map(|z| (z - mean).powi(2)).sum::<f64>() / f64::from(n - 1);
        assert!(mean.abs() < 0.03, "{mean}");
        assert!((var - 1.0).abs() < 0.04, "{var}");
        assert_ne!(deviate(7, 0, "a"), deviate(7, 0, "b"));
        assert_ne!(deviate(7, 0, "a"), deviate(8, 0, "a"));
        assert_eq!(deviate(7, 3, "a"), deviate(7, 3, "a"));
    }
}

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
    /// One share of a pathway table with a `sample`: drawn with the other
    /// shares of its table (a Dirichlet), so its value depends on them.
    PathwayShare,
}

impl Kind {
    /// The name used in messages and docs.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Share => "share",
            Kind::Rate => "rate",
            Kind::Duration => "duration",
            Kind::Number => "number",
            Kind::PathwayShare => "pathway share",
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
/// the run's settings, calendars, profiles) may not; pathway shares are
/// uncertain through their table's `sample` ([`SHARE_TABLES`]).
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

/// The tables of pathway shares that may carry a `sample`, with their
/// shares in the format's order (the order of a draw).
pub const SHARE_TABLES: [(&str, &[&str]); 3] = [
    ("pathways.frail", &["p0", "p1", "p2", "p3"]),
    ("pathways.other", &["p0", "p1", "p2", "p3"]),
    (
        "mental_health.pathways",
        &["home", "supported", "care_home"],
    ),
];

/// The range of a pathway table's `sample`.
pub const SAMPLE_RANGE: (f64, f64) = (10.0, 1e6);

/// One uncertain value of a scenario: its dotted key (a distribution's
/// parameter as `acute.los.frail.mean`), kind and 80% interval (durations
/// in hours). A pathway share (`pathways.frail.p1`) is its central share
/// (as `low` and `high`) and its table's `sample`; the shares of one table
/// (consecutive values, keys under the same table) are drawn together.
/// Recorded in `run.json` (`scenario_facts`) with its key, kind, interval
/// and sample, so that a report can draw it again.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UncertainValue {
    /// The dotted key.
    pub key: String,
    /// What it is.
    pub kind: Kind,
    /// The 10th percentile (a pathway share: its central share).
    pub low: f64,
    /// The 90th percentile (a pathway share: its central share).
    pub high: f64,
    /// Where the interval is written (not recorded: a report has no file).
    #[serde(skip)]
    pub(crate) origin: Origin,
    /// A pathway share's table's `sample`; `None` for the other kinds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample: Option<f64>,
}

impl UncertainValue {
    /// The value at standard normal deviate `z`, as it is put in the
    /// scenario (a duration to the microhour, the precision it is written
    /// with). A pathway share's draw depends on its table's other shares
    /// ([`draw_shares`]): here it is its central share.
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

    /// The median (a pathway share: the share as written): what every
    /// check before the run uses.
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

/// The uniform of key `key` in replication `replication`, of which
/// [`deviate`] is the standard normal quantile: (b + 1/2) / 2^53, b the top
/// 53 bits of the key's stream's first output. Above 0 and below 1:
/// rounding would make it exactly 1 for the largest b (once in 2^53),
/// which is taken as 1 - 2^-53, so that every quantile is finite.
pub fn uniform(seed: u64, replication: u32, draw: u32, key: &str) -> f64 {
    let stream =
        StreamKey::new(seed, replication, PARAMETER_SOURCE, u64::from(draw)).child(fnv1a(key));
    open_unit(StreamRng::new(stream).next_u64() >> 11)
}

/// (b + 1/2) / 2^53 for 53-bit `b`, at most 1 - 2^-53.
fn open_unit(b: u64) -> f64 {
    ((b as f64 + 0.5) / (1u64 << 53) as f64).min(1.0 - f64::EPSILON / 2.0)
}

/// The standard normal deviate of key `key` in replication `replication`.
pub fn deviate(seed: u64, replication: u32, draw: u32, key: &str) -> f64 {
    let u = uniform(seed, replication, draw, key);
    -std::f64::consts::SQRT_2 * erfc_inv(2.0 * u)
}

/// The quantile at `u` of the Gamma distribution of shape `shape` and scale
/// 1 (`docs/model.md`, "Parameter uncertainty"): the x with P(shape, x) = u
/// (Q(shape, x) = 1 - u above the median's probability 1/2, where Q keeps
/// the resolution P loses), P and Q statrs' regularised incomplete gamma
/// functions, by bisection on ln x over [-708, 709] until the bracket is
/// 2^-52 wide (64 halvings at most: the relative error of x is below
/// 2^-52); 0 when the quantile is below e^-708 (a tiny shape; statrs takes
/// a smaller, subnormal x for 0). `u` is
/// taken in [2^-54, 1 - 2^-53]. Never panics: the functions are only asked
/// at a positive, finite x, and an answer that is not a number counts as
/// "not below", which only moves the bracket. Its time grows with the
/// shape (statrs' series sums about 8 sqrt(shape) terms near the quantile,
/// and never ends for a shape near 1e300): [`draw_shares`] asks at most
/// 1e6.
///
/// statrs' own `Gamma::inverse_cdf` is not used: for shapes below about 1
/// its bracket stops near 1e-9 and it returns a quantile whose cdf is far
/// from `u` (shape 0.1 at u = 0.1 gave a cdf of 0.13).
pub fn gamma_quantile(shape: f64, u: f64) -> f64 {
    use statrs::function::gamma::{checked_gamma_lr, checked_gamma_ur};
    let u = u.clamp(0.5f64.powi(54), 1.0 - f64::EPSILON / 2.0);
    let upper = u > 0.5;
    // Whether the quantile is above e^t: the cdf at e^t is below u.
    let below = |t: f64| -> bool {
        let x = t.exp();
        if upper {
            checked_gamma_ur(shape, x).is_ok_and(|q| q > 1.0 - u)
        } else {
            checked_gamma_lr(shape, x).is_ok_and(|p| p < u)
        }
    };
    let (mut low, mut high) = (-708.0f64, 709.0f64);
    if !below(low) {
        return 0.0;
    }
    while high - low > f64::EPSILON {
        let mid = low + (high - low) / 2.0;
        if mid <= low || mid >= high {
            break;
        }
        if below(mid) {
            low = mid;
        } else {
            high = mid;
        }
    }
    (low + (high - low) / 2.0).exp()
}

/// One replication's draw of one pathway table's shares: `group` is the
/// table's uncertain values (its shares above 0, in the format's order),
/// the draw g_i / sum g_j, g_i the Gamma(sample x share_i) quantile at the
/// uniform of the share's key (`docs/model.md`, "Parameter uncertainty").
///
/// The sum cannot be 0 or infinite: the shares add to 1 (within 1e-6,
/// checked) and a table has at most 4, so the largest is at least
/// 0.2499997 and, with `sample` >= 10, its shape at least 2.499997, whose
/// quantile at the smallest uniform (2^-54) is about 5e-7; every shape is
/// at most 1e6 (`sample` <= 1e6), whose quantiles are below 1.1e6. A draw
/// that is not finite all the same is `NaN`, which [`Uncertainty::scenario`]
/// refuses naming the replication.
pub fn draw_shares(seed: u64, replication: u32, draw: u32, group: &[UncertainValue]) -> Vec<f64> {
    let g: Vec<f64> = group
        .iter()
        .map(|v| {
            // Outside what a scenario loads (a `run.json` edited), NaN:
            // statrs' series for a huge shape never ends.
            let shape = match v.sample {
                Some(n) if (SAMPLE_RANGE.0..=SAMPLE_RANGE.1).contains(&n) && v.low <= 1.0 => {
                    n * v.low
                }
                _ => f64::NAN,
            };
            gamma_quantile(shape, uniform(seed, replication, draw, &v.key))
        })
        .collect();
    let sum: f64 = g.iter().sum();
    if !(sum > 0.0 && sum.is_finite()) {
        return vec![f64::NAN; g.len()];
    }
    g.iter().map(|x| x / sum).collect()
}

/// The table of a pathway share's key (`pathways.frail` of
/// `pathways.frail.p1`).
fn table_of(key: &str) -> &str {
    key.rsplit_once('.').map_or(key, |(t, _)| t)
}

/// The groups of `values` drawn together: each pathway table's shares
/// (consecutive), each other value alone.
fn groups(values: &[UncertainValue]) -> Vec<std::ops::Range<usize>> {
    let mut out: Vec<std::ops::Range<usize>> = Vec::new();
    for (i, v) in values.iter().enumerate() {
        if let Some(last) = out.last_mut()
            && v.kind == Kind::PathwayShare
            && values[last.start].kind == Kind::PathwayShare
            && table_of(&values[last.start].key) == table_of(&v.key)
        {
            last.end = i + 1;
            continue;
        }
        out.push(i..i + 1);
    }
    out
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
            Shape::Table if table.contains_key("sample") => {
                if let Some(&(_, names)) = SHARE_TABLES.iter().find(|(t, _)| *t == path) {
                    out.extend(read_shares(inputs, path, names, table)?);
                }
            }
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
             capacities, the run's settings and profiles are written plain, and pathway \
             shares are made uncertain by a `sample` on their table, such as \
             `pathways.frail = {{ p0 = 0.5, p1 = 0.45, p2 = 0.04, p3 = 0.01, sample = 400 }}`"
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
        sample: None,
    })
}

/// Reads a pathway table's `sample` and its shares above 0 (the shares
/// themselves are checked by the conversion, as without `sample`, which
/// takes `sample` out first: [`has_sample`]). None above 0 is a table the
/// conversion refuses, at the share that is missing, not a number or out
/// of [0, 1], or for a sum of 0.
fn read_shares(
    inputs: &Inputs,
    path: &str,
    names: &[&str],
    table: &Table<'_>,
) -> Result<Vec<UncertainValue>, ScenarioError> {
    let key = format!("{path}.sample");
    let Some(v) = table.get("sample") else {
        return Ok(Vec::new());
    };
    let at =
        |kind: ErrorKind, m: String| inputs.error(kind, Origin::of(v.span()), Some(key.clone()), m);
    let (low, high) = SAMPLE_RANGE;
    let what = "a number from 10 to 1e6 (the shares are as uncertain as shares counted among \
                that many patients), such as 400";
    let (n, shown) = match v.get_ref() {
        DeValue::Integer(_) => match integer(v.get_ref()) {
            Some(i) => (i as f64, i.to_string()),
            None => (f64::NAN, "an integer out of range".to_string()),
        },
        DeValue::Float(_) => {
            let x = float(v.get_ref()).unwrap_or(f64::NAN);
            (x, format_float(x))
        }
        other => {
            return Err(at(
                ErrorKind::WrongType,
                format!("`sample` must be {what}; found {}", doc::describe(other)),
            ));
        }
    };
    if !(n.is_finite() && (low..=high).contains(&n)) {
        return Err(at(
            ErrorKind::InvalidValue,
            format!("`sample` must be {what}; found {shown}"),
        ));
    }
    let mut out = Vec::new();
    for name in names {
        let Some(share) = table.get(*name) else {
            continue;
        };
        let x = match share.get_ref() {
            DeValue::Integer(_) => integer(share.get_ref()).map(|i| i as f64),
            DeValue::Float(_) => float(share.get_ref()),
            _ => None,
        };
        if let Some(x) = x.filter(|x| *x > 0.0 && *x <= 1.0) {
            out.push(UncertainValue {
                key: format!("{path}.{name}"),
                kind: Kind::PathwayShare,
                low: x,
                high: x,
                origin: Origin::of(share.span()),
                sample: Some(n),
            });
        }
    }
    Ok(out)
}

/// Whether a pathway table of `root` has a `sample`: the conversion then
/// takes it out, even when no share is uncertain (a table the conversion
/// refuses, [`read_shares`]).
pub(crate) fn has_sample(root: &Table<'_>) -> bool {
    SHARE_TABLES
        .iter()
        .any(|(t, _)| lookup(root, &format!("{t}.sample")).is_some())
}

fn example(kind: Kind) -> &'static str {
    match kind {
        Kind::Share => "{ low = 0.60, high = 0.74 }",
        Kind::Rate | Kind::Number => "{ low = 30, high = 36 }",
        Kind::Duration => "{ low = \"3d\", high = \"5d\" }",
        Kind::PathwayShare => "{ p0 = 0.5, p1 = 0.45, p2 = 0.04, p3 = 0.01, sample = 400 }",
    }
}

/// The document with every interval replaced by `value(v)`, every
/// pathway share by its `value` (unless it is the share as written) and
/// every pathway table's `sample` taken out.
pub(crate) fn substituted(
    doc: &ScenarioDoc,
    values: &[UncertainValue],
    value: impl Fn(usize, &UncertainValue) -> f64,
) -> Result<ScenarioDoc, ScenarioError> {
    let sets: Vec<String> = values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| {
            let x = value(i, v);
            // The central shares are the document's own: errors about
            // them stay where they were written.
            (v.kind != Kind::PathwayShare || x.to_bits() != v.low.to_bits())
                .then(|| v.assignment(x))
        })
        .collect();
    let mut d = doc.clone();
    d.set_all(&sets)?;
    for (table, _) in SHARE_TABLES {
        d.remove_key(&format!("{table}.sample"));
    }
    Ok(d)
}

/// Uncertain values and the seed that draws them: all a report needs to
/// know each replication's values again, with no scenario file.
#[derive(Clone, Debug, PartialEq)]
pub struct Draws {
    values: Vec<UncertainValue>,
    seed: u64,
    /// Each replication's kept draw (`docs/model.md`, "Keeping only the
    /// draws the calibration allows"); draw 0 for one not listed.
    kept: std::collections::BTreeMap<u32, u32>,
}

impl Draws {
    /// `values` (as recorded), drawn with `seed`.
    pub fn new(values: Vec<UncertainValue>, seed: u64) -> Draws {
        Draws {
            values,
            seed,
            kept: Default::default(),
        }
    }

    /// The same, replication r running its draw `kept[r]`.
    pub fn with_kept(mut self, kept: std::collections::BTreeMap<u32, u32>) -> Draws {
        self.kept = kept;
        self
    }

    /// Whether the replications run kept draws (a run with
    /// `uncertainty.keep = "calibrated"`).
    pub fn has_kept(&self) -> bool {
        !self.kept.is_empty()
    }

    /// The draw replication `replication` runs.
    pub fn draw_of(&self, replication: u32) -> u32 {
        self.kept.get(&replication).copied().unwrap_or(0)
    }

    /// The standard normal deviates replication `replication` ran with,
    /// one per value.
    pub fn deviates(&self, replication: u32) -> Vec<f64> {
        self.deviates_at(replication, self.draw_of(replication))
    }

    /// The values replication `replication` ran with (durations in hours).
    pub fn draws(&self, replication: u32) -> Vec<f64> {
        self.draws_at(replication, self.draw_of(replication))
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

    /// The standard normal deviates of draw `draw` of replication
    /// `replication`, one per value.
    pub fn deviates_at(&self, replication: u32, draw: u32) -> Vec<f64> {
        self.values
            .iter()
            .map(|v| deviate(self.seed, replication, draw, &v.key))
            .collect()
    }

    /// The values replication `replication` runs with (durations in hours),
    /// one per value; a pathway table's shares are drawn together
    /// ([`draw_shares`]).
    pub fn draws_at(&self, replication: u32, draw: u32) -> Vec<f64> {
        let mut out = Vec::with_capacity(self.values.len());
        for group in groups(&self.values) {
            let vs = &self.values[group];
            if vs[0].kind == Kind::PathwayShare {
                out.extend(draw_shares(self.seed, replication, draw, vs));
            } else {
                out.extend(
                    vs.iter()
                        .map(|v| v.value_at(deviate(self.seed, replication, draw, &v.key))),
                );
            }
        }
        out
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

    /// The values of draw `draw` of replication `replication` (durations
    /// in hours).
    pub fn draws(&self, replication: u32, draw: u32) -> Vec<f64> {
        self.draws.draws_at(replication, draw)
    }

    /// The scenario replication `replication` runs: the document with its
    /// draws in place of the intervals, converted as a file is.
    /// Its noise seed is that of the draw (`docs/model.md`, "Keeping only
    /// the draws the calibration allows"): the scenario's own for draw 0.
    pub fn scenario(&self, replication: u32, draw: u32) -> Result<Scenario, ScenarioError> {
        let draws = self.draws(replication, draw);
        if let Some((v, _)) = self
            .values()
            .iter()
            .zip(&draws)
            .find(|(_, x)| !x.is_finite())
        {
            return Err(self.doc.error_at(
                ErrorKind::InvalidValue,
                v.origin,
                table_of(&v.key),
                format!(
                    "the shares of `{}` could not be drawn (their gamma quantiles have no \
                     positive, finite sum)",
                    table_of(&v.key)
                ),
            ));
        }
        let mut scenario = substituted(&self.doc, self.values(), |i, _| draws[i])?
            .to_parts_checking(false)?
            .scenario;
        scenario.seed = crate::model::kept::draw_seed(scenario.seed, replication, draw);
        Ok(scenario)
    }
}

impl crate::model::ScenarioDraws for Uncertainty {
    fn scenario(&self, replication: u32, draw: u32) -> Result<Scenario, String> {
        Uncertainty::scenario(self, replication, draw).map_err(|e| {
            let mut drawn = String::new();
            for (v, x) in self.values().iter().zip(self.draws(replication, draw)) {
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
    // Pathway shares are converted as written: errors about them are
    // where they were written already.
    let values: Vec<&UncertainValue> = values
        .iter()
        .filter(|v| v.kind != Kind::PathwayShare)
        .collect();
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
            sample: None,
        }
    }

    #[test]
    fn the_uniform_stays_inside_zero_and_one_and_its_deviate_is_finite() {
        for b in [0, 1, (1u64 << 52) - 1, (1u64 << 53) - 2, (1u64 << 53) - 1] {
            let u = open_unit(b);
            assert!(u > 0.0 && u < 1.0, "{b}: {u}");
            let z = -std::f64::consts::SQRT_2 * erfc_inv(2.0 * u);
            assert!(z.is_finite(), "{b}: {z}");
        }
        // Without the bound, the largest b rounds to exactly 1.
        assert_eq!(
            ((((1u64 << 53) - 1) as f64 + 0.5) / (1u64 << 53) as f64),
            1.0
        );
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

    /// The gamma quantile inverts statrs' regularised incomplete gamma
    /// functions to a relative error far below what a draw needs, for the
    /// shapes a `sample` makes (10 x 1e-6 to 1e6) and the extreme
    /// uniforms; for any positive shape it returns a finite number >= 0,
    /// increasing with u, without panicking.
    #[test]
    fn gamma_quantile_inverts_the_cdf() {
        use statrs::function::gamma::{gamma_lr, gamma_ur};
        let us = [
            0.5f64.powi(54),
            1e-12,
            1e-6,
            0.001,
            0.1,
            0.3,
            0.5,
            0.7,
            0.9,
            0.999,
            1.0 - 1e-6,
            1.0 - 1e-12,
            1.0 - f64::EPSILON / 2.0,
        ];
        let mut worst = 0.0f64;
        for &shape in &[
            1e-5, 1e-3, 0.01, 0.1, 0.5, 1.0, 2.5, 10.0, 100.0, 160.5, 1e3, 1e4, 1e5, 1e6,
        ] {
            for &u in &us {
                let x = gamma_quantile(shape, u);
                if x == 0.0 {
                    // Below e^-708: only a tiny shape's low quantiles.
                    assert!(gamma_lr(shape, (-708.0f64).exp()) >= u, "{shape} {u}");
                    continue;
                }
                let rel = if u <= 0.5 {
                    (gamma_lr(shape, x) - u).abs() / u
                } else {
                    (gamma_ur(shape, x) - (1.0 - u)).abs() / (1.0 - u)
                };
                worst = worst.max(rel);
                // At shape 1e6 statrs' own P carries ~1e-9 (its ln P sums
                // terms of ~1e7): the bound is the functions', not ours.
                assert!(
                    rel < 1e-8,
                    "shape {shape}, u {u}: x {x}, relative error {rel}"
                );
            }
        }
        assert!(worst > 0.0);
        for &shape in &[1e-300, 1e-30, 3e-6, 0.7, 7.0, 7e5, 1e6] {
            let mut last = 0.0;
            for &u in &us {
                let x = gamma_quantile(shape, u);
                assert!(x.is_finite() && x >= last, "shape {shape}, u {u}: {x}");
                last = x;
            }
        }
        // The smallest largest share (a quarter, less the sum's tolerance)
        // at the smallest sample and uniform: far above 0 (the sum of a
        // draw is never 0).
        let smallest = gamma_quantile(10.0 * (1.0 - 1e-6) / 4.0, 0.5f64.powi(54));
        assert!(smallest > 1e-7, "{smallest}");
        // u = 1, which rounding can give, is taken as 1 - 2^-53.
        assert_eq!(
            gamma_quantile(3.0, 1.0),
            gamma_quantile(3.0, 1.0 - f64::EPSILON / 2.0)
        );
    }

    #[test]
    fn deviates_are_standard_normal_and_keyed() {
        let n = 20_000;
        let zs: Vec<f64> = (0..n)
            .map(|r| deviate(7, r, 0, "pru.treated_at_home"))
            .collect();
        let mean = zs.iter().sum::<f64>() / f64::from(n);
        let var = zs.iter().map(|z| (z - mean).powi(2)).sum::<f64>() / f64::from(n - 1);
        assert!(mean.abs() < 0.03, "{mean}");
        assert!((var - 1.0).abs() < 0.04, "{var}");
        assert_ne!(deviate(7, 0, 0, "a"), deviate(7, 0, 0, "b"));
        assert_ne!(deviate(7, 0, 0, "a"), deviate(8, 0, 0, "a"));
        assert_ne!(deviate(7, 0, 0, "a"), deviate(7, 0, 1, "a"));
        assert_eq!(deviate(7, 3, 0, "a"), deviate(7, 3, 0, "a"));
    }
}

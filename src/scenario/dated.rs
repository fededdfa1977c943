//! Dated values (`docs/model.md`, "Dated values"): the keys whose rate or
//! share may change on dates, and `[[rate_changes]]` read from the merged
//! document with each refusal located at its key.

use toml::de::DeValue;

use super::calendar::Date;
use super::doc::{self, Inputs, Item, Origin, float, integer};
use super::error::{ErrorKind, ScenarioError, truncate_for_message};
use super::types::Scenario;

/// Pathway shares must add to 1 within this.
const SUM_TOLERANCE: f64 = 1e-6;

/// What a dated key holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DatedKind {
    /// A rate per day, >= 0.
    Rate,
    /// A share in [0, 1].
    Share,
    /// Pathway shares `{ p0, p1, p2, p3 }` adding to 1.
    Pathways,
}

macro_rules! dated_keys {
    ($($variant:ident => $key:literal, $kind:ident;)*) => {
        /// A key that may change on dates: the one list of them.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum DatedKey {
            $(
                #[doc = concat!("`", $key, "`.")]
                $variant,
            )*
        }

        impl DatedKey {
            /// Every key that may be dated, in the documentation's order.
            pub const ALL: &'static [DatedKey] = &[$(DatedKey::$variant),*];

            /// The key as written in the scenario file.
            pub fn key(self) -> &'static str {
                match self {
                    $(DatedKey::$variant => $key,)*
                }
            }

            /// What it holds.
            pub fn kind(self) -> DatedKind {
                match self {
                    $(DatedKey::$variant => DatedKind::$kind,)*
                }
            }
        }
    };
}

dated_keys! {
    CrisesPerDay => "demand.crises_per_day", Rate;
    CommunityReferrals => "community.referrals_per_day", Rate;
    CareHomePlacements => "care_homes.community_placements_per_day", Rate;
    HomeCareStarts => "home_care.community_starts_per_day", Rate;
    MhCrises => "mental_health.crises_per_day", Rate;
    MhReferrals => "mental_health.referrals_per_day", Rate;
    FrailShare => "demand.frail_share", Share;
    PruEligible => "pru.eligible_share", Share;
    PruTreatedAtHome => "pru.treated_at_home", Share;
    PruFollowUp => "pru.community_follow_up", Share;
    FrailtyUnitDischarged => "frailty_unit.discharged_same_day", Share;
    FrailtyUnitFollowUp => "frailty_unit.community_follow_up", Share;
    EdFrailAdmit => "ed.frail_admit_share", Share;
    EdOtherAdmit => "ed.other_admit_share", Share;
    RehabFollowUp => "rehab.community_follow_up", Share;
    HomeCareFollowUp => "home_care.community_follow_up", Share;
    ReadmissionP0 => "readmission.p0", Share;
    ReadmissionP1 => "readmission.p1", Share;
    ReadmissionP2 => "readmission.p2", Share;
    MhEdAdmit => "mental_health.ed_admit_share", Share;
    MhEdCrht => "mental_health.ed_crht_share", Share;
    MhEscalation => "mental_health.crht.escalation_share", Share;
    MhReadmission => "mental_health.readmission.share", Share;
    PathwaysFrail => "pathways.frail", Pathways;
    PathwaysOther => "pathways.other", Pathways;
    ResidentCrises => "care_homes.crises_per_resident_year", Rate;
    EdHomeTreatableAdmit => "ed.home_treatable_admit_share", Share;
    MhPathways => "mental_health.pathways", Pathways;
}

/// A dated key's value: a rate or share, or pathway shares p0 to p3.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DatedValue {
    /// A rate per day or a share.
    Number(f64),
    /// `pathways.frail` or `pathways.other`.
    Shares([f64; 4]),
}

impl DatedKey {
    /// The key's value in `sc`, `None` when its table is absent.
    pub fn get(self, sc: &Scenario) -> Option<DatedValue> {
        use DatedKey::*;
        use DatedValue::{Number as N, Shares as S};
        let mh = sc.mental_health.as_ref();
        let hc = sc.home_care.as_ref();
        let r = sc.readmission.as_ref();
        Some(match self {
            CrisesPerDay => N(sc.demand.crises_per_day),
            CommunityReferrals => N(sc.community.referrals_per_day),
            CareHomePlacements => N(sc.care_homes.community_placements_per_day),
            HomeCareStarts => N(hc?.community_starts_per_day),
            MhCrises => N(mh?.crises_per_day),
            MhReferrals => N(mh?.referrals_per_day),
            FrailShare => N(sc.demand.frail_share),
            PruEligible => N(sc.pru.eligible_share),
            PruTreatedAtHome => N(sc.pru.treated_at_home),
            PruFollowUp => N(sc.pru.community_follow_up),
            FrailtyUnitDischarged => N(sc.frailty_unit.discharged_same_day),
            FrailtyUnitFollowUp => N(sc.frailty_unit.community_follow_up),
            EdFrailAdmit => N(sc.ed.frail_admit_share),
            EdOtherAdmit => N(sc.ed.other_admit_share),
            RehabFollowUp => N(sc.rehab.community_follow_up),
            HomeCareFollowUp => N(hc?.community_follow_up),
            ReadmissionP0 => N(r?.p0),
            ReadmissionP1 => N(r?.p1),
            ReadmissionP2 => N(r?.p2),
            MhEdAdmit => N(mh?.ed_admit_share),
            MhEdCrht => N(mh?.ed_crht_share),
            MhEscalation => N(mh?.crht.escalation_share),
            MhReadmission => N(mh?.readmission.as_ref()?.share),
            PathwaysFrail => S(sc.pathways.frail),
            PathwaysOther => S(sc.pathways.other),
            ResidentCrises => N(sc.care_homes.crises_per_resident_year),
            EdHomeTreatableAdmit => N(sc.ed.home_treatable_admit_share?),
            MhPathways => {
                let [home, supported, care_home] = mh?.pathways;
                S([home, supported, care_home, 0.0])
            }
        })
    }

    /// Sets the key's value in `sc` (nothing when its table is absent).
    pub fn set(self, sc: &mut Scenario, v: DatedValue) {
        use DatedKey::*;
        let (x, shares) = match v {
            DatedValue::Number(x) => (x, [0.0; 4]),
            DatedValue::Shares(s) => (0.0, s),
        };
        let mh = sc.mental_health.as_mut();
        let hc = sc.home_care.as_mut();
        let r = sc.readmission.as_mut();
        match self {
            CrisesPerDay => sc.demand.crises_per_day = x,
            CommunityReferrals => sc.community.referrals_per_day = x,
            CareHomePlacements => sc.care_homes.community_placements_per_day = x,
            HomeCareStarts => hc.into_iter().for_each(|h| h.community_starts_per_day = x),
            MhCrises => mh.into_iter().for_each(|m| m.crises_per_day = x),
            MhReferrals => mh.into_iter().for_each(|m| m.referrals_per_day = x),
            FrailShare => sc.demand.frail_share = x,
            PruEligible => sc.pru.eligible_share = x,
            PruTreatedAtHome => sc.pru.treated_at_home = x,
            PruFollowUp => sc.pru.community_follow_up = x,
            FrailtyUnitDischarged => sc.frailty_unit.discharged_same_day = x,
            FrailtyUnitFollowUp => sc.frailty_unit.community_follow_up = x,
            EdFrailAdmit => sc.ed.frail_admit_share = x,
            EdOtherAdmit => sc.ed.other_admit_share = x,
            RehabFollowUp => sc.rehab.community_follow_up = x,
            HomeCareFollowUp => hc.into_iter().for_each(|h| h.community_follow_up = x),
            ReadmissionP0 => r.into_iter().for_each(|r| r.p0 = x),
            ReadmissionP1 => r.into_iter().for_each(|r| r.p1 = x),
            ReadmissionP2 => r.into_iter().for_each(|r| r.p2 = x),
            MhEdAdmit => mh.into_iter().for_each(|m| m.ed_admit_share = x),
            MhEdCrht => mh.into_iter().for_each(|m| m.ed_crht_share = x),
            MhEscalation => mh.into_iter().for_each(|m| m.crht.escalation_share = x),
            MhReadmission => mh
                .and_then(|m| m.readmission.as_mut())
                .into_iter()
                .for_each(|r| r.share = x),
            PathwaysFrail => sc.pathways.frail = shares,
            PathwaysOther => sc.pathways.other = shares,
            ResidentCrises => sc.care_homes.crises_per_resident_year = x,
            EdHomeTreatableAdmit => {
                if let Some(share) = sc.ed.home_treatable_admit_share.as_mut() {
                    *share = x;
                }
            }
            MhPathways => mh
                .into_iter()
                .for_each(|m| m.pathways = [shares[0], shares[1], shares[2]]),
        }
    }

    /// The names of a pathway-shares key's shares, in order.
    pub fn share_names(self) -> &'static [&'static str] {
        match self {
            DatedKey::MhPathways => &["home", "supported", "care_home"],
            _ => &["p0", "p1", "p2", "p3"],
        }
    }

    /// The number a dated value of this key holds (0 for pathway shares).
    pub fn number(v: DatedValue) -> f64 {
        match v {
            DatedValue::Number(x) => x,
            DatedValue::Shares(_) => 0.0,
        }
    }
}

/// One element of `[[rate_changes]]`: its keys' values from 00:00 on
/// `from` to 24:00 on `to`.
#[derive(Clone, Debug, PartialEq)]
pub struct RateChange {
    /// The first day.
    pub from: Date,
    /// The last day (inclusive); [`Date::last_supported`] without `to`.
    pub to: Date,
    /// The keys it names, in the order written.
    pub values: Vec<(DatedKey, DatedValue)>,
}

/// A dated change: it holds from 00:00 on its first day to 24:00 on its
/// last (`docs/model.md`, "Capacity over time" and "Dated values").
pub trait DatedChange {
    /// Its first and last days.
    fn days(&self) -> (Date, Date);
}

macro_rules! dated_changes {
    ($($change:ty),*) => {$(
        impl DatedChange for $change {
            fn days(&self) -> (Date, Date) {
                (self.from, self.to)
            }
        }
    )*};
}

dated_changes!(
    RateChange,
    super::types::CapacityChange,
    super::types::HoursChange,
    super::types::DischargeChange
);

/// The changes of `changes` that cover `date`, the last listed (the one
/// that wins for each key it names) first.
pub fn covering<C: DatedChange>(changes: &[C], date: Date) -> impl Iterator<Item = &C> + Clone {
    changes.iter().rev().filter(move |c| {
        let (from, to) = c.days();
        from <= date && date <= to
    })
}

/// The value of `key` on `date`: the last change listed that covers the
/// date and names the key, else `base` (the scenario's).
pub fn value_on(changes: &[RateChange], key: DatedKey, date: Date) -> Option<DatedValue> {
    covering(changes, date).find_map(|c| c.values.iter().find(|(k, _)| *k == key).map(|&(_, v)| v))
}

/// Whether some change names `key`.
pub fn names(changes: &[RateChange], key: DatedKey) -> bool {
    changes
        .iter()
        .any(|c| c.values.iter().any(|(k, _)| *k == key))
}

/// `base` (a scenario without `rate_changes`) with the values of `changes`
/// in force on `date` set.
pub fn values_on(base: &Scenario, changes: &[RateChange], date: Date) -> Scenario {
    let mut out = base.clone();
    for &key in DatedKey::ALL {
        if let Some(v) = value_on(changes, key, date) {
            key.set(&mut out, v);
        }
    }
    out
}

/// The list of the keys that may be dated, for messages.
fn allowed_list() -> String {
    DatedKey::ALL
        .iter()
        .map(|k| format!("`{}`", k.key()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads `[[rate_changes]]` (the item at the document's root, if any) for
/// `sc`, whose other tables are already converted.
pub(crate) fn read(
    item: Option<&Item<'_>>,
    inputs: &Inputs,
    sc: &Scenario,
) -> Result<Vec<RateChange>, ScenarioError> {
    let Some(item) = item else {
        return Ok(Vec::new());
    };
    let err = |kind, span: std::ops::Range<usize>, key: &str, msg: String| {
        inputs.error(kind, Origin::of(span), Some(key.to_string()), msg)
    };
    let DeValue::Array(entries) = item.get_ref() else {
        return Err(err(
            ErrorKind::WrongType,
            item.span(),
            "rate_changes",
            format!(
                "expected an array of tables such as [[rate_changes]] sections, found {}",
                doc::describe_found(item.get_ref())
            ),
        ));
    };
    let mut out = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let path = format!("rate_changes[{i}]");
        let DeValue::Table(table) = entry.get_ref() else {
            return Err(err(
                ErrorKind::WrongType,
                entry.span(),
                &path,
                format!(
                    "expected a table such as {{ from = \"2027-04-01\", pru.treated_at_home = \
                     0.7 }}, found {}",
                    doc::describe_found(entry.get_ref())
                ),
            ));
        };
        let date = |name: &str| -> Result<Option<Date>, ScenarioError> {
            let Some(v) = table.get(name) else {
                return Ok(None);
            };
            let key = format!("{path}.{name}");
            let text = match v.get_ref() {
                DeValue::String(s) => s.to_string(),
                DeValue::Datetime(d) if d.date.is_some() && d.time.is_none() => d.to_string(),
                other => {
                    return Err(err(
                        ErrorKind::WrongType,
                        v.span(),
                        &key,
                        format!(
                            "expected a date \"YYYY-MM-DD\", found {}",
                            doc::describe_found(other)
                        ),
                    ));
                }
            };
            Date::parse(&text).map(Some).ok_or_else(|| {
                let mut shown = format!("{text:?}");
                truncate_for_message(&mut shown);
                err(
                    ErrorKind::InvalidValue,
                    v.span(),
                    &key,
                    format!(
                        "expected a date \"YYYY-MM-DD\" that exists in the calendar (years 0001 \
                         to 9999), found {shown}"
                    ),
                )
            })
        };
        let Some(from) = date("from")? else {
            return Err(err(
                ErrorKind::MissingKey,
                entry.span(),
                &format!("{path}.from"),
                "expected `from`, the first date of the change (\"YYYY-MM-DD\")".to_string(),
            ));
        };
        let to = date("to")?.unwrap_or_else(Date::last_supported);
        if from > to {
            return Err(err(
                ErrorKind::InvalidValue,
                entry.span(),
                &path,
                format!("expected `from` <= `to`, found from {from} after to {to}"),
            ));
        }
        let mut values: Vec<(DatedKey, DatedValue)> = Vec::new();
        let mut stack: Vec<(String, &Item<'_>)> = table
            .iter()
            .filter(|(k, _)| !matches!(k.get_ref().as_ref(), "from" | "to"))
            .map(|(k, v)| (k.get_ref().to_string(), v))
            .collect();
        stack.reverse();
        while let Some((name, v)) = stack.pop() {
            let at = format!("{path}.{name}");
            if let Some(&key) = DatedKey::ALL.iter().find(|k| k.key() == name) {
                if values.iter().any(|(k, _)| *k == key) {
                    return Err(err(
                        ErrorKind::InvalidValue,
                        v.span(),
                        &at,
                        format!("`{name}` is written twice in this element; write it once"),
                    ));
                }
                let value = read_value(key, v, &at, inputs)?;
                if key.get(sc).is_none() {
                    let table = name.rsplit_once('.').map_or(name.as_str(), |(t, _)| t);
                    let table = table.split('.').next().unwrap_or(table);
                    return Err(err(
                        ErrorKind::InvalidValue,
                        v.span(),
                        &at,
                        if key == DatedKey::EdHomeTreatableAdmit {
                            format!(
                                "`{name}` cannot change by date: the scenario does not set it \
                                 (without it the PRU works by the earlier rule, docs/model.md \
                                 \"Physician response unit\"); set it in the scenario to date it"
                            )
                        } else {
                            format!(
                                "`{name}` cannot change by date: the scenario has no \
                             `[{table}]`{} table",
                                if name == "mental_health.readmission.share" {
                                    " or `[mental_health.readmission]`"
                                } else {
                                    ""
                                }
                            )
                        },
                    ));
                }
                values.push((key, value));
                continue;
            }
            let prefix = |k: &DatedKey| k.key().starts_with(&format!("{name}."));
            match v.get_ref() {
                DeValue::Table(inner) if DatedKey::ALL.iter().any(prefix) => {
                    let mut children: Vec<(String, &Item<'_>)> = inner
                        .iter()
                        .map(|(k, v)| (format!("{name}.{}", k.get_ref()), v))
                        .collect();
                    children.reverse();
                    stack.extend(children);
                }
                _ => {
                    // Named down to the first value it holds (`acute.los.frail`).
                    let (mut name, mut v) = (name, v);
                    while let DeValue::Table(inner) = v.get_ref() {
                        let Some((k, inner_v)) = inner.iter().next() else {
                            break;
                        };
                        name = format!("{name}.{}", k.get_ref());
                        v = inner_v;
                    }
                    let at = format!("{path}.{name}");
                    let hint = match name.rsplit_once('.') {
                        Some((_, last)) if last == "cars" || last == "beds" || last == "slots" => {
                            " (a count changes in its table's `capacity_changes`)"
                        }
                        _ => "",
                    };
                    return Err(err(
                        ErrorKind::UnknownKey,
                        v.span(),
                        &at,
                        format!(
                            "`{name}` cannot change by date{hint}; the keys that may are {}",
                            allowed_list()
                        ),
                    ));
                }
            }
        }
        if values.is_empty() {
            return Err(err(
                ErrorKind::InvalidValue,
                entry.span(),
                &path,
                format!(
                    "expected at least one key besides the dates, one of {}",
                    allowed_list()
                ),
            ));
        }
        out.push(RateChange { from, to, values });
    }
    check_every_date(&out, sc, item, inputs)?;
    Ok(out)
}

/// A number of the document (integer or float).
fn number(v: &DeValue<'_>) -> Option<f64> {
    float(v).or_else(|| integer(v).map(|i| i as f64))
}

/// Reads the value of `key` at `v`.
fn read_value(
    key: DatedKey,
    v: &Item<'_>,
    at: &str,
    inputs: &Inputs,
) -> Result<DatedValue, ScenarioError> {
    let err =
        |kind, msg: String| inputs.error(kind, Origin::of(v.span()), Some(at.to_string()), msg);
    let in_range = |x: f64, what: &str| -> Result<f64, ScenarioError> {
        let ok = match key.kind() {
            DatedKind::Rate => x >= 0.0,
            _ => (0.0..=1.0).contains(&x),
        };
        if ok && x.is_finite() {
            Ok(x)
        } else {
            Err(err(
                ErrorKind::InvalidValue,
                format!("expected {what}, found {}", super::error::format_float(x)),
            ))
        }
    };
    match (key.kind(), v.get_ref()) {
        (DatedKind::Rate | DatedKind::Share, DeValue::Table(t))
            if t.contains_key("low") || t.contains_key("high") =>
        {
            Err(err(
                ErrorKind::InvalidValue,
                format!(
                    "an uncertain value {{ low, high }} cannot be dated: write a plain value in \
                     `[[rate_changes]]` (the scenario's own `{}` may be uncertain)",
                    key.key()
                ),
            ))
        }
        (DatedKind::Rate, x) => match number(x) {
            Some(x) => in_range(x, "a rate per day >= 0").map(DatedValue::Number),
            None => Err(err(
                ErrorKind::WrongType,
                format!("expected a number >= 0, found {}", doc::describe_found(x)),
            )),
        },
        (DatedKind::Share, x) => match number(x) {
            Some(x) => in_range(x, "a share in [0, 1]").map(DatedValue::Number),
            None => Err(err(
                ErrorKind::WrongType,
                format!(
                    "expected a share in [0, 1] such as 0.3, found {}",
                    doc::describe_found(x)
                ),
            )),
        },
        (DatedKind::Pathways, DeValue::Table(t)) => {
            let names = key.share_names();
            // "p0, p1, p2 and p3".
            let expected = match names.split_last() {
                Some((last, init)) if !init.is_empty() => format!("{} and {last}", init.join(", ")),
                _ => names.join(""),
            };
            let mut shares = [0.0; 4];
            for (k, item) in t.iter() {
                let name = k.get_ref();
                if name == "sample" {
                    return Err(inputs.error(
                        ErrorKind::InvalidValue,
                        Origin::of(k.span()),
                        Some(format!("{at}.{name}")),
                        format!(
                            "`sample` cannot be dated: a dated entry's pathway shares are plain; \
                             write `sample` on the scenario's own `{}` table \
                             (docs/scenario-format.md, \"Uncertain pathway shares\")",
                            key.key()
                        ),
                    ));
                }
                let Some(i) = names.iter().position(|p| p == name) else {
                    return Err(inputs.error(
                        ErrorKind::UnknownKey,
                        Origin::of(k.span()),
                        Some(format!("{at}.{name}")),
                        format!("unknown key `{name}`; expected {expected}"),
                    ));
                };
                let x = number(item.get_ref()).filter(|x| (0.0..=1.0).contains(x));
                let Some(x) = x else {
                    return Err(inputs.error(
                        ErrorKind::InvalidValue,
                        Origin::of(item.span()),
                        Some(format!("{at}.{name}")),
                        format!(
                            "expected a share in [0, 1], found {}",
                            doc::describe_found(item.get_ref())
                        ),
                    ));
                };
                shares[i] = x;
            }
            for p in names {
                if !t.contains_key(*p) {
                    return Err(err(
                        ErrorKind::MissingKey,
                        format!("expected {expected}; `{p}` is missing"),
                    ));
                }
            }
            let sum: f64 = shares.iter().sum();
            if (sum - 1.0).abs() > SUM_TOLERANCE {
                return Err(err(
                    ErrorKind::InvalidValue,
                    format!(
                        "expected {} = 1 (within 1e-6), found a sum of {sum}",
                        names.join(" + ")
                    ),
                ));
            }
            Ok(DatedValue::Shares(shares))
        }
        (DatedKind::Pathways, x) => Err(err(
            ErrorKind::WrongType,
            format!(
                "expected pathway shares {{ {} }}, found {}",
                key.share_names().join(", "),
                doc::describe_found(x)
            ),
        )),
    }
}

/// The checks that relate several values, on every date a value changes:
/// `mental_health.ed_admit_share + ed_crht_share <= 1`.
fn check_every_date(
    changes: &[RateChange],
    sc: &Scenario,
    item: &Item<'_>,
    inputs: &Inputs,
) -> Result<(), ScenarioError> {
    if sc.mental_health.is_none()
        || !(names(changes, DatedKey::MhEdAdmit) || names(changes, DatedKey::MhEdCrht))
    {
        return Ok(());
    }
    let dates = changes
        .iter()
        .flat_map(|c| {
            [
                Some(c.from),
                (c.to < Date::last_supported()).then(|| c.to.add_days(1)),
            ]
        })
        .flatten()
        // Each date once, in order (thousands of changes share few dates).
        .collect::<std::collections::BTreeSet<Date>>();
    let mut base = sc.clone();
    base.rate_changes.clear();
    for date in dates {
        let on = values_on(&base, changes, date);
        if let Some(mh) = &on.mental_health {
            let sum = mh.ed_admit_share + mh.ed_crht_share;
            if sum > 1.0 + SUM_TOLERANCE {
                return Err(inputs.error(
                    ErrorKind::InvalidValue,
                    Origin::of(item.span()),
                    Some("rate_changes".to_string()),
                    format!(
                        "expected mental_health.ed_admit_share + ed_crht_share <= 1 on every \
                         date, found a sum of {sum} on {date}"
                    ),
                ));
            }
        }
    }
    Ok(())
}

impl super::ScenarioDoc {
    /// An error about the rate `key` of `sc` (a run refused for its size):
    /// at the value written in the element of `[[rate_changes]]` that gives
    /// the rate its largest value in the run, when that is above the
    /// scenario's own (the change is then what made the run too large);
    /// otherwise at `key` ([`ScenarioDoc::error_at_key`](super::ScenarioDoc::error_at_key)).
    pub fn error_at_rate(
        &self,
        sc: &Scenario,
        kind: ErrorKind,
        key: &str,
        message: String,
    ) -> ScenarioError {
        let dated = DatedKey::ALL.iter().copied().find(|k| k.key() == key);
        let days = ((sc.warm_up_hours + sc.horizon_hours) / 24.0)
            .ceil()
            .max(1.0);
        let last = sc.start_date.add_days(days.min(1e6) as i64 - 1);
        let largest = dated.and_then(|dk| {
            let base = dk.get(sc).map_or(0.0, DatedKey::number);
            sc.rate_changes
                .iter()
                .enumerate()
                .filter(|(_, c)| c.from <= last && c.to >= sc.start_date)
                .filter_map(|(i, c)| {
                    let v = c.values.iter().find(|(k, _)| *k == dk)?.1;
                    Some((i, DatedKey::number(v)))
                })
                .filter(|&(_, v)| v > base)
                .max_by(|a, b| a.1.total_cmp(&b.1))
        });
        let Some((i, _)) = largest else {
            return self.error_at_key(kind, key, message);
        };
        let root = self.document().unwrap_or_default();
        let element = match root.get("rate_changes").map(toml::Spanned::get_ref) {
            Some(DeValue::Array(entries)) => entries.get(i),
            _ => None,
        };
        let Some(element) = element else {
            return self.error_at_key(kind, key, message);
        };
        // The key as written: dotted (nested tables) or quoted (one key).
        let mut at = element;
        if let DeValue::Table(t) = element.get_ref() {
            if let Some(v) = t.get(key) {
                at = v;
            } else {
                let mut table = t;
                for part in key.split('.') {
                    let Some(v) = table.get(part) else { break };
                    at = v;
                    match v.get_ref() {
                        DeValue::Table(inner) => table = inner,
                        _ => break,
                    }
                }
            }
        }
        self.error_at(
            kind,
            Origin::of(at.span()),
            &format!("rate_changes[{i}].{key}"),
            message,
        )
    }
}

//! Second stage: raw structs to the validated [`Scenario`].
//!
//! Everything checked here relates several values or builds an object:
//! pathway shares summing to 1, weights lists of the right length, no
//! duplicate days, capacity changes in order, distributions. Defaults for
//! optional keys are applied here too, as `docs/scenario-format.md` lists them. What comes
//! out is final: nothing downstream re-checks it.

use super::calendar::{ClockWindow, Date, Weekday};
use super::de::Located;
use super::dist::{Dist, FAMILIES, ParamKind, ParamValue};
use super::error::{
    ErrorKind, ScenarioError, format_float, human_fixed, human_number, list, list_quoted,
    truncate_for_message, truncate_token,
};
use super::keys::{all_known_keys, is_known_key};
use super::raw::*;
use super::suggest::did_you_mean;
use super::tree::{Origin, Sources};
use super::types::*;
use std::collections::BTreeMap;

/// Shares of a pathway group must sum to 1 within this.
const SUM_TOLERANCE: f64 = 1e-6;

/// Default `scenario.start_date`.
const DEFAULT_START: (i32, u32, u32) = (2025, 4, 1);

/// Default `community.priority`.
const DEFAULT_PRIORITY: [ReferralClass; 3] = ReferralClass::ALL;

pub(crate) struct Converter<'s> {
    pub sources: &'s Sources,
}

type Result<T> = std::result::Result<T, ScenarioError>;

impl Converter<'_> {
    fn err(&self, kind: ErrorKind, origin: Origin, key: &str, message: String) -> ScenarioError {
        self.sources
            .error(kind, origin, Some(key.to_string()), message)
    }

    fn invalid<T>(&self, at: &Located<T>, message: String) -> ScenarioError {
        self.err(ErrorKind::InvalidValue, at.origin, &at.path, message)
    }

    /// The `[sources]` table: every key must be a key of the format (a
    /// citation for a misspelt key would silently cite nothing), every
    /// citation a non-empty string.
    pub fn sources(&self, raw: Option<&SourcesTable>) -> Result<BTreeMap<String, String>> {
        let mut out = BTreeMap::new();
        let Some(raw) = raw else {
            return Ok(out);
        };
        let known = all_known_keys();
        let known: Vec<&str> = known.iter().map(String::as_str).collect();
        for (key, citation) in &raw.0 {
            if !is_known_key(&key.value) {
                return Err(self.err(
                    ErrorKind::UnknownKey,
                    key.origin,
                    &key.path,
                    format!(
                        "`[sources]` cites `{}`, which is not a scenario key{}",
                        key.value,
                        did_you_mean(&key.value, &known)
                    ),
                ));
            }
            if citation.value.trim().is_empty() {
                return Err(self.invalid(
                    citation,
                    format!(
                        "expected a citation for `{}`, found an empty string",
                        key.value
                    ),
                ));
            }
            out.insert(key.value.clone(), citation.value.clone());
        }
        Ok(out)
    }

    pub fn scenario(&self, raw: RawFile) -> Result<Scenario> {
        let s = raw.scenario;
        if s.horizon.value.0 <= 0.0 {
            return Err(self.invalid(
                &s.horizon,
                "expected a horizon > 0, found a zero duration".to_string(),
            ));
        }
        if s.replications.value.0 == 0 {
            return Err(self.invalid(
                &s.replications,
                "expected at least 1 replication, found 0".to_string(),
            ));
        }
        let horizon_days = s.horizon.value.0 / 24.0;
        if horizon_days.fract() != 0.0 {
            return Err(self.invalid(
                &s.horizon,
                format!(
                    "expected a whole number of days (such as \"365d\" or \"52w\"), found {} \
                     days: the daily series and the report count whole days",
                    human_number(horizon_days)
                ),
            ));
        }
        let start_date = match s.start_date {
            Some(d) => d.0,
            None => default_start_date(),
        };
        // Every date written (daily.csv, the report) has a four-digit year.
        let days_to_end = (s.warm_up.0 + s.horizon.value.0) / 24.0;
        let room = start_date.days_until(Date::last_supported()) as f64 + 1.0;
        if days_to_end > room {
            return Err(self.invalid(
                &s.horizon,
                format!(
                    "the run would go past 9999-12-31 (start_date {start_date} + warm_up + \
                     horizon = {} days; at most {} days from that start): dates are written \
                     with four-digit years",
                    human_fixed(days_to_end, 0),
                    human_fixed(room, 0)
                ),
            ));
        }
        Ok(Scenario {
            name: s.name,
            description: s.description.unwrap_or_default(),
            start_date,
            warm_up_hours: s.warm_up.0,
            horizon_hours: s.horizon.value.0,
            replications: s.replications.value.0,
            seed: s.seed.0,
            demand: self.demand(raw.demand)?,
            pru: self.pru(raw.pru)?,
            frailty_unit: self.frailty_unit(raw.frailty_unit)?,
            ed: Ed {
                frail_admit_share: raw.ed.frail_admit_share.0,
                other_admit_share: raw.ed.other_admit_share.0,
            },
            acute: self.acute(raw.acute)?,
            pathways: self.pathways(raw.pathways)?,
            community: self.community(raw.community)?,
            rehab: Rehab {
                beds: raw.rehab.beds.0,
                stay: self.dist(&raw.rehab.stay)?,
                community_follow_up: raw.rehab.community_follow_up.0,
            },
            care_homes: self.care_homes(raw.care_homes)?,
            readmission: raw.readmission.map(|r| Readmission {
                window_hours: r.window.0,
                p0: r.p0.0,
                p1: r.p1.0,
                p2: r.p2.0,
            }),
        })
    }

    fn demand(&self, d: RawDemand) -> Result<Demand> {
        Ok(Demand {
            crises_per_day: d.crises_per_day.0,
            frail_share: d.frail_share.0,
            hour_of_day: self.weights(d.hour_of_day, "hour, 00:00 first")?,
            day_of_week: self.weights(d.day_of_week, "day, Monday first")?,
            month_of_year: self.weights(d.month_of_year, "month, January first")?,
        })
    }

    /// A weights list of exactly `N` entries with a positive sum; flat when absent.
    fn weights<const N: usize>(
        &self,
        raw: Option<Located<Vec<NonNegative>>>,
        each: &str,
    ) -> Result<[f64; N]> {
        let Some(raw) = raw else {
            return Ok([1.0; N]);
        };
        let values: Vec<f64> = raw.value.iter().map(|w| w.0).collect();
        let Ok(array) = <[f64; N]>::try_from(values.as_slice()) else {
            return Err(self.invalid(
                &raw,
                format!(
                    "expected {N} weights (one per {each}), found {}",
                    values.len()
                ),
            ));
        };
        let sum: f64 = array.iter().sum();
        if !(sum > 0.0 && sum.is_finite()) {
            return Err(self.invalid(
                &raw,
                format!("expected weights with a positive, finite sum, found a sum of {sum}"),
            ));
        }
        Ok(array)
    }

    /// Open days; every day when absent. A repeated day is refused: it is
    /// harmless to the model but almost always a typo for a missing one.
    fn days(&self, raw: RawDays) -> Result<OpenDays> {
        let Some(list) = raw else {
            return Ok(EVERY_DAY);
        };
        let mut days = [false; 7];
        for day in &list {
            let d: Weekday = day.value.0;
            if days[d.index()] {
                return Err(self.invalid(
                    day,
                    format!("\"{}\" is listed twice; each day may appear once", d.name()),
                ));
            }
            days[d.index()] = true;
        }
        Ok(days)
    }

    fn pru(&self, p: RawPru) -> Result<Pru> {
        Ok(Pru {
            cars: p.cars.0,
            open: p.open.0,
            days: self.days(p.days)?,
            eligible_share: p.eligible_share.0,
            visit: self.dist(&p.visit)?,
            treated_at_home: p.treated_at_home.0,
            community_follow_up: p.community_follow_up.0,
        })
    }

    fn frailty_unit(&self, f: RawFrailtyUnit) -> Result<FrailtyUnit> {
        Ok(FrailtyUnit {
            slots: f.slots.0,
            open: f.open.0,
            days: self.days(f.days)?,
            assessment: self.dist(&f.assessment)?,
            discharged_same_day: f.discharged_same_day.0,
            community_follow_up: f.community_follow_up.0,
        })
    }

    fn acute(&self, a: RawAcute) -> Result<Acute> {
        let discharge_hours: ClockWindow = a.discharge_hours.0;
        let mut capacity_changes = Vec::new();
        for c in a.capacity_changes.unwrap_or_default() {
            let (from, to) = (c.value.from.0, c.value.to.0);
            if from > to {
                return Err(self.invalid(
                    &c,
                    format!("expected `from` <= `to`, found from {from} after to {to}"),
                ));
            }
            capacity_changes.push(CapacityChange {
                from,
                to,
                beds: c.value.beds.0,
            });
        }
        Ok(Acute {
            beds: a.beds.0,
            discharge_hours,
            weekend_discharge_hours: a.weekend_discharge_hours.map_or(discharge_hours, |w| w.0),
            los_frail: self.dist(&a.los.frail)?,
            los_other: self.dist(&a.los.other)?,
            capacity_changes,
        })
    }

    fn shares(&self, s: &Located<RawShares>) -> Result<[f64; 4]> {
        let v = &s.value;
        let shares = [v.p0.0, v.p1.0, v.p2.0, v.p3.0];
        let sum: f64 = shares.iter().sum();
        if (sum - 1.0).abs() > SUM_TOLERANCE {
            return Err(self.invalid(
                s,
                format!("expected p0 + p1 + p2 + p3 = 1 (within 1e-6), found a sum of {sum}"),
            ));
        }
        Ok(shares)
    }

    fn pathways(&self, p: RawPathways) -> Result<Pathways> {
        let delay = |d: Option<&RawDist>| d.map(|d| self.dist(d)).transpose();
        let (p1, p2, p3) = match &p.process_delay {
            Some(pd) => (
                delay(pd.p1.as_ref())?,
                delay(pd.p2.as_ref())?,
                delay(pd.p3.as_ref())?,
            ),
            None => (None, None, None),
        };
        Ok(Pathways {
            frail: self.shares(&p.frail)?,
            other: self.shares(&p.other)?,
            process_delay: [p1, p2, p3],
        })
    }

    fn community(&self, c: RawCommunity) -> Result<Community> {
        let priority = match c.priority {
            None => DEFAULT_PRIORITY,
            Some(list) => self.priority(&list)?,
        };
        Ok(Community {
            teams: c.teams.0,
            caseload_per_team: c.caseload_per_team.0,
            referrals_per_day: c.referrals_per_day.0,
            priority,
            episode: [
                self.dist(&c.episode.discharge)?,
                self.dist(&c.episode.avoidance)?,
                self.dist(&c.episode.community)?,
            ],
        })
    }

    fn priority(&self, list: &Located<Vec<Located<String>>>) -> Result<[ReferralClass; 3]> {
        let names: Vec<&str> = ReferralClass::ALL.iter().map(|c| c.name()).collect();
        let mut seen: Vec<ReferralClass> = Vec::new();
        for item in &list.value {
            let Some(class) = ReferralClass::parse(&item.value) else {
                return Err(self.invalid(
                    item,
                    format!(
                        "expected one of {}, found {:?}{}",
                        list_quoted(&names),
                        item.value,
                        did_you_mean(&item.value, &names)
                    ),
                ));
            };
            if seen.contains(&class) {
                return Err(self.invalid(
                    item,
                    format!(
                        "\"{}\" is listed twice; each class appears once",
                        class.name()
                    ),
                ));
            }
            seen.push(class);
        }
        <[ReferralClass; 3]>::try_from(seen.as_slice()).map_err(|_| {
            self.invalid(
                list,
                format!(
                    "expected all three classes {} in priority order, found {}",
                    list_quoted(&names),
                    seen.len()
                ),
            )
        })
    }

    fn care_homes(&self, c: RawCareHomes) -> Result<CareHomes> {
        let red_bag = match c.red_bag {
            None => None,
            Some(rb) if !rb.value.enabled => None,
            Some(rb) => {
                let need = |v: Option<Hours>, name: &str| {
                    v.map(|h| h.0).ok_or_else(|| {
                        self.err(
                            ErrorKind::MissingKey,
                            rb.origin,
                            &format!("{}.{name}", rb.path),
                            format!("missing key `{name}`: an enabled red bag scheme needs `los_reduction` and `min_los`"),
                        )
                    })
                };
                Some(RedBag {
                    los_reduction_hours: need(rb.value.los_reduction, "los_reduction")?,
                    min_los_hours: need(rb.value.min_los, "min_los")?,
                })
            }
        };
        Ok(CareHomes {
            beds: c.beds.0,
            initial_occupancy: c.initial_occupancy.0,
            stay: self.dist(&c.stay)?,
            community_placements_per_day: c.community_placements_per_day.0,
            hospital_first: c.hospital_first,
            crises_per_resident_year: c.crises_per_resident_year.0,
            red_bag,
        })
    }

    /// Builds a distribution: `dist` names the family, which fixes the
    /// parameters allowed; each is read with its own location.
    pub fn dist(&self, raw: &RawDist) -> Result<Dist> {
        let entries = &raw.value.0;
        let families: Vec<&str> = FAMILIES.iter().map(|f| f.name).collect();
        let Some((_, dist_value)) = entries.iter().find(|(k, _)| k.value == "dist") else {
            return Err(self.err(
                ErrorKind::MissingKey,
                raw.origin,
                &format!("{}.dist", raw.path),
                format!(
                    "missing key `dist`: a distribution names its family, one of {}",
                    list_quoted(&families)
                ),
            ));
        };
        let Param::Str(name) = &dist_value.value else {
            return Err(self.err(
                ErrorKind::WrongType,
                dist_value.origin,
                &dist_value.path,
                format!(
                    "expected a distribution name, one of {}, found {}",
                    list_quoted(&families),
                    describe_param(&dist_value.value)
                ),
            ));
        };
        let Some(family) = FAMILIES.iter().find(|f| f.name == name) else {
            return Err(self.invalid(
                dist_value,
                format!(
                    "unknown distribution {:?}{}; the distributions are {}",
                    truncate_token(name),
                    did_you_mean(name, &families),
                    list_quoted(&families)
                ),
            ));
        };
        let allowed: Vec<&str> = family.params.iter().map(|p| p.name).collect();
        for (key, _) in entries {
            if key.value != "dist" && !allowed.contains(&key.value.as_str()) {
                return Err(self.err(
                    ErrorKind::UnknownKey,
                    key.origin,
                    &key.path,
                    format!(
                        "unknown key `{}` for `{name}`{}; `{name}` takes {}",
                        key.value,
                        did_you_mean(&key.value, &allowed),
                        list(&allowed)
                    ),
                ));
            }
        }
        let mut got: Vec<ParamValue> = Vec::new();
        for spec in family.params {
            let found = entries.iter().find(|(k, _)| k.value == spec.name);
            got.push(match found {
                Some((_, v)) => self.param(spec.kind, v)?,
                None if spec.required => {
                    let required: Vec<&str> = family
                        .params
                        .iter()
                        .filter(|p| p.required)
                        .map(|p| p.name)
                        .collect();
                    return Err(self.err(
                        ErrorKind::MissingKey,
                        raw.origin,
                        &format!("{}.{}", raw.path, spec.name),
                        format!(
                            "missing key `{}`: `{name}` needs {}",
                            spec.name,
                            list(&required)
                        ),
                    ));
                }
                None => ParamValue::List(Vec::new()),
            });
        }
        let spec = (family.build)(&got);
        Dist::new(spec)
            .map_err(|e| self.invalid(raw, format!("invalid `{name}` distribution: {e}")))
    }

    fn param(&self, kind: ParamKind, v: &Located<Param>) -> Result<ParamValue> {
        match kind {
            ParamKind::Duration => self.duration_param(v).map(ParamValue::One),
            ParamKind::Number => self.number_param(v).map(ParamValue::One),
            ParamKind::Durations | ParamKind::Numbers => {
                let Param::Array(items) = &v.value else {
                    return Err(self.err(
                        ErrorKind::WrongType,
                        v.origin,
                        &v.path,
                        format!(
                            "expected an array of {}, found {}",
                            if kind == ParamKind::Durations {
                                "durations"
                            } else {
                                "numbers"
                            },
                            describe_param(&v.value)
                        ),
                    ));
                };
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(if kind == ParamKind::Durations {
                        self.duration_param(item)?
                    } else {
                        self.number_param(item)?
                    });
                }
                Ok(ParamValue::List(out))
            }
        }
    }

    fn duration_param(&self, v: &Located<Param>) -> Result<f64> {
        match &v.value {
            Param::Str(s) => parse_duration(s).map_err(|m| self.invalid(v, m)),
            Param::Int(i) => Err(self.invalid(v, bare_number_message(&i.to_string()))),
            Param::Float(f) => Err(self.invalid(v, bare_number_message(&format_float(*f)))),
            other => Err(self.err(
                ErrorKind::WrongType,
                v.origin,
                &v.path,
                format!(
                    "expected a duration with a unit, such as \"4d\", found {}",
                    describe_param(other)
                ),
            )),
        }
    }

    fn number_param(&self, v: &Located<Param>) -> Result<f64> {
        match &v.value {
            Param::Int(i) => Ok(*i as f64),
            Param::Float(f) => Ok(*f),
            other => Err(self.err(
                ErrorKind::WrongType,
                v.origin,
                &v.path,
                format!("expected a number, found {}", describe_param(other)),
            )),
        }
    }
}

/// The format's default `start_date`, 2025-04-01.
fn default_start_date() -> Date {
    let (y, m, d) = DEFAULT_START;
    // A constant, valid date: not influenced by any input.
    Date::from_ymd(y, m, d).expect("2025-04-01 is a valid date")
}

fn describe_param(p: &Param) -> String {
    match p {
        Param::Str(s) => {
            let mut t = format!("{s:?}");
            truncate_for_message(&mut t);
            t
        }
        Param::Int(i) => i.to_string(),
        Param::Float(f) => format_float(*f),
        Param::Array(_) => "an array".to_string(),
        Param::Other(d) => d.clone(),
    }
}

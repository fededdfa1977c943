//! Second stage: raw structs to the validated [`Scenario`].
//!
//! Everything checked here relates several values or builds an object:
//! pathway shares summing to 1, weights lists of the right length, no
//! duplicate days, capacity changes in order, distributions. Defaults for
//! optional keys are applied here too, as `docs/scenario-format.md` lists them. What comes
//! out is final: nothing downstream re-checks it.

use super::calendar::{ClockWindow, Date, Weekday};
use super::calibration::{Quantity, Target};
use super::dist::{Dist, FAMILIES, ParamKind, ParamValue};
use super::doc::{Inputs, Origin};
use super::error::{
    ErrorKind, ScenarioError, format_float, human_fixed, human_number, list, list_quoted,
    truncate_for_message, truncate_token,
};
use super::keys::{all_known_keys, is_known_key};
use super::raw::*;
use super::start::{self, StartPatient, StartPlace, StartState};
use super::suggest::did_you_mean;
use super::types::*;
use std::collections::BTreeMap;
use toml::Spanned;

/// Shares of a pathway group must sum to 1 within this.
const SUM_TOLERANCE: f64 = 1e-6;

/// Default `scenario.start_date`.
const DEFAULT_START: (i32, u32, u32) = (2025, 4, 1);

/// Default `community.priority`.
const DEFAULT_PRIORITY: [ReferralClass; 3] = ReferralClass::ALL;

pub(crate) struct Converter<'s> {
    pub inputs: &'s Inputs,
}

type Result<T> = std::result::Result<T, ScenarioError>;

impl Converter<'_> {
    fn err(&self, kind: ErrorKind, origin: Origin, key: &str, message: String) -> ScenarioError {
        self.inputs
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
            let path = format!("sources.{}", key.get_ref());
            let key = Located::at(key.clone(), path.clone());
            let citation = Located::at(citation.clone(), path);
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
                    &citation,
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

    /// The `[uncertainty]` table: `None` unless `keep = "calibrated"`
    /// (`docs/scenario-format.md`, "`[uncertainty]`"); every key checked
    /// either way.
    pub fn keep_rule(&self, raw: Option<&Section<RawUncertainty>>) -> Result<Option<KeepRule>> {
        let Some(Section(u)) = raw else {
            return Ok(None);
        };
        let calibrated = match &u.keep {
            None => false,
            Some(k) => match k.get_ref().as_str() {
                "all" => false,
                "calibrated" => true,
                other => {
                    let at = Located::at(k.clone(), "uncertainty.keep");
                    return Err(self.invalid(
                        &at,
                        format!(
                            "expected \"all\" or \"calibrated\", found {:?}{}",
                            truncate_token(other),
                            did_you_mean(other, &["all", "calibrated"])
                        ),
                    ));
                }
            },
        };
        let cutoff = match &u.cutoff {
            None => 3.0,
            Some(c) => {
                let at = Located::at(c.clone(), "uncertainty.cutoff");
                if !(at.value > 0.0 && at.value <= 100.0) {
                    return Err(self.invalid(
                        &at,
                        format!(
                            "expected a number of noise standard deviations above 0 and at \
                             most 100, found {}",
                            format_float(at.value)
                        ),
                    ));
                }
                at.value
            }
        };
        let count =
            |c: &Option<Spanned<toml::Value>>, key: &str, default: u32, low: u32, high: u32| {
                let Some(c) = c else {
                    return Ok(default);
                };
                let at = Located::at(c.clone(), key);
                let found = match &at.value {
                    toml::Value::Integer(i) if (i64::from(low)..=i64::from(high)).contains(i) => {
                        return Ok(*i as u32);
                    }
                    toml::Value::Integer(i) => i.to_string(),
                    toml::Value::Float(x) => format_float(*x),
                    other => format!(
                        "{} {}",
                        other.type_str(),
                        truncate_token(&other.to_string())
                    ),
                };
                Err(self.invalid(
                    &at,
                    format!(
                        "expected a whole number from {} to {}, found {found}",
                        human_number(f64::from(low)),
                        human_number(f64::from(high))
                    ),
                ))
            };
        let central_replications = count(
            &u.central_replications,
            "uncertainty.central_replications",
            30,
            2,
            1_000,
        )?;
        let max_draws = count(&u.max_draws, "uncertainty.max_draws", 100, 1, 10_000)?;
        Ok(calibrated.then_some(KeepRule {
            cutoff,
            central_replications,
            max_draws,
        }))
    }

    /// The `[[calibration]]` table: each entry's quantity must parse (metric
    /// names checked, with suggestions), its tolerance `range = [low, high]`
    /// hold `low <= target <= high`, its name be unique and non-empty, its
    /// source non-empty.
    pub fn calibration(
        &self,
        raw: Option<&Vec<Spanned<Section<RawCalibration>>>>,
    ) -> Result<Vec<Target>> {
        let mut out: Vec<Target> = Vec::new();
        for (i, entry) in raw.into_iter().flatten().enumerate() {
            let e = &entry.get_ref().0;
            let at = |field: &str| format!("calibration[{i}].{field}");
            let name = Located::at(e.name.clone(), at("name"));
            if name.value.trim().is_empty() {
                return Err(self.invalid(
                    &name,
                    "expected the figure's name, found an empty string".to_string(),
                ));
            }
            if out.iter().any(|t| t.name == name.value) {
                return Err(self.invalid(
                    &name,
                    format!(
                        "expected each calibration name once, found {:?} a second time",
                        truncate_token(&name.value)
                    ),
                ));
            }
            let quantity = Located::at(e.quantity.clone(), at("quantity"));
            let quantity_value =
                Quantity::parse(&quantity.value).map_err(|(offset, message)| {
                    // Point at the word refused when the string is written plainly.
                    let origin = match self.inputs.text_at(quantity.origin) {
                        Some((_, written))
                            if written.get(1..written.len().saturating_sub(1))
                                == Some(quantity.value.as_str()) =>
                        {
                            let start = quantity.origin.start + 1 + offset;
                            Origin::of(start..start.max(quantity.origin.end - 1))
                        }
                        _ => quantity.origin,
                    };
                    self.err(ErrorKind::InvalidValue, origin, &quantity.path, message)
                })?;
            let target = Located::at(e.target.clone(), at("target"));
            if !target.value.is_finite() {
                return Err(self.invalid(
                    &target,
                    format!("expected a finite number, found {}", target.value),
                ));
            }
            let range = Located::at(e.range.clone(), at("range"));
            let [low, high] = range.value[..] else {
                return Err(self.invalid(
                    &range,
                    format!(
                        "expected the tolerance as [low, high], found {} number{}",
                        range.value.len(),
                        if range.value.len() == 1 { "" } else { "s" }
                    ),
                ));
            };
            if !(low.is_finite() && high.is_finite()) {
                return Err(self.invalid(&range, "expected finite numbers [low, high]".to_string()));
            }
            if low > high {
                return Err(self.invalid(
                    &range,
                    format!(
                        "expected low <= high, found low {} above high {}",
                        human_number(low),
                        human_number(high)
                    ),
                ));
            }
            if !(low <= target.value && target.value <= high) {
                return Err(self.invalid(
                    &target,
                    format!(
                        "expected the target inside its tolerance [{}, {}], found {}",
                        human_number(low),
                        human_number(high),
                        human_number(target.value)
                    ),
                ));
            }
            let source = Located::at(e.source.clone(), at("source"));
            if source.value.trim().is_empty() {
                return Err(self.invalid(
                    &source,
                    format!(
                        "expected a source for {:?}, found an empty string",
                        truncate_token(&name.value)
                    ),
                ));
            }
            out.push(Target {
                name: name.value,
                quantity: quantity_value,
                target: target.value,
                low,
                high,
                source: source.value,
            });
        }
        Ok(out)
    }

    pub fn scenario(&self, raw: RawFile) -> Result<Scenario> {
        let s = raw.scenario.0;
        let horizon = Located::at(s.horizon, "scenario.horizon");
        let replications = Located::at(s.replications, "scenario.replications");
        if horizon.value.0 <= 0.0 {
            return Err(self.invalid(
                &horizon,
                "expected a horizon > 0, found a zero duration".to_string(),
            ));
        }
        if replications.value.0 == 0 {
            return Err(self.invalid(
                &replications,
                "expected at least 1 replication, found 0".to_string(),
            ));
        }
        let horizon_days = horizon.value.0 / 24.0;
        if horizon_days.fract() != 0.0 {
            return Err(self.invalid(
                &horizon,
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
        let days_to_end = (s.warm_up.0 + horizon.value.0) / 24.0;
        let room = start_date.days_until(Date::last_supported()) as f64 + 1.0;
        if days_to_end > room {
            return Err(self.invalid(
                &horizon,
                format!(
                    "the run would go past 9999-12-31 (start_date {start_date} + warm_up + \
                     horizon = {} days; at most {} days from that start): dates are written \
                     with four-digit years",
                    human_fixed(days_to_end, 0),
                    human_fixed(room, 0)
                ),
            ));
        }
        let mental_health = raw
            .mental_health
            .map(|m| self.mental_health(Located::at(m, "mental_health")))
            .transpose()?;
        let start = self.start(raw.start.map(|Section(t)| t), mental_health.is_some())?;
        let growth = self.growth(raw.growth, mental_health.is_some())?;
        Ok(Scenario {
            start,
            name: s.name,
            description: s.description.unwrap_or_default(),
            start_date,
            warm_up_hours: s.warm_up.0,
            horizon_hours: horizon.value.0,
            replications: replications.value.0,
            seed: s.seed.0,
            demand: self.demand(raw.demand.0)?,
            pru: self.pru(raw.pru.0)?,
            frailty_unit: self.frailty_unit(raw.frailty_unit.0)?,
            ed: Ed {
                frail_admit_share: raw.ed.0.frail_admit_share.0,
                other_admit_share: raw.ed.0.other_admit_share.0,
                home_treatable_admit_share: raw.ed.0.home_treatable_admit_share.map(|s| s.0),
            },
            acute: self.acute(raw.acute.0)?,
            pathways: self.pathways(raw.pathways.0)?,
            community: self.community(raw.community.0)?,
            rehab: Rehab {
                beds: raw.rehab.0.beds.0,
                stay: self.dist(&raw.rehab.0.stay, "rehab.stay")?,
                community_follow_up: raw.rehab.0.community_follow_up.0,
                capacity_changes: self
                    .capacity_changes(raw.rehab.0.capacity_changes, "rehab.capacity_changes")?,
            },
            care_homes: self.care_homes(Located::at(raw.care_homes, "care_homes"))?,
            readmission: raw.readmission.map(|Section(r)| Readmission {
                window_hours: r.window.0,
                p0: r.p0.0,
                p1: r.p1.0,
                p2: r.p2.0,
            }),
            adults: raw.population.map(|Section(p)| p.adults.0),
            home_care: raw
                .home_care
                .map(|Section(h)| -> Result<HomeCare> {
                    Ok(HomeCare {
                        packages: h.packages.0,
                        capacity_changes: self
                            .capacity_changes(h.capacity_changes, "home_care.capacity_changes")?,
                        package: self.dist(&h.package, "home_care.package")?,
                        community_starts_per_day: h.community_starts_per_day.map_or(0.0, |r| r.0),
                        hospital_first: h.hospital_first.unwrap_or(true),
                        community_follow_up: h.community_follow_up.map_or(0.0, |s| s.0),
                        initial_packages: h.initial_packages.map_or(0, |c| c.0),
                    })
                })
                .transpose()?,
            mental_health,
            growth,
            rate_changes: Vec::new(),
        })
    }

    /// `[growth]`: every rate 0 when absent; a mental health rate needs a
    /// `[mental_health]` table to apply to.
    fn growth(&self, raw: Option<Section<RawGrowth>>, has_mh: bool) -> Result<Growth> {
        let Some(Section(g)) = raw else {
            return Ok(Growth::default());
        };
        let mut mh = [GrowthSpec::default(), GrowthSpec::default()];
        for (i, (rate, key)) in [
            (g.mh_crises, "growth.mh_crises"),
            (g.mh_referrals, "growth.mh_referrals"),
        ]
        .into_iter()
        .enumerate()
        {
            let Some(rate) = rate else { continue };
            let rate = Located::at(rate, key);
            if !has_mh && rate.value.0.grows() {
                return Err(self.invalid(
                    &rate,
                    "expected no mental health growth without a [mental_health] table (there \
                     is no mental health demand to grow): remove the key or add the table"
                        .to_string(),
                ));
            }
            mh[i] = rate.value.0;
        }
        let rate = |r: Option<GrowthRate>| r.map_or_else(GrowthSpec::default, |r| r.0);
        let [mh_crises, mh_referrals] = mh;
        Ok(Growth {
            crises: rate(g.crises),
            community_referrals: rate(g.community_referrals),
            care_home_placements: rate(g.care_home_placements),
            mh_crises,
            mh_referrals,
            home_care_starts: rate(g.home_care_starts),
        })
    }

    /// `[start]`: the counts, in the format's order, then the census rows.
    fn start(&self, raw: Option<RawStart>, mental_health: bool) -> Result<StartState> {
        let Some(raw) = raw else {
            return Ok(StartState::default());
        };
        let mut patients = Vec::new();
        let mut total: u64 = 0;
        for (key, count, place) in start::counted(&raw) {
            let Some(count) = count else { continue };
            if !mental_health
                && count.get_ref().0 > 0
                && matches!(place, StartPlace::MhBed | StartPlace::MhOutOfArea)
            {
                return Err(self.err(
                    ErrorKind::InvalidValue,
                    start::origin_of(count),
                    &format!("start.{key}"),
                    "mental health patients at the start, but the scenario has no \
                     `[mental_health]` table"
                        .to_string(),
                ));
            }
            total += u64::from(count.get_ref().0);
            if total > start::MAX_START_PATIENTS {
                return Err(self.err(
                    ErrorKind::InvalidValue,
                    start::origin_of(count),
                    &format!("start.{key}"),
                    format!(
                        "{total} starting patients so far; the most the simulator takes is {} \
                         (each one is simulated)",
                        start::MAX_START_PATIENTS
                    ),
                ));
            }
            for _ in 0..count.get_ref().0 {
                patients.push(StartPatient {
                    place,
                    elapsed_hours: None,
                });
            }
        }
        if let Some(census) = &raw.census {
            let origin = Origin::of(census.span());
            let written = census.get_ref();
            if written.trim().is_empty() {
                return Err(self.err(
                    ErrorKind::InvalidValue,
                    origin,
                    "start.census",
                    "an empty path; expected the census CSV file, relative to this scenario \
                     file"
                        .to_string(),
                ));
            }
            let path = start::census_path(self.inputs.file_at(origin), written);
            if let Err(e) = start::read_census(&path, mental_health, &mut patients) {
                // A file that cannot be read is said at the key naming it.
                if e.kind() == ErrorKind::Io {
                    return Err(self.err(
                        ErrorKind::Io,
                        origin,
                        "start.census",
                        format!("{} ({})", e.message(), path.display()),
                    ));
                }
                return Err(e);
            }
            if patients.len() as u64 > start::MAX_START_PATIENTS {
                return Err(self.err(
                    ErrorKind::InvalidValue,
                    origin,
                    "start.census",
                    format!(
                        "{} starting patients with the counts; the most the simulator takes is \
                         {}",
                        patients.len(),
                        start::MAX_START_PATIENTS
                    ),
                ));
            }
        }
        Ok(StartState { patients })
    }

    /// Dated bed changes at `path` (`acute.capacity_changes`,
    /// `mental_health.capacity_changes`), each with `from` <= `to`.
    /// Every service's `capacity_changes` the same way; `to` defaults to
    /// the last supported date (the change lasts to the end of the run).
    fn capacity_changes<R: RawDatedCount>(
        &self,
        raw: Option<Vec<Spanned<Section<R>>>>,
        path: &str,
    ) -> Result<Vec<CapacityChange>> {
        Ok(self.dated_changes(raw, path)?.0)
    }

    /// A service's `capacity_changes`: the entries that name the count, and
    /// (PRU and frailty unit) those that name `open` or `days`; an entry
    /// names at least one of them.
    fn dated_changes<R: RawDatedCount>(
        &self,
        raw: Option<Vec<Spanned<Section<R>>>>,
        path: &str,
    ) -> Result<(Vec<CapacityChange>, Vec<HoursChange>)> {
        let (mut counts, mut hours) = (Vec::new(), Vec::new());
        for (i, c) in raw.unwrap_or_default().into_iter().enumerate() {
            let mut c = Located::at(c, format!("{path}[{i}]"));
            let (from, to, count) = c.value.0.parts();
            let to = to.unwrap_or_else(Date::last_supported);
            if from > to {
                return Err(self.invalid(
                    &c,
                    format!("expected `from` <= `to`, found from {from} after to {to}"),
                ));
            }
            if let Some(beds) = count {
                counts.push(CapacityChange { from, to, beds });
            }
            let (open, days) = c.value.0.take_hours();
            let days = match days {
                Some(list) => Some(self.days(Some(list), &format!("{}.days", c.path))?),
                None => None,
            };
            if open.is_some() || days.is_some() {
                hours.push(HoursChange {
                    from,
                    to,
                    open,
                    days,
                });
            } else if count.is_none() {
                return Err(self.invalid(
                    &c,
                    format!(
                        "expected at least one of `{}`, `open` and `days` besides the dates",
                        R::COUNT
                    ),
                ));
            }
        }
        Ok((counts, hours))
    }

    fn mental_health(&self, table: Located<Section<RawMentalHealth>>) -> Result<MentalHealth> {
        let m = table.value.0;
        let crht_share = Located::at(m.ed_crht_share, "mental_health.ed_crht_share");
        let sum = m.ed_admit_share.0 + crht_share.value.0;
        if sum > 1.0 + SUM_TOLERANCE {
            return Err(self.invalid(
                &crht_share,
                format!(
                    "expected ed_admit_share + ed_crht_share <= 1 (the rest go home), found a \
                     sum of {sum}"
                ),
            ));
        }
        let shares = Located::at(m.pathways, "mental_health.pathways");
        let v = &shares.value.0;
        let pathways = [v.home.0, v.supported.0, v.care_home.0];
        let sum: f64 = pathways.iter().sum();
        if (sum - 1.0).abs() > SUM_TOLERANCE {
            return Err(self.invalid(
                &shares,
                format!(
                    "expected home + supported + care_home = 1 (within 1e-6), found a sum of {sum}"
                ),
            ));
        }
        let c = m.crht.0;
        let when_full = Located::at(c.when_full, "mental_health.crht.when_full");
        let wait_when_full = match when_full.value.as_str() {
            "wait" => true,
            "admit" => false,
            other => {
                let mut shown = format!("{other:?}");
                truncate_for_message(&mut shown);
                return Err(self.invalid(
                    &when_full,
                    format!(
                        "expected \"admit\" or \"wait\", found {shown}{}",
                        did_you_mean(other, &["admit", "wait"])
                    ),
                ));
            }
        };
        let stay = self.dist(&m.stay, "mental_health.stay")?;
        let out_of_area_stay = match &m.out_of_area_stay {
            Some(d) => self.dist(d, "mental_health.out_of_area_stay")?,
            None => stay.clone(),
        };
        Ok(MentalHealth {
            crises_per_day: m.crises_per_day.0,
            referrals_per_day: m.referrals_per_day.0,
            liaison_assessment: self
                .dist(&m.liaison_assessment, "mental_health.liaison_assessment")?,
            ed_admit_share: m.ed_admit_share.0,
            ed_crht_share: crht_share.value.0,
            beds: m.beds.0,
            capacity_changes: self
                .capacity_changes(m.capacity_changes, "mental_health.capacity_changes")?,
            stay,
            out_of_area_after_hours: m.out_of_area_after.0,
            out_of_area_stay,
            repatriate: m.repatriate.unwrap_or(false),
            process_delay: m
                .process_delay
                .as_ref()
                .map(|d| self.dist(d, "mental_health.process_delay"))
                .transpose()?,
            pathways,
            crht: Crht {
                places: c.places.0,
                open: c.open.0,
                episode: self.dist(&c.episode, "mental_health.crht.episode")?,
                escalation_share: c.escalation_share.0,
                wait_when_full,
                capacity_changes: self
                    .capacity_changes(c.capacity_changes, "mental_health.crht.capacity_changes")?,
            },
            supported_places: m.supported_accommodation.0.places.0,
            supported_stay: self.dist(
                &m.supported_accommodation.0.stay,
                "mental_health.supported_accommodation.stay",
            )?,
            readmission: m.readmission.map(|Section(r)| MhReadmission {
                window_hours: r.window.0,
                share: r.share.0,
            }),
        })
    }

    fn demand(&self, d: RawDemand) -> Result<Demand> {
        Ok(Demand {
            crises_per_day: d.crises_per_day.0,
            frail_share: d.frail_share.0,
            hour_of_day: self.weights(
                d.hour_of_day.map(|w| Located::at(w, "demand.hour_of_day")),
                "hour, 00:00 first",
            )?,
            day_of_week: self.weights(
                d.day_of_week.map(|w| Located::at(w, "demand.day_of_week")),
                "day, Monday first",
            )?,
            month_of_year: self.weights(
                d.month_of_year
                    .map(|w| Located::at(w, "demand.month_of_year")),
                "month, January first",
            )?,
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
    fn days(&self, raw: RawDays, path: &str) -> Result<OpenDays> {
        let Some(list) = raw else {
            return Ok(EVERY_DAY);
        };
        let mut days = [false; 7];
        for (i, day) in list.into_iter().enumerate() {
            let day = &Located::at(day, format!("{path}[{i}]"));
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
        let (capacity_changes, hours_changes) =
            self.dated_changes(p.capacity_changes, "pru.capacity_changes")?;
        Ok(Pru {
            cars: p.cars.0,
            open: p.open.0,
            days: self.days(p.days, "pru.days")?,
            eligible_share: p.eligible_share.0,
            visit: self.dist(&p.visit, "pru.visit")?,
            treated_at_home: p.treated_at_home.0,
            community_follow_up: p.community_follow_up.0,
            capacity_changes,
            hours_changes,
        })
    }

    fn frailty_unit(&self, f: RawFrailtyUnit) -> Result<FrailtyUnit> {
        let (capacity_changes, hours_changes) =
            self.dated_changes(f.capacity_changes, "frailty_unit.capacity_changes")?;
        Ok(FrailtyUnit {
            slots: f.slots.0,
            open: f.open.0,
            days: self.days(f.days, "frailty_unit.days")?,
            assessment: self.dist(&f.assessment, "frailty_unit.assessment")?,
            discharged_same_day: f.discharged_same_day.0,
            community_follow_up: f.community_follow_up.0,
            capacity_changes,
            hours_changes,
        })
    }

    fn acute(&self, a: RawAcute) -> Result<Acute> {
        let discharge_hours: ClockWindow = a.discharge_hours.0;
        let weekend_written = a.weekend_discharge_hours.is_some();
        // Each entry names beds, discharge hours or both (`docs/model.md`,
        // "Capacity over time").
        let (mut capacity_changes, mut discharge_changes) = (Vec::new(), Vec::new());
        for (i, c) in a
            .capacity_changes
            .unwrap_or_default()
            .into_iter()
            .enumerate()
        {
            let c = Located::at(c, format!("acute.capacity_changes[{i}]"));
            let entry = &c.value.0;
            let (from, to, beds) = entry.parts();
            let to = to.unwrap_or_else(Date::last_supported);
            if from > to {
                return Err(self.invalid(
                    &c,
                    format!("expected `from` <= `to`, found from {from} after to {to}"),
                ));
            }
            let weekday = entry.discharge_hours.map(|w| w.0);
            let weekend = entry.weekend_discharge_hours.map(|w| w.0);
            if let Some(beds) = beds {
                capacity_changes.push(CapacityChange { from, to, beds });
            }
            if weekday.is_some() || weekend.is_some() {
                discharge_changes.push(DischargeChange {
                    from,
                    to,
                    weekday,
                    weekend: weekend.or(if weekend_written { None } else { weekday }),
                });
            } else if beds.is_none() {
                return Err(self.invalid(
                    &c,
                    "expected at least one of `beds`, `discharge_hours` and \
                     `weekend_discharge_hours` besides the dates"
                        .to_string(),
                ));
            }
        }
        Ok(Acute {
            beds: a.beds.0,
            discharge_hours,
            weekend_discharge_hours: a.weekend_discharge_hours.map_or(discharge_hours, |w| w.0),
            los_frail: self.dist(&a.los.0.frail, "acute.los.frail")?,
            los_other: self.dist(&a.los.0.other, "acute.los.other")?,
            capacity_changes,
            discharge_changes,
        })
    }

    fn shares(&self, s: &Located<Section<RawShares>>) -> Result<[f64; 4]> {
        let v = &s.value.0;
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
        let delay = |d: Option<&RawDist>, path| d.map(|d| self.dist(d, path)).transpose();
        let (p1, p2, p3) = match &p.process_delay {
            Some(pd) => (
                delay(pd.0.p1.as_ref(), "pathways.process_delay.p1")?,
                delay(pd.0.p2.as_ref(), "pathways.process_delay.p2")?,
                delay(pd.0.p3.as_ref(), "pathways.process_delay.p3")?,
            ),
            None => (None, None, None),
        };
        Ok(Pathways {
            frail: self.shares(&Located::at(p.frail, "pathways.frail"))?,
            other: self.shares(&Located::at(p.other, "pathways.other"))?,
            process_delay: [p1, p2, p3],
        })
    }

    fn community(&self, c: RawCommunity) -> Result<Community> {
        let priority = match c.priority {
            None => DEFAULT_PRIORITY,
            Some(list) => self.priority(Located::at(list, "community.priority"))?,
        };
        Ok(Community {
            teams: c.teams.0,
            caseload_per_team: c.caseload_per_team.0,
            referrals_per_day: c.referrals_per_day.0,
            priority,
            episode: [
                self.dist(&c.episode.0.discharge, "community.episode.discharge")?,
                self.dist(&c.episode.0.avoidance, "community.episode.avoidance")?,
                self.dist(&c.episode.0.community, "community.episode.community")?,
            ],
            capacity_changes: self
                .capacity_changes(c.capacity_changes, "community.capacity_changes")?,
        })
    }

    fn priority(&self, list: Located<Vec<Spanned<String>>>) -> Result<[ReferralClass; 3]> {
        let names: Vec<&str> = ReferralClass::ALL.iter().map(|c| c.name()).collect();
        let mut seen: Vec<ReferralClass> = Vec::new();
        for (i, item) in list.value.iter().enumerate() {
            let item = &Located::at(item.clone(), format!("{}[{i}]", list.path));
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
                &list,
                format!(
                    "expected all three classes {} in priority order, found {}",
                    list_quoted(&names),
                    seen.len()
                ),
            )
        })
    }

    /// The longest `care_homes.search_at_one_free_bed`: 100 years, in hours.
    const MAX_SEARCH_HOURS: f64 = 100.0 * 365.0 * 24.0;

    /// How a care home bed is found: the queue (`hospital_first`) or the
    /// placement search (`search_at_one_free_bed`), exactly one of the two.
    fn care_home_placement(
        &self,
        origin: Origin,
        hospital_first: Option<Spanned<bool>>,
        search: Option<Spanned<Hours>>,
    ) -> Result<(bool, Option<f64>)> {
        const KEY: &str = "care_homes.search_at_one_free_bed";
        match (hospital_first, search) {
            (Some(h), None) => Ok((h.into_inner(), None)),
            (Some(h), Some(_)) => Err(self.err(
                ErrorKind::InvalidValue,
                Origin::of(h.span()),
                "care_homes.hospital_first",
                "`hospital_first` has no meaning with `search_at_one_free_bed`: every \
                 placement, from hospital or from the community, finds its bed by its \
                 search (docs/model.md, \"Care homes\"); write one of the two: \
                 `search_at_one_free_bed` for the search, `hospital_first` for the queue"
                    .to_string(),
            )),
            (None, Some(d)) => {
                let hours = d.get_ref().0;
                if hours > 0.0 && hours <= Self::MAX_SEARCH_HOURS {
                    Ok((false, Some(hours)))
                } else {
                    Err(self.err(
                        ErrorKind::InvalidValue,
                        Origin::of(d.span()),
                        KEY,
                        format!(
                            "expected a duration above 0 and at most 100 years (the mean \
                             search with one bed free), found {} hours",
                            format_float(hours)
                        ),
                    ))
                }
            }
            (None, None) => Err(self.err(
                ErrorKind::MissingKey,
                origin,
                "care_homes.hospital_first",
                "missing key `hospital_first` (or `search_at_one_free_bed`, for the \
                 placement search)"
                    .to_string(),
            )),
        }
    }

    fn care_homes(&self, table: Located<Section<RawCareHomes>>) -> Result<CareHomes> {
        let origin = table.origin;
        let c = table.value.0;
        let start = match (c.initial_residents, c.initial_occupancy) {
            (Some(n), None) => CareHomeStart::Residents(n.into_inner().0),
            (None, Some(s)) => CareHomeStart::Occupancy(s.into_inner().0),
            (Some(_), Some(s)) => {
                return Err(self.err(
                    ErrorKind::InvalidValue,
                    Origin::of(s.span()),
                    "care_homes.initial_occupancy",
                    "`initial_occupancy` and `initial_residents` both give the residents at \
                     time zero: write one (`initial_residents`, today's count, keeps the same \
                     residents when a plan changes the beds)"
                        .to_string(),
                ));
            }
            (None, None) => {
                return Err(self.err(
                    ErrorKind::MissingKey,
                    origin,
                    "care_homes.initial_residents",
                    "missing key `initial_residents` (the residents at time zero, e.g. \
                     `initial_residents = 305`; or the earlier `initial_occupancy`, a share of \
                     the beds)"
                        .to_string(),
                ));
            }
        };
        let (hospital_first, search_hours) =
            self.care_home_placement(origin, c.hospital_first, c.search_at_one_free_bed)?;
        let red_bag = match c.red_bag.map(|rb| Located::at(rb, "care_homes.red_bag")) {
            None => None,
            Some(rb) if !rb.value.0.enabled => None,
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
                    los_reduction_hours: need(rb.value.0.los_reduction, "los_reduction")?,
                    min_los_hours: need(rb.value.0.min_los, "min_los")?,
                })
            }
        };
        Ok(CareHomes {
            beds: c.beds.0,
            start,
            stay: self.dist(&c.stay, "care_homes.stay")?,
            community_placements_per_day: c.community_placements_per_day.0,
            hospital_first,
            search_hours,
            crises_per_resident_year: c.crises_per_resident_year.0,
            red_bag,
            capacity_changes: self
                .capacity_changes(c.capacity_changes, "care_homes.capacity_changes")?,
        })
    }

    /// Builds a distribution: `dist` names the family, which fixes the
    /// parameters allowed; each is read with its own location.
    pub fn dist(&self, raw: &RawDist, path: &str) -> Result<Dist> {
        let entries: Vec<(Located<&str>, Located<&Param>)> = raw
            .get_ref()
            .0
            .iter()
            .map(|(k, v)| {
                let at = format!("{path}.{}", k.get_ref());
                let key = Located {
                    value: k.get_ref().as_str(),
                    origin: Origin::of(k.span()),
                    path: at.clone(),
                };
                let value = Located {
                    value: v.get_ref(),
                    origin: Origin::of(v.span()),
                    path: at,
                };
                (key, value)
            })
            .collect();
        let raw = Located {
            value: (),
            origin: Origin::of(raw.span()),
            path: path.to_string(),
        };
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
                    describe_param(dist_value.value)
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
        for (key, _) in &entries {
            if key.value != "dist" && !allowed.contains(&key.value) {
                return Err(self.err(
                    ErrorKind::UnknownKey,
                    key.origin,
                    &key.path,
                    format!(
                        "unknown key `{}` for `{name}`{}; `{name}` takes {}",
                        key.value,
                        did_you_mean(key.value, &allowed),
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
            .map_err(|e| self.invalid(&raw, format!("invalid `{name}` distribution: {e}")))
    }

    fn param(&self, kind: ParamKind, v: &Located<&Param>) -> Result<ParamValue> {
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
                            describe_param(v.value)
                        ),
                    ));
                };
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let item = &Located {
                        value: item.get_ref(),
                        origin: Origin::of(item.span()),
                        path: format!("{}[{i}]", v.path),
                    };
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

    fn duration_param(&self, v: &Located<&Param>) -> Result<f64> {
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

    fn number_param(&self, v: &Located<&Param>) -> Result<f64> {
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

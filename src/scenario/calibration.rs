//! The `[[calibration]]` table: published figures a scenario is calibrated
//! on, each with the quantity of the model that reproduces it, its target,
//! its tolerance and its source (`docs/scenario-format.md`, "`[[calibration]]`").
//!
//! The targets travel with the run inside the resolved scenario, so a report
//! rebuilt from the saved outputs can say whether the run reproduces them.

use crate::model::metrics::Metric;

use super::types::Scenario;

/// A scenario value a metric may be divided by: the vocabulary is fixed and
/// small, capacities and the population.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScenarioValue {
    /// `acute.beds`.
    AcuteBeds,
    /// `pru.cars`.
    PruCars,
    /// `frailty_unit.slots`.
    FrailtyUnitSlots,
    /// `community.teams x community.caseload_per_team`.
    CommunityPlaces,
    /// `rehab.beds`.
    RehabBeds,
    /// `care_homes.beds`.
    CareHomeBeds,
    /// `population.adults`.
    Adults,
}

impl ScenarioValue {
    /// Every value, with the name a quantity writes it by.
    pub const ALL: [(&'static str, ScenarioValue); 7] = [
        ("acute.beds", ScenarioValue::AcuteBeds),
        ("pru.cars", ScenarioValue::PruCars),
        ("frailty_unit.slots", ScenarioValue::FrailtyUnitSlots),
        ("community.places", ScenarioValue::CommunityPlaces),
        ("rehab.beds", ScenarioValue::RehabBeds),
        ("care_homes.beds", ScenarioValue::CareHomeBeds),
        ("population.adults", ScenarioValue::Adults),
    ];

    /// The name a quantity writes it by.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, v)| *v == self)
            .map_or("", |(n, _)| n)
    }

    /// The value in `s`; `None` for adults when the scenario does not say.
    pub fn of(self, s: &Scenario) -> Option<f64> {
        Some(f64::from(match self {
            ScenarioValue::AcuteBeds => s.acute.beds,
            ScenarioValue::PruCars => s.pru.cars,
            ScenarioValue::FrailtyUnitSlots => s.frailty_unit.slots,
            ScenarioValue::CommunityPlaces => {
                return Some(
                    f64::from(s.community.teams) * f64::from(s.community.caseload_per_team),
                );
            }
            ScenarioValue::RehabBeds => s.rehab.beds,
            ScenarioValue::CareHomeBeds => s.care_homes.beds,
            ScenarioValue::Adults => s.adults?,
        }))
    }
}

/// What the model gives for a target, built from its metrics.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Quantity {
    /// A metric as `summary.csv` gives it.
    Metric(Metric),
    /// A metric divided by the days of the statistics window.
    PerDay(Metric),
    /// One metric divided by another, replication by replication.
    Ratio(Metric, Metric),
    /// A metric divided by a value of the scenario.
    Over(Metric, ScenarioValue),
}

impl Quantity {
    /// The metrics the quantity reads.
    pub fn metrics(&self) -> Vec<Metric> {
        match *self {
            Quantity::Metric(m) | Quantity::PerDay(m) | Quantity::Over(m, _) => vec![m],
            Quantity::Ratio(a, b) => vec![a, b],
        }
    }

    /// The quantity as written in the scenario (`admissions / day`).
    pub fn text(&self) -> String {
        match *self {
            Quantity::Metric(m) => m.name().to_string(),
            Quantity::PerDay(m) => format!("{} / day", m.name()),
            Quantity::Ratio(a, b) => format!("{} / {}", a.name(), b.name()),
            Quantity::Over(m, v) => format!("{} / {}", m.name(), v.name()),
        }
    }

    /// Parses `METRIC`, `METRIC / day`, `METRIC / METRIC` or
    /// `METRIC / SCENARIO_VALUE`. The error gives the byte offset of the
    /// word refused within `text` and says what was expected.
    pub fn parse(text: &str) -> Result<Quantity, (usize, String)> {
        let words: Vec<(usize, &str)> = split_words(text);
        let metric = |(at, w): (usize, &str)| {
            Metric::from_name(w).ok_or_else(|| {
                let names: Vec<&str> = Metric::ALL.iter().map(|m| m.name()).collect();
                (
                    at,
                    format!(
                        "`{}` is not a metric{}",
                        super::error::truncate_token(w),
                        super::suggest::did_you_mean(w, &names)
                    ),
                )
            })
        };
        let shape = "expected `METRIC`, `METRIC / day`, `METRIC / METRIC` or `METRIC / VALUE` \
                     (VALUE one of acute.beds, pru.cars, frailty_unit.slots, community.places, \
                     rehab.beds, care_homes.beds, population.adults)";
        match words.as_slice() {
            [m] => Ok(Quantity::Metric(metric(*m)?)),
            [m, (_, "/"), d] => {
                let top = metric(*m)?;
                let (dat, dw) = *d;
                if dw == "day" {
                    return Ok(Quantity::PerDay(top));
                }
                if let Some((_, v)) = ScenarioValue::ALL.iter().find(|(n, _)| *n == dw) {
                    return Ok(Quantity::Over(top, *v));
                }
                if let Some(b) = Metric::from_name(dw) {
                    return Ok(Quantity::Ratio(top, b));
                }
                let mut names: Vec<&str> = vec!["day"];
                names.extend(ScenarioValue::ALL.iter().map(|(n, _)| *n));
                names.extend(Metric::ALL.iter().map(|m| m.name()));
                Err((
                    dat,
                    format!(
                        "`{}` is not `day`, a metric or a scenario value{}",
                        super::error::truncate_token(dw),
                        super::suggest::did_you_mean(dw, &names)
                    ),
                ))
            }
            [] => Err((0, format!("{shape}, found an empty quantity"))),
            _ => {
                let at = words.get(1).map_or(0, |(a, _)| *a);
                Err((at, format!("{shape}, found `{}`", truncate_quantity(text))))
            }
        }
    }
}

fn truncate_quantity(text: &str) -> String {
    super::error::truncate_token(text.trim()).to_string()
}

/// Words separated by spaces, `/` a word of its own, with byte offsets.
fn split_words(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() || c == '/' {
            if let Some(s) = start.take() {
                out.push((s, &text[s..i]));
            }
            if c == '/' {
                out.push((i, "/"));
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        out.push((s, &text[s..]));
    }
    out
}

/// One published figure and the quantity that should reproduce it.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    /// What the figure is, in words (unique within the table).
    pub name: String,
    /// The model's quantity that should reproduce it.
    pub quantity: Quantity,
    /// The published (or derived) value.
    pub target: f64,
    /// The tolerance: the model's mean is within it when `low <= mean <= high`.
    pub low: f64,
    /// The tolerance's upper end.
    pub high: f64,
    /// Where the figure comes from.
    pub source: String,
}

impl Target {
    /// Whether `mean` lies within the tolerance (ends included).
    pub fn within(&self, mean: f64) -> bool {
        self.low <= mean && mean <= self.high
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_parse() {
        assert_eq!(
            Quantity::parse("admissions / day"),
            Ok(Quantity::PerDay(Metric::Admissions))
        );
        assert_eq!(
            Quantity::parse("  admissions"),
            Ok(Quantity::Metric(Metric::Admissions))
        );
        assert_eq!(
            Quantity::parse("delayed_bed_days_p1/delayed_bed_days"),
            Ok(Quantity::Ratio(
                Metric::DelayedBedDaysP1,
                Metric::DelayedBedDays
            ))
        );
        assert_eq!(
            Quantity::parse("care_home_occupancy_mean / care_homes.beds"),
            Ok(Quantity::Over(
                Metric::CareHomeOccupancyMean,
                ScenarioValue::CareHomeBeds
            ))
        );
        let (at, msg) = Quantity::parse("admisions / day").unwrap_err();
        assert_eq!(at, 0);
        assert!(msg.contains("did you mean `admissions`"), "{msg}");
        let (at, msg) = Quantity::parse("admissions / dya").unwrap_err();
        assert_eq!(at, 13);
        assert!(msg.contains("did you mean `day`"), "{msg}");
        let (_, msg) = Quantity::parse("admissions * 2").unwrap_err();
        assert!(msg.starts_with("expected `METRIC`"), "{msg}");
        let (_, msg) = Quantity::parse("").unwrap_err();
        assert!(msg.contains("empty"), "{msg}");
        assert!(Quantity::parse("a / b / c").is_err());
    }
}

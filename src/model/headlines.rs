//! The headline metrics: the few metrics each view of the results leads
//! with, and the words a comparison uses for them.
//!
//! [`HEADLINES`] is the one statement of them. Its consumers:
//! - the terminal summary of a run (`report::table`) shows the metrics
//!   marked `summary`, in table order;
//! - the headline sentences of a run's report (`report::run_report`) cite
//!   exactly the metrics marked `run_sentences`;
//! - a comparison ([`COMPARISON`], in `position` order) names its
//!   headlines with their [`Effect`] words: the terminal comparison table
//!   and the comparison report (`report::experiment_outputs`, `report::experiment_report`),
//!   and the metrics `--precision` checks by default.
//!
//! Tests beside each consumer hold it to this table.

use super::metrics::Metric;

/// Which way round a comparison states a headline's effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Baseline minus plan, so that positive is good: `past` is the word
    /// after the noun ("admissions avoided"), `present` the verb of a
    /// plan ("avoids the most").
    Reduction {
        /// The word after the noun ("avoided").
        past: &'static str,
        /// The verb of a plan ("avoids the most").
        present: &'static str,
    },
    /// Plan minus baseline ("bed occupancy change").
    Change,
}

impl Direction {
    /// The factor that turns a difference "plan minus baseline" into this
    /// direction: -1 for a reduction, +1 for a change.
    pub const fn sign(self) -> f64 {
        match self {
            Direction::Reduction { .. } => -1.0,
            Direction::Change => 1.0,
        }
    }
}

const AVOIDED: Direction = Direction::Reduction {
    past: "avoided",
    present: "avoids",
};
const SAVED: Direction = Direction::Reduction {
    past: "saved",
    present: "saves",
};

/// How a comparison names one of its headlines.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Effect {
    /// Place among the comparison's headlines, 0 first.
    pub position: usize,
    /// The row's name in tables and chart titles ("admissions avoided").
    pub label: &'static str,
    /// Which way round the effect is stated.
    pub direction: Direction,
    /// What is counted, in a sentence ("emergency admissions").
    pub noun: &'static str,
    /// The unit in words, for chart axes ("bed days").
    pub unit_words: &'static str,
    /// A mental health headline: shown only when either arm has mental
    /// health ([`Compared::shown`]), so that comparisons without it do not
    /// grow rows of zeros.
    pub mental_health: bool,
}

/// A headline metric and the views that show it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HeadlineMetric {
    /// The metric.
    pub metric: Metric,
    /// In a run's terminal summary table.
    pub summary: bool,
    /// Cited by the headline sentences of a run's report.
    pub run_sentences: bool,
    /// A headline of a comparison, with its words.
    pub comparison: Option<Effect>,
}

const fn h(metric: Metric, summary: bool, run_sentences: bool) -> HeadlineMetric {
    HeadlineMetric {
        metric,
        summary,
        run_sentences,
        comparison: None,
    }
}

impl HeadlineMetric {
    /// This headline, also a headline of a comparison.
    const fn compared(
        self,
        position: usize,
        label: &'static str,
        direction: Direction,
        noun: &'static str,
        unit_words: &'static str,
    ) -> HeadlineMetric {
        HeadlineMetric {
            comparison: Some(Effect {
                position,
                label,
                direction,
                noun,
                unit_words,
                mental_health: false,
            }),
            ..self
        }
    }

    /// This comparison headline, marked as a mental health one.
    const fn mental_health(self) -> HeadlineMetric {
        let Some(effect) = self.comparison else {
            panic!("only a comparison headline is marked")
        };
        HeadlineMetric {
            comparison: Some(Effect {
                mental_health: true,
                ..effect
            }),
            ..self
        }
    }
}

/// Every headline metric, in the order of a run's terminal summary.
#[rustfmt::skip]
pub const HEADLINES: [HeadlineMetric; 24] = [
    //  metric                                 summary run_sentences
    h(Metric::Admissions,                      true,  true).compared(
        0, "admissions avoided", AVOIDED, "emergency admissions", "admissions"),
    h(Metric::AdmissionsAvoidedPru,            true,  true),
    h(Metric::AdmissionsAvoidedFrailtyUnit,    true,  true),
    h(Metric::PruFauSentHome,                  false, true),
    h(Metric::EdAttendances,                   true,  false),
    h(Metric::PruVisits,                       true,  false),
    h(Metric::PruMissedBusy,                   true,  false),
    h(Metric::FauAssessed,                     true,  false),
    h(Metric::BedOccupancyMean,                true,  false).compared(
        4, "bed occupancy change", Direction::Change, "occupied acute beds", "beds"),
    h(Metric::BedsFullShare,                   true,  false),
    h(Metric::BedWaitsOver4h,                  true,  false).compared(
        3, "decision-to-admit waits over 4 hours avoided", AVOIDED,
        "decision-to-admit waits over 4 hours", "patients"),
    h(Metric::BedWaitsOver12h,                 true,  true).compared(
        2, "decision-to-admit waits over 12 hours avoided", AVOIDED,
        "decision-to-admit waits over 12 hours", "patients"),
    h(Metric::DelayedBedDays,                  true,  true).compared(
        1, "delayed bed days saved", SAVED, "delayed bed days", "bed days"),
    h(Metric::DelayedBedDaysP1,                true,  true),
    h(Metric::DelayedBedDaysP2,                true,  true),
    h(Metric::DelayedBedDaysP3,                true,  true),
    h(Metric::ProcessDelayBedDays,             true,  false),
    h(Metric::CommunityWaitingMean,            true,  false).compared(
        5, "community wait change", Direction::Change,
        "patients waiting for community nursing", "patients"),
    h(Metric::CommunityWaitMeanDaysDischarge,  true,  false),
    h(Metric::CareHomeWaitMeanDays,            true,  false),
    h(Metric::MidnightCensusMean,              false, true),
    h(Metric::MhAdmissions,                    false, false).compared(
        6, "mental health admissions avoided", AVOIDED,
        "mental health admissions", "admissions").mental_health(),
    h(Metric::MhOutOfAreaPlacements,           false, false).compared(
        7, "out-of-area placements avoided", AVOIDED,
        "mental health out-of-area placements", "placements").mental_health(),
    h(Metric::MhDelayedBedDays,                false, false).compared(
        8, "mental health delayed bed days saved", SAVED,
        "mental health delayed bed days", "bed days").mental_health(),
];

/// A headline of a comparison: its metric and words.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Compared {
    /// The metric.
    pub metric: Metric,
    /// How the comparison states its effect.
    pub effect: Effect,
}

impl Compared {
    /// [`Direction::sign`] of its direction.
    pub fn sign(&self) -> f64 {
        self.effect.direction.sign()
    }

    /// Whether a comparison shows this headline: always, or for a mental
    /// health one when either arm has mental health (see
    /// [`has_mental_health`]).
    pub fn shown(&self, mental_health: bool) -> bool {
        !self.effect.mental_health || mental_health
    }
}

/// Whether an arm of a comparison has mental health, from its mean
/// `mh_crises`: without a `[mental_health]` table (or with one of no
/// demand) every `mh_*` metric is 0, and the mental health headlines would
/// be rows of zeros.
pub fn has_mental_health(mean_mh_crises: f64) -> bool {
    mean_mh_crises != 0.0
}

const fn comparison_count() -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < HEADLINES.len() {
        if HEADLINES[i].comparison.is_some() {
            n += 1;
        }
        i += 1;
    }
    n
}

/// The comparison's headlines in `position` order; the build fails unless
/// the positions are 0, 1, 2, ... once each.
const fn comparison() -> [Compared; comparison_count()] {
    let unset = Compared {
        metric: Metric::Crises,
        effect: Effect {
            position: usize::MAX,
            label: "",
            direction: Direction::Change,
            noun: "",
            unit_words: "",
            mental_health: false,
        },
    };
    let mut out = [unset; comparison_count()];
    let mut i = 0;
    while i < HEADLINES.len() {
        if let Some(effect) = HEADLINES[i].comparison {
            assert!(effect.position < out.len(), "a position past the end");
            assert!(
                out[effect.position].effect.position == usize::MAX,
                "a position given twice"
            );
            out[effect.position] = Compared {
                metric: HEADLINES[i].metric,
                effect,
            };
        }
        i += 1;
    }
    out
}

/// The headlines of a comparison, in display order. Those not marked
/// `mental_health` are also the metrics whose precision `--precision`
/// checks by default.
pub const COMPARISON: [Compared; comparison_count()] = comparison();

/// The metrics of a run's terminal summary, in display order.
pub fn summary_metrics() -> impl Iterator<Item = Metric> {
    HEADLINES.iter().filter(|h| h.summary).map(|h| h.metric)
}

/// The metrics a run report's headline sentences cite, in table order.
pub fn run_sentence_metrics() -> impl Iterator<Item = Metric> {
    HEADLINES
        .iter()
        .filter(|h| h.run_sentences)
        .map(|h| h.metric)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_metric_once_and_positions_in_order() {
        let mut metrics: Vec<Metric> = HEADLINES.iter().map(|h| h.metric).collect();
        metrics.sort_unstable();
        metrics.dedup();
        assert_eq!(metrics.len(), HEADLINES.len());
        for (i, c) in COMPARISON.iter().enumerate() {
            assert_eq!(c.effect.position, i);
            assert!(!c.effect.label.is_empty() && !c.effect.noun.is_empty());
        }
        assert!(
            HEADLINES
                .iter()
                .all(|h| h.summary || h.run_sentences || h.comparison.is_some())
        );
    }
}

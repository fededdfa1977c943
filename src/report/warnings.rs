//! The flow balance's warnings about a scenario (a service near or over
//! capacity), recorded with the figures they qualify: in each scenario's
//! `run.json` (`warnings`) and, for a comparison or sweep, with each arm in
//! `experiment.json`. Every report and terminal table shows them beside
//! that plan's numbers, and marks the metrics of an overloaded service's
//! queue as not settling (see [`QUEUES`](crate::model::flow::QUEUES)).

use serde::{Deserialize, Serialize};

use crate::model::flow::{ServiceLoad, Verdict, queue_metrics};
use crate::model::metrics::Metric;
use crate::scenario::human_fixed;

/// The mark reports put by a plan with a warning and by each metric that
/// does not settle.
pub const MARK: &str = "\u{26a0}";
/// The same mark on a terminal, where the symbol may not show.
pub const TERMINAL_MARK: &str = "(!)";
/// What a report says in place of the interval of a metric that does not
/// settle.
pub const DOES_NOT_SETTLE: &str = "does not settle: the queue grows through the run";

/// One warning of the flow balance about one scenario and service.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Warning {
    /// The scenario it is about: its folder in a comparison or sweep (the
    /// swept values for a sweep's plan), the file's stem for a run.
    pub plan: String,
    /// The service, as `patientflow check` names it.
    pub service: String,
    /// `"overloaded"` (demand at or above capacity) or `"high"` (near it).
    pub verdict: String,
    /// Offered load (mean places demand would hold, erlangs); this and the
    /// two below are `null` when not finite.
    pub offered: Option<f64>,
    /// Capacity: the service's places.
    pub capacity: Option<f64>,
    /// Offered load over capacity.
    pub utilisation: Option<f64>,
    /// The metrics of the service's queue, when it is overloaded: their
    /// values grow with the run's length, so they are not an effect.
    #[serde(default, serialize_with = "metric_names")]
    pub does_not_settle: Vec<Metric>,
    /// The warning in words, as printed before the run: it names the
    /// scenario file (and a sweep's combination).
    pub message: String,
}

fn metric_names<S: serde::Serializer>(metrics: &[Metric], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(metrics.iter().map(|m| m.name()))
}

/// A warning as a file holds it: this version's record, or the text alone
/// (directories written before warnings were typed).
#[derive(Deserialize)]
#[serde(untagged)]
enum Recorded {
    Text(String),
    Full(Warning),
}

/// Reads the warnings of a manifest as files hold them (see [`Recorded`]).
pub(crate) fn read_warnings<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<Warning>, D::Error> {
    Ok(Vec::<Recorded>::deserialize(d)?
        .into_iter()
        .map(|r| match r {
            Recorded::Text(message) => Warning {
                plan: String::new(),
                service: String::new(),
                verdict: String::new(),
                offered: None,
                capacity: None,
                utilisation: None,
                does_not_settle: Vec::new(),
                message,
            },
            Recorded::Full(w) => w,
        })
        .collect())
}

impl Warning {
    /// The warning about `service`, if its verdict calls for one: `plan` is
    /// the scenario's folder (or stem), `scenario` how the message names it
    /// (the file, and a sweep's combination).
    pub fn of(plan: &str, scenario: &str, service: &ServiceLoad) -> Option<Warning> {
        let (verdict, note, metrics) = match service.verdict() {
            Verdict::Overloaded => (
                "overloaded",
                "demand exceeds capacity: its queue grows through the run, so the figures \
                 describe a system that never settles",
                queue_metrics(service.service),
            ),
            Verdict::High => ("high", "near capacity: expect long queues", Vec::new()),
            Verdict::Ok | Verdict::Busy => return None,
        };
        let finite = |x: f64| x.is_finite().then_some(x);
        Some(Warning {
            plan: plan.to_string(),
            service: service.service.to_string(),
            verdict: verdict.to_string(),
            offered: finite(service.offered),
            capacity: finite(service.capacity),
            utilisation: finite(service.utilisation()),
            does_not_settle: metrics,
            message: format!(
                "{scenario}: {}: offered load {} against a capacity of {} (utilisation {}): \
                 {note} (see `patientflow check`)",
                service.service,
                human_fixed(service.offered, 1),
                human_fixed(service.capacity, 0),
                human_fixed(service.utilisation(), 2)
            ),
        })
    }
}

/// Whether any of `warnings` says that `metric` does not settle.
pub fn unsettled(warnings: &[Warning], metric: Metric) -> bool {
    warnings.iter().any(|w| w.does_not_settle.contains(&metric))
}

/// A report's paragraph for one warning: the mark, the text, and what it
/// means for the marked figures.
pub fn report_text(w: &Warning) -> String {
    let marked = if w.does_not_settle.is_empty() {
        String::new()
    } else {
        format!(
            " Figures marked {MARK} measure this queue: they do not settle (the queue grows \
             through the run), so their value depends on how long the run lasts and is not an \
             effect of the plan."
        )
    };
    format!("{MARK} Warning: {}.{marked}", w.message)
}

/// The terminal's lines for `warnings`, under a table that marks them with
/// [`TERMINAL_MARK`]: empty when there are none.
pub fn terminal_notes(warnings: &[&Warning]) -> String {
    let mut out = String::new();
    for w in warnings {
        out.push_str(&format!("{TERMINAL_MARK} warning: {}\n", w.message));
    }
    if warnings.iter().any(|w| !w.does_not_settle.is_empty()) {
        out.push_str(&format!(
            "{TERMINAL_MARK} \"does not settle\": an overloaded service's queue grows through \
             the run, so the metrics of that queue depend on the run's length, not on the plan.\n"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_older_text_warning_still_reads_and_a_record_round_trips() {
        let read = |text: &str| read_warnings(&mut serde_json::Deserializer::from_str(text));
        let old = read(r#"["x.toml: acute beds: ..."]"#).unwrap();
        assert_eq!(old[0].message, "x.toml: acute beds: ...");
        assert!(old[0].does_not_settle.is_empty());
        let service = ServiceLoad {
            service: "community nursing",
            kind: crate::model::flow::ServiceKind::Queue,
            offered: 846.1,
            capacity: 800.0,
            loss_share: None,
        };
        let w = Warning::of("p", "s.toml (a=1)", &service).unwrap();
        assert!(w.does_not_settle.contains(&Metric::CommunityWaitingMean));
        assert!(
            w.message
                .starts_with("s.toml (a=1): community nursing: offered load 846.1")
        );
        let text = serde_json::to_string(&w).unwrap();
        assert!(text.contains("\"community_waiting_mean\""), "{text}");
        assert_eq!(serde_json::from_str::<Warning>(&text).unwrap(), w);
        let none = ServiceLoad {
            capacity: 0.0,
            ..service
        };
        let w = Warning::of("p", "s.toml", &none).unwrap();
        assert_eq!(w.utilisation, None);
        let text = serde_json::to_string(&w).unwrap();
        assert_eq!(serde_json::from_str::<Warning>(&text).unwrap(), w);
    }
}

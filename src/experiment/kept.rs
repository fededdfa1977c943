//! Keeping only the drawn worlds a scenario's calibration figures allow
//! (`docs/model.md`, "Keeping only the draws the calibration allows"): the
//! judged scenario, each figure's noise from replications at the central
//! values, and each replication's kept draw, found once for every scenario
//! of a run.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::commands::Settings;
use super::{ExperimentError, RunError};
use crate::model::kept::{Kept, KeptDraws, KeptRecord, central_seed};
use crate::model::{EventBudget, Prepared, Stopped};
use crate::report::facts::CalibrationRecord;
use crate::report::{KeptDrawsRecord, NoiseSd};
use crate::scenario::{KeepRule, LoadedScenario};

/// The judged scenario and what judges its draws.
#[derive(Debug)]
pub struct Matcher {
    /// The judged scenario with its draws, without years and with only
    /// the counterfactual arms its figures read: it simulates the draws
    /// tried.
    judged: Prepared,
    /// How run.json names the judged scenario.
    name: String,
    figures: Vec<CalibrationRecord>,
    /// Each figure's noise (standard deviation at the central values).
    sd: Vec<f64>,
    rule: KeepRule,
    window_days: f64,
    /// Each replication's kept draw, once found.
    found: Mutex<HashMap<u32, KeptRecord>>,
}

impl Matcher {
    /// Measures each figure's noise on `judged` (its central values,
    /// `rule.central_replications` replications) and returns the matcher;
    /// `name` is how run.json names it.
    pub(crate) fn new(
        judged: &LoadedScenario,
        draws: &Arc<crate::scenario::uncertain::Uncertainty>,
        rule: KeepRule,
        name: String,
        settings: &Settings,
        threads: usize,
    ) -> Result<Matcher, ExperimentError> {
        let sc = &judged.scenario;
        let figures: Vec<CalibrationRecord> = judged
            .calibration
            .iter()
            .map(|t| super::facts::calibration(t, sc))
            .collect();
        let window_days = sc.horizon_hours / 24.0;
        let check = super::check::offered_load(sc);
        let budget = EventBudget::new(super::check::expected_events(sc, &check));
        // The counterfactual arms a figure reads (admissions avoided) run
        // beside each replication judged; the others do not.
        let read: Vec<crate::model::metrics::Metric> =
            figures.iter().flat_map(|f| f.metrics()).collect();
        let mut central = sc.clone();
        central.seed = central_seed(sc.seed);
        let prepared = settings
            .prepare(central, budget)
            .keeping_arms(&read)
            .without_years();
        let reps: Vec<u32> = (0..rule.central_replications).collect();
        let results = super::run_replications(&prepared, &reps, threads, settings.progress())
            .map_err(|e| match e {
                RunError::Stopped {
                    replication,
                    reason,
                } if reason != Stopped::Cancelled => RunError::Stopped {
                    replication,
                    reason: Stopped::InCentral(Box::new(reason)),
                },
                e => e,
            })?;
        let mut sd = Vec::with_capacity(figures.len());
        for f in &figures {
            let ys: Vec<f64> = results
                .iter()
                .filter_map(|r| f.value(|m| r.metrics[m], window_days))
                .collect();
            // A figure its central replications hardly define has no
            // measurable noise and judges (almost) nothing: refused.
            if ys.len() < 2 {
                return Err(judged
                    .doc
                    .error_at_key(
                        crate::scenario::ErrorKind::InvalidValue,
                        "uncertainty.keep",
                        format!(
                            "the calibration figure \"{}\" (`{}`) is defined in {} of the {} \
                             replications at the central values of {name} (a ratio is \
                             undefined where its divisor is 0), so its noise cannot be \
                             measured and no draw could be judged by it: remove the figure \
                             from the judged scenario, or give it a quantity the scenario \
                             produces",
                            f.name,
                            f.quantity,
                            ys.len(),
                            rule.central_replications
                        ),
                    )
                    .into());
            }
            sd.push(sample_sd(&ys));
        }
        let judged_prepared = settings
            .prepare(sc.clone(), budget)
            .keeping_arms(&read)
            .without_years()
            .with_draws(Arc::clone(draws) as Arc<dyn crate::model::ScenarioDraws>);
        Ok(Matcher {
            judged: judged_prepared,
            name,
            figures,
            sd,
            rule,
            window_days,
            found: Mutex::new(HashMap::new()),
        })
    }

    /// What run.json records of the rule and of `records`, the kept draws
    /// of a run's replications.
    pub fn record<'a>(
        &self,
        records: impl Iterator<Item = (u32, &'a KeptRecord)>,
    ) -> KeptDrawsRecord {
        let mut out = KeptDrawsRecord {
            judged: self.name.clone(),
            cutoff: self.rule.cutoff,
            central_replications: self.rule.central_replications,
            max_draws: self.rule.max_draws,
            noise_sd: self
                .figures
                .iter()
                .zip(&self.sd)
                .map(|(f, &sd)| NoiseSd {
                    name: f.name.clone(),
                    sd,
                })
                .collect(),
            ..KeptDrawsRecord::default()
        };
        for (r, k) in records {
            out.add(r, k, |i| self.figures[i].name.clone());
        }
        out
    }

    /// Whether `result`'s figures all lie within their tolerance widened
    /// by the cut-off times their noise; counts each that does not.
    fn judge(
        &self,
        result: &crate::model::metrics::ReplicationResult,
        record: &mut KeptRecord,
    ) -> bool {
        let mut kept = true;
        for (i, (f, sd)) in self.figures.iter().zip(&self.sd).enumerate() {
            let Some(y) = f.value(|m| result.metrics[m], self.window_days) else {
                continue;
            };
            let w = self.rule.cutoff * sd;
            if y < f.low - w || y > f.high + w {
                kept = false;
                KeptRecord::count(&mut record.outside, i);
            }
        }
        kept
    }

    /// Why a replication found no draw, in words (after "replication r
    /// stopped: ").
    fn none_kept(&self, record: &KeptRecord) -> String {
        let mut reasons: Vec<String> = record
            .overloaded
            .iter()
            .map(|(s, n)| format!("{n} overloaded {s}"))
            .collect();
        reasons.extend(
            record
                .outside
                .iter()
                .map(|(i, n)| format!("{n} put \"{}\" outside", self.figures[*i].name)),
        );
        // A service overloaded in every draw is overloaded by what is
        // certain (its capacity, or demand no draw lowers enough).
        let always: Vec<&str> = record
            .overloaded
            .iter()
            .filter(|(_, n)| *n == record.tried)
            .map(|(s, _)| *s)
            .collect();
        let advice = if always.is_empty() {
            "widen `uncertainty.cutoff`, raise `uncertainty.max_draws`, or narrow the uncertain \
             values that make the figures miss"
                .to_string()
        } else {
            format!(
                "every draw overloads {}: its capacity or the demand on it is too far from what \
                 the draws can reach (see `patientflow check` on the judged scenario)",
                always.join(" and ")
            )
        };
        format!(
            "none of its {} draws of the uncertain values was consistent with the calibration \
             figures of {} ({}); {advice}",
            record.tried,
            self.name,
            reasons.join(", ")
        )
    }
}

impl KeptDraws for Matcher {
    fn kept(&self, replication: u32) -> Result<Kept, Stopped> {
        if let Ok(found) = self.found.lock()
            && let Some(record) = found.get(&replication)
        {
            return Ok(Kept {
                record: record.clone(),
                result: None,
            });
        }
        let mut record = KeptRecord::default();
        for draw in 0..self.rule.max_draws {
            if self.judged.is_cancelled() {
                return Err(Stopped::Cancelled);
            }
            record.tried += 1;
            let Some(screened) = self.judged.screen(replication, draw)? else {
                return Err(Stopped::Draw("the judged scenario draws no values".into()));
            };
            if !screened.overloaded.is_empty() {
                record.rejected_overloaded += 1;
                for &s in &screened.overloaded {
                    KeptRecord::count(&mut record.overloaded, s);
                }
                continue;
            }
            let p = self.judged.prepare_screened(screened);
            let run = p.simulate_whole(replication).and_then(|mut r| {
                p.run_arms(replication, &mut r)?;
                Ok(r)
            });
            let result = match run {
                Ok(r) => r,
                Err(e) => match overloaded_service(&e) {
                    Some(service) => {
                        record.rejected_overloaded += 1;
                        KeptRecord::count(&mut record.overloaded, service);
                        continue;
                    }
                    None => return Err(e),
                },
            };
            if self.judge(&result, &mut record) {
                record.draw = draw;
                if let Ok(mut found) = self.found.lock() {
                    found.insert(replication, record.clone());
                }
                return Ok(Kept {
                    record,
                    result: Some((result, p.arm_metrics())),
                });
            }
        }
        Err(Stopped::NoKeptDraw(self.none_kept(&record)))
    }
}

/// A scenario with no uncertain values of its own that runs in a judged
/// scenario's kept worlds (a sweep's plan that sets every uncertain value
/// plainly): each replication takes its kept draw's noise seed, so that it
/// stays paired with the scenarios that draw.
#[derive(Debug)]
pub(crate) struct Plain(pub crate::scenario::Scenario);

impl crate::model::ScenarioDraws for Plain {
    fn scenario(&self, replication: u32, draw: u32) -> Result<crate::scenario::Scenario, String> {
        let mut sc = self.0.clone();
        sc.seed = crate::model::kept::draw_seed(sc.seed, replication, draw);
        Ok(sc)
    }
}

/// The service whose queue passed the bound, when that stopped a draw (in
/// the draw itself or in a counterfactual arm a figure reads).
fn overloaded_service(e: &Stopped) -> Option<&'static str> {
    match e {
        Stopped::Overloaded { service, .. } => Some(service),
        Stopped::InArm { reason, .. } => overloaded_service(reason),
        _ => None,
    }
}

/// The sample standard deviation (divisor n - 1); 0 with fewer than two.
fn sample_sd(ys: &[f64]) -> f64 {
    if ys.len() < 2 {
        return 0.0;
    }
    let n = ys.len() as f64;
    let mean = ys.iter().sum::<f64>() / n;
    (ys.iter().map(|y| (y - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
}

//! The mental health cases of `patientflow validate` (9 to 11,
//! `docs/validation.md`): the local beds with immediate out-of-area overflow
//! and CRHT with `when_full = "admit"` as Erlang B loss systems, and
//! Little's law on supported accommodation as a queue.

use super::{Check, Outcome, Runner, VerifyError, per_rep, ratio, theory};
use crate::experiment;
use crate::model::metrics::Metric;
use crate::model::{Resource, TraceEvent};

/// The case files, in the order they run (after those of the other cases).
pub const CASE_FILES: [&str; 3] = [
    "mh-erlang-b-beds.toml",
    "mh-erlang-b-crht.toml",
    "mh-little-supported.toml",
];

/// Runs cases 9 to 11 alone (as [`super::run_all`] runs them after the
/// others) and returns their rows in order.
pub fn run_cases(
    options: &super::Options,
    mut on_case: impl FnMut(&str),
) -> Result<Vec<Check>, VerifyError> {
    run(&Runner { options }, &mut on_case)
}

/// Runs cases 9 to 11 and returns their rows in order; `on_case` is told
/// the name of each case as it starts.
pub(super) fn run(
    runner: &Runner<'_>,
    on_case: &mut impl FnMut(&str),
) -> Result<Vec<Check>, VerifyError> {
    let mut checks = Vec::new();
    on_case("9 Erlang B, mental health beds");
    checks.extend(runner.mh_erlang_b_beds()?);
    on_case("10 Erlang B, CRHT");
    checks.extend(runner.mh_erlang_b_crht()?);
    on_case("11 Little's law, supported accommodation");
    checks.extend(runner.mh_little_supported()?);
    Ok(checks)
}

/// The `[mental_health]` table of a case (a case file without one is wrong).
fn table<'s>(
    sc: &'s crate::scenario::Scenario,
    file: &str,
) -> Result<&'s crate::scenario::MentalHealth, VerifyError> {
    sc.mental_health.as_ref().ok_or_else(|| {
        VerifyError::Usage(format!(
            "{file}: a mental health verification case needs a [mental_health] table"
        ))
    })
}

impl Runner<'_> {
    // ----- 9: Erlang B, mental health beds -----------------------------------

    fn mh_erlang_b_beds(&self) -> Result<Vec<Check>, VerifyError> {
        let file = CASE_FILES[0];
        let l = self.load(file)?;
        let mh = table(l.scenario(), file)?;
        // Every crisis is admitted; the fixed liaison delay keeps the
        // decisions to admit Poisson at the crisis rate.
        let per_hour = mh.crises_per_day / 24.0 * mh.ed_admit_share;
        let a = per_hour * mh.stay.mean();
        let b = theory::erlang_b(mh.beds, a);
        let results = self.run(&l)?;
        let case = "9 Erlang B, MH beds";
        Ok(vec![
            Check::mean(
                case,
                format!(
                    "share of admissions placed out of area, B({}, {a:.2})",
                    mh.beds
                ),
                b,
                &per_rep(&results, |m| {
                    ratio(m[Metric::MhOutOfAreaPlacements], m[Metric::MhAdmissions])
                }),
            ),
            Check::mean(
                case,
                "mean occupied beds = a (1 - B)",
                a * (1.0 - b),
                &per_rep(&results, |m| m[Metric::MhBedOccupancyMean]),
            ),
            Check {
                case: case.into(),
                quantity: "decision-to-admit waits over 12 h (out of area at once)".into(),
                outcome: Outcome::Rule {
                    violations: results
                        .iter()
                        .map(|r| r.metrics[Metric::MhBedWaitsOver12h] as u64)
                        .sum(),
                    checked: results
                        .iter()
                        .map(|r| r.metrics[Metric::MhAdmissions] as u64)
                        .sum(),
                },
            },
        ])
    }

    // ----- 10: Erlang B, CRHT ------------------------------------------------

    fn mh_erlang_b_crht(&self) -> Result<Vec<Check>, VerifyError> {
        let file = CASE_FILES[1];
        let l = self.load(file)?;
        let mh = table(l.scenario(), file)?;
        let c = mh.crht.places;
        let a = mh.referrals_per_day / 24.0 * mh.crht.episode.mean();
        let b = theory::erlang_b(c, a);
        let results = self.run(&l)?;
        let case = "10 Erlang B, CRHT";
        Ok(vec![
            Check::mean(
                case,
                format!("share of referrals admitted as CRHT is full, B({c}, {a:.2})"),
                b,
                &per_rep(&results, |m| {
                    ratio(
                        m[Metric::MhAdmissions],
                        m[Metric::MhAdmissions] + m[Metric::MhCrhtEpisodes],
                    )
                }),
            ),
            Check::mean(
                case,
                "utilisation = a (1 - B) / c",
                a * (1.0 - b) / f64::from(c),
                &per_rep(&results, |m| m[Metric::MhCrhtUtilisation]),
            ),
        ])
    }

    // ----- 11: Little's law, supported accommodation --------------------------

    fn mh_little_supported(&self) -> Result<Vec<Check>, VerifyError> {
        let file = CASE_FILES[2];
        let l = self.load(file)?;
        let (start, end) = l.window();
        let days = (end - start) / 24.0;
        let mh = table(l.scenario(), file)?;
        let supported = mh.pathways[1];
        // Decisions to admit a day (every one takes a local bed), and
        // arrivals at supported accommodation a day.
        let admitted = mh.crises_per_day * mh.ed_admit_share;
        let lambda = admitted * supported;
        let stay_days = mh.supported_stay.mean() / 24.0;
        let bed_days =
            (mh.stay.mean() + mh.process_delay.as_ref().map_or(0.0, |d| d.mean())) / 24.0;
        let results = experiment::run_replications_traced(
            &l.prepared,
            &l.replications,
            self.options.threads,
            self.options.progress,
            || PlacesTracer::new(start, end),
        )?;
        let mut held = Vec::new();
        let mut waiting_diff = Vec::new();
        let mut beds_diff = Vec::new();
        let (mut l_sum, mut lw_sum) = (0.0, 0.0);
        for (result, tracer) in &results {
            let m = &result.metrics;
            held.push(tracer.area() / (end - start));
            // L: patients waiting, time-averaged; lambda W: grants in the
            // window a day x their mean wait.
            let waiting = m[Metric::MhDelayedBedDays] / days;
            let lambda_w =
                tracer.grants as f64 / days * m[Metric::MhSupportedAccommodationWaitMeanDays];
            l_sum += waiting;
            lw_sum += lambda_w;
            waiting_diff.push(waiting - lambda_w);
            beds_diff.push(m[Metric::MhBedOccupancyMean] - waiting);
        }
        let n = results.len() as f64;
        let case = "11 Little's law, supported accommodation";
        Ok(vec![
            Check::mean(
                case,
                format!(
                    "places held = lambda E[stay] ({} places)",
                    mh.supported_places
                ),
                lambda * stay_days,
                &held,
            ),
            Check::mean(
                case,
                format!(
                    "patients waiting: L - lambda W (L = {:.3}, lambda W = {:.3})",
                    l_sum / n,
                    lw_sum / n
                ),
                0.0,
                &waiting_diff,
            ),
            Check::mean(
                case,
                "MH beds occupied - patients waiting = lambda (E[stay] + E[delay])",
                admitted * bed_days,
                &beds_diff,
            ),
        ])
    }
}

/// For case 11: the integral over `[start, end)` of the supported
/// accommodation places held (hours), and the places granted inside it.
struct PlacesTracer {
    start: f64,
    end: f64,
    held: u32,
    since: f64,
    area: f64,
    grants: u64,
}

impl PlacesTracer {
    fn new(start: f64, end: f64) -> PlacesTracer {
        PlacesTracer {
            start,
            end,
            held: 0,
            since: 0.0,
            area: 0.0,
            grants: 0,
        }
    }

    /// The integral over the whole window, the level after the last
    /// event held to its end.
    fn area(&self) -> f64 {
        let tail = (self.end - self.since.max(self.start)).max(0.0);
        self.area + f64::from(self.held) * tail
    }
}

impl crate::model::Tracer for PlacesTracer {
    fn trace(&mut self, e: TraceEvent) {
        let (at, took) = match e {
            TraceEvent::Took {
                at,
                resource: Resource::SupportedPlace,
                ..
            } => (at, true),
            TraceEvent::Released {
                at,
                resource: Resource::SupportedPlace,
                ..
            } => (at, false),
            _ => return,
        };
        let from = self.since.max(self.start);
        let to = at.min(self.end);
        if to > from {
            self.area += f64::from(self.held) * (to - from);
        }
        self.since = at;
        if took {
            self.held += 1;
            if at >= self.start && at < self.end {
                self.grants += 1;
            }
        } else {
            // An underflow (a place released that was never taken) shows as
            // a huge level and a failed check.
            self.held = self.held.wrapping_sub(1);
        }
    }
}

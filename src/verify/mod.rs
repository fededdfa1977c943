//! Verification against queueing theory: `patientflow validate`.
//!
//! The command is named `validate` for users (it is what they type, and
//! what `docs/validation.md` and `scenarios/validation/` are named after);
//! the module is named `verify`, because it verifies the model against
//! theory, while validating input is `scenario`'s work.
//!
//! Each case is a real scenario file in `scenarios/validation/`, loaded with
//! [`scenario::load`] and run through [`experiment`] exactly as `patientflow
//! run` runs a plan, with a fixed seed. Most compare a model output with a
//! value known exactly from theory (Erlang B and C, M/G/infinity, Little's
//! law); the others check rules of the model (strict priority, dated bed
//! changes) on the trace of a run. `docs/validation.md` gives each formula
//! and its source.
//!
//! # The tolerance
//!
//! Replications are independent and identically distributed, so the mean of
//! a per-replication quantity over `n` replications has standard error
//! `SE = sd / sqrt(n)`. A mean check passes when
//! `|theory - mean| <= 4 SE`: for an unbiased estimator that fails by chance
//! with probability about 6e-5 (normal tails), so with ~20 checks a correct
//! engine fails a run about once in 800, while an engine error larger than
//! a few standard errors fails it. No check has a hand-set epsilon.
//! Chi-square checks pass below the 0.999 quantile; rule checks pass with
//! no violation at all.

pub use crate::queueing as theory;

pub mod mental_health;

use std::path::{Path, PathBuf};

use crate::experiment::{self, Progress, RunError};
use crate::model::metrics::{Metric, ReplicationResult, Series};
use crate::model::schedule::WeeklySchedule;
use crate::model::{Prepared, Resource, TraceEvent};
use crate::report::text_table::{Align, TextTable};
use crate::scenario::calendar::Date;
use crate::scenario::{self, ReferralClass, Scenario, ScenarioError};
use crate::stats::{Summary, summarise};

/// Standard errors allowed between a simulated mean and theory.
pub const STANDARD_ERRORS: f64 = 4.0;
/// Quantile of chi-square below which a goodness-of-fit statistic passes.
pub const CHI_SQUARE_LEVEL: f64 = 0.999;

/// One row of the verification table.
#[derive(Clone, Debug)]
pub struct Check {
    /// The case, numbered as in the issue and `docs/validation.md`.
    pub case: String,
    /// What is compared, in words (a metric, a probability, a rule).
    pub quantity: String,
    /// The comparison and its numbers.
    pub outcome: Outcome,
}

impl Check {
    /// The mean of `values` (one a replication) against `theory`.
    fn mean(case: &str, quantity: impl Into<String>, theory: f64, values: &[f64]) -> Check {
        Check {
            case: case.into(),
            quantity: quantity.into(),
            outcome: Outcome::Mean {
                theory,
                summary: summarise(values),
            },
        }
    }
}

/// What was compared, and how.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// The mean over replications against an exact value: passes when
    /// `|theory - mean| <= 4 SE`.
    Mean {
        /// The exact value from theory, in the quantity's unit.
        theory: f64,
        /// The simulated values over replications.
        summary: Summary,
    },
    /// A goodness-of-fit statistic on pooled counts: passes when at most
    /// `limit` (the 0.999 quantile of chi-square with `df` degrees of freedom).
    ChiSquare {
        /// The chi-square statistic.
        statistic: f64,
        /// Degrees of freedom.
        df: usize,
        /// The 0.999 quantile it must not pass.
        limit: f64,
    },
    /// Violations of an exact rule among `checked` occasions: passes with none.
    Rule {
        /// Occasions that broke the rule.
        violations: u64,
        /// Occasions checked.
        checked: u64,
    },
}

impl Check {
    /// Whether the check passed, by its outcome's rule above.
    pub fn passed(&self) -> bool {
        match &self.outcome {
            Outcome::Mean { theory, summary } => {
                let se = summary.sd / (summary.n as f64).sqrt();
                // `<=` with a zero SE needs exact agreement; NaN fails.
                (theory - summary.mean).abs() <= STANDARD_ERRORS * se
            }
            Outcome::ChiSquare {
                statistic, limit, ..
            } => statistic <= limit,
            Outcome::Rule { violations, .. } => *violations == 0,
        }
    }
}

/// Errors that stop verification before a verdict.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// A case's scenario file is missing or wrong.
    #[error("{0}")]
    Scenario(#[from] ScenarioError),
    /// A case's run failed (its threads did not start, or a replication
    /// stopped).
    #[error("{0}")]
    Run(#[from] RunError),
    /// A case would have too few or too many replications (exit 2).
    #[error("{0}")]
    Usage(String),
}

/// Fewest replications a case runs: the mean checks need a standard error
/// over replications, which one replication does not have.
pub const MIN_REPLICATIONS: u32 = 2;

/// Most replications a case runs: the traced cases keep every
/// replication's events until their checks are computed.
pub const MAX_REPLICATIONS: u32 = 1_000;

/// How to run the cases.
#[derive(Clone, Debug)]
pub struct Options {
    /// The directory holding the case scenarios (`scenarios/validation`).
    pub dir: PathBuf,
    /// Replications for every case (default: each file's own).
    pub replications: Option<u32>,
    /// Worker threads (0: one per core). Results do not depend on it.
    pub threads: usize,
    /// Whether to draw a progress bar for each case.
    pub progress: Progress,
}

/// The case files, in the order they run; then those of
/// [`mental_health::CASE_FILES`].
pub const CASE_FILES: [&str; 10] = [
    "erlang-b-pru-fixed.toml",
    "erlang-b-pru-exponential.toml",
    "erlang-b-pru-lognormal.toml",
    "erlang-b-frailty-unit.toml",
    "mg-infinity-beds.toml",
    "erlang-c-community.toml",
    "little-baseline.toml",
    "time-varying-demand.toml",
    "strict-priority-community.toml",
    "capacity-changes-beds.toml",
];

/// Runs every case and returns the table's rows in order. `on_case` is told
/// the name of each case as it starts (for a progress line).
pub fn run_all(
    options: &Options,
    mut on_case: impl FnMut(&str),
) -> Result<Vec<Check>, VerifyError> {
    let runner = Runner { options };
    let mut checks = Vec::new();
    for (file, label) in [
        ("erlang-b-pru-fixed.toml", "fixed"),
        ("erlang-b-pru-exponential.toml", "exponential"),
        ("erlang-b-pru-lognormal.toml", "lognormal"),
    ] {
        on_case(&format!("1 Erlang B, PRU ({label} visits)"));
        checks.push(runner.erlang_b_pru(file, label)?);
    }
    on_case("2 Erlang B, frailty unit");
    checks.push(runner.erlang_b_frailty_unit()?);
    on_case("3 M/G/inf, acute beds");
    checks.extend(runner.mg_infinity_beds()?);
    on_case("4 Erlang C, community nursing");
    checks.extend(runner.erlang_c_community()?);
    on_case("5 Little's law, baseline");
    checks.extend(runner.little_baseline()?);
    on_case("6 Time-varying demand");
    checks.extend(runner.time_varying_demand()?);
    on_case("7 Strict priority");
    checks.extend(runner.strict_priority()?);
    on_case("8 Bed capacity changes");
    checks.extend(runner.capacity_changes()?);
    checks.extend(mental_health::run(&runner, &mut on_case)?);
    Ok(checks)
}

/// The default directory of the case files: `scenarios/validation` under
/// the current directory if it is there, else in the source tree the binary
/// was built from.
pub fn default_dir() -> PathBuf {
    let here = PathBuf::from("scenarios/validation");
    if here.is_dir() {
        here
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/validation")
    }
}

struct Runner<'o> {
    options: &'o Options,
}

/// A case's scenario, prepared, and its replication indices.
struct Loaded {
    prepared: Prepared,
    replications: Vec<u32>,
}

impl Loaded {
    fn scenario(&self) -> &Scenario {
        &self.prepared.scenario
    }
    fn window(&self) -> (f64, f64) {
        let sc = self.scenario();
        (sc.warm_up_hours, sc.warm_up_hours + sc.horizon_hours)
    }
}

impl Runner<'_> {
    fn load(&self, file: &str) -> Result<Loaded, VerifyError> {
        let sets: Vec<String> = self
            .options
            .replications
            .map(|n| format!("scenario.replications={n}"))
            .into_iter()
            .collect();
        let path = self.options.dir.join(file);
        let loaded = scenario::load(&path, &sets)?;
        let n = loaded.scenario.replications;
        if !(MIN_REPLICATIONS..=MAX_REPLICATIONS).contains(&n) {
            return Err(VerifyError::Usage(format!(
                "{}: a verification case needs {MIN_REPLICATIONS} to {MAX_REPLICATIONS} \
                 replications (a standard error over replications), found {n}",
                path.display()
            )));
        }
        let replications = (0..n).collect();
        Ok(Loaded {
            prepared: Prepared::new(loaded.scenario),
            replications,
        })
    }

    fn run(&self, l: &Loaded) -> Result<Vec<ReplicationResult>, VerifyError> {
        Ok(experiment::run_replications(
            &l.prepared,
            &l.replications,
            self.options.threads,
            self.options.progress,
        )?)
    }

    fn run_traced(
        &self,
        l: &Loaded,
    ) -> Result<Vec<(ReplicationResult, Vec<TraceEvent>)>, VerifyError> {
        Ok(experiment::run_replications_traced(
            &l.prepared,
            &l.replications,
            self.options.threads,
            self.options.progress,
            Vec::new,
        )?)
    }

    // ----- 1, 2: Erlang B -------------------------------------------------

    fn erlang_b_pru(&self, file: &str, label: &str) -> Result<Check, VerifyError> {
        let l = self.load(file)?;
        let sc = l.scenario();
        let per_hour = sc.demand.crises_per_day / 24.0 * sc.pru.eligible_share;
        let a = per_hour * sc.pru.visit.mean();
        let theory = theory::erlang_b(sc.pru.cars, a);
        let results = self.run(&l)?;
        let share = per_rep(&results, |m| {
            ratio(m[Metric::PruMissedBusy], m[Metric::PruEligible])
        });
        Ok(Check::mean(
            "1 Erlang B, PRU",
            format!(
                "share missed busy, {label} visits, B({}, {a:.2})",
                sc.pru.cars
            ),
            theory,
            &share,
        ))
    }

    fn erlang_b_frailty_unit(&self) -> Result<Check, VerifyError> {
        let l = self.load("erlang-b-frailty-unit.toml")?;
        let sc = l.scenario();
        let per_hour = sc.demand.crises_per_day / 24.0 * sc.demand.frail_share;
        let a = per_hour * sc.frailty_unit.assessment.mean();
        let theory = theory::erlang_b(sc.frailty_unit.slots, a);
        let results = self.run(&l)?;
        let share = per_rep(&results, |m| {
            ratio(
                m[Metric::FauMissed],
                m[Metric::FauMissed] + m[Metric::FauAssessed],
            )
        });
        Ok(Check::mean(
            "2 Erlang B, frailty unit",
            format!(
                "share of frail ED patients missed, B({}, {a:.2})",
                sc.frailty_unit.slots
            ),
            theory,
            &share,
        ))
    }

    // ----- 3: M/G/infinity --------------------------------------------------

    fn mg_infinity_beds(&self) -> Result<Vec<Check>, VerifyError> {
        let l = self.load("mg-infinity-beds.toml")?;
        let sc = l.scenario();
        let per_hour = sc.demand.crises_per_day / 24.0 * sc.ed.other_admit_share;
        let offered = per_hour * sc.acute.los_other.mean();
        let results = self.run(&l)?;
        let case = "3 M/G/inf, acute beds";
        let mut checks = vec![
            Check::mean(
                case,
                "mean occupied beds = lambda E[LOS]",
                offered,
                &per_rep(&results, |m| m[Metric::BedOccupancyMean]),
            ),
            Check::mean(
                case,
                "midnight census mean",
                offered,
                &per_rep(&results, |m| m[Metric::MidnightCensusMean]),
            ),
        ];
        // The census at a midnight is Poisson(offered): the share of
        // midnights at or below its 95th percentile q is exactly P(N <= q).
        // (A replication's R-7 p95 of a discrete census is not an unbiased
        // estimator of q, so the distribution is checked at q instead.)
        if let Some((q, cdf)) = theory::poisson_p95(offered) {
            let shares: Vec<f64> = results
                .iter()
                .map(|r| {
                    let census = &r.daily[Series::MidnightCensus.index()];
                    let below = census.iter().filter(|&&n| n <= q as f64).count();
                    ratio(below as f64, census.len() as f64)
                })
                .collect();
            checks.push(Check::mean(
                case,
                format!("share of midnights with census <= {q} (Poisson p95)"),
                cdf,
                &shares,
            ));
        }
        Ok(checks)
    }

    // ----- 4: Erlang C ----------------------------------------------------------

    fn erlang_c_community(&self) -> Result<Vec<Check>, VerifyError> {
        let l = self.load("erlang-c-community.toml")?;
        let sc = l.scenario();
        let c = sc.community.teams * sc.community.caseload_per_team;
        let per_day = sc.community.referrals_per_day;
        let episode_days = sc.community.episode[ReferralClass::Community.index()].mean() / 24.0;
        let a = per_day * episode_days;
        let lq = theory::mmc_mean_queue(c, a);
        let results = self.run(&l)?;
        let case = "4 Erlang C, community";
        Ok(vec![
            Check::mean(
                case,
                format!("mean waiting list Lq, M/M/{c}, a = {a:.2}"),
                lq,
                &per_rep(&results, |m| m[Metric::CommunityWaitingMean]),
            ),
            Check::mean(
                case,
                "mean wait Wq = Lq / lambda (days)",
                lq / per_day,
                &per_rep(&results, |m| m[Metric::CommunityWaitMeanDaysCommunity]),
            ),
            Check::mean(
                case,
                "utilisation = a / c",
                a / f64::from(c),
                &per_rep(&results, |m| m[Metric::CommunityUtilisation]),
            ),
        ])
    }

    // ----- 5: Little's law ---------------------------------------------------------

    fn little_baseline(&self) -> Result<Vec<Check>, VerifyError> {
        let l = self.load("little-baseline.toml")?;
        let sc = l.scenario();
        let (start, end) = l.window();
        let hours = end - start;
        let pru_car_hours = f64::from(sc.pru.cars)
            * WeeklySchedule::service(sc.start_date, sc.pru.open, &sc.pru.days)
                .open_hours_between(start, end);
        let visit_hours = sc.pru.visit.mean();
        let results = experiment::run_replications_traced(
            &l.prepared,
            &l.replications,
            self.options.threads,
            self.options.progress,
            || LittleTracer::new(start, end),
        )?;

        // Per replication, L (the model's own time-average output) and
        // lambda W = (sum of the times in service of those who left inside
        // the window) / window length, from the trace. For the PRU, W is the
        // scenario's mean visit: its visits never straddle the window's
        // edges (closed from 20:00 to 08:00), so a traced W would make
        // L = lambda W an identity rather than a test.
        struct Service {
            name: &'static str,
            unit: &'static str,
            l: Vec<f64>,
            lambda_w: Vec<f64>,
        }
        let mut services = [
            ("PRU", "cars"),
            ("acute beds", "beds"),
            ("rehab beds", "beds"),
            ("community waiting list", "referrals"),
        ]
        .map(|(name, unit)| Service {
            name,
            unit,
            l: Vec::new(),
            lambda_w: Vec::new(),
        });
        for (result, tracer) in &results {
            let m = &result.metrics;
            let mut sums = tracer.sums;
            sums[0] = m[Metric::PruVisits] * visit_hours;
            let ls = [
                m[Metric::PruUtilisation] * pru_car_hours / hours,
                m[Metric::BedOccupancyMean],
                m[Metric::RehabOccupancyMean],
                m[Metric::CommunityWaitingMean],
            ];
            for (i, s) in services.iter_mut().enumerate() {
                s.l.push(ls[i]);
                s.lambda_w.push(sums[i] / hours);
            }
        }
        Ok(services
            .iter()
            .map(|s| {
                let diff: Vec<f64> = s.l.iter().zip(&s.lambda_w).map(|(l, lw)| l - lw).collect();
                let l_mean = summarise(&s.l).mean;
                let lw_mean = summarise(&s.lambda_w).mean;
                Check::mean(
                    "5 Little's law, baseline",
                    format!(
                        "{}: L - lambda W (L = {l_mean:.3}, lambda W = {lw_mean:.3} {})",
                        s.name, s.unit
                    ),
                    0.0,
                    &diff,
                )
            })
            .collect())
    }

    // ----- 6: time-varying demand ------------------------------------------------

    fn time_varying_demand(&self) -> Result<Vec<Check>, VerifyError> {
        let l = self.load("time-varying-demand.toml")?;
        let sc = l.scenario();
        let (start, end) = l.window();
        let expected = integrated_rate(sc, start, end);
        let start_date = sc.start_date;
        let results = experiment::run_replications_traced(
            &l.prepared,
            &l.replications,
            self.options.threads,
            self.options.progress,
            || CrisisCounter {
                start_date,
                start,
                end,
                cells: CellCounts::default(),
            },
        )?;
        let mut observed = CellCounts::default();
        for (_, counter) in &results {
            observed.merge(&counter.cells);
        }
        let case = "6 Time-varying demand";
        let mut checks = vec![Check::mean(
            case,
            "crises a replication = integrated rate",
            expected.total(),
            &per_rep_results(&results, |m| m[Metric::Crises]),
        )];
        for (name, obs, exp) in [
            ("hour of day", &observed.hour[..], &expected.hour[..]),
            ("day of week", &observed.weekday[..], &expected.weekday[..]),
            ("month", &observed.month[..], &expected.month[..]),
        ] {
            let df = exp.iter().filter(|&&e| e > 0.0).count().saturating_sub(1);
            checks.push(Check {
                case: case.into(),
                quantity: format!("crises by {name}: chi-square, {df} df"),
                outcome: Outcome::ChiSquare {
                    statistic: chi_square(obs, exp),
                    df,
                    limit: theory::chi_square_quantile(df, CHI_SQUARE_LEVEL),
                },
            });
        }
        Ok(checks)
    }

    // ----- 7: strict priority ---------------------------------------------------------

    fn strict_priority(&self) -> Result<Vec<Check>, VerifyError> {
        let l = self.load("strict-priority-community.toml")?;
        let priority = l.scenario().community.priority;
        let results = self.run_traced(&l)?;
        let mut total = PriorityAudit::default();
        for (_, trace) in &results {
            let a = audit_priority(trace, &priority);
            total.inversions += a.inversions;
            total.contested += a.contested;
            total.out_of_order += a.out_of_order;
            total.grants += a.grants;
        }
        let case = "7 Strict priority";
        Ok(vec![
            Check {
                case: case.into(),
                quantity: format!(
                    "grants to a lower class while a higher one waits ({} grants with both waiting)",
                    total.contested
                ),
                outcome: Outcome::Rule {
                    violations: total.inversions,
                    checked: total.grants,
                },
            },
            Check {
                case: case.into(),
                quantity: "grants out of arrival order within a class".into(),
                outcome: Outcome::Rule {
                    violations: total.out_of_order,
                    checked: total.grants,
                },
            },
        ])
    }

    // ----- 8: capacity changes ----------------------------------------------------------

    fn capacity_changes(&self) -> Result<Vec<Check>, VerifyError> {
        let l = self.load("capacity-changes-beds.toml")?;
        let sc = l.scenario();
        let (_, end) = l.window();
        // Expected instants and values, from the dates (independently of the
        // model's own bed calendar).
        let days = (end / 24.0).ceil() as i64;
        let beds_on = |day: i64| {
            let date = sc.start_date.add_days(day);
            sc.acute
                .capacity_changes
                .iter()
                .rev()
                .find(|c| c.from <= date && date <= c.to)
                .map_or(sc.acute.beds, |c| c.beds)
        };
        let expected: Vec<(f64, u32)> = (1..days)
            .filter(|&d| beds_on(d) != beds_on(d - 1))
            .map(|d| (d as f64 * 24.0, beds_on(d)))
            .filter(|&(t, _)| t < end)
            .collect();
        let results = self.run_traced(&l)?;
        let mut total = CapacityAudit::default();
        for (_, trace) in &results {
            total.merge(audit_capacity(trace, sc.acute.beds, &expected));
        }
        let case = "8 Bed capacity changes";
        let n = results.len() as u64;
        Ok(vec![
            Check {
                case: case.into(),
                quantity: format!(
                    "changes not at 00:00 of `from` / after 24:00 of `to` ({} expected a run)",
                    expected.len()
                ),
                outcome: Outcome::Rule {
                    violations: total.wrong_changes,
                    checked: expected.len() as u64 * n,
                },
            },
            Check {
                case: case.into(),
                quantity: "patients evicted by a cut".into(),
                outcome: Outcome::Rule {
                    violations: total.evictions,
                    checked: total.cuts,
                },
            },
            Check {
                case: case.into(),
                quantity: format!(
                    "beds filled while occupied >= available ({:.0} h over capacity after cuts)",
                    total.hours_over
                ),
                outcome: Outcome::Rule {
                    violations: total.overfills,
                    checked: total.fills,
                },
            },
            Check {
                case: case.into(),
                quantity: "a rise not filled at once from the ED queue".into(),
                outcome: Outcome::Rule {
                    violations: total.unfilled_rises,
                    checked: total.rises,
                },
            },
        ])
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { f64::NAN }
}

fn per_rep(
    results: &[ReplicationResult],
    f: impl Fn(&crate::model::metrics::Metrics) -> f64,
) -> Vec<f64> {
    results.iter().map(|r| f(&r.metrics)).collect()
}

fn per_rep_results<T>(
    results: &[(ReplicationResult, T)],
    f: impl Fn(&crate::model::metrics::Metrics) -> f64,
) -> Vec<f64> {
    results.iter().map(|(r, _)| f(&r.metrics)).collect()
}

/// For Little's law: per service (PRU car, acute bed, rehab bed, community
/// waiting list), the sum of the complete times in service of those who
/// left it inside `[start, end)` (hours), whenever they entered; summed as
/// the run goes, so a long run keeps no trace in memory.
///
/// Over a finite window, `H L = sum(those sums) + A(end) - A(start)` where
/// `A(t)` is the time already spent inside the window by those present at
/// `t` (at the start: since they entered). In a steady (or periodic, with the
/// window a whole number of periods) state `A(start)` and `A(end)` have the
/// same mean, so `L - lambda W` has mean 0.
struct LittleTracer {
    start: f64,
    end: f64,
    /// When each patient (arena index) took each resource.
    took: [Vec<f64>; 3],
    sums: [f64; 4],
}

impl LittleTracer {
    fn new(start: f64, end: f64) -> LittleTracer {
        LittleTracer {
            start,
            end,
            took: Default::default(),
            sums: [0.0; 4],
        }
    }
}

impl crate::model::Tracer for LittleTracer {
    fn trace(&mut self, e: TraceEvent) {
        let (start, end) = (self.start, self.end);
        // Mental health resources are not among these checks.
        let slot = |r: Resource| match r {
            Resource::PruCar => Some(0),
            Resource::AcuteBed => Some(1),
            Resource::RehabBed => Some(2),
            Resource::MhBed
            | Resource::SupportedPlace
            | Resource::FrailtyUnitPlace
            | Resource::CrhtPlace => None,
        };
        let (took, sums) = (&mut self.took, &mut self.sums);
        match e {
            TraceEvent::Took {
                at,
                resource,
                patient,
            } => {
                let Some(s) = slot(resource) else { return };
                let v = &mut took[s];
                let i = patient as usize;
                if v.len() <= i {
                    v.resize(i + 1, f64::NAN);
                }
                v[i] = at;
            }
            TraceEvent::Released {
                at,
                resource,
                patient,
            } => {
                let Some(s) = slot(resource) else { return };
                let entered = took[s].get(patient as usize).copied().unwrap_or(f64::NAN);
                if at >= start && at < end {
                    // NaN (a release never taken) poisons the sum: an
                    // engine error shows as a failed check, not a quiet pass.
                    sums[s] += at - entered;
                }
            }
            TraceEvent::CommunityGranted {
                at, requested_at, ..
            } if at >= start && at < end => {
                sums[3] += at - requested_at;
            }
            _ => {}
        }
    }
}

/// Counts crises inside `[start, end)` by hour of day, weekday and month.
struct CrisisCounter {
    start_date: Date,
    start: f64,
    end: f64,
    cells: CellCounts,
}

impl crate::model::Tracer for CrisisCounter {
    fn trace(&mut self, e: TraceEvent) {
        if let TraceEvent::Crisis { at } = e
            && at >= self.start
            && at < self.end
        {
            self.cells.add(self.start_date, at, 1.0);
        }
    }
}

/// Crisis counts (or expected counts) by hour of day, weekday and month.
#[derive(Default)]
struct CellCounts {
    hour: [f64; 24],
    weekday: [f64; 7],
    month: [f64; 12],
}

impl CellCounts {
    fn add(&mut self, start_date: Date, t: f64, weight: f64) {
        let day = (t / 24.0).floor();
        let date = start_date.add_days(day as i64);
        let hour = ((t - day * 24.0).floor() as usize).min(23);
        self.hour[hour] += weight;
        self.weekday[date.weekday().index()] += weight;
        self.month[date.month() as usize - 1] += weight;
    }

    fn merge(&mut self, o: &CellCounts) {
        for (a, b) in self.hour.iter_mut().zip(&o.hour) {
            *a += b;
        }
        for (a, b) in self.weekday.iter_mut().zip(&o.weekday) {
            *a += b;
        }
        for (a, b) in self.month.iter_mut().zip(&o.month) {
            *a += b;
        }
    }

    fn total(&self) -> f64 {
        self.hour.iter().sum()
    }
}

/// The expected crises of one replication in each cell: the integral of the
/// rate `crises_per_day / 24 x h x w x m` (each weight list divided by its
/// simple mean, `docs/model.md`) over `[start, end)`, clock hour by clock hour.
/// Written here from the scenario, independently of the model's own table.
fn integrated_rate(sc: &Scenario, start: f64, end: f64) -> CellCounts {
    fn normalised(w: &[f64]) -> Vec<f64> {
        let mean = w.iter().sum::<f64>() / w.len() as f64;
        w.iter().map(|x| x / mean).collect()
    }
    let d = &sc.demand;
    let (h, w, m) = (
        normalised(&d.hour_of_day),
        normalised(&d.day_of_week),
        normalised(&d.month_of_year),
    );
    let mut cells = CellCounts::default();
    let mut t = start.floor();
    while t < end {
        let from = t.max(start);
        let to = (t + 1.0).min(end);
        let date = sc.start_date.add_days((t / 24.0).floor() as i64);
        let hour = (t.rem_euclid(24.0)) as usize;
        let rate = d.crises_per_day / 24.0
            * h[hour]
            * w[date.weekday().index()]
            * m[date.month() as usize - 1];
        cells.add(sc.start_date, t, rate * (to - from));
        t += 1.0;
    }
    cells
}

/// Pearson's statistic of pooled counts against expected shares, the
/// expected counts scaled to the observed total (so `cells - 1` degrees of
/// freedom). Cells with no expected count are left out.
fn chi_square(observed: &[f64], expected: &[f64]) -> f64 {
    let n: f64 = observed.iter().sum();
    let total: f64 = expected.iter().sum();
    observed
        .iter()
        .zip(expected)
        .filter(|&(_, &e)| e > 0.0)
        .map(|(&o, &e)| {
            let e = n * e / total;
            (o - e) * (o - e) / e
        })
        .sum()
}

#[derive(Default)]
struct PriorityAudit {
    /// Grants to a class while an earlier-asked referral of a higher class
    /// was still waiting.
    inversions: u64,
    /// Grants made while referrals of two or more classes were waiting.
    contested: u64,
    /// Grants that were not to the longest-waiting referral of their class.
    out_of_order: u64,
    grants: u64,
}

/// Replays the referrals and grants in the order the model made them
/// (event order, which settles ties at one instant).
fn audit_priority(trace: &[TraceEvent], priority: &[ReferralClass; 3]) -> PriorityAudit {
    let mut waiting: [std::collections::VecDeque<f64>; 3] = Default::default();
    let mut audit = PriorityAudit::default();
    let rank = |c: ReferralClass| priority.iter().position(|&p| p == c).unwrap_or(3);
    for e in trace {
        match *e {
            TraceEvent::CommunityReferred { at, class } => {
                waiting[class.index()].push_back(at);
            }
            TraceEvent::CommunityGranted {
                class,
                requested_at,
                ..
            } => {
                audit.grants += 1;
                let classes_waiting = waiting.iter().filter(|q| !q.is_empty()).count();
                if classes_waiting >= 2 {
                    audit.contested += 1;
                }
                let r = rank(class);
                let higher_waiting = ReferralClass::ALL
                    .into_iter()
                    .any(|c| rank(c) < r && !waiting[c.index()].is_empty());
                if higher_waiting {
                    audit.inversions += 1;
                }
                match waiting[class.index()].pop_front() {
                    Some(first) if first == requested_at => {}
                    _ => audit.out_of_order += 1,
                }
            }
            _ => {}
        }
    }
    audit
}

#[derive(Default)]
struct CapacityAudit {
    wrong_changes: u64,
    cuts: u64,
    evictions: u64,
    fills: u64,
    overfills: u64,
    rises: u64,
    unfilled_rises: u64,
    hours_over: f64,
}

impl CapacityAudit {
    fn merge(&mut self, o: CapacityAudit) {
        self.wrong_changes += o.wrong_changes;
        self.cuts += o.cuts;
        self.evictions += o.evictions;
        self.fills += o.fills;
        self.overfills += o.overfills;
        self.rises += o.rises;
        self.unfilled_rises += o.unfilled_rises;
        self.hours_over += o.hours_over;
    }
}

/// Checks the bed counts of one run against the expected changes
/// `(instant, beds)`, starting from `beds` available and none occupied.
fn audit_capacity(trace: &[TraceEvent], beds: u32, expected: &[(f64, u32)]) -> CapacityAudit {
    let mut audit = CapacityAudit::default();
    let beds_events: Vec<(f64, u32, u32)> = trace
        .iter()
        .filter_map(|e| match *e {
            TraceEvent::Beds {
                at,
                occupied,
                available,
            } => Some((at, occupied, available)),
            _ => None,
        })
        .collect();
    let mut changes = Vec::new();
    let (mut prev_t, mut occ, mut avail) = (0.0, 0u32, beds);
    for (i, &(at, o, a)) in beds_events.iter().enumerate() {
        if occ > avail {
            audit.hours_over += at - prev_t;
        }
        if a != avail {
            changes.push((at, a));
            if a < avail {
                audit.cuts += 1;
                if o != occ {
                    audit.evictions += 1;
                }
            } else {
                audit.rises += 1;
                // The last count at this instant: the queue has taken the
                // new beds (the queue is never empty here by design).
                let last = beds_events[i..]
                    .iter()
                    .take_while(|e| e.0 == at)
                    .last()
                    .map_or(o, |e| e.1);
                if last < a {
                    audit.unfilled_rises += 1;
                }
            }
        }
        if o > occ {
            audit.fills += 1;
            // A bed is taken only when one is free.
            if occ >= a {
                audit.overfills += 1;
            }
        }
        (prev_t, occ, avail) = (at, o, a);
    }
    let matched =
        changes.len() == expected.len() && changes.iter().zip(expected).all(|(c, e)| c == e);
    if !matched {
        let wrong = changes.iter().filter(|c| !expected.contains(c)).count()
            + expected.iter().filter(|e| !changes.contains(e)).count();
        audit.wrong_changes = wrong.max(1) as u64;
    }
    audit
}

/// The verification table, one row per check, as printed by
/// `patientflow validate`.
pub fn format_table(checks: &[Check]) -> String {
    let mut table = TextTable::new(&[
        ("case", Align::Left),
        ("quantity", Align::Left),
        ("theory", Align::Left),
        ("simulated", Align::Left),
        ("95% CI", Align::Left),
        ("rule", Align::Left),
        ("result", Align::Left),
    ]);
    for c in checks {
        let (theory, simulated, ci, rule) = match &c.outcome {
            Outcome::Mean { theory, summary } => {
                let se = summary.sd / (summary.n as f64).sqrt();
                (
                    num(*theory),
                    num(summary.mean),
                    format!("[{}, {}]", num(summary.ci95_low), num(summary.ci95_high)),
                    format!(
                        "|diff| {} <= 4 SE {} (n={})",
                        num((theory - summary.mean).abs()),
                        num(STANDARD_ERRORS * se),
                        summary.n
                    ),
                )
            }
            Outcome::ChiSquare {
                statistic,
                df,
                limit,
            } => (
                format!("chi2({df})"),
                format!("{statistic:.2}"),
                "-".into(),
                format!("<= {limit:.2} (0.999 quantile)"),
            ),
            Outcome::Rule {
                violations,
                checked,
            } => (
                "0".into(),
                violations.to_string(),
                "-".into(),
                format!("none of {checked}"),
            ),
        };
        let result = if c.passed() { "pass" } else { "FAIL" };
        table.push([
            c.case.clone(),
            c.quantity.clone(),
            theory,
            simulated,
            ci,
            rule,
            result.into(),
        ]);
    }
    table.render()
}

/// Four significant figures, without exponent for the ranges met here.
fn num(x: f64) -> String {
    if !x.is_finite() {
        return "-".into();
    }
    if x == 0.0 {
        return "0".into();
    }
    let digits = (3 - x.abs().log10().floor() as i32).clamp(0, 6) as usize;
    format!("{x:.digits$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn beds(at: f64, occupied: u32, available: u32) -> TraceEvent {
        TraceEvent::Beds {
            at,
            occupied,
            available,
        }
    }

    #[test]
    fn capacity_audit_sees_eviction_late_change_and_overfill() {
        let expected = [(24.0, 1)];
        // Correct: cut at 24 h with 2 occupied, nobody leaves until one goes.
        let ok = [
            beds(1.0, 1, 2),
            beds(2.0, 2, 2),
            beds(24.0, 2, 1),
            beds(30.0, 1, 1),
        ];
        let a = audit_capacity(&ok, 2, &expected);
        assert_eq!((a.wrong_changes, a.evictions, a.overfills), (0, 0, 0));
        assert!(a.hours_over > 5.9);
        // Evicts at the cut.
        let evict = [beds(1.0, 2, 2), beds(24.0, 1, 1)];
        assert_eq!(audit_capacity(&evict, 2, &expected).evictions, 1);
        // A day late.
        let late = [beds(1.0, 1, 2), beds(48.0, 1, 1)];
        assert!(audit_capacity(&late, 2, &expected).wrong_changes > 0);
        // Refills while over capacity.
        let refill = [
            beds(1.0, 2, 2),
            beds(24.0, 2, 1),
            beds(25.0, 1, 1),
            beds(26.0, 2, 1),
        ];
        assert_eq!(audit_capacity(&refill, 2, &expected).overfills, 1);
    }

    #[test]
    fn priority_audit_sees_an_inversion() {
        use ReferralClass::{Avoidance, Community};
        let order = [Avoidance, Community, ReferralClass::Discharge];
        let refer = |at, class| TraceEvent::CommunityReferred { at, class };
        let grant = |at, class, requested_at| TraceEvent::CommunityGranted {
            at,
            class,
            requested_at,
        };
        let good = [
            refer(1.0, Community),
            refer(2.0, Avoidance),
            grant(3.0, Avoidance, 2.0),
            grant(4.0, Community, 1.0),
        ];
        let a = audit_priority(&good, &order);
        assert_eq!((a.inversions, a.out_of_order, a.contested), (0, 0, 1));
        let bad = [
            refer(1.0, Community),
            refer(2.0, Avoidance),
            grant(3.0, Community, 1.0),
        ];
        assert_eq!(audit_priority(&bad, &order).inversions, 1);
    }

    #[test]
    fn chi_square_of_exact_counts_is_zero_and_grows_with_bias() {
        let e = [10.0, 20.0, 30.0];
        assert_eq!(chi_square(&[100.0, 200.0, 300.0], &e), 0.0);
        assert!(chi_square(&[120.0, 200.0, 280.0], &e) > 5.0);
    }

    #[test]
    fn a_mean_check_uses_four_standard_errors() {
        let summary = summarise(&[1.0, 2.0, 3.0, 4.0]); // mean 2.5, SE 0.6455
        let check = |theory| Check {
            case: String::new(),
            quantity: String::new(),
            outcome: Outcome::Mean { theory, summary },
        };
        assert!(check(2.5 + 2.58).passed());
        assert!(!check(2.5 + 2.59).passed());
    }
}

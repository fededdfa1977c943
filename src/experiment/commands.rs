//! The commands that run scenarios and write their outputs: `run`,
//! `compare` and `sweep`, each optionally sharded or run to a precision.
//!
//! Every scenario of a comparison or sweep runs with the same seed and the
//! same replication indices (common random numbers), and every value a
//! sweep sets goes through the scenario document, so it is checked exactly
//! as a value in a file.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::model::metrics::ReplicationResult;
use crate::model::{EventBudget, Prepared};
use crate::report::{
    self, ArmRecord, ExperimentManifest, PlanRows, PrecisionRecord, RunManifest, ShardRecord,
};
use crate::scenario::{self, ErrorKind, LoadedScenario, ScenarioDoc, human_fixed, split_key};

use super::compare::{PAIRING_KEYS, compare_results, unpaired, unpaired_values};
use crate::report::prose::prose_count;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::kept::Matcher;
use super::precision::{PrecisionRule, run_to_precision};
use super::shard::Shard;
use super::{ExperimentError, Progress};
use crate::model::DEFAULT_QUEUE_LIMIT;
use crate::notice::{Notice, Notices};
use crate::report::Warning;

/// Most worker threads: more only costs memory (a stack each).
pub(crate) const MAX_THREADS: usize = 1024;

/// What every command shares: overrides, threads, and how many replications.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// Overrides `scenario.replications`.
    pub replications: Option<u32>,
    /// Overrides `scenario.seed`.
    pub seed: Option<u64>,
    /// `KEY=VALUE` overrides, applied to every scenario run.
    pub sets: Vec<String>,
    /// Worker threads; 0 for one per core.
    pub threads: usize,
    /// No progress bar (`--quiet`).
    pub quiet: bool,
    /// Run only this shard's share of the replications (`--shard`).
    pub shard: Option<Shard>,
    /// Replicate until the means reach this precision (`--precision`).
    pub precision: Option<PrecisionRule>,
    /// The bound on any one queue (`None`: [`DEFAULT_QUEUE_LIMIT`]).
    pub max_queue: Option<usize>,
    /// Set on Ctrl-C: replications stop within a few thousand events.
    pub cancel: Option<Arc<AtomicBool>>,
    /// Replace an output directory that is not a patientflow output.
    pub force: bool,
    /// `run` only: on Ctrl-C, write the finished replications marked partial.
    pub keep_partial: bool,
    /// Recorded in the manifests.
    pub command_line: Vec<String>,
    /// Where the commands' messages go (see [`crate::notice`]).
    pub notices: Notices,
}

impl Settings {
    /// The `--set`s, then `--replications` and `--seed` as `--set`s too, so
    /// the resolved scenario recorded in run.json is exactly what ran.
    pub fn overrides(&self) -> Vec<String> {
        let mut sets = self.sets.clone();
        if let Some(n) = self.replications {
            sets.push(format!("scenario.replications={n}"));
        }
        if let Some(s) = self.seed {
            sets.push(format!("scenario.seed={s}"));
        }
        sets
    }

    /// The scenario ready to run under these settings, with each
    /// replication's event budget (from its flow balance).
    pub(crate) fn prepare(
        &self,
        scenario: crate::scenario::Scenario,
        budget: EventBudget,
    ) -> Prepared {
        let prepared = Prepared::with_budget(scenario, budget)
            .with_queue_limit(self.max_queue.unwrap_or(DEFAULT_QUEUE_LIMIT));
        match &self.cancel {
            Some(flag) => prepared.with_cancel(Arc::clone(flag)),
            None => prepared,
        }
    }

    pub(crate) fn cancelled(&self) -> bool {
        self.cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::SeqCst))
    }

    /// The scenario prepared for its daily series only (no counterfactual
    /// arms, no years): what `warmup` and `backtest` read.
    pub(super) fn prepare_daily(&self, scenario: crate::scenario::Scenario) -> Prepared {
        let budget = EventBudget::for_scenario(&scenario);
        self.prepare(scenario, budget)
            .without_counterfactuals()
            .without_years()
    }

    /// Runs replications 0 to `replications - 1` of `prepared` on
    /// `threads` threads, with a progress bar unless `--quiet`.
    pub(super) fn run_all(
        &self,
        prepared: &Prepared,
        replications: u32,
        threads: usize,
    ) -> Result<Vec<ReplicationResult>, super::RunError> {
        let reps: Vec<u32> = (0..replications).collect();
        super::run_replications(prepared, &reps, threads, self.progress())
    }

    pub(crate) fn progress(&self) -> Progress {
        Progress::unless_quiet(self.quiet)
    }

    /// Refuses a thread count above [`MAX_THREADS`] and 0 replications
    /// (every command that runs replications).
    pub(super) fn check_counts(&self) -> Result<(), ExperimentError> {
        if self.threads > MAX_THREADS {
            return Err(ExperimentError::Usage(format!(
                "--threads: expected at most {MAX_THREADS} threads, found {}",
                self.threads
            )));
        }
        if self.replications == Some(0) {
            return Err(ExperimentError::Usage(
                "--replications: expected at least 1 replication, found 0".into(),
            ));
        }
        Ok(())
    }

    /// Refuses combinations that cannot mean anything.
    fn check(&self) -> Result<(), ExperimentError> {
        self.check_counts()?;
        if let Some(p) = &self.precision {
            if self.shard.is_some() {
                return Err(ExperimentError::Usage(
                    "--precision cannot be combined with --shard: the number of replications \
                     is decided as results come in, which needs them all in one place"
                        .into(),
                ));
            }
            if self.replications.is_some() {
                return Err(ExperimentError::Usage(
                    "--precision chooses the number of replications: give --max-replications \
                     instead of --replications"
                        .into(),
                ));
            }
            if !(p.relative_half_width > 0.0 && p.relative_half_width.is_finite()) {
                return Err(ExperimentError::Usage(format!(
                    "--precision: expected a share above 0 such as 0.05, found {}",
                    p.relative_half_width
                )));
            }
            if p.batch == 0 {
                return Err(ExperimentError::Usage(
                    "--batch: expected at least 1 replication a batch".into(),
                ));
            }
            if p.max_replications < 2 {
                return Err(ExperimentError::Usage(
                    "--max-replications: expected at least 2".into(),
                ));
            }
        }
        Ok(())
    }
}

/// The worker threads `threads` stands for (0: one per core).
pub fn resolve_threads(threads: usize) -> usize {
    if threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        threads
    }
}

/// The default output directory of a scenario: `outputs/<file stem>/`.
pub fn default_out_dir(scenario: &Path) -> PathBuf {
    PathBuf::from("outputs").join(file_stem(scenario))
}

/// `out`, or by default `outputs/<name>/`.
pub(super) fn out_or_default(out: Option<&Path>, name: impl FnOnce() -> String) -> PathBuf {
    out.map_or_else(|| PathBuf::from("outputs").join(name()), Path::to_path_buf)
}

/// A scenario file's stem, the name of its outputs (`run` without one).
pub(super) fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "run".to_string())
}

/// What a command did: where its outputs are and what to print.
#[derive(Clone, Debug)]
pub struct Finished {
    /// The output directory written.
    pub out: PathBuf,
    /// The tables and messages for standard output.
    pub stdout: String,
}

/// One scenario of a run, comparison or sweep.
#[derive(Clone, Debug)]
pub struct Arm {
    /// Subdirectory and `plan` column.
    pub name: String,
    /// `baseline` or `plan`.
    pub role: &'static str,
    /// The file it was read from, for the manifest.
    pub scenario_path: PathBuf,
    /// For a sweep, the value of each swept key for this arm, as written; empty
    /// otherwise.
    pub swept_values: Vec<String>,
    /// The scenario as loaded.
    pub loaded: LoadedScenario,
}

/// The results of the arms: replications `0..N` (or a shard's share),
/// the same indices in every arm (fewer when `interrupted`).
struct Executed {
    /// Ctrl-C stopped the run: `results` hold the replications that finished.
    interrupted: bool,
    results: Vec<Vec<ReplicationResult>>,
    prepared: Vec<Prepared>,
    threads: usize,
    shard: Option<ShardRecord>,
    precision: Option<PrecisionRecord>,
    /// With `uncertainty.keep = "calibrated"`: what found each
    /// replication's kept draw, shared by every arm.
    matcher: Option<Arc<Matcher>>,
}

/// The one place replications are run for these commands: the results, and
/// whether Ctrl-C stopped them early (then only the finished ones).
fn simulate(
    prepared: &Prepared,
    replications: &[u32],
    threads: usize,
    progress: Progress,
    settings: &Settings,
) -> Result<(Vec<ReplicationResult>, bool), ExperimentError> {
    match &settings.cancel {
        Some(cancel) => {
            let done = super::run_replications_interruptible(
                prepared,
                replications,
                threads,
                progress,
                cancel,
            )?;
            Ok((done.results, done.interrupted))
        }
        None => Ok((
            super::run_replications(prepared, replications, threads, progress)?,
            false,
        )),
    }
}

/// The error for a run stopped by Ctrl-C with nothing written.
fn interrupted(out: &Path) -> ExperimentError {
    ExperimentError::Interrupted(format!(
        "interrupted: nothing was written to {}",
        out.display()
    ))
}

/// What the check before a run found: its warnings, and each
/// replication's event budget.
struct Preflight {
    warnings: Vec<Warning>,
    budget: EventBudget,
}

/// Before anything runs: refuses a run too large for memory or time, and
/// warns (a notice now, and returned for run.json and the reports) about
/// services whose offered load is near or above capacity. `plan` is the
/// scenario's folder or stem, `scenario` how a warning names it.
fn preflight(
    plan: &str,
    scenario: &str,
    loaded: &LoadedScenario,
    settings: &Settings,
) -> Result<Preflight, ExperimentError> {
    use super::check::{expected_events, offered_load, size_limits};
    let check = offered_load(&loaded.scenario);
    // `--precision` may go up to its most replications: the results of
    // those are what must fit.
    let most = settings
        .precision
        .as_ref()
        .map_or(0, |p| p.max_replications);
    let sized = if most > loaded.scenario.replications {
        let mut sc = loaded.scenario.clone();
        sc.replications = most;
        std::borrow::Cow::Owned(sc)
    } else {
        std::borrow::Cow::Borrowed(&loaded.scenario)
    };
    size_limits(&sized, &check).map_err(|t| refused(loaded, settings, t.key, &t.message))?;
    let warnings: Vec<Warning> = check
        .services
        .iter()
        .filter_map(|s| Warning::of(plan, scenario, s))
        .collect();
    for w in &warnings {
        settings.notices.send(Notice::Warning(w.clone()));
    }
    Ok(Preflight {
        warnings,
        budget: EventBudget::new(expected_events(&loaded.scenario, &check)),
    })
}

/// A run refused before starting, located at the key to change: its line
/// and column in the file or `--set`, or the option that set it.
pub(crate) fn refused(
    loaded: &LoadedScenario,
    settings: &Settings,
    key: &str,
    message: &str,
) -> ExperimentError {
    let text = format!("run refused before starting: {message}");
    if key == "scenario.replications" {
        let option = if settings.precision.is_some() {
            Some("--max-replications")
        } else {
            settings.replications.map(|_| "--replications")
        };
        if let Some(option) = option {
            return ExperimentError::TooLarge(format!("error: {option}: {text}"));
        }
    }
    ExperimentError::TooLarge(
        loaded
            .doc
            .error_at_rate(&loaded.scenario, ErrorKind::InvalidValue, key, text)
            .to_string(),
    )
}

/// Most plans (combinations of values) in one sweep. Each plan writes a
/// run directory with its report and charts, and every plan's results are
/// kept until the sweep's table is written; a sweep of more is a mistake in
/// its arrays (three keys of 100 values are a million plans).
pub const MAX_SWEEP_PLANS: u64 = 1_000;

/// Refuses, before anything is built, a comparison or sweep of `arms`
/// scenarios (the baseline included) whose results together pass
/// [`MAX_RESULTS_BYTES`](super::check::MAX_RESULTS_BYTES).
fn check_total_results(
    arms: u64,
    loaded: &LoadedScenario,
    settings: &Settings,
) -> Result<(), ExperimentError> {
    use super::check::{MAX_RESULTS_BYTES, result_bytes_per_replication};
    let sc = &loaded.scenario;
    let replications = settings
        .precision
        .as_ref()
        .map_or(sc.replications, |p| p.max_replications.max(sc.replications));
    let per_scenario = result_bytes_per_replication(sc) * f64::from(replications);
    let total = per_scenario * arms as f64;
    if total > MAX_RESULTS_BYTES {
        return Err(refused(
            loaded,
            settings,
            "scenario.replications",
            &format!(
                "{} scenarios x {} replications keep about {} GB of results; the most is {:.1} \
                 GB: run at most {} replications, or fewer plans",
                arms,
                replications,
                human_fixed(total / 1e9, 1),
                MAX_RESULTS_BYTES / 1e9,
                (MAX_RESULTS_BYTES / (result_bytes_per_replication(sc) * arms as f64)).floor()
            ),
        ));
    }
    Ok(())
}

/// Runs `arms`, each with its event budget (`budgets`, in the same order).
fn execute(
    arms: &[Arm],
    budgets: &[EventBudget],
    settings: &Settings,
) -> Result<Executed, ExperimentError> {
    let threads = resolve_threads(settings.threads);
    let judge = judge_of(arms, settings, threads)?;
    let prepared: Vec<Prepared> = arms
        .iter()
        .zip(budgets)
        .enumerate()
        .map(|(i, (a, &budget))| {
            let p = settings.prepare(a.loaded.scenario.clone(), budget);
            let p = match &a.loaded.uncertainty {
                Some(u) => p.with_draws(Arc::clone(u) as Arc<dyn crate::model::ScenarioDraws>),
                None => p,
            };
            match &judge {
                Some((m, judged_arm)) => {
                    // A plan with no uncertain values still runs each
                    // replication with its kept draw's noise seed.
                    let p = match &a.loaded.uncertainty {
                        Some(_) => p,
                        None => p
                            .with_draws(Arc::new(super::kept::Plain(a.loaded.scenario.clone()))
                                as Arc<dyn crate::model::ScenarioDraws>),
                    };
                    p.with_kept(
                        Arc::clone(m) as Arc<dyn crate::model::kept::KeptDraws>,
                        *judged_arm == Some(i),
                    )
                }
                None => p,
            }
        })
        .collect();
    let matcher = judge.map(|(m, _)| m);
    let total = arms.first().map_or(0, |a| a.loaded.scenario.replications);
    let progress = settings.progress();
    if let Some(rule) = &settings.precision {
        let ranges = arms.iter().any(|a| a.loaded.uncertainty.is_some());
        let (results, record) = run_to_precision(prepared.len(), rule, ranges, |arm, reps| {
            match simulate(&prepared[arm], reps, threads, progress, settings)? {
                (results, false) => Ok(results),
                (_, true) => Err(ExperimentError::Interrupted(
                    "interrupted: nothing was written (a --precision run keeps no partial \
                     results)"
                        .into(),
                )),
            }
        })?;
        return Ok(Executed {
            interrupted: false,
            results,
            prepared,
            threads,
            shard: None,
            precision: Some(record),
            matcher,
        });
    }
    let (indices, shard) = match settings.shard {
        Some(s) => (s.replications(total), Some(s.record(total))),
        None => ((0..total).collect(), None),
    };
    let mut results = Vec::with_capacity(prepared.len());
    let mut interrupted = false;
    for p in &prepared {
        let (r, stopped) = simulate(p, &indices, threads, progress, settings)?;
        results.push(r);
        if stopped {
            interrupted = true;
            break;
        }
    }
    Ok(Executed {
        interrupted,
        results,
        prepared,
        threads,
        shard,
        precision: None,
        matcher,
    })
}

/// The matcher of a run's judged scenario, and the arm that is the judged
/// scenario itself, if one is.
type Judge = (Arc<Matcher>, Option<usize>);

/// With `uncertainty.keep = "calibrated"` on the first arm (the run, or a
/// comparison's or sweep's baseline): the matcher of its judged scenario
/// (`docs/model.md`, "Keeping only the draws the calibration allows"),
/// shared by every arm, and which arm is the judged scenario itself, if
/// one is (its result of a kept draw is then its replication's).
fn judge_of(
    arms: &[Arm],
    settings: &Settings,
    threads: usize,
) -> Result<Option<Judge>, ExperimentError> {
    let Some(first) = arms.first() else {
        return Ok(None);
    };
    let (Some(rule), Some(judged)) = (first.loaded.keep, &first.loaded.judged) else {
        return Ok(None);
    };
    let sc = &first.loaded.scenario;
    let (loaded, name) = match judged {
        scenario::Judged::Set => (None, "the run's own scenario (its --set)".to_string()),
        scenario::Judged::File(p) => {
            let same_file =
                scenario::file_identity(p) == scenario::file_identity(&first.loaded.path);
            if same_file && !first.loaded.doc.has_sets() {
                (None, p.display().to_string())
            } else {
                // The judged file may be the sweep file itself.
                let own = scenario::load_unswept(
                    p,
                    &[
                        format!("scenario.seed={}", sc.seed),
                        format!("scenario.replications={}", sc.replications),
                    ],
                )
                .map_err(|e| {
                    ExperimentError::Usage(format!(
                        "{e}\n(in {}: the file whose `[uncertainty]` judges the drawn worlds \
                         (`uncertainty.keep`) is judged on its own, without the files that \
                         extend it, so it must load by itself)",
                        p.display()
                    ))
                })?;
                let own = (own.sha256 != first.loaded.sha256).then_some(own);
                (own, p.display().to_string())
            }
        }
    };
    let (judged_loaded, judged_arm) = match &loaded {
        Some(l) => (l, None),
        None => (&first.loaded, Some(0)),
    };
    if judged_loaded.uncertainty.is_none() || judged_loaded.calibration.is_empty() {
        let missing = if judged_loaded.uncertainty.is_none() {
            "uncertain values to draw"
        } else {
            "`[[calibration]]` figures to judge the draws by"
        };
        return Err(judged_loaded
            .doc
            .error_at_key(
                scenario::ErrorKind::InvalidValue,
                "uncertainty.keep",
                format!(
                    "`keep = \"calibrated\"` keeps the drawn worlds consistent with the \
                     calibration figures, but the scenario it judges has no {missing}: write \
                     `keep = \"all\"` or remove the table"
                ),
            )
            .into());
    }
    let Some(draws) = &judged_loaded.uncertainty else {
        return Ok(None);
    };
    let matcher = Matcher::new(judged_loaded, draws, rule, name, settings, threads)?;
    Ok(Some((Arc::new(matcher), judged_arm)))
}

/// The manifest of one scenario's run directory: `arm`, the `index`-th
/// scenario of `executed`.
fn run_manifest(
    arm: &Arm,
    index: usize,
    executed: &Executed,
    replications: u32,
    started: Instant,
    settings: &Settings,
    warnings: Vec<Warning>,
) -> RunManifest {
    let prepared = &executed.prepared[index];
    RunManifest {
        overloaded_draws: crate::report::overloaded_draws(&executed.results[index]),
        kept_draws: executed.matcher.as_ref().map(|m| {
            m.record(
                executed.results[index]
                    .iter()
                    .filter_map(|r| r.kept.as_ref().map(|k| (r.replication, k))),
            )
        }),
        shard: executed.shard.clone(),
        precision: executed.precision.clone(),
        warnings,
        ..manifest_of(
            &arm.scenario_path,
            &arm.loaded,
            prepared,
            replications,
            executed.threads,
            started,
            settings,
        )
    }
}

/// The provenance every run directory records (`run`, each arm of
/// `compare`/`sweep`, `warmup`): the one place a manifest is filled in.
pub(crate) fn manifest_of(
    path: &Path,
    loaded: &LoadedScenario,
    prepared: &Prepared,
    replications: u32,
    threads: usize,
    started: Instant,
    settings: &Settings,
) -> RunManifest {
    let sc = &loaded.scenario;
    let run_started = std::time::SystemTime::now()
        .checked_sub(started.elapsed())
        .unwrap_or(std::time::UNIX_EPOCH);
    RunManifest {
        software_version: env!("CARGO_PKG_VERSION").to_string(),
        git_commit: RunManifest::build_commit(),
        rustc_version: RunManifest::build_rustc(),
        scenario_path: path.display().to_string(),
        scenario_files: loaded
            .files
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
        run_started_utc: crate::report::utc_timestamp(run_started),
        machine: RunManifest::this_machine(),
        machine_cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        scenario_name: sc.name.clone(),
        resolved_toml: loaded.resolved_toml.clone(),
        sha256: loaded.sha256.clone(),
        seed: sc.seed,
        replications,
        threads,
        generator: super::GENERATOR.to_string(),
        stream_allocation: super::STREAM_ALLOCATION.to_string(),
        warm_up_hours: sc.warm_up_hours,
        horizon_hours: sc.horizon_hours,
        start_date: sc.start_date.to_string(),
        first_day_date: prepared.first_day().to_string(),
        wall_time_seconds: started.elapsed().as_secs_f64(),
        command_line: settings.command_line.clone(),
        swept: Vec::new(),
        shard: None,
        precision: None,
        merged_from: Vec::new(),
        warnings: Vec::new(),
        files: Default::default(),
        scenario_facts: Some(super::facts::scenario_facts(loaded, prepared)),
        overloaded_draws: Default::default(),
        kept_draws: None,
    }
}

/// Replications of the run: those used under `--precision`, else the
/// scenario's (a shard records the total, and its share in `shard`).
fn replications_of(arms: &[Arm], executed: &Executed) -> u32 {
    match &executed.precision {
        Some(p) => p.replications_used,
        None => arms.first().map_or(0, |a| a.loaded.scenario.replications),
    }
}

/// A failure to claim or write `out`; an interrupted write is
/// [`ExperimentError::Interrupted`] (exit 130).
pub(crate) fn io_error(out: &Path) -> impl Fn(std::io::Error) -> ExperimentError + '_ {
    move |source| {
        if report::is_interrupted(&source) {
            ExperimentError::Interrupted(format!(
                "interrupted while writing the outputs: nothing was written to {} (what was \
                 there stays as it was)",
                out.display()
            ))
        } else {
            ExperimentError::Io {
                context: format!("could not write the outputs to {}", out.display()),
                source,
            }
        }
    }
}

/// Claims the output directory before anything runs (see
/// [`report::OutputDir`]): another run writing it, or a directory that is
/// not patientflow's without `--force`, fails now rather than after the run.
pub(crate) fn claim_out(
    out: &Path,
    force: bool,
    notices: &Notices,
) -> Result<report::OutputDir, ExperimentError> {
    report::OutputDir::claim(out, force)
        .map(|dir| dir.with_notices(notices.clone()))
        .map_err(io_error(out))
}

/// An analysis's (`warmup`, `backtest`) offered load, counted before
/// anything is allocated; a run too large is [`refused`].
pub(super) fn sized_analysis(
    loaded: &LoadedScenario,
    settings: &Settings,
) -> Result<super::check::Check, ExperimentError> {
    let check = super::check::offered_load(&loaded.scenario);
    super::check::size_limits(&loaded.scenario, &check)
        .map_err(|t| refused(loaded, settings, t.key, &t.message))?;
    Ok(check)
}

/// Claims an analysis's output directory: `out`, else
/// `outputs/STEM-kind/` (STEM being `path`'s file stem). The path and the
/// claimed directory.
pub(super) fn claim_analysis_out(
    out: Option<&Path>,
    path: &Path,
    kind: &str,
    settings: &Settings,
) -> Result<(PathBuf, report::OutputDir), ExperimentError> {
    let out = out_or_default(out, || format!("{}-{kind}", file_stem(path)));
    let out_dir = claim_out(&out, settings.force, &settings.notices)?;
    Ok((out, out_dir))
}

/// Writes an analysis's (`warmup`, `backtest`) `files` and then its
/// `run.json` (`manifest`) into `out_dir` (at `out`), all or nothing.
pub(super) fn write_analysis(
    out_dir: &mut report::OutputDir,
    out: &Path,
    mut files: Vec<(String, String)>,
    manifest: &RunManifest,
    settings: &Settings,
) -> Result<(), ExperimentError> {
    let io = io_error(out);
    files.push((
        "run.json".to_string(),
        report::render_run_json(manifest).map_err(&io)?,
    ));
    out_dir.write(&files, &|| settings.cancelled()).map_err(io)
}

/// `patientflow run`: one scenario.
pub fn run_scenario(
    path: &Path,
    out: Option<&Path>,
    settings: &Settings,
) -> Result<Finished, ExperimentError> {
    settings.check()?;
    let started = Instant::now();
    let loaded = scenario::load(path, &settings.overrides())?;
    let out = out_or_default(out, || file_stem(path));
    let name = file_stem(path);
    let Preflight { warnings, budget } =
        preflight(&name, &path.display().to_string(), &loaded, settings)?;
    let mut out_dir = claim_out(&out, settings.force, &settings.notices)?;
    announce(&loaded, settings);
    let arm = Arm {
        name,
        role: "baseline",
        scenario_path: path.to_path_buf(),
        swept_values: Vec::new(),
        loaded,
    };
    let arms = [arm];
    let executed = execute(&arms, &[budget], settings)?;
    let replications = replications_of(&arms, &executed);
    let manifest = run_manifest(
        &arms[0],
        0,
        &executed,
        replications,
        started,
        settings,
        warnings,
    );
    let results = &executed.results[0];
    // Ctrl-C after the last replication but before writing still counts.
    let interrupted_run = executed.interrupted || settings.cancelled();
    let keep = interrupted_run && settings.keep_partial && !results.is_empty();
    if interrupted_run && !keep {
        return Err(ExperimentError::Interrupted(format!(
            "interrupted: {} of {} replications had finished; nothing was written to {}{}",
            results.len(),
            replications,
            out.display(),
            if settings.keep_partial {
                ""
            } else {
                " (--keep-partial writes the finished replications, marked as partial)"
            }
        )));
    }
    let options = report::WriteOptions {
        force: settings.force,
        partial: keep.then(|| report::Partial {
            requested: replications,
            completed: results.iter().map(|r| r.replication).collect(),
        }),
    };
    // A complete run's write stops at an interrupt; a partial one (written
    // because of one) at the next.
    let seen = crate::signals::received();
    let stop = || {
        if keep {
            crate::signals::received() > seen
        } else {
            settings.cancelled()
        }
    };
    let files = report::render_run_files_until(
        results,
        executed.prepared[0].first_day(),
        &manifest,
        &options,
        &stop,
    )
    .map_err(io_error(&out))?;
    out_dir.write(&files, &stop).map_err(io_error(&out))?;
    if let Some(p) = &options.partial {
        return Err(ExperimentError::Interrupted(format!(
            "interrupted: PARTIAL results of {} of {} replications written to {} (marked in \
             run.json and {})",
            p.completed.len(),
            p.requested,
            out.display(),
            report::PARTIAL_FILE
        )));
    }
    let mut stdout = String::new();
    if let Some(shard) = &executed.shard {
        stdout.push_str(&shard_note(shard, replications));
    } else {
        stdout.push_str(&report::format_summary_table(results, &manifest.warnings));
        if let Some(kept) = report::uncertainty::kept_sentence(&manifest) {
            stdout.push_str(&format!("{kept}\n"));
        }
        if let Some(overloaded) = report::uncertainty::overloaded_sentence(&manifest) {
            stdout.push_str(&format!("{} {overloaded}\n", report::TERMINAL_MARK));
        }
        stdout.push('\n');
    }
    if let Some(p) = &executed.precision {
        stdout.push_str(&precision_note(p));
    }
    stdout.push_str(&format!("Outputs written to {}\n", out.display()));
    Ok(Finished { out, stdout })
}

/// Tells that an analysis (`warmup`, `backtest`) of `sc` starts:
/// `{head} ({N replications}{detail}, seed S, {T threads})`. The threads
/// it runs on.
pub(super) fn announce_analysis(
    settings: &Settings,
    sc: &crate::scenario::Scenario,
    head: &str,
    detail: &str,
) -> usize {
    let threads = resolve_threads(settings.threads);
    settings.notices.send(Notice::Starting(format!(
        "{head} ({}{detail}, seed {}, {})",
        crate::report::prose::counted(u64::from(sc.replications), "replication"),
        sc.seed,
        crate::report::prose::counted(threads as u64, "thread")
    )));
    threads
}

fn announce(loaded: &LoadedScenario, settings: &Settings) {
    let sc = &loaded.scenario;
    let how_many = match &settings.precision {
        Some(p) => format!(
            "replications until the 95% CI is within {} of the mean, at most {}",
            p.relative_half_width, p.max_replications
        ),
        None => crate::report::prose::counted(u64::from(sc.replications), "replication"),
    };
    let shard = settings
        .shard
        .map(|s| format!(", shard {s}"))
        .unwrap_or_default();
    settings.notices.send(Notice::Starting(format!(
        "patientflow {}: {} ({how_many}, seed {}{shard}, {})",
        env!("CARGO_PKG_VERSION"),
        // One line: a line break in the name is a space here.
        crate::report::escape::clean(&sc.name),
        sc.seed,
        crate::report::prose::counted(resolve_threads(settings.threads) as u64, "thread")
    )));
}

fn shard_note(shard: &ShardRecord, total: u32) -> String {
    format!(
        "Shard {}/{}: {} of {} replications. Combine the shards with `patientflow merge`.\n",
        shard.index,
        shard.count,
        shard.replications.len(),
        total
    )
}

fn precision_note(p: &PrecisionRecord) -> String {
    let mut note = format!(
        "Replications: {} ({}; {} simulated). Target: 95% CI half-width within {} of the mean \
         for {}; worst at {}: {:.4}.\n",
        p.replications_used,
        p.stopped_because,
        p.replications_simulated,
        p.target_relative_half_width,
        p.metrics.join(", "),
        p.replications_used,
        p.worst_relative_half_width
    );
    if let Some(w) = p.worst_range_half_width {
        let fewest = super::precision::fewest_bounding_a_range();
        let worst = if w.is_finite() {
            format!("{w:.4}")
        } else if (p.replications_used as usize) < fewest {
            format!(
                "not yet bounded (the order statistics bound a range's ends from {fewest} \
                 replications)"
            )
        } else {
            "infinite (a range of width 0 whose ends' 95% CI is not)".to_string()
        };
        note.push_str(&format!(
            "Plausible ranges (uncertain values): the 95% CI of each range's 10th and 90th \
             percentile within {} of the range's width, for the same metrics and each plan's \
             effect on them; worst at {}: {worst}.\n",
            p.target_relative_half_width, p.replications_used
        ));
    }
    note
}

/// Most text in the scenario files of one comparison, every `extends` chain
/// counted (each scenario's is at most `MAX_FILE_BYTES`): 64 MiB.
pub const MAX_COMPARISON_TEXT_BYTES: u64 = 64 * 1024 * 1024;

/// The bytes of the files a scenario was read from (its `extends` chain).
fn scenario_text_bytes(loaded: &LoadedScenario) -> u64 {
    loaded
        .files
        .iter()
        .map(|f| std::fs::metadata(f).map_or(0, |m| m.len()))
        .sum()
}

/// `patientflow compare`: a baseline and plans, paired.
pub fn compare(
    baseline: &Path,
    plans: &[PathBuf],
    out: Option<&Path>,
    settings: &Settings,
) -> Result<Finished, ExperimentError> {
    settings.check()?;
    let started = Instant::now();
    let overrides = settings.overrides();
    let base = scenario::load(baseline, &overrides)?;
    // Every plan runs with the baseline's seed and replications, whatever
    // its file says: pairing needs the same patients and indices.
    let mut plan_sets = overrides.clone();
    plan_sets.push(format!("scenario.seed={}", base.scenario.seed));
    plan_sets.push(format!(
        "scenario.replications={}",
        base.scenario.replications
    ));
    if plans.len() as u64 > MAX_SWEEP_PLANS {
        return Err(ExperimentError::TooLarge(format!(
            "error: run refused before starting: {} plans; a comparison takes at most \
             {MAX_SWEEP_PLANS} (each writes a run directory and keeps its results)",
            plans.len()
        )));
    }
    // Every scenario's documents stay in memory until the comparison is
    // written: their text together is bounded as one file's is, many times.
    let mut input_bytes = scenario_text_bytes(&base);
    let mut arms = vec![Arm {
        name: file_stem(baseline),
        role: "baseline",
        scenario_path: baseline.to_path_buf(),
        swept_values: Vec::new(),
        loaded: base,
    }];
    for p in plans {
        let name = file_stem(p);
        // The folder of its outputs: `.` or `..` would be the comparison's
        // own folder or its parent.
        if name == "." || name == ".." {
            return Err(ExperimentError::Usage(format!(
                "{}: a plan's file name (less `.toml`) names the folder of its outputs, and \
                 `{name}` cannot: rename the file",
                p.display()
            )));
        }
        if arms.iter().any(|a| a.name == name) {
            return Err(ExperimentError::Usage(format!(
                "two scenarios are named `{name}` (their outputs would share a directory): \
                 give them different file names"
            )));
        }
        let mut loaded = scenario::load(p, &plan_sets)?;
        if draws_not_shared(&arms[0].loaded, &loaded).is_some()
            && let Some(parent) = rebase_target(&arms[0].loaded, &loaded)
        {
            let rebased = scenario::load_rebased(p, &plan_sets, &parent, baseline)?;
            // The certain file itself, given as a plan, extends nothing to
            // replace: it stays as it is, and is refused below.
            if draws_not_shared(&arms[0].loaded, &rebased).is_none() {
                loaded = rebased;
                settings.notices.send(crate::notice::Notice::Rebased {
                    plan: p.clone(),
                    from: parent,
                    to: baseline.to_path_buf(),
                });
            }
        }
        input_bytes += scenario_text_bytes(&loaded);
        if input_bytes > MAX_COMPARISON_TEXT_BYTES {
            return Err(ExperimentError::TooLarge(format!(
                "error: run refused before starting: the scenario files of this comparison \
                 (with all they extend) hold more than {} MiB of text together, at {}; the most \
                 is {} MiB",
                MAX_COMPARISON_TEXT_BYTES / (1024 * 1024),
                p.display(),
                MAX_COMPARISON_TEXT_BYTES / (1024 * 1024)
            )));
        }
        if let Some(u) = unpaired(&arms[0].loaded.scenario, &loaded.scenario) {
            return Err(ExperimentError::Usage(u.message(
                &p.display().to_string(),
                &baseline.display().to_string(),
            )));
        }
        if let Some(why) = draws_not_shared(&arms[0].loaded, &loaded) {
            return Err(ExperimentError::Usage(format!(
                "error: {}: {why}",
                p.display()
            )));
        }
        if let Some(why) = judged_apart(&arms[0].loaded, &loaded) {
            return Err(ExperimentError::Usage(format!(
                "error: {}: {why}",
                p.display()
            )));
        }
        arms.push(Arm {
            name,
            role: "plan",
            scenario_path: p.clone(),
            swept_values: Vec::new(),
            loaded,
        });
    }
    let out = out_or_default(out, || format!("compare-{}", file_stem(baseline)));
    check_total_results(arms.len() as u64, &arms[0].loaded, settings)?;
    announce(&arms[0].loaded, settings);
    finish_experiment("compare", None, Vec::new(), arms, &out, started, settings)
}

/// Why `plan` cannot be compared with `base`, a baseline with uncertain
/// values, when its `extends` chain does not include the baseline's file
/// and it gives none of the baseline's uncertain values alike (same key,
/// kind, interval and sample, as when both extend one uncertain file): its
/// values would not be the baseline's draws (`docs/model.md`, "Parameter
/// uncertainty": a plan and its baseline share each replication's draws),
/// so each replication's difference would set a drawn world against
/// another. `None` when it can.
fn draws_not_shared(base: &LoadedScenario, plan: &LoadedScenario) -> Option<String> {
    let base_values = base.uncertainty.as_ref()?.record().recorded();
    let n = base_values.len();
    let base_file = scenario::file_identity(&base.path);
    if plan
        .files
        .iter()
        .any(|f| scenario::file_identity(f) == base_file)
    {
        return None;
    }
    if let Some(u) = &plan.uncertainty {
        let plan_values = u.record().recorded();
        if base_values.iter().any(|b| plan_values.contains(b)) {
            return None;
        }
    }
    Some(format!(
        "the baseline {} gives {n} value{} as uncertain, and this plan does not extend it, so \
         it would not share the baseline's draws of them: each replication would set the \
         baseline in a drawn world against the plan at its own values, which is not the \
         plan's effect; make the plan extend the \
         baseline's file (`extends = \"...\"`), or compare it with the baseline it extends",
        base.path.display(),
        if n == 1 { "" } else { "s" }
    ))
}

/// Why `plan` would not run in `base`'s kept worlds (`docs/model.md`,
/// "Keeping only the draws the calibration allows"): one keeps every draw
/// and the other only the calibrated ones, or they are judged on different
/// files. `None` when they share the rule's worlds.
fn judged_apart(base: &LoadedScenario, plan: &LoadedScenario) -> Option<String> {
    // None: no rule; Some(None): judged on the run itself (`--set`);
    // Some(Some(file)): judged on that file.
    let identity = |l: &LoadedScenario| match &l.judged {
        None => None,
        Some(scenario::Judged::Set) => Some(None),
        Some(scenario::Judged::File(p)) => Some(Some(scenario::file_identity(p))),
    };
    let (b, p) = (identity(base), identity(plan));
    // A baseline without uncertain values and a plan without the rule draw
    // nothing to judge; a baseline's rule without them is refused at its key.
    if b == p || (base.uncertainty.is_none() && p.is_none()) {
        return None;
    }
    let said = |l: &LoadedScenario, who: &str| match &l.judged {
        None if l.uncertainty.is_none() => format!("{who} has no uncertain values"),
        None => format!("{who} keeps every draw of its uncertain values"),
        Some(scenario::Judged::Set) => format!("{who} keeps the draws its `--set` rule allows"),
        Some(scenario::Judged::File(f)) => format!(
            "{who} keeps the draws consistent with the calibration of {}",
            f.display()
        ),
    };
    let remedy = if base.uncertainty.is_none() {
        "compare the plan with the scenario it is judged on as the baseline"
    } else {
        "let the plan inherit the baseline's `[uncertainty]` table (write none of its keys)"
    };
    Some(format!(
        "{} and {}, so the two would run in different worlds and their difference would not \
         be the plan's effect; {remedy}",
        said(base, "the baseline"),
        said(plan, "this plan")
    ))
}

/// The file `plan` may be rebased from (`docs/model.md`, "Parameter
/// uncertainty"): the file `base` itself extends, when `plan`'s chain
/// includes it; `None` otherwise.
fn rebase_target(base: &LoadedScenario, plan: &LoadedScenario) -> Option<PathBuf> {
    let parent = base.files.get(1)?;
    let wanted = scenario::file_identity(parent);
    plan.files
        .iter()
        .any(|f| scenario::file_identity(f) == wanted)
        .then(|| parent.clone())
}

/// Keys a sweep may not vary: they are how the plans are paired (the
/// seed and replications, and [`PAIRING_KEYS`]).
fn unsweepable(key: &str) -> bool {
    ["scenario.seed", "scenario.replications"].contains(&key)
        || PAIRING_KEYS.contains(&key)
        || key == "uncertainty"
        || key.starts_with("uncertainty.")
}

/// `patientflow sweep`: the cartesian product of a sweep file's values,
/// each compared with the unswept scenario.
pub fn sweep(
    path: &Path,
    out: Option<&Path>,
    settings: &Settings,
) -> Result<Finished, ExperimentError> {
    settings.check()?;
    let started = Instant::now();
    let (keys, arms) = sweep_plans(path, ScenarioDoc::read(path)?, settings)?;
    let out = out_or_default(out, || file_stem(path));
    settings.notices.send(Notice::Starting(format!(
        "sweep: {} plans ({}) against the unswept scenario",
        arms.len() - 1,
        keys.join(" x ")
    )));
    announce(&arms[0].loaded, settings);
    finish_experiment(
        "sweep",
        Some(path.display().to_string()),
        keys,
        arms,
        &out,
        started,
        settings,
    )
}

/// `key` when it is a dated key (`pru.treated_at_home`) that the
/// `[[rate_changes]]` of `sc` set on every day of the statistics window;
/// `None` otherwise.
fn overridden_in_window(sc: &scenario::Scenario, key: &str) -> Option<&'static str> {
    use scenario::dated::{DatedKey, value_on};
    if sc.rate_changes.is_empty() {
        return None;
    }
    let first = (sc.warm_up_hours / 24.0).floor() as i64;
    let last = ((sc.warm_up_hours + sc.horizon_hours) / 24.0).ceil() as i64;
    DatedKey::ALL
        .iter()
        .filter(|d| d.key() == key)
        .find(|&&d| {
            (first..last)
                .all(|day| value_on(&sc.rate_changes, d, sc.start_date.add_days(day)).is_some())
        })
        .map(|d| d.key())
}

/// The swept keys and the scenarios of a sweep document read from `path`:
/// the unswept baseline first, then every combination, each checked as a
/// file's values are, and the sizes counted before any is built. Nothing
/// runs. For `sweep` and the fuzz target.
pub fn sweep_plans(
    path: &Path,
    mut doc: ScenarioDoc,
    settings: &Settings,
) -> Result<(Vec<String>, Vec<Arm>), ExperimentError> {
    let entries = doc.take_table("sweep")?.ok_or_else(|| {
        ExperimentError::Usage(format!(
            "{}: no [sweep] table: a sweep file names the keys to vary, such as \
             [sweep] \"community.teams\" = [14, 16, 18]",
            path.display()
        ))
    })?;
    doc.set_all(&settings.overrides())?;
    // Validate the unswept scenario and every combination before running
    // anything: a mistake in the last combination must not waste the rest.
    let mut keys = Vec::new();
    let mut values = Vec::new();
    for e in &entries {
        if unsweepable(&e.key) {
            return Err(doc
                .error_at(
                    ErrorKind::InvalidValue,
                    e.key_origin,
                    &e.key,
                    "cannot be swept: every plan of a sweep is paired with the unswept \
                     scenario, so it runs with the same seed, replications, start date, \
                     warm-up and horizon (set them in the file, or with --seed, \
                     --replications and --set for every plan)"
                        .to_string(),
                )
                .into());
        }
        let items = match e.value.array_items() {
            Some(items) if !items.is_empty() => items.to_vec(),
            Some(_) => {
                return Err(doc
                    .error_at(
                        ErrorKind::InvalidValue,
                        e.value.origin(),
                        &e.key,
                        "expected at least one value to sweep".to_string(),
                    )
                    .into());
            }
            None => {
                return Err(doc
                    .error_at(
                        ErrorKind::WrongType,
                        e.value.origin(),
                        &e.key,
                        format!(
                            "expected an array of values to sweep, such as [14, 16], found {}",
                            scenario::truncate_token(&e.value.to_toml_value())
                        ),
                    )
                    .into());
            }
        };
        keys.push(e.key.clone());
        values.push(items);
    }
    if keys.is_empty() {
        return Err(ExperimentError::Usage(format!(
            "{}: the [sweep] table names no keys to vary",
            path.display()
        )));
    }
    // Two keys where one holds the other (`pru` and `pru.cars`) would set
    // the same value twice, and one would silently win.
    let parts: Vec<Option<Vec<String>>> = keys
        .iter()
        .map(|k| {
            split_key(k)
                .ok()
                .map(|p| p.into_iter().map(|(n, _)| n).collect())
        })
        .collect();
    for (j, later) in parts.iter().enumerate() {
        for (i, earlier) in parts[..j].iter().enumerate() {
            let (Some(a), Some(b)) = (earlier, later) else {
                continue;
            };
            if a.starts_with(b) || b.starts_with(a) {
                return Err(doc
                    .error_at(
                        ErrorKind::InvalidValue,
                        entries[j].key_origin,
                        &keys[j],
                        format!(
                            "overlaps the swept key `{}`: one is inside the other, so the two \
                             would set the same value; sweep only one of them",
                            scenario::truncate_token(&keys[i])
                        ),
                    )
                    .into());
            }
        }
    }
    // Counted before anything is built: each plan is a scenario, a run
    // directory and results kept until the end.
    let plans = values
        .iter()
        .fold(1u64, |n, v| n.saturating_mul(v.len() as u64));
    if plans > MAX_SWEEP_PLANS {
        let (widest, _) = values
            .iter()
            .enumerate()
            .max_by_key(|(_, v)| v.len())
            .unwrap_or((0, &values[0]));
        let sizes: Vec<String> = values.iter().map(|v| v.len().to_string()).collect();
        return Err(ExperimentError::TooLarge(
            doc.error_at(
                ErrorKind::InvalidValue,
                entries[widest].value.origin(),
                &keys[widest],
                format!(
                    "sweep refused before starting: {} plans ({} values); the most is {}: \
                     sweep fewer values",
                    prose_count(plans),
                    sizes.join(" x "),
                    prose_count(MAX_SWEEP_PLANS)
                ),
            )
            .to_string(),
        ));
    }
    let base_scenario = doc.to_parts()?;
    // A swept key that a dated change sets on every day of the window
    // would change nothing in the results.
    for (e, key) in entries.iter().zip(&keys) {
        if let Some(dated) = overridden_in_window(&base_scenario.scenario, key) {
            return Err(doc
                .error_at(
                    ErrorKind::InvalidValue,
                    e.key_origin,
                    key,
                    format!(
                        "cannot be swept here: `[[rate_changes]]` sets `{dated}` on every day of \
                         the statistics window, so the scenario's own value, which the sweep \
                         varies, is used on none of them; sweep `rate_changes` (whole lists), \
                         or make the change cover only part of the window"
                    ),
                )
                .into());
        }
    }
    let arm_of = |name: String, role, doc: &ScenarioDoc, with_sources, swept_values| {
        let scenario::ScenarioParts {
            scenario,
            sources,
            calibration,
            keep,
        } = with_sources;
        let resolved_toml = doc.to_toml();
        let scenario_seed = scenario.seed;
        Arm {
            name,
            role,
            scenario_path: path.to_path_buf(),
            swept_values,
            loaded: LoadedScenario {
                scenario,
                path: path.to_path_buf(),
                files: doc.files().to_vec(),
                sha256: scenario::sha256_hex(resolved_toml.as_bytes()),
                resolved_toml,
                sources,
                calibration,
                uncertainty: doc.uncertainty(scenario_seed),
                keep,
                judged: keep.and(doc.judged()),
                doc: doc.clone(),
            },
        }
    };
    let mut arms = vec![arm_of(
        "baseline".to_string(),
        "baseline",
        &doc,
        base_scenario,
        Vec::new(),
    )];
    check_total_results(plans + 1, &arms[0].loaded, settings)?;
    for combination in cartesian(&values.iter().map(Vec::len).collect::<Vec<_>>()) {
        let mut point = doc.clone();
        let mut labels = Vec::with_capacity(keys.len());
        let mut texts = Vec::with_capacity(keys.len());
        for ((e, items), &i) in entries.iter().zip(&values).zip(&combination) {
            point.set_node(&e.key, e.key_origin, items[i].clone())?;
            let text = value_text(&items[i].to_toml_value());
            labels.push(format!("{}={}", e.key, text));
            texts.push(text);
        }
        let with_sources = point.to_parts()?;
        // A swept table (`"scenario" = [{ ... }]`) could still move them.
        if let Some(u) = unpaired(&arms[0].loaded.scenario, &with_sources.scenario) {
            return Err(ExperimentError::Usage(u.message(
                &format!("{} ({})", path.display(), labels.join(", ")),
                "(the unswept scenario)",
            )));
        }
        let mut name = sanitise(&labels.join("+"));
        // A directory name stays well within every file system's 255 bytes.
        if name.len() > MAX_PLAN_NAME {
            name = format!("{}-{}", &name[..MAX_PLAN_NAME], arms.len());
        }
        if arms.iter().any(|a| a.name == name) {
            name = format!("{name}-{}", arms.len());
        }
        arms.push(arm_of(name, "plan", &point, with_sources, texts));
    }
    Ok((keys, arms))
}

/// Longest plan directory name kept from the swept values (ASCII after
/// [`sanitise`]); longer ones are cut and numbered.
const MAX_PLAN_NAME: usize = 100;

/// Every index combination of lists of the given lengths, the first list
/// varying slowest.
fn cartesian(lens: &[usize]) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new()];
    for &len in lens {
        out = out
            .into_iter()
            .flat_map(|prefix| {
                (0..len).map(move |i| {
                    let mut v = prefix.clone();
                    v.push(i);
                    v
                })
            })
            .collect();
    }
    out
}

/// A swept value as a planner would write it: strings without their TOML
/// quotes (`08:00-22:00`), everything else as in the file.
fn value_text(toml: &str) -> String {
    match toml.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        Some(inner) if !inner.contains(['\\', '"']) => inner.to_string(),
        _ => toml.to_string(),
    }
}

/// A directory name that is valid on every common file system.
fn sanitise(label: &str) -> String {
    label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '=' | '-' | '+' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Runs the arms of a comparison or sweep and writes everything.
fn finish_experiment(
    kind: &str,
    sweep_file: Option<String>,
    swept_keys: Vec<String>,
    arms: Vec<Arm>,
    out: &Path,
    started: Instant,
    settings: &Settings,
) -> Result<Finished, ExperimentError> {
    let preflights = arms
        .iter()
        .map(|arm| {
            let mut scenario = arm.scenario_path.display().to_string();
            if !arm.swept_values.is_empty() {
                let values: Vec<String> = swept_keys
                    .iter()
                    .zip(&arm.swept_values)
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                scenario = format!("{scenario} ({})", values.join(", "));
            }
            preflight(&arm.name, &scenario, &arm.loaded, settings)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let budgets: Vec<EventBudget> = preflights.iter().map(|p| p.budget).collect();
    let mut out_dir = claim_out(out, settings.force, &settings.notices)?;
    let executed = execute(&arms, &budgets, settings)?;
    if executed.interrupted || settings.cancelled() {
        return Err(interrupted(out));
    }
    let replications = replications_of(&arms, &executed);
    let runs: Vec<ArmRun> = arms
        .iter()
        .enumerate()
        .zip(&executed.results)
        .zip(&preflights)
        .map(|(((index, arm), results), preflight)| ArmRun {
            manifest: RunManifest {
                swept: swept_keys
                    .iter()
                    .zip(&arm.swept_values)
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect(),
                ..run_manifest(
                    arm,
                    index,
                    &executed,
                    replications,
                    started,
                    settings,
                    preflight.warnings.clone(),
                )
            },
            results: results.clone(),
        })
        .collect();
    let manifest = ExperimentManifest {
        kind: kind.to_string(),
        software_version: env!("CARGO_PKG_VERSION").to_string(),
        seed: arms.first().map_or(0, |a| a.loaded.scenario.seed),
        replications,
        sweep_file,
        swept_keys,
        arms: arms
            .iter()
            .zip(&preflights)
            .map(|(a, preflight)| ArmRecord {
                warnings: preflight.warnings.clone(),
                name: a.name.clone(),
                role: a.role.to_string(),
                scenario_path: a.scenario_path.display().to_string(),
                sha256: a.loaded.sha256.clone(),
                scenario_name: a.loaded.scenario.name.clone(),
                swept_values: a.swept_values.clone(),
            })
            .collect(),
        shard: executed.shard.clone(),
        precision: executed.precision.clone(),
        merged_from: Vec::new(),
        wall_time_seconds: started.elapsed().as_secs_f64(),
        command_line: settings.command_line.clone(),
        // Filled in by write_experiment from the results, so merge gets it too.
        window_days: None,
        files: Default::default(),
    };
    write_experiment(&manifest, &runs, &mut out_dir, &|| settings.cancelled())
}

/// One scenario's run within an experiment, ready to write.
pub(crate) struct ArmRun {
    pub manifest: RunManifest,
    pub results: Vec<ReplicationResult>,
}

/// Writes a comparison or sweep directory (each scenario's run directory,
/// the comparison table unless sharded, and `experiment.json`) and returns
/// what to print. Shared by the commands and by `merge`, so a merged
/// directory is written by the same code as a single run.
pub(crate) fn write_experiment(
    manifest: &ExperimentManifest,
    runs: &[ArmRun],
    out_dir: &mut report::OutputDir,
    stop: &dyn Fn() -> bool,
) -> Result<Finished, ExperimentError> {
    let out = &out_dir.path().to_path_buf();
    let mut files = Vec::new();
    for (arm, run) in manifest.arms.iter().zip(runs) {
        let first_day =
            scenario::calendar::Date::parse(&run.manifest.first_day_date).ok_or_else(|| {
                ExperimentError::Merge(format!(
                    "{}: `{}` is not a date",
                    arm.name, run.manifest.first_day_date
                ))
            })?;
        for (file, text) in report::render_run_files_until(
            &run.results,
            first_day,
            &run.manifest,
            &report::WriteOptions::default(),
            stop,
        )
        .map_err(io_error(out))?
        {
            files.push((format!("{}/{file}", arm.name), text));
        }
    }
    // The report says "a year" only for a 365-day window: record the
    // window (the length of the baseline's daily series) for it to read.
    let mut manifest = manifest.clone();
    manifest.window_days = runs.first().map(|r| report::daily_len(&r.results) as u64);
    let manifest = &manifest;
    let mut stdout = String::new();
    if let Some(shard) = &manifest.shard {
        stdout.push_str(&shard_note(shard, manifest.replications));
    } else {
        let (Some(base), Some(base_arm)) = (runs.first(), manifest.arms.first()) else {
            return Err(ExperimentError::Usage("nothing to compare".into()));
        };
        let mut compared = Vec::with_capacity(runs.len().saturating_sub(1));
        let window = |m: &RunManifest| (m.start_date.clone(), m.warm_up_hours, m.horizon_hours);
        for (arm, run) in manifest.arms.iter().zip(runs).skip(1) {
            // Checked when the scenarios were read; again here for `merge`,
            // which reads them back from the shards' run.json files.
            if let Some(u) = unpaired_values(window(&base.manifest), window(&run.manifest)) {
                return Err(ExperimentError::Merge(u.message(
                    &format!("{}/run.json", arm.name),
                    &format!("{}/run.json", base_arm.name),
                )));
            }
            let rows = compare_results(&base.results, &run.results).map_err(|e| {
                ExperimentError::Merge(format!("{} against {}: {e}", arm.name, base_arm.name))
            })?;
            compared.push((arm, rows));
        }
        let plans: Vec<PlanRows> = compared
            .iter()
            .map(|(arm, rows)| PlanRows {
                name: &arm.name,
                swept_values: &arm.swept_values,
                rows,
                warnings: &arm.warnings,
            })
            .collect();
        files.push((
            manifest.table_file().to_string(),
            report::render_comparison_csv(&manifest.swept_keys, &plans),
        ));
        let plan_runs: Vec<(String, &RunManifest, &[ReplicationResult])> = manifest
            .arms
            .iter()
            .zip(runs)
            .skip(1)
            .map(|(a, r)| (a.name.clone(), &r.manifest, r.results.as_slice()))
            .collect();
        if let Some(text) =
            report::uncertainty::effects((&base.manifest, &base.results), &plan_runs)
        {
            files.push((
                report::uncertainty::PLAUSIBLE_EFFECTS_FILE.to_string(),
                text,
            ));
        }
        stdout.push_str(&format!("Baseline: {}\n", base_arm.name));
        stdout.push_str(&report::format_comparison_table(&plans, base.results.len()));
        // Each plan's effects by planning year (a window longer than 365 days).
        let years = report::yearly::run_years(&base.manifest);
        if !years.is_empty() {
            let effects: Vec<(&str, Vec<report::yearly::YearEffect>)> = manifest
                .arms
                .iter()
                .zip(runs)
                .skip(1)
                .map(|(arm, run)| {
                    let e = report::yearly::year_effects(&years, &base.results, &run.results);
                    (arm.name.as_str(), e)
                })
                .collect();
            let text = report::yearly::render_yearly_comparison_csv(&years, &effects);
            stdout.push_str("By planning year (yearly_comparison.csv):\n");
            for sentence in report::yearly::effect_sentences(&text) {
                stdout.push_str(&format!("  {sentence}\n"));
            }
            files.push((report::yearly::YEARLY_COMPARISON_FILE.to_string(), text));
        }
    }
    if let Some(kept) = runs
        .first()
        .and_then(|r| report::uncertainty::kept_sentence(&r.manifest))
    {
        stdout.push_str(&format!("{kept}\n"));
    }
    if let Some(p) = &manifest.precision {
        stdout.push_str(&precision_note(p));
    }
    let manifest = &report::ExperimentManifest {
        files: report::readback::checksums(&files),
        ..manifest.clone()
    };
    let experiment_json = report::render_experiment_json(manifest).map_err(io_error(out))?;
    if manifest.shard.is_none() {
        // The report is built from the texts the files will hold, so that
        // `patientflow report DIR` rebuilds it byte for byte.
        let table = files
            .iter()
            .find(|(name, _)| name == manifest.table_file())
            .map(|(_, text)| text.clone())
            .unwrap_or_default();
        let report = report::experiment_report_files(&experiment_json, &table, &files)
            .map_err(io_error(out))?;
        files.extend(report);
    }
    files.push((report::EXPERIMENT_FILE.to_string(), experiment_json));
    out_dir.write(&files, stop).map_err(io_error(out))?;
    stdout.push_str(&format!("Outputs written to {}\n", out.display()));
    Ok(Finished {
        out: out.to_path_buf(),
        stdout,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cartesian_product() {
        assert_eq!(
            cartesian(&[2, 3]),
            vec![
                vec![0, 0],
                vec![0, 1],
                vec![0, 2],
                vec![1, 0],
                vec![1, 1],
                vec![1, 2]
            ]
        );
        assert_eq!(cartesian(&[]), vec![Vec::<usize>::new()]);
        assert_eq!(value_text("\"08:00-22:00\""), "08:00-22:00");
        assert_eq!(value_text("14"), "14");
        assert_eq!(sanitise("pru.open=08:00-22:00"), "pru.open=08_00-22_00");
    }
}

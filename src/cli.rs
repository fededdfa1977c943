//! The command line: subcommands and flags, and the mapping of failures to
//! exit codes (0: done; 1: something else failed; 2: the input is wrong or
//! the run too large; 3: a plan whose demand exceeds a service's capacity,
//! or a replication past a bound: its queue, event budget or crisis limit;
//! 130: interrupted).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};

use crate::experiment::{
    self, ExperimentError, PrecisionRule, Progress, Settings, Shard, WarmupOptions,
};
use crate::model::metrics::Metric;
use crate::report;
use crate::scenario;
use crate::scenario::ScenarioError;

/// Discharge-to-community patient flow: what a capacity plan does to
/// emergency admissions and delayed transfers of care.
#[derive(Debug, Parser)]
#[command(name = "patientflow", version, about, long_about = None)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the replications of a scenario and write summary.csv,
    /// replications.csv, daily.csv, run.json and the report (report.html,
    /// report.md, charts/*.svg).
    Run(RunArgs),
    /// Run a baseline and plans with the same seed and replications and
    /// report paired differences (admissions avoided, delayed bed days
    /// saved, ...): comparison.csv and each scenario's outputs.
    Compare(CompareArgs),
    /// Run every combination of a sweep file's values, each compared with
    /// the unswept scenario: sweep.csv and each plan's outputs.
    Sweep(SweepArgs),
    /// Warm-up analysis: run from empty, write the daily series averaged
    /// over replications with Welch's moving average, suggest a warm-up by
    /// MSER-5.
    Warmup(WarmupArgs),
    /// Combine the shard directories of a --shard run into the outputs of
    /// a single run (checked: same scenario, every replication once).
    Merge(MergeArgs),
    /// Rebuild the report of an output directory from its saved files
    /// (run.json, summary.csv, daily.csv), without running anything.
    Report(ReportArgs),
    /// Offered load per service from the scenario alone (arrivals x mean
    /// time holding a place, against capacity), without running it. Exit
    /// code 3 if a queueing service is overloaded.
    Check(CheckArgs),
    /// Verify the engine against queueing theory: run the cases in
    /// scenarios/validation/ and print theory against simulation. Exit code
    /// 1 if any check fails.
    Validate(ValidateArgs),
    /// Compare observed daily counts (`date,series,value`) with the
    /// scenario's fan of daily series over its statistics window: bias,
    /// mean absolute error and the coverage of the 50%, 80% and 95% bands,
    /// in backtest.csv, backtest_daily.csv and a report.
    Backtest(BacktestArgs),
}

#[derive(Debug, clap::Args)]
pub(crate) struct BacktestArgs {
    /// The scenario file (TOML): its statistics window must cover every
    /// observed date.
    pub scenario: PathBuf,
    /// The observed file: CSV with the header `date,series,value`, one row
    /// a day a series (series names as in daily.csv).
    #[arg(long, value_name = "FILE", required = true)]
    pub observed: PathBuf,
    #[command(flatten)]
    pub common: CommonArgs,
    /// Output directory (default: outputs/STEM-backtest/, STEM being the
    /// scenario file's name without .toml).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ReportArgs {
    /// An output directory written by `patientflow run`.
    pub dir: PathBuf,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ValidateArgs {
    /// Replications for every case (default: each case file's own).
    #[arg(long, value_name = "N")]
    pub replications: Option<u32>,
    /// Worker threads (default: one per core). Results do not depend on it.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
    /// Directory of the case scenarios (default: scenarios/validation).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Do not draw progress on stderr.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, clap::Args)]
pub(crate) struct CheckArgs {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    /// Change one scenario key, as for `run` (`--set pru.cars=2`). Repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct RunArgs {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub control: ControlArgs,
    /// Output directory (default: outputs/STEM/, STEM being the scenario
    /// file's name without .toml). Replaced whole and atomically when the run
    /// finishes.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// On Ctrl-C, write the replications that finished, marked as partial
    /// (run.json "partial": true, and PARTIAL.txt). Without it an
    /// interrupted run writes nothing.
    #[arg(long)]
    pub keep_partial: bool,
}

#[derive(Debug, clap::Args)]
pub(crate) struct CompareArgs {
    /// The baseline scenario file.
    pub baseline: PathBuf,
    /// One or more plan files; each runs with the baseline's seed and
    /// replications and is compared with it replication by replication.
    #[arg(required = true)]
    pub plans: Vec<PathBuf>,
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub control: ControlArgs,
    /// Output directory (default: outputs/compare-STEM/, STEM being the
    /// baseline file's name without .toml):
    /// comparison.csv, experiment.json and one run directory per scenario.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct SweepArgs {
    /// The sweep file: a scenario with a `[sweep]` table of dotted keys and
    /// the values to try.
    pub sweep: PathBuf,
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub control: ControlArgs,
    /// Output directory (default: outputs/STEM/, STEM being the sweep file's
    /// name without .toml): sweep.csv,
    /// experiment.json and one run directory per plan.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct WarmupArgs {
    /// The scenario file.
    pub scenario: PathBuf,
    /// Days to simulate from empty (the scenario's warm-up is set to 0).
    #[arg(long, value_name = "DAYS", default_value_t = 1095)]
    pub days: u32,
    /// Welch moving-average window: days either side of each day.
    #[arg(long, value_name = "DAYS", default_value_t = 7)]
    pub window: usize,
    #[command(flatten)]
    pub common: CommonArgs,
    /// Output directory (default: outputs/STEM-warmup/, STEM being the
    /// scenario file's name without .toml).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct MergeArgs {
    /// The shard directories (of one `run`, `compare` or `sweep`).
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Where to write the merged outputs.
    #[arg(long, value_name = "DIR", required = true)]
    pub out: PathBuf,
}

/// Flags of every command that runs scenarios.
#[derive(Debug, clap::Args)]
pub(crate) struct CommonArgs {
    /// Replications to run (overrides `scenario.replications`).
    #[arg(long, value_name = "N")]
    pub replications: Option<u32>,
    /// Random seed (overrides `scenario.seed`).
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Worker threads (default: one per core). Results do not depend on it.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
    /// Change one scenario key for this run, checked as a file value is
    /// (`--set pru.cars=2`). Repeatable; applies to every scenario run.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// Do not draw a progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Stop a replication when any queue (acute beds, community nursing,
    /// rehab, care homes) holds more than N patients, to bound memory and
    /// time when a plan's demand far exceeds a service's capacity.
    #[arg(long, value_name = "N", default_value_t = crate::model::DEFAULT_QUEUE_LIMIT)]
    pub max_queue: usize,
    /// Replace the output directory even if it is not a previous output of
    /// patientflow (not empty, no run.json or experiment.json). Never the
    /// current directory or one containing it.
    #[arg(long)]
    pub force: bool,
}

/// How many replications, and which.
#[derive(Debug, clap::Args)]
pub(crate) struct ControlArgs {
    /// Add replications in batches until the 95% CI half-width of every
    /// headline metric is within this share of its mean (0.05: ±5%).
    #[arg(long, value_name = "P")]
    pub precision: Option<f64>,
    /// The most replications --precision may use.
    #[arg(long, value_name = "N", default_value_t = 500)]
    pub max_replications: u32,
    /// A metric whose mean --precision checks (repeatable; default: the
    /// comparison headlines admissions, delayed_bed_days,
    /// bed_waits_over_12h, bed_waits_over_4h, bed_occupancy_mean,
    /// community_waiting_mean).
    #[arg(long = "precision-metric", value_name = "METRIC", value_parser = parse_metric)]
    pub precision_metrics: Vec<Metric>,
    /// Replications added at a time by --precision.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub batch: u32,
    /// Run only shard K of N (replications K, K+N, K+2N, ...) and write the
    /// per-replication values for `patientflow merge`.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<Shard>,
}

impl CommonArgs {
    fn settings(&self, control: Option<&ControlArgs>) -> Settings {
        Settings {
            replications: self.replications,
            seed: self.seed,
            sets: self.sets.clone(),
            threads: self.threads,
            quiet: self.quiet,
            shard: control.and_then(|c| c.shard),
            max_queue: Some(self.max_queue),
            cancel: Some(crate::signals::install()),
            force: self.force,
            keep_partial: false,
            precision: control.and_then(|c| {
                c.precision.map(|p| PrecisionRule {
                    relative_half_width: p,
                    batch: c.batch,
                    max_replications: c.max_replications,
                    metrics: c.precision_metrics.clone(),
                })
            }),
            command_line: std::env::args().collect(),
            notices: notices(),
        }
    }
}

/// The library's notices, shown on standard error as they come (see
/// [`crate::notice`]).
fn notices() -> crate::notice::Notices {
    crate::notice::Notices::to(|n| warnln!("{}", report::escape::terminal(&n.to_string())))
}

/// A metric by its output name, for `--precision-metric`.
fn parse_metric(name: &str) -> Result<Metric, String> {
    Metric::from_name(name).ok_or_else(|| {
        format!("no metric `{name}`; metric names are those of summary.csv, such as admissions")
    })
}

/// A failure, with the exit code it maps to.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    #[error("{0}")]
    Scenario(#[from] ScenarioError),
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Run(#[from] experiment::RunError),
    #[error("{0}")]
    Experiment(#[from] ExperimentError),
    #[error("{0}")]
    Report(#[from] report::RebuildError),
    #[error("{failed} of {total} verification checks failed")]
    VerificationFailed { failed: usize, total: usize },
    /// `check` found a queueing service overloaded.
    #[error("{0}")]
    Overloaded(String),
}

impl CliError {
    /// 2 for anything the user typed or wrote; 3 for a plan whose demand
    /// exceeds a service's capacity or a replication past a bound; 130 when cancelled (as a shell reports
    /// Ctrl-C); 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        use experiment::RunError;
        match self {
            CliError::Scenario(_)
            | CliError::Usage(_)
            | CliError::Report(report::RebuildError::Input(_)) => 2,
            CliError::Overloaded(_) => 3,
            CliError::Run(RunError::Stopped { reason, .. }) => reason.exit_code(),
            CliError::Experiment(e) => e.exit_code(),
            CliError::Run(_)
            | CliError::Report(report::RebuildError::Write(_))
            | CliError::VerificationFailed { .. } => 1,
        }
    }
}

/// Parses the arguments, runs the command and returns the exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run_command(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            warnln!("{}", report::escape::terminal(&error_text(&e)));
            ExitCode::from(e.exit_code())
        }
    }
}

fn error_text(e: &CliError) -> String {
    let text = e.to_string();
    if text.starts_with("error") {
        text
    } else {
        format!("error: {text}")
    }
}

fn run_command(command: Command) -> Result<(), CliError> {
    match command {
        Command::Run(args) => {
            let mut settings = args.common.settings(Some(&args.control));
            settings.keep_partial = args.keep_partial;
            finish(experiment::run_scenario(
                &args.scenario,
                args.out.as_deref(),
                &settings,
            )?)
        }
        Command::Compare(args) => {
            let settings = args.common.settings(Some(&args.control));
            finish(experiment::compare(
                &args.baseline,
                &args.plans,
                args.out.as_deref(),
                &settings,
            )?)
        }
        Command::Sweep(args) => {
            let settings = args.common.settings(Some(&args.control));
            finish(experiment::sweep(
                &args.sweep,
                args.out.as_deref(),
                &settings,
            )?)
        }
        Command::Warmup(args) => {
            let settings = args.common.settings(None);
            let options = WarmupOptions {
                days: args.days,
                window: args.window,
            };
            finish(experiment::warmup(
                &args.scenario,
                args.out.as_deref(),
                &options,
                &settings,
            )?)
        }
        Command::Merge(args) => finish(experiment::merge(
            &args.dirs,
            &args.out,
            std::env::args().collect(),
            Some(&crate::signals::install()),
            &notices(),
        )?),
        Command::Check(args) => check(args),
        Command::Backtest(args) => {
            let settings = args.common.settings(None);
            finish(experiment::backtest::backtest(
                &args.scenario,
                &args.observed,
                args.out.as_deref(),
                &settings,
            )?)
        }
        Command::Validate(args) => validate(args),
        Command::Report(args) => {
            report::rebuild_report(&args.dir, &notices())?;
            sayln!(
                "{}",
                report::escape::terminal(&format!("Report rebuilt in {}", args.dir.display()))
            );
            Ok(())
        }
    }
}

fn validate(args: ValidateArgs) -> Result<(), CliError> {
    if let Some(n) = args.replications {
        let range = crate::verify::MIN_REPLICATIONS..=crate::verify::MAX_REPLICATIONS;
        if !range.contains(&n) {
            return Err(CliError::Usage(format!(
                "--replications: expected {} to {} replications, found {n}: the checks compare \
                 theory with the mean over replications within standard errors, which need at \
                 least two, and each replication's trace of events is kept for the checks",
                range.start(),
                range.end()
            )));
        }
    }
    if args.threads > 1024 {
        return Err(CliError::Usage(format!(
            "--threads: expected at most 1024 threads, found {}",
            args.threads
        )));
    }
    let options = crate::verify::Options {
        dir: args.dir.clone().unwrap_or_else(crate::verify::default_dir),
        replications: args.replications,
        threads: args.threads,
        progress: Progress::unless_quiet(args.quiet),
    };
    let started = Instant::now();
    let quiet = args.quiet;
    let checks = crate::verify::run_all(&options, |case| {
        if !quiet {
            warnln!("case {case}");
        }
    })
    .map_err(|e| match e {
        crate::verify::VerifyError::Scenario(s) => CliError::Scenario(s),
        crate::verify::VerifyError::Run(r) => CliError::Run(r),
        crate::verify::VerifyError::Usage(u) => CliError::Usage(u),
    })?;
    say!("{}", crate::verify::format_table(&checks));
    let failed = checks.iter().filter(|c| !c.passed()).count();
    sayln!(
        "{} of {} checks passed ({:.1} s). Mean checks pass when |theory - mean| <= {} standard errors \
         of the mean over replications.",
        checks.len() - failed,
        checks.len(),
        started.elapsed().as_secs_f64(),
        crate::verify::STANDARD_ERRORS
    );
    if failed > 0 {
        return Err(CliError::VerificationFailed {
            failed,
            total: checks.len(),
        });
    }
    Ok(())
}

/// Prints what a command returned for standard output.
fn finish(done: experiment::Finished) -> Result<(), CliError> {
    say!("{}", report::escape::terminal(&done.stdout));
    Ok(())
}

/// The offered-load check: its table on stdout, exit 3 when overloaded.
fn check(args: CheckArgs) -> Result<(), CliError> {
    let loaded = scenario::load(&args.scenario, &args.sets)?;
    let result = experiment::check::offered_load(&loaded.scenario);
    let title = format!("{}: {}", args.scenario.display(), loaded.scenario.name);
    // One line: a line break in the name or path is a space here.
    sayln!("{}\n", report::escape::clean(&title));
    say!("{}", experiment::check::format_check(&result));
    // A size a run refuses: said here too (the exit code stays the
    // check's own, as for a readmission loop that diverges).
    if let Err(t) = experiment::check::size_limits(&loaded.scenario, &result) {
        sayln!(
            "A run is refused before starting (exit 2), at key `{}`: {}",
            t.key,
            report::escape::clean(&t.message)
        );
    }
    let overloaded: Vec<&str> = result.overloaded().map(|s| s.service).collect();
    if overloaded.is_empty() {
        Ok(())
    } else {
        Err(CliError::Overloaded(format!(
            "overloaded: {}: demand exceeds capacity, so a run would stop when the queue \
             reaches its bound (exit code 3)",
            overloaded.join(", ")
        )))
    }
}

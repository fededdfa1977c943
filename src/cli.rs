//! The command line: subcommands and flags, and the mapping of failures to
//! exit codes (0: done; 1: something else failed; 2: the input is wrong or
//! the run too large; 3: a plan whose demand exceeds a service's capacity;
//! 130: interrupted).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use clap::{Parser, Subcommand};

use crate::experiment::{self, Progress};
use crate::model::Prepared;
use crate::report::{self, RunManifest};
use crate::scenario::{self, ScenarioError};

/// Discharge-to-community patient flow: what a capacity plan does to
/// emergency admissions and delayed transfers of care.
#[derive(Debug, Parser)]
#[command(name = "patientflow", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the replications of a scenario and write summary.csv,
    /// replications.csv, daily.csv and run.json.
    Run(RunArgs),
    /// Offered load per service from the scenario alone (arrivals x mean
    /// time holding a place, against capacity), without running it. Exit
    /// code 3 if a queueing service is overloaded.
    Check(CheckArgs),
    /// Verify the engine against queueing theory: run the cases in
    /// scenarios/validation/ and print theory against simulation. Exit code
    /// 1 if any check fails.
    Validate(ValidateArgs),
}

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
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
pub struct CheckArgs {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    /// Change one scenario key, as for `run` (`--set pru.cars=2`). Repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    /// Replications to run (overrides `scenario.replications`).
    #[arg(long, value_name = "N")]
    pub replications: Option<u32>,
    /// Random seed (overrides `scenario.seed`).
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Worker threads (default: one per core). Results do not depend on it.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
    /// Output directory (default: outputs/<scenario file stem>/). Replaced
    /// whole and atomically when the run finishes.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Change one scenario key for this run, checked as a file value is
    /// (`--set pru.cars=2`). Repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// Do not draw a progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Stop a replication when any queue (acute beds, community nursing,
    /// rehab, care homes) holds more than N patients: the sign of a plan whose
    /// demand exceeds its capacity. Default: ten times that service's
    /// capacity, at least 1,000.
    #[arg(long, value_name = "N")]
    pub max_queue: Option<usize>,
    /// On Ctrl-C, write the replications that finished, marked as partial
    /// (run.json "partial": true, and PARTIAL.txt). Without it an
    /// interrupted run writes nothing.
    #[arg(long)]
    pub keep_partial: bool,
    /// Replace the output directory even if it is not a previous run's
    /// output (not empty and no run.json). Never the current directory.
    #[arg(long)]
    pub force: bool,
}

/// Most worker threads: more only costs memory (a stack each).
const MAX_THREADS: usize = 1024;

/// A failure, with the exit code it maps to.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Scenario(#[from] ScenarioError),
    #[error("{0}")]
    Usage(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Run(#[from] experiment::RunError),
    #[error("{failed} of {total} verification checks failed")]
    VerificationFailed { failed: usize, total: usize },
    /// A run too large for memory or time, refused before it started.
    #[error("{0}")]
    TooLarge(String),
    /// `check` found a queueing service overloaded.
    #[error("{0}")]
    Overloaded(String),
    /// Ctrl-C.
    #[error("{0}")]
    Interrupted(String),
}

impl CliError {
    /// 2 for anything the user typed or wrote; 3 for a plan whose demand
    /// exceeds a service's capacity; 130 when cancelled (as a shell reports
    /// Ctrl-C); 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        use crate::model::Stopped;
        use experiment::RunError;
        match self {
            CliError::Scenario(_) | CliError::Usage(_) | CliError::TooLarge(_) => 2,
            CliError::Overloaded(_) => 3,
            CliError::Interrupted(_) => 130,
            CliError::Run(RunError::Stopped {
                reason: Stopped::Overloaded { .. },
                ..
            }) => 3,
            CliError::Run(RunError::Stopped {
                reason: Stopped::Cancelled,
                ..
            }) => 130,
            CliError::Io { .. } | CliError::Run(_) | CliError::VerificationFailed { .. } => 1,
        }
    }
}

/// Parses the arguments, runs the command and returns the exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run_command(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}", error_text(&e));
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
        Command::Run(args) => run(args),
        Command::Check(args) => check(args),
        Command::Validate(args) => validate(args),
    }
}

fn validate(args: ValidateArgs) -> Result<(), CliError> {
    if args.replications == Some(0) {
        return Err(CliError::Usage(
            "--replications: expected at least 1 replication, found 0".into(),
        ));
    }
    let options = crate::validate::Options {
        dir: args
            .dir
            .clone()
            .unwrap_or_else(crate::validate::default_dir),
        replications: args.replications,
        threads: args.threads,
        progress: if args.quiet {
            Progress::Hidden
        } else {
            Progress::Auto
        },
    };
    let started = Instant::now();
    let quiet = args.quiet;
    let checks = crate::validate::run_all(&options, |case| {
        if !quiet {
            eprintln!("case {case}");
        }
    })
    .map_err(|e| match e {
        crate::validate::ValidateError::Scenario(s) => CliError::Scenario(s),
        crate::validate::ValidateError::Run(r) => CliError::Run(r),
    })?;
    print!("{}", crate::validate::format_table(&checks));
    let failed = checks.iter().filter(|c| !c.passed()).count();
    println!(
        "{} of {} checks passed ({:.1} s). Mean checks pass when |theory - mean| <= {} standard errors \
         of the mean over replications.",
        checks.len() - failed,
        checks.len(),
        started.elapsed().as_secs_f64(),
        crate::validate::STANDARD_ERRORS
    );
    if failed > 0 {
        return Err(CliError::VerificationFailed {
            failed,
            total: checks.len(),
        });
    }
    Ok(())
}

/// `--replications` and `--seed` go in as `--set`s, so the resolved scenario
/// recorded in run.json is exactly what ran.
fn overrides(args: &RunArgs) -> Vec<String> {
    let mut sets = args.sets.clone();
    if let Some(n) = args.replications {
        sets.push(format!("scenario.replications={n}"));
    }
    if let Some(s) = args.seed {
        sets.push(format!("scenario.seed={s}"));
    }
    sets
}

/// The default output directory: `outputs/<file stem>/`.
pub fn default_out_dir(scenario: &Path) -> PathBuf {
    let stem = scenario
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "run".to_string());
    PathBuf::from("outputs").join(stem)
}

/// The offered-load check: its table on stdout, exit 3 when overloaded.
fn check(args: CheckArgs) -> Result<(), CliError> {
    let loaded = scenario::load(&args.scenario, &args.sets)?;
    let result = experiment::check::offered_load(&loaded.scenario);
    println!("{}: {}\n", args.scenario.display(), loaded.scenario.name);
    print!("{}", experiment::check::format_check(&result));
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

/// Warnings, before a run, for services the check finds overloaded or high;
/// printed and returned for run.json.
fn warn_about_load(result: &experiment::check::Check) -> Vec<String> {
    use experiment::check::Verdict;
    let mut warnings = Vec::new();
    for s in &result.services {
        let note = match s.verdict() {
            Verdict::Overloaded => {
                "demand exceeds capacity: its queue grows without bound, so a \
                 replication stops when the queue reaches its bound (exit 3), and \
                 figures from a shorter run describe a system that never settles"
            }
            Verdict::High => "near capacity: expect long queues",
            Verdict::Ok | Verdict::Busy => continue,
        };
        let warning = format!(
            "{}: offered load {:.1} against a capacity of {:.0} (utilisation {:.2}): {note} \
             (see `patientflow check`)",
            s.service,
            s.offered,
            s.capacity,
            s.utilisation()
        );
        eprintln!("warning: {warning}");
        warnings.push(warning);
    }
    warnings
}

/// Sets the returned flag on the first Ctrl-C; a second one exits at once.
fn interrupt_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let handler_flag = Arc::clone(&flag);
    // If a handler cannot be installed (one already is, in a test harness),
    // Ctrl-C keeps its default action: the process ends and writes nothing.
    let _ = ctrlc::set_handler(move || {
        if handler_flag.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!("\ninterrupted: stopping the replications (Ctrl-C again to quit at once)");
    });
    flag
}

fn run(args: RunArgs) -> Result<(), CliError> {
    let started = Instant::now();
    if args.threads > MAX_THREADS {
        return Err(CliError::Usage(format!(
            "--threads: expected at most {MAX_THREADS} threads, found {}",
            args.threads
        )));
    }
    let cancel = interrupt_flag();
    let loaded = scenario::load(&args.scenario, &overrides(&args))?;
    let load_check = experiment::check::offered_load(&loaded.scenario);
    experiment::check::size_limits(&loaded.scenario, &load_check).map_err(|t| {
        CliError::TooLarge(format!(
            "error: {}: key `{}`: run refused before starting: {}",
            args.scenario.display(),
            t.key,
            t.message
        ))
    })?;
    let warnings = warn_about_load(&load_check);
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| default_out_dir(&args.scenario));
    let threads = if args.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        args.threads
    };
    let sc = &loaded.scenario;
    eprintln!(
        "patientflow {}: {} ({} replications, seed {}, {} threads)",
        env!("CARGO_PKG_VERSION"),
        sc.name,
        sc.replications,
        sc.seed,
        threads
    );
    let mut prepared = Prepared::new(loaded.scenario.clone()).with_cancel(Arc::clone(&cancel));
    if let Some(limit) = args.max_queue {
        prepared = prepared.with_queue_limit(limit);
    }
    let replications: Vec<u32> = (0..sc.replications).collect();
    let progress = if args.quiet {
        Progress::Hidden
    } else {
        Progress::Auto
    };
    let finished = experiment::run_replications_interruptible(
        &prepared,
        &replications,
        threads,
        progress,
        &cancel,
    )?;
    // A Ctrl-C after the last replication but before writing still counts:
    // the user asked for the run to stop.
    let interrupted = finished.interrupted || cancel.load(Ordering::SeqCst);
    let results = finished.results;
    let keep = args.keep_partial && !results.is_empty();
    if interrupted && !keep {
        return Err(CliError::Interrupted(format!(
            "interrupted: {} of {} replications had finished; nothing was written to {}{}",
            results.len(),
            sc.replications,
            out.display(),
            if args.keep_partial {
                ""
            } else {
                " (--keep-partial writes the finished replications, marked as partial)"
            }
        )));
    }
    let partial = interrupted.then(|| report::Partial {
        requested: sc.replications,
        completed: results.iter().map(|r| r.replication).collect(),
    });
    let manifest = RunManifest {
        software_version: env!("CARGO_PKG_VERSION").to_string(),
        scenario_path: args.scenario.display().to_string(),
        scenario_name: sc.name.clone(),
        resolved_toml: loaded.resolved_toml.clone(),
        sha256: loaded.sha256.clone(),
        seed: sc.seed,
        replications: sc.replications,
        threads,
        generator: experiment::GENERATOR.to_string(),
        stream_allocation: experiment::STREAM_ALLOCATION.to_string(),
        warm_up_hours: sc.warm_up_hours,
        horizon_hours: sc.horizon_hours,
        start_date: sc.start_date.to_string(),
        first_day_date: prepared.first_day().to_string(),
        wall_time_seconds: started.elapsed().as_secs_f64(),
        command_line: std::env::args().collect(),
    };
    let options = report::WriteOptions {
        force: args.force,
        partial,
        warnings,
    };
    report::write_run_outputs_with(&out, &results, prepared.first_day(), &manifest, &options)
        .map_err(|source| CliError::Io {
            context: format!("could not write the outputs to {}", out.display()),
            source,
        })?;
    println!("{}", report::format_summary_table(&results));
    if let Some(p) = &options.partial {
        let message = format!(
            "interrupted: PARTIAL results of {} of {} replications written to {} (marked in \
             run.json and {})",
            p.completed.len(),
            p.requested,
            out.display(),
            report::PARTIAL_FILE
        );
        return Err(CliError::Interrupted(message));
    }
    println!("Outputs written to {}", out.display());
    Ok(())
}

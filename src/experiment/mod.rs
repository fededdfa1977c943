//! Running replications: in parallel, in a fixed order of results.
//!
//! Replication `r` depends only on (scenario, seed, `r`), and results are
//! collected in replication order, so every statistic computed from them is
//! the same to the bit whatever the thread count.

pub mod backtest;
pub mod check;

use indicatif::{ParallelProgressIterator, ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use std::io::IsTerminal;

use crate::model::metrics::ReplicationResult;
use crate::model::{Prepared, Stopped, Tracer};
use crate::scenario::ScenarioError;

pub mod commands;
pub mod compare;
pub mod facts;
pub mod kept;
pub mod merge;
pub mod precision;
pub mod shard;
pub mod warmup;

pub use commands::{
    Finished, Settings, compare, default_out_dir, resolve_threads, run_scenario, sweep,
};
pub use merge::merge;
pub use precision::PrecisionRule;
pub use shard::Shard;
pub use warmup::{WarmupOptions, warmup};

/// A failure of a command of this module, with the exit code it maps to.
#[derive(Debug, thiserror::Error)]
pub enum ExperimentError {
    /// A scenario or sweep file, or a `--set`, is wrong (exit 2).
    #[error("{0}")]
    Scenario(#[from] ScenarioError),
    /// Options that make no sense together (exit 2).
    #[error("{0}")]
    Usage(String),
    /// Shard directories that cannot be merged (exit 2).
    #[error("{0}")]
    Merge(String),
    /// Writing the outputs failed (exit 1).
    #[error("{context}: {source}")]
    Io {
        /// What was being written.
        context: String,
        /// The error from the file system.
        source: std::io::Error,
    },
    /// The worker threads could not start, or a replication stopped: an
    /// overloaded plan (exit 3) or a cancelled run (exit 130).
    #[error("{0}")]
    Run(#[from] RunError),
    /// A run too large for memory or time, refused before it started (exit 2).
    #[error("{0}")]
    TooLarge(String),
    /// Ctrl-C (exit 130): what was written, if anything.
    #[error("{0}")]
    Interrupted(String),
}

impl ExperimentError {
    /// 2 for anything the user typed, wrote or pointed at; 3 for a plan
    /// whose replication passed a bound (a queue, the event budget, the
    /// crisis limit); 130 when cancelled; 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            ExperimentError::Scenario(_)
            | ExperimentError::Usage(_)
            | ExperimentError::Merge(_)
            | ExperimentError::TooLarge(_) => 2,
            ExperimentError::Interrupted(_) => 130,
            ExperimentError::Run(RunError::Stopped { reason, .. }) => reason.exit_code(),
            ExperimentError::Io { .. } | ExperimentError::Run(_) => 1,
        }
    }
}

/// The name of the generator and its stream allocation, for manifests.
pub const GENERATOR: &str = "SplitMix64, one stream per key (patientflow::engine::rng)";

/// How streams are allocated, for manifests and reports.
pub const STREAM_ALLOCATION: &str = "one stream per (seed, replication, source, index): \
arrival times one stream per demand source; each patient its own stream keyed by \
(source, arrival index); readmissions and care home residents' crises derived from \
their patient's key";

/// Whether to draw a progress bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// On stderr, only when stderr is a terminal.
    Auto,
    /// No progress bar.
    Hidden,
}

impl Progress {
    /// [`Progress::Hidden`] when `quiet` (`--quiet`), else [`Progress::Auto`].
    pub fn unless_quiet(quiet: bool) -> Progress {
        if quiet {
            Progress::Hidden
        } else {
            Progress::Auto
        }
    }
}

/// Why a run produced no results.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The worker threads could not start (exit 1).
    #[error("could not start {threads} worker threads: {source}")]
    Threads {
        /// Threads asked for.
        threads: usize,
        /// Why rayon could not start them.
        source: rayon::ThreadPoolBuildError,
    },
    /// A replication stopped early: an overloaded service, or cancellation.
    /// No replication's numbers are returned, so none can look fine.
    #[error("replication {replication} stopped: {reason}. No results were written")]
    Stopped {
        /// The replication's index (0-based).
        replication: u32,
        /// Why it stopped.
        reason: Stopped,
    },
}

fn pool(threads: usize) -> Result<rayon::ThreadPool, RunError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|source| RunError::Threads { threads, source })
}

/// Runs the given replications on `threads` threads (0: one per core) and
/// returns their results in the order of `replications`.
pub fn run_replications(
    prepared: &Prepared,
    replications: &[u32],
    threads: usize,
    progress: Progress,
) -> Result<Vec<ReplicationResult>, RunError> {
    // The unit tracer compiles to no tracing at all.
    let traced = run_replications_traced(prepared, replications, threads, progress, || ())?;
    Ok(traced.into_iter().map(|(result, ())| result).collect())
}

/// As [`run_replications`], also handing each replication a fresh tracer
/// from `new_tracer` and returning it with the result (for verification:
/// the same runs, watched).
pub fn run_replications_traced<T, F>(
    prepared: &Prepared,
    replications: &[u32],
    threads: usize,
    progress: Progress,
    new_tracer: F,
) -> Result<Vec<(ReplicationResult, T)>, RunError>
where
    T: Tracer + Send,
    F: Fn() -> T + Sync,
{
    let pool = pool(threads)?;
    let bar = progress_bar(replications.len() as u64, progress);
    let results = pool.install(|| {
        replications
            .par_iter()
            .progress_with(bar.clone())
            .map(|&replication| {
                prepared
                    .simulate_traced(replication, new_tracer())
                    .map_err(|reason| RunError::Stopped {
                        replication,
                        reason,
                    })
            })
            .collect()
    });
    bar.finish_and_clear();
    results
}

fn progress_bar(len: u64, progress: Progress) -> ProgressBar {
    let visible = progress == Progress::Auto && std::io::stderr().is_terminal();
    let bar = ProgressBar::with_draw_target(
        Some(len),
        if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} replications {pos}/{len} [{bar:30}] {elapsed_precise} elapsed, about {eta} left",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// What [`run_replications_interruptible`] finished.
#[derive(Debug)]
pub struct Completed {
    /// Results of the replications that ran to the end, in the order of the
    /// replications asked for (with gaps where some did not finish).
    pub results: Vec<ReplicationResult>,
    /// True when `cancel` was set before every replication had finished.
    pub interrupted: bool,
}

/// As [`run_replications`], but stops soon after `cancel` is set (Ctrl-C)
/// and returns the replications that had finished instead of an error.
///
/// `cancel` must be the flag given to `prepared` with
/// [`Prepared::with_cancel`], so that replications in progress stop within
/// a few thousand events; replications not yet started are skipped. An
/// overloaded replication is still an error (no results): it sets `cancel`
/// so that the others stop at once rather than run to no purpose.
pub fn run_replications_interruptible(
    prepared: &Prepared,
    replications: &[u32],
    threads: usize,
    progress: Progress,
    cancel: &std::sync::atomic::AtomicBool,
) -> Result<Completed, RunError> {
    use std::sync::Mutex;
    use std::sync::atomic::Ordering;
    let pool = pool(threads)?;
    let bar = progress_bar(replications.len() as u64, progress);
    let failure: Mutex<Option<RunError>> = Mutex::new(None);
    let results: Vec<Option<ReplicationResult>> = pool.install(|| {
        replications
            .par_iter()
            .progress_with(bar.clone())
            .map(|&replication| {
                if cancel.load(Ordering::Relaxed) {
                    return None;
                }
                match prepared.simulate(replication) {
                    Ok(r) => Some(r),
                    Err(Stopped::Cancelled) => None,
                    Err(reason) => {
                        if let Ok(mut slot) = failure.lock() {
                            slot.get_or_insert(RunError::Stopped {
                                replication,
                                reason,
                            });
                        }
                        cancel.store(true, Ordering::Relaxed);
                        None
                    }
                }
            })
            .collect()
    });
    bar.finish_and_clear();
    // A poisoned lock means a worker panicked while holding it, which the
    // pool has already propagated; taking the value is still sound.
    let failure = match failure.into_inner() {
        Ok(f) => f,
        Err(poisoned) => poisoned.into_inner(),
    };
    if let Some(e) = failure {
        return Err(e);
    }
    let interrupted = results.iter().any(Option::is_none);
    Ok(Completed {
        results: results.into_iter().flatten().collect(),
        interrupted,
    })
}

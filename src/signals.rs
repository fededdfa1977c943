//! Ctrl-C, SIGTERM and SIGHUP, all handled alike: SIGTERM is how Slurm and
//! Kubernetes stop a job, SIGHUP how a closed terminal does.
//!
//! The first signal sets the flag that [`install`] returns (replications stop
//! within a few thousand events; a write of outputs in progress stops at its
//! next check and removes its temporary directory). A second signal quits at
//! once (exit 130), unless a write is in progress: then that write stops and
//! cleans up first, so nothing half-written is left; a third quits at once
//! whatever is under way.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// Signals received so far.
static RECEIVED: AtomicU32 = AtomicU32::new(0);
/// Writes of outputs in progress ([`Writing`] guards).
static WRITING: AtomicU32 = AtomicU32::new(0);
/// Lock files this process holds, removed if it quits at once.
static HELD_LOCKS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// The flag set on the first signal. Installs the handler on the first call
/// (later calls return the same flag). If a handler cannot be installed (one
/// already is, as in a test harness), the signals keep their default action:
/// the process ends at once, writing nothing (a temporary directory it was
/// filling is swept by the next run that writes the same output).
pub fn install() -> Arc<AtomicBool> {
    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    Arc::clone(FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let handler_flag = Arc::clone(&flag);
        let _ = ctrlc::set_handler(move || on_signal(&handler_flag));
        flag
    }))
}

fn on_signal(flag: &AtomicBool) {
    let n = RECEIVED.fetch_add(1, Ordering::SeqCst) + 1;
    flag.store(true, Ordering::SeqCst);
    let writing = WRITING.load(Ordering::SeqCst) > 0;
    if n == 1 {
        warnln!(
            "\ninterrupted: stopping{} (Ctrl-C again to quit at once)",
            if writing {
                " the write of the outputs"
            } else {
                ""
            }
        );
    } else if n == 2 && writing {
        warnln!("interrupted again: removing the half-written outputs, then quitting");
    } else {
        quit_now();
    }
}

/// Exits with 130 at once, removing the lock files this process holds.
fn quit_now() -> ! {
    if let Ok(held) = HELD_LOCKS.lock() {
        for p in held.iter() {
            let _ = std::fs::remove_file(p);
        }
    }
    std::process::exit(130);
}

/// How many signals have arrived.
pub fn received() -> u32 {
    RECEIVED.load(Ordering::SeqCst)
}

/// Marks a write of outputs in progress while it lives: a second signal
/// then stops the write instead of quitting in the middle of it.
pub struct Writing(());

impl Writing {
    /// Marks a write as begun; it ends when the value is dropped.
    pub fn start() -> Writing {
        WRITING.fetch_add(1, Ordering::SeqCst);
        Writing(())
    }
}

impl Drop for Writing {
    fn drop(&mut self) {
        WRITING.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Records a lock file held by this process (removed by a quit at once).
pub(crate) fn hold_lock(path: PathBuf) {
    if let Ok(mut held) = HELD_LOCKS.lock() {
        held.push(path);
    }
}

/// Forgets a lock file this process no longer holds.
pub(crate) fn release_lock(path: &std::path::Path) {
    if let Ok(mut held) = HELD_LOCKS.lock()
        && let Some(i) = held.iter().position(|p| p == path)
    {
        held.swap_remove(i);
    }
}

//! What the library has to tell the user while it works, handed to the
//! binary: the library never prints. A command takes a [`Notices`] sink
//! (in [`Settings`](crate::experiment::Settings), or as an argument) and
//! sends each [`Notice`] to it as it happens; `src/cli.rs` decides how to
//! show them (on standard error). Without a sink they are dropped.
//!
//! The messages of the Ctrl-C handler in `src/signals.rs` are the one
//! exception: they are printed from inside the handler, where no sink can
//! be reached.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use crate::report::Warning;

/// One message for the user.
#[derive(Clone, Debug, PartialEq)]
pub enum Notice {
    /// What is about to run (the command's opening line).
    Starting(String),
    /// A service of a scenario near or over capacity, found before it runs
    /// (also recorded in its `run.json` and shown in its reports).
    Warning(Warning),
    /// A directory's files were read without checksums to check them
    /// against (written by an older patientflow).
    Unverified {
        /// The directory read.
        dir: PathBuf,
        /// Its manifest without checksums (`run.json` or `experiment.json`).
        manifest: String,
    },
    /// `--force` replaced a directory that was not patientflow's.
    Replaced {
        /// The directory replaced.
        dir: PathBuf,
        /// What it held, in words.
        what: String,
    },
    /// A plan of a comparison was read with the uncertain baseline in
    /// place of the file it extends (`docs/model.md`, "Parameter
    /// uncertainty").
    Rebased {
        /// The plan's file.
        plan: PathBuf,
        /// The file its chain extends, replaced.
        from: PathBuf,
        /// The uncertain baseline read in its place.
        to: PathBuf,
    },
}

impl fmt::Display for Notice {
    /// The notice as one message (a path or name in it may hold any
    /// character: a terminal needs [`escape::terminal`](crate::report::escape::terminal)).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Notice::Starting(text) => f.write_str(text),
            Notice::Warning(w) => write!(f, "warning: {}", w.message),
            Notice::Unverified { dir, manifest } => {
                f.write_str(&crate::report::readback::unverified_warning(dir, manifest))
            }
            Notice::Replaced { dir, what } => {
                write!(f, "--force: replaced {}, {what}", dir.display())
            }
            Notice::Rebased { plan, from, to } => write!(
                f,
                "{}: compared as extending {} in place of {}, which it extends, so that it \
                 shares the baseline's uncertain values",
                plan.display(),
                to.display(),
                from.display()
            ),
        }
    }
}

/// A function that receives notices.
type Sink = Arc<dyn Fn(&Notice) + Send + Sync>;

/// Where notices go: a function the binary gives, or nowhere.
#[derive(Clone, Default)]
pub struct Notices(Option<Sink>);

impl Notices {
    /// Notices sent to `f`.
    pub fn to(f: impl Fn(&Notice) + Send + Sync + 'static) -> Notices {
        Notices(Some(Arc::new(f)))
    }

    /// Notices dropped.
    pub fn none() -> Notices {
        Notices(None)
    }

    /// Passes `notice` to the receiver, if there is one.
    pub fn send(&self, notice: Notice) {
        if let Some(f) = &self.0 {
            f(&notice);
        }
    }
}

impl fmt::Debug for Notices {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "Notices(sink)"
        } else {
            "Notices(none)"
        })
    }
}

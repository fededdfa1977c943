//! The patient flow model of `docs/model.md`: services, routing and what is
//! recorded. It knows nothing of files or the command line.
pub mod metrics;
mod observe;
pub(crate) mod schedule;
mod sim;

pub use sim::{
    Cause, Census, DEFAULT_QUEUE_LIMIT, EventBudget, MAX_CRISES_PER_REPLICATION, Prepared,
    Resource, Source, Stopped, TraceEvent, Tracer,
};

#[cfg(test)]
mod tests;

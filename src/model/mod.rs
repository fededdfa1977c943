//! The patient flow model of `docs/model.md`: services, routing and what is
//! recorded. It knows nothing of files or the command line.
mod bounds;
pub mod dated;
pub mod flow;
pub mod headlines;
pub mod kept;
pub mod metrics;
mod observe;
pub mod planning_years;
pub(crate) mod schedule;
mod sim;
mod trace;
pub mod years;

pub use bounds::{
    Cause, DEFAULT_QUEUE_LIMIT, EventBudget, MAX_CRISES_PER_REPLICATION, MAX_SIMULATED_DAYS,
    Stopped,
};
pub use sim::{Prepared, ScenarioDraws, StreamSource};
pub use trace::{Census, Resource, TraceEvent, Tracer};

#[cfg(test)]
mod tests;

//! The patient flow model of `MODEL.md`: services, routing and what is
//! recorded. It knows nothing of files or the command line.
pub mod metrics;
mod observe;
pub(crate) mod schedule;
mod sim;

pub use sim::{Census, Prepared, Resource, Source, TraceEvent, Tracer};

#[cfg(test)]
mod tests;

//! The patient flow model of `MODEL.md`: services, routing and what is
//! recorded. It knows nothing of files or the command line.
pub mod metrics;
mod observe;
pub(crate) mod schedule;
mod sim;

pub use sim::{
    Census, Prepared, Resource, Source, Stopped, TraceEvent, Tracer, default_queue_limit,
};

#[cfg(test)]
mod tests;

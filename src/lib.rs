//! # patientflow
//!
//! A discrete-event simulator of discharge-to-community patient flow for a
//! borough health and care partnership (reference case: Tower Hamlets
//! Together). See `docs/model.md` and the README.
pub mod cli;
pub mod engine;
pub mod experiment;
pub mod model;
pub mod report;
pub mod scenario;
pub mod signals;
pub mod stats;
pub mod validate;

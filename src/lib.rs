//! # patientflow
//!
//! A discrete-event simulator of discharge-to-community patient flow for a
//! borough health and care partnership (reference case: Tower Hamlets
//! Together): the physician response unit, the emergency department, the
//! frailty assessment unit, acute beds and discharge pathways, community
//! nursing teams, rehab beds and care homes. It runs Monte Carlo
//! replications in parallel, each a pure function of (scenario, seed,
//! replication index), so results are identical on any thread count.
//!
//! The model is specified in `docs/model.md` and the scenario file format in
//! `docs/scenario-format.md`; the command-line program (`patientflow run`,
//! `compare`, `sweep`, ...) is described in the README.
//!
//! # Layers
//!
//! The modules, what each owns and how they depend on one another are
//! described once, in `docs/architecture.md`.
//!
//! # Example
//!
//! Load the shipped baseline with a shorter window, run three replications
//! on one thread and read a metric:
//!
//! ```
//! use std::path::Path;
//!
//! use patientflow::experiment::{Progress, run_replications};
//! use patientflow::model::Prepared;
//! use patientflow::model::metrics::Metric;
//! use patientflow::scenario::load;
//!
//! let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/tower-hamlets-baseline.toml");
//! // `--set` overrides, checked exactly as values in the file are.
//! let sets = ["scenario.warm_up=30d".to_string(), "scenario.horizon=30d".to_string()];
//! let loaded = load(&path, &sets)?;
//! let prepared = Prepared::new(loaded.scenario);
//!
//! let results = run_replications(&prepared, &[0, 1, 2], 1, Progress::Hidden)?;
//! let admissions: Vec<f64> = results.iter().map(|r| r.metrics[Metric::Admissions]).collect();
//! assert_eq!(admissions.len(), 3);
//! assert!(admissions.iter().all(|&a| a > 0.0));
//!
//! // The same replication gives the same result, whatever ran before it.
//! let again = run_replications(&prepared, &[1], 1, Progress::Hidden)?;
//! assert_eq!(again[0].metrics[Metric::Admissions], admissions[1]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

#[macro_use]
mod say;

pub mod cli;
pub mod engine;
pub mod experiment;
pub mod model;
pub mod notice;
pub mod queueing;
pub mod report;
pub mod scenario;
pub mod signals;
pub mod stats;
pub mod verify;

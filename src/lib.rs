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
//! - [`engine`]: the event list and random streams (knows nothing of hospitals);
//! - [`model`]: the patient flow model, one replication at a time, and its metrics;
//! - [`scenario`]: TOML scenario files to a validated [`scenario::Scenario`];
//! - [`experiment`]: replications in parallel, comparisons, sweeps, shards;
//! - [`stats`]: percentiles, confidence intervals, warm-up statistics;
//! - [`report`]: CSV, JSON, the terminal table and the reports.
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

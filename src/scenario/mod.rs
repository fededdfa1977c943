//! Scenario files: raw TOML -> validated [`Scenario`].
//!
//! Loading runs in two stages. `doc` + `raw`: each input is parsed by
//! `toml` and placed in one span space (a source map over every file and
//! `--set`), `extends` chains are merged and overrides applied, and the
//! merged document is deserialized by `toml` into structs mirroring the file
//! (shape and single-value checks, each error located by its span).
//! `convert`: those structs become a [`Scenario`], checking what relates
//! several values.
pub mod calendar;
pub mod calibration;
mod convert;
pub mod dated;
pub mod dist;
mod doc;
mod error;
mod keys;
mod load;
mod raw;
mod serde_errors;
pub mod start;
mod suggest;
pub mod types;
pub mod uncertain;

pub use dated::{DatedKey, DatedValue, RateChange};
pub use doc::Origin;
pub(crate) use doc::split_key;
pub use error::{
    ErrorKind, ErrorOrigin, MAX_TOKEN_CHARS, ScenarioError, human_fixed, human_number,
    truncate_token,
};
pub use load::{
    DocEntry, Judged, LoadedScenario, MAX_EXTENDS_DEPTH, MAX_FILE_BYTES, Node, ScenarioDoc,
    ScenarioParts, file_identity, load, load_bytes, load_rebased, load_unswept, sha256_hex,
};
pub use types::*;

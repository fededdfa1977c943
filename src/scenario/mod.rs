//! Scenario files: raw TOML -> validated [`Scenario`].
//!
//! Loading runs in two stages. `tree` + `de` + `raw`: each file is parsed
//! into an owned tree that remembers where every value came from, `extends`
//! chains are merged and `--set` overrides applied, and the tree is
//! deserialized into structs mirroring the file (shape and single-value
//! checks, each error located). `convert`: those structs become a
//! [`Scenario`], checking what relates several values.
pub mod calendar;
mod convert;
mod de;
pub mod dist;
mod error;
mod keys;
mod load;
mod raw;
mod suggest;
mod tree;
pub mod types;

pub use error::{
    ErrorKind, ErrorOrigin, MAX_TOKEN_CHARS, ScenarioError, human_fixed, human_number,
    truncate_token,
};
pub use load::{
    DocEntry, LoadedScenario, MAX_EXTENDS_DEPTH, MAX_FILE_BYTES, ScenarioDoc, load, load_bytes,
    sha256_hex,
};
pub(crate) use tree::split_key;
pub use tree::{Node, Origin};
pub use types::*;

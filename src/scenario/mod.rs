//! Scenario files: raw TOML -> validated [`Scenario`].
pub mod calendar;
pub mod dist;
mod error;
mod load;
pub mod types;

pub use error::ScenarioError;
pub use load::{LoadedScenario, load};
pub use types::*;

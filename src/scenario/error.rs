//! PLACEHOLDER: replaced by the scenario loader.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ScenarioError(pub String);

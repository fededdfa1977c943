//! The integration tests, one binary: each module was once its own test
//! file. Linking the crate once instead of ten times saves minutes of a clean
//! `cargo test --release` on two cores. Run one module with
//! `cargo test --release --test it MODULE::`.

#[path = "../common/mod.rs"]
mod common;

mod backtest;
mod board_metrics;
mod bounds;
mod broken_corpus;
mod calibration;
mod care_home_search;
mod census;
mod cli;
mod counterfactual;
mod dated_rates;
mod distributions;
mod home_care;
mod hostile;
mod kept_draws;
mod limits;
mod mental_health;
mod outputs;
mod plans;
mod redteam;
mod redteam_dated;
mod redteam_kept;
mod redteam_today;
mod redteam_uncertain;
mod report;
mod report_outputs;
mod report_plans;
mod report_sentences;
mod review;
mod review_kept;
mod scenario_load;
mod start_state;
mod tamper;
mod typed;
mod uncertain_shares;
mod uncertainty;
mod validation;
mod warnings;
mod yearly;
mod years;

//! Arbitrary bytes as scenario input: loading and validating must return a
//! located, short error or a scenario, never panic.
//!
//! The first byte chooses what the rest is (its value modulo 3):
//! - 0, a scenario file. Comment lines `#set KEY=VALUE` in it are also
//!   applied as `--set` overrides (to TOML they are comments, so the rest
//!   parses as written).
//! - 1, `--set` assignments, one a line, applied to the shipped baseline.
//! - 2, the body of a `[sweep]` table appended to the baseline (lines
//!   `#set KEY=VALUE` applied as `--set`s too): every plan is built and
//!   checked as `patientflow sweep` does before running anything.
//!
//! When a scenario loads, its resolved TOML (what `run.json` records) must
//! load again, and the offered-load check and the size limits run on it.
//! Every error's text must stay short: user text is quoted truncated.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use patientflow::experiment::check::{offered_load, size_limits};
use patientflow::experiment::{Settings, plans::sweep_plans};
use patientflow::scenario::{LoadedScenario, ScenarioDoc, load_bytes};

const BASELINE: &str = include_str!("../../scenarios/tower-hamlets-baseline.toml");

/// The most bytes an error message may take, whatever the input.
const MAX_MESSAGE: usize = 4096;

fn sets_in(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("#set "))
        .map(str::to_string)
        .collect()
}

fn short(e: &dyn std::fmt::Display) {
    let text = e.to_string();
    assert!(
        text.len() <= MAX_MESSAGE,
        "a message of {} bytes: {}",
        text.len(),
        text.chars().take(2000).collect::<String>()
    );
}

/// What must hold of every scenario that loads.
fn loaded_ok(path: &Path, loaded: &LoadedScenario) {
    if let Err(e) = load_bytes(loaded.resolved_toml.as_bytes(), path, &[]) {
        panic!(
            "the resolved document does not load again: {e}\n{}",
            loaded.resolved_toml
        );
    }
    let check = offered_load(&loaded.scenario);
    if let Err(t) = size_limits(&loaded.scenario, &check) {
        short(&t.message);
    }
}

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.toml");
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => {
            let sets = sets_in(&String::from_utf8_lossy(rest));
            match load_bytes(rest, path, &sets) {
                Ok(loaded) => loaded_ok(path, &loaded),
                Err(e) => short(&e),
            }
        }
        1 => {
            let sets: Vec<String> = String::from_utf8_lossy(rest)
                .lines()
                .map(str::to_string)
                .collect();
            match load_bytes(BASELINE.as_bytes(), path, &sets) {
                Ok(loaded) => loaded_ok(path, &loaded),
                Err(e) => short(&e),
            }
        }
        _ => {
            let Ok(body) = std::str::from_utf8(rest) else {
                return;
            };
            let text = format!("{BASELINE}\n[sweep]\n{body}");
            let doc = match ScenarioDoc::parse_str(&text, path) {
                Ok(doc) => doc,
                Err(e) => return short(&e),
            };
            let settings = Settings {
                sets: sets_in(body),
                ..Settings::default()
            };
            match sweep_plans(path, doc, &settings) {
                Ok((_, arms)) => {
                    for arm in arms.iter().take(3) {
                        loaded_ok(path, &arm.loaded);
                    }
                }
                Err(e) => short(&e),
            }
        }
    }
});

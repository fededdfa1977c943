//! Arbitrary bytes as a scenario file: loading and validating must return a
//! located error or a scenario, never panic.
//!
//! Comment lines `#set KEY=VALUE` in the input are also applied as `--set`
//! overrides (to TOML they are comments, so the rest of the file parses as
//! written). When a scenario loads, its resolved TOML (what `run.json`
//! records) must load again: a document the loader wrote must be one it reads.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use patientflow::scenario::load_bytes;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.toml");
    let sets: Vec<String> = String::from_utf8_lossy(data)
        .lines()
        .filter_map(|l| l.strip_prefix("#set "))
        .map(str::to_string)
        .collect();
    let Ok(loaded) = load_bytes(data, path, &sets) else {
        return;
    };
    if let Err(e) = load_bytes(loaded.resolved_toml.as_bytes(), path, &[]) {
        panic!(
            "the resolved document does not load again: {e}\n{}",
            loaded.resolved_toml
        );
    }
    patientflow::experiment::check::offered_load(&loaded.scenario);
});

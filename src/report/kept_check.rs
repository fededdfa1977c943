//! Holds a `run.json`'s record of the kept draws (`kept_draws`,
//! `docs/model.md`, "Keeping only the draws the calibration allows") to
//! what a run can write, before `report DIR` or `merge` draws
//! `parameters.csv`, the plausible ranges and their drivers from it: an
//! edited record (a replication's draw missing or changed, the record
//! removed) would otherwise give other worlds' values without a word.

use std::collections::BTreeSet;

use super::RunManifest;

/// Why `manifest`'s `kept_draws` is not one a run writes, from the
/// manifest alone; `None` when it may be.
pub fn problem(manifest: &RunManifest) -> Option<String> {
    let edited = |what: String| Some(format!("{what}; was run.json edited?"));
    // Without a record, only a scenario that may keep calibrated draws is
    // read again (a run without uncertain values, or whose resolved text
    // never says "calibrated", cannot): reading every run's scenario would
    // cost a report more than its tables.
    let uncertain = manifest
        .scenario_facts
        .as_ref()
        .is_some_and(|f| !f.uncertain_values.is_empty());
    if manifest.kept_draws.is_none()
        && !(uncertain && manifest.resolved_toml.contains("calibrated"))
    {
        return None;
    }
    let rule = crate::scenario::ScenarioDoc::parse_str(
        &manifest.resolved_toml,
        std::path::Path::new("run.json (resolved_toml)"),
    )
    .and_then(|d| d.to_parts())
    .ok()
    .map(|p| p.keep);
    let Some(k) = &manifest.kept_draws else {
        return match rule {
            Some(Some(_)) => edited(
                "its scenario keeps only the calibrated draws (`uncertainty.keep`) but it has \
                 no record of them (`kept_draws`)"
                    .into(),
            ),
            _ => None,
        };
    };
    match rule {
        Some(None) => {
            return edited(
                "it records kept draws (`kept_draws`) but its scenario keeps every draw".into(),
            );
        }
        Some(Some(r))
            if r.cutoff.to_bits() != k.cutoff.to_bits()
                || r.central_replications != k.central_replications
                || r.max_draws != k.max_draws =>
        {
            return edited(
                "its `kept_draws` records another rule (`cutoff`, `central_replications`, \
                 `max_draws`) than its scenario's `[uncertainty]`"
                    .into(),
            );
        }
        _ => {}
    }
    if let Some(f) = k
        .noise_sd
        .iter()
        .find(|f| !(f.sd >= 0.0 && f.sd.is_finite()))
    {
        return edited(format!(
            "`kept_draws.noise_sd` gives \"{}\" the noise {}, not a standard deviation",
            f.name, f.sd
        ));
    }
    if let Some(name) = k
        .outside
        .keys()
        .find(|n| !k.noise_sd.iter().any(|f| &f.name == *n))
    {
        return edited(format!(
            "`kept_draws.outside` names \"{name}\", which is not one of its figures \
             (`kept_draws.noise_sd`)"
        ));
    }
    if let Some((r, d)) = k.draw.iter().find(|(_, d)| **d >= k.max_draws) {
        return edited(format!(
            "`kept_draws.draw` gives replication {r} the draw {d}, but a replication tries \
             only draws 0 to {} (`max_draws` {})",
            k.max_draws.saturating_sub(1),
            k.max_draws
        ));
    }
    let held: BTreeSet<u32> = match &manifest.shard {
        Some(s) => s.replications.iter().copied().collect(),
        None => (0..manifest.replications).collect(),
    };
    if let Some(r) = k.draw.keys().find(|r| !held.contains(r)) {
        return edited(format!(
            "`kept_draws.draw` gives a draw to replication {r}, which this directory does not \
             hold"
        ));
    }
    // Replication r tried draws 0 to d_r: d_r + 1 draws.
    let tried: u64 = k.draw.values().map(|d| u64::from(*d) + 1).sum();
    if tried != k.tried {
        return edited(format!(
            "`kept_draws.tried` is {} but its kept draws (`kept_draws.draw`) took {tried} \
             draws to find",
            k.tried
        ));
    }
    None
}

/// Why `manifest`'s kept draws are not those of `replications`, the
/// replications whose values the directory holds; `None` when they are
/// (or when it keeps every draw).
pub fn replications_problem(manifest: &RunManifest, replications: &[u32]) -> Option<String> {
    let k = manifest.kept_draws.as_ref()?;
    let held: BTreeSet<u32> = replications.iter().copied().collect();
    let recorded: BTreeSet<u32> = k.draw.keys().copied().collect();
    let missing = held.difference(&recorded).next();
    let extra = recorded.difference(&held).next();
    match (missing, extra) {
        (Some(r), _) => Some(format!(
            "`kept_draws.draw` has no draw for replication {r}, whose values it holds; was \
             run.json edited?"
        )),
        (None, Some(r)) => Some(format!(
            "`kept_draws.draw` gives a draw to replication {r}, whose values it does not hold; \
             was run.json edited?"
        )),
        (None, None) => None,
    }
}

/// Why the `parameters.csv` in `dir` is not the one `manifest`'s record of
/// the uncertain values and kept draws gives for `replications`; `None`
/// when it is, or when there is no such file to hold it to.
pub fn parameters_problem(
    dir: &std::path::Path,
    manifest: &RunManifest,
    replications: &[u32],
) -> Option<String> {
    use std::io::Read;
    let u = super::uncertainty::uncertainty_of(manifest)?;
    let path = dir.join(super::uncertainty::PARAMETERS_FILE);
    let mut text = String::new();
    super::readback::open_regular(&path)
        .ok()?
        .take(super::readback::MAX_TEXT_BYTES)
        .read_to_string(&mut text)
        .ok()?;
    (text != super::uncertainty::parameters_csv(&u, replications)).then(|| {
        format!(
            "{}: its values are not those that run.json's record of the uncertain values \
             (`scenario_facts.uncertain_values`, `kept_draws.draw`) gives; was run.json or \
             parameters.csv edited?",
            path.display()
        )
    })
}

//! `patientflow merge`: shards back into one run.
//!
//! Every statistic is recomputed from the per-replication values the shards
//! wrote, in replication order, by the same code as a run in one piece, so
//! the merged CSV files are byte-identical to that run's. Before anything
//! is computed, the shards must agree on what they ran (the resolved
//! scenario's SHA-256, seed, replications, version, window), and every
//! replication must be present exactly once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::model::metrics::ReplicationResult;
use crate::report::readback::{self, SeriesDays};
use crate::report::{self, ExperimentManifest, RunManifest};

use super::ExperimentError;
use super::commands::{ArmRun, Finished, claim_out, io_error, write_experiment};
use crate::notice::{Notice, Notices};

fn read(path: &Path) -> Result<String, ExperimentError> {
    readback::read_json(path).map_err(ExperimentError::Merge)
}

/// Merges the shard directories `dirs` (all of a run, or all of a
/// comparison or sweep) into `out`.
///
/// `cancel`, when set (an interrupt), stops the write of the outputs: exit
/// 130, nothing written. Shards read without checksums are told to
/// `notices`.
pub fn merge(
    dirs: &[PathBuf],
    out: &Path,
    command_line: Vec<String>,
    cancel: Option<&AtomicBool>,
    notices: &Notices,
) -> Result<Finished, ExperimentError> {
    if dirs.is_empty() {
        return Err(ExperimentError::Usage(
            "merge: give the shard directories".into(),
        ));
    }
    // Writing over a shard would destroy an input: refuse before reading.
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    };
    if let Some(d) = dirs.iter().find(|d| same(d, out)) {
        return Err(ExperimentError::Usage(format!(
            "merge: --out {} is one of the shard directories; choose another",
            d.display()
        )));
    }
    let mut out_dir = claim_out(out, false, notices)?;
    let stop = || cancel.is_some_and(|c| c.load(Ordering::SeqCst));
    let experiment: Vec<bool> = dirs
        .iter()
        .map(|d| d.join(report::EXPERIMENT_FILE).is_file())
        .collect();
    if experiment.iter().all(|&e| e) {
        merge_experiment(dirs, &mut out_dir, command_line, &stop, notices)
    } else if experiment.iter().any(|&e| e) {
        Err(ExperimentError::Merge(
            "merge: some directories are comparison or sweep shards (experiment.json) and \
             some are not; merge shards of one command at a time"
                .into(),
        ))
    } else {
        let (manifest, results) = merge_runs(dirs, command_line, notices)?;
        let first_day = crate::scenario::calendar::Date::parse(&manifest.first_day_date)
            .ok_or_else(|| {
                ExperimentError::Merge(format!(
                    "{}: first_day_date `{}` is not a date",
                    dirs[0].join("run.json").display(),
                    manifest.first_day_date
                ))
            })?;
        let io = io_error(out);
        let files = report::render_run_files_until(
            &results,
            first_day,
            &manifest,
            &report::WriteOptions::default(),
            &stop,
        )
        .map_err(&io)?;
        out_dir.write(&files, &stop).map_err(io)?;
        Ok(Finished {
            out: out.to_path_buf(),
            stdout: format!(
                "{}{}{}\nMerged {} shards ({} replications). Outputs written to {}\n",
                report::format_summary_table(&results, &manifest.warnings),
                report::uncertainty::kept_sentence(&manifest)
                    .map_or_else(String::new, |s| format!("{s}\n")),
                report::uncertainty::overloaded_sentence(&manifest)
                    .map_or_else(String::new, |s| format!("{} {s}\n", report::TERMINAL_MARK)),
                dirs.len(),
                results.len(),
                out.display()
            ),
        })
    }
}

/// Reads a shard's `run.json` and holds it to the scenario it records
/// (see [`readback::check_run_manifest`]); returns it with the window its
/// files cover.
fn read_run_manifest(dir: &Path) -> Result<(RunManifest, SeriesDays), ExperimentError> {
    let path = dir.join("run.json");
    let text = read(&path)?;
    let err = |m: String| ExperimentError::Merge(format!("{}: {m}", path.display()));
    let manifest: RunManifest = serde_json::from_str(&text).map_err(|e| err(e.to_string()))?;
    if let Some(why) = crate::report::uncertainty::record_problem(&manifest) {
        return Err(err(why));
    }
    let doc = crate::scenario::ScenarioDoc::parse_str(
        &manifest.resolved_toml,
        Path::new("run.json (resolved_toml)"),
    )
    .map_err(|e| err(format!("the resolved scenario does not load: {e}")))?;
    let scenario = doc
        .to_scenario()
        .map_err(|e| err(format!("the resolved scenario does not load: {e}")))?;
    if let Some(why) = record_mismatch(&manifest, &doc) {
        return Err(err(why));
    }
    let prepared = crate::model::Prepared::new(scenario.clone());
    let timing = super::facts::timing(&scenario, &prepared);
    let window = readback::check_run_manifest(&manifest, &timing).map_err(err)?;
    Ok((manifest, window))
}

/// Why `manifest`'s record of the uncertain values
/// (`scenario_facts.uncertain_values`, from which the merged
/// `parameters.csv` and plausible ranges are drawn) is not that of its
/// resolved scenario `doc`, if it is not: an edited `run.json`.
fn record_mismatch(manifest: &RunManifest, doc: &crate::scenario::ScenarioDoc) -> Option<String> {
    use crate::scenario::truncate_token;
    use crate::scenario::uncertain::Draws;
    let recorded = &manifest.scenario_facts.as_ref()?.uncertain_values;
    let resolved = Draws::new(doc.uncertain_values().ok()?, manifest.seed).recorded();
    if *recorded == resolved {
        return None;
    }
    let first = recorded
        .iter()
        .zip(&resolved)
        .position(|(a, b)| a != b)
        .unwrap_or(recorded.len().min(resolved.len()));
    let key = recorded
        .get(first)
        .or(resolved.get(first))
        .map_or("", |v| &v.key);
    Some(format!(
        "its record of the uncertain values (`scenario_facts.uncertain_values`, {} values) is \
         not that of its resolved scenario ({} values), from `{}` on: the file was edited; run \
         the scenario again",
        recorded.len(),
        resolved.len(),
        truncate_token(key)
    ))
}

/// Says how two manifests differ in what they ran, if they do.
fn run_mismatch(a: &RunManifest, b: &RunManifest) -> Option<String> {
    // Most telling first: a different seed also changes the SHA-256.
    // What is compared, and how a manifest states it.
    type Field = fn(&RunManifest) -> String;
    let checks: [(&str, Field); 7] = [
        ("seed", |m| m.seed.to_string()),
        ("replications", |m| m.replications.to_string()),
        ("software version", |m| m.software_version.clone()),
        ("first day", |m| m.first_day_date.clone()),
        ("warm-up hours", |m| m.warm_up_hours.to_string()),
        ("horizon hours", |m| m.horizon_hours.to_string()),
        ("resolved scenario SHA-256", |m| m.sha256.clone()),
    ];
    checks
        .into_iter()
        .map(|(what, field)| (what, field(a), field(b)))
        .find(|(_, x, y)| x != y)
        .map(|(what, x, y)| format!("{what} {x} against {y}"))
}

/// Merges run shards: their manifests must match, and together they must
/// hold replications `0..N` exactly once. Returns the merged manifest and
/// the results in replication order.
pub(crate) fn merge_runs(
    dirs: &[PathBuf],
    command_line: Vec<String>,
    notices: &Notices,
) -> Result<(RunManifest, Vec<ReplicationResult>), ExperimentError> {
    let (manifests, windows): (Vec<RunManifest>, Vec<SeriesDays>) = dirs
        .iter()
        .map(|d| read_run_manifest(d))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .unzip();
    let first = &manifests[0];
    let mut by_rep: BTreeMap<u32, (usize, ReplicationResult)> = BTreeMap::new();
    for (i, (dir, m)) in dirs.iter().zip(&manifests).enumerate() {
        let Some(shard) = &m.shard else {
            return Err(ExperimentError::Merge(format!(
                "{}: not a shard (its run.json has no shard); merge combines the outputs of \
                 runs with --shard K/N",
                dir.display()
            )));
        };
        if let Some(diff) = run_mismatch(first, m) {
            return Err(ExperimentError::Merge(format!(
                "{} and {} are shards of different runs: {diff}",
                dirs[0].display(),
                dir.display()
            )));
        }
        let years = report::yearly::run_years(m);
        let mut needed = vec!["replications.csv", report::DAILY_REPLICATIONS_FILE];
        if !years.is_empty() {
            needed.push(report::yearly::YEARLY_REPLICATIONS_FILE);
        }
        match readback::verify_files(dir, "run.json", &m.files, &needed)
            .map_err(ExperimentError::Merge)?
        {
            readback::Verified::Yes => {}
            readback::Verified::NoChecksums => notices.send(Notice::Unverified {
                dir: dir.clone(),
                manifest: "run.json".into(),
            }),
        }
        let open = |path: &Path| readback::open(path).map_err(ExperimentError::Merge);
        let reps_path = dir.join("replications.csv");
        let rows = report::parse_replications_csv(open(&reps_path)?, shard.replications.len())
            .map_err(|e| ExperimentError::Merge(format!("{}: {e}", reps_path.display())))?;
        let daily_path = dir.join(report::DAILY_REPLICATIONS_FILE);
        let mut daily = report::parse_daily_replications_csv(
            open(&daily_path)?,
            &shard.replications,
            windows[i].first_day,
            windows[i].days,
        )
        .map_err(|e| ExperimentError::Merge(format!("{}: {e}", daily_path.display())))?;
        let mut yearly = if years.is_empty() {
            Default::default()
        } else {
            let path = dir.join(report::yearly::YEARLY_REPLICATIONS_FILE);
            report::yearly::parse_yearly_replications_csv(&read(&path)?, &years)
                .map_err(|e| ExperimentError::Merge(format!("{}: {e}", path.display())))?
        };
        let listed: Vec<u32> = rows.iter().map(|(r, _)| *r).collect();
        if listed != shard.replications {
            return Err(ExperimentError::Merge(format!(
                "{}: holds replications {} but its run.json lists {}",
                reps_path.display(),
                list(&listed),
                list(&shard.replications)
            )));
        }
        if let Some(why) = report::kept_check::replications_problem(m, &listed) {
            return Err(ExperimentError::Merge(format!(
                "{}: {why}",
                dir.join("run.json").display()
            )));
        }
        if let Some(why) = report::kept_check::parameters_problem(dir, m, &listed) {
            return Err(ExperimentError::Merge(why));
        }
        for (rep, metrics) in rows {
            let Some(series) = daily.remove(&rep) else {
                return Err(ExperimentError::Merge(format!(
                    "{}: no daily values for replication {rep}",
                    daily_path.display()
                )));
            };
            let result = ReplicationResult {
                replication: rep,
                metrics,
                daily: series,
                // Not an output: the event count is only for speed figures.
                events: 0,
                yearly: yearly.remove(&rep).unwrap_or_default(),
                // Kept in the shards' run.json (`overloaded_draws`).
                overloaded: Vec::new(),
                kept: None,
            };
            if result.yearly.len() != years.len() {
                return Err(ExperimentError::Merge(format!(
                    "{}: replication {rep} has {} planning years of {}",
                    dir.join(report::yearly::YEARLY_REPLICATIONS_FILE).display(),
                    result.yearly.len(),
                    years.len()
                )));
            }
            if let Some((j, _)) = by_rep.insert(rep, (i, result)) {
                return Err(ExperimentError::Merge(format!(
                    "replication {rep} is in both {} and {}",
                    dirs[j].display(),
                    dir.display()
                )));
            }
        }
        if let Some(extra) = daily.keys().next() {
            return Err(ExperimentError::Merge(format!(
                "{}: daily values for replication {extra}, which replications.csv does not hold",
                daily_path.display()
            )));
        }
    }
    let missing: Vec<u32> = (0..first.replications)
        .filter(|r| !by_rep.contains_key(r))
        .collect();
    if !missing.is_empty() {
        return Err(ExperimentError::Merge(format!(
            "{} of {} replications are missing: {} (is a shard directory left out?)",
            missing.len(),
            first.replications,
            list(&missing)
        )));
    }
    if let Some(extra) = by_rep.keys().find(|&&r| r >= first.replications) {
        return Err(ExperimentError::Merge(format!(
            "replication {extra} is beyond the run's {} replications",
            first.replications
        )));
    }
    let results: Vec<ReplicationResult> = by_rep.into_values().map(|(_, r)| r).collect();
    let mut merged = first.clone();
    merged.shard = None;
    merged.merged_from = dirs.iter().map(|d| d.display().to_string()).collect();
    merged.wall_time_seconds = manifests.iter().map(|m| m.wall_time_seconds).sum();
    merged.threads = manifests.iter().map(|m| m.threads).max().unwrap_or(1);
    merged.command_line = command_line;
    merged.overloaded_draws = BTreeMap::new();
    for m in &manifests {
        for (service, reps) in &m.overloaded_draws {
            merged
                .overloaded_draws
                .entry(service.clone())
                .or_default()
                .extend(reps);
        }
    }
    for reps in merged.overloaded_draws.values_mut() {
        reps.sort_unstable();
        reps.dedup();
    }
    merged.kept_draws = None;
    for (m, dir) in manifests.iter().zip(dirs) {
        match (&mut merged.kept_draws, &m.kept_draws) {
            (_, None) if first.kept_draws.is_none() => {}
            (None, Some(k)) => merged.kept_draws = Some(k.clone()),
            (Some(all), Some(k)) if all.same_rule(k) => all.merge(k),
            _ => {
                return Err(ExperimentError::Merge(format!(
                    "{}: its `kept_draws` (the rule that kept each replication's drawn world, \
                     and each figure's noise) is not the other shards': were they run with the \
                     same scenario and patientflow?",
                    dir.display()
                )));
            }
        }
    }
    Ok((merged, results))
}

/// `0, 2, 4` (at most 20 shown).
fn list(reps: &[u32]) -> String {
    let mut s: Vec<String> = reps.iter().take(20).map(u32::to_string).collect();
    if reps.len() > 20 {
        s.push(format!("... ({} in all)", reps.len()));
    }
    if s.is_empty() {
        "none".to_string()
    } else {
        s.join(", ")
    }
}

fn merge_experiment(
    dirs: &[PathBuf],
    out_dir: &mut report::OutputDir,
    command_line: Vec<String>,
    stop: &dyn Fn() -> bool,
    notices: &Notices,
) -> Result<Finished, ExperimentError> {
    let manifests = dirs
        .iter()
        .map(|d| {
            let path = d.join(report::EXPERIMENT_FILE);
            serde_json::from_str::<ExperimentManifest>(&read(&path)?)
                .map_err(|e| ExperimentError::Merge(format!("{}: {e}", path.display())))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let first = &manifests[0];
    for (dir, m) in dirs.iter().zip(&manifests) {
        if m.shard.is_none() {
            return Err(ExperimentError::Merge(format!(
                "{}: not a shard (its {} has no shard)",
                dir.display(),
                report::EXPERIMENT_FILE
            )));
        }
        let same = m.kind == first.kind
            && m.seed == first.seed
            && m.replications == first.replications
            && m.software_version == first.software_version
            && m.swept_keys == first.swept_keys
            && m.arms == first.arms;
        if !same {
            return Err(ExperimentError::Merge(format!(
                "{} and {} are shards of different {}s (scenarios, seed, replications or \
                 version differ; compare their {} files)",
                dirs[0].display(),
                dir.display(),
                first.kind,
                report::EXPERIMENT_FILE
            )));
        }
    }
    let mut runs = Vec::with_capacity(first.arms.len());
    for arm in &first.arms {
        let arm_dirs: Vec<PathBuf> = dirs.iter().map(|d| d.join(&arm.name)).collect();
        let (manifest, results) = merge_runs(&arm_dirs, command_line.clone(), notices)?;
        runs.push(ArmRun { manifest, results });
    }
    let mut merged = first.clone();
    merged.shard = None;
    merged.merged_from = dirs.iter().map(|d| d.display().to_string()).collect();
    merged.wall_time_seconds = manifests.iter().map(|m| m.wall_time_seconds).sum();
    merged.command_line = command_line;
    let mut finished = write_experiment(&merged, &runs, out_dir, stop)?;
    finished.stdout = format!("Merged {} shards.\n{}", dirs.len(), finished.stdout);
    Ok(finished)
}

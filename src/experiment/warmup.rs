//! `patientflow warmup`: evidence for the warm-up length.
//!
//! The scenario runs from empty with no warm-up over a long horizon; each
//! daily series is averaged over replications and smoothed with Welch's
//! moving average (for the modeller's eye), and MSER-5 on the averaged
//! series suggests how many days to discard (for a number to cite). The
//! STRESS-DES checklist (Monks et al. 2019, item 4.1) asks a model's report
//! to justify its warm-up in this way.

use std::path::Path;
use std::time::Instant;

use crate::model::metrics::Series;
use crate::report::{self, WarmupRow};
use crate::scenario;
use crate::stats::{mser, welch_moving_average};

use super::ExperimentError;
use super::check::MAX_SIMULATED_DAYS;
use super::commands::{Finished, Settings};
use crate::report::prose::prose_count;

/// Days per batch in MSER (MSER-5).
pub const MSER_BATCH: usize = 5;

/// Options of the warm-up analysis.
#[derive(Clone, Debug)]
pub struct WarmupOptions {
    /// Days to simulate from empty.
    pub days: u32,
    /// Welch window: days either side.
    pub window: usize,
}

/// The suggestion for one series.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Suggestion {
    /// The daily series analysed.
    pub series: Series,
    /// Days to discard, by MSER-5; `None` if the series is too short.
    pub days: Option<usize>,
    /// True when the minimum lies at the end of the searched half: the run
    /// is too short to show the end of the transient.
    pub at_search_limit: bool,
}

/// Runs the analysis and writes `warmup.csv` and `run.json`.
pub fn warmup(
    path: &Path,
    out: Option<&Path>,
    options: &WarmupOptions,
    settings: &Settings,
) -> Result<Finished, ExperimentError> {
    if options.days < 2 * MSER_BATCH as u32 {
        return Err(ExperimentError::Usage(format!(
            "--days: expected at least {} days for MSER-{MSER_BATCH}, found {}",
            2 * MSER_BATCH,
            options.days
        )));
    }
    if f64::from(options.days) > MAX_SIMULATED_DAYS {
        return Err(ExperimentError::TooLarge(format!(
            "error: --days: run refused before starting: {} days from empty; the most a run \
             simulates is {} days (100 years)",
            prose_count(u64::from(options.days)),
            prose_count(MAX_SIMULATED_DAYS as u64)
        )));
    }
    if options.window >= options.days as usize {
        return Err(ExperimentError::Usage(format!(
            "--window: expected fewer days than --days ({}), found {}",
            options.days, options.window
        )));
    }
    settings.check_counts()?;
    let started = Instant::now();
    let mut sets = settings.overrides();
    // From empty, no warm-up, over the analysis horizon: the transient is
    // what we want to see.
    sets.push("scenario.warm_up=0d".to_string());
    sets.push(format!("scenario.horizon={}d", options.days));
    let loaded = scenario::load(path, &sets)?;
    // Counted before anything is allocated: days, replications x days of
    // results, crises a replication.
    let check = super::commands::sized_analysis(&loaded, settings)?;
    let configured_warm_up_days = scenario::load(path, &settings.overrides())?
        .scenario
        .warm_up_hours
        / 24.0;
    let (out, mut out_dir) = super::commands::claim_analysis_out(out, path, "warmup", settings)?;
    // As a run's: told now, and kept in run.json.
    let stem = super::commands::file_stem(path);
    let warnings: Vec<crate::report::Warning> = check
        .services
        .iter()
        .filter_map(|s| crate::report::Warning::of(&stem, &path.display().to_string(), s))
        .collect();
    let sc = &loaded.scenario;
    let threads = super::commands::announce_analysis(
        settings,
        sc,
        &format!("warm-up analysis: {}", sc.name),
        &format!(" x {} days from empty", options.days),
    );
    for w in &warnings {
        settings
            .notices
            .send(crate::notice::Notice::Warning(w.clone()));
    }
    let prepared = settings.prepare_daily(loaded.scenario.clone());
    let results = settings.run_all(&prepared, sc.replications, threads)?;

    // Mean over replications, by the same code as daily.csv.
    let daily = report::summarise_daily(&results);
    let days = report::daily_len(&results);
    let mut means = vec![vec![f64::NAN; days]; Series::ALL.len()];
    for row in &daily {
        means[row.series.index()][row.day] = row.summary.mean;
    }
    let smoothed: Vec<Vec<f64>> = means
        .iter()
        .map(|m| welch_moving_average(m, options.window))
        .collect();
    let mut rows = Vec::with_capacity(days * Series::ALL.len());
    for day in 0..days {
        for s in Series::ALL {
            rows.push(WarmupRow {
                day,
                series: s,
                mean: means[s.index()][day],
                moving_average: smoothed[s.index()][day],
            });
        }
    }
    let suggestions: Vec<Suggestion> = Series::ALL
        .iter()
        .map(|&s| {
            let r = mser(&means[s.index()], MSER_BATCH);
            Suggestion {
                series: s,
                days: r.map(|r| r.truncate),
                at_search_limit: r.is_some_and(|r| r.truncate == (r.batches / 2) * MSER_BATCH),
            }
        })
        .collect();

    let manifest = report::RunManifest {
        warnings,
        ..super::commands::manifest_of(
            path,
            &loaded,
            &prepared,
            sc.replications,
            threads,
            started,
            settings,
        )
    };
    let files = vec![(
        "warmup.csv".to_string(),
        report::render_warmup_csv(&rows, prepared.first_day()),
    )];
    super::commands::write_analysis(&mut out_dir, &out, files, &manifest, settings)?;

    let mut stdout = format!(
        "MSER-{MSER_BATCH} on the daily series averaged over {} replications ({} days from \
         empty; Welch moving average, window {} days either side, in warmup.csv):\n",
        sc.replications, options.days, options.window
    );
    for s in &suggestions {
        let text = match s.days {
            Some(d) if s.at_search_limit => format!(
                "{d} days or more: the minimum is at the end of the searched first half; \
                 run longer (--days)"
            ),
            Some(d) => format!("{d} days"),
            None => "too short to tell".to_string(),
        };
        stdout.push_str(&format!("  {:<24} {text}\n", s.series.name()));
    }
    if let Some(longest) = suggestions.iter().filter_map(|s| s.days).max() {
        stdout.push_str(&format!(
            "Suggested warm-up: at least {longest} days (the longest of the series); the \
             scenario sets {configured_warm_up_days} days.\n"
        ));
    }
    stdout.push_str(&format!("Outputs written to {}\n", out.display()));
    Ok(Finished { out, stdout })
}

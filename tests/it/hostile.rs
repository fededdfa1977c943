//! Extreme plans, interruptions and output directories, as a user meets
//! them: the real binary, real signals, real directories.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use patientflow::experiment::check::{self, Verdict};
use patientflow::model::Prepared;
use patientflow::model::metrics::{Metric, Series};
use patientflow::scenario::load;

use crate::common::{
    baseline, baseline_command, bin, long_run, run, run_baseline, run_into, text, write_extending,
};

// ---------------------------------------------------------------------------
// check

#[test]
fn check_passes_the_baseline_and_names_an_overloaded_service() {
    let out = run(&["check", &baseline()]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    for service in [
        "acute beds",
        "community nursing",
        "rehab beds",
        "care home beds",
    ] {
        assert!(stdout.contains(service), "{stdout}");
    }
    assert!(!stdout.contains("OVERLOADED"), "{stdout}");

    let out = run(&["check", &baseline(), "--set", "acute.beds=300"]);
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stdout}{stderr}");
    let row = stdout
        .lines()
        .find(|l| l.starts_with("acute beds"))
        .expect("a row for acute beds");
    assert!(row.contains("OVERLOADED"), "{row}");
    assert!(stderr.contains("overloaded: acute beds"), "{stderr}");

    // A broken scenario is an input error for check as for run.
    let out = run(&["check", &baseline(), "--set", "pru.cars=-1"]);
    assert_eq!(out.status.code(), Some(2));
}

/// The flow balance against the simulation: on the baseline, each queueing
/// service's offered load is within 3% of the simulated mean occupancy (the
/// services are stable, so what is offered is what is carried; 3% bounds the
/// balance's approximations, documented in check.rs) plus 4 standard errors
/// of that mean over the replications run. The sampling term matters for
/// care homes: with stays of about two years, a replication's occupancy
/// varies by about 9 beds of 300 from one replication to the next.
#[test]
fn check_agrees_with_a_run_of_the_baseline() {
    const N: u32 = 8;
    let loaded = load(
        Path::new(&baseline()),
        &[format!("scenario.replications={N}")],
    )
    .expect("loads");
    let c = check::offered_load(&loaded.scenario);
    assert!(c.converged);
    let prepared = Prepared::new(loaded.scenario.clone());
    let results: Vec<_> = (0..N)
        .map(|r| prepared.simulate(r).expect("the baseline is stable"))
        .collect();
    // Mean and standard error over the replications of `value`.
    let mean_se = |value: &dyn Fn(&patientflow::model::metrics::ReplicationResult) -> f64| {
        let xs: Vec<f64> = results.iter().map(value).collect();
        let n = f64::from(N);
        let mean = xs.iter().sum::<f64>() / n;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        (mean, (var / n).sqrt())
    };
    let offered = |name: &str| {
        c.services
            .iter()
            .find(|s| s.service == name)
            .map(|s| (s.offered, s.capacity, s.verdict()))
            .expect("the service")
    };
    let places = loaded.scenario.community_places() as f64;
    for (name, (simulated, se)) in [
        (
            "acute beds",
            mean_se(&|r| r.metrics[Metric::BedOccupancyMean]),
        ),
        (
            "community nursing",
            mean_se(&|r| r.metrics[Metric::CommunityUtilisation] * places),
        ),
        (
            "rehab beds",
            mean_se(&|r| r.metrics[Metric::RehabOccupancyMean]),
        ),
        (
            "care home beds",
            mean_se(&|r| r.metrics[Metric::CareHomeOccupancyMean]),
        ),
    ] {
        let (load, _, verdict) = offered(name);
        assert!(
            (load - simulated).abs() <= 0.03 * simulated + 4.0 * se,
            "{name}: offered {load:.1}, simulated {simulated:.1} (SE {se:.2})"
        );
        assert_ne!(verdict, Verdict::Overloaded, "{name}");
    }
    let days = loaded.scenario.horizon_hours / 24.0;
    let (admissions, se) = mean_se(&|r| r.metrics[Metric::Admissions] / days);
    assert!(
        (c.flows.admissions - admissions).abs() <= 0.02 * admissions + 4.0 * se,
        "admissions a day: balance {:.1}, simulated {admissions:.1} (SE {se:.2})",
        c.flows.admissions
    );
}

// ---------------------------------------------------------------------------
// The unstable-queue bound, with its default.

#[test]
fn an_unstable_plan_stops_in_bounded_time_at_the_queue_bound() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("out");
    let started = Instant::now();
    let out = run_baseline(
        &out_dir,
        "2",
        &["community.teams=10", "scenario.horizon=3650d"],
        &["--max-queue", "5000"],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    // Warned before the run, by the check, and stopped by the bound.
    assert!(
        stderr.contains("warning: ")
            && stderr.contains("community nursing: offered load")
            && stderr.contains("utilisation"),
        "{stderr}"
    );
    // Community nursing overloaded: P1 patients (served last) wait in acute
    // beds, so the bed queue may reach the bound first.
    assert!(
        stderr.contains("the queue for community nursing reached")
            || stderr.contains("the queue for acute beds reached"),
        "{stderr}"
    );
    assert!(stderr.contains("the bound is 5000"), "{stderr}");
    assert!(!out_dir.exists());
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[test]
fn an_overloaded_plan_that_finishes_keeps_the_warning_with_its_figures() {
    // Four weeks is too short for the queue to reach its bound: the run
    // finishes, and run.json says the figures are of an unstable system.
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("out");
    let out = run_baseline(
        &out_dir,
        "1",
        &[
            "scenario.warm_up=0d",
            "scenario.horizon=28d",
            "care_homes.beds=200",
        ],
        &[],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("care home beds: offered load"), "{stderr}");
    let manifest = manifest_of(&out_dir);
    let warnings = manifest["warnings"].as_array().expect("warnings");
    assert!(
        warnings.iter().any(|w| w["message"]
            .as_str()
            .is_some_and(|w| w.contains("care home beds: offered load"))),
        "{warnings:?}"
    );
}

// ---------------------------------------------------------------------------
// Extreme sizes.

#[test]
fn extreme_sizes_run_or_are_refused_up_front() {
    let tmp = tempfile::tempdir().unwrap();
    // 20 years runs (one replication, quickly).
    let out_dir = tmp.path().join("twenty-years");
    let out = run_baseline(&out_dir, "1", &["scenario.horizon=7300d"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let daily = std::fs::read_to_string(out_dir.join("daily.csv")).unwrap();
    assert_eq!(daily.lines().count(), 1 + 7300 * Series::ALL.len());

    // 10,000 replications run (a week's window keeps this test quick; the
    // memory kept is about 1 KB a replication and is checked up front).
    let out_dir = tmp.path().join("ten-thousand");
    let out = run_baseline(
        &out_dir,
        "10000",
        &["scenario.warm_up=0d", "scenario.horizon=2d"],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let reps = std::fs::read_to_string(out_dir.join("replications.csv")).unwrap();
    assert_eq!(reps.lines().count(), 10_001);

    // A million crises a day is refused before anything runs, saying why;
    // so are results that would not fit in memory.
    let out_dir = tmp.path().join("million");
    let refused: [(&[&str], &[&str]); 2] = [
        (
            &["--set", "demand.crises_per_day=1000000"],
            &[
                "key `demand.crises_per_day`",
                "crises in each replication",
                "the most is 20000000",
            ],
        ),
        (&["--replications", "4000000000"], &["GB of results"]),
    ];
    for (args, expected) in refused {
        let started = Instant::now();
        let out = bin()
            .args(["run", &baseline()])
            .args(args)
            .arg("--out")
            .arg(&out_dir)
            .output()
            .expect("runs");
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        for fragment in expected {
            assert!(stderr.contains(fragment), "{args:?}: {stderr}");
        }
        // Refused before anything runs: well under the time of a replication
        // of such a plan, with room for a loaded machine.
        assert!(started.elapsed() < Duration::from_secs(30), "{args:?}");
        assert!(!out_dir.exists(), "{args:?}");
    }
}

#[test]
fn memory_kept_is_flat_per_replication() {
    let loaded = load(Path::new(&baseline()), &[]).expect("loads");
    let c = check::offered_load(&loaded.scenario);
    let mut sc = loaded.scenario.clone();
    // 10,000 replications of the baseline's year: allowed (~90 MB).
    sc.replications = 10_000;
    assert_eq!(check::size_limits(&sc, &c), Ok(()));
    // 10,000 replications of 20 years: ~1.75 GB of daily series, allowed.
    sc.horizon_hours = 7300.0 * 24.0;
    assert_eq!(check::size_limits(&sc, &c), Ok(()));
    // 20,000 of 20 years: refused, and the message says how many would fit.
    sc.replications = 20_000;
    let refused = check::size_limits(&sc, &c).expect_err("too much");
    assert_eq!(refused.key, "scenario.replications");
    assert!(
        refused.message.contains("run at most 12"),
        "{}",
        refused.message
    );
}

// ---------------------------------------------------------------------------
// Ctrl-C.

/// The `run.json` of `out_dir`, parsed.
fn manifest_of(out_dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out_dir.join("run.json")).unwrap()).unwrap()
}

/// Starts a long run, sends SIGINT after a second, and returns its output
/// and how long it took to stop after the signal.
fn interrupt(out_dir: &Path, extra: &[&str]) -> (Output, Duration) {
    let child = long_run(out_dir, extra);
    std::thread::sleep(Duration::from_millis(1000));
    let sent = Instant::now();
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let out = child.wait_with_output().expect("waits");
    (out, sent.elapsed())
}

#[test]
fn ctrl_c_stops_within_a_second_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("out");
    let (out, took) = interrupt(&out_dir, &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    // The promise is a second; the bound is generous for a loaded machine
    // and still far below the half hour the run would take.
    assert!(took < Duration::from_secs(5), "stopped after {took:?}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert!(stderr.contains("nothing was written"), "{stderr}");
    assert!(!out_dir.exists());
    // No temporary directory left beside the target either.
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}

#[test]
fn ctrl_c_leaves_previous_results_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("out");
    let first = run_baseline(&out_dir, "2", &[], &[]);
    assert!(first.status.success());
    let before = std::fs::read_to_string(out_dir.join("run.json")).unwrap();
    let (out, _) = interrupt(&out_dir, &[]);
    assert_eq!(out.status.code(), Some(130));
    assert_eq!(
        std::fs::read_to_string(out_dir.join("run.json")).unwrap(),
        before
    );
}

#[test]
fn ctrl_c_with_keep_partial_writes_finished_replications_marked_partial() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("out");
    let (out, took) = interrupt(&out_dir, &["--keep-partial"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    // The promise is a second; the bound is generous for a loaded machine
    // and still far below the half hour the run would take.
    assert!(took < Duration::from_secs(5), "stopped after {took:?}");
    assert!(stderr.contains("PARTIAL results"), "{stderr}");
    let note = std::fs::read_to_string(out_dir.join("PARTIAL.txt")).expect("PARTIAL.txt");
    assert!(note.starts_with("PARTIAL RESULTS"), "{note}");
    let manifest = manifest_of(&out_dir);
    assert_eq!(manifest["partial"], true);
    let completed = manifest["completed_replications"]
        .as_array()
        .expect("the finished replications");
    assert!(!completed.is_empty() && completed.len() < 100_000);
    let reps = std::fs::read_to_string(out_dir.join("replications.csv")).unwrap();
    assert_eq!(reps.lines().count(), 1 + completed.len());
    let summary = std::fs::read_to_string(out_dir.join("summary.csv")).unwrap();
    let n = summary
        .lines()
        .nth(1)
        .and_then(|l| l.rsplit(',').next())
        .expect("n");
    assert_eq!(n, completed.len().to_string());
}

#[test]
fn a_complete_run_is_marked_not_partial() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("out");
    let out = run_into(&out_dir, &[]);
    assert!(out.status.success());
    let manifest = manifest_of(&out_dir);
    assert_eq!(manifest["partial"], false);
    assert!(manifest.get("completed_replications").is_none());
    assert!(!out_dir.join("PARTIAL.txt").exists());
    // The baseline's community nursing runs near capacity (docs/calibration.md,
    // section 8): a warning, but nothing overloaded.
    let warnings = manifest["warnings"].as_array().expect("a list");
    assert!(
        warnings.iter().all(|w| w["verdict"] == "high"),
        "{warnings:?}"
    );
}

// ---------------------------------------------------------------------------
// Output directories.

#[test]
fn output_directory_rules() {
    let tmp = tempfile::tempdir().unwrap();

    // A previous run's directory is replaced whole: no old file of an
    // earlier run survives (a shard's table, here), ...
    let previous = tmp.path().join("previous");
    assert!(run_into(&previous, &[]).status.success());
    std::fs::write(previous.join("daily_replications.csv"), "old").unwrap();
    assert!(run_into(&previous, &[]).status.success());
    assert!(!previous.join("daily_replications.csv").exists());
    assert!(previous.join("summary.csv").exists());
    // ... but a file patientflow did not write stops the replacement: it is
    // the user's, never deleted without --force.
    std::fs::write(previous.join("my-analysis.xlsx"), "mine").unwrap();
    let out = run_into(&previous, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("my-analysis.xlsx"),
        "{}",
        text(&out.stderr)
    );
    assert!(previous.join("my-analysis.xlsx").exists());

    // A directory that is not a run's output is refused, and kept intact.
    let mine = tmp.path().join("mine");
    std::fs::create_dir(&mine).unwrap();
    std::fs::write(mine.join("thesis.docx"), "precious").unwrap();
    let out = run_into(&mine, &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("not a patientflow output directory"),
        "{stderr}"
    );
    assert!(stderr.contains("--force"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(mine.join("thesis.docx")).unwrap(),
        "precious"
    );

    // With --force it is replaced whole.
    let out = run_into(&mine, &["--force"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!mine.join("thesis.docx").exists());
    assert!(mine.join("run.json").exists());

    // A file is never replaced, --force or not.
    let file = tmp.path().join("file");
    std::fs::write(&file, "x").unwrap();
    for extra in [&[][..], &["--force"][..]] {
        let out = run_into(&file, extra);
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");
    }

    // Nor the current directory, even with --force.
    let here = tmp.path().join("here");
    std::fs::create_dir(&here).unwrap();
    std::fs::write(here.join("notes.txt"), "keep").unwrap();
    let out = baseline_command(Path::new("."), "1", &[], &["--force"])
        .current_dir(&here)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(here.join("notes.txt").exists());

    // No temporary directories are left behind.
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

// ---------------------------------------------------------------------------
// Output safety.

/// Cells of an RFC 4180 CSV text.
fn csv_cells(text: &str) -> Vec<String> {
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ',' | '\n') => cells.push(std::mem::take(&mut cell)),
            (false, c) => cell.push(c),
        }
    }
    if !cell.is_empty() {
        cells.push(cell);
    }
    cells
}

#[test]
fn no_csv_cell_starts_like_a_formula_unless_it_is_a_number() {
    let tmp = tempfile::tempdir().unwrap();
    let plan = write_extending(
        tmp.path(),
        "=cmd.toml",
        baseline(),
        "[scenario]\nname = \"=HYPERLINK(\\\"http://x\\\",\\\"y\\\")\"\n\
         description = \"+1, -2, @SUM(A1:A9)\"\nreplications = 2\n",
    );
    let out_dir = tmp.path().join("-out");
    let out = run(&[
        "run",
        plan.to_str().unwrap(),
        "--quiet",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut checked = 0;
    for entry in std::fs::read_dir(&out_dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "csv") {
            continue;
        }
        for cell in csv_cells(&std::fs::read_to_string(&path).unwrap()) {
            checked += 1;
            if cell.starts_with(['=', '+', '-', '@']) {
                assert!(
                    cell.parse::<f64>().is_ok(),
                    "{}: cell {cell:?} would be evaluated by Excel",
                    path.display()
                );
            }
        }
    }
    assert!(checked > 1000);
    // The name is kept verbatim in run.json (JSON is not a spreadsheet).
    let manifest = std::fs::read_to_string(out_dir.join("run.json")).unwrap();
    assert!(manifest.contains("=HYPERLINK"));
}

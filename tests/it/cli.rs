//! The `patientflow` command as a user runs it.

use std::path::{Path, PathBuf};

use patientflow::model::metrics::Series;

use crate::common::{bin, root, run, run_ok, summary_mean};

fn baseline() -> PathBuf {
    root().join("scenarios/tower-hamlets-baseline.toml")
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

#[test]
fn thread_count_does_not_change_a_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let one = tmp.path().join("one");
    let two = tmp.path().join("two");
    let b = baseline();
    for (dir, threads) in [(&one, "1"), (&two, "2")] {
        run_ok(
            &[
                "run",
                b.to_str().unwrap(),
                "--replications",
                "6",
                "--threads",
                threads,
            ],
            dir,
        );
    }
    for file in ["summary.csv", "replications.csv", "daily.csv"] {
        assert_eq!(
            read(&one, file),
            read(&two, file),
            "{file} differs between 1 and 2 threads"
        );
    }
}

#[test]
fn a_run_writes_every_metric_and_its_provenance() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let b = baseline();
    let out = run_ok(
        &[
            "run",
            b.to_str().unwrap(),
            "--replications",
            "3",
            "--seed",
            "7",
        ],
        &dir,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("admissions"), "{stdout}");

    let summary = read(&dir, "summary.csv");
    let mut lines = summary.lines();
    assert_eq!(
        lines.next(),
        Some("metric,unit,mean,sd,ci95_low,ci95_high,p5,p50,p95,n")
    );
    let names: Vec<&str> = lines.map(|l| l.split(',').next().unwrap()).collect();
    let expected: Vec<&str> = patientflow::model::metrics::Metric::ALL
        .iter()
        .map(|m| m.name())
        .collect();
    assert_eq!(names, expected);
    for name in [
        "delayed_bed_days_p3",
        "community_wait_mean_days_avoidance",
        "care_home_wait_mean_days",
        "pru_utilisation",
    ] {
        assert!(names.contains(&name));
    }

    let reps = read(&dir, "replications.csv");
    assert_eq!(reps.lines().count(), 4);
    assert!(reps.starts_with("replication,crises,readmissions,"));

    let daily = read(&dir, "daily.csv");
    assert_eq!(
        daily.lines().next(),
        Some("day,date,series,mean,p5,p50,p95")
    );
    // 365 days x every series, after the header; the baseline's window opens
    // 180 days after 2025-04-01.
    assert_eq!(daily.lines().count(), 1 + 365 * Series::ALL.len());
    assert!(
        daily
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("0,2025-09-28,midnight_census,")
    );

    let manifest: serde_json::Value = serde_json::from_str(&read(&dir, "run.json")).unwrap();
    assert_eq!(manifest["seed"], 7);
    assert_eq!(manifest["replications"], 3);
    assert_eq!(manifest["sha256"].as_str().unwrap().len(), 64);
    assert!(
        manifest["resolved_toml"]
            .as_str()
            .unwrap()
            .contains("seed = 7")
    );
    assert!(
        manifest["generator"]
            .as_str()
            .unwrap()
            .contains("SplitMix64")
    );
    assert!(manifest["wall_time_seconds"].as_f64().unwrap() > 0.0);
    assert!(manifest["software_version"].is_string());
}

#[test]
fn set_overrides_a_key_for_one_run() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let b = baseline();
    run_ok(
        &[
            "run",
            b.to_str().unwrap(),
            "--replications",
            "2",
            "--set",
            "pru.cars=0",
        ],
        &dir,
    );
    assert_eq!(summary_mean(&dir, "pru_visits"), 0.0);
    assert!(summary_mean(&dir, "pru_missed_busy") > 0.0);
    assert!(summary_mean(&dir, "pru_missed_closed") > 0.0);
}

#[test]
fn a_plan_extending_the_baseline_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().join("base");
    let plan = tmp.path().join("plan");
    let plan_file = root().join("scenarios/plans/second-pru-car.toml");
    for (file, dir) in [(baseline(), &base), (plan_file, &plan)] {
        run_ok(&["run", file.to_str().unwrap(), "--replications", "2"], dir);
    }
    // Same patients, more cars: more visits.
    assert!(summary_mean(&plan, "pru_visits") > summary_mean(&base, "pru_visits"));
}

/// A broken scenario: exit code 2, a message naming file, line, column and
/// key, and no output directory.
fn refused(text: &str, sets: &[&str], expect: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("plan.toml");
    std::fs::write(&file, text).unwrap();
    let out_dir = tmp.path().join("out");
    let mut args = vec![
        "run".to_string(),
        file.display().to_string(),
        "--out".into(),
        out_dir.display().to_string(),
    ];
    for s in sets {
        args.push("--set".into());
        args.push(s.to_string());
    }
    let out = bin().args(&args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    for e in expect {
        assert!(stderr.contains(e), "stderr lacks {e:?}:\n{stderr}");
    }
    assert!(
        !out_dir.exists(),
        "an output directory was written for a refused scenario"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

fn extending(lines: &str) -> String {
    format!("extends = {:?}\n{lines}", baseline().display().to_string())
}

#[test]
fn broken_scenarios_are_refused_with_a_location() {
    refused(
        &extending("[pru]\ncarz = 2\n"),
        &[],
        &["plan.toml:3:1", "pru.carz", "did you mean `cars`"],
    );
    refused(
        &extending("[pru]\ncars = -1\n"),
        &[],
        &["plan.toml:3:8", "pru.cars"],
    );
    refused(
        &extending("[pru]\nvisit = { dist = \"lognormal\", mean = 100, sd = \"40m\" }\n"),
        &[],
        &["plan.toml:3", "pru.visit.mean", "unit"],
    );
    refused(
        &extending("[ed]\nfrail_admit_share = 1.5\n"),
        &[],
        &["plan.toml:3:21", "ed.frail_admit_share"],
    );
    refused(
        &extending("[pathways]\nfrail = { p0 = 0.5, p1 = 0.4, p2 = 0.1, p3 = 0.1 }\n"),
        &[],
        &["plan.toml:3", "pathways.frail", "sum"],
    );
    refused(
        &extending("[pru]\nopen = \"08:00-25:00\"\n"),
        &[],
        &["plan.toml:3:8", "pru.open"],
    );
    refused(&extending("[pru\ncars = 2\n"), &[], &["plan.toml:2"]);
    refused(
        &extending(""),
        &["pru.carz=2"],
        &["--set", "pru.carz", "did you mean `cars`"],
    );
    refused(&extending(""), &["pru.cars=two"], &["--set", "pru.cars"]);
}

#[test]
fn a_missing_scenario_file_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run(&["run", tmp.path().join("nope.toml").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope.toml"));
}

#[test]
fn an_overloaded_plan_exits_3_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("out");
    let out = run(&[
        "run",
        baseline().to_str().unwrap(),
        "--replications",
        "4",
        "--set",
        "acute.beds=100",
        "--max-queue",
        "2000",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("acute beds"), "{stderr}");
    assert!(
        stderr.contains("demand far exceeds the capacity"),
        "{stderr}"
    );
    assert!(!out_dir.exists());
}

//! Results by planning year (`docs/model.md`, "Results by year"): each
//! year of `yearly.csv` is, number for number, what a run whose statistics
//! window is exactly that year gives; `yearly.csv` only for a window longer
//! than 365 days; shards merge to the same file.

use std::fs;
use std::path::Path;

use crate::common::{bin, root, run_ok, succeed};

/// Five years of growth with dated changes over the baseline: every
/// service, home care and mental health included, so every accumulator the
/// model keeps is exercised, and counts change on dates inside the years.
fn scenario() -> String {
    root()
        .join("scenarios/tower-hamlets-five-years.toml")
        .display()
        .to_string()
}

fn tmp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("pf-yearly-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    dir
}

/// The run's `start_date` from its run.json.
fn start_date(dir: &Path) -> String {
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("run.json")).unwrap()).unwrap();
    json["start_date"].as_str().unwrap().to_string()
}

fn days_between(a: &str, b: &str) -> i64 {
    let a = patientflow::scenario::calendar::Date::parse(a).unwrap();
    let b = patientflow::scenario::calendar::Date::parse(b).unwrap();
    a.days_until(b)
}

#[test]
fn each_year_equals_a_run_whose_window_is_that_year() {
    let dir = tmp("three-years");
    let common = ["--replications", "3", "--threads", "2"];
    let mut args = vec!["run", scenario_str(), "--set", "scenario.horizon=1095d"];
    args.extend(common);
    run_ok(&args, &dir);
    let yearly = fs::read_to_string(dir.join("yearly.csv")).expect("yearly.csv");
    let start = start_date(&dir);
    let rows: Vec<Vec<&str>> = yearly
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let mut years: Vec<(&str, &str, &str)> = rows.iter().map(|r| (r[0], r[1], r[3])).collect();
    years.dedup();
    // 2025-09-28 for 1095 days: a partial 2025/26, two whole years (one of
    // 366 days), a partial 2028/29.
    let labels: Vec<&str> = years.iter().map(|y| y.0).collect();
    assert_eq!(labels, ["2025/26", "2026/27", "2027/28", "2028/29"]);
    let days: Vec<&str> = years.iter().map(|y| y.2).collect();
    assert_eq!(days, ["185", "365", "366", "179"]);
    for (label, first_date, days) in years {
        let warm_up = format!("scenario.warm_up={}d", days_between(&start, first_date));
        let horizon = format!("scenario.horizon={days}d");
        let one = tmp(&format!("year-{}", label.replace('/', "-")));
        let mut args = vec!["run", scenario_str(), "--set", &warm_up, "--set", &horizon];
        args.extend(common);
        run_ok(&args, &one);
        let summary = fs::read_to_string(one.join("summary.csv")).unwrap();
        assert!(
            !one.join("yearly.csv").exists(),
            "a year or less has no yearly.csv"
        );
        let mut compared = 0;
        for line in summary.lines().skip(1) {
            let cells: Vec<&str> = line.split(',').collect();
            let row = rows
                .iter()
                .find(|r| r[0] == label && r[5] == cells[0])
                .unwrap_or_else(|| panic!("{label} {} missing from yearly.csv", cells[0]));
            assert_eq!(
                &row[5..],
                &cells[..],
                "{label}: {} differs from the run whose window is that year",
                cells[0]
            );
            compared += 1;
        }
        assert!(compared > 60, "compared {compared} metrics");
        fs::remove_dir_all(&one).ok();
    }
    fs::remove_dir_all(&dir).ok();
}

fn scenario_str() -> &'static str {
    Box::leak(scenario().into_boxed_str())
}

#[test]
fn yearly_csv_only_for_a_window_longer_than_365_days() {
    for (horizon, expected) in [("365d", false), ("366d", true)] {
        let dir = tmp(&format!("rule-{horizon}"));
        let set = format!("scenario.horizon={horizon}");
        run_ok(
            &["run", scenario_str(), "--replications", "2", "--set", &set],
            &dir,
        );
        assert_eq!(
            dir.join("yearly.csv").exists(),
            expected,
            "horizon {horizon}"
        );
        let run_json = fs::read_to_string(dir.join("run.json")).unwrap();
        assert_eq!(
            run_json.contains("yearly.csv"),
            expected,
            "checksum of yearly.csv"
        );
        fs::remove_dir_all(&dir).ok();
    }
}

#[test]
fn shards_merge_to_the_same_yearly_csv() {
    let whole = tmp("whole");
    let args = [
        "run",
        scenario_str(),
        "--replications",
        "4",
        "--set",
        "scenario.horizon=400d",
    ];
    run_ok(&args, &whole);
    let mut shards = Vec::new();
    for k in 0..2 {
        let dir = tmp(&format!("shard-{k}"));
        let shard = format!("{k}/2");
        let mut a = args.to_vec();
        a.extend(["--shard", &shard]);
        run_ok(&a, &dir);
        assert!(dir.join("yearly_replications.csv").exists());
        shards.push(dir);
    }
    let merged = tmp("merged");
    succeed(bin().arg("merge").args(&shards).arg("--out").arg(&merged));
    assert_eq!(
        fs::read(whole.join("yearly.csv")).unwrap(),
        fs::read(merged.join("yearly.csv")).unwrap()
    );
    for d in shards.iter().chain([&whole, &merged]) {
        fs::remove_dir_all(d).ok();
    }
}

#[test]
fn reports_and_comparisons_give_each_year() {
    let dir = tmp("compare");
    let plan = root().join("scenarios/plans/second-pru-car.toml");
    let args = [
        "compare",
        &crate::common::baseline(),
        plan.to_str().unwrap(),
        "--replications",
        "3",
        "--set",
        "scenario.horizon=800d",
    ];
    // Twice into the same directory: the new files are patientflow's own.
    for _ in 0..2 {
        run_ok(&args, &dir);
    }
    let text = fs::read_to_string(dir.join("yearly_comparison.csv")).unwrap();
    let base = fs::read_to_string(dir.join("tower-hamlets-baseline/yearly.csv")).unwrap();
    let plan_yearly = fs::read_to_string(dir.join("second-pru-car/yearly.csv")).unwrap();
    let mean_of = |csv: &str, year: &str, metric: &str| -> f64 {
        let line = csv
            .lines()
            .find(|l| l.starts_with(&format!("{year},")) && l.split(',').nth(5) == Some(metric))
            .unwrap();
        line.split(',').nth(7).unwrap().parse().unwrap()
    };
    let mut rows = 0;
    for line in text.lines().skip(1) {
        let c: Vec<&str> = line.split(',').collect();
        if c[6] != "admissions" {
            continue;
        }
        rows += 1;
        let (b, p, d): (f64, f64, f64) = (
            c[8].parse().unwrap(),
            c[9].parse().unwrap(),
            c[10].parse().unwrap(),
        );
        assert_eq!(b, mean_of(&base, c[1], "admissions"));
        assert_eq!(p, mean_of(&plan_yearly, c[1], "admissions"));
        assert!(
            (d - (p - b)).abs() < 1e-6 * b,
            "paired difference of the year's values"
        );
    }
    assert_eq!(rows, 3, "2025/26 (part), 2026/27, 2027/28 (part)");
    let report = fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(report.contains("## Effects by year"), "comparison report");
    // In plain words, as the headline sentences: the second car avoids
    // admissions in its whole year, and no number is negative.
    let line = report
        .lines()
        .find(|l| l.contains("second-pru-car, emergency admissions: "))
        .expect("the plan's admissions by year");
    assert!(line.contains(" avoided in 2026/27 (95% CI "), "{line}");
    assert!(!line.contains(" -"), "{line}");
    let run_report = fs::read_to_string(dir.join("tower-hamlets-baseline/report.md")).unwrap();
    assert!(
        run_report.contains("## Results by year") && run_report.contains("In 2026/27 (365 days):")
    );
    // `report DIR` rebuilds both byte for byte.
    for d in [dir.clone(), dir.join("tower-hamlets-baseline")] {
        let before = fs::read(d.join("report.html")).unwrap();
        succeed(bin().arg("report").arg(&d));
        assert_eq!(before, fs::read(d.join("report.html")).unwrap());
    }
    fs::remove_dir_all(&dir).ok();
}

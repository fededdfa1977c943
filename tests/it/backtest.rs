//! `patientflow backtest` (`docs/model.md`, "Backtest"): the model's own
//! daily series from other seeds is covered at the nominal rates; the
//! observed file's mistakes are refused with file, line, column and field.

use std::fs;
use std::path::PathBuf;

use crate::common::{baseline, bin, root, succeed};

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pf-backtest-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    dir
}

/// The baseline over 150 days after 180 days of warm-up, the PRU and the
/// frailty unit off so that no counterfactual arm runs (cheaper; still the
/// whole bed, discharge and downstream model), with beds enough that the
/// midnight census is never at its ceiling: a census often exactly at the
/// beds available (a winter with every bed full) puts an atom in its
/// distribution, and a band whose edges are both that value holds more
/// than its nominal share, which is not what this test is about.
const SETS: [&str; 10] = [
    "--set",
    "scenario.warm_up=180d",
    "--set",
    "scenario.horizon=150d",
    "--set",
    "pru.cars=0",
    "--set",
    "frailty_unit.slots=0",
    "--set",
    "acute.beds=700",
];

/// Observed paths from seed 99: one replication per observed day.
const PATHS: usize = 150;
/// Replications of the backtest's fan (the scenario's seed).
const FAN: usize = 200;

/// Observed midnight census, day `i` taken from replication `i` of a run
/// with another seed: every observed day comes from an independent path,
/// so the days are independent trials given the fan (a single path's days
/// are autocorrelated, and would make the binomial error a fiction).
fn observed_from_other_seed(dir: &std::path::Path) -> PathBuf {
    let run = dir.join("paths");
    succeed(
        bin()
            .args(["run", &baseline()])
            .args(SETS)
            .args(["--seed", "99", "--replications", &PATHS.to_string()])
            .args(["--shard", "0/1", "--quiet", "--out"])
            .arg(&run),
    );
    let text = fs::read_to_string(run.join("daily_replications.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = header.iter().position(|h| *h == "midnight_census").unwrap();
    let mut observed = String::from("date,series,value\n");
    let mut days = 0;
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        if cells[0] == cells[1] {
            observed.push_str(&format!("{},midnight_census,{}\n", cells[2], cells[col]));
            days += 1;
        }
    }
    assert_eq!(days, PATHS, "one day from each path");
    let path = dir.join("observed.csv");
    fs::write(&path, observed).unwrap();
    path
}

#[test]
fn model_generated_series_is_covered_at_the_nominal_rates() {
    let dir = tmp("coverage");
    fs::create_dir_all(&dir).unwrap();
    let observed = observed_from_other_seed(&dir);
    let out_dir = dir.join("backtest");
    succeed(
        bin()
            .args(["backtest", &baseline(), "--observed"])
            .arg(&observed)
            .args(SETS)
            .args(["--replications", &FAN.to_string(), "--quiet", "--out"])
            .arg(&out_dir),
    );
    for f in [
        "backtest.csv",
        "backtest_daily.csv",
        "report.html",
        "run.json",
    ] {
        assert!(out_dir.join(f).exists(), "{f}");
    }
    let html = fs::read_to_string(out_dir.join("report.html")).unwrap();
    assert!(
        html.contains("Observed") && html.contains("<svg"),
        "chart in the report"
    );
    let scores = fs::read_to_string(out_dir.join("backtest.csv")).unwrap();
    let row: Vec<&str> = scores
        .lines()
        .find(|l| l.starts_with("midnight_census,"))
        .unwrap()
        .split(',')
        .collect();
    assert_eq!(row[2], PATHS.to_string());
    let (k, n) = (PATHS as f64, FAN as f64);
    for (b, (lo, hi)) in [(0.25, 0.75), (0.10, 0.90), (0.025, 0.975)]
        .into_iter()
        .enumerate()
    {
        let coverage: f64 = row[5 + b].parse().unwrap();
        // A new exchangeable draw falls between the R-7 percentiles of n
        // draws with probability (hi - lo)(n - 1)/(n + 1), a little under
        // nominal. The error has two parts: the binomial error of k
        // independent days, p(1-p)/k, and the fan's own sampling error,
        // about p(1-p)/(n+2) for one day's band; the fans of different days
        // share the same replications, so that part is taken as wholly
        // shared (conservative). 3.5 standard errors: a wrong band (the 90%
        // band as the 50%, days misaligned by the window) is far outside.
        let p = (hi - lo) * (n - 1.0) / (n + 1.0);
        let se = (p * (1.0 - p) * (1.0 / k + 1.0 / (n + 2.0))).sqrt();
        assert!(
            (coverage - p).abs() <= 3.5 * se,
            "band {}%: coverage {coverage}, expected {p:.3} +/- {:.3}",
            ((hi - lo) * 100.0).round(),
            3.5 * se
        );
    }
    fs::remove_dir_all(&dir).ok();
}

fn backtest_err(observed: &str) -> (i32, String) {
    let dir = tmp(&format!("err-{}", observed.len()));
    fs::create_dir_all(&dir).unwrap();
    let path = dir.join("observed.csv");
    fs::write(&path, observed).unwrap();
    let out = bin()
        .args(["backtest", &baseline(), "--observed"])
        .arg(&path)
        .args(["--replications", "2", "--quiet", "--out"])
        .arg(dir.join("out"))
        .output()
        .unwrap();
    assert!(!dir.join("out").exists(), "nothing written");
    fs::remove_dir_all(&dir).ok();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn observed_file_mistakes_name_line_column_and_field() {
    let (code, e) = backtest_err("date,series,value\n2025-10-01,beds_full,3\n");
    assert_eq!(code, 2, "{e}");
    assert!(
        e.contains("observed.csv:2:12: series: unknown series `beds_full`"),
        "{e}"
    );
    assert!(
        e.contains("midnight_census") && e.contains("nctr_count"),
        "{e}"
    );
    let (code, e) = backtest_err("date,series,value\n2025-10-01,midnight_census,4x0\n");
    assert_eq!(code, 2, "{e}");
    assert!(
        e.contains("observed.csv:2:28: value: `4x0` is not a number"),
        "{e}"
    );
    let (code, e) = backtest_err("date,series,value\n01/10/2025,midnight_census,400\n");
    assert_eq!(code, 2, "{e}");
    assert!(
        e.contains("observed.csv:2:1: date: `01/10/2025` is not a date"),
        "{e}"
    );
    // The baseline's window is 2025-09-28 to 2026-09-27.
    let (code, e) = backtest_err(
        "date,series,value\n2025-10-01,midnight_census,400\n2024-01-05,midnight_census,400\n",
    );
    assert_eq!(code, 2, "{e}");
    assert!(
        e.contains("observed.csv:3:1: date: 2024-01-05 is outside the statistics window")
            && e.contains("2025-09-28 to 2026-09-27"),
        "{e}"
    );
}

#[test]
fn the_shipped_example_is_synthetic_and_reproducible() {
    let example = root().join("scenarios/observed/synthetic-winter-from-today.csv");
    let script = fs::read_to_string(root().join("scenarios/observed/make-synthetic.sh")).unwrap();
    assert!(script.contains("SYNTHETIC") && script.contains("--seed 7"));
    // Rebuild it as the script says: replication 0 of seed 7, first 120 days.
    let dir = tmp("example");
    succeed(
        bin()
            .args(["run"])
            .arg(root().join("scenarios/winter-from-today.toml"))
            .args([
                "--seed",
                "7",
                "--replications",
                "1",
                "--shard",
                "0/1",
                "--quiet",
                "--out",
            ])
            .arg(&dir),
    );
    let daily = fs::read_to_string(dir.join("daily_replications.csv")).unwrap();
    let mut lines = daily.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let keep = [
        "midnight_census",
        "nctr_count",
        "delayed_patients",
        "community_waiting_list",
        "mh_beds_occupied",
    ];
    let mut expected = String::from("date,series,value\n");
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        if cells[0] == "0" && cells[1].parse::<usize>().unwrap() < 120 {
            for k in keep {
                let col = header.iter().position(|h| *h == k).unwrap();
                expected.push_str(&format!("{},{k},{}\n", cells[2], cells[col]));
            }
        }
    }
    assert_eq!(fs::read_to_string(example).unwrap(), expected);
    fs::remove_dir_all(&dir).ok();
}

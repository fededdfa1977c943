//! Output files of a run, from synthetic replication results with known
//! statistics.

use std::fs;
use std::io;
use std::path::Path;

use patientflow::model::metrics::{METRIC_COUNT, Metric, Metrics, ReplicationResult, Series};
use patientflow::report::{
    RunManifest, format_summary_table, replace_dir_with, text_cell, write_run_outputs,
};
use patientflow::scenario::calendar::Date;

const REPS: usize = 10;
const DAYS: usize = 5;

/// Replication `r` (0-based) has `admissions = r + 1` (1..=10, mean 5.5),
/// `beds_full_share = 0.5` (constant), community waits undefined (NaN) in
/// even replications, and every other metric `100 * index + r`. Daily series
/// `s` on day `d` is `10 * s + d + r`.
fn synthetic() -> Vec<ReplicationResult> {
    (0..REPS)
        .map(|r| {
            let mut m = Metrics([0.0; METRIC_COUNT]);
            for metric in Metric::ALL {
                m[metric] = 100.0 * metric.index() as f64 + r as f64;
            }
            m[Metric::Admissions] = (r + 1) as f64;
            m[Metric::BedsFullShare] = 0.5;
            m[Metric::CommunityWaitMeanDaysDischarge] = if r % 2 == 0 { f64::NAN } else { 2.0 };
            let daily = std::array::from_fn(|s| {
                (0..DAYS)
                    .map(|d| (10 * s + d + r) as f64)
                    .collect::<Vec<f64>>()
            });
            ReplicationResult {
                replication: r as u32,
                metrics: m,
                daily,
                events: 1000,
                yearly: Vec::new(),
                overloaded: Vec::new(),
                kept: None,
            }
        })
        .collect()
}

/// A manifest as a run writes it; the resolved scenario (which the report
/// needs) is the minimal test fixture's.
fn manifest(name: &str) -> RunManifest {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/scenarios/minimal.toml");
    let loaded = patientflow::scenario::load(&fixture, &[]).expect("fixture loads");
    let prepared = patientflow::model::Prepared::new(loaded.scenario.clone());
    RunManifest {
        scenario_facts: Some(patientflow::experiment::facts::scenario_facts(
            &loaded, &prepared,
        )),
        resolved_toml: loaded.resolved_toml,
        software_version: "0.1.0".into(),
        scenario_path: "scenarios/test.toml".into(),
        scenario_name: name.into(),
        seed: 42,
        replications: REPS as u32,
        threads: 2,
        start_date: "2025-03-24".into(),
        first_day_date: "2025-04-01".into(),
        ..RunManifest::default()
    }
}

fn first_day() -> Date {
    Date::from_ymd(2025, 4, 1).expect("valid date")
}

fn read(dir: &Path, file: &str) -> String {
    fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("reading {file}: {e}"))
}

/// The row of `summary.csv` for `metric`, split into cells (no cell in it
/// is quoted).
fn summary_row(summary: &str, metric: &str) -> Vec<String> {
    summary
        .lines()
        .find(|l| l.split(',').next() == Some(metric))
        .unwrap_or_else(|| panic!("no row for {metric}"))
        .split(',')
        .map(str::to_string)
        .collect()
}

#[test]
fn writes_the_four_files_with_exact_headers_and_rows() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("nested/deeper/run1");
    let results = synthetic();
    write_run_outputs(&out, &results, first_day(), &manifest("Baseline")).expect("write");

    let mut names: Vec<_> = fs::read_dir(&out)
        .expect("out dir")
        .map(|e| e.expect("entry").file_name().into_string().expect("utf8"))
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "charts",
            "daily.csv",
            "daily_bands.csv",
            "replications.csv",
            "report.html",
            "report.md",
            "run.json",
            "summary.csv"
        ]
    );

    let summary = read(&out, "summary.csv");
    let lines: Vec<&str> = summary.lines().collect();
    assert_eq!(
        lines[0],
        "metric,unit,mean,sd,ci95_low,ci95_high,p5,p50,p95,n"
    );
    assert_eq!(lines.len(), 1 + METRIC_COUNT);
    for (line, m) in lines[1..].iter().zip(Metric::ALL) {
        assert!(line.starts_with(&format!("{},{},", m.name(), m.unit())));
    }
    assert!(!summary.contains('\r'));
    assert!(summary.ends_with('\n'));

    let repl = read(&out, "replications.csv");
    let rlines: Vec<&str> = repl.lines().collect();
    let mut expected_header = String::from("replication");
    for m in Metric::ALL {
        expected_header.push(',');
        expected_header.push_str(m.name());
    }
    assert_eq!(rlines[0], expected_header);
    assert_eq!(rlines.len(), 1 + REPS);
    // replication, crises (100 * 0 + r), readmissions (100 * 1 + r), admissions (r + 1).
    assert!(rlines[1].starts_with("0,0,100,200,1,"));
    assert!(rlines[10].starts_with("9,9,109,209,10,"));

    // daily.csv keeps the header the format fixes; daily_bands.csv adds the
    // quartiles for the fan charts.
    let plain = read(&out, "daily.csv");
    assert_eq!(
        plain.lines().next(),
        Some("day,date,series,mean,p5,p50,p95")
    );
    let daily = read(&out, "daily_bands.csv");
    let dlines: Vec<&str> = daily.lines().collect();
    assert_eq!(dlines[0], "day,date,series,mean,p5,p25,p50,p75,p95");
    // The same days, series, means and p5/p50/p95 in both files.
    for (p, b) in plain.lines().zip(daily.lines()).skip(1) {
        let (p, b): (Vec<&str>, Vec<&str>) = (p.split(',').collect(), b.split(',').collect());
        assert_eq!(p, [b[0], b[1], b[2], b[3], b[4], b[6], b[8]]);
    }
    assert_eq!(dlines.len(), 1 + DAYS * Series::ALL.len());
    // Day-major: day 0's series in order, then day 1's.
    let n = Series::ALL.len();
    for (i, s) in Series::ALL.iter().enumerate() {
        assert!(dlines[1 + i].starts_with(&format!("0,2025-04-01,{},", s.name())));
    }
    assert!(dlines[1 + n].starts_with("1,2025-04-02,midnight_census,"));
    // Series 2 on day 4 across replications: 24..=33, mean 28.5,
    // R-7 p5 = 24.45, p25 = 26.25, p50 = 28.5, p75 = 30.75, p95 = 32.55.
    let last: Vec<&str> = dlines[1 + 4 * n + 2].split(',').collect();
    assert_eq!(last.len(), 9);
    assert_eq!(last[..3], ["4", "2025-04-05", "community_waiting_list"]);
    let num = |i: usize| -> f64 { last[i].parse().expect("number") };
    assert_eq!(num(3), 28.5);
    assert!((num(4) - 24.45).abs() < 1e-12);
    assert!((num(5) - 26.25).abs() < 1e-12);
    assert_eq!(num(6), 28.5);
    assert!((num(7) - 30.75).abs() < 1e-12);
    assert!((num(8) - 32.55).abs() < 1e-12);

    let json: serde_json::Value =
        serde_json::from_str(&read(&out, "run.json")).expect("run.json parses");
    assert_eq!(json["seed"], 42);
    assert_eq!(json["scenario_name"], "Baseline");
    assert_eq!(json["replications"], REPS);
    assert!(json["outputs"]["confidence_interval"].is_string());
}

/// The synthetic run's outputs, written into `out` of a new temporary
/// folder: the folder and `out`.
fn synthetic_outputs() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    write_run_outputs(&out, &synthetic(), first_day(), &manifest("B")).expect("write");
    (tmp, out)
}

#[test]
fn summary_cells_hold_the_right_statistics() {
    let (_tmp, out) = synthetic_outputs();
    let summary = read(&out, "summary.csv");

    // admissions 1..=10: mean 5.5, sd sqrt(55/6), CI 5.5 ± t(0.975, 9) sd / sqrt(10).
    let row = summary_row(&summary, "admissions");
    let cell = |i: usize| -> f64 { row[i].parse().expect("number") };
    assert_eq!(row[1], "patients");
    assert_eq!(row[2], "5.5");
    assert!((cell(3) - (55.0f64 / 6.0).sqrt()).abs() < 1e-12);
    let half = 2.262_157_162_740_99 * (55.0f64 / 6.0).sqrt() / 10f64.sqrt();
    assert!((cell(4) - (5.5 - half)).abs() < 1e-9);
    assert!((cell(5) - (5.5 + half)).abs() < 1e-9);
    // R-7 percentiles; 0.95 is not exact in binary, so p95 is written as
    // 9.549999999999999 (shortest round-trip), which Excel shows as 9.55.
    assert!((cell(6) - 1.45).abs() < 1e-12);
    assert_eq!(row[7], "5.5");
    assert!((cell(8) - 9.55).abs() < 1e-12);
    assert_eq!(row[9], "10");

    // A constant: sd 0, CI collapses to the value.
    assert_eq!(
        summary_row(&summary, "beds_full_share")[1..].join(","),
        "share,0.5,0,0.5,0.5,0.5,0.5,0.5,10"
    );

    // Undefined in half the replications: n = 5, still summarised.
    let waits = summary_row(&summary, "community_wait_mean_days_discharge");
    assert_eq!(waits[2..].join(","), "2,0,2,2,2,2,2,5");
}

#[test]
fn one_replication_leaves_sd_and_ci_empty() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    let one = &synthetic()[..1];
    write_run_outputs(&out, one, first_day(), &manifest("B")).expect("write");
    let summary = read(&out, "summary.csv");
    assert_eq!(
        summary_row(&summary, "admissions")[1..].join(","),
        "patients,1,,,,1,1,1,1"
    );
    // Undefined in the only replication: every statistic empty, n = 0.
    assert_eq!(
        summary_row(&summary, "community_wait_mean_days_discharge")[1..].join(","),
        "days,,,,,,,,0"
    );
}

#[test]
fn text_cells_are_excel_safe() {
    // A scenario name is user text; any writer that puts one in a CSV cell
    // goes through text_cell.
    let name = "=HYPERLINK(\"http://x\",\"click\")";
    let cell = text_cell(name);
    assert_eq!(cell, "\"'=HYPERLINK(\"\"http://x\"\",\"\"click\"\")\"");
    for bad in ["=1+1", "+1", "-1", "@A1"] {
        let c = text_cell(bad);
        assert!(c.starts_with('\''), "{bad} -> {c}");
    }
    assert_eq!(text_cell("Tower Hamlets, 2025"), "\"Tower Hamlets, 2025\"");

    // run.json keeps the name verbatim (JSON is not a spreadsheet), and no
    // CSV cell starts with a formula character.
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    write_run_outputs(&out, &synthetic(), first_day(), &manifest(name)).expect("write");
    let json: serde_json::Value =
        serde_json::from_str(&read(&out, "run.json")).expect("run.json parses");
    assert_eq!(json["scenario_name"], name);
    for file in ["summary.csv", "replications.csv", "daily.csv"] {
        for line in read(&out, file).lines() {
            for cell in line.split(',') {
                let first = cell.chars().next();
                let numeric = cell.parse::<f64>().is_ok();
                assert!(
                    numeric || !matches!(first, Some('=' | '+' | '-' | '@')),
                    "{file}: unsafe cell {cell:?}"
                );
                assert!(!cell.contains(['e', 'E']) || !numeric, "exponent in {cell}");
            }
        }
    }
}

#[test]
fn identical_inputs_give_identical_bytes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let results = synthetic();
    let mut m2 = manifest("B");
    write_run_outputs(&a, &results, first_day(), &manifest("B")).expect("write a");
    m2.threads = 7;
    m2.wall_time_seconds = 3.5;
    write_run_outputs(&b, &results, first_day(), &m2).expect("write b");
    for file in ["summary.csv", "replications.csv", "daily.csv"] {
        assert_eq!(
            fs::read(a.join(file)).expect("a"),
            fs::read(b.join(file)).expect("b"),
            "{file} differs"
        );
    }
}

#[test]
fn rewriting_replaces_the_whole_directory() {
    let (tmp, out) = synthetic_outputs();
    // A file an older run wrote that this one does not (a shard's table).
    fs::write(out.join("daily_replications.csv"), "from an older run").expect("stale");

    let fewer = &synthetic()[..3];
    write_run_outputs(&out, fewer, first_day(), &manifest("B")).expect("second");
    assert!(
        !out.join("daily_replications.csv").exists(),
        "old files must vanish"
    );
    assert_eq!(read(&out, "replications.csv").lines().count(), 1 + 3);
    assert_no_leftovers(tmp.path());
}

#[test]
fn failed_fill_leaves_the_target_intact() {
    let (tmp, out) = synthetic_outputs();
    let before = read(&out, "summary.csv");

    let err = replace_dir_with(&out, |dir| {
        fs::write(dir.join("summary.csv"), "half written")?;
        Err(io::Error::other("disk full (injected)"))
    })
    .expect_err("the injected error is returned");
    assert_eq!(err.to_string(), "disk full (injected)");
    assert_eq!(read(&out, "summary.csv"), before);
    assert!(out.join("run.json").exists());
    assert_no_leftovers(tmp.path());
}

#[test]
fn refuses_to_replace_a_directory_that_is_not_an_output() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("precious");
    fs::create_dir(&out).expect("mkdir");
    fs::write(out.join("thesis.docx"), "years of work").expect("write");
    let err = write_run_outputs(&out, &synthetic(), first_day(), &manifest("B"))
        .expect_err("must refuse");
    assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
    assert!(out.join("thesis.docx").exists());

    // A file where the directory should go is refused too.
    let file = tmp.path().join("file");
    fs::write(&file, "x").expect("write");
    assert!(write_run_outputs(&file, &synthetic(), first_day(), &manifest("B")).is_err());
    assert_eq!(fs::read_to_string(&file).expect("file"), "x");
    assert_no_leftovers(tmp.path());
}

#[test]
fn terminal_table_has_headlines_and_says_what_the_interval_is() {
    let table = format_summary_table(&synthetic(), &[]);
    for m in [
        "admissions",
        "admissions_avoided_pru",
        "admissions_avoided_frailty_unit",
        "bed_occupancy_mean",
        "delayed_bed_days_p3",
        "care_home_wait_mean_days",
    ] {
        assert!(table.lines().any(|l| l.starts_with(m)), "{m} missing");
    }
    let adm = table
        .lines()
        .find(|l| l.starts_with("admissions "))
        .expect("admissions row");
    // 5.5, half-width 2.17: 2 decimals.
    assert!(
        adm.contains("5.50") && adm.contains("3.33 to 7.67"),
        "{adm}"
    );
    assert!(table.contains("confidence interval of the mean over 10 replications"));
    assert!(table.contains("not a range of outcomes"));
    let widths: Vec<usize> = table.lines().take(2).map(|l| l.chars().count()).collect();
    assert!(widths[1] >= widths[0], "rule spans the header");
}

/// No `.partial-` or `.old-` directory is left beside the target.
fn assert_no_leftovers(parent: &Path) {
    for e in fs::read_dir(parent).expect("parent") {
        let name = e.expect("entry").file_name().into_string().expect("utf8");
        assert!(
            !name.contains(".partial-") && !name.contains(".old-"),
            "leftover {name}"
        );
    }
}

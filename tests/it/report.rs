//! The report of a run: written by `run`, rebuilt byte for byte by
//! `patientflow report DIR`, self-contained, and with headline numbers that
//! are the numbers of `summary.csv`.

use std::fs;
use std::path::{Path, PathBuf};

use patientflow::report::RunData;
use patientflow::report::run_report::run_headlines;

use crate::common::{drop_checksums, report_dir, report_files, run_ok};

fn scenario(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// Runs `scenario` with a few replications into `dir`.
fn run_into(scenario_rel: &str, dir: &Path, replications: &str) {
    let file = scenario(scenario_rel);
    let file = file.to_str().expect("utf8 path");
    run_ok(&["run", file, "--replications", replications], dir);
}

/// A run of the baseline with `replications` into `run` of a new temporary
/// folder: the folder and `run`.
fn baseline_run(replications: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("run");
    run_into("scenarios/tower-hamlets-baseline.toml", &dir, replications);
    (tmp, dir)
}

/// The run report's charts for the baseline, which has mental health.
const CHARTS: [&str; 6] = [
    "charts/community-waiting-list.svg",
    "charts/delayed-bed-days-by-pathway.svg",
    "charts/delayed-patients.svg",
    "charts/mh-beds-occupied.svg",
    "charts/mh-out-of-area.svg",
    "charts/midnight-census.svg",
];

#[test]
fn a_run_writes_the_report_and_report_dir_rebuilds_it_byte_for_byte() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // A plan with a dated bed change, so the capacity line has steps.
    let dir = tmp.path().join("winter");
    run_into("scenarios/plans/winter-escalation-beds.toml", &dir, "4");
    let written = report_files(&dir);
    let names: Vec<&str> = written.iter().map(|(n, _)| n.as_str()).collect();
    let mut expected = vec!["report.html", "report.md"];
    expected.extend(CHARTS);
    assert_eq!(names, expected);

    // Remove and damage the report, then rebuild it from the saved files.
    fs::remove_dir_all(dir.join("charts")).expect("rm charts");
    fs::write(dir.join("report.html"), "stale").expect("write");
    fs::remove_file(dir.join("report.md")).expect("rm md");
    report_dir("rebuilt", &dir, 0, &[]);
    assert!(report_files(&dir) == written, "the rebuilt report differs");
    // Nothing left behind by the atomic writes.
    let leftovers: Vec<_> = fs::read_dir(&dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    let md = String::from_utf8_lossy(&written[1].1).into_owned();
    for chart in CHARTS {
        assert!(
            md.contains(&format!("]({chart})")),
            "report.md lacks {chart}"
        );
    }
    let census = String::from_utf8_lossy(&written[7].1).into_owned();
    assert!(census.contains("Beds available (dated changes applied)"));
}

#[test]
fn the_html_is_self_contained() {
    let (_tmp, dir) = baseline_run("3");
    let html = fs::read_to_string(dir.join("report.html")).expect("html");
    let lower = html.to_lowercase();
    for banned in [
        "http",
        "<script",
        "<link",
        "@import",
        "url(",
        "<img",
        "@font-face",
        "src=",
    ] {
        assert!(!lower.contains(banned), "report.html contains {banned:?}");
    }
    // Four charts, and two of mental health (the baseline has it).
    assert_eq!(html.matches("<svg ").count(), 6);
    assert!(html.contains("@page { size: A4;"));
    assert!(html.contains("<title>Tower Hamlets baseline: patient flow report</title>"));
    // Every section of the STRESS-DES checklist, and the marks for the author.
    for heading in [
        "1. Objectives",
        "2. Logic",
        "3. Data",
        "4. Experimentation",
        "5. Implementation",
        "6. Code access",
    ] {
        assert!(html.contains(&format!("<h3>{heading}</h3>")), "{heading}");
    }
    assert!(html.contains("<mark class=\"todo\">[author to complete:"));
    // The parameter table cites the baseline's sources.
    assert!(html.contains("Joy et al. 2020, EMJ: 67% managed in the community"));
}

/// The numbers written in `text`, in order: `28,110`, `-0.07`, `445.8`.
/// A minus sign counts only after a space or an opening parenthesis (a
/// hyphen inside a word is not one).
fn numbers_in(text: &str) -> Vec<f64> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let negative = chars[i] == '-'
            && chars.get(i + 1).is_some_and(|c| c.is_ascii_digit())
            && (i == 0 || chars[i - 1] == ' ' || chars[i - 1] == '(');
        if chars[i].is_ascii_digit() || negative {
            let start = i;
            i += 1;
            while i < chars.len()
                && (chars[i].is_ascii_digit()
                    || ((chars[i] == ',' || chars[i] == '.')
                        && chars.get(i + 1).is_some_and(|c| c.is_ascii_digit())))
            {
                i += 1;
            }
            let s: String = chars[start..i].iter().filter(|&&c| c != ',').collect();
            out.push(s.parse().expect("a number"));
        } else {
            i += 1;
        }
    }
    out
}

/// The rounding rule the report states: one significant figure of the CI
/// half-width, two when it starts with 1; three of the mean without a CI.
fn exponent(mean: f64, half: f64) -> i32 {
    if half.is_finite() && half > 0.0 {
        let mut e = half.log10().floor() as i32;
        let mut lead = half / 10f64.powi(e);
        if lead >= 10.0 {
            e += 1;
            lead /= 10.0;
        }
        if lead < 2.0 { e - 1 } else { e }
    } else if mean != 0.0 {
        mean.abs().log10().floor() as i32 - 2
    } else {
        0
    }
}

fn round(x: f64, e: i32) -> f64 {
    (x / 10f64.powi(e)).round() * 10f64.powi(e)
}

#[test]
fn every_headline_number_is_the_summary_csv_value_rounded() {
    let (_tmp, dir) = baseline_run("6");
    let summary = fs::read_to_string(dir.join("summary.csv")).expect("summary");
    let row = |metric: &str| -> Vec<f64> {
        let line = summary
            .lines()
            .find(|l| l.split(',').next() == Some(metric))
            .unwrap_or_else(|| panic!("no {metric}"));
        let cells: Vec<&str> = line.split(',').collect();
        // mean, ci95_low, ci95_high
        [2, 4, 5]
            .iter()
            .map(|&i| cells[i].parse::<f64>().unwrap_or(f64::NAN))
            .collect()
    };
    let md = fs::read_to_string(dir.join("report.md")).expect("md");
    let data = RunData::read(&dir).expect("reads");
    let headlines = run_headlines(&data);
    assert_eq!(headlines.len(), 7);
    let mut checked = 0;
    for h in &headlines {
        assert!(
            md.contains(&format!("- {}", h.text)),
            "report.md lacks: {}",
            h.text
        );
        // Labels that are not figures: the confidence level, pathway names
        // and the 12-hour threshold.
        let mut text = h.text.replace("95% CI", "");
        for label in ["P1", "P2", "P3", "12 hours"] {
            text = text.replace(label, "");
        }
        let found = numbers_in(&text);
        let mut expected = Vec::new();
        for metric in &h.metrics {
            let v = row(metric.name());
            let e = exponent(v[0], (v[2] - v[1]) / 2.0);
            expected.push((round(v[0], e), e));
            if v[1].is_finite() && v[2] > v[1] {
                // No metric is negative: an interval reaching below zero
                // is written from 0.
                expected.push((round(v[1].max(0.0), e), e));
                expected.push((round(v[2], e), e));
            }
        }
        assert_eq!(found.len(), expected.len(), "{}", h.text);
        for (f, (x, e)) in found.iter().zip(&expected) {
            assert!(
                (f - x).abs() < 10f64.powi(*e) * 1e-6,
                "{}: {f} is not {x}",
                h.text
            );
            checked += 1;
        }
    }
    // 8 metrics, each with its interval unless every replication agreed
    // (no interval to show).
    assert!(checked >= 8, "{checked}");
}

#[test]
fn report_of_a_bad_directory_exits_2_and_names_the_problem() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let missing = tmp.path().join("nope");
    report_dir("missing", &missing, 2, &["nope"]);

    let dir = tmp.path().join("run");
    run_into("scenarios/tower-hamlets-baseline.toml", &dir, "2");
    fs::remove_file(dir.join("summary.csv")).expect("rm");
    report_dir("no summary.csv", &dir, 2, &["summary.csv"]);

    // Bands without the quartiles (daily.csv's columns) are refused.
    run_into("scenarios/tower-hamlets-baseline.toml", &dir, "2");
    let daily = fs::read_to_string(dir.join("daily_bands.csv")).expect("daily bands");
    let old: String = daily
        .lines()
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            format!(
                "{},{},{},{},{},{},{}\n",
                c[0], c[1], c[2], c[3], c[4], c[6], c[8]
            )
        })
        .collect();
    fs::write(dir.join("daily_bands.csv"), old).expect("write");
    // An older version's output: its run.json records no checksums.
    drop_checksums(&dir.join("run.json"));
    report_dir(
        "bands without quartiles",
        &dir,
        2,
        &["daily_bands.csv", "p25"],
    );
}

#[test]
fn the_precision_statement_covers_every_comparison_headline() {
    // Issue 14 item 8: not the most precise measure only.
    let (_tmp, dir) = baseline_run("5");
    let md = fs::read_to_string(dir.join("report.md")).expect("report.md");
    let line = md
        .lines()
        .find(|l| l.contains("half-width of each headline mean"))
        .expect("the precision statement");
    // The baseline has no mental health: its headlines are not stated.
    for h in patientflow::model::headlines::COMPARISON
        .iter()
        .filter(|h| !h.effect.mental_health)
    {
        let name = h.metric.name().replace('_', "\\_");
        assert!(line.contains(&format!("{name} +/-")), "{name}: {line}");
    }
}

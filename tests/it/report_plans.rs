//! The report of a comparison and of a sweep: written at the top of the
//! directory, rebuilt byte for byte by `patientflow report DIR`,
//! self-contained, and with headline numbers that are the numbers of
//! `comparison.csv` after the stated rounding and sign flip.

use std::fs;
use std::path::Path;

use patientflow::report::prose::{effect_exponent, precision_exponent, prose_number};

use crate::common::{bin, numbers_of, report_dir, report_files, succeed};

fn scenario(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(rel)
        .to_str()
        .expect("utf8 path")
        .to_string()
}

/// Short runs: the report's logic does not depend on the horizon.
const SHORT: [&str; 5] = [
    "--set",
    "scenario.horizon=60d",
    "--replications",
    "10",
    "--quiet",
];

/// `command` with the scenarios `files` (relative to the repository) over
/// the [`SHORT`] runs, `--out dir`, which must succeed.
fn short_into(command: &str, files: &[&str], dir: &Path) {
    let files = files.iter().map(|f| scenario(f));
    succeed(
        bin()
            .arg(command)
            .args(files)
            .args(SHORT)
            .arg("--out")
            .arg(dir),
    );
}

/// The report files of `dir`, which must be those named by `names`, in order.
#[track_caller]
fn written_files(dir: &Path, names: &[&str]) -> Vec<(String, Vec<u8>)> {
    let written = report_files(dir);
    let found: Vec<&str> = written.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(found, names);
    written
}

fn compare_into(dir: &Path) {
    let files = [
        "scenarios/tower-hamlets-baseline.toml",
        "scenarios/plans/second-pru-car.toml",
    ];
    short_into("compare", &files, dir);
}

/// `(diff_mean, diff_ci95_low, diff_ci95_high)` of `metric` for `plan` in
/// `comparison.csv` (plain cells: no swept keys, simple names).
fn diff(csv: &str, plan: &str, metric: &str) -> (f64, f64, f64) {
    let header: Vec<&str> = csv.lines().next().expect("header").split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let row: Vec<&str> = csv
        .lines()
        .map(|l| l.split(',').collect::<Vec<_>>())
        .find(|c| c[0] == plan && c[col("metric")] == metric)
        .expect("row");
    let num = |name: &str| row[col(name)].parse::<f64>().expect("number");
    (
        num("diff_mean"),
        num("diff_ci95_low"),
        num("diff_ci95_high"),
    )
}

/// The numbers of a sentence in order, as written (`1,234`, `-20`, `5.3`).
fn numbers_in(text: &str) -> Vec<String> {
    numbers_of(text, true)
}

/// The numbers of one effect's clause, as the plan's sentence words it:
/// the effect "baseline minus plan" and its interval, rounded to the
/// interval's precision, with the clause's own numbers (`own`: the window's
/// days, the 12 of "12 hours") where the wording puts them. An effect above
/// zero reads "an estimated N avoided ... (95% CI a to b)", one below zero
/// "an estimated N more ..." (flipped), one whose interval includes zero
/// "no clear change in ... (an estimated N fewer; 95% CI a fewer to b
/// more)", sizes in the order of the difference plan minus baseline.
fn clause_numbers(d: (f64, f64, f64), own: &[&str]) -> Vec<String> {
    let (mean, lo, hi) = (-d.0, -d.2, -d.1);
    let own: Vec<String> = own.iter().map(|s| s.to_string()).collect();
    let rounded = |m: f64, l: f64, h: f64| {
        let e = effect_exponent(m, l, h);
        [prose_number(m, e), prose_number(l, e), prose_number(h, e)]
    };
    let ci = "95".to_string();
    if lo > 0.0 || hi < 0.0 {
        let [m, l, h] = if lo > 0.0 {
            rounded(mean, lo, hi)
        } else {
            rounded(-mean, -hi, -lo)
        };
        [vec![m], own, vec![ci, l, h]].concat()
    } else {
        // No clear change: sizes in plain words ("3 fewer", "9 more"), the
        // interval in the order of the difference plan minus baseline.
        let e = effect_exponent(d.0, d.1, d.2);
        let size = |x: f64| prose_number(x.abs(), e);
        [own, vec![size(d.0), ci, size(d.1), size(d.2)]].concat()
    }
}

/// The beds a clear change in bed days equals over a window of `days`
/// (nothing when the change is not clear).
fn bed_equivalent(d: (f64, f64, f64), days: f64) -> Vec<String> {
    let (mean, lo, hi) = d;
    if lo > 0.0 || hi < 0.0 {
        let beds = (mean / days).abs();
        vec![prose_number(
            beds,
            precision_exponent(beds, (hi - lo).abs() / days / 2.0),
        )]
    } else {
        Vec::new()
    }
}

/// The numbers of the occupied-beds clause (a change, plan minus
/// baseline): its size and interval, then, when the change is clear, the
/// same as bed days over a window of `days` (not a year: its length is said).
fn occupied_numbers(d: (f64, f64, f64), days: f64) -> Vec<String> {
    let (mean, lo, hi) = d;
    let e = effect_exponent(mean, lo, hi);
    let size = |x: f64| prose_number(x.abs(), e);
    let ci = "95".to_string();
    if lo > 0.0 || hi < 0.0 {
        let (l, h) = if lo > 0.0 { (lo, hi) } else { (hi, lo) };
        let bed_days = mean * days;
        let be = precision_exponent(bed_days, (hi - lo).abs() * days / 2.0);
        vec![
            size(mean),
            ci,
            size(l),
            size(h),
            prose_number(bed_days.abs(), be),
            // "... bed days over the 60-day window".
            format!("{days}"),
        ]
    } else {
        vec![size(mean), ci, size(lo), size(hi)]
    }
}

#[test]
fn a_comparison_writes_its_report_with_the_csv_numbers_and_rebuilds_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("cmp");
    compare_into(&dir);

    let written = written_files(
        &dir,
        &[
            "report.html",
            "report.md",
            "charts/forest-admissions-avoided.svg",
            "charts/forest-decision-to-admit-waits-over-12-hours-avoided.svg",
            "charts/forest-delayed-bed-days-saved.svg",
        ],
    );

    // Headline numbers: those of comparison.csv, sign-flipped and rounded.
    let csv = fs::read_to_string(dir.join("comparison.csv")).expect("comparison.csv");
    let md = fs::read_to_string(dir.join("report.md")).expect("report.md");
    // The plan is called by its scenario's own name; the numbers in the
    // name (opening hours) are not estimates, so the check starts after it.
    let line = md
        .lines()
        .find(|l| l.starts_with("- Second PRU car, 08:30-23:00: an estimated"))
        .expect("the plan's headline sentence");
    let sentence = &line["- Second PRU car, 08:30-23:00:".len()..];
    // The community nursing and mental health sentences after it are
    // checked elsewhere (tests/it/report_sentences.rs, mental_health.rs).
    let sentence = sentence
        .split(" In community nursing: ")
        .next()
        .expect("the physical health clauses");
    // The "95" of each "95% CI", the window's "60" and the "12" of
    // "12 hours" are the sentence's own words; every other number is an
    // estimate.
    let expected = [
        clause_numbers(diff(&csv, "second-pru-car", "admissions"), &["60"]),
        clause_numbers(diff(&csv, "second-pru-car", "delayed_bed_days"), &[]),
        bed_equivalent(diff(&csv, "second-pru-car", "delayed_bed_days"), 60.0),
        clause_numbers(diff(&csv, "second-pru-car", "bed_waits_over_12h"), &["12"]),
        clause_numbers(diff(&csv, "second-pru-car", "bed_waits_over_4h"), &["4"]),
        occupied_numbers(diff(&csv, "second-pru-car", "bed_occupancy_mean"), 60.0),
    ]
    .concat();
    assert_eq!(numbers_in(sentence), expected, "{sentence}");
    // A 60-day window is not "a year"; the caveat is there.
    assert!(sentence.contains("over the 60-day window"), "{sentence}");
    assert!(!md.contains("a year"));
    assert!(md.contains("They are not a forecast"));
    assert!(md.contains("baseline minus plan"));

    // Self-contained, with relative links to each scenario's report.
    let html = fs::read_to_string(dir.join("report.html")).expect("report.html");
    assert!(!html.contains("http"), "an absolute URL in the page");
    assert!(!html.contains("<script"));
    for arm in ["tower-hamlets-baseline", "second-pru-car"] {
        assert!(html.contains(&format!("<a href=\"./{arm}/report.html\">")));
        assert!(dir.join(arm).join("report.html").is_file());
    }
    // Provenance: each arm's SHA-256 from experiment.json.
    let json = fs::read_to_string(dir.join("experiment.json")).expect("experiment.json");
    let manifest: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(manifest["window_days"], 60);
    for arm in manifest["arms"].as_array().expect("arms") {
        assert!(html.contains(arm["sha256"].as_str().expect("sha")));
    }

    // Rebuilt from the saved files alone, byte for byte.
    fs::remove_dir_all(dir.join("charts")).expect("remove charts");
    fs::remove_file(dir.join("report.html")).expect("remove html");
    fs::write(dir.join("report.md"), "stale").expect("stale md");
    report_dir("rebuilt", &dir, 0, &[]);
    assert!(report_files(&dir) == written, "the rebuild differs");
}

#[test]
fn report_dir_refuses_a_malformed_comparison() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("cmp");
    compare_into(&dir);
    fs::write(dir.join("comparison.csv"), "not,a,comparison\n").expect("write");
    report_dir("malformed", &dir, 2, &["comparison.csv"]);
}

#[test]
fn a_sweep_writes_its_report_with_the_sweep_charts() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("sweep");
    short_into("sweep", &["scenarios/sweeps/pru-cars-x-hours.toml"], &dir);

    let written = written_files(
        &dir,
        &[
            "report.html",
            "report.md",
            "charts/sweep-admissions-avoided.svg",
            "charts/sweep-delayed-bed-days-saved.svg",
        ],
    );
    let svg =
        fs::read_to_string(dir.join("charts/sweep-admissions-avoided.svg")).expect("sweep chart");
    // The key with most values (here a tie: the first) on the x axis, in
    // words with its key; one line per value of the other.
    assert!(svg.contains("PRU cars (pru.cars)"));
    assert!(svg.contains("PRU opening hours = 08:30-23:00"));
    assert!(svg.contains("95% CI of the mean paired difference"));
    let md = fs::read_to_string(dir.join("report.md")).expect("report.md");
    // Named as the best only when better than the baseline; else said so.
    for (verb, noun) in [
        ("avoid", "emergency admissions"),
        ("save", "delayed bed days"),
    ] {
        assert!(
            md.contains(&format!("{verb}s the most"))
                || md.contains(&format!("No plan improves on the baseline in {noun}")),
            "{md}"
        );
    }
    let html = fs::read_to_string(dir.join("report.html")).expect("report.html");
    assert!(!html.contains("http") && !html.contains("<script"));

    report_dir("rebuilt", &dir, 0, &[]);
    assert!(report_files(&dir) == written, "the rebuild differs");
}

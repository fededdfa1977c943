//! One statement of each fact (issue 13): the headline table and its
//! consumers, and the report's typed reading of the files it is built from.

use std::path::PathBuf;
use std::process::Output;

use patientflow::model::headlines::run_sentence_metrics;
use patientflow::model::metrics::Metric;
use patientflow::report::RunData;
use patientflow::report::run_report::run_headlines;

use crate::common::{baseline, bin, drop_checksums, report_dir, run_ok};

/// A short baseline run (3 replications, 30 days) into `run` of a new
/// temporary folder: the folder, `run` and the output.
fn short_run() -> (tempfile::TempDir, PathBuf, Output) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("run");
    let base = baseline();
    let args = [
        "run",
        &base,
        "--replications",
        "3",
        "--set",
        "scenario.horizon=30d",
    ];
    let out = run_ok(&args, &dir);
    (tmp, dir, out)
}

#[test]
fn the_run_sentences_cite_exactly_the_headlines_marked_for_them() {
    let (_tmp, dir, _) = short_run();
    let data = RunData::read(&dir).expect("reads");
    let mut cited: Vec<Metric> = run_headlines(&data)
        .into_iter()
        .flat_map(|h| h.metrics)
        .collect();
    cited.sort_unstable();
    let mut expected: Vec<Metric> = run_sentence_metrics().collect();
    expected.sort_unstable();
    assert_eq!(cited, expected);
}

#[test]
fn the_precision_help_names_exactly_the_comparison_headlines() {
    let out = bin().args(["compare", "--help"]).output().expect("runs");
    let help = String::from_utf8_lossy(&out.stdout).replace('\n', " ");
    // The comparison headlines --precision checks by default (the mental
    // health ones are left out).
    let names: Vec<&str> = patientflow::experiment::precision::default_metrics()
        .iter()
        .map(|m| m.name())
        .collect();
    let listed = format!("default: the comparison headlines {}", names.join(", "));
    let squeezed = help.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(squeezed.contains(&listed), "{listed:?} not in {squeezed}");
}

#[test]
fn the_terminal_summary_lists_the_summary_headlines() {
    let (_tmp, _, out) = short_run();
    let text = String::from_utf8_lossy(&out.stdout);
    let shown: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("---"))
        .skip(1)
        .take_while(|l| !l.starts_with("---"))
        .map(|l| l.split(' ').next().unwrap_or(""))
        .collect();
    let expected: Vec<&str> = patientflow::model::headlines::summary_metrics()
        .map(Metric::name)
        .collect();
    assert_eq!(shown, expected);
}

#[test]
fn an_unknown_metric_name_is_an_error_with_file_line_and_column() {
    let (_tmp, dir, _) = short_run();
    drop_checksums(&dir.join("run.json"));
    let path = dir.join("summary.csv");
    let text = std::fs::read_to_string(&path).expect("read");
    // Line 5's metric misspelt: was an "n/a" in the report before.
    let edited: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 4 {
                format!("x{l}")
            } else {
                l.to_string()
            }
        })
        .collect();
    std::fs::write(&path, edited.join("\n") + "\n").expect("write");
    let says = [
        "summary.csv: line 5, column `metric`: \"x",
        "is not a metric of this version",
    ];
    report_dir("a misspelt metric", &dir, 2, &says);
}

#[test]
fn a_comparison_table_is_read_by_typed_rows() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("cmp");
    let plan = crate::common::root().join("scenarios/plans/second-pru-car.toml");
    let (base, plan) = (baseline(), plan.display().to_string());
    let args = ["compare", &base, &plan, "--replications", "2"];
    run_ok(
        &[&args[..], &["--set", "scenario.horizon=20d"]].concat(),
        &dir,
    );
    let md = std::fs::read(dir.join("report.md")).expect("md");
    // Rebuilt from the saved files: the same bytes.
    report_dir("untouched", &dir, 0, &[]);
    assert_eq!(std::fs::read(dir.join("report.md")).expect("md"), md);
    drop_checksums(&dir.join("experiment.json"));
    let path = dir.join("comparison.csv");
    let text = std::fs::read_to_string(&path).expect("read");
    for (find, replace, says) in [
        (
            ",admissions,",
            ",admission,",
            "comparison.csv: line 5, column `metric`",
        ),
        (
            ",patients,",
            ",beds,",
            "comparison.csv: line 2, column `unit`",
        ),
    ] {
        std::fs::write(&path, text.replacen(find, replace, 1)).expect("write");
        report_dir(find, &dir, 2, &[says]);
    }
}

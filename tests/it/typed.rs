//! One statement of each fact (issue 13): the headline table and its
//! consumers, and the report's typed reading of the files it is built from.

use std::path::Path;

use patientflow::model::headlines::{COMPARISON, run_sentence_metrics};
use patientflow::model::metrics::Metric;
use patientflow::report::RunData;
use patientflow::report::run_report::run_headlines;

use crate::common::{baseline, bin};

/// A short baseline run (3 replications, 30 days) into `dir`.
fn short_run(dir: &Path) {
    let out = bin()
        .args(["run", &baseline(), "--replications", "3", "--quiet"])
        .args(["--set", "scenario.horizon=30d", "--out"])
        .arg(dir)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_run_sentences_cite_exactly_the_headlines_marked_for_them() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("run");
    short_run(&dir);
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
    let names: Vec<&str> = COMPARISON.iter().map(|h| h.metric.name()).collect();
    let listed = format!("default: the comparison headlines {}", names.join(", "));
    let squeezed = help.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(squeezed.contains(&listed), "{listed:?} not in {squeezed}");
}

#[test]
fn the_terminal_summary_lists_the_summary_headlines() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = bin()
        .args(["run", &baseline(), "--replications", "2", "--quiet"])
        .args(["--set", "scenario.horizon=30d", "--out"])
        .arg(tmp.path().join("r"))
        .output()
        .expect("runs");
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

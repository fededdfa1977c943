//! The `[[calibration]]` table: the shipped baseline reproduces every
//! published figure it declares (through the real binary, 30 replications),
//! the run report's section is rebuilt from the saved outputs, a plan says
//! whose figures it shows, and the table's mistakes are refused at their
//! line and column.

use std::path::{Path, PathBuf};

use patientflow::report::RunData;
use patientflow::report::calibration::checks;
use patientflow::scenario::{ErrorKind, ScenarioError, load};

use crate::common::{baseline, bin, replications_column, report_files, root, run_ok};

const SECTION: &str = "## Does the baseline reproduce what it cites?";

/// `replications` of the shipped baseline on 2 threads into `tmp/base`; its
/// path.
fn baseline_run(tmp: &Path, replications: &str) -> PathBuf {
    let out = tmp.join("base");
    run_ok(
        &[
            "run",
            &baseline(),
            "--replications",
            replications,
            "--threads",
            "2",
        ],
        &out,
    );
    out
}

#[test]
fn the_baseline_reproduces_every_figure_it_cites() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // 30 replications: enough for every tolerance (the widest interval,
    // delayed transfers, is about +/-15% of its mean).
    let out = baseline_run(tmp.path(), "30");
    let data = RunData::read(&out).expect("outputs read back");
    let checks = checks(&data);
    // The figures named in the brief, each once: none may drop out unnoticed.
    assert_eq!(
        checks.len(),
        18,
        "{:?}",
        checks.iter().map(|c| &c.target.name)
    );
    let outside: Vec<String> = checks
        .iter()
        .filter(|c| !c.within)
        .map(|c| {
            format!(
                "{} ({}): model {:.4} (95% CI {:.4} to {:.4}, n {}), tolerance {} to {}",
                c.target.name,
                c.target.quantity,
                c.mean,
                c.ci95_low,
                c.ci95_high,
                c.n,
                c.target.low,
                c.target.high
            )
        })
        .collect();
    assert!(outside.is_empty(), "outside tolerance: {outside:#?}");
    for c in &checks {
        assert_eq!(c.n, 30, "{} undefined in some replications", c.target.name);
    }
    let md = std::fs::read_to_string(out.join("report.md")).expect("report.md");
    assert!(md.contains(SECTION), "no calibration section");
    let all = format!(
        "Every one of the {} figures is within its tolerance.",
        checks.len()
    );
    assert!(md.contains(&all), "no sentence {all:?}");
    assert!(md.contains("per-replication ratios"));
    let html = std::fs::read_to_string(out.join("report.html")).expect("report.html");
    assert!(html.contains("Does the baseline reproduce what it cites?"));
}

#[test]
fn a_ratio_is_the_mean_of_the_replications_ratios() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = baseline_run(tmp.path(), "5");
    let data = RunData::read(&out).expect("outputs read back");
    let check = checks(&data)
        .into_iter()
        .find(|c| c.target.quantity == "pru_treated_at_home / pru_visits")
        .expect("the PRU's share at home is a target");
    let home = replications_column(&out, "pru_treated_at_home");
    let visits = replications_column(&out, "pru_visits");
    let ratios: Vec<f64> = home.iter().zip(&visits).map(|(h, v)| h / v).collect();
    assert_eq!(ratios.len(), 5);
    let mean = ratios.iter().sum::<f64>() / 5.0;
    assert!(
        (check.mean - mean).abs() < 1e-12,
        "{} vs {mean}",
        check.mean
    );
    // Not the ratio of the means (which differs in the last digits).
    assert!(check.ci95_low < mean && mean < check.ci95_high);
}

#[test]
fn report_dir_rebuilds_the_section_byte_for_byte() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = baseline_run(tmp.path(), "4");
    let before = report_files(&out);
    std::fs::remove_file(out.join("report.md")).expect("rm");
    std::fs::remove_file(out.join("report.html")).expect("rm");
    let st = bin().arg("report").arg(&out).output().expect("runs");
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    assert_eq!(before, report_files(&out));
    let md = std::fs::read_to_string(out.join("report.md")).expect("report.md");
    assert!(md.contains(SECTION));
}

#[test]
fn a_changed_replications_csv_is_refused_when_the_section_needs_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = baseline_run(tmp.path(), "3");
    let path = out.join("replications.csv");
    let text = std::fs::read_to_string(&path).expect("csv");
    std::fs::write(&path, text.replacen(",", ",9", 3)).expect("write");
    let st = bin().arg("report").arg(&out).output().expect("runs");
    assert_eq!(st.status.code(), Some(2));
    let err = String::from_utf8_lossy(&st.stderr);
    assert!(err.contains("replications.csv"), "{err}");
}

#[test]
fn a_plan_shows_its_own_figures_against_the_inherited_targets_and_says_so() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("plan");
    let plan = root().join("scenarios/plans/second-pru-car.toml");
    run_ok(
        &[
            "run",
            &plan.display().to_string(),
            "--replications",
            "3",
            "--threads",
            "2",
        ],
        &out,
    );
    let md = std::fs::read_to_string(out.join("report.md")).expect("report.md");
    assert!(md.contains(SECTION));
    assert!(
        md.contains("may inherit through") && md.contains("the figures are this scenario's own"),
        "the section must say whose figures these are"
    );
    // The second car's visits are its own, far above the baseline's target.
    let data = RunData::read(&out).expect("read");
    let pru = checks(&data)
        .into_iter()
        .find(|c| c.target.name == "PRU patients a day")
        .expect("inherited");
    assert!(!pru.within && pru.mean > 8.0, "{}", pru.mean);
}

// ---------------------------------------------------------------------------
// The format: the minimal scenario with a calibration table appended.

fn minimal() -> String {
    std::fs::read_to_string(root().join("tests/data/scenarios/minimal.toml")).expect("fixture")
}

const ENTRY: &str = "\n[[calibration]]\nname = \"Admissions a day\"\nquantity = \"admissions / day\"\ntarget = 77\nrange = [75, 79]\nsource = \"Derived\"\n";

fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("plan.toml");
    std::fs::write(&path, text).expect("write");
    (dir, path)
}

/// The minimal scenario with `ENTRY` appended and `old` replaced by `new`
/// in it; the error, and the line and 1-based column where `at` (which must
/// occur once) is in the file.
fn refused(old: &str, new: &str, at: &str) -> (ScenarioError, usize, usize) {
    let text = format!("{}{}", minimal(), ENTRY.replacen(old, new, 1));
    assert_eq!(text.matches(at).count(), 1, "`{at}` must occur once");
    let offset = text.find(at).expect("present");
    let line = text[..offset].matches('\n').count() + 1;
    let col = offset - text[..offset].rfind('\n').map_or(0, |i| i + 1) + 1;
    let (_dir, path) = write(&text);
    (load(&path, &[]).expect_err("refused"), line, col)
}

#[track_caller]
fn located(e: &ScenarioError, line: usize, col: usize, key: &str, msg: &str) {
    assert_eq!(e.kind(), ErrorKind::InvalidValue, "{e}");
    assert_eq!((e.line(), e.column()), (Some(line), Some(col)), "{e}");
    assert_eq!(e.key(), Some(key), "{e}");
    assert!(e.message().contains(msg), "{:?} lacks {msg:?}", e.message());
}

#[test]
fn a_valid_table_loads_and_is_kept_in_the_resolved_scenario() {
    let (_dir, path) = write(&format!("{}{ENTRY}", minimal()));
    let loaded = load(&path, &[]).expect("loads");
    assert_eq!(loaded.calibration.len(), 1);
    assert_eq!(loaded.calibration[0].quantity.text(), "admissions / day");
    assert!(loaded.resolved_toml.contains("calibration"));
    // The table changes nothing a run uses.
    let (_d, plain) = write(&minimal());
    let plain = load(&plain, &[]).expect("loads");
    assert_eq!(
        format!("{:?}", plain.scenario),
        format!("{:?}", loaded.scenario)
    );
}

#[test]
fn an_unknown_metric_is_refused_at_the_word_with_a_suggestion() {
    let (e, line, col) = refused("admissions / day", "admisions / day", "admisions");
    located(
        &e,
        line,
        col,
        "calibration[0].quantity",
        "`admisions` is not a metric, did you mean `admissions`?",
    );
    let (e, line, col) = refused("admissions / day", "admissions / dya", "dya");
    located(
        &e,
        line,
        col,
        "calibration[0].quantity",
        "did you mean `day`?",
    );
    let (e, line, col) = refused(
        "admissions / day",
        "admissions / care_homes.bed",
        "care_homes.bed\"",
    );
    located(
        &e,
        line,
        col,
        "calibration[0].quantity",
        "did you mean `care_homes.beds`?",
    );
    let (e, _, _) = refused("admissions / day", "admissions * 2", "admissions * 2");
    assert!(e.message().contains("expected `METRIC`"), "{e}");
}

#[test]
fn a_tolerance_must_be_low_to_high_around_the_target() {
    let (e, line, col) = refused("[75, 79]", "[79, 75]", "[79, 75]");
    located(
        &e,
        line,
        col,
        "calibration[0].range",
        "expected low <= high, found low 79 above high 75",
    );
    let (e, line, col) = refused("[75, 79]", "[75]", "[75]");
    located(
        &e,
        line,
        col,
        "calibration[0].range",
        "expected the tolerance as [low, high]",
    );
    let (e, line, col) = refused("target = 77", "target = 81.25", "81.25");
    located(
        &e,
        line,
        col,
        "calibration[0].target",
        "expected the target inside its tolerance [75, 79], found 81.25",
    );
}

#[test]
fn names_and_sources_are_required_and_names_unique() {
    let (e, line, col) = refused("source = \"Derived\"", "source = \" \"", "\" \"");
    located(&e, line, col, "calibration[0].source", "expected a source");
    let (e, line, col) = refused("name = \"Admissions a day\"", "name = \"\"", "\"\"");
    located(
        &e,
        line,
        col,
        "calibration[0].name",
        "expected the figure's name",
    );
    let text = format!("{}{ENTRY}{ENTRY}", minimal());
    let (_dir, path) = write(&text);
    let e = load(&path, &[]).expect_err("repeated name");
    assert_eq!(e.key(), Some("calibration[1].name"), "{e}");
    assert!(e.message().contains("a second time"), "{e}");
    let (e, _, _) = refused("target = 77", "target = 77\ntolerance = 2", "tolerance");
    assert_eq!(e.kind(), ErrorKind::UnknownKey, "{e}");
}

#[test]
fn check_refuses_a_bad_table_with_exit_code_2() {
    let text = format!(
        "{}{}",
        minimal(),
        ENTRY.replace("admissions / day", "admission / day")
    );
    let (_dir, path) = write(&text);
    let st = bin().arg("check").arg(&path).output().expect("runs");
    assert_eq!(st.status.code(), Some(2));
    let err = String::from_utf8_lossy(&st.stderr);
    assert!(err.contains("did you mean `admissions`"), "{err}");
}

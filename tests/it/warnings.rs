//! The flow balance's warnings (issues 13 and 14): each scenario's own,
//! naming it, recorded once in its `run.json` and with its arm in
//! `experiment.json`, shown by its figures in every report and terminal
//! table, with the metrics of an overloaded queue marked as not settling;
//! and a library that leaves printing to the binary.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::common::{baseline, report_dir, root, run_ok, write_extending};

/// A short window: the overload shows in weeks.
/// The baseline's home care and mental health supported accommodation run
/// near capacity by design (docs/calibration.md, sections 8.6 and 9); 520
/// packages and 16 places take them below the warning line, so that only the
/// overloaded plans these tests build warn.
const SHORT: [&str; 10] = [
    "--set",
    "home_care.packages=520",
    "--set",
    "mental_health.supported_accommodation.places=16",
    "--set",
    "scenario.warm_up=10d",
    "--set",
    "scenario.horizon=40d",
    "--replications",
    "2",
];

/// Ten community teams: demand far above the caseload places (the
/// baseline's 18 teams are within them).
const OVERLOADED_TEAMS: &str = "10";

fn json(path: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(path).expect("reads")).expect("JSON")
}

fn warnings(v: &Value) -> &Vec<Value> {
    v["warnings"].as_array().expect("a warnings array")
}

/// A sweep file beside `dir` over the shipped baseline: 2 x 2 plans, the
/// ones with ten teams overloaded.
fn sweep_file(dir: &Path) -> PathBuf {
    let body = format!(
        "[scenario]\nname = \"Teams x beds\"\n[sweep]\n\
         \"community.teams\" = [{OVERLOADED_TEAMS}, 18]\n\"care_homes.beds\" = [339, 354]\n"
    );
    write_extending(dir, "teams-x-beds.toml", baseline(), &body)
}

/// The sweep of [`sweep_file`] over the [`SHORT`] window, into `out` of a
/// new temporary folder: the folder, the sweep file, `out` and the output.
fn run_sweep() -> (tempfile::TempDir, PathBuf, PathBuf, Output) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let sweep = sweep_file(tmp.path());
    let out = tmp.path().join("out");
    let mut args = vec!["sweep", sweep.to_str().expect("utf-8")];
    args.extend(SHORT);
    let done = run_ok(&args, &out);
    (tmp, sweep, out, done)
}

#[test]
fn a_sweep_records_each_overloaded_combinations_warning_once_and_nothing_for_the_others() {
    let (_tmp, _, out, done) = run_sweep();
    let experiment = json(&out.join("experiment.json"));
    let arms = experiment["arms"].as_array().expect("arms");
    assert_eq!(arms.len(), 5, "the baseline and 4 plans");
    let mut overloaded = Vec::new();
    for arm in arms {
        let name = arm["name"].as_str().expect("name");
        let recorded = warnings(arm);
        let run = json(&out.join(name).join("run.json"));
        assert_eq!(
            warnings(&run),
            recorded,
            "{name}: run.json and experiment.json record the same warnings"
        );
        if name.ends_with(&format!("community.teams={OVERLOADED_TEAMS}")) {
            assert_eq!(recorded.len(), 1, "{name}: one warning: {recorded:?}");
            let w = &recorded[0];
            assert_eq!(w["plan"], name);
            assert_eq!(w["service"], "community nursing");
            assert_eq!(w["verdict"], "overloaded");
            let message = w["message"].as_str().expect("message");
            let beds = &name["care_homes.beds=".len().."care_homes.beds=".len() + 3];
            let combination =
                format!("(care_homes.beds={beds}, community.teams={OVERLOADED_TEAMS})");
            assert!(
                message.contains(&combination),
                "{name}: the message names the combination {combination}: {message}"
            );
            let unsettled: Vec<&str> = w["does_not_settle"]
                .as_array()
                .expect("does_not_settle")
                .iter()
                .map(|m| m.as_str().expect("a name"))
                .collect();
            assert!(
                unsettled.contains(&"community_waiting_mean"),
                "{unsettled:?}"
            );
            assert!(!unsettled.contains(&"admissions"), "{unsettled:?}");
            overloaded.push(message.to_string());
        } else {
            assert!(recorded.is_empty(), "{name}: no warning: {recorded:?}");
        }
    }
    assert_eq!(overloaded.len(), 2, "the two ten-team plans");
    // Told once each on the terminal, before the run, naming the plan.
    let stderr = String::from_utf8_lossy(&done.stderr);
    for message in &overloaded {
        assert_eq!(
            stderr.matches(&format!("warning: {message}")).count(),
            1,
            "{stderr}"
        );
    }
    assert_eq!(stderr.matches("warning:").count(), 2, "{stderr}");
}

/// The lines of a Markdown table whose first cells are `cells`.
fn rows<'a>(md: &'a str, cells: &str) -> Vec<&'a str> {
    md.lines().filter(|l| l.starts_with(cells)).collect()
}

/// The first line of `md` that contains `cell`.
fn row_with<'a>(md: &'a str, cell: &str) -> &'a str {
    md.lines()
        .find(|l| l.contains(cell))
        .unwrap_or_else(|| panic!("no row with {cell} in:\n{md}"))
}

#[test]
fn the_sweep_report_and_table_mark_the_overloaded_plans_rows() {
    let (_tmp, sweep, out, done) = run_sweep();
    let md = fs::read_to_string(out.join("report.md")).expect("report.md");
    let marked = rows(&md, &format!("| 339 \u{26a0} | {OVERLOADED_TEAMS} |"));
    assert_eq!(
        marked.len(),
        9,
        "the plan's 9 headline rows (6, and 3 of mental health), marked:\n{md}"
    );
    let community = marked
        .iter()
        .find(|l| l.contains("community wait change"))
        .expect("the community wait row");
    assert!(community.contains("does not settle"), "{community}");
    let admissions = marked
        .iter()
        .find(|l| l.contains("admissions avoided"))
        .expect("the admissions row");
    assert!(!admissions.contains("does not settle"), "{admissions}");
    for row in rows(&md, "| 339 | 18 |") {
        assert!(
            !row.contains('\u{26a0}') && !row.contains("does not settle"),
            "an unwarned plan's row is not marked: {row}"
        );
    }
    assert_eq!(rows(&md, "| 339 | 18 |").len(), 9, "{md}");
    assert!(
        md.contains(&format!(
            "> \u{26a0} Warning: {} (care\\_homes.beds=339, community.teams={OVERLOADED_TEAMS}): \
             community nursing",
            sweep.display().to_string().replace('_', "\\_")
        )),
        "{md}"
    );
    let html = fs::read_to_string(out.join("report.html")).expect("report.html");
    assert_eq!(html.matches("<p class=\"warning\">").count(), 2, "{html}");
    assert!(html.contains("339 \u{26a0}"), "the row's mark in HTML");
    assert!(html.contains("does not settle: the queue grows through the run"));
    // The terminal table: the plan's rows marked, the unsettled figure said so.
    let stdout = String::from_utf8_lossy(&done.stdout);
    let plan = format!("care_homes.beds=339+community.teams={OVERLOADED_TEAMS} (!)");
    let lines: Vec<&str> = stdout.lines().filter(|l| l.starts_with(&plan)).collect();
    assert_eq!(lines.len(), 9, "{stdout}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("community wait change") && l.ends_with("(!) does not settle")),
        "{stdout}"
    );
    assert!(
        stdout
            .lines()
            .all(|l| !l.starts_with("care_homes.beds=339+community.teams=18 (!)")),
        "{stdout}"
    );
    // Rebuilt from the files alone, the report is the same.
    let before = fs::read(out.join("report.md")).expect("reads");
    report_dir("rebuilt", &out, 0, &[]);
    assert_eq!(fs::read(out.join("report.md")).expect("reads"), before);
}

#[test]
fn the_comparison_report_marks_the_overloaded_plan_and_its_own_run_report() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let body =
        format!("[scenario]\nname = \"Ten teams\"\n[community]\nteams = {OVERLOADED_TEAMS}\n");
    let plan = write_extending(tmp.path(), "ten-teams.toml", baseline(), &body);
    let other = root().join("scenarios/plans/four-more-community-teams.toml");
    let out = tmp.path().join("out");
    let mut args = vec![
        "compare".to_string(),
        baseline(),
        plan.display().to_string(),
        other.display().to_string(),
    ];
    args.extend(SHORT.map(String::from));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run_ok(&args, &out);
    let experiment = json(&out.join("experiment.json"));
    let counts: Vec<(String, usize)> = experiment["arms"]
        .as_array()
        .expect("arms")
        .iter()
        .map(|a| {
            (
                a["name"].as_str().expect("name").to_string(),
                warnings(a).len(),
            )
        })
        .collect();
    assert_eq!(
        counts,
        [
            ("tower-hamlets-baseline".to_string(), 0),
            ("ten-teams".to_string(), 1),
            ("four-more-community-teams".to_string(), 0)
        ]
    );
    let md = fs::read_to_string(out.join("report.md")).expect("report.md");
    // The results table's rows (not the provenance table's).
    let marked: Vec<&str> = rows(&md, "| Ten teams \u{26a0} |")
        .into_iter()
        .filter(|l| !l.contains("| plan |"))
        .collect();
    assert_eq!(marked.len(), 9, "{md}");
    let saved_unsettled =
        |l: &&str| l.contains("delayed bed days saved") && l.contains("does not settle");
    assert!(marked.iter().any(saved_unsettled), "{md}");
    let others: Vec<&str> = md
        .lines()
        .filter(|l| l.contains("| delayed bed days saved |") && !l.contains("Ten teams"))
        .collect();
    assert_eq!(others.len(), 1, "{md}");
    assert!(!others[0].contains("does not settle") && !others[0].contains('\u{26a0}'));
    assert!(
        md.contains(&format!(
            "> \u{26a0} Warning: {}: community nursing",
            plan.display()
        )),
        "{md}"
    );
    let html = fs::read_to_string(out.join("report.html")).expect("report.html");
    assert_eq!(html.matches("<p class=\"warning\">").count(), 1);
    assert!(html.contains("Ten teams \u{26a0}"));
    // The plan's own run report: the warning, and the queue's metrics.
    let run_md = fs::read_to_string(out.join("ten-teams/report.md")).expect("report.md");
    assert!(run_md.contains("> \u{26a0} Warning: "), "{run_md}");
    let waiting = row_with(&run_md, "| community\\_waiting\\_mean |");
    assert!(
        waiting.starts_with("| \u{26a0} ") && waiting.contains("does not settle"),
        "{waiting}"
    );
    let admissions = row_with(&run_md, "| admissions |");
    assert!(!admissions.contains("does not settle"), "{admissions}");
    let unwarned =
        fs::read_to_string(out.join("four-more-community-teams/report.md")).expect("report.md");
    assert!(!unwarned.contains('\u{26a0}') && !unwarned.contains("does not settle"));
}

#[test]
fn a_plain_run_without_overload_records_no_warnings() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    let base = baseline();
    let mut args = vec!["run", base.as_str()];
    args.extend(SHORT);
    let done = run_ok(&args, &out);
    let text = fs::read_to_string(out.join("run.json")).expect("run.json");
    assert!(text.contains("\"warnings\": []"), "{text}");
    assert!(!String::from_utf8_lossy(&done.stderr).contains("warning"));
    assert!(!String::from_utf8_lossy(&done.stdout).contains("(!)"));
    // The same run overloaded: its warning, named by the file, once.
    let over = tmp.path().join("over");
    let set = format!("community.teams={OVERLOADED_TEAMS}");
    let mut args = vec!["run", base.as_str(), "--set", set.as_str()];
    args.extend(SHORT);
    let done = run_ok(&args, &over);
    let run = json(&over.join("run.json"));
    let recorded = warnings(&run);
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    assert_eq!(recorded[0]["plan"], "tower-hamlets-baseline");
    assert!(
        recorded[0]["message"]
            .as_str()
            .expect("message")
            .starts_with(&format!("{base}: community nursing: ")),
        "{recorded:?}"
    );
    let stdout = String::from_utf8_lossy(&done.stdout);
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("community_waiting_mean") && l.ends_with("(!) does not settle")),
        "{stdout}"
    );
}

/// Files of `src/` compiled only for tests: those a `#[cfg(test)] mod x;`
/// declares.
fn test_only_files(dir: &Path, out: &mut Vec<PathBuf>, files: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("src/") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            test_only_files(&path, out, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = fs::read_to_string(&path).expect("reads");
            let lines: Vec<&str> = text.lines().collect();
            for pair in lines.windows(2) {
                if pair[0].trim() == "#[cfg(test)]"
                    && let Some(name) = pair[1]
                        .trim()
                        .strip_prefix("mod ")
                        .and_then(|m| m.strip_suffix(';'))
                {
                    out.push(path.with_file_name(format!("{name}.rs")));
                }
            }
            files.push(path);
        }
    }
}

#[test]
fn the_library_never_prints() {
    let src = root().join("src");
    let (mut test_only, mut files) = (Vec::new(), Vec::new());
    test_only_files(&src, &mut test_only, &mut files);
    // The binary prints; the Ctrl-C handler may (no sink reaches it).
    let allowed = ["cli.rs", "main.rs", "signals.rs"].map(|f| src.join(f));
    let mut found = Vec::new();
    for path in files {
        if allowed.contains(&path) || test_only.contains(&path) {
            continue;
        }
        let text = fs::read_to_string(&path).expect("reads");
        // A file's unit tests, at its end, may print.
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        for (i, line) in code.lines().enumerate() {
            let code_part = line.split("//").next().unwrap_or("");
            if ["println!", "print!", "eprintln!", "eprint!", "dbg!"]
                .iter()
                .any(|m| code_part.contains(m))
            {
                found.push(format!("{}:{}: {}", path.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "the library prints (send a Notice instead):\n{}",
        found.join("\n")
    );
}

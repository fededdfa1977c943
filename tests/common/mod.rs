//! Helpers shared by the integration tests (each test binary uses some).
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The `patientflow` binary under test.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_patientflow"))
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shipped baseline scenario's path.
pub fn baseline() -> String {
    root()
        .join("scenarios/tower-hamlets-baseline.toml")
        .display()
        .to_string()
}

/// Writes `dir/name`: `extends = "BASE"` (the path `base`), a newline,
/// then `body`; its path.
pub fn write_extending(dir: &Path, name: &str, base: impl AsRef<Path>, body: &str) -> PathBuf {
    let base = base.as_ref().display().to_string();
    let path = dir.join(name);
    fs::write(&path, format!("extends = {base:?}\n{body}")).expect("writes the scenario");
    path
}

/// `compare` of the uncertain scenario `base` (file `stem.toml` in `dir`)
/// with a plan that extends it and changes nothing and a plan `other`
/// (its name and the body after its `extends` line), 6 replications on 2
/// threads plus `extra` arguments, into `dir/out`; asserts that the no-op
/// plan drew the same values and got the same results as `base`.
pub fn compare_with_a_noop(
    dir: &Path,
    base: &str,
    stem: &str,
    other: (&str, &str),
    extra: &[&str],
) -> PathBuf {
    let extends = format!("{stem}.toml");
    let noop = write_extending(dir, "noop.toml", &extends, "[scenario]\nname = \"noop\"\n");
    let other = write_extending(dir, &format!("{}.toml", other.0), &extends, other.1);
    let out = dir.join("out");
    let mut args = vec![
        "compare",
        base,
        noop.to_str().expect("utf8"),
        other.to_str().expect("utf8"),
        "--replications",
        "6",
        "--threads",
        "2",
    ];
    args.extend(extra);
    run_ok(&args, &out);
    // Same draws: the two scenarios' parameters and results are the same bytes.
    for f in ["parameters.csv", "replications.csv"] {
        assert_eq!(
            fs::read(out.join(stem).join(f)).expect("base"),
            fs::read(out.join("noop").join(f)).expect("noop"),
            "{f}"
        );
    }
    out
}

/// The column `name` of `dir/replications.csv`, a number a replication.
#[track_caller]
pub fn replications_column(dir: &Path, name: &str) -> Vec<f64> {
    csv_column(&csv_rows(&dir.join("replications.csv")), name)
}

/// The rows of a CSV file without quoted cells, each split at its commas
/// (the header first).
#[track_caller]
pub fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

/// The column `name` of `rows` (from [`csv_rows`]), each cell a number.
#[track_caller]
pub fn csv_column(rows: &[Vec<String>], name: &str) -> Vec<f64> {
    let i = rows[0]
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {:?}", rows[0]));
    rows[1..]
        .iter()
        .map(|r| r[i].parse().expect("number"))
        .collect()
}

/// Runs `patientflow` with `args`; its output, whatever the exit code.
pub fn run(args: &[&str]) -> std::process::Output {
    bin().args(args).output().expect("the binary runs")
}

/// Runs `patientflow` with `args`, which must exit with `code` and say
/// each of `says` on stderr; `case` names the case in a failure. Its stderr.
#[track_caller]
pub fn exits_saying(case: &str, args: &[&str], code: i32, says: &[&str]) -> String {
    let out = run(args);
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(code),
        "{case}: {args:?}\nstdout: {}\nstderr: {stderr}",
        text(&out.stdout)
    );
    for said in says {
        assert!(stderr.contains(said), "{case}: no `{said}` in: {stderr}");
    }
    stderr
}

/// `patientflow run scenario`, `--set S` for each of `sets`, quietly into
/// a new temporary folder: it must be refused as wrong input (exit 2),
/// saying each of `says`, and write nothing. Its stderr.
#[track_caller]
pub fn refused_run(scenario: &str, sets: &[&str], says: &[&str]) -> String {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("never");
    let mut args = vec!["run", scenario];
    for set in sets {
        args.extend(["--set", set]);
    }
    args.extend(["--quiet", "--out", out.to_str().expect("a UTF-8 path")]);
    let stderr = exits_saying(&format!("{scenario} {sets:?}"), &args, 2, says);
    assert!(!out.exists(), "{scenario} {sets:?}: refused, yet wrote");
    stderr
}

/// `patientflow report dir`, which must exit with `code` and say each of
/// `says` on stderr (`case` names the case); its stderr.
#[track_caller]
pub fn report_dir(case: &str, dir: &Path, code: i32, says: &[&str]) -> String {
    let dir = dir.to_str().expect("a UTF-8 path");
    exits_saying(case, &["report", dir], code, says)
}

/// Edits the JSON file at `path` (a `run.json` or `experiment.json`).
pub fn edit_json(path: &Path, f: impl FnOnce(&mut serde_json::Value)) {
    let mut v: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(path).expect("read")).expect("json");
    f(&mut v);
    fs::write(path, serde_json::to_string_pretty(&v).expect("json")).expect("write");
}

/// Removes the checksums of a manifest, as an older version wrote it, so
/// that an edited file is read (and its values checked) rather than refused.
pub fn drop_checksums(path: &Path) {
    edit_json(path, |v| {
        v.as_object_mut().expect("object").remove("files");
    });
}

/// Runs `command`, which must succeed; its output.
#[track_caller]
pub fn succeed(command: &mut Command) -> std::process::Output {
    let out = command.output().expect("runs");
    assert!(out.status.success(), "{:?}: {}", command, text(&out.stderr));
    out
}

/// The numbers written in `text`, in order, as written: digits with a
/// thousands comma or a decimal point kept inside (`1,234`, `5.3`) and,
/// when `signed`, a leading minus sign after a space or at the start (`-20`;
/// not the hyphen of "60-day" or of a plan name).
pub fn numbers_of(text: &str, signed: bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let next_digit = chars.get(i + 1).is_some_and(char::is_ascii_digit);
        let continues = !cur.is_empty() && (c == ',' || c == '.') && next_digit;
        let starts_negative =
            signed && cur.is_empty() && c == '-' && next_digit && (i == 0 || chars[i - 1] == ' ');
        if c.is_ascii_digit() || continues || starts_negative {
            cur.push(c);
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The mean (third cell) of `metric`'s row of `dir/summary.csv`.
#[track_caller]
pub fn summary_mean(dir: &Path, metric: &str) -> f64 {
    let csv = fs::read_to_string(dir.join("summary.csv")).expect("summary.csv");
    let row = csv
        .lines()
        .find(|l| l.split(',').next() == Some(metric))
        .unwrap_or_else(|| panic!("no {metric} in summary.csv"));
    row.split(',')
        .nth(2)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no mean in {row}"))
}

/// Bytes written by the binary, as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `patientflow run` of the baseline with `--replications replications`,
/// `--set S` for each of `sets`, then `extra`, `--quiet --out out`.
pub fn baseline_command(out: &Path, replications: &str, sets: &[&str], extra: &[&str]) -> Command {
    let mut command = bin();
    command.args(["run", &baseline(), "--replications", replications]);
    for set in sets {
        command.args(["--set", set]);
    }
    command.args(extra).args(["--quiet", "--out"]).arg(out);
    command
}

/// [`baseline_command`]'s output, whatever the exit code.
pub fn run_baseline(
    out: &Path,
    replications: &str,
    sets: &[&str],
    extra: &[&str],
) -> std::process::Output {
    baseline_command(out, replications, sets, extra)
        .output()
        .expect("runs")
}

/// `patientflow run` of the baseline, one replication, `--quiet --out
/// out`, then `extra`; its output, whatever the exit code.
pub fn run_into(out: &Path, extra: &[&str]) -> std::process::Output {
    run_baseline(out, "1", &[], extra)
}

/// Runs `patientflow` with `args` then `--quiet --out dir`, which must
/// succeed; its output.
pub fn run_ok(args: &[&str], dir: &Path) -> std::process::Output {
    succeed(bin().args(args).args(["--quiet", "--out"]).arg(dir))
}

/// Every report file of `dir` (relative name, bytes), sorted.
pub fn report_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = vec![
        (
            "report.html".to_string(),
            fs::read(dir.join("report.html")).expect("report.html"),
        ),
        (
            "report.md".to_string(),
            fs::read(dir.join("report.md")).expect("report.md"),
        ),
    ];
    let mut charts: Vec<PathBuf> = fs::read_dir(dir.join("charts"))
        .expect("charts/")
        .map(|e| e.expect("entry").path())
        .collect();
    charts.sort();
    for c in charts {
        let name = format!("charts/{}", c.file_name().expect("name").to_string_lossy());
        files.push((name, fs::read(&c).expect("chart")));
    }
    files
}

/// A run that never finishes by itself (the baseline, 100,000 replications).
pub fn long_run(out: &Path, extra: &[&str]) -> Child {
    baseline_command(out, "100000", &[], extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawns")
}

/// The shipped baseline without its mental health system, written into
/// `dir` (the baseline has a `[mental_health]` table, and `extends` cannot
/// remove a table): the `[mental_health...]` tables and their `[sources]`
/// lines are left out, everything else is the baseline's text.
pub fn physical_baseline(dir: &Path) -> PathBuf {
    let text = fs::read_to_string(baseline()).expect("the baseline");
    let mut out = String::new();
    let mut in_mh = false;
    for line in text.lines() {
        if line.starts_with('[') {
            in_mh = line.starts_with("[mental_health");
        }
        if in_mh || line.starts_with("\"mental_health.") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    let path = dir.join("physical-baseline.toml");
    fs::write(&path, out).expect("writes");
    path
}

/// Replication 0 of `sc` without counterfactual arms: its result and its
/// events.
pub fn traced(
    sc: patientflow::scenario::Scenario,
) -> (
    patientflow::model::metrics::ReplicationResult,
    Vec<patientflow::model::TraceEvent>,
) {
    patientflow::model::Prepared::new(sc)
        .without_counterfactuals()
        .simulate_traced(0, Vec::new())
        .expect("runs")
}

/// The times of the new crises of `trace`.
pub fn crisis_times(trace: &[patientflow::model::TraceEvent]) -> Vec<f64> {
    trace
        .iter()
        .filter_map(|e| match e {
            patientflow::model::TraceEvent::Crisis { at } => Some(*at),
            _ => None,
        })
        .collect()
}

/// The times of the GP (community) referrals of `trace`.
pub fn gp_referral_times(trace: &[patientflow::model::TraceEvent]) -> Vec<f64> {
    trace
        .iter()
        .filter_map(|e| match e {
            patientflow::model::TraceEvent::CommunityReferred {
                at,
                class: patientflow::scenario::ReferralClass::Community,
            } => Some(*at),
            _ => None,
        })
        .collect()
}

/// Runs the binary, killing it (and failing) if it has not ended within
/// `limit`: a refusal must not turn into a hang. The limit is generous (a
/// loaded 2-core machine); what is asserted is "refused", not "fast".
pub fn run_bounded(args: &[&str], limit: Duration) -> Output {
    let mut child = bin()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let started = Instant::now();
    loop {
        if child.try_wait().expect("polls").is_some() {
            return child.wait_with_output().expect("waits");
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().expect("waits");
            panic!(
                "patientflow {args:?} still running after {limit:?}; stderr: {}",
                text(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

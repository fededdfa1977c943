//! Red-team pass over the inputs added today (`[home_care]`, `[growth]`,
//! `capacity_changes`, `[start]` and the census CSV, uncertain values,
//! `backtest`), through the real binary. Each test was a defect found on
//! a389cd4; the shell command that showed it is in its comment.

use crate::common::{baseline, bin, root, text};

/// `patientflow run` of the baseline for 5 days from an empty start, two
/// replications, into `out`, with `sets` as `--set` values.
fn short_run(out: &std::path::Path, scenario: &str, sets: &[&str]) -> std::process::Output {
    let mut cmd = bin();
    cmd.args(["run", scenario, "--replications", "2", "--quiet", "--out"])
        .arg(out)
        .args([
            "--set",
            "scenario.warm_up=0d",
            "--set",
            "scenario.horizon=5d",
        ]);
    for s in sets {
        cmd.args(["--set", s]);
    }
    cmd.output().expect("the binary runs")
}

/// `run --set home_care.packages=1000001` (and `initial_packages`, and a
/// capacity change) ran although docs/scenario-format.md allows 0 to
/// 1,000,000; `initial_packages=4000000000` was refused for
/// `demand.crises_per_day`, the wrong key. Each is refused at its key, exit 2.
#[test]
fn home_care_counts_above_the_limit_are_refused_at_their_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (set, key) in [
        ("home_care.packages=1000001", "home_care.packages"),
        (
            "home_care.initial_packages=1000001",
            "home_care.initial_packages",
        ),
        (
            "home_care.initial_packages=4000000000",
            "home_care.initial_packages",
        ),
        (
            "home_care.capacity_changes=[{from=\"2025-01-01\",packages=2000000}]",
            "home_care.capacity_changes",
        ),
    ] {
        let out = dir.path().join("out");
        let o = short_run(&out, &baseline(), &[set]);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{set}: {err}");
        assert!(
            err.contains(&format!("key `{key}`")) && err.contains("1000000 packages"),
            "{set}: {err}"
        );
        assert!(!out.exists(), "{set}: nothing is written");
    }
    // The limit itself runs.
    let out = dir.path().join("ok");
    let o = short_run(&out, &baseline(), &["home_care.packages=1000000"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
}

/// Running a scenario with uncertain values twice into the same `--out`
/// failed the second time (exit 1): "holds what patientflow did not write
/// (parameters.csv, plausible.csv)", files patientflow itself had written.
/// `patientflow run scenarios/tower-hamlets-uncertain.toml --out o` twice.
#[test]
fn rerunning_an_uncertain_scenario_replaces_its_own_outputs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let scenario = root()
        .join("scenarios/tower-hamlets-uncertain.toml")
        .display()
        .to_string();
    for attempt in 0..2 {
        let o = short_run(&out, &scenario, &[]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "attempt {attempt}: {}",
            text(&o.stderr)
        );
        assert!(out.join("parameters.csv").is_file());
    }
}

/// A 5 MB `value` field in an observed file was quoted whole in the error:
/// `patientflow backtest scenarios/winter-from-today.toml --observed F`
/// with `2026-12-01,midnight_census,999…` (5 million digits) wrote 5 MB to
/// stderr. Each field is quoted shortened, as the census CSV's are.
#[test]
fn backtest_quotes_a_huge_field_shortened() {
    let dir = tempfile::tempdir().expect("tempdir");
    let big = "9".repeat(5_000_000);
    for (name, body) in [
        (
            "value",
            format!("date,series,value\n2026-12-01,midnight_census,{big}\n"),
        ),
        (
            "date",
            format!("date,series,value\n{big},midnight_census,1\n"),
        ),
        ("series", format!("date,series,value\n2026-12-01,{big},1\n")),
        ("header", format!("{big}\n2026-12-01,midnight_census,1\n")),
    ] {
        let observed = dir.path().join(format!("{name}.csv"));
        std::fs::write(&observed, body).expect("writes");
        let o = bin()
            .args([
                "backtest",
                &root()
                    .join("scenarios/winter-from-today.toml")
                    .display()
                    .to_string(),
                "--quiet",
                "--replications",
                "1",
                "--observed",
            ])
            .arg(&observed)
            .arg("--out")
            .arg(dir.path().join("out"))
            .output()
            .expect("runs");
        let err = text(&o.stderr);
        assert_eq!(
            o.status.code(),
            Some(2),
            "{name}: {}",
            &err[..err.len().min(300)]
        );
        assert!(err.len() < 2_000, "{name}: {} bytes of stderr", err.len());
        assert!(err.contains("(5000000 bytes)"), "{name}: {err}");
    }
}

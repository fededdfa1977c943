//! The second round of hostile use (issue 12), classes 5, 6 and 8:
//! comparisons of scenarios that measure different things, markup in user
//! text reaching the reports, and edited outputs read back by `merge` and
//! `report`. Through the real binary.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::{baseline, bin};

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// A plan extending the baseline with `body` after its `[scenario]` name.
fn plan(dir: &Path, file: &str, scenario_keys: &str, rest: &str) -> PathBuf {
    let path = dir.join(file);
    fs::write(
        &path,
        format!(
            "extends = {:?}\n\n[scenario]\nname = \"Plan\"\n{scenario_keys}\n{rest}",
            baseline()
        ),
    )
    .expect("write plan");
    path
}

// ---------------------------------------------------------------------------
// 5. Comparisons that compare different things

#[test]
fn compare_refuses_a_plan_with_another_window_start_or_warm_up() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let cases = [
        ("horizon = \"30d\"", "scenario.horizon", "30d", "365d"),
        ("warm_up = \"10d\"", "scenario.warm_up", "10d", "180d"),
        (
            "start_date = \"2026-01-05\"",
            "scenario.start_date",
            "2026-01-05",
            "2025-",
        ),
    ];
    for (i, (line, key, plan_value, base_value)) in cases.into_iter().enumerate() {
        let p = plan(tmp.path(), &format!("p{i}.toml"), line, "");
        let out_dir = tmp.path().join(format!("out{i}"));
        let out = run(&[
            "compare",
            &baseline(),
            s(&p),
            "--replications",
            "2",
            "--quiet",
            "--out",
            s(&out_dir),
        ]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{line}: {err}");
        assert!(err.contains(&format!("key `{key}`")), "{err}");
        assert!(err.contains(plan_value) && err.contains(base_value), "{err}");
        assert!(err.contains(&format!("p{i}.toml")), "{err}");
        assert!(!out_dir.exists(), "nothing is written when refused");
    }
}

#[test]
fn compare_pairs_plans_that_share_the_window_set_for_every_scenario() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // The plan changes capacity only; --set moves the window of both.
    let p = plan(tmp.path(), "cars.toml", "", "[pru]\ncars = 2\n");
    let out_dir = tmp.path().join("out");
    let out = run(&[
        "compare",
        &baseline(),
        s(&p),
        "--replications",
        "2",
        "--set",
        "scenario.horizon=20d",
        "--set",
        "scenario.warm_up=10d",
        "--quiet",
        "--out",
        s(&out_dir),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out_dir.join("comparison.csv").is_file());
}

#[test]
fn sweep_refuses_to_vary_the_window_start_or_warm_up_with_its_position() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for key in [
        "scenario.horizon",
        "scenario.warm_up",
        "scenario.start_date",
    ] {
        let values = if key == "scenario.start_date" {
            "[\"2025-01-06\", \"2025-02-03\"]"
        } else {
            "[\"30d\", \"60d\"]"
        };
        let file = tmp.path().join("sweep.toml");
        fs::write(
            &file,
            format!(
                "extends = {:?}\n\n[sweep]\n\"pru.cars\" = [1, 2]\n\"{key}\" = {values}\n",
                baseline()
            ),
        )
        .expect("write sweep");
        let out = run(&[
            "sweep",
            s(&file),
            "--replications",
            "2",
            "--quiet",
            "--out",
            s(&tmp.path().join("out")),
        ]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(&format!("sweep.toml:5:1: key `{key}`")), "{err}");
        assert!(err.contains("cannot be swept"), "{err}");
    }
}

//! Review of history matching (`[uncertainty] keep = "calibrated"`):
//! defects found in review, each with the test that showed it.

use crate::common::{baseline, exits_saying, root, run_ok};

/// A plan that keeps only its calibrated draws, compared with a baseline
/// that has no `[uncertainty]` rule (the certain baseline), would run in
/// every drawn world: `compare` takes the rule from the baseline only, so
/// the plan's `keep = "calibrated"` was silently ignored (80 of 100 of its
/// draws overload a service). `docs/scenario-format.md`, "`[uncertainty]`":
/// `compare` refuses a plan judged on another file than its baseline.
#[test]
fn compare_refuses_a_kept_plan_against_a_baseline_without_the_rule() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("never");
    let plan = root().join("scenarios/tower-hamlets-uncertain.toml");
    let stderr = exits_saying(
        "certain baseline, calibrated plan",
        &[
            "compare",
            &baseline(),
            plan.to_str().expect("utf8"),
            "--replications",
            "2",
            "--quiet",
            "--out",
            out.to_str().expect("utf8"),
        ],
        2,
        &["tower-hamlets-uncertain.toml", "calibration"],
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!out.exists(), "refused, yet wrote {}", out.display());
}

/// A sweep file that writes a key of `[uncertainty]` itself is the judged
/// scenario; run with `--replications` (or `--seed`), the judged file was
/// read again as a plain scenario, and its `[sweep]` table refused as an
/// unknown key ("sw.toml:6:2: key `sweep`: unknown key").
#[test]
fn a_sweep_file_with_its_own_uncertainty_table_sweeps_with_replications_given() {
    let tmp = tempfile::tempdir().expect("tmp");
    let uncertain = root().join("scenarios/tower-hamlets-uncertain.toml");
    let sweep = tmp.path().join("sw.toml");
    std::fs::write(
        &sweep,
        format!(
            "extends = {:?}\n[scenario]\nname = \"cars\"\n[uncertainty]\ncutoff = 3\n\
             [sweep]\n\"pru.cars\" = [1, 2]\n",
            uncertain.display().to_string()
        ),
    )
    .expect("write");
    let out = tmp.path().join("out");
    run_ok(
        &[
            "sweep",
            sweep.to_str().expect("utf8"),
            "--replications",
            "1",
            "--seed",
            "5",
        ],
        &out,
    );
    let kept = |dir: &str| -> serde_json::Value {
        let json: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(out.join(dir).join("run.json")).expect("run.json"),
        )
        .expect("json");
        json["kept_draws"]["draw"].clone()
    };
    let base = kept("baseline");
    assert!(base.is_object(), "no kept draws: {base}");
    for plan in ["pru.cars=1", "pru.cars=2"] {
        assert_eq!(kept(plan), base, "{plan}");
    }
}

//! Review of history matching (`[uncertainty] keep = "calibrated"`):
//! defects found in review, each with the test that showed it.

use crate::common::{baseline, exits_saying, root};

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

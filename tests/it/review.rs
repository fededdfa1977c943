//! Review of the uncertain pathway shares and the run.json record of
//! uncertain values: what an edited record and a shard's float do to
//! `merge` and `report DIR`.

use std::path::Path;
use std::time::Duration;

use crate::common::{
    baseline, bin, edit_json, exits_saying, root, run_bounded, text, write_extending,
};

/// Runs the two shards of a 2-replication run of `scenario` with `sets`
/// into `dir/s0` and `dir/s1`.
fn shards(dir: &Path, scenario: &str, sets: &[&str]) {
    for k in 0..2 {
        let out = dir.join(format!("s{k}"));
        let shard = format!("{k}/2");
        let mut args = vec!["run", scenario, "--replications", "2", "--quiet"];
        for set in sets {
            args.extend(["--set", set]);
        }
        args.extend(["--shard", &shard, "--out", out.to_str().expect("utf8")]);
        let done = bin().args(&args).output().expect("runs");
        assert_eq!(done.status.code(), Some(0), "{}", text(&done.stderr));
    }
}

/// A shard's `run.json` whose record gives a pathway share a `sample` no
/// scenario loads is refused by `merge` (which draws each replication's
/// shares again), naming the key; before, a `sample` of 1e300 made statrs'
/// incomplete gamma series run without end (13 minutes, then killed), and
/// Ctrl-C did not stop it. `report DIR` refuses such a record too.
#[test]
fn an_edited_sample_in_the_record_is_refused_not_drawn_without_end() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let uncertain = root().join("scenarios/tower-hamlets-uncertain.toml");
    let uncertain = uncertain.to_str().expect("utf8");
    shards(tmp.path(), uncertain, &["scenario.horizon=30d"]);
    let edit = |path: &Path, sample: f64| {
        let mut found = false;
        edit_json(path, |v| {
            for value in v["scenario_facts"]["uncertain_values"]
                .as_array_mut()
                .expect("a record")
            {
                if value["key"] == "pathways.frail.p1" {
                    value["sample"] = serde_json::json!(sample);
                    found = true;
                }
            }
        });
        assert!(found, "the record lists pathways.frail.p1");
    };
    edit(&tmp.path().join("s0/run.json"), 1e300);
    let path = |name: &str| tmp.path().join(name).to_str().expect("utf8").to_string();
    let out = run_bounded(
        &["merge", &path("s0"), &path("s1"), "--out", &path("m")],
        Duration::from_secs(600),
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("pathways.frail.p1") && stderr.contains("was run.json edited?"),
        "{stderr}"
    );
    assert!(!tmp.path().join("m").exists());

    // A whole run's report: a sample below the range is refused as well.
    let run = tmp.path().join("r");
    let done = bin()
        .args([
            "run",
            uncertain,
            "--replications",
            "2",
            "--quiet",
            "--set",
            "scenario.horizon=30d",
            "--out",
            run.to_str().expect("utf8"),
        ])
        .output()
        .expect("runs");
    assert_eq!(done.status.code(), Some(0), "{}", text(&done.stderr));
    exits_saying("an unedited run", &["report", &path("r")], 0, &[]);
    edit(&run.join("run.json"), 5.0);
    exits_saying(
        "sample 5",
        &["report", &path("r")],
        2,
        &["pathways.frail.p1", "sample 5.0", "was run.json edited?"],
    );
}

/// A warm-up of "4.8d" is 115.19999999999999 hours, which run.json writes
/// with 17 digits; serde_json's default parser read it back as 115.2, so
/// `merge` refused the shards of an unedited run ("`warm_up_hours` is 115.2
/// but the resolved scenario has 115.19999999999999; was run.json
/// edited?"), and a record's 17-digit value could be drawn from a value one
/// bit away. Floats now read back exactly (serde_json's `float_roundtrip`).
#[test]
fn shards_whose_warm_up_has_seventeen_digits_merge() {
    let tmp = tempfile::tempdir().expect("tempdir");
    shards(
        tmp.path(),
        &baseline(),
        &["scenario.warm_up=\"4.8d\"", "scenario.horizon=30d"],
    );
    let path = |name: &str| tmp.path().join(name).to_str().expect("utf8").to_string();
    exits_saying(
        "merge",
        &["merge", &path("s0"), &path("s1"), "--out", &path("m")],
        0,
        &[],
    );
    let merged: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("m/run.json")).expect("run.json"),
    )
    .expect("json");
    assert_eq!(merged["warm_up_hours"].as_f64(), Some(4.8 * 24.0));
    assert_ne!(4.8 * 24.0, 115.2);
}

/// A scenario without uncertain values whose name or citation says
/// `sample = ...` or `low = ...` runs and its report is rebuilt: before,
/// the test for a run.json written before the record of uncertain values
/// read those words as keys, and the run failed after simulating
/// ("its scenario has uncertain values but no record of them", exit 1).
#[test]
fn words_in_a_name_or_a_citation_are_not_uncertain_values() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let scenario = write_extending(
        tmp.path(),
        "words.toml",
        baseline(),
        "[scenario]\nname = \"sample = 3 beds\"\n\
         [sources]\n\"pru.cars\" = \"one car; low = 1, high = 2 in winter\"\n",
    );
    let out = tmp.path().join("r");
    let args = [
        "run",
        scenario.to_str().expect("utf8"),
        "--replications",
        "2",
        "--quiet",
        "--set",
        "scenario.horizon=30d",
        "--out",
        out.to_str().expect("utf8"),
    ];
    exits_saying("run", &args, 0, &[]);
    exits_saying("report", &["report", out.to_str().expect("utf8")], 0, &[]);
}

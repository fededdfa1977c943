//! Red team of the uncertain values (issue 17): pathway shares with
//! `sample`, `run.json`'s record of the uncertain values and what `merge`
//! draws from it, through the real binary.

use std::fs;
use std::path::{Path, PathBuf};

use crate::common::{baseline, bin, edit_json, exits_saying, run_ok, write_extending};

/// `run SCENARIO --replications 4` with `extra`, into `dir`.
fn run4(scenario: &Path, dir: &Path, extra: &[&str]) {
    let s = scenario.to_str().expect("utf8");
    run_ok(
        &[&["run", s, "--replications", "4"][..], extra].concat(),
        dir,
    );
}

/// Shards 0/2 and 1/2 of `scenario` (4 replications) in `dir/s0`, `dir/s1`.
fn shards(scenario: &Path, dir: &Path) -> [PathBuf; 2] {
    let s = [dir.join("s0"), dir.join("s1")];
    run4(scenario, &s[0], &["--shard", "0/2"]);
    run4(scenario, &s[1], &["--shard", "1/2"]);
    s
}

fn merge(dirs: &[PathBuf], out: &Path) -> std::process::Output {
    bin()
        .arg("merge")
        .arg("--out")
        .arg(out)
        .args(dirs)
        .output()
        .expect("merge runs")
}

/// An interval written to full precision: 0.21291890726713458 and
/// 0.9856906946328695 are among the decimals serde_json's default parser
/// reads one unit in the last place off. The merged `parameters.csv` (drawn
/// again from the shards' `run.json`) must be the run's bytes: the values
/// the replications ran with.
#[test]
fn an_interval_written_to_full_precision_merges_to_the_run_s_draws() {
    let tmp = tempfile::tempdir().expect("tmp");
    let scenario = write_extending(
        tmp.path(),
        "precise.toml",
        baseline(),
        "[pru]\ntreated_at_home = { low = 0.21291890726713458, high = 0.9856906946328695 }\n",
    );
    let whole = tmp.path().join("whole");
    run4(&scenario, &whole, &[]);
    let s = shards(&scenario, tmp.path());
    let merged = tmp.path().join("merged");
    let m = merge(&s, &merged);
    assert!(m.status.success(), "{}", String::from_utf8_lossy(&m.stderr));
    for f in ["parameters.csv", "plausible.csv", "replications.csv"] {
        assert_eq!(
            fs::read_to_string(whole.join(f)).expect(f),
            fs::read_to_string(merged.join(f)).expect(f),
            "{f}: the merged shards against the whole run"
        );
    }
}

/// `merge` holds each shard's record of the uncertain values to its
/// resolved scenario (README, "Tampered outputs"): a record edited in one
/// shard (a value's interval, its kind, its sample, a value left out or
/// added, a huge key) is refused, naming the shard's `run.json`, rather
/// than drawn from silently (the first shard's record was used for all).
#[test]
fn merge_refuses_a_shard_whose_record_of_uncertain_values_was_edited() {
    let tmp = tempfile::tempdir().expect("tmp");
    let scenario = write_extending(
        tmp.path(),
        "shares.toml",
        baseline(),
        "[pathways]\nfrail.sample = 100\n[pru]\ntreated_at_home = { low = 0.6, high = 0.7 }\n",
    );
    let s = shards(&scenario, tmp.path());
    let pristine = fs::read_to_string(s[1].join("run.json")).expect("run.json");
    type Edit = fn(&mut Vec<serde_json::Value>);
    let edits: [(&str, Edit); 6] = [
        ("an interval", |u| u[0]["low"] = 0.01.into()),
        ("a kind", |u| u[0]["kind"] = "rate".into()),
        ("a sample", |u| u[1]["sample"] = 10.0.into()),
        ("a value left out", |u| {
            u.pop();
        }),
        ("a value added", |u| {
            let v = u[0].clone();
            u.push(v);
        }),
        ("a huge key", |u| u[0]["key"] = "k".repeat(100_000).into()),
    ];
    for (what, edit) in edits {
        fs::write(s[1].join("run.json"), &pristine).expect("restore");
        edit_json(&s[1].join("run.json"), |m| {
            let u = m["scenario_facts"]["uncertain_values"]
                .as_array_mut()
                .expect("a record of the uncertain values");
            edit(u);
        });
        let out = tmp.path().join("merged");
        let m = merge(&s, &out);
        let stderr = String::from_utf8_lossy(&m.stderr);
        assert_eq!(m.status.code(), Some(2), "{what}: {stderr}");
        let shard = s[1].join("run.json").display().to_string();
        for said in [
            shard.as_str(),
            "`scenario_facts.uncertain_values`",
            "edited",
        ] {
            assert!(stderr.contains(said), "{what}: no `{said}` in {stderr}");
        }
        assert!(stderr.len() < 2_000, "{what}: {} bytes", stderr.len());
        assert!(!out.exists(), "{what}: wrote the merged directory");
    }
    // Unedited, the shards merge.
    fs::write(s[1].join("run.json"), &pristine).expect("restore");
    let m = merge(&s, &tmp.path().join("merged"));
    assert!(m.status.success(), "{}", String::from_utf8_lossy(&m.stderr));
}

/// A pathway table with `sample` and no share above 0 (a share above 1,
/// strings, all 0, shares missing) is refused as without `sample`, at the
/// share that is wrong, not as "none is above 0" at the table.
#[test]
fn a_sampled_pathway_table_without_a_share_above_0_is_refused_at_what_is_wrong() {
    let tmp = tempfile::tempdir().expect("tmp");
    let minimal = crate::common::root().join("tests/data/scenarios/minimal.toml");
    let cases: [(&str, PathBuf, &str, &[&str]); 4] = [
        (
            "a share above 1",
            baseline().into(),
            "[pathways]\nfrail = { p0 = 1.1, p1 = -0.1, p2 = 0, p3 = 0, sample = 10 }\n",
            &[
                ":3:16",
                "key `pathways.frail.p0`",
                "between 0 and 1, found 1.1",
            ],
        ),
        (
            "strings",
            baseline().into(),
            "[pathways]\nfrail = { p0 = \"a\", p1 = \"b\", p2 = \"c\", p3 = \"d\", sample = 10 }\n",
            &[":3:16", "key `pathways.frail.p0`", "found \"a\""],
        ),
        (
            "all 0",
            baseline().into(),
            "[pathways]\nfrail = { p0 = 0, p1 = 0, p2 = 0, p3 = 0, sample = 10 }\n",
            &[":3:9", "key `pathways.frail`", "a sum of 0"],
        ),
        (
            "no mental health table",
            minimal,
            "[mental_health]\npathways.sample = 100\n",
            &["key `mental_health.pathways.home`", "missing key `home`"],
        ),
    ];
    for (what, base, body, says) in cases {
        let file = write_extending(tmp.path(), "bad.toml", &base, body);
        let out = tmp.path().join("never");
        let stderr = exits_saying(
            what,
            &[
                "run",
                file.to_str().expect("utf8"),
                "--quiet",
                "--out",
                out.to_str().expect("utf8"),
            ],
            2,
            says,
        );
        assert!(!stderr.contains("none is above 0"), "{what}: {stderr}");
        assert!(!out.exists(), "{what}");
    }
}

/// `--precision` on a scenario with uncertain values stopped below the
/// replications that bound a plausible range's ends printed "worst at 20:
/// inf": it says so in words, with the replications needed.
#[test]
fn precision_below_the_replications_that_bound_a_range_says_so_without_inf() {
    let tmp = tempfile::tempdir().expect("tmp");
    let scenario = write_extending(
        tmp.path(),
        "shares.toml",
        baseline(),
        "[pathways]\nfrail.sample = 100\n",
    );
    let out = tmp.path().join("out");
    let o = run_ok(
        &[
            "run",
            scenario.to_str().expect("utf8"),
            "--precision",
            "0.5",
            "--max-replications",
            "20",
            "--batch",
            "10",
        ],
        &out,
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("Plausible ranges (uncertain values)"))
        .unwrap_or_else(|| panic!("no plausible ranges line in {stdout}"));
    assert!(!line.contains("inf"), "{line}");
    assert!(
        line.contains("worst at 20: not yet bounded") && line.contains("from 53 replications"),
        "{line}"
    );
}

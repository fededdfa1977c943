//! Red team of keeping only the calibrated draws (`[uncertainty] keep =
//! "calibrated"`, docs/model.md "Keeping only the draws the calibration
//! allows"): what a careless or hostile user can write, through the
//! binary. Each test failed before its fix.

use std::fs;
use std::path::Path;

use crate::common::{edit_json, exits_saying, refused_run, root};
use serde_json::Value;

/// The judged scenario `share.toml` in `dir` of `kept_draws` (the minimal
/// one, 60 days, whose only uncertain value is the PRU's share treated at
/// home, with a figure that measures it and `keep = "calibrated"`), with
/// the PRU's cars and hours `pru` (ten cars open all day there).
fn judged(dir: &Path, pru: &str) -> String {
    let text = crate::kept_draws::scenario_text(
        crate::kept_draws::PRIOR,
        "\n[uncertainty]\nkeep = \"calibrated\"\n",
    );
    assert!(
        text.contains(PRU_ON),
        "the kept_draws scenario's PRU changed"
    );
    let path = dir.join("share.toml");
    fs::write(&path, text.replacen(PRU_ON, pru, 1)).expect("writes the scenario");
    path.display().to_string()
}

const PRU_ON: &str = "cars = 10\nopen = \"00:00-24:00\"";

fn s(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

/// Copies the flat files of output directory `from` to `to` (charts aside).
fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("mkdir");
    for e in fs::read_dir(from).expect("read_dir") {
        let e = e.expect("entry");
        if e.file_type().expect("type").is_file() {
            fs::copy(e.path(), to.join(e.file_name())).expect("copy");
        } else {
            copy_dir(&e.path(), &to.join(e.file_name()));
        }
    }
}

/// `kept_draws` of the JSON `v`.
fn kept(v: &mut Value) -> &mut serde_json::Map<String, Value> {
    v["kept_draws"].as_object_mut().expect("kept_draws")
}

/// Edits of a `run.json`'s `kept_draws` that a run never writes, each with
/// what it does; `first` and `other` are replications the directory holds
/// (`other`'s kept draw is not 3), `foreign` one it does not.
type Edit = (&'static str, Box<dyn Fn(&mut Value)>);

fn edits(first: u32, other: u32, foreign: u32) -> Vec<Edit> {
    vec![
        (
            "the record removed",
            Box::new(|v: &mut Value| {
                v.as_object_mut().expect("object").remove("kept_draws");
            }),
        ),
        (
            "a replication's draw removed",
            Box::new(move |v: &mut Value| {
                kept(v)["draw"]
                    .as_object_mut()
                    .expect("draw")
                    .remove(&first.to_string());
            }),
        ),
        (
            "a draw beyond max_draws",
            Box::new(move |v: &mut Value| {
                kept(v)["draw"][first.to_string()] = 99_999_999.into();
            }),
        ),
        (
            "a draw for a replication it does not hold",
            Box::new(move |v: &mut Value| {
                kept(v)["draw"][foreign.to_string()] = 3.into();
            }),
        ),
        (
            "a draw changed and `tried` made to agree",
            Box::new(move |v: &mut Value| {
                let k = kept(v);
                let was = k["draw"][other.to_string()].as_u64().expect("a draw");
                k["draw"][other.to_string()] = 3.into();
                let tried = k["tried"].as_u64().expect("tried");
                k["tried"] = (tried + 3 - was).into();
            }),
        ),
    ]
}

/// `report DIR` rebuilds the plausible ranges, parameter shares and drivers
/// from `run.json`'s `kept_draws`: an edited record gave other worlds'
/// drivers (and "Kept 3 of 23" for a run of 4) with exit 0. It is refused.
#[test]
fn report_refuses_an_edited_record_of_the_kept_draws() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = judged(tmp.path(), PRU_ON);
    let out = tmp.path().join("out");
    exits_saying(
        "the run",
        &[
            "run",
            &file,
            "--replications",
            "4",
            "--quiet",
            "--out",
            s(&out),
        ],
        0,
        &[],
    );
    let draws: Value =
        serde_json::from_str(&fs::read_to_string(out.join("run.json")).unwrap()).expect("json");
    let other = (0..4)
        .find(|r| draws["kept_draws"]["draw"][r.to_string()] != 3)
        .expect("a replication whose kept draw is not 3");
    let same = tmp.path().join("same");
    copy_dir(&out, &same);
    exits_saying("unedited", &["report", s(&same)], 0, &[]);
    for (i, (what, edit)) in edits(2, other, 9).into_iter().enumerate() {
        let dir = tmp.path().join(format!("edit{i}"));
        copy_dir(&out, &dir);
        edit_json(&dir.join("run.json"), edit);
        exits_saying(what, &["report", s(&dir)], 2, &["edited"]);
    }
}

/// `merge` draws the merged `parameters.csv` and plausible ranges from the
/// shards' `kept_draws`: a shard with an edited record gave another
/// world's values (or draw 0's, for a missing one) with exit 0. It is
/// refused, naming the shard.
#[test]
fn merge_refuses_a_shard_with_an_edited_record_of_the_kept_draws() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = judged(tmp.path(), PRU_ON);
    let shard = |k: u32| {
        let dir = tmp.path().join(format!("shard{k}"));
        exits_saying(
            "a shard",
            &[
                "run",
                &file,
                "--replications",
                "6",
                "--shard",
                &format!("{k}/2"),
                "--quiet",
                "--out",
                s(&dir),
            ],
            0,
            &[],
        );
        dir
    };
    let (s0, s1) = (shard(0), shard(1));
    let merged = tmp.path().join("merged");
    exits_saying(
        "unedited",
        &["merge", s(&s0), s(&s1), "--out", s(&merged)],
        0,
        &[],
    );
    let draws: Value =
        serde_json::from_str(&fs::read_to_string(s1.join("run.json")).unwrap()).expect("json");
    let other = [1, 3, 5]
        .into_iter()
        .find(|r: &u32| draws["kept_draws"]["draw"][r.to_string()] != 3)
        .expect("a replication whose kept draw is not 3");
    for (i, (what, edit)) in edits(3, other, 0).into_iter().enumerate() {
        let dir = tmp.path().join(format!("edit{i}"));
        copy_dir(&s1, &dir);
        edit_json(&dir.join("run.json"), edit);
        let out = tmp.path().join(format!("merged{i}"));
        exits_saying(
            what,
            &["merge", s(&s0), s(&dir), "--out", s(&out)],
            2,
            &[&format!("edit{i}")],
        );
        assert!(!out.exists(), "{what}: refused, yet wrote");
    }
}

/// The judged file is loaded on its own (model.md, "The judged
/// scenario"): a middle file of a chain that does not load alone was
/// refused at a value the run's own file overrides, with no word of why
/// that file was loaded. It now says which file is judged and why it must
/// load.
#[test]
fn a_judged_file_that_does_not_load_alone_is_refused_saying_it_is_judged() {
    let tmp = tempfile::tempdir().expect("tempdir");
    judged(tmp.path(), PRU_ON);
    let dir = tmp.path();
    let middle = dir.join("middle.toml");
    fs::write(
        &middle,
        "extends = \"share.toml\"\n[uncertainty]\nkeep = \"calibrated\"\n[pru]\ncars = -1\n",
    )
    .expect("write");
    let plan = dir.join("plan.toml");
    fs::write(&plan, "extends = \"middle.toml\"\n[pru]\ncars = 5\n").expect("write");
    refused_run(
        s(&plan),
        &["scenario.replications=2"],
        &[
            "middle.toml:5",
            "judges the drawn worlds",
            "must load by itself",
        ],
    );
}

/// A figure undefined at the central values (the PRU switched off, so its
/// share treated at home divides by 0 visits) judged no draw: every draw
/// was kept with noise 0 and the run said "Kept 4 of 4 drawn worlds:
/// those consistent with the 1 calibration figure", exit 0. It is refused
/// at `uncertainty.keep`, naming the figure, and nothing is written.
#[test]
fn a_figure_the_central_replications_never_define_is_refused_at_the_key() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = judged(tmp.path(), "cars = 0\nopen = \"none\"");
    refused_run(
        &file,
        &["scenario.replications=4"],
        &[
            "share.toml:",
            "uncertainty.keep",
            "\"PRU share treated at home\"",
            "defined in 0 of the 30",
        ],
    );
}

/// Output to a reader that has gone (`patientflow ... | head -1`) is not
/// a panic: `print!` and `eprintln!` panicked on the closed pipe and the
/// run exited 101 after writing its outputs.
#[test]
fn a_closed_pipe_is_not_a_panic() {
    use std::process::Stdio;
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("out");
    for (closed_out, closed_err) in [(true, false), (false, true), (true, true)] {
        let mut child = crate::common::bin()
            .args([
                "run",
                &crate::common::baseline(),
                "--replications",
                "1",
                "--set",
                "scenario.warm_up=\"10d\"",
                "--set",
                "scenario.horizon=\"10d\"",
                "--force",
                "--out",
                out.to_str().expect("utf8"),
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary runs");
        // Close the chosen ends at once: every later write meets a
        // closed pipe.
        if closed_out {
            drop(child.stdout.take());
        }
        if closed_err {
            drop(child.stderr.take());
        }
        let output = child.wait_with_output().expect("waits");
        assert_eq!(
            output.status.code(),
            Some(0),
            "stdout closed {closed_out}, stderr closed {closed_err}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(out.join("run.json").is_file());
    }
}

/// A service that every draw overloads is overloaded by what is certain
/// (here too few care home beds): the stop says so instead of advising a
/// wider cut-off or more draws, which could never help.
#[test]
fn a_service_every_draw_overloads_is_named_as_the_cause() {
    let tmp = tempfile::tempdir().expect("tmp");
    let file = crate::common::write_extending(
        tmp.path(),
        "few-beds.toml",
        root().join("scenarios/tower-hamlets-uncertain.toml"),
        "[care_homes]\nbeds = 60\n[uncertainty]\nmax_draws = 5\n",
    );
    let out = tmp.path().join("out");
    exits_saying(
        "care home beds too few for any draw",
        &[
            "run",
            file.to_str().expect("utf8"),
            "--replications",
            "1",
            "--quiet",
            "--out",
            out.to_str().expect("utf8"),
        ],
        1,
        &["none of its 5 draws", "every draw overloads care home beds"],
    );
    assert!(!out.exists(), "stopped, yet wrote");
}

//! Output directories under hostile use, through the real binary: folders
//! of other programs (recognised by the manifest, not a file name),
//! termination signals (SIGTERM and SIGHUP as Ctrl-C, during the run and
//! during a large write), leftovers of killed runs, and two runs writing the
//! same `--out`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use crate::common::{baseline, baseline_command, bin, long_run, root, run_into, text};

/// The names in `dir` that start with a dot (temporary directories, locks).
fn hidden(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    names.sort();
    names
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&fs::read_to_string(path).expect("manifest")).expect("JSON")
}

fn signal(child: &Child, sig: &str) {
    let status = Command::new("kill")
        .args([&format!("-{sig}"), &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -{sig}");
}

/// A run of the baseline into `out_dir` that never finishes by itself,
/// once it has claimed its output (the lock beside it, in `tmp`).
fn claimed_long_run(tmp: &Path, out_dir: &Path, extra: &[&str]) -> Child {
    let mut child = long_run(out_dir, extra);
    assert!(wait_for(&mut child, || tmp.join(".out.lock").exists()));
    child
}

/// Sends `sig` to `child`; its output once it has stopped.
fn stop(child: Child, sig: &str) -> Output {
    signal(&child, sig);
    child.wait_with_output().unwrap()
}

/// A folder `tmp/project` that patientflow did not write, holding `files`
/// (name, text).
fn foreign_folder(tmp: &Path, files: &[(&str, &str)]) -> PathBuf {
    let dir = tmp.join("project");
    fs::create_dir(&dir).unwrap();
    for (name, body) in files {
        fs::write(dir.join(name), body).unwrap();
    }
    dir
}

/// A finished run in `tmp/out`: the folder and its `run.json`'s bytes.
fn previous_run(tmp: &Path) -> (PathBuf, Vec<u8>) {
    let out_dir = tmp.join("out");
    assert!(run_into(&out_dir, &[]).status.success());
    let before = fs::read(out_dir.join("run.json")).unwrap();
    (out_dir, before)
}

/// A run (`tmp/run`) and a comparison (`tmp/cmp`) of the baseline, one
/// replication each.
fn a_run_and_a_comparison(tmp: &Path) -> (PathBuf, PathBuf) {
    let run = tmp.join("run");
    assert!(run_into(&run, &[]).status.success());
    let cmp = tmp.join("cmp");
    let plan = root().join("scenarios/plans/second-pru-car.toml");
    let out = bin()
        .args(["compare", &baseline()])
        .arg(&plan)
        .args(["--replications", "1", "--quiet", "--out"])
        .arg(&cmp)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    (run, cmp)
}

/// Polls until `found` says yes; false if `child` ended first, or after two
/// minutes (then `child` is killed: a binary that never does what is
/// awaited fails the test instead of hanging it).
fn wait_for(child: &mut Child, found: impl Fn() -> bool) -> bool {
    let start = std::time::Instant::now();
    loop {
        if found() {
            return true;
        }
        if child.try_wait().expect("try_wait").is_some() {
            return found();
        }
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            let _ = child.wait();
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// A shard whose simulation is cheap but whose output is large: every
/// service off, 100 years, 150 replications: about 140 MB of
/// `daily_replications.csv`, so rendering and writing it take a while.
fn large_write(out: &Path) -> Child {
    bin()
        .arg("run")
        .arg(root().join("scenarios/validation/services-off.toml"))
        .args([
            "--set",
            "scenario.horizon=36500d",
            "--replications",
            "150",
            "--shard",
            "0/1",
            "--quiet",
            "--out",
        ])
        .arg(out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawns")
}

/// Whether `parent` holds a temporary directory of a write of `out`, with
/// its marker.
fn writing(parent: &Path) -> bool {
    // The marker is created, then written: wait for its last line, so that
    // a kill does not land between the two.
    hidden(parent).iter().any(|n| {
        n.starts_with(".out.partial-")
            && fs::read_to_string(parent.join(n).join(".patientflow-temp"))
                .is_ok_and(|m| m.contains("\nhost=") && m.ends_with('\n'))
    })
}

/// The pid of a process that has ended (a reaped child).
fn dead_pid() -> u32 {
    let mut child = Command::new("true").spawn().expect("true runs");
    let pid = child.id();
    child.wait().expect("waits");
    pid
}

fn host() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------
// Class 1: a folder is patientflow's only if its manifest says so.

#[test]
fn another_programs_run_json_does_not_make_a_folder_ours() {
    let tmp = tempfile::tempdir().unwrap();
    let cases: [(&str, &str); 5] = [
        ("run.json", r#"{"job": "nightly backup", "status": "ok"}"#),
        ("run.json", ""),
        ("experiment.json", ""),
        ("experiment.json", r#"{"kind": "compare", "arms": []}"#),
        // Looks like ours by its fields, but a SHA-256 that is not one.
        (
            "run.json",
            r#"{"software_version":"1","resolved_toml":"","sha256":"x","seed":1,
                "replications":1,"generator":"g","stream_allocation":"s"}"#,
        ),
    ];
    for (i, (name, manifest)) in cases.iter().enumerate() {
        let dir = tmp.path().join(format!("project{i}"));
        fs::create_dir(&dir).unwrap();
        fs::write(dir.join(name), manifest).unwrap();
        fs::write(dir.join("thesis.docx"), "years of work").unwrap();
        let out = run_into(&dir, &[]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name} {manifest:?}: {stderr}");
        assert!(
            stderr.contains("is not a patientflow output directory") && stderr.contains("--force"),
            "{stderr}"
        );
        // Refused before anything ran: the run was never announced.
        assert!(!stderr.contains("replication, seed"), "{stderr}");
        assert_eq!(
            fs::read_to_string(dir.join("thesis.docx")).unwrap(),
            "years of work"
        );
        assert_eq!(fs::read_to_string(dir.join(name)).unwrap(), *manifest);
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 2);
    }
    assert!(hidden(tmp.path()).is_empty(), "{:?}", hidden(tmp.path()));
}

#[test]
fn every_writing_command_refuses_a_foreign_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = foreign_folder(
        tmp.path(),
        &[("experiment.json", ""), ("notes.txt", "mine")],
    );
    let shard = tmp.path().join("shard");
    let made = bin()
        .args(["run", &baseline(), "--replications", "1", "--shard", "0/1"])
        .args(["--quiet", "--out"])
        .arg(&shard)
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", text(&made.stderr));
    let plan = root().join("scenarios/plans/second-pru-car.toml");
    let sweep = root().join("scenarios/sweeps/community-teams-x-care-home-beds.toml");
    let commands: Vec<Vec<String>> = vec![
        vec!["compare".into(), baseline(), plan.display().to_string()],
        vec!["sweep".into(), sweep.display().to_string()],
        vec!["warmup".into(), baseline(), "--days".into(), "60".into()],
        vec!["merge".into(), shard.display().to_string()],
    ];
    for args in commands {
        let mut cmd = bin();
        cmd.args(&args).arg("--out").arg(&dir);
        if args[0] != "merge" {
            cmd.args(["--replications", "1", "--quiet"]);
        }
        let out = cmd.output().unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{}: {stderr}", args[0]);
        assert!(
            stderr.contains("is not a patientflow output directory"),
            "{}: {stderr}",
            args[0]
        );
        assert_eq!(fs::read_to_string(dir.join("notes.txt")).unwrap(), "mine");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 2, "{}", args[0]);
    }
}

#[test]
fn force_replaces_a_foreign_folder_and_says_what_it_held() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = foreign_folder(tmp.path(), &[("run.json", "{}"), ("thesis.docx", "x")]);
    fs::create_dir(dir.join("data")).unwrap();
    let out = run_into(&dir, &["--force"]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "--force: replaced {}, which was not a patientflow output; it held 3 entries \
             (data, run.json, thesis.docx)",
            dir.display()
        )),
        "{stderr}"
    );
    assert!(!dir.join("thesis.docx").exists());
    assert_eq!(json(&dir.join("run.json"))["format"], "patientflow-run/1");

    // Replacing patientflow's own output needs no --force and says nothing.
    let again = run_into(&dir, &[]);
    assert!(again.status.success());
    assert!(!text(&again.stderr).contains("--force: replaced"));
}

#[test]
fn manifests_say_patientflow_wrote_them() {
    let tmp = tempfile::tempdir().unwrap();
    let (run, cmp) = a_run_and_a_comparison(tmp.path());
    assert_eq!(json(&run.join("run.json"))["format"], "patientflow-run/1");
    assert_eq!(
        json(&cmp.join("experiment.json"))["format"],
        "patientflow-experiment/1"
    );
    // The report is still rebuilt from them.
    let rebuilt = bin().arg("report").arg(&cmp).output().unwrap();
    assert!(rebuilt.status.success(), "{}", text(&rebuilt.stderr));
}

#[test]
fn outputs_written_before_the_format_field_are_still_ours() {
    let tmp = tempfile::tempdir().unwrap();
    // A run and a comparison, their manifests as the previous version
    // wrote them: without `format`.
    let (run, cmp) = a_run_and_a_comparison(tmp.path());
    for manifest in [run.join("run.json"), cmp.join("experiment.json")] {
        let mut value = json(&manifest);
        value
            .as_object_mut()
            .unwrap()
            .remove("format")
            .expect("format");
        fs::write(&manifest, serde_json::to_string_pretty(&value).unwrap()).unwrap();
    }
    // A file an earlier patientflow run wrote there (a partial run's note).
    fs::write(run.join("PARTIAL.txt"), "old").unwrap();
    fs::write(cmp.join("PARTIAL.txt"), "old").unwrap();
    // Both are replaced without --force, whole.
    let out = run_into(&run, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!run.join("PARTIAL.txt").exists());
    let out = run_into(&cmp, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!cmp.join("PARTIAL.txt").exists());
    assert!(cmp.join("summary.csv").exists());
}

// ---------------------------------------------------------------------------
// Class 4: termination signals, leftovers and concurrent writers.

#[test]
fn sigterm_and_sighup_stop_a_run_as_ctrl_c_does() {
    for sig in ["TERM", "HUP"] {
        let tmp = tempfile::tempdir().unwrap();
        let out_dir = tmp.path().join("out");
        // The run has claimed its output (before its first replication).
        let child = claimed_long_run(tmp.path(), &out_dir, &[]);
        std::thread::sleep(Duration::from_millis(300));
        let out = stop(child, sig);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(130), "SIG{sig}: {stderr}");
        assert!(stderr.contains("nothing was written"), "{stderr}");
        assert_eq!(
            fs::read_dir(tmp.path()).unwrap().count(),
            0,
            "SIG{sig} left {:?}",
            hidden(tmp.path())
        );
    }
}

#[test]
fn sigterm_with_keep_partial_writes_the_finished_replications() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("out");
    let child = claimed_long_run(tmp.path(), &out_dir, &["--keep-partial"]);
    std::thread::sleep(Duration::from_millis(500));
    let out = stop(child, "TERM");
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
    assert_eq!(json(&out_dir.join("run.json"))["partial"], true);
    assert!(hidden(tmp.path()).is_empty(), "{:?}", hidden(tmp.path()));
}

#[test]
fn a_signal_during_a_large_write_stops_it_with_130_and_nothing_half_written() {
    for sig in ["TERM", "INT", "HUP"] {
        let tmp = tempfile::tempdir().unwrap();
        // Previous results, which must survive.
        let (out_dir, before) = previous_run(tmp.path());
        let mut child = large_write(&out_dir);
        assert!(
            wait_for(&mut child, || writing(tmp.path())),
            "the write ended before it was seen"
        );
        let out = stop(child, sig);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(130), "SIG{sig}: {stderr}");
        assert!(
            stderr.contains("interrupted while writing the outputs: nothing was written"),
            "{stderr}"
        );
        assert_eq!(fs::read(out_dir.join("run.json")).unwrap(), before);
        assert!(!out_dir.join("daily_replications.csv").exists());
        assert!(hidden(tmp.path()).is_empty(), "{:?}", hidden(tmp.path()));
    }
}

#[test]
fn a_killed_writers_leftovers_are_swept_by_the_next_run() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("out");
    let mut child = large_write(&out_dir);
    assert!(wait_for(&mut child, || writing(tmp.path())));
    signal(&child, "KILL");
    child.wait().unwrap();
    let left = hidden(tmp.path());
    let partial = left
        .iter()
        .find(|n| n.starts_with(".out.partial-"))
        .expect("SIGKILL leaves the temporary directory")
        .clone();
    // Its marker says whose it is.
    let marker = fs::read_to_string(tmp.path().join(&partial).join(".patientflow-temp")).unwrap();
    assert!(marker.starts_with(&format!("patientflow-temp/1\npid={}\n", child.id())));

    // Beside it: a directory of the same pattern without our marker (not
    // provably ours), and one of ours whose process is alive (this test).
    let foreign = tmp.path().join(format!(".out.partial-{}-0", dead_pid()));
    fs::create_dir(&foreign).unwrap();
    fs::write(foreign.join("data.bin"), "someone else's").unwrap();
    let me = std::process::id();
    let alive = tmp.path().join(format!(".out.partial-{me}-9"));
    fs::create_dir(&alive).unwrap();
    fs::write(
        alive.join(".patientflow-temp"),
        format!("patientflow-temp/1\npid={me}\nhost={}\n", host()),
    )
    .unwrap();

    let out = run_into(&out_dir, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        !tmp.path().join(&partial).exists(),
        "the dead run's is swept"
    );
    assert!(foreign.exists(), "a directory without our marker is kept");
    assert!(alive.exists(), "a live process's is kept");
    assert!(!tmp.path().join(".out.lock").exists());
}

#[test]
fn previous_outputs_moved_aside_by_a_killed_swap_are_restored() {
    let tmp = tempfile::tempdir().unwrap();
    let (out_dir, before) = previous_run(tmp.path());
    // A writer killed between its two renames: the previous outputs aside.
    let aside = tmp.path().join(format!(".out.old-{}-0", dead_pid()));
    fs::rename(&out_dir, &aside).unwrap();
    // The next run puts them back when it claims the directory, so an
    // interrupted run leaves them in place.
    let child = claimed_long_run(tmp.path(), &out_dir, &[]);
    std::thread::sleep(Duration::from_millis(300));
    let out = stop(child, "INT");
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
    assert_eq!(fs::read(out_dir.join("run.json")).unwrap(), before);
    assert!(hidden(tmp.path()).is_empty(), "{:?}", hidden(tmp.path()));

    // A stale copy of patientflow's output beside a present target is swept.
    let stale = tmp.path().join(format!(".out.old-{}-1", dead_pid()));
    fs::create_dir(&stale).unwrap();
    fs::copy(out_dir.join("run.json"), stale.join("run.json")).unwrap();
    assert!(run_into(&out_dir, &[]).status.success());
    assert!(!stale.exists());
}

#[test]
fn a_second_run_on_the_same_out_fails_clearly_and_leaves_no_old_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let (out_dir, before) = previous_run(tmp.path());
    let first = claimed_long_run(tmp.path(), &out_dir, &[]);
    for args in [
        vec![
            "run".to_string(),
            baseline(),
            "--replications".into(),
            "1".into(),
        ],
        vec!["report".to_string()],
    ] {
        let mut cmd = bin();
        cmd.args(&args);
        if args[0] == "report" {
            cmd.arg(&out_dir);
        } else {
            cmd.args(["--quiet", "--out"]).arg(&out_dir);
        }
        let second = cmd.output().unwrap();
        let stderr = text(&second.stderr);
        assert_eq!(second.status.code(), Some(1), "{}: {stderr}", args[0]);
        assert!(
            stderr.contains("another patientflow run is writing here")
                && stderr.contains(&format!("process {}", first.id())),
            "{stderr}"
        );
    }
    let out = stop(first, "INT");
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
    assert_eq!(fs::read(out_dir.join("run.json")).unwrap(), before);
    assert!(hidden(tmp.path()).is_empty(), "{:?}", hidden(tmp.path()));
}

#[test]
fn runs_racing_for_one_out_each_write_whole_or_fail_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir: PathBuf = tmp.path().join("out");
    for round in 0..4 {
        let children: Vec<Child> = (0..3)
            .map(|_| {
                baseline_command(&out_dir, "2", &[], &[])
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let mut succeeded = 0;
        for child in children {
            let out = child.wait_with_output().unwrap();
            let stderr = text(&out.stderr);
            match out.status.code() {
                Some(0) => succeeded += 1,
                Some(1) => assert!(
                    stderr.contains("another patientflow run is writing here"),
                    "round {round}: {stderr}"
                ),
                other => panic!("round {round}: exit {other:?}: {stderr}"),
            }
        }
        assert!(succeeded >= 1, "round {round}");
        assert_eq!(json(&out_dir.join("run.json"))["replications"], 2);
        assert!(out_dir.join("summary.csv").exists());
        assert!(hidden(tmp.path()).is_empty(), "{:?}", hidden(tmp.path()));
    }
}

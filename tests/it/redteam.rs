//! Red-team pass over issue 12's defect classes (and a few neighbours), as
//! a hostile user meets them: the real binary, real directories, FIFOs and
//! signals. Each test here was a defect found on 2780eef (the shell command
//! that showed it is in its comment); all are fixed and run with the suite.

use std::fs;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::{baseline, bin, text, write_extending};

/// Spawns the binary with `args` (in `cwd` if given).
fn spawn(args: &[&str], cwd: Option<&Path>) -> Child {
    let mut cmd = bin();
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(dir) = cwd {
        cmd.current_dir(dir);
    }
    cmd.spawn().expect("the binary starts")
}

/// Waits for `child` at most `limit`; on a hang, SIGKILLs it and returns None.
fn wait_bounded(mut child: Child, limit: Duration) -> Option<Output> {
    let started = Instant::now();
    loop {
        if child.try_wait().expect("polls").is_some() {
            return Some(child.wait_with_output().expect("waits"));
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn run_in(args: &[&str], cwd: Option<&Path>) -> Output {
    wait_bounded(spawn(args, cwd), Duration::from_secs(120))
        .unwrap_or_else(|| panic!("patientflow {args:?} still running after 120 s"))
}

fn run(args: &[&str]) -> Output {
    run_in(args, None)
}

/// `run` of the scenario file `s`, quietly into `out`.
fn run_small(s: &str, out: &Path) -> Output {
    run(&["run", s, "--quiet", "--out", out.to_str().unwrap()])
}

/// A new temporary folder, the [`small`] plan in it, and a finished run of
/// it in its subfolder `name`.
fn small_run(name: &str) -> (tempfile::TempDir, String, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let s = small(tmp.path());
    let out = tmp.path().join(name);
    let o = run_small(&s, &out);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    (tmp, s, out)
}

/// A small plan: the baseline over 30 days, no warm-up, 2 replications.
fn small(dir: &Path) -> String {
    let body = "[scenario]\nhorizon = \"30d\"\nwarm_up = \"0d\"\nreplications = 2\n";
    write_extending(dir, "small.toml", baseline(), body)
        .display()
        .to_string()
}

fn mkfifo(path: &Path) -> bool {
    Command::new("mkfifo")
        .arg(path)
        .status()
        .is_ok_and(|s| s.success())
}

fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{sig}"), &pid.to_string()])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "kill -{sig} {pid}");
}

/// A shard pair of `small` in `dir/sh/0` and `dir/sh/1`.
fn shards(dir: &Path) -> (String, String) {
    let s = small(dir);
    let a = dir.join("sh/0").display().to_string();
    let b = dir.join("sh/1").display().to_string();
    for (k, out) in [("0/2", &a), ("1/2", &b)] {
        let o = run(&["run", &s, "--quiet", "--shard", k, "--out", out]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    }
    (a, b)
}

// ---------------------------------------------------------------------------
// Class 1: data loss in a folder that is not (only) patientflow's

/// A user copies a run's `run.json` into their own folder for provenance,
/// beside their thesis; later `--out` names that folder. The folder is
/// recognised by its run.json alone and replaced whole without `--force`:
/// thesis.docx is deleted, exit 0, not a word on stderr.
///
/// mkdir f4 && cp outputs/x/run.json f4/ && echo thesis > f4/thesis.docx
/// patientflow run small.toml --out f4      # exit 0, f4/thesis.docx gone
#[test]
fn a_copied_run_json_does_not_make_a_users_folder_replaceable() {
    let (tmp, s, first) = small_run("first");

    let mine = tmp.path().join("mine");
    fs::create_dir(&mine).unwrap();
    fs::copy(first.join("run.json"), mine.join("run.json")).unwrap();
    fs::write(mine.join("thesis.docx"), "years of work").unwrap();
    let o = run_small(&s, &mine);
    assert!(
        mine.join("thesis.docx").exists(),
        "thesis.docx deleted without --force (exit {:?}, stderr: {})",
        o.status.code(),
        text(&o.stderr)
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
}

/// A user adds their own file to a real run's output folder and runs again:
/// the file is deleted silently (exit 0, nothing on stderr). At the least
/// the run should refuse without --force, or say what it removed.
///
/// patientflow run small.toml --out o1; echo mine > o1/my-analysis.xlsx
/// patientflow run small.toml --out o1      # exit 0, my-analysis.xlsx gone, no message
#[test]
fn a_users_file_inside_an_output_folder_is_not_deleted_silently() {
    let (_tmp, s, out) = small_run("o1");
    fs::write(out.join("my-analysis.xlsx"), "mine").unwrap();
    let o = run_small(&s, &out);
    let stderr = text(&o.stderr);
    assert!(
        out.join("my-analysis.xlsx").exists() || stderr.contains("my-analysis.xlsx"),
        "my-analysis.xlsx deleted with no word (exit {:?}, stderr: {stderr})",
        o.status.code()
    );
}

/// README: "never the current directory or one containing it". The check is
/// made only for folders that are not patientflow's: a project folder with
/// a copied run.json, the run started in its subfolder `sub` with
/// `--out ../../proj`, is replaced whole without --force: the scenario file
/// being run, the current directory and thesis.docx are all deleted, exit 0.
///
/// mkdir -p proj/sub && cp o1/run.json proj/ && cp small.toml proj/sub/ && cd proj/sub
/// patientflow run small.toml --out ../../proj     # exit 0; proj/sub and thesis gone
#[test]
fn an_output_containing_the_current_directory_is_never_replaced() {
    let (tmp, s, first) = small_run("first");

    let proj = tmp.path().join("proj");
    let sub = proj.join("sub");
    fs::create_dir_all(&sub).unwrap();
    fs::copy(first.join("run.json"), proj.join("run.json")).unwrap();
    fs::copy(&s, sub.join("small.toml")).unwrap();
    fs::write(proj.join("thesis.docx"), "years of work").unwrap();
    let o = run_in(
        &["run", "small.toml", "--quiet", "--out", "../../proj"],
        Some(&sub),
    );
    assert!(
        sub.join("small.toml").exists() && proj.join("thesis.docx").exists(),
        "the folder holding the current directory was replaced (exit {:?}, stderr: {})",
        o.status.code(),
        text(&o.stderr)
    );
    assert_ne!(o.status.code(), Some(0));
}

/// A dangling symlink at the target is silently replaced by a directory
/// without --force (README: "A file at the target is always refused").
///
/// ln -s /nonexistent/dir dlink && patientflow run small.toml --out dlink   # exit 0
#[test]
fn a_dangling_symlink_at_the_target_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let s = small(tmp.path());
    let link = tmp.path().join("dlink");
    std::os::unix::fs::symlink("/nonexistent/patientflow-redteam", &link).unwrap();
    let o = run_small(&s, &link);
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the symlink was replaced (exit {:?})",
        o.status.code()
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
}

// ---------------------------------------------------------------------------
// Class 3: paths that are not regular files, sizes not bounded

/// `report DIR` where DIR/run.json (or summary.csv, daily_bands.csv) is a
/// FIFO blocks forever in open(2). SIGTERM then ends it with 143 (report
/// handles no signal), leaving `.DIR.lock` behind.
///
/// cp -r o1 rf && rm rf/run.json && mkfifo rf/run.json
/// timeout 10 patientflow report rf     # exit 124: hung until killed
#[test]
fn report_refuses_a_fifo_instead_of_hanging() {
    let tmp = tempfile::tempdir().unwrap();
    let s = small(tmp.path());
    for name in ["run.json", "summary.csv", "daily_bands.csv"] {
        let dir = tmp.path().join(format!("r-{name}"));
        let o = run_small(&s, &dir);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        fs::remove_file(dir.join(name)).unwrap();
        if !mkfifo(&dir.join(name)) {
            eprintln!("SKIPPED: mkfifo is not available");
            return;
        }
        let out = wait_bounded(
            spawn(&["report", dir.to_str().unwrap()], None),
            Duration::from_secs(10),
        )
        .unwrap_or_else(|| panic!("report hung on a FIFO {name}"));
        assert_eq!(out.status.code(), Some(2), "{name}: {}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains("not a regular file"),
            "{}",
            text(&out.stderr)
        );
    }
}

/// `merge` where a shard's run.json, replications.csv or
/// daily_replications.csv is a FIFO blocks forever in open(2).
///
/// mkfifo in place of sh/1/run.json; timeout 10 patientflow merge sh/0 sh/1 --out m
/// # still running after 10 minutes (timeout's SIGTERM does not stop it, see below)
#[test]
fn merge_refuses_a_fifo_instead_of_hanging() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = shards(tmp.path());
    for name in ["run.json", "replications.csv", "daily_replications.csv"] {
        let b2 = tmp.path().join(format!("b-{name}"));
        Command::new("cp")
            .args(["-r", &b, b2.to_str().unwrap()])
            .status()
            .unwrap();
        fs::remove_file(b2.join(name)).unwrap();
        if !mkfifo(&b2.join(name)) {
            eprintln!("SKIPPED: mkfifo is not available");
            return;
        }
        let out_dir = tmp.path().join(format!("m-{name}"));
        let out = wait_bounded(
            spawn(
                &[
                    "merge",
                    &a,
                    b2.to_str().unwrap(),
                    "--out",
                    out_dir.to_str().unwrap(),
                ],
                None,
            ),
            Duration::from_secs(10),
        )
        .unwrap_or_else(|| panic!("merge hung on a FIFO {name}"));
        assert_eq!(out.status.code(), Some(2), "{name}: {}", text(&out.stderr));
    }
}

// ---------------------------------------------------------------------------
// Class 4: signals

/// README: "The first [signal] stops a run within a second". A `merge`
/// blocked on a FIFO prints "interrupted: stopping" on SIGTERM and stays
/// blocked (the handler only sets a flag; open(2) is restarted), so
/// `timeout`, Slurm's scancel and Kubernetes never stop it with one signal.
///
/// patientflow merge sh/0 sh/1 --out m &   (sh/1/run.json a FIFO)
/// kill -TERM $!; sleep 5; ps $!            # still there, wchan wait_for_partner
#[test]
fn the_first_sigterm_stops_a_merge_blocked_on_a_fifo() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = shards(tmp.path());
    fs::remove_file(Path::new(&b).join("run.json")).unwrap();
    if !mkfifo(&Path::new(&b).join("run.json")) {
        eprintln!("SKIPPED: mkfifo is not available");
        return;
    }
    let out_dir = tmp.path().join("m");
    let child = spawn(&["merge", &a, &b, "--out", out_dir.to_str().unwrap()], None);
    std::thread::sleep(Duration::from_secs(1));
    // The FIFO is now refused before it is opened, so merge has usually
    // ended (exit 2) by the time the signal comes; if not, the signal
    // stops it (130). Either way it never blocks.
    signal(child.id(), "TERM");
    let out =
        wait_bounded(child, Duration::from_secs(5)).expect("merge still running 5 s after SIGTERM");
    assert!(
        matches!(out.status.code(), Some(2) | Some(130)),
        "{:?}: {}",
        out.status.code(),
        text(&out.stderr)
    );
}

/// A SIGKILL that lands while the previous outputs (`.NAME.old-PID-K`) are
/// being removed leaves that directory empty; the sweep renames an `.old`
/// back or removes it only if it is "provably patientflow's", so an empty
/// one stays for ever (an empty `.partial` one is removed).
///
/// mkdir .o1.old-999999-0 && patientflow run small.toml --out o1   # .o1.old-999999-0 stays
#[test]
fn an_empty_old_directory_left_by_a_kill_is_swept() {
    let (tmp, s, out) = small_run("o1");
    // What a SIGKILL during remove_dir_all of the old outputs leaves
    // (observed with `kill -KILL` timed on the write of a 20 MB shard).
    let old = tmp.path().join(".o1.old-999999-0");
    fs::create_dir(&old).unwrap();
    let o = run_small(&s, &out);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(!old.exists(), "the empty .old directory was left");
}

// ---------------------------------------------------------------------------
// Class 3/2: memory bounded by the size of the input

/// Peak resident memory (VmHWM, kB) of a running child, polled until it ends.
fn peak_kb(args: &[&str], cwd: &Path) -> (Output, u64) {
    let mut child = spawn(args, Some(cwd));
    let status = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    let started = Instant::now();
    while child.try_wait().expect("polls").is_none() {
        if let Ok(s) = fs::read_to_string(&status)
            && let Some(line) = s.lines().find(|l| l.starts_with("VmHWM:"))
        {
            let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
            peak = peak.max(kb);
        }
        if started.elapsed() > Duration::from_secs(300) {
            let _ = child.kill();
            panic!("still running after 300 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    (child.wait_with_output().unwrap(), peak)
}

/// Each file is capped at 10 MiB and a chain at 64 files, but nothing caps
/// their product, and `compare` keeps every scenario's chain in memory:
/// measured on 2780eef, `check` of a 60-file chain of 9.9 MB files peaks at
/// 605 MB, `compare` of 2 such chains at 1.18 GB and of 4 at 2.29 GB, with no
/// limit on the number of scenarios. (This test: a 20-file chain, 4 plans
/// extending it, about 200 MB of files on disk.)
///
/// 60 files fN.toml of 9.9 MB of comments, fN extends f(N-1);
/// /usr/bin/time -v patientflow compare f59.toml f58.toml f57.toml f56.toml   # 2.29 GB peak
#[test]
fn memory_does_not_grow_with_scenarios_times_chain_bytes() {
    if !Path::new("/proc/self/status").exists() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let s = small(tmp.path());
    let pad = format!("# {}\n", "x".repeat(97)).repeat(99_000); // 9.9 MB of comments
    let mut parent = s.clone();
    for i in 0..20 {
        let f = tmp.path().join(format!("f{i}.toml"));
        fs::write(&f, format!("extends = {parent:?}\n{pad}")).unwrap();
        parent = f.display().to_string();
    }
    drop(pad);
    let mut plans = Vec::new();
    for i in 0..4 {
        let f = tmp.path().join(format!("plan{i}.toml"));
        fs::write(
            &f,
            format!("extends = {parent:?}\n[pru]\ncars = {}\n", i + 1),
        )
        .unwrap();
        plans.push(f.display().to_string());
    }
    let out = tmp.path().join("cmp");
    let mut args = vec!["compare", "--quiet"];
    args.extend(plans.iter().map(String::as_str));
    args.extend(["--out", out.to_str().unwrap()]);
    let (o, kb) = peak_kb(&args, tmp.path());
    // Either refused up front (exit 2: a chain holds at most 10 MiB of
    // text) or run; either way in bounded memory.
    let stderr = text(&o.stderr);
    assert!(matches!(o.status.code(), Some(0) | Some(2)), "{stderr}");
    if o.status.code() == Some(2) {
        assert!(stderr.contains("MiB"), "{stderr}");
    }
    assert!(
        kb < 300_000,
        "compare of 4 scenarios over one 200 MB chain peaked at {} MB",
        kb / 1000
    );
}

// ---------------------------------------------------------------------------
// Class 6: user text on the terminal and in SVG

/// README: "In all of them, and on the terminal, line breaks and tabs become
/// spaces". A scenario name with "\n" is printed with a raw line break in
/// `run`'s banner and `check`'s header (stderr/stdout), and written with a raw
/// line break into the comparison's forest-plot SVG labels.
///
/// name = "Evil\nname" in plan.toml
/// patientflow check plan.toml | head -1      # "plan.toml: Evil" / "name"
/// patientflow run plan.toml 2>&1 | head -1   # "patientflow 0.1.0: Evil" / "name ..."
#[test]
fn a_line_break_in_a_scenario_name_becomes_a_space_everywhere() {
    let tmp = tempfile::tempdir().unwrap();
    let s = small(tmp.path());
    let plan = write_extending(
        tmp.path(),
        "plan.toml",
        &s,
        "[scenario]\nname = \"Evil\\nname\\there\"\n[pru]\ncars = 2\n",
    );
    let plan = plan.to_str().unwrap();

    let o = run(&["check", plan]);
    let stdout = text(&o.stdout);
    assert!(stdout.contains("Evil name"), "check header: {stdout:?}");

    let out = tmp.path().join("r");
    let o = run(&["run", plan, "--out", out.to_str().unwrap()]);
    let stderr = text(&o.stderr);
    assert!(!stderr.contains("Evil\n"), "run banner: {stderr:?}");

    let cmp = tmp.path().join("c");
    let o = run(&[
        "compare",
        &s,
        plan,
        "--quiet",
        "--out",
        cmp.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    for entry in fs::read_dir(cmp.join("charts")).unwrap() {
        let path = entry.unwrap().path();
        let svg = fs::read_to_string(&path).unwrap();
        assert!(
            !svg.contains("Evil\n"),
            "{}: raw line break in a label",
            path.display()
        );
    }
}

// ---------------------------------------------------------------------------
// Class 9: messages

/// `check` with `demand.crises_per_day = 1e308` says "Readmissions feed
/// demand without bound (the flow balance diverges): ... 12 of every 100
/// frail patients' crises ... come back", which is false (a gain of 0.12 is
/// no loop: the balance overflowed). `run` rightly refuses for the crises.
///
/// patientflow check small.toml --set demand.crises_per_day=1e308
#[test]
fn check_does_not_blame_readmissions_for_an_overflow() {
    let tmp = tempfile::tempdir().unwrap();
    let s = small(tmp.path());
    let o = run(&["check", &s, "--set", "demand.crises_per_day=1e308"]);
    let stdout = text(&o.stdout);
    assert!(
        !stdout.contains("Readmissions feed demand without bound"),
        "{stdout}"
    );
}

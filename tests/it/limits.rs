//! The second round of hostile use (issue 12): sizes counted before anything
//! is allocated, distributions whose moments are not finite, exit codes and
//! messages (short, human-sized, located), and the smaller inconsistencies
//! (whole-day horizons, clock windows, four-digit years, overlapping sweep
//! keys, `report FILE`). Through the real binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use crate::common::{baseline, root, run_bounded, text, write_extending};

fn run(args: &[&str]) -> Output {
    run_bounded(args, Duration::from_secs(300))
}

/// The minimal test scenario's path, for `extends`.
fn minimal() -> PathBuf {
    root().join("tests/data/scenarios/minimal.toml")
}

/// Writes `body` to `dir/name` after an `extends` of the minimal scenario.
fn scenario_file(dir: &Path, name: &str, body: &str) -> String {
    write_extending(dir, name, minimal(), body)
        .display()
        .to_string()
}

/// Asserts exit 2 and returns stderr.
fn refused(out: &Output) -> String {
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "stdout: {}\nstderr: {stderr}",
        text(&out.stdout)
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

/// Runs `args`, which must be refused (exit 2, no panic) saying each of
/// `says`; its stderr.
#[track_caller]
fn refused_saying(args: &[&str], says: &[&str]) -> String {
    let stderr = refused(&run(args));
    for said in says {
        assert!(stderr.contains(said), "{args:?}: no `{said}` in: {stderr}");
    }
    stderr
}

/// Asserts the scenario was accepted: `check` exits 0, or 3 when a
/// service is overloaded (the minimal scenario's community nursing is).
fn accepted(out: &Output) {
    assert!(
        matches!(out.status.code(), Some(0 | 3)),
        "{:?}: {}",
        out.status.code(),
        text(&out.stderr)
    );
}

/// The longest run of ASCII digits in `s`.
fn longest_digit_run(s: &str) -> usize {
    s.split(|c: char| !c.is_ascii_digit())
        .map(str::len)
        .max()
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------
// 3. Sizes refused before allocating.

#[test]
fn warmup_days_are_counted_before_allocating() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("w");
    let o = out_dir.to_str().unwrap();
    let base = baseline();
    // A failure names the case by its arguments.
    let cases: [(&[&str], &[&str]); 3] = [
        // Was: an abort allocating 7.7 GB.
        (
            &["--days", "20000000"],
            &["--days", "36,500 days (100 years)", "20,000,000"],
        ),
        // Replications x days of results, with the option named.
        (
            &["--days", "36500", "--replications", "4000000000"],
            &[
                "--replications: run refused before starting",
                "GB of results",
            ],
        ),
        // A smoothing window as long as the run means nothing (and overflowed).
        (
            &["--days", "20", "--window", "18446744073709551615"],
            &["--window: expected fewer days than --days"],
        ),
    ];
    for (extra, says) in cases {
        let args = [
            &["warmup", base.as_str()][..],
            extra,
            &["--quiet", "--out", o],
        ]
        .concat();
        refused_saying(&args, says);
    }
    assert!(!out_dir.exists());
}

/// A sweep file of `keys` keys with `values` values each.
fn sweep_file(dir: &Path, name: &str, keys: &[&str], values: usize) -> String {
    let list: Vec<String> = (1..=values).map(|v| v.to_string()).collect();
    let mut body = "\n[sweep]\n".to_string();
    for k in keys {
        body.push_str(&format!("{k:?} = [{}]\n", list.join(", ")));
    }
    scenario_file(dir, name, &body)
}

#[test]
fn sweeps_are_counted_before_any_plan_is_built() {
    let tmp = tempfile::tempdir().unwrap();
    let o = tmp.path().join("out");
    let keys = ["pru.cars", "frailty_unit.slots", "community.teams"];
    // 10^9 plans aborted; 10^6 ran silently for over 10 minutes. Both are
    // refused with the count, the limit and the position of an array.
    for (values, count) in [(1000, "1,000,000,000"), (100, "1,000,000")] {
        let file = sweep_file(tmp.path(), &format!("s{values}.toml"), &keys, values);
        let out = run_bounded(
            &["sweep", &file, "--quiet", "--out", o.to_str().unwrap()],
            Duration::from_secs(120),
        );
        let stderr = refused(&out);
        assert!(stderr.contains(&format!("{count} plans")), "{stderr}");
        assert!(stderr.contains("the most is 1,000"), "{stderr}");
        assert!(stderr.contains(&format!("s{values}.toml:4:")), "{stderr}");
        assert!(stderr.contains("key `pru.cars`"), "{stderr}");
        assert!(stderr.len() < 4096, "{} bytes of stderr", stderr.len());
    }
    // Within the plan limit, but all plans' results together too large.
    let file = sweep_file(tmp.path(), "wide.toml", &["pru.cars"], 10);
    refused_saying(
        &[
            "sweep",
            &file,
            "--replications",
            "150000",
            "--set",
            "scenario.horizon=365d",
            "--quiet",
            "--out",
            o.to_str().unwrap(),
        ],
        &[
            "11 scenarios x 150000 replications",
            "--replications: run refused",
        ],
    );
    assert!(!o.exists());
}

#[test]
fn a_comparison_counts_the_results_of_all_its_scenarios() {
    let tmp = tempfile::tempdir().unwrap();
    let o = tmp.path().join("out");
    // Every scenario of a comparison has the baseline's window.
    let plan = scenario_file(tmp.path(), "plan.toml", "[scenario]\nhorizon = \"365d\"\n");
    let other = scenario_file(tmp.path(), "other.toml", "[scenario]\nhorizon = \"365d\"\n");
    let base = scenario_file(tmp.path(), "base.toml", "[scenario]\nhorizon = \"365d\"\n");
    // 150,000 replications of a year fit for one scenario (~1.4 GB), not
    // for three.
    refused_saying(
        &[
            "compare",
            &base,
            &plan,
            &other,
            "--replications",
            "150000",
            "--quiet",
            "--out",
            o.to_str().unwrap(),
        ],
        &["3 scenarios x 150000 replications"],
    );
    assert!(!o.exists());
}

#[test]
fn an_extends_chain_has_a_depth_limit() {
    let tmp = tempfile::tempdir().unwrap();
    // file i extends file i+1; the last extends the minimal scenario.
    let chain = |n: usize| -> String {
        let dir = tmp.path().join(format!("chain{n}"));
        std::fs::create_dir_all(&dir).unwrap();
        for i in 0..n {
            let parent = if i + 1 == n {
                minimal().display().to_string()
            } else {
                dir.join(format!("f{}.toml", i + 1)).display().to_string()
            };
            std::fs::write(
                dir.join(format!("f{i}.toml")),
                format!("extends = {parent:?}\n"),
            )
            .unwrap();
        }
        dir.join("f0.toml").display().to_string()
    };
    // 63 files plus the minimal scenario: 64, the most.
    accepted(&run(&["check", &chain(63)]));
    refused_saying(
        &["check", &chain(64)],
        &["more than 64 files long", "key `extends`", "f63.toml:1:11"],
    );
    // Thousands of files: refused at 64, not a stack overflow.
    refused_saying(&["check", &chain(3000)], &["more than 64 files long"]);
}

#[test]
fn a_path_that_is_not_a_regular_file_is_refused_not_opened() {
    let tmp = tempfile::tempdir().unwrap();
    // A directory, and a device that never ends.
    refused_saying(
        &["check", tmp.path().to_str().unwrap()],
        &["the path is a directory"],
    );
    refused_saying(&["check", "/dev/zero"], &["not a regular file"]);
    // A FIFO blocked forever, given or extended.
    let fifo = tmp.path().join("pipe.toml");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("SKIPPED the FIFO cases: `mkfifo` is not available here");
        return;
    }
    let stderr = refused(&run_bounded(
        &["run", fifo.to_str().unwrap(), "--quiet"],
        Duration::from_secs(60),
    ));
    assert!(stderr.contains("not a regular file (a FIFO"), "{stderr}");
    let child = tmp.path().join("child.toml");
    std::fs::write(&child, "extends = \"pipe.toml\"\n").unwrap();
    let stderr = refused(&run_bounded(
        &["check", child.to_str().unwrap()],
        Duration::from_secs(60),
    ));
    assert!(stderr.contains("child.toml:1:11"), "{stderr}");
    assert!(stderr.contains("not a regular file"), "{stderr}");
    let sweep = tmp.path().join("s.toml");
    let stderr = refused(&run_bounded(
        &[
            "sweep",
            fifo.to_str().unwrap(),
            "--quiet",
            "--out",
            sweep.to_str().unwrap(),
        ],
        Duration::from_secs(60),
    ));
    assert!(stderr.contains("not a regular file"), "{stderr}");
}

/// `report DIR` and `merge` read files inside output directories: a FIFO
/// in place of one of them is refused, not opened.
#[test]
fn report_and_merge_refuse_a_fifo_among_the_outputs() {
    let tmp = tempfile::tempdir().unwrap();
    let short = [
        "--replications",
        "2",
        "--set",
        "scenario.horizon=30d",
        "--quiet",
    ];
    let out = |name: &str| tmp.path().join(name).to_str().unwrap().to_string();
    for (dir, shard) in [("r", None), ("s0", Some("0/2")), ("s1", Some("1/2"))] {
        let base = baseline();
        let mut args = vec!["run", &base];
        let o = out(dir);
        args.extend(short);
        args.extend(["--out", &o]);
        if let Some(k) = shard {
            args.extend(["--shard", k]);
        }
        let done = run(&args.iter().map(|s| &**s).collect::<Vec<_>>());
        assert_eq!(done.status.code(), Some(0), "{}", text(&done.stderr));
    }
    let replace_with_fifo = |path: std::path::PathBuf| {
        std::fs::remove_file(&path).unwrap();
        Command::new("mkfifo").arg(&path).status()
    };
    if !replace_with_fifo(tmp.path().join("r/run.json")).is_ok_and(|s| s.success()) {
        eprintln!("SKIPPED: `mkfifo` is not available here");
        return;
    }
    let stderr = refused(&run_bounded(
        &["report", &out("r")],
        Duration::from_secs(60),
    ));
    assert!(
        stderr.contains("run.json") && stderr.contains("not a regular file"),
        "{stderr}"
    );
    replace_with_fifo(tmp.path().join("s1/replications.csv")).unwrap();
    let stderr = refused(&run_bounded(
        &["merge", &out("s0"), &out("s1"), "--out", &out("m")],
        Duration::from_secs(60),
    ));
    assert!(
        stderr.contains("replications.csv") && stderr.contains("not a regular file"),
        "{stderr}"
    );
}

// ---------------------------------------------------------------------------
// 7. Distributions whose mean or variance is not finite.

#[test]
fn a_distribution_with_an_infinite_mean_or_variance_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    for (shape, what) in [
        ("0.001", "an infinite mean"),
        ("0.005", "an infinite mean"),
        ("0.01", "an infinite variance"),
    ] {
        let file = scenario_file(
            tmp.path(),
            "w.toml",
            &format!(
                "[acute]\nlos.other = {{ dist = \"weibull\", shape = {shape}, scale = \"4d\" }}\n"
            ),
        );
        // `check` printed "offered load NaN" and exited 0.
        for command in ["check", "run"] {
            let stderr = refused_saying(
                &[command, &file, "--quiet"][..if command == "check" { 2 } else { 3 }],
                &["key `acute.los.other`", "w.toml:3:13"],
            );
            assert!(stderr.contains(what), "{shape}: {stderr}");
            assert!(stderr.contains("finite numbers of hours"), "{stderr}");
        }
    }
    // A heavy but finite Weibull still loads.
    let file = scenario_file(
        tmp.path(),
        "ok.toml",
        "[acute]\nlos.other = { dist = \"weibull\", shape = 0.5, scale = \"2d\" }\n",
    );
    let out = run(&["check", &file]);
    accepted(&out);
    assert!(!text(&out.stdout).contains("NaN"));
}

// ---------------------------------------------------------------------------
// 9. Exit codes and messages.

#[test]
fn validate_with_too_few_or_too_many_replications_is_a_usage_error() {
    for n in ["1", "1001"] {
        let stderr = refused_saying(
            &["validate", "--replications", n, "--quiet"],
            &[&format!(
                "--replications: expected 2 to 1000 replications, found {n}"
            )],
        );
        assert!(!stderr.contains("checks failed"), "{stderr}");
    }
    // A case file with one replication of its own is refused the same way.
    let tmp = tempfile::tempdir().unwrap();
    let cases = root().join("scenarios/validation");
    for e in std::fs::read_dir(&cases).unwrap() {
        let p = e.unwrap().path();
        let text = std::fs::read_to_string(&p).unwrap();
        let text = text
            .lines()
            .map(|l| {
                if l.starts_with("replications") {
                    "replications = 1"
                } else {
                    l
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        std::fs::write(tmp.path().join(p.file_name().unwrap()), text).unwrap();
    }
    refused_saying(
        &["validate", "--dir", tmp.path().to_str().unwrap(), "--quiet"],
        &["a verification case needs 2 to 1000"],
    );
}

#[test]
fn numbers_in_messages_and_tables_are_human_sized() {
    // `check` printed offered loads of 300 digits.
    let out = run(&["check", &baseline(), "--set", "demand.crises_per_day=1e308"]);
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(longest_digit_run(&all) < 20, "{all}");
    assert!(all.contains("e3"), "{all}");
    // `run` refuses it, located, with the number in scientific notation.
    let tmp = tempfile::tempdir().unwrap();
    let file = scenario_file(tmp.path(), "c.toml", "[demand]\ncrises_per_day = 1e308\n");
    let stderr = refused(&run(&["run", &file, "--quiet"]));
    assert!(longest_digit_run(&stderr) < 20, "{stderr}");
    assert!(
        stderr.contains("c.toml:3:18: key `demand.crises_per_day`"),
        "{stderr}"
    );
    assert!(stderr.contains("1e308 crises a day"), "{stderr}");
}

#[test]
fn a_huge_token_is_quoted_once_and_truncated() {
    let tmp = tempfile::tempdir().unwrap();
    let token = "x".repeat(5_000_000);
    // As a value, as a key and as a dotted key with an empty part.
    for (name, body) in [
        ("value.toml", format!("[pru]\nopen = \"{token}\"\n")),
        ("key.toml", format!("[pru]\n{token} = 1\n")),
        (
            "date.toml",
            format!("[scenario]\nstart_date = \"{token}\"\n"),
        ),
    ] {
        let file = scenario_file(tmp.path(), name, &body);
        let stderr = refused(&run(&["check", &file]));
        assert!(
            stderr.len() < 4096,
            "{name}: {} bytes of stderr",
            stderr.len()
        );
        assert!(stderr.contains(&format!("{name}:3:")), "{stderr}");
    }
    // In a --set (an argument is at most 128 KiB on Linux).
    let long = "y".repeat(100_000);
    for set in [
        format!("pru.open={long}"),
        format!("pru.{long}=1"),
        long.clone(),
    ] {
        let stderr = refused(&run(&["check", &baseline(), "--set", &set]));
        assert!(stderr.len() < 4096, "{} bytes of stderr", stderr.len());
        assert!(stderr.contains("… (1000"), "{stderr}");
    }
}

#[test]
fn size_refusals_are_located_at_the_key() {
    let tmp = tempfile::tempdir().unwrap();
    let file = scenario_file(
        tmp.path(),
        "r.toml",
        "[scenario]\nreplications = 4000000000\n",
    );
    refused_saying(
        &["run", &file, "--quiet"],
        &[
            "r.toml:3:16: key `scenario.replications`: run refused before starting",
            "replications = 4000000000",
        ],
    );
    // Given on the command line, the option is named.
    refused_saying(
        &[
            "run",
            &baseline(),
            "--replications",
            "4000000000",
            "--quiet",
        ],
        &["error: --replications: run refused"],
    );
    // A horizon from a --set is located in it.
    refused_saying(
        &[
            "run",
            &baseline(),
            "--set",
            "scenario.horizon=40000d",
            "--quiet",
        ],
        &[
            "--set scenario.horizon=40000d: key `scenario.horizon`",
            "^^^^^^",
        ],
    );
}

#[test]
fn an_integer_beyond_64_bits_names_its_key() {
    let tmp = tempfile::tempdir().unwrap();
    let file = scenario_file(
        tmp.path(),
        "b.toml",
        "[acute]\nbeds = 99999999999999999999999\n",
    );
    refused_saying(
        &["check", &file],
        &[
            "b.toml:3:8: key `acute.beds`: the integer 99999999999999999999999 does not fit in 64 bits",
        ],
    );
    let stderr = refused_saying(
        &[
            "check",
            &baseline(),
            "--set",
            "acute.beds=99999999999999999999999",
        ],
        &["key `acute.beds`"],
    );
    // The underline is under the value, not the key.
    assert!(
        stderr.ends_with(&format!("{}{}\n", " ".repeat(17), "^".repeat(23))),
        "{stderr:?}"
    );
}

#[test]
fn a_dotted_key_of_100000_parts_is_located() {
    let tmp = tempfile::tempdir().unwrap();
    let key = vec!["a"; 100_000].join(".");
    let file = scenario_file(tmp.path(), "d.toml", &format!("[scenario]\n{key} = 1\n"));
    let stderr = refused_saying(&["check", &file], &["d.toml:3:1"]);
    assert!(stderr.len() < 4096, "{} bytes", stderr.len());
    // In a --set, refused by its count of parts (no recursion that deep).
    let key = vec!["a"; 60_000].join(".");
    let stderr = refused_saying(
        &["check", &baseline(), "--set", &format!("{key}=1")],
        &["60000 parts; the most is 64"],
    );
    assert!(stderr.len() < 4096, "{} bytes", stderr.len());
}

// ---------------------------------------------------------------------------
// 10. Smaller inconsistencies.

#[test]
fn the_horizon_is_a_whole_number_of_days() {
    for horizon in ["1.5d", "1m", "36h"] {
        refused_saying(
            &[
                "check",
                &baseline(),
                "--set",
                &format!("scenario.horizon={horizon}"),
            ],
            &["expected a whole number of days", "key `scenario.horizon`"],
        );
    }
    for horizon in ["52w", "48h", "1d"] {
        let out = run(&[
            "check",
            &baseline(),
            "--set",
            &format!("scenario.horizon={horizon}"),
        ]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{horizon}: {}",
            text(&out.stderr)
        );
    }
    // One day is "1 day" in the report.
    let tmp = tempfile::tempdir().unwrap();
    let o = tmp.path().join("one");
    let out = run(&[
        "run",
        &baseline(),
        "--set",
        "scenario.horizon=1d",
        "--set",
        "scenario.warm_up=1d",
        "--replications",
        "2",
        "--quiet",
        "--out",
        o.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let md = std::fs::read_to_string(o.join("report.md")).unwrap();
    assert!(md.contains("(1 day)"), "{md}");
    // "1 days" as a count of its own (not the end of "21 days").
    assert!(!md.contains(" 1 days") && !md.contains("(1 days"), "{md}");
}

#[test]
fn clock_windows_take_one_or_two_digit_hours_with_or_without_spaces() {
    let check = |window: &str| {
        let out = run(&["check", &baseline(), "--set", &format!("pru.open={window}")]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{window}: {}",
            text(&out.stderr)
        );
        text(&out.stdout)
    };
    let reference = check("08:00-20:00");
    for same in ["8:00-20:00", "08:00 - 20:00", "8:00 -20:00"] {
        assert_eq!(check(same), reference, "{same}");
    }
    for bad in ["8-20", "08:0-20:00", "008:00-20:00", "08.00-20.00"] {
        refused_saying(
            &["check", &baseline(), "--set", &format!("pru.open={bad}")],
            &["expected a clock window"],
        );
    }
}

#[test]
fn dates_stay_within_years_0001_to_9999() {
    let tmp = tempfile::tempdir().unwrap();
    let o = tmp.path().join("y");
    let args = |start: &str, horizon: &str| -> Vec<String> {
        [
            "run",
            &baseline(),
            "--set",
            &format!("scenario.start_date={start}"),
            "--set",
            "scenario.warm_up=0d",
            "--set",
            &format!("scenario.horizon={horizon}"),
            "--replications",
            "1",
            "--quiet",
            "--out",
            o.to_str().unwrap(),
        ]
        .map(String::from)
        .to_vec()
    };
    let go = |a: Vec<String>| run(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let stderr = refused(&go(args("0000-12-30", "2d")));
    assert!(stderr.contains("years 0001 to 9999"), "{stderr}");
    let stderr = refused(&go(args("9999-12-30", "3d")));
    assert!(
        stderr.contains("the run would go past 9999-12-31"),
        "{stderr}"
    );
    assert!(stderr.contains("key `scenario.horizon`"), "{stderr}");
    // The last two days of year 9999 run, and are the last dates written.
    let out = go(args("9999-12-30", "2d"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let daily = std::fs::read_to_string(o.join("daily.csv")).unwrap();
    assert!(daily.contains(",9999-12-31,"), "{daily}");
    assert!(!daily.contains("10000-"), "{daily}");
    // The warm-up counts: it comes before the window's first date.
    refused_saying(
        &[
            "check",
            &baseline(),
            "--set",
            "scenario.start_date=9999-07-01",
            "--set",
            "scenario.horizon=30d",
        ],
        &["the run would go past 9999-12-31"],
    );
}

#[test]
fn overlapping_sweep_keys_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let o = tmp.path().join("out");
    for (body, later, at) in [
        (
            "\"pru\" = [{ cars = 1 }]\n\"pru.cars\" = [1, 2]\n",
            "pru.cars",
            ":5:1",
        ),
        (
            "\"pru.cars\" = [1]\n\"pru . cars\" = [2]\n",
            "pru.cars",
            ":4:1",
        ),
    ] {
        let file = scenario_file(tmp.path(), "o.toml", &format!("\n[sweep]\n{body}"));
        refused_saying(
            &["sweep", &file, "--quiet", "--out", o.to_str().unwrap()],
            &["overlaps the swept key", at, &format!("key `{later}")],
        );
    }
    assert!(!o.exists());
}

#[test]
fn report_on_a_file_says_it_is_not_a_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("run.json");
    std::fs::write(&file, "{}").unwrap();
    let stderr = refused_saying(&["report", file.to_str().unwrap()], &["not a directory"]);
    assert!(!stderr.contains("no such directory"), "{stderr}");
    refused_saying(
        &["report", tmp.path().join("nope").to_str().unwrap()],
        &["no such directory"],
    );
}

/// Inputs the fuzz target (`fuzz/`) found, each replayed as it runs them
/// (first byte: 0 a scenario file, 1 `--set` lines on the baseline, 2 a
/// `[sweep]` body after the baseline): refused with a short message.
#[test]
fn fuzz_findings_give_short_messages() {
    use patientflow::experiment::{Settings, commands::sweep_plans};
    use patientflow::scenario::{ScenarioDoc, load_bytes};
    let path = Path::new("fuzz.toml");
    let base = std::fs::read_to_string(baseline()).unwrap();
    let mut replayed = 0;
    for entry in std::fs::read_dir(root().join("tests/data/fuzz")).unwrap() {
        let file = entry.unwrap().path();
        let bytes = std::fs::read(&file).unwrap();
        let (mode, rest) = bytes.split_first().expect("not empty");
        let text = String::from_utf8_lossy(rest).into_owned();
        let sets = |t: &str| -> Vec<String> {
            t.lines()
                .filter_map(|l| l.strip_prefix("#set "))
                .map(str::to_string)
                .collect()
        };
        let shown = match mode % 3 {
            0 => load_bytes(rest, path, &sets(&text))
                .map(|_| ())
                .map_err(|e| e.to_string()),
            1 => {
                let lines: Vec<String> = text.lines().map(str::to_string).collect();
                load_bytes(base.as_bytes(), path, &lines)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
            _ => ScenarioDoc::parse_str(&format!("{base}\n[sweep]\n{text}"), path)
                .map_err(|e| e.to_string())
                .and_then(|doc| {
                    let settings = Settings {
                        sets: sets(&text),
                        ..Settings::default()
                    };
                    sweep_plans(path, doc, &settings)
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                }),
        }
        .expect_err("refused");
        // The first was 6,001 bytes: a clock window with spaces, whole.
        assert!(
            shown.len() < 1500,
            "{}: {} bytes: {shown}",
            file.display(),
            shown.len()
        );
        replayed += 1;
    }
    assert!(replayed >= 1);
    // The same through the binary: a long window with spaces.
    let window = format!("pru.open=8:00 -{}", "A b ".repeat(5000));
    let stderr = refused(&run(&["check", &baseline(), "--set", &window]));
    assert!(stderr.len() < 1500, "{} bytes: {stderr}", stderr.len());
    assert!(stderr.contains("expected a clock window"), "{stderr}");
}

/// A comparison holds every scenario's files in memory: more than 1,000
/// plans, or more than 64 MiB of scenario text together, is refused before
/// anything runs; so is an `extends` chain of more than 10 MiB.
#[test]
fn a_comparison_bounds_its_plans_and_their_text() {
    let tmp = tempfile::tempdir().unwrap();
    let base = baseline();
    let many: Vec<String> = (0..1001).map(|i| format!("plan{i}.toml")).collect();
    let mut args = vec!["compare", base.as_str()];
    args.extend(many.iter().map(String::as_str));
    let stderr = refused(&run(&args));
    assert!(
        stderr.contains("1001 plans") && stderr.contains("1000"),
        "{stderr}"
    );

    // Seven plans of 9.9 MB of comments each: 69 MB of text together.
    let pad = format!("# {}\n", "x".repeat(97)).repeat(99_000);
    let plans: Vec<String> = (0..7)
        .map(|i| {
            let f = tmp.path().join(format!("fat{i}.toml"));
            std::fs::write(&f, format!("extends = {base:?}\n{pad}")).unwrap();
            f.display().to_string()
        })
        .collect();
    let mut args = vec!["compare", base.as_str(), "--quiet"];
    args.extend(plans.iter().map(String::as_str));
    refused_saying(&args, &["64 MiB"]);

    // A chain of two such files: 19.8 MB.
    let two = tmp.path().join("two.toml");
    std::fs::write(&two, format!("extends = {:?}\n{pad}", plans[0])).unwrap();
    let stderr = refused(&run(&["check", two.to_str().unwrap()]));
    assert!(
        stderr.contains("10 MiB") && stderr.contains("extends"),
        "{stderr}"
    );
}

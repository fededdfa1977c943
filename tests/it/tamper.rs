//! The second round of hostile use (issue 12), classes 5, 6 and 8:
//! comparisons of scenarios that measure different things, markup in user
//! text reaching the reports, and edited outputs read back by `merge` and
//! `report`. Through the real binary.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::{
    baseline, drop_checksums, edit_json, exits_saying, report_dir, run, text, write_extending,
};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// `compare` of the baseline with `plans` into `out`, with `extra`
/// arguments; it must exit with `code` and say each of `says` (`case` names
/// the case). Its stderr.
#[track_caller]
fn compare(
    case: &str,
    plans: &[&Path],
    out: &Path,
    extra: &[&str],
    code: i32,
    says: &[&str],
) -> String {
    let base = baseline();
    let mut args = vec!["compare", &base];
    args.extend(plans.iter().map(|p| s(p)));
    args.extend(extra);
    args.extend(["--out", s(out)]);
    exits_saying(case, &args, code, says)
}

/// A plan extending the baseline with `body` after its `[scenario]` name.
fn plan(dir: &Path, file: &str, scenario_keys: &str, rest: &str) -> PathBuf {
    let body = format!("\n[scenario]\nname = \"Plan\"\n{scenario_keys}\n{rest}");
    write_extending(dir, file, baseline(), &body)
}

// ---------------------------------------------------------------------------
// 5. Comparisons that compare different things

#[test]
fn compare_refuses_a_plan_with_another_window_start_or_warm_up() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let cases = [
        ("horizon = \"30d\"", "scenario.horizon", "30d", "365d"),
        ("warm_up = \"10d\"", "scenario.warm_up", "10d", "365d"),
        (
            "start_date = \"2026-01-05\"",
            "scenario.start_date",
            "2026-01-05",
            "2024-09-28",
        ),
    ];
    for (i, (line, key, plan_value, base_value)) in cases.into_iter().enumerate() {
        let p = plan(tmp.path(), &format!("p{i}.toml"), line, "");
        let out_dir = tmp.path().join(format!("out{i}"));
        let says = [
            &format!("key `{key}`"),
            plan_value,
            base_value,
            &format!("p{i}.toml"),
        ];
        compare(
            line,
            &[&p],
            &out_dir,
            &["--replications", "2", "--quiet"],
            2,
            &says,
        );
        assert!(!out_dir.exists(), "nothing is written when refused");
    }
}

#[test]
fn compare_pairs_plans_that_share_the_window_set_for_every_scenario() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // The plan changes capacity only; --set moves the window of both.
    let p = plan(tmp.path(), "cars.toml", "", "[pru]\ncars = 2\n");
    let out_dir = tmp.path().join("out");
    let window = [
        "--set",
        "scenario.horizon=20d",
        "--set",
        "scenario.warm_up=10d",
    ];
    let extra = [&["--replications", "2", "--quiet"][..], &window].concat();
    compare("one window for both", &[&p], &out_dir, &extra, 0, &[]);
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
        let sweep = format!("\n[sweep]\n\"pru.cars\" = [1, 2]\n\"{key}\" = {values}\n");
        let file = write_extending(tmp.path(), "sweep.toml", baseline(), &sweep);
        let out_dir = tmp.path().join("out");
        let args = [
            "sweep",
            s(&file),
            "--replications",
            "2",
            "--quiet",
            "--out",
            s(&out_dir),
        ];
        let located = format!("sweep.toml:5:1: key `{key}`");
        exits_saying(key, &args, 2, &[&located, "cannot be swept"]);
    }
}

// ---------------------------------------------------------------------------
// 6. Markup injection in reports

/// Characters that must never reach an output as they are.
const RAW: [char; 4] = ['\0', '\u{202E}', '\u{1b}', '\u{7}'];

/// A plan whose name, description and citation hold every kind of markup
/// and control character, under a file name that is a script URL.
fn hostile_compare(tmp: &Path) -> (PathBuf, Output) {
    let plain = plan(tmp, "javascript:alert(document.domain).toml", "", "");
    let evil = plan(tmp, "evil.toml", "", "");
    // Replace the plain name with the hostile one (TOML escapes keep the
    // file itself valid).
    let body = fs::read_to_string(&evil).expect("read").replace(
        "name = \"Plan\"",
        "name = \"Evil [x](javascript:alert(1)) <b>|</b> \\u202Egpj.exe\\u0000 \\u001b[31m\\u0007 & \\n# heading\"\n\
         description = \"one\\n\\n| a | b |\\n- item [y](javascript:z) <script>x</script>\"",
    ) + "\n[sources]\n\"pru.cars\" = \"Cite\\u0000 [x](javascript:alert(2)) | cell \\n\\u202E end\"\n";
    fs::write(&evil, body).expect("write");
    let out_dir = tmp.join("out");
    let out = run(&[
        "compare",
        &baseline(),
        s(&plain),
        s(&evil),
        "--replications",
        "2",
        "--set",
        "scenario.horizon=20d",
        "--set",
        "scenario.warm_up=5d",
        "--quiet",
        "--out",
        s(&out_dir),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    (out_dir, out)
}

/// Does `pat` occur in `body` other than right after a backslash (a
/// Markdown escape, which makes it plain text)?
fn unescaped(body: &str, pat: &str) -> bool {
    body.match_indices(pat)
        .any(|(i, _)| !body[..i].ends_with('\\'))
}

/// Every file under `dir` (relative name, text).
fn all_files(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).expect("read_dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let name = p.strip_prefix(dir).expect("inside").display().to_string();
                out.push((name, fs::read_to_string(&p).expect("utf-8")));
            }
        }
    }
    out
}

#[test]
fn a_script_url_file_name_becomes_a_relative_encoded_link() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (dir, _) = hostile_compare(tmp.path());
    let html = fs::read_to_string(dir.join("report.html")).expect("html");
    let md = fs::read_to_string(dir.join("report.md")).expect("md");
    let encoded = "./javascript%3Aalert%28document.domain%29/report.html";
    assert!(html.contains(&format!("<a href=\"{encoded}\">")), "{html}");
    assert!(md.contains(&format!("]({encoded})")), "{md}");
    // Every link of either page is relative, in the page or below it.
    for href in html.split("href=\"").skip(1) {
        assert!(href.starts_with("./") || href.starts_with('#'), "{href}");
    }
    for (i, _) in md.match_indices("](") {
        let link = &md[i + 2..];
        if !md[..i].ends_with('\\') {
            assert!(
                link.starts_with("./") || link.starts_with("charts/"),
                "{link}"
            );
        }
    }
    assert!(!html.contains("href=\"javascript") && !md.contains("(javascript:alert(document"));
    // The folder the link points to is there.
    assert!(
        dir.join("javascript:alert(document.domain)/report.html")
            .is_file()
    );
}

#[test]
fn names_descriptions_and_citations_are_escaped_in_every_output() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (dir, out) = hostile_compare(tmp.path());
    for (name, body) in all_files(&dir) {
        // JSON keeps the scenario verbatim (escaped as JSON strings): it
        // must match the scenario file.
        if name.ends_with(".json") {
            continue;
        }
        assert!(!body.contains(RAW), "{name} holds a raw control character");
        if name.ends_with(".md") {
            assert!(!unescaped(&body, "<script"), "{name} holds a script tag");
            assert!(!unescaped(&body, "](javascript"), "{name}: live link");
            assert!(!body.contains("\n# heading"), "{name}: a heading injected");
            // Every table row has as many cells as its header.
            let mut cells = None;
            for line in body.lines() {
                if line.starts_with('|') {
                    let n = line.replace("\\|", "").matches('|').count();
                    assert_eq!(*cells.get_or_insert(n), n, "{name}: {line}");
                } else {
                    cells = None;
                }
            }
        }
        if name.ends_with(".html") || name.ends_with(".svg") {
            assert!(!body.contains("<script"), "{name} holds a script tag");
            assert!(!body.contains("<b>"), "{name}: markup passed through");
        }
        if name.ends_with(".csv") {
            assert!(
                body.lines()
                    .all(|l| !l.starts_with('#') && !l.starts_with("- item")),
                "{name}: a record broken by a line break"
            );
        }
    }
    // The plan's own report names it, escaped.
    let md = fs::read_to_string(dir.join("evil/report.md")).expect("md");
    assert!(
        md.contains("Evil \\[x\\](javascript:alert(1)) \\<b\\>\\|\\</b\\>"),
        "{md}"
    );
    assert!(
        md.contains("Cite\u{FFFD} \\[x\\](javascript:alert(2)) \\| cell"),
        "{md}"
    );
    let html = fs::read_to_string(dir.join("evil/report.html")).expect("html");
    assert!(html.contains("Evil [x](javascript:alert(1)) &lt;b&gt;|&lt;/b&gt; \u{FFFD}gpj.exe"));
    // Nothing raw reaches the terminal either.
    assert!(!text(&out.stdout).contains(RAW) && !text(&out.stderr).contains(RAW));
}

#[test]
fn terminal_output_carries_no_escape_sequence_from_a_name() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let p = plan(tmp.path(), "p.toml", "", "");
    let body = fs::read_to_string(&p).expect("read").replace(
        "name = \"Plan\"",
        "name = \"x\\u001b]0;owned\\u0007\\u001b[2J\"",
    );
    fs::write(&p, body).expect("write");
    // `check` prints the name on stdout; `run` on stderr.
    let out = run(&["check", s(&p)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(!stdout.contains(RAW), "{stdout:?}");
    assert!(
        stdout.contains("x\u{FFFD}]0;owned\u{FFFD}\u{FFFD}[2J"),
        "{stdout:?}"
    );
    let out_dir = tmp.path().join("out");
    let args = [
        "run",
        s(&p),
        "--replications",
        "1",
        "--set",
        "scenario.horizon=3d",
        "--set",
        "scenario.warm_up=0d",
        "--out",
        s(&out_dir),
    ];
    let stderr = exits_saying("run", &args, 0, &[]);
    assert!(!stderr.contains(RAW), "{stderr:?}");
}

// ---------------------------------------------------------------------------
// 8. Tampered inputs to `merge` and `report`

/// A short run's arguments: 4 replications of a 12-day window.
const SHORT: [&str; 8] = [
    "--replications",
    "4",
    "--set",
    "scenario.horizon=12d",
    "--set",
    "scenario.warm_up=3d",
    "--quiet",
    "--threads=2",
];

/// A whole run of the baseline into `run` of a new temporary folder.
fn short_run() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("run");
    let base = baseline();
    let mut args = vec!["run", &base, "--out", s(&dir)];
    args.extend(SHORT);
    exits_saying("the short run", &args, 0, &[]);
    (tmp, dir)
}

/// Shards 0/2 and 1/2 of the short run, in `tmp/s0` and `tmp/s1`.
fn short_shards(tmp: &Path) -> [PathBuf; 2] {
    let base = baseline();
    [0, 1].map(|k| {
        let dir = tmp.join(format!("s{k}"));
        let shard = format!("{k}/2");
        let mut args = vec!["run", &base, "--shard", &shard, "--out", s(&dir)];
        args.extend(SHORT);
        exits_saying(&shard, &args, 0, &[]);
        dir
    })
}

/// `merge` of `shards` into `out`, which must exit with `code` and say
/// each of `says` (`case` names the case); its stderr.
#[track_caller]
fn merge(case: &str, shards: &[PathBuf], out: &Path, code: i32, says: &[&str]) -> String {
    let mut args = vec!["merge"];
    args.extend(shards.iter().map(|p| s(p)));
    args.extend(["--out", s(out)]);
    exits_saying(case, &args, code, says)
}

/// Replaces cell `col` (0-based) of line `line` (1-based) of a CSV file.
fn edit_cell(path: &Path, line: usize, col: usize, value: &str) {
    let body = fs::read_to_string(path).expect("read");
    let mut lines: Vec<String> = body.lines().map(str::to_string).collect();
    let mut cells: Vec<&str> = lines[line - 1].split(',').collect();
    cells[col] = value;
    lines[line - 1] = cells.join(",");
    fs::write(path, lines.join("\n") + "\n").expect("write");
}

#[test]
fn merge_names_an_edited_value_and_refuses_non_finite_cells() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let shards = short_shards(tmp.path());
    let reps = shards[1].join("replications.csv");
    let original = fs::read_to_string(&reps).expect("read");

    // With checksums: any edit is named, even a plausible value.
    edit_cell(&reps, 2, 4, "12345");
    let says = ["replications.csv has changed", "s1"];
    merge("an edited value", &shards, &tmp.path().join("m"), 2, &says);
    assert!(!tmp.path().join("m").exists());

    // Without checksums (the previous version's output): NaN and 1e400
    // are refused with file, line and column instead of dropped.
    drop_checksums(&shards[1].join("run.json"));
    let header: Vec<String> = original
        .lines()
        .next()
        .expect("header")
        .split(',')
        .map(str::to_string)
        .collect();
    for bad in ["NaN", "1e400", "inf", "-3"] {
        fs::write(&reps, &original).expect("restore");
        edit_cell(&reps, 3, 4, bad);
        let says = [
            "replications.csv: line 3, column `",
            &format!("column `{}`", header[4]),
            "records no checksums",
        ];
        merge(bad, &shards, &tmp.path().join("m"), 2, &says);
    }
    // Restored, the shards merge (unverified, with the warning).
    fs::write(&reps, &original).expect("restore");
    merge("restored", &shards, &tmp.path().join("m"), 0, &[]);
}

#[test]
fn merge_names_a_changed_daily_file_and_a_tampered_manifest() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let shards = short_shards(tmp.path());
    let daily = shards[0].join("daily_replications.csv");
    let body = fs::read_to_string(&daily).expect("read");
    // One row removed: n would fall without a word.
    let cut: Vec<&str> = body.lines().filter(|l| !l.starts_with("2,5,")).collect();
    fs::write(&daily, cut.join("\n") + "\n").expect("write");
    let says = ["daily_replications.csv has changed"];
    merge("a row removed", &shards, &tmp.path().join("m"), 2, &says);

    // Without checksums the gap itself is found.
    drop_checksums(&shards[0].join("run.json"));
    let says = ["daily_replications.csv: line"];
    merge("no checksums", &shards, &tmp.path().join("m"), 2, &says);
    fs::write(&daily, &body).expect("restore");

    // A run.json whose window no longer matches its scenario.
    edit_json(&shards[1].join("run.json"), |v| {
        v["horizon_hours"] = serde_json::json!(1e308);
    });
    let says = ["`horizon_hours`", "run.json"];
    merge("another window", &shards, &tmp.path().join("m"), 2, &says);
}

#[test]
fn report_names_the_changed_file_and_writes_nothing() {
    let (_tmp, dir) = short_run();
    let html = fs::read(dir.join("report.html")).expect("html");
    // Untouched, it rebuilds.
    report_dir("untouched", &dir, 0, &[]);
    for (file, line, col, value) in [
        ("summary.csv", 5, 2, "99999999"),
        ("daily_bands.csv", 3, 3, "1"),
        ("daily.csv", 2, 3, "7"),
        ("replications.csv", 2, 1, "1"),
    ] {
        let path = dir.join(file);
        let original = fs::read(&path).expect("read");
        edit_cell(&path, line, col, value);
        report_dir(file, &dir, 2, &[&format!("{file} has changed")]);
        assert_eq!(fs::read(dir.join("report.html")).expect("html"), html);
        fs::write(&path, original).expect("restore");
    }
}

#[test]
fn report_checks_run_json_against_its_scenario() {
    let (_tmp, dir) = short_run();
    let json = dir.join("run.json");
    let original = fs::read(&json).expect("read");
    let cases: [(&str, serde_json::Value, &str); 6] = [
        ("warm_up_hours", serde_json::json!(1e308), "`warm_up_hours`"),
        ("warm_up_hours", serde_json::json!(-1.0), "`warm_up_hours`"),
        (
            "first_day_date",
            serde_json::json!("2025-02-30"),
            "`first_day_date`",
        ),
        (
            "first_day_date",
            serde_json::json!("2031-01-01"),
            "`first_day_date`",
        ),
        (
            "start_date",
            serde_json::json!("99999-01-01"),
            "`start_date`",
        ),
        ("sha256", serde_json::json!("00"), "`sha256`"),
    ];
    for (key, value, says) in cases {
        edit_json(&json, |v| v[key] = value.clone());
        let err = report_dir(&format!("{key}={value}"), &dir, 2, &[says]);
        assert!(err.len() < 2000, "{err}");
        fs::write(&json, &original).expect("restore");
    }
}

/// The report reads the scenario's facts that `run.json` records, not the
/// scenario loaded again: without them it is refused, and they are held
/// to the run's own fields.
#[test]
fn report_reads_and_checks_the_recorded_scenario_facts() {
    let (_tmp, dir) = short_run();
    let json = dir.join("run.json");
    let original = fs::read(&json).expect("read");
    type Edit = fn(&mut serde_json::Value);
    let cases: [(&str, Edit, &str); 3] = [
        (
            "no facts",
            |v| {
                v.as_object_mut().expect("object").remove("scenario_facts");
            },
            "no `scenario_facts`",
        ),
        (
            "another seed",
            |v| v["scenario_facts"]["timing"]["seed"] = serde_json::json!(7),
            "`seed`",
        ),
        (
            "a window too long",
            |v| v["scenario_facts"]["timing"]["days"] = serde_json::json!(1u64 << 40),
            "at most",
        ),
    ];
    for (what, edit, says) in cases {
        edit_json(&json, edit);
        report_dir(what, &dir, 2, &[says]);
        fs::write(&json, &original).expect("restore");
    }
    report_dir("restored", &dir, 0, &[]);
}

#[test]
fn report_validates_values_of_outputs_without_checksums() {
    let (_tmp, dir) = short_run();
    drop_checksums(&dir.join("run.json"));
    // The previous version's outputs are accepted, with a warning.
    report_dir("no checksums", &dir, 0, &["records no checksums"]);
    let (summary, bands) = ("summary.csv", "daily_bands.csv");
    let mean = "summary.csv: line 5, column `mean`";
    for (file, line, col, value, says) in [
        (summary, 5, 2, "NaN", mean),
        (summary, 5, 2, "1e400", mean),
        (summary, 5, 2, "100000000000000000000", "outside the range"),
        (summary, 5, 9, "1000", "column `n`"),
        (bands, 4, 5, "inf", "daily_bands.csv: line 4, column `p25`"),
        (bands, 4, 1, "2099-01-01", "column `date`"),
    ] {
        let path = dir.join(file);
        let original = fs::read(&path).expect("read");
        edit_cell(&path, line, col, value);
        report_dir(&format!("{file} {value}"), &dir, 2, &[says]);
        fs::write(&path, original).expect("restore");
    }
}

#[test]
fn report_reads_a_huge_csv_no_further_than_the_run_wrote() {
    let (_tmp, dir) = short_run();
    drop_checksums(&dir.join("run.json"));
    let path = dir.join("daily_bands.csv");
    let body = fs::read_to_string(&path).expect("read");
    let rows = body.lines().count();
    // 12 days x every series + header; then a million more rows (~50 MB).
    assert_eq!(
        rows,
        1 + 12 * patientflow::model::metrics::Series::ALL.len()
    );
    let extra = body.lines().last().expect("row").to_string() + "\n";
    let mut f = fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .expect("open");
    use std::io::Write;
    for _ in 0..1_000_000 {
        f.write_all(extra.as_bytes()).expect("append");
    }
    drop(f);
    let says = format!(
        "daily_bands.csv: line {}: more rows than the {} this run wrote",
        rows + 1,
        rows - 1
    );
    report_dir("a million more rows", &dir, 2, &[&says]);
    // One line of 100 MB with no line break: refused at its 64 KiB mark.
    fs::write(&path, "day,".repeat(25_000_000)).expect("write");
    let says = ["daily_bands.csv: line 1: longer than 65536 bytes"];
    report_dir("a line of 100 MB", &dir, 2, &says);
}

#[test]
fn report_of_a_comparison_names_an_edited_table() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let p = plan(tmp.path(), "cars.toml", "", "[pru]\ncars = 2\n");
    let dir = tmp.path().join("cmp");
    compare("a short comparison", &[&p], &dir, &SHORT, 0, &[]);
    let table = dir.join("comparison.csv");
    let original = fs::read(&table).expect("read");
    edit_cell(&table, 2, 4, "5");
    report_dir("an edited cell", &dir, 2, &["comparison.csv has changed"]);
    // Without the checksum, a non-finite cell is named.
    fs::write(&table, original).expect("restore");
    drop_checksums(&dir.join("experiment.json"));
    edit_cell(&table, 2, 4, "NaN");
    let says = ["comparison.csv: line 2, column `plan_mean`"];
    report_dir("NaN without checksums", &dir, 2, &says);
}

#[test]
fn a_plan_file_name_cannot_make_its_folder_the_parent() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let p = plan(tmp.path(), "...toml", "", "");
    let out_dir = tmp.path().join("sub/out");
    compare(
        "...toml",
        &[&p],
        &out_dir,
        &["--quiet"],
        2,
        &["`..` cannot"],
    );
    assert!(!tmp.path().join("sub").exists());
}

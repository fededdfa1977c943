//! The corpus of broken scenarios in `tests/data/broken/`: every one must be
//! refused by the real binary with exit code 2, a message naming the file,
//! line and column (where there is one), the key and what was expected; no
//! panic; no output directory.
//!
//! Each case states its expectations in leading comments:
//!
//! ```text
//! # expect-key: pru.cars          (the key named; `-` for none)
//! # expect-msg: whole number      (a fragment of the message)
//! # expect-at: 5:8                (line:column; `none` when unlocated)
//! # expect-file: companions/x.toml (the file named, when not the case itself)
//! # set: pru.cars=two             (run with this --set; repeatable)
//! # command: sweep                 (the command to run it with; default `run`)
//! ```
//!
//! Two cases are generated here rather than committed: files of many
//! megabytes. Run with `-- --nocapture` to see each file with the first line
//! of the message it produced.

use std::path::{Path, PathBuf};
use std::process::Command;

struct Case {
    name: String,
    path: PathBuf,
    key: Option<String>,
    msg: String,
    at: Option<(usize, usize)>,
    file: Option<String>,
    sets: Vec<String>,
    /// `run`, or `sweep` for a sweep file.
    command: String,
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/broken")
}

/// A case that cannot carry comments: (file, key, message fragment, line:column).
type Unheaded = (
    &'static str,
    &'static str,
    &'static str,
    Option<(usize, usize)>,
);

/// Cases that cannot carry comments.
const UNHEADED: &[Unheaded] = &[(
    "099-empty.toml",
    "scenario",
    "missing key `scenario`",
    Some((1, 1)),
)];

/// The expectations of a case, from its leading comments.
fn parse_case(path: &Path) -> Case {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let text = String::from_utf8_lossy(&bytes);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut case = Case {
        name: name.clone(),
        path: path.to_path_buf(),
        key: None,
        msg: String::new(),
        at: None,
        file: None,
        sets: Vec::new(),
        command: "run".to_string(),
    };
    if let Some(&(_, key, msg, at)) = UNHEADED.iter().find(|(n, ..)| *n == name) {
        case.key = Some(key.to_string());
        case.msg = msg.to_string();
        case.at = at;
        return case;
    }
    let mut saw_at = false;
    for line in text.lines().take_while(|l| l.starts_with('#')) {
        let Some((tag, value)) = line.trim_start_matches('#').split_once(':') else {
            continue;
        };
        let value = value.trim().to_string();
        match tag.trim() {
            "expect-key" => case.key = (value != "-").then_some(value),
            "expect-msg" => case.msg = value,
            "expect-file" => case.file = Some(value),
            "set" => case.sets.push(value),
            "command" => case.command = value,
            "expect-at" => {
                saw_at = true;
                if value != "none" {
                    let (l, c) = value
                        .split_once(':')
                        .and_then(|(l, c)| Some((l.parse().ok()?, c.parse().ok()?)))
                        .unwrap_or_else(|| panic!("{name}: bad expect-at {value:?}"));
                    case.at = Some((l, c));
                }
            }
            _ => {}
        }
    }
    assert!(!case.msg.is_empty(), "{name}: no expect-msg");
    assert!(saw_at, "{name}: no expect-at (line:column or none)");
    case
}

/// Runs the binary on the case; returns the first line of its message.
fn refuse(case: &Case, scratch: &Path) -> String {
    let out_dir = scratch.join(format!("out-{}", case.name));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_patientflow"));
    cmd.arg(&case.command)
        .arg(&case.path)
        .arg("--out")
        .arg(&out_dir)
        .arg("--quiet");
    for s in &case.sets {
        cmd.arg("--set").arg(s);
    }
    let out = cmd.output().expect("the binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let name = &case.name;
    assert_eq!(out.status.code(), Some(2), "{name}: exit code\n{stderr}");
    assert!(!stderr.contains("panicked"), "{name}: a panic\n{stderr}");
    assert!(!out_dir.exists(), "{name}: an output directory was created");
    let first = stderr
        .lines()
        .find(|l| l.starts_with("error"))
        .unwrap_or_else(|| panic!("{name}: no error line\n{stderr}"))
        .to_string();
    if case.sets.is_empty() {
        let file = case.file.as_deref().unwrap_or(name);
        let located = match case.at {
            Some((l, c)) => format!("{file}:{l}:{c}: "),
            None => format!("{file}: "),
        };
        assert!(
            first.contains(&located),
            "{name}: lacks {located:?}\n{stderr}"
        );
    } else {
        assert!(
            first.contains("--set "),
            "{name}: the --set is not named\n{stderr}"
        );
        if let Some((_, c)) = case.at {
            // Columns of a --set count characters of the assignment.
            assert!(
                stderr.contains('^'),
                "{name}: no caret under column {c}\n{stderr}"
            );
        }
    }
    if let Some(key) = &case.key {
        assert!(
            first.contains(&format!("key `{key}`")),
            "{name}: lacks key `{key}`\n{stderr}"
        );
    }
    assert!(
        stderr.contains(&case.msg),
        "{name}: lacks {:?}\n{stderr}",
        case.msg
    );
    first
}

#[test]
fn every_broken_scenario_is_refused_with_a_located_message() {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .expect("the corpus")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    let mut cases: Vec<Case> = paths.iter().map(|p| parse_case(p)).collect();

    // Generated: files of many megabytes.
    let scratch = tempfile::tempdir().expect("tempdir");
    let huge = scratch.path().join("900-eleven-megabytes.toml");
    let mut text = String::from("# A scenario file of 11 MiB (comment lines).\n");
    let line = format!("# {}\n", "x".repeat(1022));
    while text.len() < 11 * 1024 * 1024 {
        text.push_str(&line);
    }
    std::fs::write(&huge, &text).expect("write");
    cases.push(Case {
        name: "900-eleven-megabytes.toml".into(),
        path: huge,
        key: None,
        msg: "larger than 10 MiB".into(),
        at: None,
        file: None,
        sets: Vec::new(),
        command: "run".to_string(),
    });
    let big = scratch.path().join("901-eight-megabyte-array.toml");
    let base = corpus_dir().join("../scenarios/minimal.toml");
    let array = vec!["1"; 2_700_000].join(", ");
    std::fs::write(
        &big,
        format!(
            "extends = {:?}\n[demand]\nhour_of_day = [{array}]\n",
            base.display().to_string()
        ),
    )
    .expect("write");
    cases.push(Case {
        name: "901-eight-megabyte-array.toml".into(),
        path: big,
        key: Some("demand.hour_of_day".into()),
        msg: "expected 24 weights (one per hour, 00:00 first), found 2700000".into(),
        at: Some((3, 15)),
        file: None,
        sets: Vec::new(),
        command: "run".to_string(),
    });

    assert!(cases.len() >= 60, "only {} cases", cases.len());
    let mut listing = String::new();
    for case in &cases {
        let first = refuse(case, scratch.path());
        // Show paths relative to the corpus, as a reader would type them.
        let shown = first.replace(&format!("{}/", corpus_dir().display()), "");
        let shown = shown.replace(&format!("{}/", scratch.path().display()), "");
        listing.push_str(&format!("{} -> {}\n", case.name, shown));
    }
    eprintln!("{} broken scenarios refused:\n{listing}", cases.len());
}

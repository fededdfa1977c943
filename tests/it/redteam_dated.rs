//! Red-team pass over the dated values (`[[rate_changes]]`), the dated
//! discharge hours and the care home placement search (`docs/model.md`,
//! "Dated values", "Capacity over time", "Care homes"). Each test was a
//! defect found on 5a3d8b7; the command that showed it is in its comment.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use patientflow::scenario::calendar::Date;
use patientflow::scenario::load;

use crate::common::{baseline, bin, exits_saying, refused_run, text, write_extending};

/// A plan over the shipped baseline, `body` after its `extends` line,
/// written to `dir/name`.
fn plan(dir: &Path, name: &str, body: &str) -> PathBuf {
    write_extending(dir, name, baseline(), &format!("{body}\n"))
}

/// `patientflow run` of 4,000 one-day `[[rate_changes]]`, each day's rate
/// other than the day before, over the baseline's 730 days peaked at
/// 1.14 GB (each of the 730 periods of the run held a copy of the whole
/// change list, and every replication cloned them all; 20,000 changes
/// took 8.4 GB and 31 s). A period keeps its values only.
#[test]
fn a_runs_periods_keep_no_copy_of_the_change_list() {
    let dir = tempfile::tempdir().expect("tempdir");
    // One change a day from the start, each day's rate other than the
    // day before's: a period a day.
    let mut daily = String::new();
    let start = Date::parse("2024-09-28").expect("a date");
    for day in 0..730u32 {
        let date = start.add_days(i64::from(day));
        let _ = writeln!(
            daily,
            "[[rate_changes]]\nfrom = \"{date}\"\nto = \"{date}\"\ndemand.crises_per_day = {}\n",
            200 + day % 7
        );
    }
    let path = plan(dir.path(), "daily.toml", &daily);
    let sc = load(&path, &[]).expect("loads").scenario;
    assert_eq!(sc.rate_changes.len(), 730);
    let periods = patientflow::model::dated::periods(&sc, 730);
    assert!(periods.len() > 700, "{} periods", periods.len());
    let held: usize = periods.iter().map(|(_, s)| s.rate_changes.len()).sum();
    assert_eq!(held, 0, "the periods hold {held} copies of changes");
}

/// `patientflow check PLAN` of a plan writing `care_homes.hospital_first =
/// true` over the baseline (which has `search_at_one_free_bed`) was
/// refused at the plan's key with "remove `hospital_first`", and one
/// writing `search_at_one_free_bed` over a base with `hospital_first` was
/// refused at the BASE file's line: a plan cannot delete a key, so
/// neither could ever be written. A layer writing one key of the pair now
/// drops the other inherited (`docs/scenario-format.md`, "Keys that
/// exclude one another"); both in one file are still refused, saying to
/// write one of the two.
#[test]
fn a_plan_moves_its_base_between_the_care_home_queue_and_the_search() {
    let dir = tempfile::tempdir().expect("tempdir");
    let queue = plan(
        dir.path(),
        "queue.toml",
        "[care_homes]\nhospital_first = true\n",
    );
    let sc = load(&queue, &[])
        .expect("the queue over the search loads")
        .scenario;
    assert!(sc.care_homes.hospital_first);
    assert_eq!(sc.care_homes.search_hours, None);
    // Back again, by a plan of the plan, and by `--set`.
    let search = dir.path().join("search.toml");
    std::fs::write(
        &search,
        "extends = \"queue.toml\"\n[care_homes]\nsearch_at_one_free_bed = \"30d\"\n",
    )
    .expect("write");
    let sc = load(&search, &[])
        .expect("the search over the queue loads")
        .scenario;
    assert_eq!(sc.care_homes.search_hours, Some(30.0 * 24.0));
    let sets = ["care_homes.search_at_one_free_bed=10d".to_string()];
    let sc = load(&queue, &sets)
        .expect("--set the search loads")
        .scenario;
    assert_eq!(sc.care_homes.search_hours, Some(10.0 * 24.0));
    // Through the binary: the plan checks.
    let out = bin().arg("check").arg(&queue).output().expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // Both in one file: refused at the plan's line, saying what to do.
    let both = plan(
        dir.path(),
        "both.toml",
        "[care_homes]\nhospital_first = true\nsearch_at_one_free_bed = \"30d\"\n",
    );
    exits_saying(
        "both keys in one plan",
        &["check", both.to_str().expect("UTF-8")],
        2,
        &[
            "both.toml:3:18",
            "care_homes.hospital_first",
            "write one of the two",
        ],
    );
}

/// `patientflow run BASELINE --set 'rate_changes=[{from="2024-10-01",
/// demand.crises_per_day=1e9}]'` was refused for its size at the
/// baseline's own `demand.crises_per_day` (line 37, showing 218.5), not at
/// the change that made it too large. It is now refused at the change's
/// value, in a `--set` or a file.
#[test]
fn a_run_too_large_for_a_dated_rate_is_refused_at_the_change() {
    refused_run(
        &baseline(),
        &[
            "rate_changes=[{from=\"2024-10-01\", pru.treated_at_home=0.5}, \
             {from=\"2024-10-01\", \"demand.crises_per_day\"=1e9}]",
        ],
        &["key `rate_changes[1].demand.crises_per_day`", "run refused"],
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let big = plan(
        dir.path(),
        "big.toml",
        "[[rate_changes]]\nfrom = \"2025-01-01\"\nto = \"2025-01-02\"\n\
         care_homes.crises_per_resident_year = 1e12\n",
    );
    let stderr = refused_run(
        big.to_str().expect("UTF-8"),
        &[],
        &[
            "big.toml:5:39",
            "key `rate_changes[0].care_homes.crises_per_resident_year`",
        ],
    );
    assert!(!stderr.contains("tower-hamlets-baseline.toml:"), "{stderr}");
}

/// `patientflow run BASELINE --set 'care_homes.capacity_changes=[{from=
/// "2025-01-01", beds=2000000}]'` was refused saying "the most the
/// simulator takes is" then eighteen spaces before the number (a string
/// broken over two lines without its `\`).
#[test]
fn a_care_home_bed_change_above_the_limit_reads_as_one_sentence() {
    refused_run(
        &baseline(),
        &["care_homes.capacity_changes=[{from=\"2025-01-01\", beds=2000000}]"],
        &["2000000 care home beds from 2025-01-01; the most the simulator takes is 1000000 ("],
    );
}

/// A sweep of `pru.treated_at_home` over a base whose `[[rate_changes]]`
/// set it on every day of the window varied nothing (every difference
/// within noise, with no word why): it is refused at the sweep key. A
/// change over part of the window leaves the sweep something to vary.
#[test]
fn a_sweep_of_a_key_dated_on_every_day_of_the_window_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sweep = |name: &str, to: &str| {
        plan(
            dir.path(),
            name,
            &format!(
                "[[rate_changes]]\nfrom = \"2020-01-01\"\n{to}pru.treated_at_home = 0.7\n\n\
                 [sweep]\n\"pru.treated_at_home\" = [0.6, 0.8]\n"
            ),
        )
    };
    let whole = sweep("whole.toml", "");
    let stderr = exits_saying(
        "dated on every day",
        &["sweep", whole.to_str().expect("utf-8"), "--quiet"],
        2,
        &[
            "whole.toml:",
            "pru.treated_at_home",
            "sets `pru.treated_at_home` on every day of the statistics window",
        ],
    );
    assert!(stderr.contains("cannot be swept here"), "{stderr}");
    // Ending before the window's last day (the run below: 2024-09-28 to
    // 2024-10-02, no warm-up): the sweep runs.
    let part = sweep("part.toml", "to = \"2024-09-30\"\n");
    let out = dir.path().join("out");
    let run = bin()
        .args(["sweep", part.to_str().expect("utf-8")])
        .args(["--replications", "2", "--quiet", "--out"])
        .arg(&out)
        .args([
            "--set",
            "scenario.warm_up=0d",
            "--set",
            "scenario.horizon=5d",
        ])
        .output()
        .expect("runs");
    assert!(run.status.success(), "{}", text(&run.stderr));
}

/// `check` said nothing of a size a run refuses (it printed its table
/// for a care home bed change above the limit, where `run` exits 2): it
/// now says a run is refused, naming the key, under its table.
#[test]
fn check_says_what_a_run_would_refuse() {
    let set = "care_homes.capacity_changes=[{from=\"2025-01-01\", beds=2000000}]";
    let baseline = baseline();
    let out = bin()
        .args(["check", &baseline, "--set", set])
        .output()
        .expect("runs");
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(
            "A run is refused before starting (exit 2), at key `care_homes.capacity_changes`"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("the most the simulator takes is 1000000"),
        "{stdout}"
    );
    exits_saying(
        "run of the same",
        &["run", &baseline, "--set", set, "--quiet"],
        2,
        &["run refused before starting"],
    );
}

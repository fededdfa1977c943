//! The care home placement search (`docs/model.md`, "Care homes"): a
//! search ends at rate F / D while F beds are free, does not advance while
//! none is, is refused beside `hospital_first`, and makes the baseline's
//! care home beds a plan that shortens P3 delays.

use std::fs;
use std::path::Path;

use patientflow::experiment::{Progress, run_replications};
use patientflow::model::Prepared;
use patientflow::model::metrics::{Metric, ReplicationResult, Series};
use patientflow::scenario::load;
use patientflow::stats::summarise;

use crate::common::{baseline, bin, root, run_ok, text};

/// The verification base (every service off) with its care homes replaced
/// by `care_homes` (a whole `[care_homes]` table), written to `dir`.
fn scenario(dir: &Path, name: &str, care_homes: &str) -> std::path::PathBuf {
    let base = fs::read_to_string(root().join("scenarios/validation/services-off.toml"))
        .expect("services-off.toml");
    let start = base.find("[care_homes]").expect("a [care_homes] table");
    let end = base[start + 1..]
        .find("\n[")
        .map_or(base.len(), |i| start + 1 + i + 1);
    let text = format!("{}{care_homes}\n{}", &base[..start], &base[end..]);
    let path = dir.join(name);
    fs::write(&path, text).expect("write the scenario");
    path
}

/// Runs the scenario at `path` with `sets` (as `--set` would).
fn run(path: &Path, sets: &[&str]) -> Vec<ReplicationResult> {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let loaded = load(path, &sets).unwrap_or_else(|e| panic!("{e}"));
    let reps: Vec<u32> = (0..loaded.scenario.replications).collect();
    let prepared = Prepared::new(loaded.scenario);
    run_replications(&prepared, &reps, 0, Progress::Hidden).expect("runs")
}

/// Community placements only, at 1 a day, with stays of an hour: a bed is
/// held for so short a time that F is almost always the whole pool.
fn community_only(beds: u32, search: &str) -> String {
    format!(
        r#"[care_homes]
beds = {beds}
initial_residents = 0
stay = {{ dist = "exponential", mean = "1h" }}
community_placements_per_day = 1.0
search_at_one_free_bed = "{search}"
crises_per_resident_year = 0.0
"#
    )
}

#[test]
fn a_search_takes_d_over_the_free_beds() {
    // Each search ends at rate F / D. With B beds and residents held for
    // 1 h at 1 placement a day, E[F] = B - 1/24, so the mean wait is
    // D / (B - 1/24) to well within the tolerance (F is B 96% of the time).
    let dir = tempfile::tempdir().expect("tempdir");
    let settings = [
        "scenario.warm_up=200d",
        "scenario.horizon=2000d",
        "scenario.replications=10",
    ];
    for (beds, search) in [(10u32, "100d"), (5, "100d"), (10, "40d")] {
        let path = scenario(
            dir.path(),
            &format!("search-{beds}-{search}.toml"),
            &community_only(beds, search),
        );
        let results = run(&path, &settings);
        let waits: Vec<f64> = results
            .iter()
            .map(|r| r.metrics[Metric::CareHomeWaitMeanDays])
            .collect();
        let d: f64 = search.trim_end_matches('d').parse().expect("days");
        let theory = d / (f64::from(beds) - 1.0 / 24.0);
        let s = summarise(&waits);
        // Each replication's mean wait is over ~2,000 exponential waits:
        // the replications' spread is the standard error's estimate.
        let se = s.sd / (s.n as f64).sqrt();
        assert!(
            (s.mean - theory).abs() <= 4.0 * se,
            "{beds} beds, D {search}: mean wait {} (se {se}) against D / F = {theory}",
            s.mean
        );
        // And the spread is that of a mean of exponentials: sd of one
        // wait = its mean, so a replication's sd ~ theory / sqrt(n grants).
        let grants = 2000.0 * 1.0;
        assert!(
            s.sd < 2.0 * theory / f64::sqrt(grants),
            "{beds} beds: replications' sd {} too wide for exponential waits",
            s.sd
        );
    }
}

#[test]
fn no_search_advances_while_no_bed_is_free() {
    // No beds until day 50, then 5: nobody is placed before day 50, and
    // placements follow soon after.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut homes = community_only(0, "10d");
    homes.push_str("capacity_changes = [{ from = \"2025-05-21\", beds = 5 }]\n");
    let path = scenario(dir.path(), "closed.toml", &homes);
    let text = fs::read_to_string(&path).expect("read back");
    assert!(
        text.contains("start_date = \"2025-04-01\""),
        "the base starts 2025-04-01"
    );
    let sets = ["scenario.horizon=100d", "scenario.replications=5"];
    for r in run(&path, &sets) {
        let residents = &r.daily[Series::CareHomeResidents.index()];
        // Midnight i is day i; the change is at 00:00 of day 50.
        assert!(
            residents[..=50].iter().all(|&n| n == 0.0),
            "a resident before the first bed: {:?}",
            &residents[..=50]
        );
        // ~50 searches, each ending at rate 5 / 10 d once beds are there:
        // most are placed within days (held for an hour each, so count
        // the placements through the waits instead of the residents).
        assert!(
            r.metrics[Metric::CareHomeWaitMeanDays] > 10.0,
            "the waits include the closed days"
        );
    }
}

#[test]
fn the_search_is_refused_beside_hospital_first_and_when_not_positive() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = [
        (
            "hospital_first = true\nsearch_at_one_free_bed = \"100d\"",
            "care_homes.hospital_first",
            "has no meaning with `search_at_one_free_bed`",
        ),
        (
            "search_at_one_free_bed = \"0d\"",
            "care_homes.search_at_one_free_bed",
            "expected a duration above 0",
        ),
        (
            "",
            "care_homes.hospital_first",
            "missing key `hospital_first` (or `search_at_one_free_bed`",
        ),
    ];
    for (i, (keys, key, message)) in cases.iter().enumerate() {
        let homes = format!(
            "[care_homes]\nbeds = 10\ninitial_residents = 0\nstay = {{ dist = \"exponential\", mean = \"100d\" }}\ncommunity_placements_per_day = 0.1\n{keys}\ncrises_per_resident_year = 0.0\n"
        );
        let path = scenario(dir.path(), &format!("bad-{i}.toml"), &homes);
        let out = bin().args(["check"]).arg(&path).output().expect("runs");
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "case {i}: {err}");
        assert!(err.contains(&format!("key `{key}`")), "case {i}: {err}");
        assert!(err.contains(message), "case {i}: {err}");
        // Located at a line and column of the file.
        assert!(
            err.contains(&format!("bad-{i}.toml:")),
            "case {i}: no location: {err}"
        );
    }
}

#[test]
fn more_care_home_beds_shorten_the_baselines_p3_delays() {
    // The baseline's care homes run ~88% full, so a search takes ~20 days;
    // thirty more beds (~70 free instead of ~40) shorten it, and with it
    // the P3 patients' delayed transfers. Paired (common random numbers).
    let dir = tempfile::tempdir().expect("tempdir");
    run_ok(
        &[
            "compare",
            &baseline(),
            &root()
                .join("scenarios/plans/thirty-more-care-home-beds.toml")
                .display()
                .to_string(),
            "--replications",
            "10",
        ],
        dir.path(),
    );
    let csv = fs::read_to_string(dir.path().join("comparison.csv")).expect("comparison.csv");
    let header: Vec<&str> = csv.lines().next().expect("header").split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let (metric, hi) = (col("metric"), col("diff_ci95_high"));
    for name in ["delayed_bed_days_p3", "care_home_wait_mean_days"] {
        let row: Vec<&str> = csv
            .lines()
            .map(|l| l.split(',').collect::<Vec<_>>())
            .find(|cells| cells[metric] == name)
            .unwrap_or_else(|| panic!("no row {name}"));
        let upper: f64 = row[hi].parse().expect("a number");
        assert!(
            upper < 0.0,
            "{name}: the plan's effect is not a fall: {row:?}"
        );
    }
}

#[test]
fn check_gives_the_search_at_the_beds_left_free() {
    // 10 beds, 1 placement a day held for an hour: 10 - 1/24 beds free,
    // so a search of 100 days at one free bed takes 100 / 9.958 = 10.0 days.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = scenario(dir.path(), "check.toml", &community_only(10, "100d"));
    let out = bin().arg("check").arg(&path).output().expect("runs");
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        stdout.contains("a search takes about 10.0 days on average"),
        "{stdout}"
    );
    // Without the search (the queue rule), no such line.
    let queue = scenario(
        dir.path(),
        "queue.toml",
        &community_only(10, "100d")
            .replace("search_at_one_free_bed = \"100d\"", "hospital_first = true"),
    );
    let out = bin().arg("check").arg(&queue).output().expect("runs");
    assert!(!text(&out.stdout).contains("placement search"));
}

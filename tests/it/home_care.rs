//! Home care packages for P1 patients (`docs/model.md`, "Home care"):
//! queueing theory for both kinds of demand, the starting packages, the
//! follow-up to community nursing, and the flow balance.

use std::path::{Path, PathBuf};

use patientflow::experiment::{Progress, run_replications};
use patientflow::model::Prepared;
use patientflow::model::metrics::{Metric, ReplicationResult, Series};
use patientflow::queueing::mmc_mean_queue;
use patientflow::scenario::load;
use patientflow::stats::summarise;

use crate::common::{bin, exits_saying, report_dir, root, succeed, summary_mean, write_extending};

/// Writes `body` after an `extends` of the verification base and runs it.
/// `dir/name`: services-off.toml extended by `body`.
fn write_scenario(dir: &Path, name: &str, body: &str) -> PathBuf {
    let base = root().join("scenarios/validation/services-off.toml");
    write_extending(dir, name, base, body)
}

fn run(dir: &Path, name: &str, body: &str) -> Vec<ReplicationResult> {
    let path = write_scenario(dir, name, body);
    let loaded = load(&path, &[]).expect("the scenario loads");
    let reps: Vec<u32> = (0..loaded.scenario.replications).collect();
    let prepared = Prepared::new(loaded.scenario);
    run_replications(&prepared, &reps, 0, Progress::Hidden).expect("runs")
}

fn values(results: &[ReplicationResult], metric: Metric) -> Vec<f64> {
    results.iter().map(|r| r.metrics[metric]).collect()
}

/// `value` within 4 standard errors of the replications' mean.
fn assert_near(what: &str, values: &[f64], theory: f64) {
    let s = summarise(values);
    let se = s.sd / (s.n as f64).sqrt();
    assert!(
        (s.mean - theory).abs() <= 4.0 * se,
        "{what}: simulated {} (se {se}) against theory {theory}",
        s.mean
    );
}

#[test]
fn starts_from_the_community_queue_as_an_mmc() {
    // Only community starts, Poisson at 3.2 a day, exponential packages of
    // 1 day, 4 packages: M/M/4 with a = 3.2. Relaxation ~89 d; 500 d warm-up.
    let dir = tempfile::tempdir().expect("tempdir");
    let results = run(
        dir.path(),
        "mmc.toml",
        r#"
[scenario]
name = "home care M/M/4"
warm_up = "500d"
horizon = "3000d"
replications = 30

[home_care]
packages = 4
package = { dist = "exponential", mean = "1d" }
community_starts_per_day = 3.2
"#,
    );
    let (c, a, lambda) = (4, 3.2, 3.2);
    let lq = mmc_mean_queue(c, a);
    assert_near(
        "mean wait Wq = Lq / lambda (days)",
        &values(&results, Metric::HomeCareWaitMeanDays),
        lq / lambda,
    );
    assert_near(
        "utilisation a / c",
        &values(&results, Metric::HomeCareUtilisation),
        a / f64::from(c),
    );
    // Nobody is in hospital: no P1 delays.
    assert!(
        values(&results, Metric::DelayedBedDaysP1)
            .iter()
            .all(|&v| v == 0.0)
    );
}

/// Every crisis (Poisson, 0.5 a day) is admitted, stays a fixed day and
/// leaves on P1 with no process delay and discharge hours always open: the
/// requests for a package are Poisson at 0.5 a day.
const EVERY_CRISIS_ADMITTED_ON_P1: &str = r#"
[demand]
crises_per_day = 0.5
frail_share = 0.0

[ed]
frail_admit_share = 1.0
other_admit_share = 1.0

[acute]
beds = 1000

[pathways]
frail = { p0 = 0.0, p1 = 1.0, p2 = 0.0, p3 = 0.0 }
other = { p0 = 0.0, p1 = 1.0, p2 = 0.0, p3 = 0.0 }
"#;

#[test]
fn p1_patients_wait_for_a_package_as_an_md1() {
    // Every crisis is admitted (Poisson, 0.5 a day), stays a fixed day and
    // leaves on P1 with no process delay and discharge hours always open: the
    // requests for a package are Poisson at 0.5 a day. One package of a fixed
    // day: M/D/1, rho = 0.5, Wq = rho / (2 mu (1 - rho)) = 0.5 d, and the
    // P1 patients in a capacity wait average lambda Wq = 0.25.
    let dir = tempfile::tempdir().expect("tempdir");
    let results = run(
        dir.path(),
        "md1.toml",
        &format!(
            r#"
[scenario]
name = "home care M/D/1 from hospital"
warm_up = "100d"
horizon = "4000d"
replications = 30
{EVERY_CRISIS_ADMITTED_ON_P1}
[home_care]
packages = 1
package = {{ dist = "fixed", value = "1d" }}
"#
        ),
    );
    let days = 4000.0;
    assert_near(
        "mean wait for a package (days)",
        &values(&results, Metric::HomeCareWaitMeanDays),
        0.5,
    );
    let per_day: Vec<f64> = values(&results, Metric::DelayedBedDaysP1)
        .iter()
        .map(|v| v / days)
        .collect();
    assert_near("P1 patients in a capacity wait", &per_day, 0.25);
    // The waits are P1 capacity waits, not community nursing ones: no
    // community referral is made (community_follow_up defaults to 0).
    for r in &results {
        assert_eq!(r.metrics[Metric::CommunityWaitMeanDaysDischarge], 0.0);
        assert_eq!(r.metrics[Metric::DelayedBedDaysP2], 0.0);
        assert_eq!(r.metrics[Metric::DelayedBedDaysP3], 0.0);
        assert!(r.metrics[Metric::DelayedPatientsP1] > 0.0);
    }
}

#[test]
fn follow_up_refers_a_share_to_community_nursing_from_home() {
    // As above with plenty of packages and every P1 patient followed up by
    // community nursing with 1 place of a fixed day: the referrals are made
    // at leaving hospital, from home, so no P1 patient waits in hospital for
    // community nursing, and the caseload holds about 0.5 x 1 erlang.
    let dir = tempfile::tempdir().expect("tempdir");
    let results = run(
        dir.path(),
        "follow.toml",
        &format!(
            r#"
[scenario]
name = "home care follow-up"
warm_up = "50d"
horizon = "1000d"
replications = 10

{EVERY_CRISIS_ADMITTED_ON_P1}
[community]
teams = 1
caseload_per_team = 1

[home_care]
packages = 100
package = {{ dist = "fixed", value = "1d" }}
community_follow_up = 1.0
"#
        ),
    );
    for r in &results {
        assert_eq!(
            r.metrics[Metric::DelayedBedDaysP1],
            0.0,
            "packages are plentiful"
        );
        assert!(r.metrics[Metric::CommunityWaitMeanDaysDischarge] > 0.0);
    }
    // One place, fixed 1-day episodes, Poisson referrals at 0.5 a day: M/D/1
    // with rho = 0.5, so the place is held half the time.
    assert_near(
        "community utilisation",
        &values(&results, Metric::CommunityUtilisation),
        0.5,
    );
}

#[test]
fn starting_packages_are_running_at_time_zero_whatever_the_plan() {
    let dir = tempfile::tempdir().expect("tempdir");
    for packages in [300, 100] {
        let results = run(
            dir.path(),
            "start.toml",
            &format!(
                r#"
[scenario]
name = "home care start"
horizon = "2d"
replications = 4

[home_care]
packages = {packages}
package = {{ dist = "gamma", mean = "30d", sd = "20d" }}
initial_packages = 250
"#
            ),
        );
        for r in &results {
            // Midnight 0 is time zero, after the starting packages began.
            assert_eq!(r.daily[Series::HomeCarePackages.index()][0], 250.0);
        }
    }
}

#[test]
fn check_lists_home_care_with_its_offered_load() {
    let dir = tempfile::tempdir().expect("tempdir");
    let body = "[home_care]\npackages = 4\npackage = { dist = \"exponential\", mean = \"1d\" }\ncommunity_starts_per_day = 3.2\n";
    let path = write_scenario(dir.path(), "check.toml", body);
    let out = bin().arg("check").arg(&path).output().expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.contains("home care"))
        .unwrap_or_else(|| panic!("no home care line in:\n{text}"));
    assert!(line.contains("3.2"), "offered load 3.2 erlangs: {line}");
}

#[test]
fn a_package_without_its_duration_is_refused_at_the_table() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write_scenario(dir.path(), "bad.toml", "[home_care]\npackages = 4\n");
    let args = ["check", path.to_str().expect("utf-8")];
    exits_saying("no package duration", &args, 2, &["bad.toml:", "package"]);
}

#[test]
fn packages_change_on_their_dates() {
    // Far more starts than packages, so every package is always held: the
    // midnight count is the count of packages in force that day.
    let dir = tempfile::tempdir().expect("tempdir");
    let results = run(
        dir.path(),
        "dated.toml",
        r#"
[scenario]
name = "home care dated packages"
horizon = "20d"
replications = 2

[home_care]
packages = 5
capacity_changes = [{ from = "2025-04-11", to = "2025-04-15", packages = 10 }]
package = { dist = "fixed", value = "1d" }
community_starts_per_day = 100.0
"#,
    );
    for r in &results {
        let held = &r.daily[Series::HomeCarePackages.index()];
        // Day 0 is 2025-04-01 (the base's start date) at 00:00, before the
        // first start; 2025-04-11 is day 10, and 2025-04-15 the last day of
        // the change.
        for (day, &n) in held.iter().enumerate() {
            let expected = match day {
                0 => 0.0,
                10..=14 => 10.0,
                _ => 5.0,
            };
            assert_eq!(n, expected, "day {day}: {held:?}");
        }
    }
}

#[test]
fn starts_from_the_community_grow_with_their_multipliers() {
    // Plenty of packages of a fixed day: the packages held at midnight are
    // the starts of the day before, Poisson with the grown rate (10 a day in
    // the first growth year, 20 in the second).
    let dir = tempfile::tempdir().expect("tempdir");
    let results = run(
        dir.path(),
        "growth.toml",
        r#"
[scenario]
name = "home care growth"
horizon = "730d"
replications = 4

[growth]
home_care_starts = [1.0, 2.0]

[home_care]
packages = 1000
package = { dist = "fixed", value = "1d" }
community_starts_per_day = 10.0
"#,
    );
    for r in &results {
        let held = &r.daily[Series::HomeCarePackages.index()];
        // Midnights 1 to 365 fall in the first growth year (365.25 days),
        // 367 to 729 in the second.
        let mean = |days: std::ops::Range<usize>| {
            let n = days.len() as f64;
            (held[days].iter().sum::<f64>() / n, n)
        };
        for (days, rate) in [(1..366, 10.0), (367..730, 20.0)] {
            let (m, n) = mean(days);
            // Poisson counts: standard error sqrt(rate / n).
            let se = (rate / n).sqrt();
            assert!((m - rate).abs() <= 4.0 * se, "{m} against {rate} (se {se})");
        }
    }
}

#[test]
fn a_utilisation_above_one_is_written_and_read_back() {
    // Twenty packages of 100 days running from the start, then the packages
    // cut to 5 from day 2: a fall takes nothing from anyone, so nearly 20
    // are held (a few end: their time left is uniform over 100 days)
    // against 6.5 on average, a utilisation near 3. The
    // run's outputs must read back (`report DIR`), as for a PRU whose
    // visits run past closing time.
    let dir = tempfile::tempdir().expect("tempdir");
    let body = "[scenario]\nhorizon = \"10d\"\nreplications = 2\n[home_care]\n\
                packages = 20\ninitial_packages = 20\n\
                capacity_changes = [{ from = \"2025-04-02\", packages = 5 }]\n\
                package = { dist = \"fixed\", value = \"100d\" }\n";
    let path = write_scenario(dir.path(), "over.toml", body);
    let out = dir.path().join("out");
    succeed(
        bin()
            .arg("run")
            .arg(&path)
            .args(["--quiet", "--out"])
            .arg(&out),
    );
    let mean = summary_mean(&out, "home_care_utilisation");
    assert!(mean > 2.0, "home_care_utilisation mean {mean}");
    report_dir("rebuilt", &out, 0, &[]);
}

//! Capacity plans: paired comparisons, sweeps, replication control,
//! warm-up analysis, shards and merge (issue 4).
//!
//! Horizons are shortened with `--set` wherever precision is not the point,
//! so the whole file runs in seconds.

use std::path::{Path, PathBuf};

use patientflow::experiment::Progress;
use patientflow::experiment::run_replications;
use patientflow::model::Prepared;
use patientflow::model::metrics::{Metric, Series};
use patientflow::scenario::load;
use patientflow::stats::{independent_difference, paired_differences};

use crate::common::{baseline, root, run, write_extending};

fn plan(name: &str) -> String {
    root()
        .join("scenarios/plans")
        .join(name)
        .display()
        .to_string()
}

/// A short window: enough for every mechanism, cheap to run.
const SHORT: [&str; 4] = [
    "--set",
    "scenario.warm_up=30d",
    "--set",
    "scenario.horizon=60d",
];

fn ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `args` over the [`SHORT`] window, `--quiet --out out`, which must
/// succeed; its stdout.
fn short(args: &[&str], out: &Path) -> String {
    ok(&[args, &SHORT, &["--quiet", "--out", s(out)]].concat())
}

/// Runs a command expected to fail as a user mistake; returns stderr.
fn refused(args: &[&str]) -> String {
    let out = run(args);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{args:?}: expected exit code 2, stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Every CSV file under `dir`, by path relative to it, sorted.
fn csv_files(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("readable") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "csv") {
                let rel = p.strip_prefix(dir).expect("below").display().to_string();
                out.push((rel, read(&p)));
            }
        }
    }
    out.sort();
    out
}

fn assert_same_csvs(a: &Path, b: &Path) {
    let (x, y) = (csv_files(a), csv_files(b));
    let names = |v: &[(String, String)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&x), names(&y), "different CSV files");
    for ((name, t1), (_, t2)) in x.iter().zip(&y) {
        assert!(
            t1 == t2,
            "{name} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

/// Common random numbers: the paired CI of the admissions a second PRU car
/// avoids is far narrower than the CI from two independent runs.
///
/// Both intervals come from the same n = 30 replications of each scenario;
/// the independent one pairs the baseline with the plan run on another
/// seed (Welch's interval for two independent means), the paired one with
/// the plan on the same seed. With independent runs the variance of the
/// difference is var(a)/n + var(b)/n; pairing removes the covariance, here
/// almost all of it.
#[test]
fn paired_ci_is_much_narrower_than_independent_seeds() {
    let sets = |seed: u64| {
        vec![
            "scenario.warm_up=30d".to_string(),
            "scenario.horizon=180d".to_string(),
            "scenario.replications=30".to_string(),
            format!("scenario.seed={seed}"),
        ]
    };
    let run_admissions = |path: &str, seed: u64| -> Vec<f64> {
        let loaded = load(Path::new(path), &sets(seed)).expect("valid scenario");
        let prepared = Prepared::new(loaded.scenario);
        let reps: Vec<u32> = (0..30).collect();
        run_replications(&prepared, &reps, 0, Progress::Hidden)
            .expect("threads start")
            .iter()
            .map(|r| r.metrics[Metric::Admissions])
            .collect()
    };
    let base = run_admissions(&baseline(), 20250401);
    let same_seed = run_admissions(&plan("second-pru-car.toml"), 20250401);
    let other_seed = run_admissions(&plan("second-pru-car.toml"), 777);

    let paired = paired_differences(&base, &same_seed);
    let paired_half = (paired.ci95_high - paired.ci95_low) / 2.0;
    let independent = independent_difference(&base, &other_seed);
    assert_eq!(paired.n, 30);
    let vrf = independent.variance / (paired.sd * paired.sd / paired.n as f64);
    println!(
        "admissions avoided by a second PRU car (180 days, n = 30): paired {:.1} ± {:.1}, \
         independent seeds {:.1} ± {:.1}; variance reduction factor {vrf:.1}",
        -paired.mean, paired_half, -independent.mean, independent.half_width
    );
    // Both estimate the same effect (a few hundred admissions avoided).
    assert!(paired.ci95_high < 0.0, "the plan avoids admissions");
    assert!(
        (independent.mean - paired.mean).abs() < 4.0 * independent.variance.sqrt(),
        "the two estimates disagree"
    );
    assert!(
        independent.half_width >= 3.0 * paired_half,
        "paired half-width {paired_half} is not 3x narrower than independent {}",
        independent.half_width
    );
    assert!(vrf >= 9.0, "variance reduction factor {vrf}");
}

#[test]
fn compare_writes_paired_differences_and_every_scenario() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("cmp");
    let (b, p) = (baseline(), plan("second-pru-car.toml"));
    let stdout = short(&["compare", &b, &p, "--replications", "4"], &out);
    assert!(stdout.contains("admissions avoided"), "{stdout}");
    assert!(stdout.contains("delayed bed days saved"));
    let csv = read(&out.join("comparison.csv"));
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("plan,metric,unit,baseline_mean,plan_mean,diff_mean,diff_ci95_low,diff_ci95_high,n")
    );
    assert_eq!(lines.count(), Metric::ALL.len());
    let row: Vec<&str> = csv
        .lines()
        .find(|l| l.starts_with("second-pru-car,admissions,"))
        .expect("admissions row")
        .split(',')
        .collect();
    let num = |i: usize| row[i].parse::<f64>().expect("a number");
    // diff = plan - baseline, of the means as of the pairs.
    assert!((num(4) - num(3) - num(5)).abs() < 1e-6);
    assert!(num(5) < 0.0 && num(6) <= num(5) && num(5) <= num(7));
    for dir in ["tower-hamlets-baseline", "second-pru-car"] {
        assert!(out.join(dir).join("summary.csv").is_file(), "{dir}");
    }
}

fn write_sweep(dir: &Path, body: &str) -> PathBuf {
    write_extending(dir, "sweep.toml", baseline(), &format!("\n[sweep]\n{body}"))
}

#[test]
fn sweep_produces_every_combination() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = write_sweep(
        tmp.path(),
        "\"pru.cars\" = [1, 2]\n\"community.teams\" = [16, 18, 20]\n",
    );
    let out = tmp.path().join("out");
    short(&["sweep", s(&file), "--replications", "2"], &out);
    let csv = read(&out.join("sweep.csv"));
    let mut lines = csv.lines();
    let header = lines.next().expect("header");
    // Swept keys (sorted) come before `metric`.
    assert!(
        header.starts_with("plan,community.teams,pru.cars,metric,unit,"),
        "{header}"
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 6 * Metric::ALL.len());
    for teams in ["16", "18", "20"] {
        for cars in ["1", "2"] {
            let n = rows
                .iter()
                .filter(|r| r[1] == teams && r[2] == cars)
                .count();
            assert_eq!(n, Metric::ALL.len(), "teams {teams} cars {cars}");
            let dir = out.join(format!("community.teams={teams}+pru.cars={cars}"));
            assert!(dir.join("run.json").is_file(), "{}", dir.display());
        }
    }
    // The combination equal to the baseline differs from it by nothing.
    let same = rows
        .iter()
        .find(|r| r[1] == "18" && r[2] == "1" && r[3] == "admissions")
        .expect("row");
    assert_eq!(same[7], "0");
    assert!(out.join("baseline/summary.csv").is_file());
}

#[test]
fn sweep_mistakes_are_located() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = write_sweep(tmp.path(), "\"pru.carz\" = [1, 2]\n");
    let err = refused(&["sweep", s(&file), "--quiet"]);
    assert!(
        err.contains("sweep.toml:4:") && err.contains("pru.carz"),
        "{err}"
    );
    let file = write_sweep(tmp.path(), "\"pru.cars\" = [1, -2]\n");
    let err = refused(&["sweep", s(&file), "--quiet"]);
    assert!(
        err.contains("sweep.toml:4:") && err.contains("pru.cars"),
        "{err}"
    );
    let file = write_sweep(tmp.path(), "\"pru.cars\" = 2\n");
    let err = refused(&["sweep", s(&file), "--quiet"]);
    assert!(err.contains("expected an array"), "{err}");
    let file = write_sweep(tmp.path(), "\"scenario.seed\" = [1, 2]\n");
    refused(&["sweep", s(&file), "--quiet"]);
}

#[test]
fn thread_count_does_not_change_compare_or_sweep() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let sweep = write_sweep(tmp.path(), "\"rehab.beds\" = [30, 40]\n");
    let (b, p) = (baseline(), plan("four-more-community-teams.toml"));
    for threads in ["1", "2"] {
        let cmp = tmp.path().join(format!("cmp{threads}"));
        let threaded = ["--replications", "3", "--threads", threads];
        short(&[&["compare", &b, &p][..], &threaded].concat(), &cmp);
        let sw = tmp.path().join(format!("sweep{threads}"));
        short(&[&["sweep", s(&sweep)][..], &threaded].concat(), &sw);
    }
    assert_same_csvs(&tmp.path().join("cmp1"), &tmp.path().join("cmp2"));
    assert_same_csvs(&tmp.path().join("sweep1"), &tmp.path().join("sweep2"));
}

#[test]
fn shards_merged_equal_the_single_run_byte_for_byte() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let t = tmp.path();
    let b = baseline();
    let p = plan("second-pru-car.toml");
    // A run, and a comparison, each whole and in two shards.
    for (name, cmd) in [
        ("run", vec!["run", b.as_str()]),
        ("cmp", vec!["compare", b.as_str(), p.as_str()]),
    ] {
        let whole = t.join(format!("{name}-whole"));
        short(&[&cmd[..], &["--replications", "5"]].concat(), &whole);
        let mut shards = Vec::new();
        for k in ["0/2", "1/2"] {
            let dir = t.join(format!("{name}-shard{}", &k[..1]));
            let sharded = ["--replications", "5", "--shard", k];
            short(&[&cmd[..], &sharded].concat(), &dir);
            shards.push(dir);
        }
        let merged = t.join(format!("{name}-merged"));
        ok(&["merge", s(&shards[0]), s(&shards[1]), "--out", s(&merged)]);
        assert_same_csvs(&whole, &merged);
        if name == "cmp" {
            // merge writes the comparison's report; a shard has none (it
            // holds no statistics to report).
            assert!(merged.join("report.html").is_file());
            assert!(
                merged
                    .join("charts/forest-admissions-avoided.svg")
                    .is_file()
            );
            assert!(!shards[0].join("report.html").exists());
        }
        // Shard order on the command line does not matter either.
        let reversed = t.join(format!("{name}-reversed"));
        ok(&["merge", s(&shards[1]), s(&shards[0]), "--out", s(&reversed)]);
        assert_same_csvs(&whole, &reversed);
    }
}

#[test]
fn merge_refuses_what_does_not_add_up() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let t = tmp.path();
    let b = baseline();
    let shard = |k: &str, seed: &str, dir: &Path| {
        let sharded = ["--replications", "4", "--seed", seed, "--shard", k];
        short(&[&["run", b.as_str()][..], &sharded].concat(), dir);
    };
    let (s0, s1, other) = (t.join("s0"), t.join("s1"), t.join("other"));
    shard("0/2", "1", &s0);
    shard("1/2", "1", &s1);
    shard("1/2", "2", &other);
    let out = t.join("merged");
    let err = refused(&["merge", s(&s0), "--out", s(&out)]);
    assert!(err.contains("missing: 1, 3"), "{err}");
    let err = refused(&["merge", s(&s0), s(&s1), s(&s0), "--out", s(&out)]);
    assert!(err.contains("replication 0 is in both"), "{err}");
    let err = refused(&["merge", s(&s0), s(&other), "--out", s(&out)]);
    assert!(err.contains("seed 1 against 2"), "{err}");
    assert!(!out.exists(), "nothing is written on a refusal");
    // A run that is not a shard is not merged.
    let whole = t.join("whole");
    short(&["run", b.as_str(), "--replications", "2"], &whole);
    let err = refused(&["merge", s(&whole), "--out", s(&out)]);
    assert!(err.contains("not a shard"), "{err}");
}

/// A precision run stops with every checked CI within the target, and its
/// outputs are those of a fixed run with the same number of replications.
#[test]
fn precision_run_stops_within_target_and_equals_the_fixed_run() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let b = baseline();
    let prec = tmp.path().join("prec");
    let args = [
        "run",
        b.as_str(),
        "--precision",
        "0.01",
        "--precision-metric",
        "admissions",
        "--precision-metric",
        "bed_occupancy_mean",
        "--max-replications",
        "80",
        "--batch",
        "5",
    ];
    let stdout = short(&args, &prec);
    assert!(stdout.contains("reached the precision"), "{stdout}");
    let json: serde_json::Value =
        serde_json::from_str(&read(&prec.join("run.json"))).expect("json");
    let n = json["precision"]["replications_used"].as_u64().expect("n");
    assert_eq!(json["replications"].as_u64(), Some(n));
    assert!((3..80).contains(&n), "n = {n}");
    // Every checked CI in summary.csv is within 1% of its mean.
    let summary = read(&prec.join("summary.csv"));
    for metric in ["admissions", "bed_occupancy_mean"] {
        let cells: Vec<f64> = summary
            .lines()
            .find(|l| l.starts_with(&format!("{metric},")))
            .expect("row")
            .split(',')
            .skip(2)
            .map(|c| c.parse().unwrap_or(f64::NAN))
            .collect();
        let (mean, lo, hi) = (cells[0], cells[2], cells[3]);
        assert!(
            (hi - lo) / 2.0 <= 0.01 * mean,
            "{metric}: {lo}..{hi} around {mean}"
        );
    }
    let fixed = tmp.path().join("fixed");
    let n_text = n.to_string();
    short(&["run", b.as_str(), "--replications", &n_text], &fixed);
    assert_same_csvs(&prec, &fixed);
    // Precision decides the number of replications: not with --shard.
    refused(&["run", b.as_str(), "--precision", "0.05", "--shard", "0/2"]);
}

#[test]
fn warmup_writes_the_series_and_a_suggestion() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("wu");
    let stdout = ok(&[
        "warmup",
        &baseline(),
        "--days",
        "200",
        "--replications",
        "4",
        "--quiet",
        "--out",
        s(&out),
    ]);
    assert!(stdout.contains("Suggested warm-up: at least"), "{stdout}");
    let csv = read(&out.join("warmup.csv"));
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("day,date,series,mean,moving_average"));
    assert_eq!(lines.count(), 200 * Series::ALL.len());
    // Day 0 starts empty: no one in an acute bed at the first midnight.
    assert!(csv.contains("\n0,2024-09-28,midnight_census,0,0\n"));
}

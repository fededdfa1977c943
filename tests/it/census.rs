//! Starting from a census (`docs/model.md`, "Starting state"): remaining
//! durations against theory, a run started at the equilibrium against a
//! long warm-up, common random numbers for a plan from a census, the
//! census CSV's errors, and starting patients really in their places at
//! time zero.

use std::fs;
use std::path::Path;

use patientflow::engine::{StreamKey, StreamRng};
use patientflow::experiment::{Progress, run_replications};
use patientflow::model::Prepared;
use patientflow::model::metrics::{Metric, ReplicationResult, Series};
use patientflow::scenario::dist::{Dist, DistSpec};
use patientflow::scenario::load;
use statrs::distribution::{ContinuousCDF, Normal};

use crate::common::{bin, root, write_extending};

const D: f64 = 24.0;

/// Mean and standard error of `n` draws, fixed seed.
fn mean_se(n: usize, mut f: impl FnMut(&mut StreamRng) -> f64) -> (f64, f64) {
    let mut rng = StreamRng::new(StreamKey::new(20261201, 0, 11, 0));
    let xs: Vec<f64> = (0..n).map(|_| f(&mut rng)).collect();
    let m = xs.iter().sum::<f64>() / n as f64;
    let v = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n as f64 - 1.0);
    (m, (v / n as f64).sqrt())
}

#[test]
fn remaining_stay_given_days_so_far_is_the_lognormal_residual_mean() {
    // acute.los.frail of the baseline: lognormal, mean 10.5 d, sd 12 d.
    let (mean, sd) = (10.5 * D, 12.0 * D);
    let los = Dist::new(DistSpec::LogNormal { mean, sd }).expect("valid");
    let s2 = (1.0 + sd * sd / (mean * mean)).ln();
    let (mu, s) = (mean.ln() - s2 / 2.0, s2.sqrt());
    let n = Normal::standard();
    for days in [0.5, 3.0, 10.0, 30.0] {
        let e: f64 = days * D;
        // E[S - e | S > e] = e^(mu + s^2/2) Phi((mu + s^2 - ln e)/s) / Phi((mu - ln e)/s) - e
        let theory =
            (mu + s2 / 2.0).exp() * n.cdf((mu + s2 - e.ln()) / s) / n.cdf((mu - e.ln()) / s) - e;
        let (m, se) = mean_se(200_000, |r| los.sample_remaining(e, r));
        assert!(
            (m - theory).abs() <= 4.0 * se,
            "{days} days so far: {m} h (SE {se}) against {theory} h"
        );
        // A whole new stay would be the wrong answer, and is told apart.
        assert!(
            (mean - theory).abs() > 10.0 * se,
            "{days}: the test has power"
        );
    }
}

#[test]
fn remaining_stay_without_days_so_far_is_the_equilibrium_residual_mean() {
    let specs = [
        DistSpec::LogNormal {
            mean: 10.5 * D,
            sd: 12.0 * D,
        },
        DistSpec::Gamma {
            mean: 21.7 * D,
            sd: 10.0 * D,
        },
        DistSpec::Exponential { mean: 790.0 * D },
        DistSpec::Fixed { value: 5.0 * D },
    ];
    for spec in specs {
        let dist = Dist::new(spec.clone()).expect("valid");
        let (m1, sd) = match spec {
            DistSpec::LogNormal { mean, sd } | DistSpec::Gamma { mean, sd } => (mean, sd),
            DistSpec::Exponential { mean } => (mean, mean),
            DistSpec::Fixed { value } => (value, 0.0),
            _ => unreachable!(),
        };
        // E[S^2] / (2 E[S])
        let theory = (sd * sd + m1 * m1) / (2.0 * m1);
        let (m, se) = mean_se(200_000, |r| dist.sample_equilibrium_remaining(r));
        assert!(
            (m - theory).abs() <= 4.0 * se + 1e-9 * theory,
            "{spec:?}: {m} (SE {se}) against {theory}"
        );
    }
}

/// The replications of `path` with `sets`, through the library.
fn replications(path: &Path, sets: &[&str], n: u32) -> Vec<ReplicationResult> {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let loaded = load(path, &sets).expect("the scenario loads");
    let prepared = Prepared::new(loaded.scenario);
    let reps: Vec<u32> = (0..n).collect();
    run_replications(&prepared, &reps, 0, Progress::Hidden).expect("runs")
}

fn mean_sd(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    let v = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
    (m, v.sqrt())
}

const HEADLINES: [Metric; 6] = [
    Metric::Admissions,
    Metric::DelayedBedDays,
    Metric::BedWaitsOver12h,
    Metric::BedWaitsOver4h,
    Metric::BedOccupancyMean,
    Metric::CommunityWaitingMean,
];

#[test]
fn a_start_at_the_equilibrium_matches_a_long_warm_up() {
    // The same window (1 December 2026 to 31 March 2027, the same calendar
    // and so the same seasonal demand), reached two ways: from the counts
    // of winter-from-today.toml (near the equilibrium means) with no
    // warm-up, and from empty with a year of warm-up. Different seeds, so
    // the two runs are independent: each headline's window means must agree
    // within 3.5 standard errors of their difference. Without readmissions:
    // a starting state holds no readmissions pending from patients who left
    // before today (docs/model.md, "Starting state"), about 1% of the
    // winter's admissions, a difference this test would rightly find. The
    // counts are this scenario's equilibrium without readmissions (from the
    // warm-up run's first midnight: 423 in acute beds, 33 of them medically
    // fit, 29 rehab beds, 830 community places held, nobody waiting).
    let winter = root().join("scenarios/winter-from-today.toml");
    let n = 40;
    let no_readmissions = ["readmission.p0=0", "readmission.p1=0", "readmission.p2=0"];
    let census = replications(
        &winter,
        &[
            &[
                "scenario.seed=1",
                "start.acute_frail=170",
                "start.acute_other=220",
                "start.fit_p0=15",
                "start.fit_p1=10",
                "start.fit_p2=6",
                "start.fit_p3=1",
                "start.ed_frail=0",
                "start.ed_other=0",
                "start.rehab=29",
                "start.community_discharge=280",
                "start.community_avoidance=45",
                "start.community_community=505",
                "start.waiting_community=0",
            ][..],
            &no_readmissions,
        ]
        .concat(),
        n,
    );
    let warm = replications(
        &winter,
        &[
            "readmission.p0=0",
            "readmission.p1=0",
            "readmission.p2=0",
            "scenario.seed=2",
            "scenario.start_date=2025-12-01",
            "scenario.warm_up=365d",
            "start.acute_frail=0",
            "start.acute_other=0",
            "start.fit_p0=0",
            "start.fit_p1=0",
            "start.fit_p2=0",
            "start.fit_p3=0",
            "start.ed_frail=0",
            "start.ed_other=0",
            "start.rehab=0",
            "start.community_discharge=0",
            "start.community_avoidance=0",
            "start.community_community=0",
            "start.waiting_community=0",
        ],
        n,
    );
    assert_eq!(census[0].daily[0].len(), warm[0].daily[0].len());
    for metric in HEADLINES {
        let a: Vec<f64> = census.iter().map(|r| r.metrics[metric]).collect();
        let b: Vec<f64> = warm.iter().map(|r| r.metrics[metric]).collect();
        let ((ma, sa), (mb, sb)) = (mean_sd(&a), mean_sd(&b));
        let se = (sa * sa / a.len() as f64 + sb * sb / b.len() as f64).sqrt();
        assert!(
            (ma - mb).abs() <= 3.5 * se + 1e-9,
            "{}: from the census {ma}, after a warm-up {mb} (SE of the difference {se})",
            metric.name()
        );
    }
    // The starting state matters: started empty with no warm-up, the
    // occupancy is far below (the comparison has power).
    let empty = replications(
        &winter,
        &[
            "scenario.seed=1",
            "start.acute_frail=0",
            "start.acute_other=0",
            "start.community_community=0",
        ],
        10,
    );
    let a: Vec<f64> = empty
        .iter()
        .map(|r| r.metrics[Metric::BedOccupancyMean])
        .collect();
    let b: Vec<f64> = census
        .iter()
        .map(|r| r.metrics[Metric::BedOccupancyMean])
        .collect();
    assert!(mean_sd(&a).0 < mean_sd(&b).0 - 20.0);
}

#[test]
fn a_plan_from_a_census_is_paired_with_its_baseline() {
    let winter = root().join("scenarios/winter-from-today.toml");
    let plan = root().join("scenarios/plans/winter-from-today-more-home-care.toml");
    let n = 20;
    let base = replications(&winter, &[], n);
    // A plan that changes nothing has exactly the baseline's results.
    let packages = load(&winter, &[])
        .expect("loads")
        .scenario
        .home_care
        .as_ref()
        .expect("home care")
        .packages;
    let same = replications(&plan, &[&format!("home_care.packages={packages}")], n);
    for (b, s) in base.iter().zip(&same) {
        for metric in HEADLINES {
            assert_eq!(b.metrics[metric], s.metrics[metric], "{}", metric.name());
        }
    }
    // A plan that changes home care: its paired differences in
    // metrics it barely touches are far narrower than unpaired ones.
    let more = replications(&plan, &[], n);
    for metric in [Metric::Admissions, Metric::EdAttendances] {
        let a: Vec<f64> = base.iter().map(|r| r.metrics[metric]).collect();
        let b: Vec<f64> = more.iter().map(|r| r.metrics[metric]).collect();
        let d: Vec<f64> = a.iter().zip(&b).map(|(x, y)| y - x).collect();
        let paired = mean_sd(&d).1;
        let unpaired = (mean_sd(&a).1.powi(2) + mean_sd(&b).1.powi(2)).sqrt();
        assert!(
            paired < 0.25 * unpaired,
            "{}: paired sd {paired}, unpaired {unpaired}",
            metric.name()
        );
    }
}

#[test]
fn census_patients_are_in_their_places_at_time_zero() {
    let census = root().join("scenarios/census/winter-from-census.toml");
    for r in replications(&census, &["scenario.horizon=2d"], 4) {
        // 415 in stay + 38 medically fit + 12 from the ED into free beds.
        assert_eq!(r.daily[Series::MidnightCensus.index()][0], 465.0);
        assert!(r.daily[Series::CommunityCaseload.index()][0] >= 840.0);
        assert!(r.daily[Series::RehabOccupied.index()][0] >= 32.0);
    }
    // Fewer beds than census patients: they keep their places; those in the
    // ED wait.
    for r in replications(&census, &["scenario.horizon=2d", "acute.beds=300"], 2) {
        assert_eq!(r.daily[Series::MidnightCensus.index()][0], 453.0);
    }
    // Mental health patients in local beds and out of area.
    let mh = std::path::PathBuf::from(crate::common::baseline());
    for r in replications(
        &mh,
        &[
            "scenario.warm_up=0d",
            "scenario.horizon=2d",
            "start.mh_beds=7",
            "start.mh_out_of_area=3",
        ],
        2,
    ) {
        assert!(r.daily[Series::MhBedsOccupied.index()][0] >= 7.0);
        assert!(r.daily[Series::MhOutOfArea.index()][0] >= 3.0);
    }
}

/// Runs `check` on a scenario reading `csv` as its census; its stderr.
fn refused(csv: &str) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(dir.path().join("today.csv"), csv).expect("write");
    // Without mental health, so that a mental health row is refused.
    let base = crate::common::physical_baseline(dir.path());
    let body = "[start]\ncensus = \"today.csv\"\n";
    write_extending(dir.path(), "s.toml", base, body);
    let out = bin()
        .args(["check"])
        .arg(dir.path().join("s.toml"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "refused as input wrong");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn census_errors_name_the_file_line_column_and_field() {
    let head = "# synthetic\nservice,group,days,state\nacute,frail,2,\n";
    let e = refused(&format!("{head}acute,other,1,\nward,frail,1,\n"));
    assert!(
        e.contains("today.csv:5:1: field `service`: found `ward`; expected `acute`"),
        "{e}"
    );
    let e = refused(&format!("{head}acute,frail,two,\n"));
    assert!(
        e.contains("today.csv:4:13: field `days`: found `two`; expected the days so far"),
        "{e}"
    );
    let e = refused("service,group,state\nacute,frail,\n");
    assert!(
        e.contains("today.csv:1:") && e.contains("missing column `days`"),
        "{e}"
    );
    let e = refused(&format!("{head}community,,3,dischrge\n"));
    assert!(
        e.contains("today.csv:4:") && e.contains("field `state`"),
        "{e}"
    );
    let e = refused(&format!("{head}mh_bed,,3,\n"));
    assert!(
        e.contains("today.csv:4:1:") && e.contains("[mental_health]"),
        "{e}"
    );
}

#[test]
fn a_missing_census_is_named_at_its_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let base = root().join("scenarios/tower-hamlets-baseline.toml");
    let body = "[start]\ncensus = \"nowhere.csv\"\n";
    write_extending(dir.path(), "s.toml", base, body);
    let out = bin()
        .arg("check")
        .arg(dir.path().join("s.toml"))
        .output()
        .expect("runs");
    let e = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{e}");
    assert!(
        e.contains("start.census") && e.contains("nowhere.csv"),
        "{e}"
    );
}

//! Uncertain pathway shares (issue 17): a shares table's `sample`, each
//! replication's joint draw of its shares, their Beta marginals, pairing
//! and the refusals (`docs/scenario-format.md`, "Uncertain pathway shares";
//! `docs/model.md`, "Parameter uncertainty").

use std::fs;
use std::path::Path;

use statrs::distribution::{Beta, ContinuousCDF};

use crate::common::{baseline, bin, exits_saying, root, run_ok};
use patientflow::scenario::load;
use patientflow::scenario::uncertain::{Kind, deviate};

/// The three pathway tables with a `sample`, and no other uncertain value.
const SHARES: [&str; 3] = [
    "pathways.frail={ p0 = 0.45, p1 = 0.32, p2 = 0.13, p3 = 0.10, sample = 400 }",
    "pathways.other.sample=30",
    "mental_health.pathways.sample=1000",
];

/// A scenario extending the baseline with the pathway tables of
/// [`SHARES`], as a file.
fn shares_file(dir: &Path) -> String {
    let path = dir.join("shares.toml");
    fs::write(
        &path,
        format!(
            "extends = {:?}\n\
             [pathways]\n\
             frail = {{ p0 = 0.45, p1 = 0.32, p2 = 0.13, p3 = 0.10, sample = 400 }}\n\
             other = {{ sample = 30 }}\n\
             [mental_health]\npathways = {{ sample = 1000 }}\n",
            baseline()
        ),
    )
    .expect("write");
    path.display().to_string()
}

fn owned(sets: &[&str]) -> Vec<String> {
    sets.iter().map(|s| s.to_string()).collect()
}

/// Every replication's shares add to 1; each share's 10th and 90th
/// percentiles and mean over 4,000 draws are its Beta(n p, n (1 - p))
/// marginal's: 10% of draws below the Beta's 10th percentile within 3
/// binomial standard errors, the same for the 90th, the mean within 3 of
/// its standard errors (sqrt(p (1 - p) / (n + 1) / draws)). A share of 0
/// has no column and stays 0.
#[test]
fn drawn_shares_add_to_one_and_follow_their_beta_marginals() {
    let loaded = load(Path::new(&baseline()), &owned(&SHARES)).expect("loads");
    let u = loaded.uncertainty.expect("uncertain values");
    let values = u.values();
    let keys: Vec<&str> = values.iter().map(|v| v.key.as_str()).collect();
    // The baseline's other shares are 0.89, 0.095, 0.013, 0.002 (none 0),
    // mental health 0.90, 0.07, 0.03.
    assert_eq!(keys.len(), 11, "{keys:?}");
    assert_eq!(keys[0], "pathways.frail.p0");
    assert_eq!(keys[10], "mental_health.pathways.care_home");
    assert!(values.iter().all(|v| v.kind == Kind::PathwayShare));
    assert_eq!(Kind::PathwayShare.name(), "pathway share");
    // The central shares are the written ones, and what the scenario holds.
    assert_eq!(values[3].central(), 0.10);
    assert_eq!(loaded.scenario.pathways.frail, [0.45, 0.32, 0.13, 0.10]);
    let tables = [0..4, 4..8, 8..11];
    let n = 4000u32;
    let mut draws: Vec<Vec<f64>> = vec![Vec::new(); values.len()];
    for r in 0..n {
        let d = u.draws(r, 0);
        assert_eq!(d.len(), values.len());
        for t in &tables {
            let sum: f64 = d[t.clone()].iter().sum();
            assert!((sum - 1.0).abs() < 1e-12, "replication {r}: {sum}");
        }
        // The regressors are each share's own deviate.
        if r < 10 {
            let z = u.record().deviates(r);
            for (v, z) in values.iter().zip(z) {
                assert_eq!(z, deviate(loaded.scenario.seed, r, 0, &v.key));
            }
        }
        for (i, x) in d.into_iter().enumerate() {
            assert!((0.0..=1.0).contains(&x), "{}: {x}", keys[i]);
            draws[i].push(x);
        }
    }
    let binomial = (0.1f64 * 0.9 / f64::from(n)).sqrt();
    for (i, v) in values.iter().enumerate() {
        let (p, size) = (v.central(), v.sample.expect("a sample"));
        let beta = Beta::new(size * p, size * (1.0 - p)).expect("beta");
        let below =
            |q: f64| draws[i].iter().filter(|x| beta.cdf(**x) < q).count() as f64 / f64::from(n);
        for q in [0.1, 0.9] {
            let share = below(q);
            assert!(
                (share - q).abs() < 3.0 * binomial,
                "{}: {share} of draws below the Beta's {q} quantile",
                keys[i]
            );
        }
        let mean = draws[i].iter().sum::<f64>() / f64::from(n);
        let se = (p * (1.0 - p) / (size + 1.0) / f64::from(n)).sqrt();
        assert!(
            (mean - p).abs() < 3.0 * se,
            "{}: mean {mean} against {p} (se {se})",
            keys[i]
        );
    }
    // The draws vary: not the central shares.
    assert!(draws[3].windows(2).any(|w| w[0] != w[1]));
    // A share of 0 stays 0 and has no column.
    let zero = load(
        Path::new(&baseline()),
        &owned(&["pathways.frail={ p0 = 0.55, p1 = 0.45, p2 = 0, p3 = 0, sample = 50 }"]),
    )
    .expect("loads");
    let u = zero.uncertainty.expect("uncertain");
    let keys: Vec<&str> = u.values().iter().map(|v| v.key.as_str()).collect();
    assert_eq!(keys, ["pathways.frail.p0", "pathways.frail.p1"]);
    for r in 0..20 {
        let s = u.scenario(r, 0).expect("a drawn scenario");
        let f = s.pathways.frail;
        assert_eq!((f[2], f[3]), (0.0, 0.0));
        assert_eq!(u.draws(r, 0), vec![f[0], f[1]]);
    }
}

/// A plan that changes nothing has paired effect 0 in every replication,
/// and shares the base's draws; a plan that writes new shares keeps the
/// inherited `sample` and draws each share from the same random numbers.
#[test]
fn a_plan_that_changes_nothing_has_zero_paired_effect() {
    let tmp = tempfile::tempdir().expect("tmp");
    let base = shares_file(tmp.path());
    let out = crate::common::compare_with_a_noop(
        tmp.path(),
        &base,
        "shares",
        (
            "moved",
            "[scenario]\nname = \"moved\"\n[pathways]\n\
             frail = { p0 = 0.50, p1 = 0.30, p2 = 0.12, p3 = 0.08 }\n",
        ),
        &["--set", "scenario.horizon=60d"],
    );
    let params = fs::read_to_string(out.join("shares/parameters.csv")).expect("parameters");
    let header = params.lines().next().expect("header");
    assert!(
        header.starts_with("replication,pathways.frail.p0,"),
        "{header}"
    );
    let effects = fs::read_to_string(out.join("comparison_plausible.csv")).expect("effects");
    let noop_rows: Vec<Vec<&str>> = effects
        .lines()
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|r| r[0] == "noop")
        .collect();
    assert!(!noop_rows.is_empty());
    for r in noop_rows {
        assert_eq!((r[4], r[5], r[6]), ("0", "0", "0"), "{r:?}");
    }
    // The plan that moves the shares keeps the sample and the deviates.
    let b = load(Path::new(&base), &[]).expect("base loads");
    let m = load(&tmp.path().join("moved.toml"), &[]).expect("plan loads");
    let (ub, um) = (b.uncertainty.expect("u"), m.uncertainty.expect("u"));
    let frail: Vec<_> = um
        .values()
        .iter()
        .filter(|v| v.key.starts_with("pathways.frail."))
        .collect();
    assert_eq!(frail.len(), 4);
    assert!(frail.iter().all(|v| v.sample == Some(400.0)));
    assert_eq!(frail[3].central(), 0.08);
    for r in 0..6 {
        assert_eq!(ub.record().deviates(r), um.record().deviates(r));
        assert_ne!(ub.draws(r, 0)[..4], um.draws(r, 0)[..4]);
    }
}

/// The same results and drawn shares on one and two threads; a scenario
/// whose only uncertainty is a `sample` writes `parameters.csv` and
/// `plausible.csv`, and its report names pathway shares.
#[test]
fn identical_on_one_and_two_threads() {
    let tmp = tempfile::tempdir().expect("tmp");
    let base = shares_file(tmp.path());
    let (one, two) = (tmp.path().join("one"), tmp.path().join("two"));
    for (dir, threads) in [(&one, "1"), (&two, "2")] {
        run_ok(
            &[
                "run",
                base.as_str(),
                "--replications",
                "4",
                "--threads",
                threads,
                "--set",
                "scenario.horizon=60d",
            ],
            dir,
        );
    }
    for f in ["replications.csv", "parameters.csv", "plausible.csv"] {
        let a = fs::read(one.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert_eq!(
            a,
            fs::read(two.join(f)).expect(f),
            "{f}: 1 against 2 threads"
        );
    }
    let params = fs::read_to_string(one.join("parameters.csv")).expect("parameters");
    assert_eq!(params.lines().count(), 5, "{params}");
    assert!(
        params.contains("mental_health.pathways.care_home"),
        "{params}"
    );
}

/// Adding `sample` to the shipped uncertain file leaves its other values'
/// draws as they were (each key has its own stream), and its own shares
/// are drawn.
#[test]
fn the_shipped_uncertain_file_draws_its_pathway_shares_and_the_rest_as_before() {
    let shipped = root().join("scenarios/tower-hamlets-uncertain.toml");
    let text = fs::read_to_string(&shipped).expect("the shipped file");
    assert!(text.contains("sample ="), "no sample in the shipped file");
    let tmp = tempfile::tempdir().expect("tmp");
    let without = tmp.path().join("without.toml");
    let stripped: String = text
        .lines()
        .filter(|l| !l.contains("sample ="))
        .map(|l| format!("{l}\n"))
        .collect::<String>()
        .replace(
            "extends = \"tower-hamlets-baseline.toml\"",
            &format!("extends = {:?}", baseline()),
        );
    fs::write(&without, stripped).expect("w");
    let with = load(&shipped, &[]).expect("loads").uncertainty.expect("u");
    let plain = load(&without, &[]).expect("loads").uncertainty.expect("u");
    let shares: Vec<&str> = with
        .values()
        .iter()
        .filter(|v| v.kind == Kind::PathwayShare)
        .map(|v| v.key.as_str())
        .collect();
    assert!(shares.contains(&"pathways.frail.p1"), "{shares:?}");
    assert!(shares.contains(&"pathways.other.p3"), "{shares:?}");
    assert_eq!(with.values().len(), plain.values().len() + shares.len());
    for r in 0..5 {
        let drawn: Vec<(String, f64)> = with
            .values()
            .iter()
            .map(|v| v.key.clone())
            .zip(with.draws(r, 0))
            .filter(|(k, _)| !shares.contains(&k.as_str()))
            .collect();
        let before: Vec<(String, f64)> = plain
            .values()
            .iter()
            .map(|v| v.key.clone())
            .zip(plain.draws(r, 0))
            .collect();
        assert_eq!(drawn, before, "replication {r}");
    }
}

/// Each wrong `sample`, at its file, line and column, naming its key, with
/// exit 2 and nothing run.
#[test]
fn wrong_samples_are_refused_at_their_place() {
    let tmp = tempfile::tempdir().expect("tmp");
    let cases: [(&str, &str, &str, &str); 6] = [
        (
            "small",
            "[pathways]\nfrail = { p0 = 0.5, p1 = 0.45, p2 = 0.04, p3 = 0.01, sample = 5 }\n",
            ":3:63",
            "`sample` must be a number from 10 to 1e6",
        ),
        (
            "word",
            "[pathways]\nother.sample = \"many\"\n",
            ":3:16",
            "`sample` must be a number",
        ),
        (
            "huge",
            "[mental_health]\npathways.sample = 2e6\n",
            ":3:19",
            "found 2000000",
        ),
        (
            "dated",
            "[[rate_changes]]\nfrom = \"2025-06-01\"\n\
             pathways.frail = { p0 = 0.45, p1 = 0.32, p2 = 0.13, p3 = 0.10, sample = 400 }\n",
            ":4:64",
            "`sample` cannot be dated",
        ),
        (
            "sum",
            "[pathways]\nfrail = { p0 = 0.5, p1 = 0.45, p2 = 0.04, p3 = 0.02, sample = 400 }\n",
            ":3:9",
            "expected p0 + p1 + p2 + p3 = 1",
        ),
        (
            "interval",
            "[pathways]\nfrail.p1 = { low = 0.4, high = 0.5 }\nfrail.sample = 400\n",
            ":3:12",
            "pathway shares are made uncertain by a `sample` on their table",
        ),
    ];
    let keys = [
        "key `pathways.frail.sample`",
        "key `pathways.other.sample`",
        "key `mental_health.pathways.sample`",
        "key `rate_changes[0].pathways.frail.sample`",
        "key `pathways.frail`",
        "key `pathways.frail.p1`",
    ];
    for ((name, body, place, says), key) in cases.into_iter().zip(keys) {
        let file = tmp.path().join(format!("{name}.toml"));
        fs::write(&file, format!("extends = {:?}\n{body}", baseline())).expect("w");
        let out = tmp.path().join(format!("{name}-out"));
        let at = format!("{name}.toml{place}");
        exits_saying(
            name,
            &[
                "run",
                file.to_str().expect("utf8"),
                "--quiet",
                "--out",
                out.to_str().expect("utf8"),
            ],
            2,
            &[&at, key, says],
        );
        assert!(!out.exists(), "{name}: refused, yet wrote");
        // `check` refuses it the same way.
        let check = bin()
            .args(["check", file.to_str().expect("utf8")])
            .output()
            .expect("check runs");
        assert_eq!(check.status.code(), Some(2), "{name}: check");
    }
}

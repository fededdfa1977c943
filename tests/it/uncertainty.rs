//! Uncertain values (issue 17): 80% intervals in scenario files, each
//! replication's own draw of them, plausible ranges and what drives a
//! result (`docs/scenario-format.md`, "Uncertain values"; `docs/model.md`,
//! "Parameter uncertainty").

use std::fs;
use std::path::Path;

use crate::common::{
    baseline, baseline_command, bin, csv_column, csv_rows, refused_run, root, run_ok, succeed,
};
use patientflow::scenario::load;
use patientflow::scenario::uncertain::{Z90, deviate};

/// A scenario extending the baseline with three uncertain values.
fn uncertain_baseline(dir: &Path) -> String {
    let path = dir.join("uncertain.toml");
    fs::write(
        &path,
        format!(
            "extends = {:?}\n\
             [pru]\ntreated_at_home = {{ low = 0.60, high = 0.74 }}\n\
             [demand]\ncrises_per_day = {{ low = 200, high = 235 }}\n\
             [acute]\nlos.frail = {{ mean = {{ low = \"9d\", high = \"12d\" }} }}\n",
            baseline()
        ),
    )
    .expect("write");
    path.display().to_string()
}

#[test]
fn draws_of_each_kind_fall_inside_their_interval_80_percent_of_the_time() {
    let sets: Vec<String> = [
        "pru.treated_at_home={ low = 0.60, high = 0.74 }",
        "demand.crises_per_day={ low = 200, high = 235 }",
        "acute.los.frail.mean={ low = \"9d\", high = \"12d\" }",
        "acute.los.other={ dist = \"weibull\", shape = { low = 1.2, high = 1.8 }, scale = \"4d\" }",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let loaded = load(Path::new(&baseline()), &sets).expect("loads");
    let u = loaded.uncertainty.expect("uncertain values");
    let keys: Vec<&str> = u.values().iter().map(|v| v.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "demand.crises_per_day",
            "pru.treated_at_home",
            "acute.los.frail.mean",
            "acute.los.other.shape"
        ]
    );
    // The central values are what the checks use: the median of each.
    assert!((loaded.scenario.pru.treated_at_home - 0.6738).abs() < 1e-3);
    let n = 4000u32;
    let mut inside = [0u32; 4];
    for r in 0..n {
        for (i, (v, x)) in u.values().iter().zip(u.draws(r, 0)).enumerate() {
            if x >= v.low && x <= v.high {
                inside[i] += 1;
            }
        }
    }
    // 80% inside, within 4 binomial standard errors (0.025 at n = 4000).
    let se = (0.8f64 * 0.2 / f64::from(n)).sqrt();
    for (i, k) in inside.iter().enumerate() {
        let share = f64::from(*k) / f64::from(n);
        assert!(
            (share - 0.8).abs() < 4.0 * se,
            "{}: {share} of draws inside its interval",
            keys[i]
        );
    }
    // Durations are in hours; a share stays inside (0, 1).
    let d = u.draws(0, 0);
    assert!(d[2] > 100.0 && d[2] < 400.0, "{d:?}");
    assert!((0.0..1.0).contains(&d[1]));
}

#[test]
fn a_plan_and_its_baseline_share_draws_and_a_plan_that_changes_nothing_has_zero_effect() {
    let tmp = tempfile::tempdir().expect("tmp");
    let base = uncertain_baseline(tmp.path());
    let out = crate::common::compare_with_a_noop(
        tmp.path(),
        &base,
        "uncertain",
        (
            "plain",
            "[scenario]\nname = \"plain\"\n[pru]\ntreated_at_home = 0.67\n",
        ),
        &[],
    );
    let params = csv_rows(&out.join("uncertain/parameters.csv"));
    let rates = csv_column(&params, "demand.crises_per_day");
    assert!(
        rates.windows(2).all(|w| w[0] != w[1]),
        "the values vary across replications: {rates:?}"
    );
    // The paired effect of the plan that changes nothing is 0 in every
    // replication: its plausible range is 0 to 0 for every headline.
    let effects = csv_rows(&out.join("comparison_plausible.csv"));
    let noop_rows: Vec<&Vec<String>> = effects.iter().filter(|r| r[0] == "noop").collect();
    assert!(!noop_rows.is_empty());
    for r in noop_rows {
        assert_eq!((&r[4][..], &r[5][..], &r[6][..]), ("0", "0", "0"), "{r:?}");
    }
    // A plan that gives a plain value takes it as certain; its other keys
    // keep the baseline's draws.
    let plan_params = csv_rows(&out.join("plain/parameters.csv"));
    assert!(!plan_params[0].contains(&"pru.treated_at_home".to_string()));
    assert_eq!(csv_column(&plan_params, "demand.crises_per_day"), rates);
    let report = fs::read_to_string(out.join("report.md")).expect("report");
    // Said in plain words: as admissions avoided when the whole range avoids
    // some, else as the plan against the baseline; never a negative number.
    let line = report
        .lines()
        .find(|l| l.contains("In 80% of plausible cases, plain"))
        .expect("the plan's plausible range of admissions");
    assert!(
        line.contains("plain's admissions avoided is between") || line.contains("plain has from "),
        "{line}"
    );
    assert!(!line.contains(" -"), "{line}");
}

#[test]
fn the_driver_ranking_recovers_the_one_value_the_answer_depends_on() {
    // New crises only (no readmissions, no residents' crises): the count of
    // crises in a year is Poisson with mean 365 x rate, whatever the other
    // (uncertain) values are. With rate = exp(m + s z), its regression on z
    // has slope 365 e^m s e^(s^2/2).
    let tmp = tempfile::tempdir().expect("tmp");
    let text = fs::read_to_string(root().join("tests/data/scenarios/minimal.toml"))
        .expect("minimal")
        .replace("horizon = \"28d\"", "horizon = \"365d\"")
        .replace("crises_per_day = 10", "crises_per_day = { low = 8, high = 12.5 }")
        .replace("treated_at_home = 0.5", "treated_at_home = { low = 0.3, high = 0.7 }")
        .replace(
            "los.frail = { dist = \"gamma\", mean = \"10d\", sd = \"8d\" }",
            "los.frail = { dist = \"gamma\", mean = { low = \"6d\", high = \"14d\" }, sd = \"8d\" }",
        )
        .replace("crises_per_resident_year = 1", "crises_per_resident_year = 0");
    let path = tmp.path().join("one-driver.toml");
    fs::write(&path, text).expect("w");
    let out = tmp.path().join("out");
    run_ok(
        &[
            "run",
            path.to_str().expect("utf8"),
            "--replications",
            "200",
            "--threads",
            "2",
        ],
        &out,
    );
    let plausible = csv_rows(&out.join("plausible.csv"));
    let crises = plausible.iter().find(|r| r[0] == "crises").expect("row");
    let header = &plausible[0];
    let beta = |k: &str| -> f64 {
        let i = header
            .iter()
            .position(|h| h == &format!("beta:{k}"))
            .expect("beta");
        crises[i].parse().expect("number")
    };
    let share: f64 = crises[5].parse().expect("share");
    assert!(share > 0.95, "parameter share {share}");
    assert!(beta("demand.crises_per_day") > 0.97);
    assert!(beta("pru.treated_at_home").abs() < 0.05);
    assert!(beta("acute.los.frail.mean").abs() < 0.05);
    // The slope against the analytic one.
    let reps = csv_rows(&out.join("replications.csv"));
    let y = csv_column(&reps, "crises");
    let z: Vec<f64> = (0..200)
        .map(|r| deviate(1, r, 0, "demand.crises_per_day"))
        .collect();
    let (my, mz) = (y.iter().sum::<f64>() / 200.0, z.iter().sum::<f64>() / 200.0);
    let cov: f64 = y.iter().zip(&z).map(|(a, b)| (a - my) * (b - mz)).sum();
    let var: f64 = z.iter().map(|b| (b - mz).powi(2)).sum();
    let slope = cov / var;
    let s = (12.5f64.ln() - 8f64.ln()) / (2.0 * Z90);
    let m = (12.5f64.ln() + 8f64.ln()) / 2.0;
    let analytic = 365.0 * m.exp() * s * (s * s / 2.0).exp();
    assert!(
        (slope / analytic - 1.0).abs() < 0.05,
        "slope {slope} against {analytic}"
    );
}

#[test]
fn identical_on_one_and_two_threads_and_across_shards() {
    let tmp = tempfile::tempdir().expect("tmp");
    let base = uncertain_baseline(tmp.path());
    let one = tmp.path().join("one");
    let two = tmp.path().join("two");
    let (s1, s2, merged) = (
        tmp.path().join("s1"),
        tmp.path().join("s2"),
        tmp.path().join("merged"),
    );
    for (dir, how) in [
        (&one, ["--threads", "1"]),
        (&two, ["--threads", "2"]),
        (&s1, ["--shard", "0/2"]),
        (&s2, ["--shard", "1/2"]),
    ] {
        run_ok(
            &[&["run", base.as_str(), "--replications", "4"][..], &how].concat(),
            dir,
        );
    }
    let m = bin()
        .args(["merge", "--out"])
        .arg(&merged)
        .arg(&s1)
        .arg(&s2)
        .output()
        .expect("merge");
    assert!(m.status.success(), "{}", String::from_utf8_lossy(&m.stderr));
    for f in [
        "replications.csv",
        "daily.csv",
        "parameters.csv",
        "plausible.csv",
    ] {
        let a = fs::read(one.join(f)).expect(f);
        assert_eq!(
            a,
            fs::read(two.join(f)).expect(f),
            "{f}: 1 against 2 threads"
        );
        assert_eq!(a, fs::read(merged.join(f)).expect(f), "{f}: shards merged");
    }
    assert!(s1.join("parameters.csv").is_file());
}

#[test]
fn a_scenario_without_uncertain_values_writes_no_uncertainty_files() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("out");
    run_ok(&["run", &baseline(), "--replications", "2"], &out);
    assert!(!out.join("parameters.csv").exists());
    assert!(!out.join("plausible.csv").exists());
    let report = fs::read_to_string(out.join("report.md")).expect("report");
    assert!(!report.contains("What we are unsure of"));
}

#[test]
fn a_zero_width_interval_runs_exactly_as_the_plain_value() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    run_ok(&["run", &baseline(), "--replications", "2"], &a);
    let zero_width = ["pru.treated_at_home={ low = 0.67, high = 0.67 }"];
    succeed(&mut baseline_command(&b, "2", &zero_width, &[]));
    for f in ["replications.csv", "daily.csv"] {
        assert_eq!(
            fs::read(a.join(f)).expect(f),
            fs::read(b.join(f)).expect(f),
            "{f}"
        );
    }
    assert!(b.join("parameters.csv").is_file());
}

#[test]
fn interval_errors_are_located_with_their_key() {
    let tmp = tempfile::tempdir().expect("tmp");
    let cases = [
        (
            "[pru]\ntreated_at_home = { low = 0.8, high = 0.7 }\n",
            ":3:27",
            "key `pru.treated_at_home.low`",
            "is above `high`",
        ),
        (
            "[pru]\ntreated_at_home = { low = 0.6 }\n",
            ":3:19",
            "key `pru.treated_at_home`",
            "`high` is missing",
        ),
        (
            "[pru]\ntreated_at_home = { low = 0.6, high = 1.0 }\n",
            ":3:39",
            "key `pru.treated_at_home.high`",
            "inside (0, 1)",
        ),
        (
            "[demand]\ncrises_per_day = { low = 0, high = 10 }\n",
            ":3:26",
            "key `demand.crises_per_day.low`",
            "above 0",
        ),
        (
            "[pru]\ncars = { low = 1, high = 2 }\n",
            ":3:8",
            "key `pru.cars`",
            "cannot be an uncertain value",
        ),
        (
            "[acute.los]\nfrail = { mean = { low = 3, high = \"5d\" } }\n",
            ":3:26",
            "key `acute.los.frail.mean.low`",
            "durations need a unit",
        ),
        (
            "[pru]\ntreated_at_home = { low = 0.6, high = 0.7, mode = 0.65 }\n",
            ":3:44",
            "key `pru.treated_at_home.mode`",
            "only `low` and `high`",
        ),
    ];
    for (i, (body, at, key, what)) in cases.iter().enumerate() {
        let path = tmp.path().join(format!("e{i}.toml"));
        fs::write(&path, format!("extends = {:?}\n{body}", baseline())).expect("w");
        let located = format!("e{i}.toml{at}");
        refused_run(path.to_str().expect("utf-8"), &[], &[&located, key, what]);
    }
    // And from --set, located in the assignment.
    let sets = ["pru.treated_at_home={ low = 0.9, high = 0.7 }"];
    refused_run(&baseline(), &sets, &["is above `high`"]);
}

#[test]
fn precision_with_uncertain_values_estimates_the_plausible_range() {
    // The mean of a year's crises is known to 5% after 3 replications; the
    // 10th and 90th percentiles of a lognormal rate need far more.
    let tmp = tempfile::tempdir().expect("tmp");
    let text = fs::read_to_string(root().join("tests/data/scenarios/minimal.toml"))
        .expect("minimal")
        .replace(
            "crises_per_day = 10",
            "crises_per_day = { low = 8, high = 12.5 }",
        );
    let path = tmp.path().join("ranged.toml");
    fs::write(&path, text).expect("w");
    let out = tmp.path().join("out");
    let o = run_ok(
        &[
            "run",
            path.to_str().expect("utf8"),
            "--precision",
            "0.1",
            "--precision-metric",
            "crises",
            "--max-replications",
            "400",
        ],
        &out,
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("Plausible ranges (uncertain values)"),
        "{stdout}"
    );
    let json = fs::read_to_string(out.join("run.json")).expect("run.json");
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    let used = v["precision"]["replications_used"].as_u64().expect("used");
    let worst = v["precision"]["worst_range_half_width"]
        .as_f64()
        .expect("range");
    assert!(used > 50, "{used} replications");
    assert!(worst <= 0.1 || used == 400, "{worst} at {used}");
}

/// The calibration table of a scenario with uncertain values says, for each
/// published figure, the model's plausible range and whether the figure lies
/// inside it; without uncertain values it has no such columns.
#[test]
fn the_calibration_table_says_whether_each_figure_is_plausible() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let uncertain = root().join("scenarios/tower-hamlets-uncertain.toml");
    let short = [
        "--replications",
        "12",
        "--set",
        "scenario.warm_up=60d",
        "--set",
        "scenario.horizon=60d",
    ];
    for (name, scenario, with) in [
        ("uncertain", uncertain.display().to_string(), true),
        ("plain", baseline(), false),
    ] {
        let dir = tmp.path().join(name);
        run_ok(
            &[&["run", scenario.as_str()][..], &short[..]].concat(),
            &dir,
        );
        let md = fs::read_to_string(dir.join("report.md")).expect("report.md");
        assert_eq!(md.contains("| Target inside it |"), with, "{name}");
        if with {
            let rows: Vec<&str> = md
                .lines()
                .filter(|l| l.starts_with("| Emergency admissions a day |"))
                .collect();
            assert_eq!(rows.len(), 1, "{md}");
            let cells: Vec<&str> = rows[0].split('|').map(str::trim).collect();
            // Name, quantity, target, tolerance, mean, CI, within, range, inside.
            assert!(cells[8].contains(" to "), "{:?}", cells);
            assert!(["yes", "no"].contains(&cells[9]), "{:?}", cells);
        }
        // Rebuilt from the saved files alone, the report is the same.
        let before = fs::read(dir.join("report.md")).expect("report.md");
        let out = bin().arg("report").arg(&dir).output().expect("runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(fs::read(dir.join("report.md")).expect("report.md"), before);
    }
}

#[test]
fn run_json_records_the_uncertainty_files_and_report_refuses_a_changed_one() {
    // parameters.csv and plausible.csv are data files of the run: run.json
    // keeps their SHA-256, and a report rebuilt after one changed refuses.
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("u");
    run_ok(
        &[
            "run",
            &root()
                .join("scenarios/tower-hamlets-uncertain.toml")
                .display()
                .to_string(),
            "--replications",
            "4",
            "--set",
            "scenario.horizon=30d",
        ],
        &out,
    );
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("run.json")).expect("run.json"))
            .expect("json");
    for name in ["parameters.csv", "plausible.csv"] {
        assert!(json["files"][name].is_string(), "no checksum of {name}");
    }
    // The report counts intervals and pathway tables apart.
    let intervals = json["scenario_facts"]["uncertain_values"]
        .as_array()
        .expect("record")
        .iter()
        .filter(|v| v["kind"] != "pathway_share")
        .count();
    let report = fs::read_to_string(out.join("report.md")).expect("report.md");
    let said = format!(
        "gives {intervals} of its values as 80% intervals and the shares of 2 pathway tables \
         as counted among a sample of patients"
    );
    assert!(report.contains(&said), "no `{said}` in the report");
    let mut text = fs::read_to_string(out.join("parameters.csv")).expect("parameters.csv");
    text.push_str("99,0.5\n");
    fs::write(out.join("parameters.csv"), text).expect("tamper");
    let report = bin().arg("report").arg(&out).output().expect("runs");
    assert!(!report.status.success());
    assert!(
        String::from_utf8_lossy(&report.stderr).contains("parameters.csv has changed"),
        "{}",
        String::from_utf8_lossy(&report.stderr)
    );
}

#[test]
fn compare_rebases_a_plan_of_the_certain_baseline_and_refuses_one_that_shares_nothing() {
    // A plan extending the certain baseline that the uncertain one extends
    // is read as extending the uncertain one: it shares its draws.
    let tmp = tempfile::tempdir().expect("tmp");
    let base = uncertain_baseline(tmp.path());
    let plan = root().join("scenarios/plans/second-pru-car.toml");
    let out = tmp.path().join("out");
    let done = succeed(bin().args([
        "compare",
        &base,
        plan.to_str().expect("utf8"),
        "--replications",
        "3",
        "--set",
        "scenario.horizon=30d",
        "--quiet",
        "--out",
        out.to_str().expect("utf8"),
    ]));
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert!(
        stderr.contains("second-pru-car.toml: compared as extending")
            && stderr.contains("uncertain.toml in place of"),
        "{stderr}"
    );
    assert_eq!(
        fs::read(out.join("second-pru-car/parameters.csv")).expect("plan"),
        fs::read(out.join("uncertain/parameters.csv")).expect("base"),
        "the rebased plan drew the baseline's values"
    );
    let json: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(out.join("second-pru-car/run.json")).expect("run.json"),
    )
    .expect("json");
    let chain: Vec<&str> = json["scenario_files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| f.as_str().expect("text"))
        .collect();
    assert!(
        chain.len() == 3 && chain[1].ends_with("uncertain.toml"),
        "{chain:?}"
    );
    // A full copy of the baseline extends nothing: it shares nothing and
    // cannot be rebased, so it would run at fixed values against drawn ones.
    let copy = tmp.path().join("copy.toml");
    fs::write(
        &copy,
        fs::read_to_string(baseline()).expect("the baseline reads"),
    )
    .expect("w");
    let never = tmp.path().join("never");
    crate::common::exits_saying(
        "compare with a plan that shares no uncertain value",
        &[
            "compare",
            &base,
            copy.to_str().expect("utf8"),
            "--replications",
            "2",
            "--quiet",
            "--out",
            never.to_str().expect("utf8"),
        ],
        2,
        &[
            "copy.toml",
            "gives 3 values as uncertain",
            "does not extend it",
        ],
    );
    assert!(!never.exists(), "refused, yet wrote");
    // The certain baseline itself has nothing to rebase: refused, and not
    // said to be read as anything else.
    let stderr = crate::common::exits_saying(
        "compare with the certain baseline as the plan",
        &[
            "compare",
            &base,
            &baseline(),
            "--replications",
            "2",
            "--quiet",
            "--out",
            never.to_str().expect("utf8"),
        ],
        2,
        &["does not extend it"],
    );
    assert!(!stderr.contains("compared as extending"), "{stderr}");
}

#[test]
fn the_report_draws_again_from_run_json_alone_and_refuses_a_run_json_without_the_record() {
    // The report of an uncertain run is rebuilt from run.json's record of
    // the uncertain values, the scenario file gone.
    let tmp = tempfile::tempdir().expect("tmp");
    let base = uncertain_baseline(tmp.path());
    let out = tmp.path().join("u");
    run_ok(
        &[
            "run",
            &base,
            "--replications",
            "5",
            "--set",
            "scenario.horizon=30d",
        ],
        &out,
    );
    fs::remove_file(&base).expect("remove the scenario");
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("run.json")).expect("run.json"))
            .expect("json");
    let recorded = json["scenario_facts"]["uncertain_values"]
        .as_array()
        .expect("a record of the uncertain values");
    let keys: Vec<&str> = recorded
        .iter()
        .map(|v| v["key"].as_str().expect("key"))
        .collect();
    assert_eq!(
        keys,
        [
            "demand.crises_per_day",
            "pru.treated_at_home",
            "acute.los.frail.mean"
        ],
        "in the format's key order"
    );
    let before: Vec<Vec<u8>> = ["parameters.csv", "plausible.csv", "report.md"]
        .iter()
        .map(|f| fs::read(out.join(f)).expect(f))
        .collect();
    succeed(bin().arg("report").arg(&out));
    for (f, b) in ["parameters.csv", "plausible.csv", "report.md"]
        .iter()
        .zip(&before)
    {
        assert_eq!(
            &fs::read(out.join(f)).expect(f),
            b,
            "{f} rebuilt differently"
        );
    }
    // A run.json from before the record: refused, saying why.
    let mut old = json.clone();
    old["scenario_facts"]
        .as_object_mut()
        .expect("facts")
        .remove("uncertain_values");
    fs::write(out.join("run.json"), old.to_string()).expect("write");
    let report = bin().arg("report").arg(&out).output().expect("runs");
    assert!(!report.status.success());
    let stderr = String::from_utf8_lossy(&report.stderr);
    assert!(
        stderr.contains("no record of them") && stderr.contains("run the scenario again"),
        "{stderr}"
    );
}

#[test]
fn a_misspelt_sample_in_a_pathway_table_is_pointed_to_sample() {
    let tmp = tempfile::tempdir().expect("tmp");
    let typo = crate::common::write_extending(
        tmp.path(),
        "typo.toml",
        baseline(),
        "[pathways]\nfrail = { p0 = 0.45, p1 = 0.32, p2 = 0.13, p3 = 0.10, sampel = 400 }\n",
    );
    refused_run(
        typo.to_str().expect("utf8"),
        &[],
        &[
            "typo.toml:3:55",
            "key `pathways.frail.sampel`",
            "did you mean `sample`?",
        ],
    );
}

#[test]
fn draws_that_overload_a_service_are_named_and_counted() {
    // Only the rehab stay is uncertain, over an interval that puts rehab's
    // offered load below its 34 beds at the low end and above them at the
    // high end: the overloaded replications must be exactly those whose
    // drawn stay is longest.
    let tmp = tempfile::tempdir().expect("tmp");
    let scenario = crate::common::write_extending(
        tmp.path(),
        "rehab.toml",
        baseline(),
        "[rehab]\nstay = { dist = \"gamma\", mean = { low = \"18d\", high = \"30d\" }, sd = \"10d\" }\n",
    );
    let out = tmp.path().join("whole");
    let args = [
        "run",
        scenario.to_str().expect("utf8"),
        "--replications",
        "16",
        "--set",
        "scenario.horizon=30d",
    ];
    let stdout = String::from_utf8_lossy(&run_ok(&args, &out).stdout).to_string();
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("run.json")).expect("run.json"))
            .expect("json");
    let listed: Vec<u32> = json["overloaded_draws"]["rehab beds"]
        .as_array()
        .expect("rehab beds overloaded in some draws")
        .iter()
        .map(|r| u32::try_from(r.as_u64().expect("index")).expect("u32"))
        .collect();
    let stays = csv_column(&csv_rows(&out.join("parameters.csv")), "rehab.stay.mean");
    let stays_where = |over: bool| -> Vec<f64> {
        (0..stays.len())
            .filter(|&r| listed.contains(&(r as u32)) == over)
            .map(|r| stays[r])
            .collect()
    };
    let (over, under) = (stays_where(true), stays_where(false));
    assert!(
        !over.is_empty() && !under.is_empty(),
        "{stays:?} {listed:?}"
    );
    let longest_under = under.iter().copied().fold(f64::MIN, f64::max);
    let shortest_over = over.iter().copied().fold(f64::MAX, f64::min);
    assert!(
        longest_under < shortest_over,
        "overloaded draws are not the longest stays: {stays:?} {listed:?}"
    );
    assert!(
        stdout.contains(&format!("In {} of 16 replications", listed.len()))
            && stdout.contains(&format!("rehab beds in {}", listed.len())),
        "{stdout}"
    );
    let report = fs::read_to_string(out.join("report.md")).expect("report.md");
    assert!(report.contains(&format!("In {} of 16 replications", listed.len())));
    // Shards record their own draws; merged, the whole run's.
    let mut shards = Vec::new();
    for i in 0..2 {
        let dir = tmp.path().join(format!("shard{i}"));
        let shard = format!("{i}/2");
        run_ok(&[&args[..], &["--shard", &shard]].concat(), &dir);
        shards.push(dir);
    }
    let merged = tmp.path().join("merged");
    succeed(bin().arg("merge").args(&shards).arg("--out").arg(&merged));
    let merged_json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(merged.join("run.json")).expect("run.json"))
            .expect("json");
    assert_eq!(merged_json["overloaded_draws"], json["overloaded_draws"]);
}

#[test]
fn two_plans_that_extend_one_uncertain_file_compare_and_share_draws() {
    // Neither extends the other, but both inherit the same intervals: the
    // comparison is paired in the same possible worlds.
    let tmp = tempfile::tempdir().expect("tmp");
    uncertain_baseline(tmp.path());
    let a = crate::common::write_extending(
        tmp.path(),
        "a.toml",
        "uncertain.toml",
        "[scenario]\nname = \"a\"\n",
    );
    let b = crate::common::write_extending(
        tmp.path(),
        "b.toml",
        "uncertain.toml",
        "[scenario]\nname = \"b\"\n[pru]\ncars = 2\n",
    );
    let out = tmp.path().join("out");
    run_ok(
        &[
            "compare",
            a.to_str().expect("utf8"),
            b.to_str().expect("utf8"),
            "--replications",
            "4",
            "--set",
            "scenario.horizon=30d",
        ],
        &out,
    );
    assert_eq!(
        fs::read(out.join("a/parameters.csv")).expect("a"),
        fs::read(out.join("b/parameters.csv")).expect("b"),
        "the two plans drew alike"
    );
}

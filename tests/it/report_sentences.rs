//! Every sentence of a report agrees with its table (issue 14, items 3, 9
//! and 10): effects in plain words ("more", "fewer", never a negative
//! number "avoided"), one test of "an interval that includes no change"
//! (`low <= 0 <= high`), a sweep's best plan named only when it is better
//! than the baseline, charts whose axes, legends and captions say what is
//! drawn, and comparison reports that say what each plan changes.
//!
//! The sentence generators are checked exhaustively over a table of signs
//! and intervals (both ends, zero inside, at an end or outside, zero
//! width, no interval), then through the binary on real comparisons and
//! sweeps, sentence against table.

use std::fs;
use std::path::Path;

use patientflow::model::headlines::{COMPARISON, Compared, Direction};
use patientflow::model::metrics::Metric;
use patientflow::report::charts::{self, Estimate, SweepChart, SweepLine};
use patientflow::report::experiment_report::{
    EffectRow, PlanEffects, best_plan_sentence, effect_clause, key_label, plan_sentence,
    scenario_changes, x_key,
};
use patientflow::report::prose::{Finding, effect_exponent, includes_no_change, prose_number};

use crate::common::{baseline, baseline_command, bin, numbers_of, root, run_ok, succeed};

/// A negative number written in prose: a minus sign (or hyphen) right
/// before a digit, not inside a word or a time range such as 08:30-23:00.
fn negative_number(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    (0..chars.len().saturating_sub(1))
        .find(|&i| {
            matches!(chars[i], '-' | '\u{2212}')
                && chars[i + 1].is_ascii_digit()
                && (i == 0 || !chars[i - 1].is_alphanumeric())
        })
        .map(|i| {
            chars[i.saturating_sub(30)..(i + 10).min(chars.len())]
                .iter()
                .collect()
        })
}

/// Differences (plan minus baseline) and intervals to try: every sign of
/// each end, zero inside, zero at either end, zero width at zero and away
/// from it, and no interval at all.
fn cases() -> Vec<(f64, f64, f64)> {
    let mut out = vec![
        (-880.0, -900.0, -850.0),
        (880.0, 850.0, 900.0),
        (-2.0, -9.0, 5.0),
        (2.0, -5.0, 9.0),
        (0.0, -20.0, 20.0),
        (-12.0, -25.0, 0.0),
        (12.0, 0.0, 25.0),
        (-12.0, -25.0, -0.3),
        (12.0, 0.3, 25.0),
        (-0.04, -0.06, -0.02),
        (0.0, 0.0, 0.0),
        (5.0, 5.0, 5.0),
        (-5.0, -5.0, -5.0),
        (4.0, f64::NAN, f64::NAN),
        (-4.0, f64::NAN, f64::NAN),
        (0.0, f64::NAN, f64::NAN),
        (-1234.5, -1300.0, -1169.0),
        (0.4, -1.2, 1.9),
    ];
    // A grid of means and half-widths around zero.
    for m in [-300.0, -10.0, -1.0, 0.0, 1.0, 10.0, 300.0] {
        for h in [0.5, 1.0, 10.0, 400.0] {
            out.push((m, m - h, m + h));
        }
    }
    out
}

fn row(metric: Metric, (d, lo, hi): (f64, f64, f64)) -> EffectRow {
    EffectRow {
        metric,
        baseline_mean: 1000.0,
        plan_mean: 1000.0 + d,
        diff_mean: d,
        diff_low: lo,
        diff_high: hi,
    }
}

fn plan(label: &str, rows: Vec<EffectRow>) -> PlanEffects {
    PlanEffects {
        name: label.to_lowercase(),
        label: label.to_string(),
        swept_values: Vec::new(),
        rows,
    }
}

/// The numbers written in `text` (sizes; a thousands comma kept inside).
fn numbers(text: &str) -> Vec<String> {
    numbers_of(text, false)
}

/// The effect's sizes as the report's table rounds them: mean and both
/// ends, with the headline's sign, without their signs.
fn table_sizes(h: &Compared, (d, lo, hi): (f64, f64, f64)) -> Vec<String> {
    let (m, lo, hi) = if h.sign() < 0.0 {
        (-d, -hi, -lo)
    } else {
        (d, lo, hi)
    };
    let e = effect_exponent(m, lo, hi);
    [m, lo, hi]
        .iter()
        .filter(|x| x.is_finite())
        .map(|x| prose_number(x.abs(), e))
        .collect()
}

#[test]
fn every_clause_is_in_plain_words_and_agrees_with_its_interval() {
    for h in &COMPARISON {
        for case in cases() {
            let p = plan("P", vec![row(h.metric, case)]);
            let clause = effect_clause(&p, h, "a year");
            let (d, lo, hi) = case;
            assert!(
                negative_number(&clause).is_none(),
                "{clause:?}: a negative number ({case:?})"
            );
            let reduction = matches!(h.effect.direction, Direction::Reduction { .. });
            let says_good = clause.contains(" avoided") || clause.contains(" saved");
            // No double negative: a number "avoided" is never also "more"
            // or "fewer".
            if says_good {
                assert!(
                    !clause.contains(" more") && !clause.contains(" fewer"),
                    "{clause:?}"
                );
            }
            let finding = Finding::of(d, lo, hi);
            match finding {
                Finding::Unclear => {
                    assert!(includes_no_change(lo, hi) && hi > lo);
                    assert!(clause.starts_with("no clear change in "), "{clause:?}");
                }
                Finding::None | Finding::NoInterval(None) => {
                    assert!(clause.starts_with("no change in "), "{clause:?}")
                }
                // Plan minus baseline below zero: fewer.
                Finding::Down | Finding::NoInterval(Some(false)) => {
                    assert!(!includes_no_change(lo, hi));
                    if reduction {
                        assert!(says_good, "{clause:?} ({case:?})");
                    } else {
                        assert!(clause.contains(" fewer "), "{clause:?}");
                    }
                }
                Finding::Up | Finding::NoInterval(Some(true)) => {
                    assert!(!includes_no_change(lo, hi));
                    assert!(
                        clause.contains(" more ") && !says_good,
                        "{clause:?} ({case:?})"
                    );
                }
                Finding::Undefined => unreachable!("every case has a mean"),
            }
            // Every number in the clause is one of the table's, rounded as
            // the table rounds it (its size; the words carry the sign).
            let sizes = table_sizes(h, case);
            for n in numbers(&clause)
                .into_iter()
                .filter(|n| !["95", "12", "4"].contains(&n.as_str()))
            {
                assert!(
                    sizes.contains(&n),
                    "{clause:?}: {n} is not among the table's {sizes:?}"
                );
            }
            // An interval that excludes no change never shows an end of 0.
            if !includes_no_change(lo, hi) && lo.is_finite() {
                assert!(!clause.contains("CI 0 to"), "{clause:?}");
                assert!(!clause.contains(" to 0)"), "{clause:?}");
            }
        }
    }
}

#[test]
fn a_plan_sentence_names_each_headline_once_in_order() {
    for case in cases() {
        let p = plan(
            "Second PRU car, 08:30-23:00",
            COMPARISON.iter().map(|h| row(h.metric, case)).collect(),
        );
        let s = plan_sentence(&p, "a year", Some(365.0));
        assert!(s.starts_with("Second PRU car, 08:30-23:00: "), "{s}");
        // Then the community nursing waiting list in a sentence of its own.
        let (main, community) = s
            .split_once(", compared with the baseline. In community nursing: ")
            .unwrap_or_else(|| panic!("{s}"));
        let s = format!("{main}, compared with the baseline.");
        assert!(community.ends_with('.'), "{community}");
        assert!(community.contains(COMPARISON[5].effect.noun), "{community}");
        assert!(negative_number(community).is_none(), "{community}");
        let body = &s["Second PRU car, 08:30-23:00: ".len()..];
        assert!(negative_number(body).is_none(), "{s}");
        // Occupied beds are said as bed days too when their change is clear.
        let (d, lo, hi) = case;
        let clear = lo.is_finite() && hi.is_finite() && !includes_no_change(lo, hi);
        assert_eq!(
            body.contains("bed days a year, compared"),
            clear && d != 0.0,
            "{s}"
        );
        let mut at = 0;
        // Admissions, delayed bed days, 12- and 4-hour waits, occupied beds.
        for h in &COMPARISON[..5] {
            let k = body[at..]
                .find(h.effect.noun)
                .unwrap_or_else(|| panic!("{s}: no {}", h.effect.noun));
            at += k + h.effect.noun.len();
        }
    }
}

fn sweep_plan(label: &str, case: (f64, f64, f64)) -> PlanEffects {
    plan(
        label,
        vec![
            row(Metric::Admissions, case),
            row(Metric::DelayedBedDays, case),
        ],
    )
}

const SAME: (f64, f64, f64) = (0.0, 0.0, 0.0);

#[test]
fn the_best_plan_is_named_only_when_better_than_the_baseline() {
    let h = &COMPARISON[0];
    // The sweep: every plan adds admissions.
    let worse = [
        sweep_plan("A", (880.0, 850.0, 900.0)),
        sweep_plan("B", (900.0, 870.0, 930.0)),
    ];
    let s = best_plan_sentence(&worse, h, "a year").expect("a sentence");
    assert_eq!(
        s,
        "No plan improves on the baseline in emergency admissions: of the 2 plans, 2 show more \
         emergency admissions."
    );
    // Every plan the same as the baseline (the teams x beds sweep's
    // "best" was the unchanged configuration, "avoiding 0").
    let same = [sweep_plan("A", SAME), sweep_plan("B", SAME)];
    let s = best_plan_sentence(&same, h, "a year").expect("a sentence");
    assert!(s.starts_with("No plan improves"), "{s}");
    assert!(s.contains("2 show no change at all"), "{s}");
    // The baseline's own values among the plans, beside one unclear and
    // one better plan: the better one is named, the others not.
    let mixed = [
        sweep_plan("Unchanged", SAME),
        sweep_plan("Unclear", (-30.0, -70.0, 10.0)),
        sweep_plan("Better", (-20.0, -25.0, -15.0)),
        sweep_plan("Worse", (40.0, 30.0, 50.0)),
    ];
    let s = best_plan_sentence(&mixed, h, "a year").expect("a sentence");
    assert_eq!(
        s,
        "Of the 4 plans, 1 avoids emergency admissions compared with the baseline (a 95% CI \
         wholly above no change); Better avoids the most: an estimated 20 a year (95% CI 15 to \
         25)."
    );
    // A larger mean whose interval touches no change (an end at exactly 0)
    // is not better: Better is still named.
    let edge = [
        sweep_plan("Touches", (-100.0, -200.0, 0.0)),
        sweep_plan("Better", (-20.0, -25.0, -15.0)),
    ];
    let s = best_plan_sentence(&edge, h, "a year").expect("a sentence");
    assert!(s.contains("; Better avoids the most"), "{s}");
    // Two plans the table shows with the same estimate: the first is
    // named, and the sentence says the other rounds the same.
    let tie = [
        sweep_plan("First", (-15.2, -22.0, -8.0)),
        sweep_plan("Second", (-14.9, -23.0, -7.0)),
    ];
    let s = best_plan_sentence(&tie, h, "a year").expect("a sentence");
    assert!(
        s.contains("; First avoids the most (rounded, Second shows the same): an estimated 15"),
        "{s}"
    );
    // No interval (one replication): never named.
    let one = [sweep_plan("One", (-50.0, f64::NAN, f64::NAN))];
    let s = best_plan_sentence(&one, h, "a year").expect("a sentence");
    assert!(s.starts_with("No plan improves"), "{s}");
    // Exhaustively: a plan is named exactly when some plan's interval lies
    // wholly on the good side, and the one named has the largest such mean.
    let all = cases();
    for (i, a) in all.iter().enumerate() {
        for b in all.iter().skip(i % 5).step_by(5) {
            let plans = [
                sweep_plan("First", *a),
                sweep_plan("Second", *b),
                sweep_plan("Same", SAME),
            ];
            for h in &COMPARISON[..2] {
                let s = best_plan_sentence(&plans, h, "a year").expect("a sentence");
                assert!(negative_number(&s).is_none(), "{s}");
                let good = |c: &(f64, f64, f64)| Finding::of(-c.0, -c.2, -c.1) == Finding::Up;
                let named: Vec<&str> = ["First", "Second", "Same"]
                    .into_iter()
                    .filter(|n| s.contains(&format!("; {n} ")))
                    .collect();
                match (good(a), good(b)) {
                    (false, false) => {
                        assert!(s.starts_with("No plan improves"), "{s} ({a:?}, {b:?})");
                        assert!(named.is_empty(), "{s}");
                    }
                    (true, false) => assert_eq!(named, ["First"], "{s}"),
                    (false, true) => assert_eq!(named, ["Second"], "{s}"),
                    (true, true) => {
                        let expected = if -b.0 > -a.0 { "Second" } else { "First" };
                        assert_eq!(named, [expected], "{s}");
                    }
                }
            }
        }
    }
}

#[test]
fn the_sweep_axis_is_the_key_with_most_values_and_is_named_in_words() {
    let p = |a: &str, b: &str| PlanEffects {
        name: format!("{a}+{b}"),
        label: String::new(),
        swept_values: vec![a.to_string(), b.to_string()],
        rows: Vec::new(),
    };
    // care_homes.beds (3 values) sorts before community.teams (4 values).
    let mut plans = Vec::new();
    for beds in ["339", "354", "369"] {
        for teams in ["16", "18", "20", "22"] {
            plans.push(p(beds, teams));
        }
    }
    assert_eq!(x_key(2, &plans), Some(1));
    // A tie keeps the first key.
    let tie: Vec<PlanEffects> = ["1", "2"]
        .iter()
        .flat_map(|a| ["x", "y"].iter().map(move |b| p(a, b)))
        .collect();
    assert_eq!(x_key(2, &tie), Some(0));
    assert_eq!(x_key(0, &tie), None);
    assert_eq!(key_label("community.teams"), "community nursing teams");
    assert_eq!(key_label("care_homes.beds"), "care home beds");
    assert_eq!(key_label("demand.crises_per_day"), "demand crises per day");
}

#[test]
fn lines_that_would_hide_one_another_are_dashed_and_said_so() {
    let est = |m: f64| Estimate {
        label: String::new(),
        mean: m,
        low: m - 1.0,
        high: m + 1.0,
    };
    let line = |label: &str, ms: &[f64]| SweepLine {
        label: label.to_string(),
        estimates: ms.iter().map(|&m| est(m)).collect(),
    };
    let lines = [
        line("beds = 339", &[10.0, 20.0, 30.0]),
        line("beds = 354", &[10.0, 20.0, 30.0]),
        line("beds = 369", &[50.0, 60.0, 70.0]),
    ];
    let xs = ["16".to_string(), "18".into(), "20".into()];
    let svg = charts::sweep_chart(&SweepChart {
        title: "t",
        x_label: "Community nursing teams (community.teams)",
        y_label: "y",
        caption: "c",
        x_values: &xs,
        lines: &lines,
    })
    .expect("draws");
    assert!(
        svg.contains("beds = 354 (dashed: same values as beds = 339)"),
        "the legend says which line repeats which"
    );
    assert!(!svg.contains("beds = 369 (dashed"));
    // The repeating line (the second colour, NHS dark red) is drawn in
    // dashes with open markers: many stroked pieces, where a solid line
    // with filled markers has a polyline and its legend key.
    assert!(svg.matches("stroke=\"#8A1538\"").count() >= 6, "dashed");
    assert!(svg.contains("No effect (0)"));
}

/// Colour words a caption may use, and the SVG colours each may name.
const COLOURS: [(&str, &[&str]); 3] = [
    ("red", &["#8A1538"]),
    ("grey", &["#425462"]),
    ("blue", &["#005EB8", "#003087"]),
];

/// Each chart's caption names only colours the chart draws.
fn captions_name_drawn_colours(report_md: &str, dir: &Path) {
    let mut charts = 0;
    let lines: Vec<&str> = report_md.lines().collect();
    for (i, l) in lines.iter().enumerate() {
        let Some(file) = l
            .strip_prefix("![")
            .and_then(|r| r.split_once("](charts/"))
            .and_then(|(_, f)| f.strip_suffix(')'))
        else {
            continue;
        };
        charts += 1;
        let caption = lines[i + 2].to_lowercase();
        let svg = fs::read_to_string(dir.join("charts").join(file))
            .expect("the chart")
            .to_uppercase();
        for (word, hexes) in COLOURS {
            let words: Vec<&str> = caption.split(|c: char| !c.is_alphabetic()).collect();
            if words.contains(&word) {
                assert!(
                    hexes.iter().any(|h| svg.contains(h)),
                    "{file}: the caption says {word}, the chart draws none"
                );
            }
        }
    }
    assert!(charts > 0, "no charts in {}", dir.display());
}

fn table_rows(md: &str, first_cell: &str) -> Vec<Vec<String>> {
    md.lines()
        // A plan with a warning is marked after its name.
        .filter(|l| {
            l.starts_with(&format!("| {first_cell} |"))
                || l.starts_with(&format!("| {first_cell} \u{26a0} |"))
        })
        .map(|l| {
            l.trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().replace('\\', ""))
                .collect()
        })
        .collect()
}

/// Through the binary: a comparison of two shipped plans (a short window,
/// few replications); each plan's sentence against its rows of the table,
/// what each plan changes, the window, run date and commit, the appendix.
#[test]
fn the_comparison_report_agrees_with_its_table_and_says_what_each_plan_changes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("cmp");
    let plans = ["second-pru-car.toml", "thirty-more-care-home-beds.toml"]
        .map(|p| root().join("scenarios/plans").join(p).display().to_string());
    let window = [
        "--set",
        "scenario.horizon=60d",
        "--set",
        "scenario.warm_up=30d",
    ];
    let compare = [
        "compare",
        &baseline(),
        &plans[0],
        &plans[1],
        "--replications",
        "5",
    ];
    run_ok(&[&compare[..], &window].concat(), &out);
    let md = fs::read_to_string(out.join("report.md")).expect("report.md");
    assert!(negative_number(md.split("## What each plan").next().unwrap_or("")).is_none());
    for name in ["Second PRU car, 08:30-23:00", "Thirty more care home beds"] {
        let sentence = md
            .lines()
            .find(|l| l.starts_with(&format!("- {name}: ")))
            .unwrap_or_else(|| panic!("no sentence for {name}"));
        let body = &sentence[name.len() + 4..];
        assert!(negative_number(body).is_none(), "{sentence}");
        // Each headline's clause against its row: the sizes agree, and the
        // words agree with the row's interval.
        let rows = table_rows(&md, name);
        for (h, clause) in COMPARISON[..3].iter().zip(split_clauses(body)) {
            let row = rows
                .iter()
                .find(|r| r[1] == h.effect.label)
                .unwrap_or_else(|| panic!("no row {} for {name}", h.effect.label));
            let effect = row[5].replace(',', "");
            let ci = row[6].replace(',', "");
            let sizes: Vec<String> = std::iter::once(effect.clone())
                .chain(ci.split(" to ").map(str::to_string))
                .map(|x| x.trim_start_matches('-').to_string())
                .collect();
            // A clear change in bed days is also said in beds over the
            // window ("the equivalent of 1.4 beds"): the effect over 60
            // days, inside the row's interval over 60 days.
            const EQUIVALENT: &str = "; the equivalent of ";
            let clause = match clause.split_once(EQUIVALENT) {
                Some((before, after)) => {
                    let (beds, rest) = after.split_once(" bed").expect("beds");
                    let beds: f64 = beds.parse().expect("a number of beds");
                    let (lo, hi) = ci.split_once(" to ").expect("a clear interval");
                    let (lo, hi): (f64, f64) = (lo.parse().expect("lo"), hi.parse().expect("hi"));
                    assert!(
                        lo.min(hi) / 60.0 <= beds && beds <= lo.max(hi) / 60.0,
                        "{clause}: {beds} beds against {ci} bed days over 60 days"
                    );
                    let rest = rest.split_once(')').map_or("", |(_, r)| r);
                    format!("{before}){rest}")
                }
                None => clause.to_string(),
            };
            let clause = clause.as_str();
            let clause_numbers: Vec<String> =
                numbers(&clause.replace("over the 60-day window", ""))
                    .into_iter()
                    .filter(|n| n != "95" && n != "12")
                    .map(|n| n.replace(',', ""))
                    .collect();
            for n in &clause_numbers {
                assert!(sizes.contains(n), "{clause:?}: {n} not in row {row:?}");
            }
            if ci != "n/a" {
                let (lo, hi) = ci.split_once(" to ").expect("a to b");
                let (lo, hi): (f64, f64) = (lo.parse().expect("lo"), hi.parse().expect("hi"));
                if lo > 0.0 {
                    assert!(
                        clause.contains(" avoided") || clause.contains(" saved"),
                        "{clause}"
                    );
                } else if hi < 0.0 {
                    assert!(clause.contains(" more "), "{clause}");
                } else {
                    assert!(clause.starts_with("no clear change"), "{clause}");
                }
            }
        }
    }
    // What each plan changes, from the two resolved scenarios.
    let changes = table_rows(&md, "Second PRU car, 08:30-23:00");
    assert!(
        changes.iter().any(|r| r[1..] == ["pru.cars", "1", "2"]),
        "{changes:?}"
    );
    assert!(
        changes
            .iter()
            .any(|r| r[1..] == ["pru.open", "\"08:00-20:00\"", "\"08:30-23:00\""]),
        "{changes:?}"
    );
    let beds = table_rows(&md, "Thirty more care home beds");
    assert!(
        beds.iter()
            .any(|r| r[1..] == ["care_homes.beds", "339", "369"]),
        "{beds:?}"
    );
    assert!(
        !beds
            .iter()
            .any(|r| r.get(1).is_some_and(|k| k.starts_with("pru."))),
        "{beds:?}"
    );
    // Window, run date and commit or version; the appendix.
    let run: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(out.join("tower-hamlets-baseline/run.json")).expect("run.json"),
    )
    .expect("json");
    let started = run["run_started_utc"].as_str().expect("a run date");
    assert!(md.contains(started), "the run date {started}");
    assert!(md.contains("(60 days)"), "the window");
    if let Some(commit) = run["git_commit"].as_str() {
        assert!(md.contains(commit), "the commit");
    }
    assert!(md.contains("## Appendix: STRESS-DES reporting checklist"));
    assert!(md.contains("This comparison: 2 plans against"));
    captions_name_drawn_colours(&md, &out);
    // The report rebuilds byte for byte from the directory.
    let before = fs::read(out.join("report.html")).expect("html");
    let status = bin().arg("report").arg(&out).status().expect("runs");
    assert!(status.success());
    assert_eq!(fs::read(out.join("report.html")).expect("html"), before);
    // A plan's run.json whose resolved scenario is not the one
    // experiment.json records is refused: the changes table would lie.
    let path = out.join("second-pru-car/run.json");
    let mut run: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&path).expect("run.json")).expect("json");
    let toml = run["resolved_toml"]
        .as_str()
        .expect("toml")
        .replace("cars = 2", "cars = 3");
    run["resolved_toml"] = serde_json::Value::String(toml);
    fs::write(&path, serde_json::to_string(&run).expect("json")).expect("written");
    let refused = bin().arg("report").arg(&out).output().expect("runs");
    assert_eq!(refused.status.code(), Some(2));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("second-pru-car/run.json") && err.contains("SHA-256"),
        "{err}"
    );
    assert_eq!(fs::read(out.join("report.html")).expect("html"), before);
}

/// The three clauses of a plan sentence, split at the headline nouns.
fn split_clauses(body: &str) -> Vec<String> {
    let mut starts: Vec<usize> = Vec::new();
    let mut from = 0;
    // A plan's sentence names the first five headlines, in order.
    for h in &COMPARISON[..5] {
        let k = from + body[from..].find(h.effect.noun).expect("noun");
        // The clause starts at "an estimated" or "no ..." before the noun.
        let start = ["an estimated", "no clear change", "no change"]
            .iter()
            .filter_map(|w| body[from..k].rfind(w).map(|i| from + i))
            .max()
            .expect("a clause start");
        starts.push(start);
        from = k + h.effect.noun.len();
    }
    starts.push(body.len());
    starts
        .windows(2)
        .map(|w| body[w[0]..w[1]].to_string())
        .collect()
}

/// Through the binary: the teams x beds sweep on a short window. The axis
/// is community teams (4 values), the title is the sweep's name, the
/// sentences name a best plan only when it is better, the plan with the
/// baseline's own values is said to change nothing, and a sweep plan's
/// own report does not pass the baseline's description off as its own.
#[test]
fn the_sweep_report_has_a_human_title_the_right_axis_and_honest_sentences() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("sweep");
    let sweep = root().join("scenarios/sweeps/community-teams-x-care-home-beds.toml");
    let window = [
        "--set",
        "scenario.horizon=30d",
        "--set",
        "scenario.warm_up=10d",
    ];
    let sweep = sweep.to_str().expect("utf-8");
    run_ok(
        &[&["sweep", sweep, "--replications", "4"][..], &window].concat(),
        &out,
    );
    let md = fs::read_to_string(out.join("report.md")).expect("report.md");
    let title = md.lines().next().expect("a title");
    assert!(
        !title.contains(".toml") && title.contains("Community teams x care home beds"),
        "{title}"
    );
    assert!(
        !md.contains("baseline, baseline"),
        "the sweep names its baseline once"
    );
    let headline: Vec<&str> = md
        .lines()
        .skip_while(|l| !l.starts_with("## Headline"))
        .take_while(|l| !l.starts_with("> "))
        .filter(|l| l.starts_with("- "))
        .collect();
    // The overloaded combinations (16 teams) are named in a warning
    // sentence of their own, after the headline sentences.
    let (warned, headline): (Vec<&str>, Vec<&str>) = headline
        .into_iter()
        .partition(|l| l.starts_with("- \u{26a0}"));
    assert_eq!(warned.len(), 1, "{warned:?}");
    assert!(
        warned[0].contains("community nursing teams = 16"),
        "{warned:?}"
    );
    // One sentence per headline the comparison shows (nine: the baseline
    // has mental health).
    assert_eq!(headline.len(), 9, "{headline:?}");
    for s in &headline {
        assert!(negative_number(s).is_none(), "{s}");
        // The unchanged configuration is never the best.
        assert!(
            !s.contains("care home beds = 339, community nursing teams = 18 "),
            "{s}"
        );
        assert!(
            s.starts_with("- No plan improves")
                || s.starts_with("- No plan shows fewer")
                || s.contains("(a 95% CI wholly above no change)")
                || s.contains("(a 95% CI wholly below no change)"),
            "{s}"
        );
    }
    let unchanged = table_rows(&md, "care home beds = 339, community nursing teams = 18");
    assert!(
        unchanged.iter().any(|r| r[1].starts_with("(none")),
        "{unchanged:?}"
    );
    let chart =
        fs::read_to_string(out.join("charts/sweep-delayed-bed-days-saved.svg")).expect("svg");
    assert!(
        chart.contains("Community nursing teams (community.teams)"),
        "x axis"
    );
    assert!(
        chart.contains("care home beds = 354"),
        "one line per bed count"
    );
    captions_name_drawn_colours(&md, &out);
    // A plan of the sweep: its report says the description is the
    // extended scenario's, not this plan's.
    let plan_md = fs::read_to_string(out.join("care_homes.beds=369+community.teams=16/report.md"))
        .expect("the plan's report");
    let summary = plan_md
        .lines()
        .find(|l| l.starts_with("Scenario "))
        .expect("the scenario paragraph");
    assert!(summary.contains("one scenario of a sweep"), "{summary}");
    // ... and names the values it ran with (issue 14 item 10).
    assert!(
        summary.contains("with care\\_homes.beds = 369 and community.teams = 16"),
        "{summary}"
    );
    let run_json = fs::read_to_string(out.join("care_homes.beds=369+community.teams=16/run.json"))
        .expect("the plan's run.json");
    assert!(
        run_json.contains("\"care_homes.beds=369\""),
        "run.json records the swept values: {run_json}"
    );
}

/// A `--set` run says which keys it changed after its description.
#[test]
fn a_set_run_names_the_keys_its_description_does_not_know() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("run");
    let sets = [
        "scenario.horizon=20d",
        "scenario.warm_up=5d",
        "community.teams=16",
    ];
    succeed(&mut baseline_command(
        &out,
        "2",
        &sets,
        &["--set=care_homes.beds=369"],
    ));
    let md = fs::read_to_string(out.join("report.md")).expect("report.md");
    let summary = md
        .lines()
        .find(|l| l.starts_with("Scenario "))
        .expect("the scenario paragraph");
    assert!(
        summary.contains("with community.teams = 16 and care\\_homes.beds = 369"),
        "{summary}"
    );
    assert!(!summary.contains("scenario.horizon"), "{summary}");
    captions_name_drawn_colours(&md, &out);
    // The run report's sentences never show a negative number, for any
    // interval of the summary (a t-interval may reach below zero).
    let text = |f: &str| fs::read_to_string(out.join(f)).expect(f);
    let mut data = patientflow::report::RunData::from_texts(
        &text("run.json"),
        &text("summary.csv"),
        &text("daily_bands.csv"),
        &text("replications.csv"),
    )
    .expect("reads");
    for (mean, lo, hi) in [
        (0.2, -0.21, 0.61),
        (0.0, 0.0, 0.0),
        (5.0, f64::NAN, f64::NAN),
        (3.0, -9.0, 15.0),
    ] {
        for r in &mut data.summary {
            r.summary.mean = mean;
            r.summary.ci95_low = lo;
            r.summary.ci95_high = hi;
        }
        for h in patientflow::report::run_report::run_headlines(&data) {
            assert!(negative_number(&h.text).is_none(), "{}", h.text);
        }
    }
}

#[test]
fn changed_keys_come_from_the_two_resolved_scenarios() {
    let base = "[scenario]\nname = \"B\"\ndescription = \"d\"\n[pru]\ncars = 1\nopen = \"08:00-20:00\"\nvisit = { dist = \"lognormal\", mean = \"80m\" }\n[sources]\n\"pru.cars\" = \"x\"\n";
    let plan = "[scenario]\nname = \"P\"\ndescription = \"e\"\n[pru]\ncars = 2\nopen = \"08:00-20:00\"\nvisit = { dist = \"lognormal\", mean = \"90m\" }\nextra = true\n[sources]\n\"pru.cars\" = \"y\"\n";
    let c = scenario_changes(base, plan).expect("parses");
    let keys: Vec<(&str, Option<&str>, Option<&str>)> = c
        .iter()
        .map(|k| (k.key.as_str(), k.baseline.as_deref(), k.plan.as_deref()))
        .collect();
    assert_eq!(
        keys,
        [
            ("pru.cars", Some("1"), Some("2")),
            ("pru.visit.mean", Some("\"80m\""), Some("\"90m\"")),
            ("pru.extra", None, Some("true")),
        ]
    );
    assert!(scenario_changes(base, base).expect("parses").is_empty());
}

/// What a P1 patient waits for is said the same way in the run report's
/// sentences, the delayed-patients caption and the pathway chart: a home
/// care package with `[home_care]`, community nursing without it (the
/// caption said community nursing in both).
#[test]
fn the_run_report_names_what_p1_patients_wait_for_everywhere() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let short = ["--replications", "2", "--set", "scenario.warm_up=0d"];
    let cases = [
        (baseline(), "a home care package", "P1: home care package"),
        (
            root()
                .join("tests/data/scenarios/minimal.toml")
                .display()
                .to_string(),
            "community nursing",
            "P1: community nursing",
        ),
    ];
    for (i, (scenario, place, label)) in cases.iter().enumerate() {
        let out = tmp.path().join(format!("r{i}"));
        let mut args = vec!["run", scenario.as_str()];
        args.extend(short);
        run_ok(&args, &out);
        let md = fs::read_to_string(out.join("report.md")).expect("report.md");
        let caption = format!("Patients medically fit and waiting for {place}, a rehab bed");
        assert!(md.contains(&caption), "{scenario}: no caption {caption:?}");
        assert!(
            md.contains(&format!("waiting for {place} (pathway P1")),
            "{scenario}"
        );
        let chart = fs::read_to_string(out.join("charts/delayed-bed-days-by-pathway.svg"))
            .expect("the pathway chart");
        assert!(
            chart.contains(label),
            "{scenario}: no {label:?} in the chart"
        );
    }
}

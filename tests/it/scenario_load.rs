//! Scenario loader: fixtures under `tests/data/scenarios/`, plus variants of
//! `minimal.toml` with one line changed, written to a temporary directory.

use std::path::{Path, PathBuf};

use patientflow::scenario::dist::DistSpec;
use patientflow::scenario::*;

use crate::common::write_extending;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/scenarios")
        .join(name)
}

fn minimal_text() -> String {
    std::fs::read_to_string(fixture("minimal.toml")).expect("fixture")
}

/// Writes `text` as `plan.toml` in a fresh directory and loads it.
fn load_text(
    text: &str,
    sets: &[&str],
) -> (tempfile::TempDir, Result<LoadedScenario, ScenarioError>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("plan.toml");
    std::fs::write(&path, text).expect("write");
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let r = load(&path, &sets);
    (dir, r)
}

/// `minimal.toml` with `old` (which must occur once) replaced by `new`; the error.
fn edit_err(old: &str, new: &str) -> ScenarioError {
    let text = minimal_text();
    assert_eq!(text.matches(old).count(), 1, "`{old}` must occur once");
    let (_dir, r) = load_text(&text.replacen(old, new, 1), &[]);
    match r {
        Err(e) => e,
        Ok(_) => panic!("`{old}` -> `{new}`: the edit should make the scenario invalid"),
    }
}

fn set_err(sets: &[&str]) -> ScenarioError {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    load(&fixture("minimal.toml"), &sets).expect_err("the override should be refused")
}

/// `e` is of `kind`, at `line` and `col` of `plan.toml` and `key`, and its
/// message says `msg`; `case` names the case in a failure.
#[track_caller]
fn check(
    case: &str,
    e: &ScenarioError,
    kind: ErrorKind,
    line: usize,
    col: usize,
    key: &str,
    msg: &str,
) {
    assert_eq!(e.kind(), kind, "{case}: {e}");
    assert_eq!(e.line(), Some(line), "{case}: {e}");
    assert_eq!(e.column(), Some(col), "{case}: {e}");
    assert_eq!(e.key(), Some(key), "{case}: {e}");
    assert!(
        e.message().contains(msg),
        "{case}: message {:?} lacks {msg:?}",
        e.message()
    );
    assert!(
        e.file().is_some_and(|f| f.ends_with("plan.toml")),
        "{case}: {e}"
    );
}

// ---------------------------------------------------------------------------
// Valid scenarios.

#[test]
fn full_scenario_converts_every_key() {
    let l = load(&fixture("full.toml"), &[]).expect("full.toml is valid");
    let s = &l.scenario;
    assert_eq!(s.name, "Full");
    assert_eq!(s.description, "Every key set");
    assert_eq!(s.start_date.to_string(), "2025-05-01");
    assert_eq!(s.warm_up_hours, 90.0 * 24.0);
    assert_eq!(s.horizon_hours, 365.0 * 24.0);
    assert_eq!((s.replications, s.seed), (200, 20251122));
    assert_eq!(s.demand.hour_of_day[8], 3.0);
    assert_eq!(s.demand.day_of_week[0], 1.2);
    assert_eq!(s.demand.month_of_year[11], 1.2);
    assert_eq!(
        s.pru.visit.spec(),
        &DistSpec::LogNormal {
            mean: 100.0 / 60.0,
            sd: 40.0 / 60.0
        }
    );
    assert_eq!(
        s.frailty_unit.days,
        [true, true, true, true, true, false, false]
    );
    assert_eq!(s.acute.weekend_discharge_hours.to_string(), "10:00-14:00");
    assert_eq!(s.acute.capacity_changes.len(), 2);
    // The second change uses TOML local date literals.
    assert_eq!(s.acute.capacity_changes[1].from.to_string(), "2026-06-01");
    assert_eq!(s.acute.capacity_changes[1].beds, 590);
    assert_eq!(s.pathways.frail, [0.40, 0.42, 0.10, 0.08]);
    assert_eq!(
        s.pathways.process_delay[2]
            .as_ref()
            .map(|d| d.spec().clone()),
        Some(DistSpec::Weibull {
            shape: 1.5,
            scale: 72.0
        })
    );
    assert_eq!(s.community.referrals_per_day, 25.0);
    assert_eq!(
        s.community.priority,
        [
            ReferralClass::Avoidance,
            ReferralClass::Discharge,
            ReferralClass::Community
        ]
    );
    assert_eq!(
        s.community.episode[ReferralClass::Avoidance.index()].spec(),
        &DistSpec::Empirical {
            values: vec![168.0, 336.0, 504.0],
            weights: vec![1.0, 2.0, 1.0]
        }
    );
    assert_eq!(
        s.community.episode[0].spec(),
        &DistSpec::Uniform {
            min: 168.0,
            max: 840.0
        }
    );
    assert_eq!(s.rehab.stay.spec(), &DistSpec::Fixed { value: 504.0 });
    let rb = s.care_homes.red_bag.expect("red bag enabled");
    assert_eq!((rb.los_reduction_hours, rb.min_los_hours), (96.0, 24.0));
    let r = s.readmission.expect("readmission present");
    assert_eq!((r.window_hours, r.p0, r.p2), (720.0, 0.12, 0.08));
    assert_eq!(l.files, vec![fixture("full.toml")]);
    assert_eq!(l.sha256.len(), 64);
    assert!(
        l.sha256
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    );
}

#[test]
fn minimal_scenario_gets_the_documented_defaults() {
    let s = load(&fixture("minimal.toml"), &[]).expect("valid").scenario;
    assert_eq!(s.description, "");
    assert_eq!(s.start_date.to_string(), "2025-04-01");
    assert_eq!(s.demand.hour_of_day, [1.0; 24]);
    assert_eq!(s.demand.day_of_week, [1.0; 7]);
    assert_eq!(s.demand.month_of_year, [1.0; 12]);
    assert_eq!(s.pru.days, EVERY_DAY);
    assert_eq!(s.pru.cars, 0);
    assert_eq!(s.acute.weekend_discharge_hours, s.acute.discharge_hours);
    assert!(s.acute.capacity_changes.is_empty());
    assert!(s.pathways.process_delay.iter().all(Option::is_none));
    assert_eq!(s.community.priority, ReferralClass::ALL);
    assert!(s.care_homes.red_bag.is_none());
    assert!(s.readmission.is_none());
    assert_eq!(
        s.demand.crises_per_day, 10.0,
        "an integer is accepted for a rate"
    );
}

#[test]
fn disabled_red_bag_is_none() {
    let text = minimal_text() + "red_bag = { enabled = false }\n";
    let (_d, r) = load_text(&text, &[]);
    assert!(r.expect("valid").scenario.care_homes.red_bag.is_none());
}

// ---------------------------------------------------------------------------
// One error of each class.

/// Edits of `minimal.toml` (`old`, which must occur once, replaced by
/// `new`) and the located error each must give: (case, old, new, kind,
/// line, column, key, part of the message).
type Located = (
    &'static str,
    &'static str,
    &'static str,
    ErrorKind,
    usize,
    usize,
    &'static str,
    &'static str,
);

#[rustfmt::skip]
const LOCATED: &[Located] = &[
    ("unknown_key_suggests_the_nearest", "cars = 0", "carz = 0", ErrorKind::UnknownKey, 14, 1, "pru.carz", "unknown key `carz`, did you mean `cars`?"),
    ("unknown_key_without_a_near_match_lists_the_keys", "cars = 0", "cars = 0\nzzzzzzzz = 1", ErrorKind::UnknownKey, 15, 1, "pru.zzzzzzzz", "this table takes `cars`, `open`"),
    ("unknown_top_level_table", "[ed]", "[edd]\n[ed]", ErrorKind::UnknownKey, 28, 2, "edd", "did you mean `ed`?"),
    ("missing_key_points_at_its_table", "eligible_share = 0.1\n", "", ErrorKind::MissingKey, 13, 1, "pru.eligible_share", "missing key `eligible_share`"),
    ("missing_top_level_table_points_at_line_one", "[ed]\nfrail_admit_share = 0.6\nother_admit_share = 0.25\n", "", ErrorKind::MissingKey, 1, 1, "ed", "missing key `ed`"),
    ("wrong_type_says_what_was_expected_and_found 1", "cars = 0", "cars = \"two\"", ErrorKind::WrongType, 14, 8, "pru.cars", "expected a whole number >= 0, found \"two\""),
    ("wrong_type_says_what_was_expected_and_found 2", "cars = 0", "cars = 2.0", ErrorKind::WrongType, 14, 8, "pru.cars", "expected a whole number >= 0, found 2.0"),
    ("wrong_type_says_what_was_expected_and_found 3", "seed = 1", "seed = 1.5", ErrorKind::WrongType, 7, 8, "scenario.seed", "found 1.5"),
    ("negative_count_renders_like_rustc", "cars = 0", "cars = -1", ErrorKind::InvalidValue, 14, 8, "pru.cars", "expected a whole number >= 0, found -1"),
    ("bare_number_duration_is_refused 1", "horizon = \"28d\"", "horizon = 28", ErrorKind::InvalidValue, 5, 11, "scenario.horizon", "durations need a unit, such as \"4d\""),
    // Also inside a distribution.
    ("bare_number_duration_is_refused 2", "value = \"90m\"", "value = 90", ErrorKind::InvalidValue, 17, 35, "pru.visit.value", "durations need a unit"),
    ("unknown_duration_unit_lists_the_units", "warm_up = \"0d\"", "warm_up = \"3y\"", ErrorKind::InvalidValue, 4, 11, "scenario.warm_up", "unknown duration unit `y`"),
    ("share_out_of_range 1", "frail_share = 0.2", "frail_share = 1.2", ErrorKind::InvalidValue, 11, 15, "demand.frail_share", "expected a share between 0 and 1, found 1.2"),
    ("share_out_of_range 2", "frail_share = 0.2", "frail_share = nan", ErrorKind::InvalidValue, 11, 15, "demand.frail_share", "found nan"),
    ("pathway_shares_must_sum_to_one 1", "p2 = 0.1, p3 = 0.1 }", "p2 = 0.1, p3 = 0.2 }", ErrorKind::InvalidValue, 39, 9, "pathways.frail", "p0 + p1 + p2 + p3 = 1"),
    ("pathway_shares_must_sum_to_one 2", "p3 = 0.05 }", "p3 = 0.05, p4 = 0.0 }", ErrorKind::UnknownKey, 40, 53, "pathways.other.p4", "did you mean"),
    // One-digit hours are fine (`9:00`); minutes need two digits.
    ("bad_clock_window", "open = \"09:00-17:00\"", "open = \"9:0-17:00\"", ErrorKind::InvalidValue, 23, 8, "frailty_unit.open", "expected a clock window"),
    ("bad_date 1", "name = \"Minimal\"", "name = \"Minimal\"\nstart_date = \"2025-02-30\"", ErrorKind::InvalidValue, 4, 14, "scenario.start_date", "expected a date \"YYYY-MM-DD\""),
    ("bad_date 2", "name = \"Minimal\"", "name = \"Minimal\"\nstart_date = 2025-04-01T10:00:00", ErrorKind::WrongType, 4, 14, "scenario.start_date", "found the date-time"),
    ("weights_need_the_right_count 1", "frail_share = 0.2", "frail_share = 0.2\nday_of_week = [0, 0, 0, 0, 0, 0, 0]", ErrorKind::InvalidValue, 12, 15, "demand.day_of_week", "positive"),
    ("weights_need_the_right_count 2", "frail_share = 0.2", "frail_share = 0.2\nday_of_week = [1, 1, 1, -1, 1, 1, 1]", ErrorKind::InvalidValue, 12, 25, "demand.day_of_week[3]", "expected a finite number >= 0, found -1"),
    ("capacity_changes_must_be_in_order", "discharge_hours = \"08:00-18:00\"", "discharge_hours = \"08:00-18:00\"\ncapacity_changes = [{ from = \"2026-01-01\", to = \"2026-01-01\", beds = 90 }, { from = \"2026-01-02\", to = \"2026-01-01\", beds = 90 }]", ErrorKind::InvalidValue, 35, 76, "acute.capacity_changes[1]", "expected `from` <= `to`, found from 2026-01-02 after to 2026-01-01"),
    ("unknown_distribution_suggests", "dist = \"gamma\", mean = \"10d\"", "dist = \"gama\", mean = \"10d\"", ErrorKind::InvalidValue, 35, 22, "acute.los.frail.dist", "unknown distribution \"gama\", did you mean `gamma`?"),
    ("distribution_parameters_checked 1", "mean = \"10d\", sd = \"8d\"", "mean = \"10d\"", ErrorKind::MissingKey, 35, 13, "acute.los.frail.sd", "missing key `sd`: `gamma` needs `mean` and `sd`"),
    ("distribution_parameters_checked 2", "value = \"4h\"", "value = \"4h\", mean = \"1h\"", ErrorKind::UnknownKey, 24, 46, "frailty_unit.assessment.mean", "`fixed` takes `value`"),
    ("distribution_parameters_checked 3", "mean = \"10d\", sd = \"8d\"", "mean = \"10d\", sd = \"0d\"", ErrorKind::InvalidValue, 35, 13, "acute.los.frail", "invalid `gamma` distribution"),
    ("distribution_parameters_checked 4", "los.frail = { dist = \"gamma\", mean = \"10d\", sd = \"8d\" }", "los.frail = \"10d\"", ErrorKind::WrongType, 35, 13, "acute.los.frail", "expected a distribution table"),
    ("distribution_parameters_checked 5", "{ dist = \"gamma\", mean = \"10d\", sd = \"8d\" }", "{ mean = \"10d\", sd = \"8d\" }", ErrorKind::MissingKey, 35, 13, "acute.los.frail.dist", "missing key `dist`"),
    ("other_rules 1", "replications = 1", "replications = 0", ErrorKind::InvalidValue, 6, 16, "scenario.replications", "at least 1"),
    ("other_rules 2", "horizon = \"28d\"", "horizon = \"0h\"", ErrorKind::InvalidValue, 5, 11, "scenario.horizon", "horizon > 0"),
    ("other_rules 3", "open = \"none\"", "open = \"none\"\ndays = [\"Mon\", \"Tue\", \"Mon\"]", ErrorKind::InvalidValue, 16, 23, "pru.days[2]", "\"Mon\" is listed twice"),
    ("other_rules 4", "open = \"none\"", "open = \"none\"\ndays = [\"Monday\"]", ErrorKind::InvalidValue, 16, 9, "pru.days[0]", "did you mean `Mon`?"),
    ("other_rules 5", "referrals_per_day = 3.5", "referrals_per_day = 3.5\npriority = [\"discharge\", \"community\"]", ErrorKind::InvalidValue, 46, 12, "community.priority", "expected all three classes"),
    ("other_rules 6", "crises_per_resident_year = 1", "crises_per_resident_year = 1\n\n[readmission]\nwindow = \"30d\"\np0 = 0.1\np1 = 0.1", ErrorKind::MissingKey, 63, 1, "readmission.p2", "missing key `p2`"),
    ("other_rules 7", "beds = 100", "beds = 99999999999", ErrorKind::InvalidValue, 33, 8, "acute.beds", "at most 4294967295"),
];

/// The error of [`LOCATED`]'s `case`, checked.
#[track_caller]
fn located(case: &str) -> ScenarioError {
    let &(case, old, new, kind, line, col, key, msg) = LOCATED
        .iter()
        .find(|c| c.0 == case)
        .unwrap_or_else(|| panic!("no case {case:?} in LOCATED"));
    let e = edit_err(old, new);
    check(case, &e, kind, line, col, key, msg);
    e
}

#[test]
fn each_edit_gives_its_located_error() {
    for c in LOCATED {
        located(c.0);
    }
}

#[test]
fn syntax_error_is_located() {
    let e = edit_err("cars = 0", "cars = = 0");
    assert_eq!(e.kind(), ErrorKind::Syntax);
    assert_eq!(e.line(), Some(14));
    assert!(e.column().is_some_and(|c| c >= 7), "{e}");
    assert!(e.message().starts_with("invalid TOML"), "{e}");
}

#[test]
fn unknown_key_suggests_the_nearest() {
    let e = located("unknown_key_suggests_the_nearest");
    let shown = e.to_string();
    assert!(shown.contains("plan.toml:14:1: key `pru.carz`"), "{shown}");
    assert!(shown.ends_with("14 | carz = 0\n   | ^^^^"), "{shown}");
}

#[test]
fn a_boolean_key_refuses_a_string() {
    let e = edit_err("hospital_first = false", "hospital_first = \"no\"");
    assert_eq!(e.key(), Some("care_homes.hospital_first"));
    assert!(e.message().contains("expected a boolean"), "{e}");
}

#[test]
fn negative_count_renders_like_rustc() {
    let e = located("negative_count_renders_like_rustc");
    let shown = e.to_string();
    assert!(shown.starts_with("error: "), "{shown}");
    assert!(
        shown.ends_with("plan.toml:14:8: key `pru.cars`: expected a whole number >= 0, found -1\n   |\n14 | cars = -1\n   |        ^^"),
        "{shown}"
    );
}

#[test]
fn unknown_duration_unit_lists_the_units() {
    let e = located("unknown_duration_unit_lists_the_units");
    assert!(
        e.message()
            .contains("m (minutes), h (hours), d (days) and w (weeks)"),
        "{e}"
    );
}

#[test]
fn pathway_shares_must_sum_to_one() {
    let e = located("pathway_shares_must_sum_to_one 1");
    assert!(e.message().contains("found a sum of 1.1"), "{e}");
}

#[test]
fn weights_need_the_right_count() {
    let weights = vec!["1"; 23].join(", ");
    let e = edit_err(
        "frail_share = 0.2",
        &format!("frail_share = 0.2\nhour_of_day = [{weights}]"),
    );
    check(
        "23 hour_of_day weights",
        &e,
        ErrorKind::InvalidValue,
        12,
        15,
        "demand.hour_of_day",
        "expected 24 weights (one per hour, 00:00 first), found 23",
    );
}

#[test]
fn capacity_changes_must_be_in_order() {
    let e = edit_err(
        "discharge_hours = \"08:00-18:00\"",
        "discharge_hours = \"08:00-18:00\"\n\n[[acute.capacity_changes]]\nfrom = \"2026-01-02\"\nto = \"2026-01-01\"\nbeds = 90\n[acute]",
    );
    // `[acute]` twice is a TOML error; use the array form instead.
    assert_eq!(e.kind(), ErrorKind::Syntax);
}

#[test]
fn an_enabled_red_bag_needs_min_los() {
    let e = edit_err(
        "crises_per_resident_year = 1",
        "crises_per_resident_year = 1\nred_bag = { enabled = true, los_reduction = \"4d\" }",
    );
    assert_eq!(e.key(), Some("care_homes.red_bag.min_los"));
    assert_eq!(e.kind(), ErrorKind::MissingKey);
}

#[test]
fn extends_missing_points_at_extends() {
    let e = load(&fixture("extends-missing.toml"), &[]).expect_err("missing parent");
    assert_eq!(e.kind(), ErrorKind::ExtendsMissing);
    assert_eq!(
        (e.line(), e.column(), e.key()),
        (Some(2), Some(11), Some("extends"))
    );
    assert!(
        e.file()
            .is_some_and(|f| f.ends_with("extends-missing.toml"))
    );
    assert!(e.message().contains("no-such-baseline.toml"), "{e}");
}

#[test]
fn extends_cycle_names_the_chain() {
    let e = load(&fixture("cycle/a.toml"), &[]).expect_err("cycle");
    assert_eq!(e.kind(), ErrorKind::ExtendsCycle);
    assert!(e.file().is_some_and(|f| f.ends_with("cycle/b.toml")), "{e}");
    assert_eq!((e.line(), e.column()), (Some(2), Some(11)));
    let m = e.message();
    let (a, b) = (m.find("a.toml").expect("a"), m.find("b.toml").expect("b"));
    assert!(a < b && m.rfind("a.toml") > Some(b), "{m}");
}

#[test]
fn set_unknown_key_is_located_in_the_set() {
    let e = set_err(&["pru.carz=1"]);
    assert_eq!(e.kind(), ErrorKind::UnknownKey);
    assert_eq!(e.set_text(), Some("pru.carz=1"));
    assert_eq!((e.file(), e.line(), e.column()), (None, None, Some(5)));
    assert_eq!(e.key(), Some("pru.carz"));
    assert!(e.message().contains("did you mean `cars`?"));
    assert!(
        e.to_string()
            .starts_with("error: --set pru.carz=1: key `pru.carz`: ")
    );
}

#[test]
fn set_bad_value_is_checked_like_a_file_value() {
    let e = set_err(&["pru.cars=-1"]);
    assert_eq!(
        (e.kind(), e.column(), e.key()),
        (ErrorKind::InvalidValue, Some(10), Some("pru.cars"))
    );
    assert!(
        e.message()
            .contains("expected a whole number >= 0, found -1")
    );
    let e = set_err(&["pru.cars=2.5"]);
    assert_eq!(e.kind(), ErrorKind::WrongType);
    let e = set_err(&["acute.los.frail.mean=12"]);
    assert!(e.message().contains("durations need a unit"), "{e}");
    let e = set_err(&["pru.open=25:00-26:00"]);
    assert_eq!(e.key(), Some("pru.open"));
    let e = set_err(&["no equals sign"]);
    assert_eq!(e.kind(), ErrorKind::BadSet);
    let e = set_err(&["pru..cars=1"]);
    assert_eq!(e.kind(), ErrorKind::BadSet);
    let e = set_err(&["pru.cars.more=1"]);
    assert_eq!(e.kind(), ErrorKind::BadSet);
    assert!(e.message().contains("`pru.cars` is 0, not a table"), "{e}");
    let e = set_err(&["extends=other.toml"]);
    assert_eq!(e.kind(), ErrorKind::BadSet);
}

// ---------------------------------------------------------------------------
// Merging and overrides.

#[test]
fn extends_chain_of_three_merges_tables_and_replaces_arrays() {
    let l = load(&fixture("chain/plan.toml"), &[]).expect("valid chain");
    assert_eq!(l.files.len(), 3);
    assert!(l.files[0].ends_with("plan.toml") && l.files[1].ends_with("base.toml"));
    assert!(l.files[2].ends_with("minimal.toml"));
    let s = &l.scenario;
    assert_eq!(s.name, "Plan: weekend PRU", "plan wins");
    assert_eq!(s.horizon_hours, 28.0 * 24.0, "inherited from minimal");
    assert_eq!(s.pru.cars, 1, "from base");
    assert_eq!(s.pru.open.to_string(), "08:00-20:00", "from base");
    assert_eq!(
        s.pru.days,
        [false, false, false, false, false, true, true],
        "array replaced whole"
    );
    // base lists two changes; plan's single one replaces them, never appends.
    assert_eq!(s.acute.capacity_changes.len(), 1);
    assert_eq!(s.acute.capacity_changes[0].beds, 130);
    // Same family: key-by-key merge keeps sd; new family: replaced whole.
    assert_eq!(
        s.acute.los_other.spec(),
        &DistSpec::Gamma {
            mean: 120.0,
            sd: 96.0
        }
    );
    assert_eq!(s.acute.los_frail.spec(), &DistSpec::Fixed { value: 216.0 });
}

#[test]
fn set_overrides_apply_in_order() {
    let sets: Vec<String> = [
        "pru.cars=2",
        "acute.los.frail.mean=12d",
        "pru.open=08:00-22:00",
        "pru.cars=3",
        "scenario.description=\"quoted\"",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let l = load(&fixture("minimal.toml"), &sets).expect("valid overrides");
    assert_eq!(l.scenario.pru.cars, 3, "the later --set wins");
    assert_eq!(
        l.scenario.acute.los_frail.spec(),
        &DistSpec::Gamma {
            mean: 288.0,
            sd: 192.0
        }
    );
    assert_eq!(l.scenario.pru.open.to_string(), "08:00-22:00");
    assert_eq!(l.scenario.description, "quoted");
    assert!(
        l.resolved_toml.contains("\ncars = 3\n"),
        "{}",
        l.resolved_toml
    );
    assert!(
        l.resolved_toml
            .contains("los.frail = { dist = \"gamma\", mean = \"12d\", sd = \"8d\" }")
    );
    let plain = load(&fixture("minimal.toml"), &[]).expect("valid");
    assert_ne!(plain.sha256, l.sha256);
}

#[test]
fn set_can_add_an_optional_table() {
    let sets: Vec<String> =
        ["readmission={ window = \"30d\", p0 = 0.1, p1 = 0.1, p2 = 0.1 }".to_string()].to_vec();
    let l = load(&fixture("minimal.toml"), &sets).expect("valid");
    assert_eq!(l.scenario.readmission.map(|r| r.window_hours), Some(720.0));
}

// ---------------------------------------------------------------------------
// The resolved document.

#[test]
fn resolved_toml_round_trips() {
    for name in ["full.toml", "minimal.toml", "chain/plan.toml"] {
        let first = load(&fixture(name), &["community.teams=7".to_string()]).expect("valid");
        let (_d, again) = load_text(&first.resolved_toml, &[]);
        let again = again.expect("resolved TOML loads");
        assert_eq!(again.resolved_toml, first.resolved_toml, "{name}");
        assert_eq!(again.sha256, first.sha256);
        assert_eq!(
            format!("{:?}", again.scenario),
            format!("{:?}", first.scenario),
            "{name}"
        );
        // Plain TOML 1.0 for any reader: no `extends`, no multi-line inline tables.
        assert!(!first.resolved_toml.contains("extends"));
        assert!(toml::from_str::<toml::Table>(&first.resolved_toml).is_ok());
    }
}

#[test]
fn resolved_toml_is_identical_for_equivalent_inputs() {
    let base = load(&fixture("minimal.toml"), &[]).expect("valid");
    // Same content: sections reordered, dotted keys as tables, different spacing.
    let text = minimal_text()
        .replace(
            "los.frail = { dist = \"gamma\", mean = \"10d\", sd = \"8d\" }\nlos.other = { dist = \"gamma\", mean = \"4d\", sd = \"4d\" }\n",
            "",
        )
        .replace("beds = 100\n", "")
        + "\n[acute.los.other]\nsd = \"4d\"\nmean = \"4d\"\ndist = \"gamma\"\n[acute.los]\nfrail = {sd=\"8d\",dist=\"gamma\",mean=\"10d\"}\n";
    let text = text.replacen("[acute]\n", "[acute]\nbeds   =   100 # same\n", 1);
    let (_d, r) = load_text(&text, &[]);
    let other = r.expect("valid");
    assert_eq!(other.resolved_toml, base.resolved_toml);
    assert_eq!(other.sha256, base.sha256);
    // An override equals writing the value in the file.
    let by_set = load(&fixture("minimal.toml"), &["pru.cars=2".to_string()]).expect("valid");
    let (_d, by_file) = load_text(&minimal_text().replace("cars = 0", "cars = 2"), &[]);
    assert_eq!(by_set.sha256, by_file.expect("valid").sha256);
}

// ---------------------------------------------------------------------------
// The document API for sweeps.

#[test]
fn doc_take_table_and_set_node() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write_extending(
        dir.path(),
        "sweep.toml",
        fixture("minimal.toml"),
        "\n[sweep]\n\"community.teams\" = [14, 16]\n\"pru.cars\" = [1, 2]\n",
    );
    let mut doc = ScenarioDoc::read(&path).expect("reads");
    // Left in place, `[sweep]` is an unknown key of a scenario.
    let e = doc.to_scenario().expect_err("sweep is not a scenario key");
    assert_eq!((e.kind(), e.key()), (ErrorKind::UnknownKey, Some("sweep")));
    let entries = doc.take_table("sweep").expect("a table").expect("present");
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].key, "community.teams");
    let values = entries[0].value.array_items().expect("array");
    assert_eq!(values[1].to_toml_value(), "16");
    let mut point = doc.clone();
    point
        .set_node(&entries[0].key, entries[0].key_origin, values[1].clone())
        .expect("sets");
    assert_eq!(point.to_scenario().expect("valid").community.teams, 16);
    assert_eq!(doc.to_scenario().expect("valid").community.teams, 2);
    assert!(doc.take_table("sweep").expect("ok").is_none());
    // A bad sweep value is reported where the sweep file wrote it.
    let mut bad = doc.clone();
    bad.set("community.teams=-3").expect("applies");
    let e = bad.to_scenario().expect_err("negative");
    assert_eq!(e.set_text(), Some("community.teams=-3"));
}

// ---------------------------------------------------------------------------
// Hostile input never panics.

#[test]
fn hostile_inputs_are_errors_not_panics() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("x.toml");
    let cases: Vec<(Vec<u8>, ErrorKind)> = vec![
        (b"".to_vec(), ErrorKind::MissingKey),
        (vec![0xff, 0xfe, 0x00, 0x80, 0x12], ErrorKind::Syntax),
        (b"a = \"ok\"\nb = \xc3\x28\n".to_vec(), ErrorKind::Syntax),
        (b"\x00\x01\x02garbage[[[".to_vec(), ErrorKind::Syntax),
        (
            b"x = 999999999999999999999999999\n".to_vec(),
            ErrorKind::InvalidValue,
        ),
        (
            format!("x = {}1{}\n", "[".repeat(5000), "]".repeat(5000)).into_bytes(),
            ErrorKind::Syntax,
        ),
        (
            format!("x = {}\n", "{ a = ".repeat(3000)).into_bytes(),
            ErrorKind::Syntax,
        ),
        (
            format!("[{}]\n", vec!["a"; 3000].join(".")).into_bytes(),
            ErrorKind::Syntax,
        ),
        (b"[scenario]\nname = 1e999999\n".to_vec(), ErrorKind::Syntax),
    ];
    for (bytes, kind) in cases {
        std::fs::write(&path, &bytes).expect("write");
        let e = load(&path, &[]).expect_err("invalid");
        // Deep nesting may be caught by the parser or by the tree's own limit.
        if kind == ErrorKind::Syntax {
            assert!(
                matches!(e.kind(), ErrorKind::Syntax | ErrorKind::InvalidValue),
                "{e}"
            );
        } else {
            assert_eq!(e.kind(), kind, "{e}");
        }
        let _ = e.to_string();
    }
    let big = vec![b'#'; (MAX_FILE_BYTES + 1) as usize];
    std::fs::write(&path, big).expect("write");
    let e = load(&path, &[]).expect_err("too large");
    assert_eq!(e.kind(), ErrorKind::Io);
    assert!(e.message().contains("larger than 10 MiB"));
    let e = load(&dir.path().join("absent.toml"), &[]).expect_err("absent");
    assert_eq!(e.kind(), ErrorKind::Io);
    let e = load(dir.path(), &[]).expect_err("a directory");
    assert_eq!(e.kind(), ErrorKind::Io);
    // Hostile overrides.
    for s in [
        "=",
        "a=",
        "=1",
        "pru.cars={",
        "pru.cars=[[[[",
        "pru.cars=\u{0}",
        "é.ü=ö",
        "pru.cars=99999999999999999999999",
    ] {
        let r = load(&fixture("minimal.toml"), &[s.to_string()]);
        assert!(r.is_err(), "{s}");
    }
}

#[test]
fn non_utf8_reports_the_position() {
    let (_d, r) = load_text("", &[]);
    let e = r.expect_err("empty");
    assert_eq!(
        (e.kind(), e.key(), e.line()),
        (ErrorKind::MissingKey, Some("scenario"), Some(1))
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("x.toml");
    std::fs::write(&path, b"a = 1\nb = \"\xff\"\n").expect("write");
    let e = load(&path, &[]).expect_err("not utf-8");
    assert!(e.message().contains("line 2, column 6"), "{e}");
}

// ---------------------------------------------------------------------------
// `[sources]`: citations for values, checked against the format's keys.

#[test]
fn sources_are_read_and_written_back() {
    let text = format!(
        "{}\n[sources]\n\"pru.treated_at_home\" = \"Joy et al. 2020, EMJ\"\n\"acute.los.frail.sd\" = \"Derived\"\n",
        minimal_text()
    );
    let (_dir, r) = load_text(&text, &[]);
    let loaded = r.expect("valid");
    assert_eq!(
        loaded
            .sources
            .get("pru.treated_at_home")
            .map(String::as_str),
        Some("Joy et al. 2020, EMJ")
    );
    assert_eq!(loaded.sources.len(), 2);
    assert!(
        loaded
            .resolved_toml
            .contains("[sources]\n\"acute.los.frail.sd\" = \"Derived\"\n"),
        "{}",
        loaded.resolved_toml
    );
    // The resolved document reads back with the same citations.
    let doc = ScenarioDoc::parse_str(&loaded.resolved_toml, Path::new("run.json"))
        .expect("resolved TOML parses");
    let (_, sources) = doc.to_scenario_with_sources().expect("converts");
    assert_eq!(sources, loaded.sources);
}

#[test]
fn a_source_for_an_unknown_key_is_located_with_a_suggestion() {
    let text = format!(
        "{}\n[sources]\n\"pru.treated_at_hom\" = \"Joy et al. 2020\"\n",
        minimal_text()
    );
    let line = text.lines().count();
    let (_dir, r) = load_text(&text, &[]);
    let e = r.expect_err("unknown key");
    assert_eq!(e.kind(), ErrorKind::UnknownKey, "{e}");
    assert_eq!((e.line(), e.column()), (Some(line), Some(1)), "{e}");
    assert!(
        e.message().contains("did you mean `pru.treated_at_home`?"),
        "{e}"
    );
}

#[test]
fn a_source_must_be_a_non_empty_string() {
    let text = format!("{}\n[sources]\n\"pru.cars\" = 2\n", minimal_text());
    let (_dir, r) = load_text(&text, &[]);
    let e = r.expect_err("not a string");
    assert_eq!(e.kind(), ErrorKind::WrongType, "{e}");
    let text = format!("{}\n[sources]\n\"pru.cars\" = \" \"\n", minimal_text());
    let (_dir, r) = load_text(&text, &[]);
    assert_eq!(r.expect_err("empty").kind(), ErrorKind::InvalidValue);
}

#[test]
fn sources_merge_through_extends() {
    let dir = tempfile::tempdir().expect("tempdir");
    let base = format!(
        "{}\n[sources]\n\"pru.cars\" = \"Base\"\n\"acute.beds\" = \"Base beds\"\n",
        minimal_text()
    );
    std::fs::write(dir.path().join("base.toml"), base).expect("write");
    let plan = "extends = \"base.toml\"\n[pru]\ncars = 2\n[sources]\n\"pru.cars\" = \"Plan\"\n";
    let path = dir.path().join("plan.toml");
    std::fs::write(&path, plan).expect("write");
    let loaded = load(&path, &[]).expect("valid");
    assert_eq!(loaded.sources["pru.cars"], "Plan");
    assert_eq!(loaded.sources["acute.beds"], "Base beds");
}

#[test]
fn the_baseline_cites_a_source_for_every_value() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/tower-hamlets-baseline.toml");
    let loaded = load(&path, &[]).expect("baseline loads");
    let doc = ScenarioDoc::parse_str(&loaded.resolved_toml, Path::new("run.json")).expect("parses");
    let uncited: Vec<String> = doc
        .parameters()
        .into_iter()
        .map(|(k, _)| k)
        .filter(|k| !k.starts_with("scenario.name") && !k.starts_with("scenario.description"))
        .filter(|k| !loaded.sources.contains_key(k))
        .collect();
    assert!(uncited.is_empty(), "no source for {uncited:?}");
}

// Regressions found by the broken corpus and the fuzz target's properties.

#[test]
fn a_parameter_written_beside_a_new_family_is_refused_not_dropped() {
    // Changing the family drops *inherited* parameters the family does not
    // take; one written in the same table must be reported.
    let dir = tempfile::tempdir().expect("tempdir");
    let plan = write_extending(
        dir.path(),
        "plan.toml",
        fixture("minimal.toml"),
        "[pru]\nvisit = { dist = \"exponential\", mean = \"90m\", sd = \"30m\" }\n",
    );
    let e = load(&plan, &[]).expect_err("sd is not a parameter of exponential");
    check(
        "a parameter beside a new family",
        &e,
        ErrorKind::UnknownKey,
        3,
        47,
        "pru.visit.sd",
        "unknown key `sd` for `exponential`",
    );
}

#[test]
fn load_bytes_matches_load_and_its_resolved_toml_loads_again() {
    let bytes = std::fs::read(fixture("full.toml")).expect("fixture");
    let sets = vec!["pru.cars=3".to_string()];
    // At the fixture's own path: its `start.census` is relative to it.
    let from_bytes = load_bytes(&bytes, &fixture("full.toml"), &sets).expect("valid");
    let from_file = load(&fixture("full.toml"), &sets).expect("valid");
    assert_eq!(from_bytes.resolved_toml, from_file.resolved_toml);
    let again = load_bytes(
        from_bytes.resolved_toml.as_bytes(),
        Path::new("resolved.toml"),
        &[],
    )
    .expect("the resolved document loads");
    assert_eq!(again.resolved_toml, from_bytes.resolved_toml);
    let e = load_bytes(b"\xff\xfe", Path::new("x.toml"), &[]).expect_err("not UTF-8");
    assert_eq!(e.kind(), ErrorKind::Syntax);
}

//! The report of a comparison or sweep directory: headline sentences per
//! plan, forest plots (compare) or effect-against-value charts (sweep), a
//! table of every plan and headline, provenance, and links to each
//! scenario's own run report.
//!
//! Built from the texts of `comparison.csv` / `sweep.csv`,
//! `experiment.json` and each scenario's run files (`run.json`; the
//! baseline's `summary.csv` and `daily_bands.csv` for the appendix) only,
//! both when the directory is written and by `patientflow report DIR`, so
//! the two give the same bytes.

use std::io;
use std::path::Path;

use crate::model::headlines::{COMPARISON, Compared, Direction, has_mental_health};
use crate::model::metrics::{METRIC_COUNT, Metric};

use serde::Deserialize;

use super::RebuildError;
use super::charts::{self, Estimate, ForestPlot, SweepChart, SweepLine};
use super::data::ReportError;
use super::document::{self, Block, Chart, Document, Section, Table};
use super::experiment_outputs::{ArmRecord, EXPERIMENT_FILE, ExperimentManifest};
use super::prose::{
    Finding, effect_exponent, more_or_fewer, paren, precision_exponent, prose_count, prose_number,
    unclear_change,
};
use super::readback::{Num, Records};
use super::run_report::per_window;
use super::text_cell;
use super::{DOES_NOT_SETTLE, MARK, Warning, report_text, unsettled};

/// The caveat under the headline figures of a comparison.
pub const PLANS_CAVEAT: &str = "These figures compare capacity plans under the assumptions \
stated in each scenario file (its parameters and their sources, listed in each scenario's own \
report). They are not a forecast: they say how the model expects the plans to differ, with the \
uncertainty that comes from running a finite number of replications, not the uncertainty in the \
assumptions themselves.";

/// One plan's effect on one metric, as `comparison.csv` has it (diff is
/// plan minus baseline). Undefined cells are NaN.
#[derive(Clone, Debug, PartialEq)]
pub struct EffectRow {
    /// The metric.
    pub metric: Metric,
    /// Its mean in the baseline.
    pub baseline_mean: f64,
    /// Its mean in the plan.
    pub plan_mean: f64,
    /// The mean paired difference, plan minus baseline.
    pub diff_mean: f64,
    /// The 95% confidence interval of that difference: lower end.
    pub diff_low: f64,
    /// Upper end.
    pub diff_high: f64,
}

/// A plan with its rows, in the order of the table.
#[derive(Clone, Debug)]
pub struct PlanEffects {
    /// Its directory (the `plan` column).
    pub name: String,
    /// What the report calls it: the scenario's own name for a compared
    /// plan, the swept values for a sweep's (every plan of a sweep shares
    /// the sweep file's name).
    pub label: String,
    /// The values of the swept keys (empty for a comparison).
    pub swept_values: Vec<String>,
    /// Its effect on each metric.
    pub rows: Vec<EffectRow>,
}

impl PlanEffects {
    fn row(&self, metric: Metric) -> Option<&EffectRow> {
        self.rows.iter().find(|r| r.metric == metric)
    }

    /// Whether the baseline or the plan has mental health crises (its
    /// mental health headlines are shown).
    pub fn has_mental_health(&self) -> bool {
        self.row(Metric::MhCrises)
            .is_some_and(|r| has_mental_health(r.baseline_mean) || has_mental_health(r.plan_mean))
    }

    /// A headline's effect, mean and interval, with the headline's sign:
    /// "avoided" and "saved" are baseline minus plan, so the mean is
    /// negated and the interval flipped.
    pub fn effect(&self, h: &Compared) -> Option<(f64, f64, f64)> {
        self.row(h.metric).map(|r| {
            if h.sign() < 0.0 {
                (-r.diff_mean, -r.diff_high, -r.diff_low)
            } else {
                (r.diff_mean, r.diff_low, r.diff_high)
            }
        })
    }
}

fn malformed(file: &str, message: String) -> ReportError {
    ReportError::Malformed {
        file: file.to_string(),
        message,
    }
}

/// The warnings of the plan named `name`.
fn warnings_of<'a>(manifest: &'a ExperimentManifest, name: &str) -> &'a [Warning] {
    manifest
        .arms
        .iter()
        .find(|a| a.name == name)
        .map_or(&[], |a| &a.warnings)
}

/// A swept key in words, for sentences, legends and axes: the shipped
/// sweeps' keys by name (`care_homes.beds` is "care home beds"), any other
/// key with its dots and underscores as spaces (`community.caseload_per_team`
/// is "community caseload per team"). The name says what is counted, so it
/// is also the unit of a count.
pub fn key_label(key: &str) -> String {
    const NAMED: [(&str, &str); 8] = [
        ("community.teams", "community nursing teams"),
        ("care_homes.beds", "care home beds"),
        ("pru.cars", "PRU cars"),
        ("pru.open", "PRU opening hours"),
        ("frailty_unit.slots", "frailty unit places"),
        ("frailty_unit.open", "frailty unit opening hours"),
        ("acute.beds", "acute beds"),
        ("rehab.beds", "rehab beds"),
    ];
    match NAMED.iter().find(|(k, _)| *k == key) {
        Some((_, label)) => (*label).to_string(),
        None => key.replace(['.', '_'], " "),
    }
}

/// "care home beds = 369, community nursing teams = 16".
fn values_label(keys: &[String], values: &[String]) -> String {
    keys.iter()
        .zip(values)
        .map(|(k, v)| format!("{} = {v}", key_label(k)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the report calls an arm (see [`PlanEffects::label`]).
fn arm_label(manifest: &ExperimentManifest, arm: &ArmRecord) -> String {
    if !arm.swept_values.is_empty() {
        values_label(&manifest.swept_keys, &arm.swept_values)
    } else if arm.scenario_name.is_empty() || manifest.kind == "sweep" {
        // A sweep's unswept scenario carries the sweep file's name, which
        // would read as if it were the sweep; its folder says what it is.
        arm.name.clone()
    } else {
        arm.scenario_name.clone()
    }
}

/// A row of `comparison.csv` / `sweep.csv` as the file holds it (the
/// swept keys' columns, between `plan` and `metric`, are not read: each
/// plan's values are in `experiment.json`).
#[derive(Deserialize)]
struct EffectRecord {
    plan: String,
    metric: Metric,
    unit: String,
    baseline_mean: Num,
    plan_mean: Num,
    diff_mean: Num,
    diff_ci95_low: Num,
    diff_ci95_high: Num,
}

/// A cell's text as a CSV reader gives it back from [`text_cell`].
fn read_back(cell: &str) -> String {
    let text = text_cell(cell);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    let mut record = csv::StringRecord::new();
    match reader.read_record(&mut record) {
        Ok(true) => record.get(0).unwrap_or("").to_string(),
        _ => text,
    }
}

/// Reads `comparison.csv` / `sweep.csv` (a stream, no further than a row
/// per plan and metric) into the plans of `manifest`, in its order. Plan
/// names are taken from `experiment.json` (the CSV holds them
/// Excel-escaped) and each must match its rows' `plan` cell.
pub fn parse_effects<R: io::Read>(
    manifest: &ExperimentManifest,
    reader: R,
) -> Result<Vec<PlanEffects>, ReportError> {
    let file = manifest.table_file();
    let bad = |m: String| malformed(file, m);
    let max_rows = manifest.arms.len().saturating_sub(1) * METRIC_COUNT;
    let mut records = Records::new(reader, max_rows)
        .map_err(bad)?
        .limit_says(format!("a row per plan and metric ({max_rows})"));
    let expected = super::comparison_header(&manifest.swept_keys);
    let expected = Records::new(expected.as_bytes(), 0).map_err(bad)?;
    if records.header() != expected.header() {
        let cells: Vec<&str> = expected.header().iter().collect();
        return Err(bad(format!(
            "line 1: expected the header `{}`",
            cells.join(",")
        )));
    }
    let mut plans: Vec<(String, PlanEffects)> = manifest
        .arms
        .iter()
        .skip(1)
        .map(|a| {
            (
                read_back(&a.name),
                PlanEffects {
                    name: a.name.clone(),
                    label: arm_label(manifest, a),
                    swept_values: a.swept_values.clone(),
                    rows: Vec::new(),
                },
            )
        })
        .collect();
    let max = super::readback::MAX_VALUE;
    while let Some((line, r)) = records.next_row::<EffectRecord>().map_err(bad)? {
        let plan = plans
            .iter_mut()
            .find(|(cell, _)| *cell == r.plan)
            .map(|(_, p)| p)
            .ok_or_else(|| {
                bad(format!(
                    "line {line}: plan `{}` is not in {EXPERIMENT_FILE}",
                    r.plan
                ))
            })?;
        if r.unit != r.metric.unit() {
            return Err(bad(format!(
                "line {line}, column `unit`: {:?} is not the unit of {}",
                r.unit,
                r.metric.name()
            )));
        }
        let num = |v: Num, column: &str| v.within(line, column, -max, max).map_err(bad);
        plan.rows.push(EffectRow {
            metric: r.metric,
            baseline_mean: num(r.baseline_mean, "baseline_mean")?,
            plan_mean: num(r.plan_mean, "plan_mean")?,
            diff_mean: num(r.diff_mean, "diff_mean")?,
            diff_low: num(r.diff_ci95_low, "diff_ci95_low")?,
            diff_high: num(r.diff_ci95_high, "diff_ci95_high")?,
        });
    }
    Ok(plans.into_iter().map(|(_, p)| p).collect())
}

/// "a year", "over the N-day window", or "over the window" when the
/// directory does not record its window.
fn per_window_text(manifest: &ExperimentManifest) -> String {
    match manifest.window_days {
        Some(d) => per_window(d as usize),
        None => "over the window".to_string(),
    }
}

/// `95% CI a to b` with both ends rounded to `10^exponent`, or nothing
/// when the interval is undefined or has no width.
fn ci_text(low: f64, high: f64, exponent: i32) -> String {
    if low.is_finite() && high.is_finite() && high > low {
        format!(
            "95% CI {} to {}",
            prose_number(low, exponent),
            prose_number(high, exponent)
        )
    } else {
        String::new()
    }
}

/// One effect of a plan's sentence, in plain words, worded by what its
/// interval shows ([`Finding`]; `per` is the window's words or nothing):
/// - fewer, for an "avoided" or "saved" headline: `an estimated 481
///   emergency admissions avoided a year (95% CI 472 to 491)`;
/// - otherwise fewer or more: `an estimated 12 more emergency admissions a
///   year (95% CI 5 to 19)`;
/// - an interval that includes no change: `no clear change in emergency
///   admissions a year (an estimated 3 fewer; 95% CI 10 fewer to 4 more)`;
/// - every replication the same as the baseline: `no change in ...`.
///
/// Numbers are sizes (never negative): the words say which way.
pub fn effect_clause(plan: &PlanEffects, h: &Compared, per: &str) -> String {
    let per = if per.is_empty() {
        String::new()
    } else {
        format!(" {per}")
    };
    let noun = h.effect.noun;
    let Some(r) = plan.row(h.metric) else {
        return format!("no figure for {noun}{per}");
    };
    // Plan minus baseline, as comparison.csv has it.
    let (d, lo, hi) = (
        r.diff_mean,
        r.diff_low.min(r.diff_high),
        r.diff_low.max(r.diff_high),
    );
    let e = effect_exponent(d, lo, hi);
    let size = |x: f64| prose_number(x, e);
    let fewer = match h.effect.direction {
        Direction::Reduction { past, .. } => format!("{noun} {past}"),
        Direction::Change => format!("fewer {noun}"),
    };
    match Finding::of(d, lo, hi) {
        Finding::Undefined => format!("no figure for {noun}{per}"),
        Finding::None | Finding::NoInterval(None) => format!("no change in {noun}{per}"),
        Finding::Unclear => unclear_change(&format!("in {noun}{per}"), d, lo, hi, e),
        Finding::Down | Finding::NoInterval(Some(false)) => format!(
            "an estimated {} {fewer}{per}{}",
            size(-d),
            paren(&ci_text(-hi, -lo, e))
        ),
        Finding::Up | Finding::NoInterval(Some(true)) => format!(
            "an estimated {} more {noun}{per}{}",
            size(d),
            paren(&ci_text(lo, hi, e))
        ),
    }
}

/// The headline sentence of one plan in a comparison: its effect on the
/// first five [`COMPARISON`] headlines, the window's words after the first;
/// then a sentence on the community nursing waiting list (the sixth, a main
/// effect of community plans); then, when the baseline or the plan has
/// mental health, a sentence on the mental health headlines.
pub fn plan_sentence(plan: &PlanEffects, per: &str, days: Option<f64>) -> String {
    // "Name: ..." rather than "Name avoids": a plan's name may be plural
    // ("Four more teams") and a verb must still agree.
    let mut sentence = format!(
        "{}: {}, {}, {}, {} and {}, compared with the baseline.",
        plan.label,
        effect_clause(plan, &COMPARISON[0], per),
        bed_days_clause(plan, &COMPARISON[1], days),
        effect_clause(plan, &COMPARISON[2], ""),
        effect_clause(plan, &COMPARISON[3], ""),
        occupied_beds_clause(plan, &COMPARISON[4], per, days),
    );
    if plan.row(COMPARISON[5].metric).is_some() {
        sentence.push_str(&format!(
            " In community nursing: {}.",
            effect_clause(plan, &COMPARISON[5], "")
        ));
    }
    if plan.has_mental_health() {
        let clauses: Vec<String> = COMPARISON
            .iter()
            .filter(|h| h.effect.mental_health)
            .enumerate()
            .map(|(i, h)| effect_clause(plan, h, if i == 0 { per } else { "" }))
            .collect();
        sentence.push_str(&format!(
            " In mental health: {}.",
            super::prose::and_list(&clauses)
        ));
    }
    sentence
}

/// The delayed-bed-days clause of a plan's sentence and, when the change is
/// clear, the same as beds held all through the window (bed days over the
/// window's `days`): "an estimated 3,500 delayed bed days saved (95% CI
/// 2,100 to 4,900; the equivalent of 9.6 beds)".
fn bed_days_clause(plan: &PlanEffects, h: &Compared, days: Option<f64>) -> String {
    let clause = effect_clause(plan, h, "");
    let Some((r, days)) = plan.row(h.metric).zip(days).filter(|(_, d)| *d > 0.0) else {
        return clause;
    };
    let (d, lo, hi) = (r.diff_mean, r.diff_low, r.diff_high);
    match Finding::of(d, lo, hi) {
        Finding::Up | Finding::Down => {
            let beds = (d / days).abs();
            let e = precision_exponent(beds, (hi - lo).abs() / days / 2.0);
            let beds = format!("the equivalent of {} beds", prose_number(beds, e));
            // Inside the clause's parenthesis, so that the sentence's
            // commas still separate headlines.
            match clause.strip_suffix(')') {
                Some(open) => format!("{open}; {beds})"),
                None => format!("{clause} ({beds})"),
            }
        }
        _ => clause,
    }
}

/// The occupied-beds clause of a plan's sentence: the change in
/// time-averaged occupied beds and, when it is clear, the same as bed days
/// over the window (`days` long): "an estimated 16 more occupied acute beds
/// (95% CI 11 to 21), about 5,900 more bed days a year".
fn occupied_beds_clause(plan: &PlanEffects, h: &Compared, per: &str, days: Option<f64>) -> String {
    let clause = effect_clause(plan, h, "");
    let Some((r, days)) = plan.row(h.metric).zip(days) else {
        return clause;
    };
    let (d, lo, hi) = (r.diff_mean, r.diff_low, r.diff_high);
    match Finding::of(d, lo, hi) {
        Finding::Up | Finding::Down => {
            let bed_days = d * days;
            let e = precision_exponent(bed_days, (hi - lo).abs() * days / 2.0);
            format!(
                "{clause}, about {} bed days {per}",
                more_or_fewer(bed_days, e)
            )
        }
        _ => clause,
    }
}

/// "1 shows", "3 show" (`verb` is the plural form; `has` becomes `have`).
fn count_verb(n: usize, singular: &str, plural: &str) -> String {
    format!(
        "{} {}",
        prose_count(n as u64),
        if n == 1 { singular } else { plural }
    )
}

/// The sweep's sentence for one "avoided" or "saved" headline. A plan is
/// named as the best only when it is better than the baseline (its 95% CI
/// lies wholly on the good side of no change): the one with the largest
/// estimate among those. Otherwise the sentence says that no plan improves
/// on the baseline, and how the plans fall (more, no clear change, no
/// change). `None` for a headline without a good direction.
pub fn best_plan_sentence(plans: &[PlanEffects], h: &Compared, per: &str) -> Option<String> {
    let Direction::Reduction { present, .. } = h.effect.direction else {
        return None;
    };
    let noun = h.effect.noun;
    let findings: Vec<(&PlanEffects, Finding, (f64, f64, f64))> = plans
        .iter()
        .map(|p| {
            let e = p.effect(h).unwrap_or((f64::NAN, f64::NAN, f64::NAN));
            (p, Finding::of(e.0, e.1, e.2), e)
        })
        .collect();
    let count = |f: &dyn Fn(Finding) -> bool| findings.iter().filter(|x| f(x.1)).count();
    let better = count(&|f| f == Finding::Up);
    // The largest estimate; the first in run order on a tie.
    if let Some((best, _, (m, lo, hi))) = findings
        .iter()
        .filter(|x| x.1 == Finding::Up)
        .reduce(|best, x| if x.2.0 > best.2.0 { x } else { best })
    {
        let e = effect_exponent(*m, *lo, *hi);
        let plural = present.strip_suffix('s').unwrap_or(present);
        let how_many = if better == plans.len() && better == 2 {
            format!("both {plural}")
        } else if better == plans.len() && better > 2 {
            format!("all {}", count_verb(better, present, plural))
        } else {
            count_verb(better, present, plural)
        };
        // Plans whose estimate the table shows as the same number.
        let shown = prose_number(*m, e);
        let ties: Vec<String> = findings
            .iter()
            .filter(|x| x.1 == Finding::Up && !std::ptr::eq(x.0, *best))
            .filter(|x| prose_number(x.2.0, effect_exponent(x.2.0, x.2.1, x.2.2)) == shown)
            .map(|x| x.0.label.clone())
            .collect();
        let ties = if ties.is_empty() {
            String::new()
        } else {
            let verb = if ties.len() == 1 { "shows" } else { "show" };
            // Labels of a sweep hold commas: separate them by semicolons.
            let list = if ties.iter().any(|t| t.contains(',')) && ties.len() > 1 {
                let (last, init) = ties.split_last().expect("not empty");
                format!("{}; and {last}", init.join("; "))
            } else {
                super::prose::and_list(&ties)
            };
            format!(" (rounded, {list} {verb} the same)")
        };
        return Some(format!(
            "Of the {}, {how_many} {noun} compared with the baseline (a 95% CI wholly above no \
             change); {} {present} the most{ties}: an estimated {shown} {per}{}.",
            plans_text(plans.len()),
            best.label,
            paren(&ci_text(*lo, *hi, e))
        ));
    }
    Some(format!(
        "No plan improves on the baseline in {noun}: of the {}, {}.",
        plans_text(plans.len()),
        super::prose::and_list(&how_plans_fall(&findings, noun))
    ))
}

/// How the plans of a sweep fall on one headline when none is clearly
/// better: "3 show more ...", "6 show no clear change ...", ...
/// `findings` are in the good direction (a `Finding::Down` is worse).
fn how_plans_fall<T>(findings: &[(T, Finding, (f64, f64, f64))], noun: &str) -> Vec<String> {
    let count = |f: &dyn Fn(Finding) -> bool| findings.iter().filter(|x| f(x.1)).count();
    let mut how = Vec::new();
    let worse = count(&|f| matches!(f, Finding::Down | Finding::NoInterval(Some(false))));
    if worse > 0 {
        how.push(format!(
            "{} more {noun}",
            count_verb(worse, "shows", "show")
        ));
    }
    let unclear = count(&|f| f == Finding::Unclear);
    if unclear > 0 {
        how.push(format!(
            "{} no clear change (a 95% CI that includes no change)",
            count_verb(unclear, "shows", "show")
        ));
    }
    let same = count(&|f| matches!(f, Finding::None | Finding::NoInterval(None)));
    if same > 0 {
        how.push(format!(
            "{} no change at all (every replication the same as the baseline's)",
            count_verb(same, "shows", "show")
        ));
    }
    let unknown = count(&|f| matches!(f, Finding::Undefined | Finding::NoInterval(Some(true))));
    if unknown > 0 {
        how.push(format!(
            "{} no confidence interval to tell",
            count_verb(unknown, "has", "have")
        ));
    }
    how
}

/// The sweep's sentence for a headline that is a change (occupied beds, the
/// community nursing waiting list), where fewer is better: the plan with
/// the largest clear fall is named, as [`best_plan_sentence`] names the
/// best; otherwise how the plans fall. `None` for a reduction headline.
pub fn fewest_plan_sentence(plans: &[PlanEffects], h: &Compared) -> Option<String> {
    if h.effect.direction != Direction::Change {
        return None;
    }
    let noun = h.effect.noun;
    // Baseline minus plan: positive is fewer.
    let findings: Vec<(&PlanEffects, Finding, (f64, f64, f64))> = plans
        .iter()
        .map(|p| {
            let e = p
                .effect(h)
                .map_or((f64::NAN, f64::NAN, f64::NAN), |(m, lo, hi)| (-m, -hi, -lo));
            (p, Finding::of(e.0, e.1, e.2), e)
        })
        .collect();
    let fewer = findings.iter().filter(|x| x.1 == Finding::Up).count();
    if let Some((best, _, (m, lo, hi))) = findings
        .iter()
        .filter(|x| x.1 == Finding::Up)
        .reduce(|best, x| if x.2.0 > best.2.0 { x } else { best })
    {
        let e = effect_exponent(*m, *lo, *hi);
        return Some(format!(
            "Of the {}, {} fewer {noun} than the baseline (a 95% CI wholly below no change); \
             {} shows the fewest: an estimated {} fewer{}.",
            plans_text(plans.len()),
            count_verb(fewer, "shows", "show"),
            best.label,
            prose_number(*m, e),
            paren(&ci_text(*lo, *hi, e))
        ));
    }
    Some(format!(
        "No plan shows fewer {noun} than the baseline: of the {}, {}.",
        plans_text(plans.len()),
        super::prose::and_list(&how_plans_fall(&findings, noun))
    ))
}

/// "1 plan", "12 plans".
fn plans_text(n: usize) -> String {
    if n == 1 {
        "1 plan".to_string()
    } else {
        format!("{} plans", prose_count(n as u64))
    }
}

fn slug(label: &str) -> String {
    label
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

const CI_CAPTION: &str = "Intervals are 95% confidence intervals of the mean paired \
difference over replications with common random numbers (Student t): uncertainty about the \
mean effect, not a range of outcomes. \"Avoided\" and \"saved\" are baseline minus plan (the \
negative of diff_mean in the table file), so positive is good.";

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn forest_charts(plans: &[PlanEffects], per: &str, reps: u32) -> io::Result<Vec<Chart>> {
    let mut out = Vec::new();
    for h in &COMPARISON[..3] {
        let estimates: Vec<Estimate> = plans
            .iter()
            .map(|p| {
                let (mean, low, high) = p.effect(h).unwrap_or((f64::NAN, f64::NAN, f64::NAN));
                Estimate {
                    label: p.label.clone(),
                    mean,
                    low,
                    high,
                }
            })
            .collect();
        let title = format!("{} {per}, by plan", capitalise(h.effect.label));
        let x_label = format!(
            "{} (baseline minus plan, {})",
            capitalise(h.effect.label),
            h.effect.unit_words
        );
        let caption = format!(
            "{CI_CAPTION} {} replications.",
            prose_count(u64::from(reps))
        );
        let svg = charts::forest_plot(&ForestPlot {
            title: &title,
            x_label: &x_label,
            caption: &caption,
            point_legend: "Mean effect",
            interval_legend: "95% CI of the mean paired difference",
            estimates: &estimates,
        })?;
        out.push(Chart {
            file: format!("forest-{}.svg", slug(h.effect.label)),
            title,
            caption,
            svg,
        });
    }
    Ok(out)
}

/// The swept key a sweep's charts put on the x axis: the one with the most
/// distinct values (the first of those, in the order of `sweep.csv`'s
/// columns, on a tie), so the widest range of a key reads left to right.
pub fn x_key(keys: usize, plans: &[PlanEffects]) -> Option<usize> {
    (0..keys).max_by(|&a, &b| {
        distinct_values(plans, a)
            .len()
            .cmp(&distinct_values(plans, b).len())
            .then(b.cmp(&a))
    })
}

/// The values key `k` takes, in the order the sweep ran them.
fn distinct_values(plans: &[PlanEffects], k: usize) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for p in plans {
        if let Some(x) = p.swept_values.get(k)
            && !v.contains(x)
        {
            v.push(x.clone());
        }
    }
    v
}

fn sweep_charts(
    manifest: &ExperimentManifest,
    plans: &[PlanEffects],
    per: &str,
) -> io::Result<Vec<Chart>> {
    let keys = &manifest.swept_keys;
    let Some(xk) = x_key(keys.len(), plans) else {
        return Ok(Vec::new());
    };
    let x_name = key_label(&keys[xk]);
    let xs = distinct_values(plans, xk);
    // One line per combination of the other keys' values, in run order.
    let others = |p: &PlanEffects| -> Vec<String> {
        p.swept_values
            .iter()
            .enumerate()
            .filter(|(k, _)| *k != xk)
            .map(|(_, v)| v.clone())
            .collect()
    };
    let other_keys: Vec<String> = keys
        .iter()
        .enumerate()
        .filter(|(k, _)| *k != xk)
        .map(|(_, key)| key.clone())
        .collect();
    let mut combos: Vec<Vec<String>> = Vec::new();
    for p in plans {
        let o = others(p);
        if !combos.contains(&o) {
            combos.push(o);
        }
    }
    let mut out = Vec::new();
    for h in &COMPARISON[..2] {
        let lines: Vec<SweepLine> = combos
            .iter()
            .map(|combo| SweepLine {
                label: values_label(&other_keys, combo),
                estimates: xs
                    .iter()
                    .map(|x| {
                        let plan = plans
                            .iter()
                            .find(|p| p.swept_values.get(xk) == Some(x) && others(p) == *combo);
                        let (mean, low, high) = plan.and_then(|p| p.effect(h)).unwrap_or((
                            f64::NAN,
                            f64::NAN,
                            f64::NAN,
                        ));
                        Estimate {
                            label: x.clone(),
                            mean,
                            low,
                            high,
                        }
                    })
                    .collect(),
            })
            .collect();
        let title = format!("{} {per}, by {x_name}", capitalise(h.effect.label));
        // Short, so it fits the chart's height; the caption says which way
        // round the difference is.
        let y_label = format!("{} ({})", capitalise(h.effect.label), h.effect.unit_words);
        let caption = format!(
            "{CI_CAPTION} Shaded: the 95% CI band of each line, in its colour; the grey \
             horizontal line is no effect. {} replications.",
            prose_count(u64::from(manifest.replications))
        );
        let x_label = format!("{} ({})", capitalise(&x_name), keys[xk]);
        let svg = charts::sweep_chart(&SweepChart {
            title: &title,
            x_label: &x_label,
            y_label: &y_label,
            caption: &caption,
            x_values: &xs,
            lines: &lines,
        })?;
        out.push(Chart {
            file: format!("sweep-{}.svg", slug(h.effect.label)),
            title,
            caption,
            svg,
        });
    }
    Ok(out)
}

/// A value of the table, rounded to the precision of the effect's interval.
fn rounded(x: f64, mean: f64, low: f64, high: f64) -> String {
    prose_number(x, effect_exponent(mean, low, high))
}

fn effects_table(manifest: &ExperimentManifest, plans: &[PlanEffects]) -> Table {
    // A sweep's plans are named by their swept values, which have their
    // own columns.
    let sweep = !manifest.swept_keys.is_empty();
    let mut header = if sweep {
        Vec::new()
    } else {
        vec!["Plan".to_string()]
    };
    header.extend(manifest.swept_keys.iter().cloned());
    header.extend(
        [
            "Headline",
            "Unit",
            "Baseline mean",
            "Plan mean",
            "Effect",
            "95% CI of effect",
        ]
        .map(String::from),
    );
    let mut numeric = vec![false; header.len() - 4];
    numeric.extend([true; 4]);
    let mut rows = Vec::new();
    for p in plans {
        let mental_health = p.has_mental_health();
        for h in COMPARISON.iter().filter(|h| h.shown(mental_health)) {
            let Some(r) = p.row(h.metric) else { continue };
            let Some((m, lo, hi)) = p.effect(h) else {
                continue;
            };
            let mut row = if sweep {
                Vec::new()
            } else {
                vec![p.label.clone()]
            };
            row.extend(p.swept_values.iter().cloned());
            // A plan with warnings is marked in its first cell.
            let warnings = warnings_of(manifest, &p.name);
            if !warnings.is_empty() {
                row[0] = format!("{} {MARK}", row[0]);
            }
            let ci = if unsettled(warnings, h.metric) {
                format!("{MARK} {DOES_NOT_SETTLE}")
            } else if lo.is_finite() && hi.is_finite() && hi > lo {
                format!("{} to {}", rounded(lo, m, lo, hi), rounded(hi, m, lo, hi))
            } else {
                "n/a".to_string()
            };
            row.extend([
                h.effect.label.to_string(),
                h.metric.unit().replace('_', " "),
                rounded(r.baseline_mean, m, lo, hi),
                rounded(r.plan_mean, m, lo, hi),
                rounded(m, m, lo, hi),
                ci,
            ]);
            rows.push(row);
        }
    }
    Table {
        header,
        rows,
        numeric,
    }
}

fn provenance_section(manifest: &ExperimentManifest, runs: &ArmRuns) -> Section {
    let kv = |k: &str, v: String| vec![k.to_string(), v];
    let base = &runs.baseline.manifest;
    let mut rows = vec![
        kv("patientflow version", manifest.software_version.clone()),
        kv(
            "Commit",
            base.git_commit
                .clone()
                .unwrap_or_else(|| "not recorded (built without git)".to_string()),
        ),
        kv(
            "Run started (UTC)",
            if base.run_started_utc.is_empty() {
                "not recorded".to_string()
            } else {
                base.run_started_utc.clone()
            },
        ),
        kv(
            "Statistics window (every scenario)",
            format!(
                "{}, after {} of warm-up from {}",
                super::run_report::window_text(&runs.baseline),
                super::run_report::days_text(base.warm_up_hours),
                base.start_date
            ),
        ),
        kv("Kind", manifest.kind.clone()),
        kv("Seed (every scenario)", manifest.seed.to_string()),
        kv(
            "Replications (every scenario)",
            prose_count(u64::from(manifest.replications)),
        ),
    ];
    if let Some(f) = &manifest.sweep_file {
        rows.push(kv("Sweep file", f.clone()));
        rows.push(kv("Swept keys", manifest.swept_keys.join(", ")));
    }
    if !manifest.merged_from.is_empty() {
        rows.push(kv("Merged from", manifest.merged_from.join(", ")));
    }
    rows.push(kv("Command line", manifest.command_line.join(" ")));
    let arms = Table {
        header: [
            "Scenario",
            "Role",
            "Scenario file",
            "SHA-256 of the resolved scenario",
        ]
        .map(String::from)
        .to_vec(),
        rows: manifest
            .arms
            .iter()
            .map(|a| {
                vec![
                    arm_label(manifest, a),
                    a.role.clone(),
                    a.scenario_path.clone(),
                    a.sha256.clone(),
                ]
            })
            .collect(),
        numeric: vec![false; 4],
    };
    Section {
        id: "provenance".into(),
        title: "How the numbers were made".into(),
        blocks: vec![
            Block::Paragraph(
                "Every scenario ran with the baseline's seed and replications, so replication r \
                 of each sees the same patients (common random numbers) and each plan's effect \
                 is the mean of its paired differences from the baseline."
                    .into(),
            ),
            Block::Table(Table {
                header: vec!["Item".into(), "Value".into()],
                rows,
                numeric: vec![false, false],
            }),
            Block::Subheading("Scenarios".into()),
            Block::Table(arms),
        ],
    }
}

/// Each scenario's dotted keys and values (TOML text), read from the
/// resolved scenario a run directory saves, with the `toml` crate alone:
/// tables, inline tables included, are walked down to their values; an
/// array is one value.
pub(crate) fn flatten_toml(text: &str) -> Result<Vec<(String, String)>, String> {
    fn walk(prefix: &str, table: &toml::Table, out: &mut Vec<(String, String)>) {
        for (k, v) in table {
            let key = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            match v {
                toml::Value::Table(t) => walk(&key, t, out),
                v => out.push((key, v.to_string())),
            }
        }
    }
    let table: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    walk("", &table, &mut out);
    Ok(out)
}

/// One key whose value differs between the baseline and a plan (`None`:
/// not set, so its documented default).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyChange {
    /// The dotted key.
    pub key: String,
    /// Its value (TOML text) in the baseline.
    pub baseline: Option<String>,
    /// Its value in the plan.
    pub plan: Option<String>,
}

/// The keys whose values differ between two resolved scenarios, in the
/// baseline's key order then the plan's new keys. The `scenario` table's
/// name and description, and the `[sources]` citations, are left out: they
/// describe a scenario rather than change it.
pub fn scenario_changes(baseline: &str, plan: &str) -> Result<Vec<KeyChange>, String> {
    let skip =
        |k: &str| k == "scenario.name" || k == "scenario.description" || k.starts_with("sources.");
    let base = flatten_toml(baseline)?;
    let plan = flatten_toml(plan)?;
    let find = |list: &[(String, String)], k: &str| {
        list.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    let mut out = Vec::new();
    for (k, v) in &base {
        if skip(k) {
            continue;
        }
        let p = find(&plan, k);
        if p.as_deref() != Some(v.as_str()) {
            out.push(KeyChange {
                key: k.clone(),
                baseline: Some(v.clone()),
                plan: p,
            });
        }
    }
    for (k, v) in &plan {
        if !skip(k) && find(&base, k).is_none() {
            out.push(KeyChange {
                key: k.clone(),
                baseline: None,
                plan: Some(v.clone()),
            });
        }
    }
    Ok(out)
}

/// What the report reads from each scenario's run directory.
pub struct ArmRuns {
    /// Each arm's `run.json`, in the order of `experiment.json`.
    pub manifests: Vec<super::RunManifest>,
    /// The baseline's run, read as its own report reads it.
    pub baseline: super::data::RunData,
}

/// Reads `run.json` text of arm `arm`, holding its resolved scenario to
/// the SHA-256 `experiment.json` records for it.
fn arm_manifest(arm: &ArmRecord, text: &str) -> Result<super::RunManifest, ReportError> {
    let file = format!("{}/run.json", arm.name);
    let m: super::RunManifest =
        serde_json::from_str(text).map_err(|e| malformed(&file, e.to_string()))?;
    let sha = crate::scenario::sha256_hex(m.resolved_toml.as_bytes());
    if !arm.sha256.is_empty() && sha != arm.sha256 {
        return Err(malformed(
            &file,
            format!(
                "its resolved scenario has SHA-256 {sha}, but {EXPERIMENT_FILE} records {}",
                arm.sha256
            ),
        ));
    }
    Ok(m)
}

/// The arms' runs from the files about to be written (paths relative to
/// the directory).
fn arm_runs_from_files(
    manifest: &ExperimentManifest,
    files: &[(String, String)],
) -> Result<ArmRuns, ReportError> {
    let text = |path: String| {
        files
            .iter()
            .find(|(name, _)| *name == path)
            .map(|(_, t)| t.as_str())
            .ok_or_else(|| malformed(&path, "missing".to_string()))
    };
    let mut manifests = Vec::new();
    for arm in &manifest.arms {
        manifests.push(arm_manifest(arm, text(format!("{}/run.json", arm.name))?)?);
    }
    let base = manifest
        .arms
        .first()
        .ok_or_else(|| malformed(EXPERIMENT_FILE, "no scenarios".to_string()))?;
    let baseline = super::data::RunData::from_texts(
        text(format!("{}/run.json", base.name))?,
        text(format!("{}/summary.csv", base.name))?,
        text(format!("{}/daily_bands.csv", base.name))?,
        // Its calibration values are not part of a comparison's report.
        text(format!("{}/replications.csv", base.name)).unwrap_or(""),
    )?;
    Ok(ArmRuns {
        manifests,
        baseline,
    })
}

/// The arms' runs from a directory written earlier: the baseline is read
/// and checked as its own report is, each `run.json` against the SHA-256
/// of its resolved scenario in `experiment.json`.
fn arm_runs_from_dir(manifest: &ExperimentManifest, dir: &Path) -> Result<ArmRuns, ReportError> {
    let mut manifests = Vec::new();
    for arm in &manifest.arms {
        let file = format!("{}/run.json", arm.name);
        let text = super::readback::read_json(&dir.join(&arm.name).join("run.json"))
            .map_err(|m| malformed(&file, m))?;
        manifests.push(arm_manifest(arm, &text)?);
    }
    let base = manifest
        .arms
        .first()
        .ok_or_else(|| malformed(EXPERIMENT_FILE, "no scenarios".to_string()))?;
    let baseline = super::data::RunData::read(&dir.join(&base.name))?;
    Ok(ArmRuns {
        manifests,
        baseline,
    })
}

/// Builds the report of a comparison or sweep from the texts of
/// `experiment.json` and its table file, and the files of each scenario's
/// run directory (`name/run.json`, ...) about to be written beside them.
pub fn experiment_document(
    experiment_json: &str,
    table: &str,
    files: &[(String, String)],
) -> Result<Document, RebuildError> {
    let manifest: ExperimentManifest = serde_json::from_str(experiment_json)
        .map_err(|e| malformed(EXPERIMENT_FILE, e.to_string()))?;
    let plans = parse_effects(&manifest, table.as_bytes())?;
    let runs = arm_runs_from_files(&manifest, files)?;
    let mut doc = document_of(&manifest, &plans, &runs)?;
    let yearly = files
        .iter()
        .find(|(n, _)| n == super::yearly::YEARLY_COMPARISON_FILE)
        .map(|(_, t)| t.as_str());
    add_years(&mut doc, yearly);
    Ok(doc)
}

/// Puts the section "Effects by year" after the first, when there is a
/// `yearly_comparison.csv`.
fn add_years(doc: &mut Document, yearly_comparison_csv: Option<&str>) {
    if let Some(section) = super::yearly::comparison_section(yearly_comparison_csv) {
        let at = doc.sections.len().min(1);
        doc.sections.insert(at, section);
    }
}

/// What the report calls the scenario a sweep's plans are compared with.
const UNSWEPT: &str = "the unswept scenario (the sweep file without its [sweep] table)";

/// Each plan's changed keys against the baseline, in plan order.
fn plan_changes(
    manifest: &ExperimentManifest,
    runs: &ArmRuns,
) -> Result<Vec<Vec<KeyChange>>, ReportError> {
    let base = runs
        .manifests
        .first()
        .ok_or_else(|| malformed(EXPERIMENT_FILE, "no scenarios".to_string()))?;
    manifest
        .arms
        .iter()
        .zip(&runs.manifests)
        .skip(1)
        .map(|(arm, m)| {
            scenario_changes(&base.resolved_toml, &m.resolved_toml)
                .map_err(|e| malformed(&format!("{}/run.json", arm.name), e))
        })
        .collect()
}

fn changes_section(plans: &[PlanEffects], changes: &[Vec<KeyChange>], sweep: bool) -> Section {
    let v = |x: &Option<String>| x.clone().unwrap_or_else(|| "(not set)".to_string());
    let mut rows = Vec::new();
    for (p, c) in plans.iter().zip(changes) {
        if c.is_empty() {
            rows.push(vec![
                p.label.clone(),
                "(none: every value as the baseline's)".to_string(),
                String::new(),
                String::new(),
            ]);
        }
        for k in c {
            rows.push(vec![
                p.label.clone(),
                k.key.clone(),
                v(&k.baseline),
                v(&k.plan),
            ]);
        }
    }
    let baseline = if sweep { UNSWEPT } else { "the baseline" };
    Section {
        id: "changes".into(),
        title: "What each plan changes".into(),
        blocks: vec![
            Block::Paragraph(format!(
                "Every key whose value differs between each plan's resolved scenario and that of \
                 {baseline}, as the run.json of each scenario's folder records them (values as \
                 written in the scenario format; \u{201c}(not set)\u{201d} is the documented \
                 default). Scenario names, descriptions and [sources] citations are left out."
            )),
            Block::Table(Table {
                header: ["Plan", "Key", "Baseline", "Plan's value"]
                    .map(String::from)
                    .to_vec(),
                rows,
                numeric: vec![false; 4],
            }),
        ],
    }
}

/// The STRESS-DES words of a comparison or sweep.
fn experiment_stress(
    manifest: &ExperimentManifest,
    plans: &[PlanEffects],
    baseline: &str,
) -> super::run_report::ExperimentStress {
    let sweep = manifest.kind == "sweep";
    let subject = if sweep {
        format!("This sweep: {} against {baseline}", plans_text(plans.len()))
    } else {
        format!(
            "This comparison: {} against \u{201c}{baseline}\u{201d}",
            plans_text(plans.len())
        )
    };

    let files: Vec<String> = manifest
        .arms
        .iter()
        .map(|a| a.scenario_path.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    super::run_report::ExperimentStress {
        subject,
        aims: format!(
            "The {} listed under \u{201c}What each plan changes\u{201d}, each against {baseline}.",
            plans_text(plans.len())
        ),
        scenario_logic: format!(
            "Each plan is a scenario that differs from the baseline in the keys listed under \
             \u{201c}What each plan changes\u{201d}; scenario files: {}. The parameter table of \
             each scenario's own report lists every value used.",
            files.join(", ")
        ),
        estimation: format!(
            "Those are the baseline's figures. Every scenario ran the same {} replications with \
             the same seed (common random numbers), and each plan's effect is the mean of its \
             paired differences from the baseline with a Student t 95% CI.",
            prose_count(u64::from(manifest.replications))
        ),
    }
}

/// The report of a comparison or sweep from its manifest, effects and
/// the scenarios' runs.
fn document_of(
    manifest: &ExperimentManifest,
    plans: &[PlanEffects],
    runs: &ArmRuns,
) -> Result<Document, RebuildError> {
    let per = per_window_text(manifest);
    let sweep = manifest.kind == "sweep";
    let baseline = if sweep {
        UNSWEPT.to_string()
    } else {
        manifest
            .arms
            .first()
            .map_or_else(String::new, |a| arm_label(manifest, a))
    };
    let changes = plan_changes(manifest, runs)?;

    let settles =
        |p: &PlanEffects, h: &Compared| !unsettled(warnings_of(manifest, &p.name), h.metric);
    let mut headlines: Vec<String> = if sweep {
        // A figure that does not settle is no plan's effect: the best plan
        // is sought among the others.
        // Every headline the comparison shows, so that no main effect of a
        // sweep's plans (a community waiting list, occupied beds) is left
        // to the table alone.
        let mental_health = plans.iter().any(PlanEffects::has_mental_health);
        COMPARISON
            .iter()
            .filter(|h| h.shown(mental_health))
            .filter_map(|h| {
                let settled: Vec<PlanEffects> =
                    plans.iter().filter(|p| settles(p, h)).cloned().collect();
                best_plan_sentence(&settled, h, &per).or_else(|| fewest_plan_sentence(&settled, h))
            })
            .collect()
    } else {
        let days = manifest.window_days.map(|d| d as f64);
        plans.iter().map(|p| plan_sentence(p, &per, days)).collect()
    };
    let unsettled_plans: Vec<&str> = plans
        .iter()
        .filter(|p| COMPARISON[..3].iter().any(|h| !settles(p, h)))
        .map(|p| p.label.as_str())
        .collect();
    if !unsettled_plans.is_empty() {
        headlines.push(format!(
            "{MARK} In {}, a service is overloaded: the figures of its queue do not settle \
             (the queue grows through the run), so they are marked in the table below and are \
             not effects of the plan{}.",
            unsettled_plans.join("; "),
            if sweep {
                ", so the sentences above leave them out"
            } else {
                ""
            }
        ));
    }
    let warnings: Vec<Block> = manifest
        .arms
        .iter()
        .flat_map(|a| &a.warnings)
        .map(|w| Block::Warning(report_text(w)))
        .collect();
    let charts = if sweep {
        sweep_charts(manifest, plans, &per)?
    } else {
        forest_charts(plans, &per, manifest.replications)?
    };
    let table_file = manifest.table_file();
    let window = super::run_report::window_text(&runs.baseline);
    let mut sections = vec![
        Section {
            id: "summary".into(),
            title: "Headline findings".into(),
            blocks: vec![
                Block::Paragraph(format!(
                    "Each plan is compared with {}{baseline}, over {} replications with the same \
                     seed, in the statistics window {window}. \"Avoided\" and \"saved\" are \
                     baseline minus plan (the negative of diff_mean in {table_file}). Figures \
                     are rounded to the precision of their 95% confidence interval.",
                    if sweep { "" } else { "the baseline, " },
                    prose_count(u64::from(manifest.replications))
                )),
                Block::Headlines(headlines),
                Block::Caveat(PLANS_CAVEAT.into()),
            ]
            .into_iter()
            .chain(
                // Every plan ran in the baseline's kept worlds: say which.
                runs.manifests
                    .first()
                    .and_then(super::uncertainty::kept_sentence)
                    .map(Block::Paragraph),
            )
            .collect(),
        },
        changes_section(plans, &changes, sweep),
        Section {
            id: "charts".into(),
            title: "Charts".into(),
            blocks: charts.into_iter().map(Block::Chart).collect(),
        },
        Section {
            id: "results".into(),
            title: "Every plan and headline".into(),
            blocks: vec![
                Block::Table(effects_table(manifest, plans)),
                Block::Paragraph(format!(
                    "Effect: \"avoided\" and \"saved\" are baseline minus plan, \"change\" is \
                     plan minus baseline. 95% CI: confidence interval of the mean paired \
                     difference, not a range of outcomes. Every metric is in {table_file}."
                )),
            ],
        },
        Section {
            id: "runs".into(),
            title: "Each scenario's own report".into(),
            blocks: vec![Block::Links(
                manifest
                    .arms
                    .iter()
                    .map(|a| {
                        (
                            format!("{} ({}, folder {})", arm_label(manifest, a), a.role, a.name),
                            vec![a.name.clone(), "report.html".to_string()],
                        )
                    })
                    .collect(),
            )],
        },
    ];
    // Each arm's warnings, after the sentences and before the caveat.
    let at = sections[0].blocks.len().saturating_sub(1);
    sections[0].blocks.splice(at..at, warnings);
    sections.push(provenance_section(manifest, runs));
    let stress = experiment_stress(manifest, plans, &baseline);
    sections.push(super::run_report::stress_des_section(
        &runs.baseline,
        Some(&stress),
    ));
    let base = &runs.baseline.manifest;
    let run_date = if base.run_started_utc.is_empty() {
        "date not recorded".to_string()
    } else {
        base.run_started_utc.clone()
    };
    let subtitle = format!(
        "{}; patientflow {} \u{b7} window {window} \u{b7} run {run_date}",
        plans_text(plans.len()),
        manifest.software_version
    );
    let title = if sweep {
        let name = manifest
            .arms
            .first()
            .map(|a| a.scenario_name.as_str())
            .filter(|n| !n.is_empty())
            .unwrap_or("a scenario");
        let keys: Vec<String> = manifest.swept_keys.iter().map(|k| key_label(k)).collect();
        format!(
            "Sweep \u{201c}{name}\u{201d}: {} against the unswept scenario",
            super::prose::and_list(&keys)
        )
    } else {
        format!("Comparison of capacity plans against {baseline}")
    };
    Ok(Document {
        title,
        subtitle,
        sections,
    })
}

/// The report's files of a comparison or sweep directory, paths relative
/// to it, from the texts of `experiment.json`, the table file and the
/// files of each scenario's run directory (`files`, as written beside).
pub fn experiment_report_files(
    experiment_json: &str,
    table: &str,
    files: &[(String, String)],
) -> io::Result<Vec<(String, String)>> {
    let mut doc = experiment_document(experiment_json, table, files).map_err(|e| match e {
        RebuildError::Write(e) => e,
        e => io::Error::new(
            io::ErrorKind::InvalidData,
            format!("could not build the report: {e}"),
        ),
    })?;
    if let Some((_, text)) = files
        .iter()
        .find(|(name, _)| name == super::uncertainty::PLAUSIBLE_EFFECTS_FILE)
    {
        doc.sections
            .extend(super::uncertainty::effects_section(text));
    }
    Ok(document::report_files(&doc))
}

/// Reads `experiment.json` and its table from `dir` and builds the report.
/// The table must have the SHA-256 `experiment.json` records, and is read
/// line by line, no further than a row per plan and metric; each
/// scenario's `run.json` must hold the resolved scenario whose SHA-256
/// `experiment.json` records. Files without checksums (an older
/// patientflow's) are told to `notices`.
pub fn read_experiment_document(
    dir: &Path,
    notices: &crate::notice::Notices,
) -> Result<Document, RebuildError> {
    use super::readback;
    let json = readback::read_json(&dir.join(EXPERIMENT_FILE))
        .map_err(|m| malformed(EXPERIMENT_FILE, m))?;
    let manifest: ExperimentManifest =
        serde_json::from_str(&json).map_err(|e| malformed(EXPERIMENT_FILE, e.to_string()))?;
    if manifest.shard.is_some() {
        return Err(malformed(
            EXPERIMENT_FILE,
            "this directory holds one shard; merge the shards first".to_string(),
        )
        .into());
    }
    let file = manifest.table_file();
    match readback::verify_files(dir, EXPERIMENT_FILE, &manifest.files, &[file])
        .map_err(ReportError::Changed)?
    {
        readback::Verified::Yes => {}
        readback::Verified::NoChecksums => notices.send(crate::notice::Notice::Unverified {
            dir: dir.to_path_buf(),
            manifest: EXPERIMENT_FILE.into(),
        }),
    }
    let reader = readback::open(&dir.join(file)).map_err(|m| malformed(file, m))?;
    let plans = parse_effects(&manifest, reader)?;
    let runs = arm_runs_from_dir(&manifest, dir)?;
    let mut doc = document_of(&manifest, &plans, &runs)?;
    let path = dir.join(super::yearly::YEARLY_COMPARISON_FILE);
    if path.is_file() {
        let text = readback::read_json(&path)
            .map_err(|m| malformed(super::yearly::YEARLY_COMPARISON_FILE, m))?;
        add_years(&mut doc, Some(&text));
    }
    if let Some(text) = super::uncertainty::effects_text_in(dir) {
        doc.sections
            .extend(super::uncertainty::effects_section(&text));
    }
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_year_only_for_365_days_and_the_interval_flips() {
        let mut m = ExperimentManifest::default();
        assert_eq!(per_window_text(&m), "over the window");
        m.window_days = Some(365);
        assert_eq!(per_window_text(&m), "a year");
        m.window_days = Some(180);
        assert_eq!(per_window_text(&m), "over the 180-day window");
        let row = |metric: Metric, diff: f64, lo: f64, hi: f64| EffectRow {
            metric,
            baseline_mean: 1000.0,
            plan_mean: 1000.0 + diff,
            diff_mean: diff,
            diff_low: lo,
            diff_high: hi,
        };
        let plan = PlanEffects {
            name: "p".into(),
            label: "Second PRU car".into(),
            swept_values: Vec::new(),
            rows: vec![
                row(Metric::Admissions, -481.3, -491.0, -471.6),
                row(Metric::DelayedBedDays, -62.0, -98.0, -31.0),
                row(Metric::BedWaitsOver12h, 4.0, f64::NAN, f64::NAN),
                row(Metric::BedWaitsOver4h, 231.0, 180.0, 282.0),
                row(Metric::BedOccupancyMean, 1.69, 1.2, 2.2),
            ],
        };
        assert_eq!(
            plan_sentence(&plan, "a year", Some(365.0)),
            "Second PRU car: an estimated 481 emergency admissions avoided a year (95% CI 472 \
             to 491), an estimated 60 delayed bed days saved (95% CI 30 to 100; the equivalent \
             of 0.17 beds), an estimated 4.00 more decision-to-admit waits over 12 hours, an estimated 230 more \
             decision-to-admit waits over 4 hours (95% CI 180 to 280) and an estimated 1.7 \
             more occupied acute beds (95% CI 1.2 to 2.2), about 620 more bed days a year, \
             compared with the baseline."
        );
        // An interval that includes zero is no clear change, its numbers
        // kept; one below zero is "more", its interval flipped.
        let plan = PlanEffects {
            rows: vec![
                row(Metric::Admissions, 2.2, -5.0, 9.4),
                row(Metric::DelayedBedDays, 40.0, 21.0, 59.0),
                row(Metric::BedWaitsOver12h, 0.0, f64::NAN, f64::NAN),
                row(Metric::BedWaitsOver4h, -3.0, -9.0, 4.0),
                row(Metric::BedOccupancyMean, -0.2, -0.5, 0.1),
            ],
            ..plan
        };
        assert_eq!(
            plan_sentence(&plan, "over the 90-day window", Some(90.0)),
            "Second PRU car: no clear change in emergency admissions over the 90-day window (an \
             estimated 2 more; 95% CI 5 fewer to 9 more), an estimated 40 more delayed bed days \
             (95% CI 21 to 59; the equivalent of 0.4 beds), no change in decision-to-admit waits over 12 hours, no clear \
             change in decision-to-admit waits over 4 hours (an estimated 3 fewer; 95% CI 9 \
             fewer to 4 more) and no clear change in occupied acute beds (an estimated 0.2 \
             fewer; 95% CI 0.5 fewer to 0.1 more), compared with the baseline."
        );
    }

    #[test]
    fn the_results_table_shows_exactly_the_comparison_headlines() {
        let rows = Metric::ALL
            .iter()
            .map(|&metric| EffectRow {
                metric,
                baseline_mean: 10.0,
                plan_mean: 9.0,
                diff_mean: -1.0,
                diff_low: -2.0,
                diff_high: 0.5,
            })
            .collect();
        let plan = PlanEffects {
            name: "p".into(),
            label: "P".into(),
            swept_values: Vec::new(),
            rows,
        };
        let table = effects_table(&ExperimentManifest::default(), &[plan]);
        let col = table.header.iter().position(|h| h == "Headline").unwrap();
        let shown: Vec<&str> = table.rows.iter().map(|r| r[col].as_str()).collect();
        let mut expected: Vec<(usize, &str)> = crate::model::headlines::HEADLINES
            .iter()
            .filter_map(|h| h.comparison.map(|e| (e.position, e.label)))
            .collect();
        expected.sort_unstable();
        assert_eq!(shown, expected.into_iter().map(|e| e.1).collect::<Vec<_>>());
    }

    #[test]
    fn the_best_plan_is_named_only_when_clearly_better() {
        let plan = |label: &str, diff: f64, lo: f64, hi: f64| PlanEffects {
            name: label.to_lowercase(),
            label: label.into(),
            swept_values: Vec::new(),
            rows: vec![EffectRow {
                metric: Metric::Admissions,
                baseline_mean: 1000.0,
                plan_mean: 1000.0 + diff,
                diff_mean: diff,
                diff_low: lo,
                diff_high: hi,
            }],
        };
        let clear = [
            plan("One car", -100.0, -110.0, -90.0),
            plan("Two cars", -180.0, -195.0, -165.0),
        ];
        assert_eq!(
            best_plan_sentence(&clear, &COMPARISON[0], "a year").as_deref(),
            Some(
                "Of the 2 plans, both avoid emergency admissions compared with the baseline (a \
                 95% CI wholly above no change); Two cars avoids the most: an estimated 180 a \
                 year (95% CI 165 to 195)."
            )
        );
        let unclear = [
            plan("One car", 1.0, -3.0, 5.0),
            plan("Two cars", -2.0, -6.0, 2.0),
        ];
        assert_eq!(
            best_plan_sentence(&unclear, &COMPARISON[0], "a year").as_deref(),
            Some(
                "No plan improves on the baseline in emergency admissions: of the 2 plans, 2 show \
                 no clear change (a 95% CI that includes no change)."
            )
        );
    }

    #[test]
    fn names_read_back_and_slugs() {
        assert_eq!(read_back("=a,\"b\""), "'=a,\"b\"");
        assert_eq!(
            slug("decision-to-admit waits over 12 hours avoided"),
            "decision-to-admit-waits-over-12-hours-avoided"
        );
    }
}

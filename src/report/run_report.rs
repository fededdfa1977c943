//! The report of one run: headline sentences, charts, the results table,
//! provenance, parameters with their sources and the STRESS-DES appendix,
//! all built from [`RunData`] (the saved files) alone.

use std::io;

use super::facts::ScenarioFacts;
use crate::model::metrics::{Metric, Series};

use super::charts::{self, Estimate, FanChart, IntervalBars};
use super::data::{RunData, SummaryRow};
use super::document::{Block, Chart, Document, Section, Table};
use super::prose::{
    Finding, effect_exponent, estimate_parts_non_negative, more_or_fewer, paren,
    precision_exponent, prose_count, prose_date, prose_number,
};
use super::{DOES_NOT_SETTLE, MARK, Warning, report_text, unsettled};

/// One headline sentence and the `summary.csv` metrics whose mean and 95%
/// CI appear in it, in the order they appear: every number in the sentence
/// is one of them (tests hold the sentences to this).
#[derive(Clone, Debug, PartialEq)]
pub struct HeadlineSentence {
    /// The sentence as the report prints it.
    pub text: String,
    /// The metrics it cites, in order.
    pub metrics: Vec<Metric>,
}

/// A headline sentence citing `metrics`.
fn headline(text: String, metrics: &[Metric]) -> HeadlineSentence {
    HeadlineSentence {
        text,
        metrics: metrics.to_vec(),
    }
}

/// The caveat printed under every set of headline figures.
pub const CAVEAT: &str = "These figures compare capacity plans under the assumptions stated in \
this report (the scenario's parameters and their sources, and the model described in the \
appendix). They are not a forecast: they say what the model expects under this plan, with the \
uncertainty that comes from running a finite number of replications, not the uncertainty in the \
assumptions themselves.";

/// How long the window is, for prose: "a year" or "over the 90-day window".
pub(crate) fn per_window(days: usize) -> String {
    if days == 365 {
        "a year".to_string()
    } else {
        format!("over the {days}-day window")
    }
}

/// The rounded mean of a metric and its interval (`95% CI a to b`, empty
/// when undefined; from 0 when it reaches below: no metric is negative);
/// `n/a` when the metric is missing.
fn est(data: &RunData, metric: Metric) -> (String, String) {
    match data.metric(metric) {
        Some(r) => {
            estimate_parts_non_negative(r.summary.mean, r.summary.ci95_low, r.summary.ci95_high)
        }
        None => ("n/a".to_string(), String::new()),
    }
}

/// What an avoidance service does to emergency admissions, in plain words
/// from its counterfactual metric (positive: admissions avoided): "avoids
/// an estimated 480 emergency admissions (95% CI 470 to 490)", "adds ...",
/// or no clear difference when the interval includes zero, with no negative
/// number. A clause for "the ..." service starts with "and".
fn avoided_clause(
    data: &RunData,
    service: &str,
    metric: Metric,
    running: bool,
    per: &str,
) -> String {
    avoided_clause_of(
        data,
        service,
        metric,
        running,
        &format!("emergency admissions {per}"),
    )
}

/// [`avoided_clause`] for any kind of `admissions` ("emergency admissions a
/// year", "mental health admissions a year").
fn avoided_clause_of(
    data: &RunData,
    service: &str,
    metric: Metric,
    running: bool,
    admissions: &str,
) -> String {
    let and = if service.starts_with("the ") {
        "and "
    } else {
        ""
    };
    if !running {
        return format!("{and}{service} is switched off in this scenario (no admissions avoided)");
    }
    let Some(r) = data.metric(metric) else {
        return format!("{and}{service}: n/a");
    };
    let (mean, lo, hi) = (r.summary.mean, r.summary.ci95_low, r.summary.ci95_high);
    let e = effect_exponent(mean, lo, hi);
    let n = |x: f64| prose_number(x, e);
    match Finding::of(mean, lo, hi) {
        Finding::Up => format!(
            "{and}{service} avoids an estimated {} {admissions} (95% CI {} to {})",
            n(mean),
            n(lo),
            n(hi)
        ),
        Finding::Down => format!(
            "{and}{service} adds an estimated {} {admissions} (95% CI {} to {})",
            n(-mean),
            n(-hi),
            n(-lo)
        ),
        // In admissions (minus the avoided), so "fewer" means avoided.
        Finding::Unclear => format!(
            "{and}{service} makes no clear difference to {admissions} (an estimated {}; 95% CI \
             {} to {}, an interval that includes no change)",
            more_or_fewer(-mean, e),
            more_or_fewer(-hi, e),
            more_or_fewer(-lo, e)
        ),
        Finding::None => format!(
            "{and}{service} makes no difference to {admissions} (every replication the same with \
             it switched off)"
        ),
        Finding::NoInterval(_) if mean >= 0.0 => {
            format!(
                "{and}{service} avoids an estimated {} {admissions}",
                n(mean)
            )
        }
        Finding::NoInterval(_) => {
            format!("{and}{service} adds an estimated {} {admissions}", n(-mean))
        }
        Finding::Undefined => format!("{and}{service}: n/a"),
    }
}

/// `; 95% CI a to b` inside a parenthesis that has other text, or nothing.
fn semi(ci: &str) -> String {
    if ci.is_empty() {
        String::new()
    } else {
        format!("; {ci}")
    }
}

/// The headline sentences of a run, from `summary.csv`.
pub fn run_headlines(data: &RunData) -> Vec<HeadlineSentence> {
    let per = per_window(window_days(data));
    let (adm, adm_ci) = est(data, Metric::Admissions);
    let (sent_home, sent_home_ci) = est(data, Metric::PruFauSentHome);
    let (dbd, dbd_ci) = est(data, Metric::DelayedBedDays);
    let (p1, p1_ci) = est(data, Metric::DelayedBedDaysP1);
    let (p2, p2_ci) = est(data, Metric::DelayedBedDaysP2);
    let (p3, p3_ci) = est(data, Metric::DelayedBedDaysP3);
    let (waits, waits_ci) = est(data, Metric::BedWaitsOver12h);
    let (census, census_ci) = est(data, Metric::MidnightCensusMean);
    let care_at_home = p1_place(data).0;
    vec![
        headline(
            format!(
                "Under this plan the borough sees an estimated {adm} emergency admissions \
                 {per}{}.",
                paren(&adm_ci)
            ),
            &[Metric::Admissions],
        ),
        headline(
            format!(
                "{} {}: each is the difference from the same replications run with that service \
                 alone switched off.",
                avoided_clause(
                    data,
                    "The physician response unit",
                    Metric::AdmissionsAvoidedPru,
                    data.scenario.capacity.pru_cars.any_open(),
                    &per
                ),
                avoided_clause(
                    data,
                    "the frailty unit",
                    Metric::AdmissionsAvoidedFrailtyUnit,
                    data.scenario.capacity.frailty_unit_slots.any_open(),
                    &per
                ),
            ),
            &[
                Metric::AdmissionsAvoidedPru,
                Metric::AdmissionsAvoidedFrailtyUnit,
            ],
        ),
        headline(
            format!(
                "Together they treat at home or discharge the same day an estimated \
                 {sent_home} patients {per}{}, many of whom would not have been admitted \
                 anyway: that is their activity, not the admissions they avoid.",
                paren(&sent_home_ci)
            ),
            &[Metric::PruFauSentHome],
        ),
        headline(
            format!(
                "Patients who are medically fit to leave hospital but wait for \
                 {care_at_home}, a rehab bed or a care home bed lose an estimated {dbd} delayed \
                 bed days {per}{}.",
                paren(&dbd_ci)
            ),
            &[Metric::DelayedBedDays],
        ),
        headline(
            format!(
                "Of these, an estimated {p1} are spent waiting for {care_at_home} (pathway \
                 P1{}), {p2} for a rehab bed (P2{}) and {p3} for a care home bed (P3{}).",
                semi(&p1_ci),
                semi(&p2_ci),
                semi(&p3_ci)
            ),
            &[
                Metric::DelayedBedDaysP1,
                Metric::DelayedBedDaysP2,
                Metric::DelayedBedDaysP3,
            ],
        ),
        headline(
            format!(
                "An estimated {waits} patients {per}{} wait more than 12 hours in the emergency \
                 department for a bed after the decision to admit.",
                paren(&waits_ci)
            ),
            &[Metric::BedWaitsOver12h],
        ),
        headline(
            format!(
                "On average {census} acute beds are occupied at midnight{}.",
                paren(&census_ci)
            ),
            &[Metric::MidnightCensusMean],
        ),
    ]
}

/// A headline's text, marked when one of its figures does not settle.
fn marked(h: HeadlineSentence, warnings: &[Warning]) -> String {
    if h.metrics.iter().any(|&x| unsettled(warnings, x)) {
        format!(
            "{MARK} {} (A figure in this sentence {DOES_NOT_SETTLE}.)",
            h.text
        )
    } else {
        h.text
    }
}

/// Days in the statistics window (the length of the daily series).
fn window_days(data: &RunData) -> usize {
    data.daily.first().map_or(0, |d| d.p50.len())
}

pub(crate) fn days_text(hours: f64) -> String {
    let days = hours / 24.0;
    if (days - days.round()).abs() < 1e-9 {
        super::prose::counted(days.round() as u64, "day")
    } else if hours == 1.0 {
        "1 hour".to_string()
    } else {
        format!("{} hours", prose_number(hours, -1))
    }
}

/// The window in words: `28 September 2025 to 27 September 2026 (365 days)`.
pub(crate) fn window_text(data: &RunData) -> String {
    let days = window_days(data);
    let last = data.first_day.add_days(days.saturating_sub(1) as i64);
    format!(
        "{} to {} ({})",
        prose_date(data.first_day),
        prose_date(last),
        super::prose::counted(days as u64, "day")
    )
}

/// Builds the whole report of a run.
pub fn run_document(data: &RunData) -> io::Result<Document> {
    let m = &data.manifest;
    let reps = m.replications;
    let mut summary_section = Section {
        id: "summary".into(),
        title: "Summary".into(),
        blocks: vec![
            Block::Paragraph(scenario_paragraph(data)),
            Block::Paragraph(format!(
                "Figures are totals or averages over the statistics window, {}, after {} of \
                 warm-up. Each is the mean of {} replications with the 95% confidence interval \
                 (CI) of that mean: the range within which the model's long-run average lies, \
                 not the range of outcomes a year could bring. Numbers are rounded to the \
                 precision the replications support.",
                window_text(data),
                days_text(m.warm_up_hours),
                prose_count(u64::from(reps))
            )),
            Block::Headlines(
                run_headlines(data)
                    .into_iter()
                    .map(|h| marked(h, &m.warnings))
                    .collect(),
            ),
            Block::Caveat(CAVEAT.to_string()),
        ],
    };
    // The flow balance's warnings, before the figures they qualify.
    let at = summary_section
        .blocks
        .iter()
        .position(|b| matches!(b, Block::Headlines(_)))
        .unwrap_or(0);
    summary_section.blocks.splice(
        at..at,
        m.warnings.iter().map(|w| Block::Warning(report_text(w))),
    );
    let mut document = Document {
        title: format!("{}: patient flow report", data.scenario.name),
        subtitle: format!(
            "patientflow {} \u{b7} {} replications \u{b7} window {} \u{b7} run {}",
            m.software_version,
            prose_count(u64::from(reps)),
            window_text(data),
            if m.run_started_utc.is_empty() {
                "date not recorded".to_string()
            } else {
                m.run_started_utc.clone()
            }
        ),
        sections: std::iter::once(summary_section)
            .chain(super::calibration::calibration_section(data))
            .chain([
                charts_section(data)?,
                results_section(data),
                provenance_section(data),
                parameters_section(data),
                stress_des_section(data, None),
            ])
            .collect(),
    };
    // After the summary, the calibration table and the charts.
    let at = document
        .sections
        .iter()
        .position(|s| s.id == "charts")
        .map_or(document.sections.len(), |i| i + 1);
    document
        .sections
        .splice(at..at, mental_health_section(data)?);
    Ok(document)
}

/// What a P1 patient waits for (`docs/model.md`, "Home care"): in a
/// sentence, and as the pathway chart's label.
fn p1_place(data: &RunData) -> (&'static str, &'static str) {
    if data.scenario.capacity.home_care_packages.is_some() {
        ("a home care package", "P1: home care package")
    } else {
        ("community nursing", "P1: community nursing")
    }
}

fn band_caption(reps: u32, what: &str) -> String {
    format!(
        "{what} at each midnight across {} replications. Shaded bands hold the middle 50% and \
         90% of outcomes (a band of outcomes across replications, not a confidence interval); \
         the line is the median.",
        prose_count(u64::from(reps))
    )
}

fn charts_section(data: &RunData) -> io::Result<Section> {
    let reps = data.manifest.replications;
    let mut blocks = Vec::new();
    let beds: Vec<f64> = data.beds_by_day.iter().map(|&b| f64::from(b)).collect();
    let delayed_caption = format!(
        "Patients medically fit and waiting for {}, a rehab bed or a care home bed,",
        p1_place(data).0
    );
    let fans: [(Series, &str, &str, &str, &str, bool); 3] = [
        (
            Series::MidnightCensus,
            "midnight-census.svg",
            "Occupied acute beds at midnight, with beds available",
            "Occupied acute beds (beds)",
            "Occupied acute beds",
            false,
        ),
        (
            Series::DelayedPatients,
            "delayed-patients.svg",
            "Patients delayed in hospital waiting for a place (P1 to P3)",
            "Delayed patients (patients)",
            &delayed_caption,
            true,
        ),
        (
            Series::CommunityWaitingList,
            "community-waiting-list.svg",
            "Community nursing waiting list",
            "Waiting list (patients)",
            "Patients waiting for community nursing (every referral class, hospital patients included)",
            true,
        ),
    ];
    let capacity_label = if data.beds_by_day.windows(2).any(|w| w[0] != w[1]) {
        "Beds available (dated changes applied)"
    } else {
        "Beds available"
    };
    for fan in fans {
        let capacity = (fan.0 == Series::MidnightCensus).then_some(Capacity {
            label: capacity_label,
            beds: &beds,
            caption: "The red line is the number of acute beds available each day.",
        });
        blocks.extend(fan_block(data, fan, capacity)?);
    }
    let p1_label = p1_place(data).1;
    let pathways = [
        (Metric::DelayedBedDaysP1, p1_label),
        (Metric::DelayedBedDaysP2, "P2: rehab bed"),
        (Metric::DelayedBedDaysP3, "P3: care home bed"),
    ];
    let estimates: Vec<Estimate> = pathways
        .iter()
        .filter_map(|(metric, label)| {
            data.metric(*metric).map(|r| Estimate {
                label: label.to_string(),
                mean: r.summary.mean,
                // Bed days cannot be negative: the interval starts at 0.
                low: r.summary.ci95_low.max(0.0),
                high: r.summary.ci95_high,
            })
        })
        .collect();
    let per = per_window(window_days(data));
    let title = format!("Delayed bed days {per} by discharge pathway");
    let caption = format!(
        "Bed days lost by medically fit patients waiting for a place, {per}. Bars: mean of {} \
         replications; error bars: 95% confidence interval of the mean (uncertainty about the \
         average, not a range of outcomes).",
        prose_count(u64::from(reps))
    );
    let svg = charts::interval_bars(&IntervalBars {
        title: &title,
        x_label: "Discharge pathway (the place waited for)",
        y_label: "Delayed bed days (bed days)",
        caption: &caption,
        bar_legend: "Mean delayed bed days",
        interval_legend: "95% CI of the mean",
        estimates: &estimates,
    })?;
    blocks.push(Block::Chart(Chart {
        file: "delayed-bed-days-by-pathway.svg".into(),
        title,
        caption,
        svg,
    }));
    Ok(Section {
        id: "charts".into(),
        title: "Charts".into(),
        blocks,
    })
}

fn unit_text(unit: &str) -> String {
    match unit {
        "share" => "share (0 to 1)".to_string(),
        u => u.replace('_', " "),
    }
}

/// A value of a results table, rounded to its interval's precision.
fn rounded(row: &SummaryRow, x: f64) -> String {
    prose_number(
        x,
        precision_exponent(
            row.summary.mean,
            (row.summary.ci95_high - row.summary.ci95_low) / 2.0,
        ),
    )
}

fn results_section(data: &RunData) -> Section {
    // Without a `[mental_health]` table its metrics are all 0: left out.
    let mental_health = data.scenario.mental_health.is_some();
    let rows = data
        .summary
        .iter()
        .filter(|r| mental_health || !r.metric.name().starts_with("mh_"))
        .map(|r| {
            let unsettled = unsettled(&data.manifest.warnings, r.metric);
            vec![
                if unsettled {
                    format!("{MARK} {}", r.metric.def().description)
                } else {
                    r.metric.def().description.to_string()
                },
                r.metric.name().to_string(),
                unit_text(r.metric.unit()),
                rounded(r, r.summary.mean),
                if unsettled {
                    DOES_NOT_SETTLE.to_string()
                } else {
                    format!(
                        "{} to {}",
                        rounded(r, r.summary.ci95_low.max(0.0)),
                        rounded(r, r.summary.ci95_high)
                    )
                },
                format!(
                    "{} to {}",
                    rounded(r, r.summary.p5),
                    rounded(r, r.summary.p95)
                ),
            ]
        })
        .collect();
    Section {
        id: "results".into(),
        title: "All results".into(),
        blocks: vec![
            Block::Paragraph(format!(
                "Every metric of summary.csv over the window, {}. The 95% CI is the confidence \
                 interval of the mean over replications; the 5th to 95th percentile is the band \
                 in which 90% of replications' outcomes fall. No measure can be negative, so an \
                 interval that reaches below zero is shown from 0. Values are rounded to the \
                 precision of their CI; summary.csv has them in full.",
                window_text(data)
            )),
            Block::Table(Table {
                header: vec![
                    "Measure".into(),
                    "Name in summary.csv".into(),
                    "Unit".into(),
                    "Mean".into(),
                    "95% CI of the mean".into(),
                    "5th to 95th percentile of outcomes".into(),
                ],
                rows,
                numeric: vec![false, false, false, true, true, true],
            }),
        ],
    }
}

fn or_unrecorded(s: &str) -> String {
    if s.is_empty() {
        "not recorded".to_string()
    } else {
        s.to_string()
    }
}

fn provenance_rows(data: &RunData) -> Vec<Vec<String>> {
    let m = &data.manifest;
    let files = if m.scenario_files.is_empty() {
        m.scenario_path.clone()
    } else {
        m.scenario_files.join(", extending ")
    };
    let days = window_days(data);
    let last = data.first_day.add_days(days.saturating_sub(1) as i64);
    let row = |k: &str, v: String| vec![k.to_string(), v];
    vec![
        row(
            "Software",
            format!(
                "patientflow {}{}",
                m.software_version,
                m.rustc_version
                    .as_ref()
                    .map(|r| format!(", built with {r}"))
                    .unwrap_or_default()
            ),
        ),
        row(
            "Commit",
            m.git_commit
                .clone()
                .unwrap_or_else(|| "not recorded (built without git)".to_string()),
        ),
        row("Scenario", data.scenario.name.clone()),
        row("Scenario files", files),
        row("SHA-256 of the resolved scenario", or_unrecorded(&m.sha256)),
        row("Seed", m.seed.to_string()),
        row("Replications", prose_count(u64::from(m.replications))),
        row(
            "Warm-up",
            format!(
                "{} from {} (results discarded)",
                days_text(m.warm_up_hours),
                m.start_date
            ),
        ),
        row(
            "Statistics window",
            format!(
                "{} to {} ({}; day 0 of daily.csv is {})",
                data.first_day,
                last,
                days_text(m.horizon_hours),
                data.first_day
            ),
        ),
        row("Random number generator", or_unrecorded(&m.generator)),
        row("Stream allocation", or_unrecorded(&m.stream_allocation)),
        row("Run started (UTC)", or_unrecorded(&m.run_started_utc)),
        row(
            "Machine",
            if m.machine.is_empty() {
                "not recorded".to_string()
            } else {
                format!(
                    "{}, {} cores; {} worker threads",
                    m.machine, m.machine_cores, m.threads
                )
            },
        ),
        row(
            "Wall time",
            format!("{} s", prose_number(m.wall_time_seconds, -1)),
        ),
        row("Command", m.command_line.join(" ")),
    ]
}

fn provenance_section(data: &RunData) -> Section {
    Section {
        id: "provenance".into(),
        title: "How these numbers were made".into(),
        blocks: vec![
            Block::Paragraph(
                "Running the same software on the same resolved scenario with the same seed and \
                 number of replications gives the same numbers, whatever the machine or thread \
                 count. The resolved scenario (after extends and command-line overrides) is \
                 recorded in full in run.json."
                    .to_string(),
            ),
            Block::Table(Table {
                header: vec!["Item".into(), "Value".into()],
                rows: provenance_rows(data),
                numeric: vec![false, false],
            }),
        ],
    }
}

/// The citation for a parameter row: its own, else those of keys below it
/// (`acute.los.frail.sd` on the row `acute.los.frail`), else its nearest
/// cited ancestor's.
fn source_for(data: &RunData, key: &str) -> String {
    if let Some(s) = data.scenario.sources.get(key) {
        return s.clone();
    }
    let prefix = format!("{key}.");
    let below: Vec<String> = data
        .scenario
        .sources
        .iter()
        .filter(|(k, _)| k.starts_with(&prefix))
        .map(|(k, v)| format!("{}: {v}", &k[prefix.len()..]))
        .collect();
    if !below.is_empty() {
        return below.join("; ");
    }
    let mut k = key;
    while let Some((head, _)) = k.rsplit_once('.') {
        if let Some(s) = data.scenario.sources.get(head) {
            return s.clone();
        }
        k = head;
    }
    String::new()
}

fn parameters_section(data: &RunData) -> Section {
    let rows: Vec<Vec<String>> = data
        .scenario
        .parameters
        .iter()
        .map(|(k, v)| vec![k.clone(), v.clone(), source_for(data, k)])
        .collect();
    let cited = rows.iter().filter(|r| !r[2].is_empty()).count();
    Section {
        id: "parameters".into(),
        title: "Parameters and sources".into(),
        blocks: vec![
            Block::Paragraph(format!(
                "Every value of the resolved scenario, as written in the scenario format \
                 (durations carry their unit: m, h, d, w), with its source from the scenario's \
                 [sources] table. {} of {} values cite a source; a source beginning \
                 \u{201c}Assumption\u{201d} is the modeller's judgement, not a published figure.",
                prose_count(cited as u64),
                prose_count(rows.len() as u64)
            )),
            Block::Table(Table {
                header: vec!["Key".into(), "Value".into(), "Source".into()],
                rows,
                numeric: vec![false, false, false],
            }),
        ],
    }
}

/// Resources of the scenario in words, for STRESS-DES 2.5.
fn resources_text(s: &ScenarioFacts) -> String {
    let c = &s.capacity;
    format!(
        "physician response unit: {} car(s){}; frailty assessment unit: {} place(s){}; acute \
         beds: {} (dated changes: {}); community nursing: {} teams{} x {} caseload places; \
         rehab beds: {}{}; care home beds: {}{}{}",
        c.pru_cars.beds,
        dated_changes(&c.pru_cars.changes, "car(s)", true),
        c.frailty_unit_slots.beds,
        dated_changes(&c.frailty_unit_slots.changes, "place(s)", true),
        c.acute_beds.beds,
        match dated_changes(&c.acute_beds.changes, "beds", false) {
            none if none.is_empty() => "none".to_string(),
            changes => changes,
        },
        c.community_teams.beds,
        dated_changes(&c.community_teams.changes, "teams", true),
        c.community_caseload_per_team,
        c.rehab_beds.beds,
        dated_changes(&c.rehab_beds.changes, "beds", true),
        c.care_home_beds.beds,
        dated_changes(&c.care_home_beds.changes, "beds", true),
        c.home_care_packages
            .as_ref()
            .map_or(String::new(), |h| format!(
                "; home care packages: {}{}",
                h.beds,
                dated_changes(&h.changes, "packages", true)
            )),
    )
}

/// Dated changes of a count in words ("2 car(s) from 2027-04-01"), each
/// with its last day unless it lasts to the end; empty without changes, and
/// in parentheses when `wrapped`.
fn dated_changes(changes: &[crate::report::facts::BedChange], unit: &str, wrapped: bool) -> String {
    if changes.is_empty() {
        return String::new();
    }
    let text = changes
        .iter()
        .map(|c| {
            if c.to == crate::scenario::calendar::Date::last_supported() {
                format!("{} {unit} from {}", c.beds, c.from)
            } else {
                format!("{} {unit} from {} to {}", c.beds, c.from, c.to)
            }
        })
        .collect::<Vec<_>>()
        .join("; ");
    if wrapped {
        format!(" (dated changes: {text})")
    } else {
        text
    }
}

/// The `--set KEY=VALUE` assignments of a command line, in order (as
/// `--set K=V` or `--set=K=V`).
fn command_line_sets(command_line: &[String]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut args = command_line.iter();
    while let Some(a) = args.next() {
        let set = if a == "--set" {
            args.next().map(String::as_str)
        } else {
            a.strip_prefix("--set=")
        };
        if let Some((k, v)) = set.and_then(|s| s.split_once('=')) {
            out.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    out
}

/// The scenario's name and description, and what the description cannot
/// know: a description is written for a scenario file, so when the run
/// changed keys of it (`--set`, other than the `scenario` table's run
/// settings) the values that ran are named after it, from the resolved
/// scenario; and a scenario of a sweep says that its swept values are not
/// in the description it inherits.
fn scenario_paragraph(data: &RunData) -> String {
    let m = &data.manifest;
    let name = &data.scenario.name;
    let description = if data.scenario.description.is_empty() {
        "no description given.".to_string()
    } else {
        data.scenario.description.clone()
    };
    let ran: std::collections::BTreeMap<String, String> =
        super::experiment_report::flatten_toml(&m.resolved_toml)
            .unwrap_or_default()
            .into_iter()
            .collect();
    let mut sets: Vec<String> = Vec::new();
    for (k, v) in command_line_sets(&m.command_line) {
        if k.starts_with("scenario.") {
            continue;
        }
        let text = format!("{k} = {}", ran.get(&k).cloned().unwrap_or(v));
        if !sets.contains(&text) {
            sets.push(text);
        }
    }
    let sweep = m.command_line.get(1).map(String::as_str) == Some("sweep");
    let swept: Vec<String> = m
        .swept
        .iter()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| format!("{} = {}", k.trim(), v.trim()))
        .collect();
    let mut out = if sweep && !swept.is_empty() {
        let list = match swept.as_slice() {
            [one] => one.clone(),
            [init @ .., last] => format!("{} and {last}", init.join(", ")),
            [] => String::new(),
        };
        format!(
            "Scenario \u{201c}{name}\u{201d}, one scenario of a sweep, with {list}. Its \
             description was written for the scenario the sweep file extends and does not \
             include {}: {description}",
            if swept.len() == 1 { "it" } else { "them" }
        )
    } else if sweep {
        // A run directory written before the swept values were recorded.
        format!(
            "Scenario \u{201c}{name}\u{201d}, one scenario of a sweep. Its description was \
             written for the scenario the sweep file extends and does not give this \
             scenario's swept values (they are in the parameter table below and in the \
             sweep's report): {description}"
        )
    } else {
        format!("Scenario \u{201c}{name}\u{201d}: {description}")
    };
    if !sets.is_empty() {
        let list = match sets.as_slice() {
            [one] => one.clone(),
            [init @ .., last] => format!("{} and {last}", init.join(", ")),
            [] => String::new(),
        };
        out.push_str(&format!(
            " This run changed the scenario on the command line, with {list}: the \
             description does not include {}.",
            if sets.len() == 1 { "it" } else { "them" }
        ));
    }
    out
}

/// What the STRESS-DES appendix of a comparison or sweep says in place of
/// a single run's words (the rest is the baseline run's).
pub(crate) struct ExperimentStress {
    /// Item 1.1's subject: "This comparison: ...".
    pub subject: String,
    /// Item 1.3: the plans compared and what each changes.
    pub aims: String,
    /// Item 2.3: how the scenarios differ.
    pub scenario_logic: String,
    /// Added to item 4.3: how effects are estimated.
    pub estimation: String,
}

/// A step line of beds available drawn over a fan chart, and the sentence
/// its caption adds.
struct Capacity<'a> {
    label: &'a str,
    beds: &'a [f64],
    caption: &'a str,
}

/// One daily series as a fan chart block: (series, file, title, y label,
/// what the band shows, y axis from 0), with a capacity line or not;
/// nothing when the run has no such series.
fn fan_block(
    data: &RunData,
    (series, file, title, y_label, what, zero_based): (Series, &str, &str, &str, &str, bool),
    capacity: Option<Capacity<'_>>,
) -> io::Result<Option<Block>> {
    let Some(b) = data.series(series) else {
        return Ok(None);
    };
    let band = band_caption(data.manifest.replications, what);
    let caption = match &capacity {
        Some(c) => format!("{band} {}", c.caption),
        None => band,
    };
    let svg = charts::fan_chart(&FanChart {
        title,
        y_label,
        caption: &caption,
        first_day: data.first_day,
        p5: &b.p5,
        p25: &b.p25,
        p50: &b.p50,
        p75: &b.p75,
        p95: &b.p95,
        capacity: capacity.as_ref().map(|c| (c.label, c.beds)),
        zero_based,
    })?;
    Ok(Some(Block::Chart(Chart {
        file: file.into(),
        title: title.into(),
        caption,
        svg,
    })))
}

/// How precise each comparison headline's mean is: its 95% CI half-width
/// as a share of the mean, for every headline (the least precise decides
/// how far a figure may be cited), with the way to ask for more.
fn precision_statement(data: &RunData) -> String {
    let has_mental_health = data.scenario.mental_health.is_some();
    let parts: Vec<String> = crate::model::headlines::COMPARISON
        .iter()
        .filter(|h| has_mental_health || !h.effect.mental_health)
        .filter_map(|h| {
            let r = data.metric(h.metric)?;
            let half = (r.summary.ci95_high - r.summary.ci95_low) / 2.0;
            Some(if !half.is_finite() {
                format!("{} no interval", h.metric.name())
            } else if r.summary.mean == 0.0 {
                format!(
                    "{} +/-{} (a mean of 0)",
                    h.metric.name(),
                    prose_number(half, precision_exponent(half, f64::NAN))
                )
            } else {
                format!(
                    "{} +/-{}%",
                    h.metric.name(),
                    prose_number(100.0 * half / r.summary.mean.abs(), -1)
                )
            })
        })
        .collect();
    if parts.is_empty() {
        return "no confidence interval (one replication)".to_string();
    }
    format!(
        "the 95% CI half-width of each headline mean, as a share of the mean: {} \
         (`--precision P --precision-metric NAME` adds replications until a named headline \
         is within P)",
        parts.join(", ")
    )
}

/// The STRESS-DES appendix of a run, or of a comparison or sweep whose
/// baseline run is `data` (then `experiment` says what differs).
pub(crate) fn stress_des_section(data: &RunData, experiment: Option<&ExperimentStress>) -> Section {
    let m = &data.manifest;
    let s = &data.scenario;
    let cite = |key: &str, missing: &str| {
        data.scenario.sources.get(key).map_or_else(
            || format!("[author to complete: {missing}]"),
            |c| format!("Source: {c}."),
        )
    };
    let assumptions = data
        .scenario
        .sources
        .values()
        .filter(|v| v.starts_with("Assumption"))
        .count();
    let precision = precision_statement(data);
    let item = |id: &str, name: &str, text: String| vec![id.to_string(), name.to_string(), text];
    let table = |rows: Vec<Vec<String>>| {
        Block::Table(Table {
            header: vec!["Item".into(), "Topic".into(), "This study".into()],
            rows,
            numeric: vec![false, false, false],
        })
    };
    let blocks = vec![
        Block::Paragraph(
            "Strengthening the Reporting of Empirical Simulation Studies (STRESS-DES; Monks et al. \
             2019, Journal of Simulation 13(1)). Filled in from the scenario, the model \
             documentation (docs/model.md) and the run manifest (run.json); items marked for the \
             author need knowledge the software does not have."
                .to_string(),
        ),
        Block::Subheading("1. Objectives".into()),
        table(vec![
            item(
                "1.1",
                "Purpose of the model",
                format!(
                    "Estimate what a capacity plan for discharge-to-community patient flow in a \
                     borough does to emergency admissions, admissions avoided and delayed \
                     transfers of care. {}. [author to complete: the decision this study \
                     informs and who asked for it]",
                    experiment.map_or_else(
                        || format!("This run: \u{201c}{}\u{201d}", s.name),
                        |e| e.subject.clone()
                    )
                ),
            ),
            item(
                "1.2",
                "Model outputs",
                "The metrics of summary.csv (mean, standard deviation, 95% CI of the mean, 5th, \
                 50th and 95th percentiles across replications), daily series of the midnight \
                 bed census, delayed patients and the community waiting list (daily.csv), and \
                 per-replication values (replications.csv)."
                    .to_string(),
            ),
            item(
                "1.3",
                "Experimentation aims",
                experiment.map_or_else(
                    || {
                        "[author to complete: the plans compared and the question each answers]"
                            .to_string()
                    },
                    |e| {
                        format!(
                            "{} [author to complete: the question each plan answers]",
                            e.aims
                        )
                    },
                ),
            ),
        ]),
        Block::Subheading("2. Logic".into()),
        table(vec![
            item(
                "2.1",
                "Base model overview diagram",
                "Crisis (999/111/GP, care home residents, readmissions) -> physician response \
                 unit (treated at home or conveyed) -> emergency department -> frailty \
                 assessment unit (frail patients) or admission decision -> acute bed (waiting \
                 in the ED when none is free) -> medically fit -> discharge pathway P0 (home), \
                 P1 (community nursing, or a home care package with [home_care]), P2 (rehab \
                 bed), P3 (care home) -> leaves within \
                 discharge hours. [author to complete: a diagram, if the paper needs one]"
                    .to_string(),
            ),
            item(
                "2.2",
                "Base model logic",
                "Discrete-event simulation in continuous time with a calendar (opening hours, \
                 weekends, dated bed changes). PRU and frailty unit are loss systems (no queue); \
                 acute beds, rehab and care homes queue first come first served (care homes \
                 hospital first when set); community nursing queues by strict priority of \
                 referral class. The full statement is docs/model.md in the source code."
                    .to_string(),
            ),
            item(
                "2.3",
                "Scenario logic",
                experiment.map_or_else(
                    || {
                        format!(
                            "This run's scenario: {}. Plans are scenario files that extend the \
                             baseline and change a few values; the parameter table lists every \
                             value used. [author to complete: how this plan differs from the \
                             baseline, if it is one]",
                            if m.scenario_files.is_empty() {
                                m.scenario_path.clone()
                            } else {
                                m.scenario_files.join(", extending ")
                            }
                        )
                    },
                    |e| e.scenario_logic.clone(),
                ),
            ),
            item(
                "2.4",
                "Algorithms",
                "Crises: non-homogeneous Poisson process sampled exactly by inverting the \
                 integrated hourly rate; other sources Poisson. Durations from the distributions \
                 named in the parameter table (lognormal and gamma by mean and sd). Percentiles \
                 by R-7 (Excel PERCENTILE.INC); confidence intervals by Student t with n-1 \
                 degrees of freedom."
                    .to_string(),
            ),
            item(
                "2.5",
                "Components",
                format!(
                    "Entities: patients (frail or other, care home resident or not), each with \
                     its own random stream. Activities: PRU visit, frailty assessment, acute \
                     stay, process delay, community episode, rehab and care home stays. \
                     Resources: {}. Queues: decision-to-admit wait for a bed; community nursing \
                     waiting list (priority {}); rehab and care home queues. Entry: the demand \
                     sources; exit: home, community nursing, rehab, care home, end of stay.",
                    resources_text(s),
                    s.community_priority.join(", then ")
                ),
            ),
        ]),
        Block::Subheading("3. Data".into()),
        table(vec![
            item(
                "3.1",
                "Data sources",
                format!(
                    "Each value's source is in the parameter table ({} values cite a source in \
                     the scenario's [sources] table). [author to complete: data extraction \
                     dates and any local data used]",
                    prose_count(data.scenario.sources.len() as u64)
                ),
            ),
            item(
                "3.2",
                "Pre-processing",
                "[author to complete: how published or local figures were turned into \
                 parameters; see docs/calibration.md for the baseline's hand calculation]"
                    .to_string(),
            ),
            item(
                "3.3",
                "Input parameters",
                "See the parameter table: every value of the resolved scenario with its unit."
                    .to_string(),
            ),
            item(
                "3.4",
                "Assumptions",
                format!(
                    "{} values are cited as assumptions (source beginning \u{201c}Assumption\u{201d}). \
                     Model assumptions are stated in docs/model.md (calendar rules, tie order, \
                     what daily series sample). [author to complete: assumptions the \
                     conclusions are most sensitive to]",
                    prose_count(assumptions as u64)
                ),
            ),
        ]),
        Block::Subheading("4. Experimentation".into()),
        table(vec![
            item(
                "4.1",
                "Initialisation",
                format!(
                    "The model starts empty (care homes at their initial occupancy) and runs a \
                     warm-up of {} whose results are discarded. {}",
                    days_text(m.warm_up_hours),
                    cite("scenario.warm_up", "how the warm-up length was chosen")
                ),
            ),
            item(
                "4.2",
                "Run length",
                format!(
                    "{} of statistics: {}. {}",
                    days_text(m.horizon_hours),
                    window_text(data),
                    cite("scenario.horizon", "why this run length")
                ),
            ),
            item(
                "4.3",
                "Estimation approach",
                format!(
                    "{} independent replications (seed {}); {}.{} {}",
                    prose_count(u64::from(m.replications)),
                    m.seed,
                    precision,
                    experiment.map_or_else(String::new, |e| format!(" {}", e.estimation)),
                    cite("scenario.replications", "how the number of replications was chosen")
                ),
            ),
        ]),
        Block::Subheading("5. Implementation".into()),
        table(vec![
            item(
                "5.1",
                "Software or programming language",
                format!(
                    "patientflow {} (Rust{}), commit {}.",
                    m.software_version,
                    m.rustc_version
                        .as_ref()
                        .map(|r| format!("; {r}"))
                        .unwrap_or_default(),
                    m.git_commit.as_deref().unwrap_or("not recorded")
                ),
            ),
            item(
                "5.2",
                "Random sampling",
                format!(
                    "{}. Streams: {}. Plans run with the same seed see the same patients \
                     (common random numbers).",
                    or_unrecorded(&m.generator),
                    or_unrecorded(&m.stream_allocation)
                ),
            ),
            item(
                "5.3",
                "Model execution",
                format!(
                    "Event list keyed on (time, sequence number), so simultaneous events keep a \
                     fixed order; replications run in parallel on {} and are collected \
                     in replication order, so results do not depend on the thread count.",
                    super::prose::counted(m.threads as u64, "thread")
                ),
            ),
            item(
                "5.4",
                "System specification",
                format!(
                    "{}; wall time {} s; run started {} (UTC).",
                    if m.machine.is_empty() {
                        "machine not recorded".to_string()
                    } else {
                        format!("{}, {} cores", m.machine, m.machine_cores)
                    },
                    prose_number(m.wall_time_seconds, -1),
                    or_unrecorded(&m.run_started_utc)
                ),
            ),
        ]),
        Block::Subheading("6. Code access".into()),
        table(vec![item(
            "6",
            "Computer model sharing statement",
            format!(
                "Source code: patientflow {}, commit {}, under the MIT licence (LICENSE in \
                 the source code). The resolved scenario is in run.json; the shipped \
                 scenario files are in its scenarios/ folder. [author to complete: where \
                 readers obtain the source code]",
                m.software_version,
                m.git_commit.as_deref().unwrap_or("not recorded")
            ),
        )]),
    ];
    Section {
        id: "stress-des".into(),
        title: "Appendix: STRESS-DES reporting checklist".into(),
        blocks,
    }
}

/// The mental health section of a run's report, when the resolved scenario
/// has a `[mental_health]` table (without one every `mh_*` metric is 0 and
/// there is no section): headline sentences citing the `mh_*` metrics, and
/// fan charts of the local beds occupied and the patients out of area.
fn mental_health_section(data: &RunData) -> io::Result<Option<Section>> {
    let Some(mh) = &data.scenario.mental_health else {
        return Ok(None);
    };
    let days = window_days(data);
    let per = per_window(days);
    let (crises, crises_ci) = est(data, Metric::MhCrises);
    let (adm, adm_ci) = est(data, Metric::MhAdmissions);
    let (occ, occ_ci) = est(data, Metric::MhBedOccupancyMean);
    let (share, share_ci) = match data.metric(Metric::MhBedOccupancyShare) {
        Some(r) => estimate_parts_non_negative(
            100.0 * r.summary.mean,
            100.0 * r.summary.ci95_low,
            100.0 * r.summary.ci95_high,
        ),
        None => ("n/a".to_string(), String::new()),
    };
    let (oap, oap_ci) = est(data, Metric::MhOutOfAreaPlacements);
    let (oap_days, oap_days_ci) = est(data, Metric::MhOutOfAreaBedDays);
    let (delayed, delayed_ci) = est(data, Metric::MhDelayedBedDays);
    let (waits, waits_ci) = est(data, Metric::MhBedWaitsOver12h);
    let crht_running = mh.crht_running();
    let admissions = format!("mental health admissions {per}");
    let headlines = vec![
        headline(
            format!(
                "The borough sees an estimated {crises} mental health crises {per}{}, at the \
                 emergency department or referred to crisis resolution and home treatment by \
                 GPs and community teams; an estimated {adm} patients are admitted to a mental \
                 health bed{}.",
                paren(&crises_ci),
                paren(&adm_ci)
            ),
            &[Metric::MhCrises, Metric::MhAdmissions],
        ),
        headline(
            format!(
                "{}: the difference from the same replications run with crisis resolution and \
                 home treatment switched off.",
                avoided_clause_of(
                    data,
                    "Crisis resolution and home treatment",
                    Metric::MhAdmissionsAvoidedCrht,
                    crht_running,
                    &admissions
                )
            ),
            &[Metric::MhAdmissionsAvoidedCrht],
        ),
        headline(
            format!(
                "On average an estimated {occ} local mental health beds are occupied{}, \
                 {share}% of the beds available{}.",
                paren(&occ_ci),
                paren(&share_ci)
            ),
            &[Metric::MhBedOccupancyMean, Metric::MhBedOccupancyShare],
        ),
        headline(
            format!(
                "An estimated {oap} patients {per}{} are placed in a bed out of the area because \
                 no local bed was free in time, and spend an estimated {oap_days} bed days out \
                 of the area{}.",
                paren(&oap_ci),
                paren(&oap_days_ci)
            ),
            &[Metric::MhOutOfAreaPlacements, Metric::MhOutOfAreaBedDays],
        ),
        headline(
            format!(
                "Patients ready to leave a mental health bed but waiting for supported \
                 accommodation or a care home bed lose an estimated {delayed} delayed bed days \
                 {per}{}.",
                paren(&delayed_ci)
            ),
            &[Metric::MhDelayedBedDays],
        ),
        headline(
            format!(
                "An estimated {waits} mental health patients {per}{} wait more than 12 hours in \
                 the emergency department for a bed after the decision to admit.",
                paren(&waits_ci)
            ),
            &[Metric::MhBedWaitsOver12h],
        ),
    ];
    let mut blocks = vec![Block::Headlines(
        headlines
            .into_iter()
            .map(|h| marked(h, &data.manifest.warnings))
            .collect(),
    )];
    let beds: Vec<f64> = mh
        .beds
        .by_day(data.first_day, days)
        .into_iter()
        .map(f64::from)
        .collect();
    let fans: [(Series, &str, &str, &str, &str, bool); 2] = [
        (
            Series::MhBedsOccupied,
            "mh-beds-occupied.svg",
            "Occupied local mental health beds at midnight, with beds available",
            "Occupied mental health beds (beds)",
            "Occupied local mental health beds",
            false,
        ),
        (
            Series::MhOutOfArea,
            "mh-out-of-area.svg",
            "Mental health patients in a bed out of the area",
            "Patients out of area (patients)",
            "Mental health patients placed out of the area and not yet back or discharged,",
            true,
        ),
    ];
    for fan in fans {
        let capacity = (fan.0 == Series::MhBedsOccupied).then_some(Capacity {
            label: "Mental health beds available",
            beds: &beds,
            caption: "The red line is the number of local mental health beds available each \
                      day.",
        });
        blocks.extend(fan_block(data, fan, capacity)?);
    }
    Ok(Some(Section {
        id: "mental-health".into(),
        title: "Mental health".into(),
        blocks,
    }))
}

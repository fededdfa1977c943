//! Parameter uncertainty in the outputs (`docs/model.md`, "Parameter
//! uncertainty"): `parameters.csv` (each replication's drawn values),
//! `plausible.csv` (each metric's plausible range, the parameters' share of
//! its variance and what drives it), the report's section with its tornado
//! charts, and the same for a comparison's effects.
//!
//! Everything is recomputed from `run.json` (its record of the uncertain
//! values, `scenario_facts.uncertain_values`, and the seed fix every draw)
//! and the replications' values, so a merged or rebuilt directory gets the
//! same bytes; no scenario is loaded again.

use std::fmt::Write as _;
use std::path::Path;

use super::cells::{number_cell, push_record, text_cell};
use super::document::{Block, Chart, Section, Table};
use super::{RunManifest, escape};
use crate::model::headlines::{COMPARISON, run_sentence_metrics};
use crate::model::metrics::{Metric, Metrics, ReplicationResult};
use crate::scenario::uncertain::{Draws, Kind, SAMPLE_RANGE, UncertainValue, Z90};
use crate::stats::percentile_r7_unsorted;
use crate::stats::sensitivity::{Fit, fit, main_drivers};

/// Each replication's drawn values.
pub const PARAMETERS_FILE: &str = "parameters.csv";
/// Each metric's plausible range, variance split and drivers.
pub const PLAUSIBLE_FILE: &str = "plausible.csv";
/// Each plan effect's plausible range, variance split and drivers.
pub const PLAUSIBLE_EFFECTS_FILE: &str = "comparison_plausible.csv";

/// The uncertain values of the run `manifest` records; `None` without any.
pub fn uncertainty_of(manifest: &RunManifest) -> Option<Draws> {
    let values = &manifest.scenario_facts.as_ref()?.uncertain_values;
    (!values.is_empty()).then(|| {
        Draws::new(values.clone(), manifest.seed).with_kept(
            manifest
                .kept_draws
                .as_ref()
                .map(|k| k.draw.clone())
                .unwrap_or_default(),
        )
    })
}

/// Why the report of a run with uncertain values cannot be built from
/// `manifest`: it was written before `run.json` recorded them (its resolved
/// scenario has intervals, its record none); `None` when it can.
pub fn unrecorded(manifest: &RunManifest) -> Option<String> {
    let facts = manifest.scenario_facts.as_ref()?;
    let text = &manifest.resolved_toml;
    let has =
        facts.uncertain_values.is_empty() && (has_key(text, "low") || has_key(text, "sample"));
    has.then(|| {
        "its scenario has uncertain values but no record of them \
         (`scenario_facts.uncertain_values`; written by an older patientflow): run the \
         scenario again to make its report"
            .to_string()
    })
}

/// Why `manifest`'s record of uncertain values cannot be drawn again: none
/// recorded ([`unrecorded`]), or a recorded value that no scenario loads
/// (a `sample` outside its range, an interval outside its kind's domain:
/// `run.json` was edited; drawing such a pathway share could take without
/// end). `None` when it can.
pub fn record_problem(manifest: &RunManifest) -> Option<String> {
    if let Some(why) = unrecorded(manifest) {
        return Some(why);
    }
    if let Some(why) = super::kept_check::problem(manifest) {
        return Some(why);
    }
    let values = &manifest.scenario_facts.as_ref()?.uncertain_values;
    let (least, most) = SAMPLE_RANGE;
    values.iter().find_map(|v| {
        let (low, high) = (v.low, v.high);
        let ok = match (v.kind, v.sample) {
            (Kind::PathwayShare, Some(n)) => {
                low == high && low > 0.0 && low <= 1.0 && (least..=most).contains(&n)
            }
            (Kind::PathwayShare, None) | (_, Some(_)) => false,
            (Kind::Share, None) => low > 0.0 && low <= high && high < 1.0,
            (_, None) => low > 0.0 && low <= high && high.is_finite(),
        };
        (!ok).then(|| {
            let sample = v
                .sample
                .map_or(String::new(), |n| format!(", sample {n:?}"));
            format!(
                "`scenario_facts.uncertain_values` records `{}` ({}, low {low:?}, high \
                 {high:?}{sample}), which no scenario gives; was run.json edited?",
                v.key,
                v.kind.name(),
            )
        })
    })
}

/// Whether the TOML `text` may hold a key `key` (`low`, not `follow_up`):
/// every interval has a key `low`, every uncertain pathway table a key
/// `sample`. Strings and comments are skipped: a name or a citation that
/// says "low = 5" holds no such key.
fn has_key(text: &str, key: &str) -> bool {
    let text = outside_strings(text);
    text.match_indices(key).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + key.len()..].trim_start_matches([' ', '\t']);
        !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-')
            && after.starts_with('=')
    })
}

/// `text` with every TOML string (its quotes too) and comment blanked
/// out, newlines kept.
fn outside_strings(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    // What ends the string or comment being skipped ("\n" a comment).
    let mut until: Option<&str> = None;
    while let Some(c) = rest.chars().next() {
        let step = match until {
            None => {
                let Some(d) = ["\"\"\"", "'''", "\"", "'", "#"]
                    .into_iter()
                    .find(|d| rest.starts_with(d))
                else {
                    out.push(c);
                    rest = &rest[c.len_utf8()..];
                    continue;
                };
                until = Some(if d == "#" { "\n" } else { d });
                d.len()
            }
            Some(d) if rest.starts_with(d) => {
                until = None;
                if d == "\n" {
                    out.push('\n');
                    rest = &rest[1..];
                    continue;
                }
                d.len()
            }
            // An escape in a basic string skips the character after it.
            Some(d) if c == '\\' && d.starts_with('"') => {
                1 + rest[1..].chars().next().map_or(0, char::len_utf8)
            }
            Some(_) => c.len_utf8(),
        };
        out.extend(
            rest[..step]
                .chars()
                .map(|k| if k == '\n' { '\n' } else { ' ' }),
        );
        rest = &rest[step..];
    }
    out
}

/// A result across replications with uncertain values.
#[derive(Clone, Debug)]
pub struct Spread {
    /// Mean over the replications.
    pub mean: f64,
    /// 10th percentile.
    pub p10: f64,
    /// 90th percentile.
    pub p90: f64,
    /// The regression on the drawn parameters; `None` when it cannot be
    /// fitted (too few replications, or no variation).
    pub fit: Option<Fit>,
}

/// The spread of `y` (one value per replication) regressed on `z` (one
/// column of standard normal deviates per uncertain value).
pub fn spread(y: &[f64], z: &[Vec<f64>]) -> Spread {
    let mut sorted = y.to_vec();
    Spread {
        mean: y.iter().sum::<f64>() / y.len().max(1) as f64,
        p10: percentile_r7_unsorted(&mut sorted, 0.10),
        p90: percentile_r7_unsorted(&mut sorted, 0.90),
        fit: fit(y, z),
    }
}

/// One column of deviates per uncertain value, over `replications`.
pub fn deviate_columns(u: &Draws, replications: &[u32]) -> Vec<Vec<f64>> {
    let rows: Vec<Vec<f64>> = replications.iter().map(|&r| u.deviates(r)).collect();
    (0..u.values().len())
        .map(|k| rows.iter().map(|row| row[k]).collect())
        .collect()
}

/// The text of `parameters.csv`: `replication`, with kept draws `draw`
/// (each replication's kept draw), then one column per
/// uncertain value (its dotted key; durations in hours), in the order of
/// `replications`.
pub fn parameters_csv(u: &Draws, replications: &[u32]) -> String {
    let mut out = String::new();
    let mut header = vec![text_cell("replication")];
    if u.has_kept() {
        header.push(text_cell("draw"));
    }
    header.extend(u.values().iter().map(|v| text_cell(&v.key)));
    push_record(&mut out, &header);
    for &r in replications {
        let mut row = vec![r.to_string()];
        if u.has_kept() {
            row.push(u.draw_of(r).to_string());
        }
        row.extend(u.draws(r).into_iter().map(number_cell));
        push_record(&mut out, &row);
    }
    out
}

fn beta_header(u: &Draws) -> impl Iterator<Item = String> + '_ {
    u.values()
        .iter()
        .map(|v| text_cell(&format!("beta:{}", v.key)))
}

fn fit_cells(s: &Spread, p: usize) -> Vec<String> {
    let mut row = vec![
        s.fit
            .as_ref()
            .map_or(String::new(), |f| number_cell(f.parameter_share)),
    ];
    match &s.fit {
        Some(f) => row.extend(f.betas.iter().map(|&b| number_cell(b))),
        None => row.extend(std::iter::repeat_n(String::new(), p)),
    }
    row
}

/// The text of `plausible.csv`: for every metric, its mean, plausible range
/// (10th and 90th percentiles across replications), the parameters' share
/// of its variance and each uncertain value's standardised coefficient
/// (empty when the regression cannot be fitted).
pub fn plausible_csv(u: &Draws, rows: &[(u32, Metrics)]) -> String {
    let reps: Vec<u32> = rows.iter().map(|(r, _)| *r).collect();
    let z = deviate_columns(u, &reps);
    let mut out = String::new();
    let mut header: Vec<String> = ["metric", "unit", "mean", "p10", "p90", "parameter_share"]
        .iter()
        .map(|s| text_cell(s))
        .collect();
    header.extend(beta_header(u));
    push_record(&mut out, &header);
    for m in Metric::ALL {
        let y: Vec<f64> = rows.iter().map(|(_, ms)| ms[m]).collect();
        let s = spread(&y, &z);
        let mut row = vec![
            text_cell(m.name()),
            text_cell(m.unit()),
            number_cell(s.mean),
            number_cell(s.p10),
            number_cell(s.p90),
        ];
        row.extend(fit_cells(&s, u.values().len()));
        push_record(&mut out, &row);
    }
    out
}

/// The uncertainty files of a run directory: `parameters.csv` always (a
/// shard's too, for its replications), `plausible.csv` for a whole run.
/// Empty without uncertain values.
pub fn run_files(manifest: &RunManifest, results: &[ReplicationResult]) -> Vec<(String, String)> {
    let Some(u) = uncertainty_of(manifest) else {
        return Vec::new();
    };
    let reps: Vec<u32> = results.iter().map(|r| r.replication).collect();
    let mut files = vec![(PARAMETERS_FILE.to_string(), parameters_csv(&u, &reps))];
    if manifest.shard.is_none() {
        let rows: Vec<(u32, Metrics)> =
            results.iter().map(|r| (r.replication, r.metrics)).collect();
        files.push((PLAUSIBLE_FILE.to_string(), plausible_csv(&u, &rows)));
    }
    files
}

/// Reads a run directory's `replications.csv` for [`run_section`] (when
/// the report is rebuilt); `None` when unreadable.
pub fn rows_in(dir: &Path) -> Option<Vec<(u32, Metrics)>> {
    let file = super::readback::open_regular(&dir.join("replications.csv")).ok()?;
    super::experiment_outputs::parse_replications_csv(file, u32::MAX as usize).ok()
}

/// "the result depends most on `a` and `b`", or why not.
pub fn drivers_sentence(keys: &[&str], s: &Spread) -> String {
    if s.p10 == s.p90 && s.fit.is_none() {
        return "it hardly varies across replications".to_string();
    }
    let Some(f) = &s.fit else {
        return "too few replications to say which uncertain values it depends on".to_string();
    };
    if f.parameter_share < 0.1 {
        return format!(
            "the uncertain values explain little of its variation ({:.0}%): it is mostly \
             simulation noise",
            100.0 * f.parameter_share
        );
    }
    let names: Vec<String> = main_drivers(&f.betas)
        .into_iter()
        .map(|i| keys[i].to_string())
        .collect();
    let list = match names.as_slice() {
        [] => return "no uncertain value drives it".to_string(),
        [a] => a.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    };
    format!("the result depends most on {list}")
}

/// A tornado chart: one bar per uncertain value, the change in the result
/// as the value moves from its 10th to its 90th percentile with the others
/// held (2 x 1.2816 x its slope), largest first.
pub fn tornado_svg(title: &str, unit: &str, keys: &[&str], f: &Fit) -> String {
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by(|&i, &j| {
        f.betas[j]
            .abs()
            .total_cmp(&f.betas[i].abs())
            .then(i.cmp(&j))
    });
    let swings: Vec<f64> = f.slopes.iter().map(|b| 2.0 * Z90 * b).collect();
    let most = swings.iter().map(|s| s.abs()).fold(0.0, f64::max);
    let (width, left, right, bar_h, top) = (720.0, 300.0, 40.0, 26.0, 56.0);
    let height = top + bar_h * keys.len() as f64 + 60.0;
    let mid = left + (width - left - right) / 2.0;
    let half = (width - left - right) / 2.0;
    let scale = if most > 0.0 { half / most } else { 0.0 };
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{}\" y=\"24\" font-size=\"15\" text-anchor=\"middle\">{}</text>\n",
        width / 2.0,
        escape::html(title)
    );
    for (row, &i) in order.iter().enumerate() {
        let y = top + row as f64 * bar_h;
        let w = swings[i].abs() * scale;
        let x = if swings[i] < 0.0 { mid - w } else { mid };
        let fill = if swings[i] < 0.0 {
            "#DA291C"
        } else {
            "#005EB8"
        };
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"end\">{} \
             (&#946; {:.2})</text>\n<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{w:.1}\" \
             height=\"{:.1}\" fill=\"{fill}\"/>",
            left - 8.0,
            y + bar_h * 0.65,
            escape::html(keys[i]),
            f.betas[i],
            y + 3.0,
            bar_h - 6.0
        );
    }
    let bottom = top + bar_h * keys.len() as f64;
    let _ = write!(
        svg,
        "<line x1=\"{mid:.1}\" y1=\"{:.1}\" x2=\"{mid:.1}\" y2=\"{bottom:.1}\" stroke=\"black\"/>\n\
         <text x=\"{mid:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\">change in \
         the result ({}) as each value goes from its 10th to its 90th percentile; \u{b1}{}</text>\n\
         <text x=\"{mid:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\">parameters \
         explain {:.0}% of the variance across replications</text>\n</svg>\n",
        top - 4.0,
        bottom + 20.0,
        escape::html(unit),
        shown(most),
        bottom + 40.0,
        100.0 * f.parameter_share
    );
    escape::svg(&svg)
}

/// A number for prose: three significant figures, thousands separated.
fn shown(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return super::prose::prose_number(x, 0);
    }
    let exponent = if x.abs() >= 10.0 {
        0
    } else {
        (x.abs().log10().floor() as i32 - 2).clamp(-6, 0)
    };
    super::prose::prose_number(x, exponent)
}

fn file_slug(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// What a scenario gives as uncertain, in words: "3 of its values as 80%
/// intervals", and "the shares of 2 pathway tables as counted among a
/// sample of patients" when it has any.
fn what_is_uncertain(values: &[UncertainValue]) -> String {
    let intervals = values
        .iter()
        .filter(|v| v.kind != Kind::PathwayShare)
        .count();
    let mut tables: Vec<&str> = values
        .iter()
        .filter(|v| v.kind == Kind::PathwayShare)
        .filter_map(|v| v.key.rsplit_once('.').map(|(table, _)| table))
        .collect();
    tables.dedup();
    let mut parts = Vec::new();
    if intervals > 0 {
        parts.push(format!(
            "{intervals} of its values as 80% interval{}",
            if intervals == 1 { "" } else { "s" }
        ));
    }
    if !tables.is_empty() {
        parts.push(format!(
            "the shares of {} pathway table{} as counted among a sample of patients (`sample`)",
            tables.len(),
            if tables.len() == 1 { "" } else { "s" }
        ));
    }
    parts.join(" and ")
}

/// How many replications' draws overload each service, in words, or
/// `None` when no draw does (`docs/model.md`, "Draws that overload a
/// service").
pub fn overloaded_sentence(manifest: &RunManifest) -> Option<String> {
    let mut by_count: Vec<(&String, usize)> = manifest
        .overloaded_draws
        .iter()
        .map(|(service, reps)| (service, reps.len()))
        .filter(|&(_, n)| n > 0)
        .collect();
    if by_count.is_empty() {
        return None;
    }
    by_count.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let all: std::collections::BTreeSet<u32> = manifest
        .overloaded_draws
        .values()
        .flatten()
        .copied()
        .collect();
    let each: Vec<String> = by_count
        .iter()
        .map(|(service, n)| format!("{service} in {n}"))
        .collect();
    let calibrated = manifest
        .scenario_facts
        .as_ref()
        .is_some_and(|f| !f.calibration.is_empty());
    Some(format!(
        "In {} of {} replications the drawn values put a service's offered load at or above its \
         capacity ({}): in those worlds its queue grows through the run, and the figures it \
         drives never settle. Every figure and plausible range here includes them{}",
        all.len(),
        manifest.replications,
        each.join(", "),
        if calibrated {
            "; the published figures this scenario is calibrated on, observed in a system that \
             settled, rule such worlds out."
        } else {
            "."
        }
    ))
}

/// What keeping only the calibrated draws did, in words, or `None` without
/// the rule (`docs/model.md`, "Keeping only the draws the calibration
/// allows").
pub fn kept_sentence(manifest: &RunManifest) -> Option<String> {
    let k = manifest.kept_draws.as_ref()?;
    let kept = k.draw.len() as u64;
    let ranked = |m: &std::collections::BTreeMap<String, u64>| -> String {
        let mut v: Vec<(&String, &u64)> = m.iter().filter(|(_, n)| **n > 0).collect();
        v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        v.iter()
            .map(|(name, n)| format!("{name} in {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let rejected = k.tried.saturating_sub(kept);
    let overloaded = k.rejected_overloaded.min(rejected);
    let outside = rejected - overloaded;
    let mut why = Vec::new();
    if overloaded > 0 {
        why.push(format!(
            "{overloaded} for overloading a service ({}; a draw counts under each service it \
             overloads)",
            ranked(&k.overloaded)
        ));
    }
    if outside > 0 {
        why.push(format!(
            "{outside} for a figure outside its widened tolerance ({}; a draw counts under each \
             figure outside)",
            ranked(&k.outside)
        ));
    }
    let figures = k.noise_sd.len();
    // Figures whose one-replication noise is wider than their tolerance
    // (its sd above half the tolerance's width) rule out little.
    let tolerances = manifest
        .scenario_facts
        .as_ref()
        .map_or(&[][..], |f| f.calibration.as_slice());
    let loose: Vec<String> = k
        .noise_sd
        .iter()
        .filter(|n| {
            tolerances
                .iter()
                .find(|t| t.name == n.name)
                .is_some_and(|t| n.sd > (t.high - t.low) / 2.0)
        })
        .map(|n| format!("\"{}\"", n.name))
        .collect();
    let loose_text = match loose.as_slice() {
        [] => String::new(),
        names => format!(
            " In one replication, {} of the figures have noise wider than their tolerance \
             ({}): those rule out little, so the kept worlds may still include some their \
             published values would rule out.",
            names.len(),
            super::prose::and_list(names)
        ),
    };
    Some(format!(
        "Kept {kept} of {} drawn worlds: those consistent with the {figures} calibration \
         figure{} of {} (each within its tolerance widened by {} noise standard deviations){}. \
         The plausible ranges here are ranges among the kept worlds.{loose_text}",
        k.tried,
        if figures == 1 { "" } else { "s" },
        k.judged,
        k.cutoff,
        if why.is_empty() {
            String::new()
        } else {
            format!("; rejected: {}", why.join(", and "))
        }
    ))
}

/// The run report's section "What we are unsure of"; `None` without
/// uncertain values.
pub fn run_section(manifest: &RunManifest, rows: &[(u32, Metrics)]) -> Option<Section> {
    let u = uncertainty_of(manifest)?;
    let keys: Vec<&str> = u.values().iter().map(|v| v.key.as_str()).collect();
    let reps: Vec<u32> = rows.iter().map(|(r, _)| *r).collect();
    let z = deviate_columns(&u, &reps);
    let mut blocks = vec![Block::Paragraph(format!(
        "This scenario gives {}; each replication drew its own values and ran with them. The \
         plausible range is where the result fell in 80% of \
         plausible cases (10th to 90th percentile across replications); the 95% CI of the mean \
         elsewhere in this report measures simulation noise only. The parameter share is the \
         part of the variance across replications that the drawn values explain (adjusted R \
         squared of a regression on them); the rest is noise.",
        what_is_uncertain(u.values())
    ))];
    if let Some(kept) = kept_sentence(manifest) {
        blocks.push(Block::Paragraph(kept));
    }
    if let Some(overloaded) = overloaded_sentence(manifest) {
        blocks.push(Block::Paragraph(format!("{} {overloaded}", super::MARK)));
    }
    let mut table = Table {
        header: vec![
            "metric".into(),
            "mean".into(),
            "plausible range (80%)".into(),
            "parameter share".into(),
            "what drives it".into(),
        ],
        rows: Vec::new(),
        numeric: vec![false, true, true, true, false],
    };
    let mut charts = Vec::new();
    for m in run_sentence_metrics() {
        let y: Vec<f64> = rows.iter().map(|(_, ms)| ms[m]).collect();
        let s = spread(&y, &z);
        table.rows.push(vec![
            m.name().to_string(),
            shown(s.mean),
            format!("{} to {}", shown(s.p10), shown(s.p90)),
            s.fit
                .as_ref()
                .map_or("-".into(), |f| format!("{:.0}%", 100.0 * f.parameter_share)),
            drivers_sentence(&keys, &s),
        ]);
        if let Some(f) = &s.fit
            && f.parameter_share >= 0.1
        {
            let title = format!("What drives {}", m.name());
            charts.push(Block::Chart(Chart {
                file: format!("tornado-{}.svg", file_slug(m.name())),
                title: title.clone(),
                caption: format!(
                    "In 80% of plausible cases {} is between {} and {}; {}.",
                    m.name(),
                    shown(s.p10),
                    shown(s.p90),
                    drivers_sentence(&keys, &s)
                ),
                svg: tornado_svg(&title, m.unit(), &keys, f),
            }));
        }
    }
    if reps.len() < 10 * keys.len() {
        blocks.push(Block::Caveat(format!(
            "With {} replications for {} uncertain values the ranking of what drives each \
             result is rough (a value with no effect can appear among the drivers by chance): \
             run at least {} replications, ten per uncertain value, before citing it.",
            reps.len(),
            keys.len(),
            10 * keys.len()
        )));
    }
    blocks.push(Block::Table(table));
    blocks.extend(charts);
    Some(Section {
        id: "uncertainty".into(),
        title: "What we are unsure of".into(),
        blocks,
    })
}

/// The text of `comparison_plausible.csv`: for each plan and each comparison headline, the effect's
/// plausible range (stated as the comparison states it: "avoided" is
/// baseline minus plan), the parameters' share of its variance and the
/// uncertain values' standardised coefficients. Replications are paired
/// by index; the deviates are those of the keys of either arm (a key's
/// deviate depends only on the seed, the replication and the key).
pub fn effects(
    base: (&RunManifest, &[ReplicationResult]),
    plans: &[(String, &RunManifest, &[ReplicationResult])],
) -> Option<String> {
    let ub = uncertainty_of(base.0);
    let ups: Vec<Option<Draws>> = plans.iter().map(|(_, m, _)| uncertainty_of(m)).collect();
    if ub.is_none() && ups.iter().all(Option::is_none) {
        return None;
    }
    let mut out = String::new();
    for ((name, _, results), up) in plans.iter().zip(&ups) {
        let mut keys: Vec<String> = Vec::new();
        for u in [&ub, up].into_iter().flatten() {
            for v in u.values() {
                if !keys.contains(&v.key) {
                    keys.push(v.key.clone());
                }
            }
        }
        let pairs: Vec<(&ReplicationResult, &ReplicationResult)> = base
            .1
            .iter()
            .filter_map(|b| {
                results
                    .iter()
                    .find(|p| p.replication == b.replication)
                    .map(|p| (b, p))
            })
            .collect();
        let seed = base.0.seed;
        let kept = base.0.kept_draws.as_ref();
        let draw_of = |r: u32| kept.and_then(|k| k.draw.get(&r)).copied().unwrap_or(0);
        let z: Vec<Vec<f64>> = keys
            .iter()
            .map(|k| {
                pairs
                    .iter()
                    .map(|(b, _)| {
                        crate::scenario::uncertain::deviate(
                            seed,
                            b.replication,
                            draw_of(b.replication),
                            k,
                        )
                    })
                    .collect()
            })
            .collect();
        if out.is_empty() {
            let mut header: Vec<String> = [
                "plan",
                "effect",
                "metric",
                "unit",
                "mean",
                "p10",
                "p90",
                "parameter_share",
            ]
            .iter()
            .map(|s| text_cell(s))
            .collect();
            header.push(text_cell("drivers"));
            push_record(&mut out, &header);
        }
        for c in COMPARISON.iter() {
            let y: Vec<f64> = pairs
                .iter()
                .map(|(b, p)| c.sign() * (p.metrics[c.metric] - b.metrics[c.metric]))
                .collect();
            let s = spread(&y, &z);
            let drivers = match &s.fit {
                Some(f) if f.parameter_share >= 0.1 => main_drivers(&f.betas)
                    .into_iter()
                    .map(|i| keys[i].clone())
                    .collect::<Vec<_>>()
                    .join(" "),
                _ => String::new(),
            };
            push_record(
                &mut out,
                &[
                    text_cell(name),
                    text_cell(c.effect.label),
                    text_cell(c.metric.name()),
                    text_cell(c.metric.unit()),
                    number_cell(s.mean),
                    number_cell(s.p10),
                    number_cell(s.p90),
                    s.fit
                        .as_ref()
                        .map_or(String::new(), |f| number_cell(f.parameter_share)),
                    text_cell(&drivers),
                ],
            );
        }
    }
    Some(out)
}

/// The comparison report's section on parameter uncertainty, from the text
/// of `comparison_plausible.csv`: a sentence for each plan's first two
/// headlines ("in 80% of plausible cases ...") and a table of every effect.
pub fn effects_section(csv_text: &str) -> Option<Section> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(csv_text.as_bytes());
    let mut sentences = Vec::new();
    let mut table = Table {
        header: vec![
            "plan".into(),
            "effect".into(),
            "mean".into(),
            "plausible range (80%)".into(),
            "parameter share".into(),
            "depends most on".into(),
        ],
        rows: Vec::new(),
        numeric: vec![false, false, true, true, true, false],
    };
    for record in reader.records() {
        let r = record.ok()?;
        let cell = |i: usize| r.get(i).unwrap_or("");
        let num = |i: usize| cell(i).parse::<f64>().unwrap_or(f64::NAN);
        let (plan, effect, metric) = (cell(0), cell(1), cell(2));
        let share = cell(7).parse::<f64>().ok();
        let share_text = share.map_or("-".to_string(), |s| format!("{:.0}%", 100.0 * s));
        let drivers: Vec<&str> = cell(8).split_whitespace().collect();
        let drivers_text = super::prose::and_list(&drivers);
        if let Some(c) = COMPARISON
            .iter()
            .find(|c| c.effect.label == effect && c.metric.name() == metric)
            && c.effect.position < 2
        {
            let (lo, hi) = (num(5), num(6));
            // Plain words, no negative numbers (as the headline sentences):
            // a range reaching below no change is said as plan against
            // baseline, "from 20 fewer to 5 more".
            let range = if lo >= 0.0 || !lo.is_finite() {
                format!(
                    "{plan}'s {effect} is between {} and {} {}",
                    shown(lo),
                    shown(hi),
                    c.effect.unit_words
                )
            } else {
                let words = |x: f64| {
                    let size = shown(x.abs());
                    if x > 0.0 {
                        format!("{size} more")
                    } else if x < 0.0 {
                        format!("{size} fewer")
                    } else {
                        size
                    }
                };
                // The effect is baseline minus plan: the plan's difference
                // runs from -hi to -lo.
                format!(
                    "{plan} has from {} to {} {} than the baseline",
                    words(-hi),
                    words(-lo),
                    c.effect.noun
                )
            };
            sentences.push(format!(
                "In 80% of plausible cases, {range} (parameters explain {share_text} of its \
                 variance across replications{}).",
                if drivers_text.is_empty() {
                    String::new()
                } else {
                    format!("; the result depends most on {drivers_text}")
                }
            ));
        }
        table.rows.push(vec![
            plan.to_string(),
            effect.to_string(),
            shown(num(4)),
            format!("{} to {}", shown(num(5)), shown(num(6))),
            share_text,
            drivers_text,
        ]);
    }
    Some(Section {
        id: "uncertainty".into(),
        title: "What we are unsure of".into(),
        blocks: vec![
            Block::Paragraph(
                "Some values of these scenarios are given as 80% intervals; each replication \
                 drew its own values, the same for a plan and its baseline where both give a \
                 value the same interval, so each plan's effect is judged in the same possible \
                 world. The plausible range is where the effect fell in 80% of plausible cases \
                 (10th to 90th percentile of the paired differences); the 95% CI of the mean \
                 effect elsewhere in this report measures simulation noise only."
                    .into(),
            ),
            Block::Headlines(sentences),
            Block::Table(table),
        ],
    })
}

/// Reads `comparison_plausible.csv` of a comparison directory, if any.
pub fn effects_text_in(dir: &Path) -> Option<String> {
    use std::io::Read as _;
    let file = super::readback::open_regular(&dir.join(PLAUSIBLE_EFFECTS_FILE)).ok()?;
    let mut text = String::new();
    file.take(super::readback::MAX_JSON_BYTES)
        .read_to_string(&mut text)
        .ok()?;
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::has_key;

    #[test]
    fn a_key_in_a_string_or_a_comment_is_not_a_key() {
        for (text, key, has) in [
            ("x = { low = 0.6, high = 0.7 }", "low", true),
            ("[a.x]\nlow = 0.6\nhigh = 0.7\n", "low", true),
            ("frail = { p0 = 1, sample = 400 }", "sample", true),
            ("follow_up = 0.6", "low", false),
            ("name = \"sample = 3 beds\"", "sample", false),
            ("\"a.b\" = 'low = 5 at night'", "low", false),
            ("x = 1 # low = 5\n", "low", false),
            ("s = \"\"\"\nlow = 5\n\"\"\"\n", "low", false),
            ("s = '''\nlow = 5\n'''\n", "low", false),
            ("s = \"a \\\" low = 5\"", "low", false),
            ("s = \"é\" # x\nlow = 5\n", "low", true),
        ] {
            assert_eq!(has_key(text, key), has, "{text:?} {key}");
        }
    }
}

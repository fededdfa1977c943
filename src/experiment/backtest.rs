//! `patientflow backtest SCENARIO --observed FILE`: the scenario's fan of
//! daily series against observed daily counts (`docs/model.md`,
//! "Backtest"): bias, mean absolute error and the coverage of the 50%, 80%
//! and 95% bands, in `backtest.csv`, `backtest_daily.csv` and a report.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use crate::model::metrics::Series;
use crate::report::{self, number_cell, text_cell};
use crate::scenario::{self, calendar::Date, truncate_token};
use crate::stats::percentile_r7;

use super::ExperimentError;
use super::commands::{Finished, Settings};

/// The header an observed file starts with.
pub const OBSERVED_HEADER: &str = "date,series,value";
/// The largest observed file read (a daily series of ten years for every
/// series is well under a megabyte).
pub const MAX_OBSERVED_BYTES: u64 = 64 * 1024 * 1024;
/// The bands whose coverage is reported: (name, lower and upper percentile).
pub const BANDS: [(&str, f64, f64); 3] =
    [("50", 0.25, 0.75), ("80", 0.10, 0.90), ("95", 0.025, 0.975)];

/// One observed value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Observation {
    /// The day (its midnight, 00:00).
    pub date: Date,
    /// The model's daily series it is compared with.
    pub series: Series,
    /// The observed count.
    pub value: f64,
    /// Its line in the file (1-based), for errors.
    pub line: usize,
}

/// Reads an observed file's text (`date,series,value`); errors say
/// `FILE:LINE:COLUMN: FIELD: what is wrong` (`file` as given).
pub fn parse_observed(file: &str, text: &str) -> Result<Vec<Observation>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.split('\n').enumerate();
    let header = lines.next().map(|(_, l)| l.trim_end_matches('\r'));
    if header.map(str::trim) != Some(OBSERVED_HEADER) {
        return Err(format!(
            "{file}:1:1: expected the header `{OBSERVED_HEADER}`, found `{}`",
            truncate_token(header.unwrap_or(""))
        ));
    }
    let mut out = Vec::new();
    let mut seen: BTreeMap<(Date, Series), usize> = BTreeMap::new();
    for (i, raw) in lines {
        let line_no = i + 1;
        let line = raw.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != 3 {
            return Err(format!(
                "{file}:{line_no}:1: expected 3 fields (date,series,value), found {}",
                fields.len()
            ));
        }
        let column = |k: usize| 1 + fields[..k].iter().map(|f| f.len() + 1).sum::<usize>();
        let at = |k: usize, name: &str| format!("{file}:{line_no}:{}: {name}", column(k));
        let date_text = fields[0].trim();
        let date = Date::parse(date_text).ok_or_else(|| {
            format!(
                "{}: `{}` is not a date (expected YYYY-MM-DD)",
                at(0, "date"),
                truncate_token(date_text)
            )
        })?;
        let series_text = fields[1].trim();
        let series = Series::from_name(series_text).ok_or_else(|| {
            let known: Vec<&str> = Series::ALL.iter().map(|s| s.name()).collect();
            format!(
                "{}: unknown series `{}`; the known series are {}",
                at(1, "series"),
                truncate_token(series_text),
                known.join(", ")
            )
        })?;
        let value_text = fields[2].trim();
        let value: f64 = value_text.parse().map_err(|_| {
            format!(
                "{}: `{}` is not a number",
                at(2, "value"),
                truncate_token(value_text)
            )
        })?;
        if !(0.0..=report::readback::MAX_VALUE).contains(&value) {
            return Err(format!(
                "{}: `{}`: expected a count of at least 0 and at most {:e}",
                at(2, "value"),
                truncate_token(value_text),
                report::readback::MAX_VALUE
            ));
        }
        if let Some(first) = seen.insert((date, series), line_no) {
            return Err(format!(
                "{}: {date} {} is already given on line {first}",
                at(0, "date"),
                series.name()
            ));
        }
        out.push(Observation {
            date,
            series,
            value,
            line: line_no,
        });
    }
    if out.is_empty() {
        return Err(format!("{file}: no observations after the header"));
    }
    Ok(out)
}

/// The model's fan on one day of one series, and the observed value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DayFan {
    /// The observed value.
    pub observed: f64,
    /// The model's mean over replications.
    pub mean: f64,
    /// R-7 percentiles 2.5, 10, 25, 50, 75, 90, 97.5.
    pub percentiles: [f64; 7],
}

const PERCENTILES: [f64; 7] = [0.025, 0.10, 0.25, 0.50, 0.75, 0.90, 0.975];

impl DayFan {
    /// The band's `[low, high]` (by [`BANDS`] index).
    pub fn band(&self, band: usize) -> (f64, f64) {
        (self.percentiles[2 - band], self.percentiles[4 + band])
    }

    /// Whether the observed value lies in the band, edges included.
    pub fn covered(&self, band: usize) -> bool {
        let (lo, hi) = self.band(band);
        lo <= self.observed && self.observed <= hi
    }
}

/// What `backtest.csv` says of one series.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesScore {
    /// The series.
    pub series: Series,
    /// Observed days compared.
    pub days: usize,
    /// Mean of (model mean - observed): above 0 when the model overstates.
    pub bias: f64,
    /// Mean of |model mean - observed|.
    pub mean_absolute_error: f64,
    /// Share of days inside each band of [`BANDS`].
    pub coverage: [f64; 3],
}

/// Scores a series' days.
pub fn score(series: Series, days: &[DayFan]) -> SeriesScore {
    let n = days.len() as f64;
    let errors = days.iter().map(|d| d.mean - d.observed);
    SeriesScore {
        series,
        days: days.len(),
        bias: errors.clone().sum::<f64>() / n,
        mean_absolute_error: errors.map(f64::abs).sum::<f64>() / n,
        coverage: std::array::from_fn(|b| days.iter().filter(|d| d.covered(b)).count() as f64 / n),
    }
}

/// Runs the backtest and writes its outputs.
pub fn backtest(
    path: &Path,
    observed_path: &Path,
    out: Option<&Path>,
    settings: &Settings,
) -> Result<Finished, ExperimentError> {
    settings.check_counts()?;
    let started = Instant::now();
    let loaded = scenario::load(path, &settings.overrides())?;
    let file = observed_path.display().to_string();
    let text = read_observed(observed_path)?;
    let observations = parse_observed(&file, &text).map_err(ExperimentError::Usage)?;

    super::commands::sized_analysis(&loaded, settings)?;
    let prepared = settings.prepare_daily(loaded.scenario.clone());
    let first_day = prepared.first_day();
    let days = prepared.days_in_window();
    if days == 0 {
        return Err(ExperimentError::Usage(format!(
            "{}: the statistics window holds no midnight, so there is no daily series to \
             compare with {file}",
            path.display()
        )));
    }
    let last_day = first_day.add_days(days as i64 - 1);
    for o in &observations {
        if o.date < first_day || o.date > last_day {
            return Err(ExperimentError::Usage(format!(
                "{file}:{}:1: date: {} is outside the statistics window of {} ({first_day} to \
                 {last_day}): every observed date must fall inside it (move the window with \
                 scenario.start_date, scenario.warm_up and scenario.horizon, e.g. by --set)",
                o.line,
                o.date,
                path.display()
            )));
        }
    }

    let (out, mut out_dir) = super::commands::claim_analysis_out(out, path, "backtest", settings)?;
    let sc = &loaded.scenario;
    let threads = super::commands::announce_analysis(
        settings,
        sc,
        &format!("backtest: {} against {file}", sc.name),
        "",
    );
    let results = settings.run_all(&prepared, sc.replications, threads)?;

    // The fan on every observed day, by series in [`Series::ALL`] order,
    // days in date order.
    let mut by_series: BTreeMap<Series, Vec<(Date, DayFan)>> = BTreeMap::new();
    let mut values = Vec::with_capacity(results.len());
    for o in &observations {
        let day = first_day.days_until(o.date) as usize;
        values.clear();
        values.extend(
            results
                .iter()
                .filter_map(|r| r.daily[o.series.index()].get(day).copied())
                .filter(|v| v.is_finite()),
        );
        values.sort_by(f64::total_cmp);
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        let fan = DayFan {
            observed: o.value,
            mean,
            percentiles: PERCENTILES.map(|p| percentile_r7(&values, p)),
        };
        by_series.entry(o.series).or_default().push((o.date, fan));
    }
    for days in by_series.values_mut() {
        days.sort_by_key(|(d, _)| *d);
    }
    let scores: Vec<SeriesScore> = by_series
        .iter()
        .map(|(&s, days)| {
            let fans: Vec<DayFan> = days.iter().map(|(_, f)| *f).collect();
            score(s, &fans)
        })
        .collect();

    let manifest = super::commands::manifest_of(
        path,
        &loaded,
        &prepared,
        sc.replications,
        threads,
        started,
        settings,
    );
    let mut files = vec![
        ("backtest.csv".to_string(), render_scores_csv(&scores)),
        (
            "backtest_daily.csv".to_string(),
            render_daily_csv(&by_series),
        ),
    ];
    let doc = report::backtest_report::document(
        &sc.name,
        &file,
        sc.replications,
        first_day,
        &scores,
        &by_series,
    )
    .map_err(super::commands::io_error(&out))?;
    files.extend(report::document::report_files(&doc));
    super::commands::write_analysis(&mut out_dir, &out, files, &manifest, settings)?;

    let mut stdout = format!(
        "Backtest of {} against {file} ({} replications):\n",
        sc.name, sc.replications
    );
    stdout.push_str(&format!(
        "  {:<24} {:>5} {:>10} {:>10} {:>7} {:>7} {:>7}\n",
        "series", "days", "bias", "MAE", "in 50%", "in 80%", "in 95%"
    ));
    for s in &scores {
        stdout.push_str(&format!(
            "  {:<24} {:>5} {:>10.2} {:>10.2} {:>6.0}% {:>6.0}% {:>6.0}%\n",
            s.series.name(),
            s.days,
            s.bias,
            s.mean_absolute_error,
            100.0 * s.coverage[0],
            100.0 * s.coverage[1],
            100.0 * s.coverage[2]
        ));
    }
    stdout.push_str(&format!("Outputs written to {}\n", out.display()));
    Ok(Finished { out, stdout })
}

fn read_observed(path: &Path) -> Result<String, ExperimentError> {
    use std::io::Read;
    let err = |e: String| ExperimentError::Usage(format!("{}: {e}", path.display()));
    if path.exists() && !path.is_file() {
        return Err(err(
            "not a regular file (a directory, FIFO, socket or device): give the observed CSV \
             file"
                .into(),
        ));
    }
    let file = report::readback::open_regular(path).map_err(|e| err(e.to_string()))?;
    let mut bytes = Vec::new();
    file.take(MAX_OBSERVED_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| err(e.to_string()))?;
    if bytes.len() as u64 > MAX_OBSERVED_BYTES {
        return Err(err(format!(
            "larger than {} MB; an observed file holds one row a day a series",
            MAX_OBSERVED_BYTES / (1024 * 1024)
        )));
    }
    String::from_utf8(bytes).map_err(|e| {
        err(format!(
            "not UTF-8 text (byte {}); save it as CSV UTF-8",
            e.utf8_error().valid_up_to()
        ))
    })
}

/// Header of `backtest.csv`.
pub const SCORES_HEADER: &str =
    "series,unit,days,bias,mean_absolute_error,coverage_50,coverage_80,coverage_95";

fn render_scores_csv(scores: &[SeriesScore]) -> String {
    let mut out = format!("{SCORES_HEADER}\n");
    for s in scores {
        let cells = [
            text_cell(s.series.name()),
            text_cell(s.series.unit()),
            s.days.to_string(),
            number_cell(s.bias),
            number_cell(s.mean_absolute_error),
            number_cell(s.coverage[0]),
            number_cell(s.coverage[1]),
            number_cell(s.coverage[2]),
        ];
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

/// Header of `backtest_daily.csv`.
pub const DAILY_HEADER: &str =
    "date,series,observed,mean,p2_5,p10,p25,p50,p75,p90,p97_5,in_50,in_80,in_95";

fn render_daily_csv(by_series: &BTreeMap<Series, Vec<(Date, DayFan)>>) -> String {
    let mut out = format!("{DAILY_HEADER}\n");
    for (series, days) in by_series {
        for (date, f) in days {
            let mut cells = vec![
                text_cell(&date.to_string()),
                text_cell(series.name()),
                number_cell(f.observed),
                number_cell(f.mean),
            ];
            cells.extend(f.percentiles.iter().map(|&p| number_cell(p)));
            cells.extend((0..3).map(|b| u8::from(f.covered(b)).to_string()));
            out.push_str(&cells.join(","));
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_line_column_and_field() {
        let e = parse_observed("o.csv", "date,series,value\n2025-10-01,beds,3\n").unwrap_err();
        assert!(
            e.starts_with("o.csv:2:12: series: unknown series `beds`"),
            "{e}"
        );
        assert!(
            e.contains("midnight_census") && e.contains("nctr_count"),
            "{e}"
        );
        let e = parse_observed("o.csv", "date,series,value\n2025-13-01,midnight_census,3\n")
            .unwrap_err();
        assert!(
            e.starts_with("o.csv:2:1: date: `2025-13-01` is not a date"),
            "{e}"
        );
        let e = parse_observed("o.csv", "date,series,value\n2025-10-01,midnight_census,x\n")
            .unwrap_err();
        assert!(
            e.starts_with("o.csv:2:28: value: `x` is not a number"),
            "{e}"
        );
        let e = parse_observed(
            "o.csv",
            "date,series,value\n2025-10-01,midnight_census,-1\n",
        )
        .unwrap_err();
        assert!(e.contains("at least 0"), "{e}");
        let e = parse_observed(
            "o.csv",
            "date,series,value\n2025-10-01,midnight_census,1\n2025-10-01,midnight_census,2\n",
        )
        .unwrap_err();
        assert!(e.contains("o.csv:3:1: date") && e.contains("line 2"), "{e}");
        let e = parse_observed("o.csv", "day,series,value\n").unwrap_err();
        assert!(e.starts_with("o.csv:1:1: expected the header"), "{e}");
    }

    #[test]
    fn coverage_counts_band_edges_as_inside() {
        let fan = DayFan {
            observed: 10.0,
            mean: 9.0,
            percentiles: [1.0, 2.0, 3.0, 5.0, 10.0, 12.0, 14.0],
        };
        assert!(fan.covered(0) && fan.covered(1) && fan.covered(2));
        let s = score(Series::MidnightCensus, &[fan]);
        assert_eq!((s.bias, s.mean_absolute_error), (-1.0, 1.0));
    }
}

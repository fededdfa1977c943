//! The report of `patientflow backtest`: a table of each series' bias,
//! mean absolute error and band coverage, and one chart a series with the
//! observed line over the model's fan.

use std::collections::BTreeMap;
use std::io;

use super::charts::{BacktestChart, backtest_chart};
use super::document::{Block, Chart, Document, Section, Table};
use super::prose::prose_number;
use crate::experiment::backtest::{BANDS, DayFan, SeriesScore};
use crate::model::metrics::Series;
use crate::scenario::calendar::Date;

/// The backtest report of `scenario` against the observed file `file`.
pub fn document(
    scenario: &str,
    file: &str,
    replications: u32,
    first_day: Date,
    scores: &[SeriesScore],
    by_series: &BTreeMap<Series, Vec<(Date, DayFan)>>,
) -> io::Result<Document> {
    let mut blocks = vec![
        Block::Paragraph(format!(
            "Each observed daily value in {file} is set against the model's fan on that day: \
             the values of the same series at the same midnight across {replications} \
             replications of {scenario}. Bias is the mean of (model mean - observed) over the \
             observed days (above 0: the model overstates); MAE is the mean absolute \
             difference. A band's coverage is the share of observed days inside the band \
             holding the middle 50%, 80% or 95% of the model's outcomes (edges included): a \
             model whose fan is right covers about those shares. Days are not independent, so \
             coverage over a few weeks can be far from nominal by chance."
        )),
        Block::Caveat(
            "A band of outcomes across replications is not a confidence interval. For small \
             whole-number counts (a waiting list of a few patients) a band's edges are often \
             hit exactly, and counting them inside makes coverage higher than the nominal share."
                .into(),
        ),
    ];
    blocks.push(Block::Table(Table {
        header: [
            "Series",
            "Days",
            "Bias",
            "MAE",
            "In 50% band",
            "In 80% band",
            "In 95% band",
        ]
        .map(String::from)
        .to_vec(),
        rows: scores
            .iter()
            .map(|s| {
                let mut row = vec![
                    s.series.name().to_string(),
                    s.days.to_string(),
                    prose_number(s.bias, 2),
                    prose_number(s.mean_absolute_error, 2),
                ];
                row.extend(s.coverage.iter().map(|c| format!("{:.0}%", 100.0 * c)));
                row
            })
            .collect(),
        numeric: vec![false, true, true, true, true, true, true],
    }));
    for (series, days) in by_series {
        let (Some((first, _)), Some((last, _))) = (days.first(), days.last()) else {
            continue;
        };
        let span = first.days_until(*last) as usize + 1;
        let mut lower = vec![vec![f64::NAN; span]; 3];
        let mut upper = vec![vec![f64::NAN; span]; 3];
        let mut median = vec![f64::NAN; span];
        let mut observed = vec![f64::NAN; span];
        for (date, fan) in days {
            let d = first.days_until(*date) as usize;
            for b in 0..BANDS.len() {
                // Widest first: 95%, 80%, 50%.
                let (lo, hi) = fan.band(BANDS.len() - 1 - b);
                lower[b][d] = lo;
                upper[b][d] = hi;
            }
            median[d] = fan.percentiles[3];
            observed[d] = fan.observed;
        }
        let title = format!("{}: observed against the model", series.name());
        let y_label = format!("{} ({})", series.name(), series.unit());
        let caption = format!(
            "Shaded: the middle 95%, 80% and 50% of {replications} replications at each \
             midnight; dark line: their median; red: the observed values ({file})."
        );
        let svg = backtest_chart(&BacktestChart {
            title: &title,
            y_label: &y_label,
            caption: &caption,
            first_day: *first,
            lower: [&lower[0], &lower[1], &lower[2]],
            upper: [&upper[0], &upper[1], &upper[2]],
            median: &median,
            observed: &observed,
        })?;
        blocks.push(Block::Chart(Chart {
            file: format!("backtest-{}.svg", series.name().replace('_', "-")),
            title,
            caption,
            svg,
        }));
    }
    Ok(Document {
        title: format!("Backtest: {scenario}"),
        subtitle: format!("against {file} · {replications} replications · window from {first_day}"),
        sections: vec![Section {
            id: "backtest".into(),
            title: "Observed against the model".into(),
            blocks,
        }],
    })
}

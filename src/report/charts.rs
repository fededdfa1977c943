//! Charts as SVG text, drawn with plotters from plain data.
//!
//! Each function takes numbers and labels only (no run, no file), so the
//! reports of runs, comparisons and sweeps can share them. Every chart
//! carries its own title, axis labels with units, a legend and a caption
//! saying which interval is which, so it still reads on a slide on its own.
//!
//! Text is written as SVG `<text>` in the generic `sans-serif` family: the
//! viewer's own font draws it, so nothing is embedded or fetched. Plotters'
//! built-in metrics (no font files needed) only place the labels.

use std::io;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::scenario::calendar::Date;

use super::prose::{precision_exponent, prose_number};

/// Size of every chart, in SVG pixels (16:9, reads on a slide and at
/// A4 text width).
pub const WIDTH: u32 = 900;
/// Height of every chart, in SVG pixels.
pub const HEIGHT: u32 = 506;

/// NHS identity colours: blue for estimates, dark red for capacity.
const NHS_BLUE: RGBColor = RGBColor(0, 94, 184);
const DARK_BLUE: RGBColor = RGBColor(0, 48, 135);
/// NHS dark red (#8A1538): the captions call it red.
const CAPACITY_RED: RGBColor = RGBColor(138, 21, 56);
const GREY: RGBColor = RGBColor(66, 84, 98);

const FONT: &str = "sans-serif";
/// Captions are wrapped at this many characters a line (about the chart
/// width at the caption's size).
const CAPTION_CHARS: usize = 125;

/// A series over the days of the window, summarised across replications.
#[derive(Clone, Debug)]
pub struct FanChart<'a> {
    /// The chart's title.
    pub title: &'a str,
    /// Y axis label, with its unit.
    pub y_label: &'a str,
    /// The caption under the chart.
    pub caption: &'a str,
    /// Date of day 0.
    pub first_day: Date,
    /// 5th percentile across replications, one value a day.
    pub p5: &'a [f64],
    /// 25th percentile, one value a day.
    pub p25: &'a [f64],
    /// Median, one value a day.
    pub p50: &'a [f64],
    /// 75th percentile, one value a day.
    pub p75: &'a [f64],
    /// 95th percentile, one value a day.
    pub p95: &'a [f64],
    /// A step line drawn over the fan (bed capacity by day), with its label.
    pub capacity: Option<(&'a str, &'a [f64])>,
    /// Start the y axis at 0 (counts of patients) rather than near the data.
    pub zero_based: bool,
}

/// One estimate with its interval, for bar and forest charts.
#[derive(Clone, Debug)]
pub struct Estimate {
    /// What is estimated (a metric or a plan).
    pub label: String,
    /// The mean.
    pub mean: f64,
    /// The 95% confidence interval's lower end.
    pub low: f64,
    /// Its upper end.
    pub high: f64,
}

/// Bars of means with error bars for their 95% confidence intervals.
#[derive(Clone, Debug)]
pub struct IntervalBars<'a> {
    /// The chart's title.
    pub title: &'a str,
    /// X axis label.
    pub x_label: &'a str,
    /// Y axis label, with its unit.
    pub y_label: &'a str,
    /// The caption under the chart.
    pub caption: &'a str,
    /// Legend text for the bars and for the error bars.
    pub bar_legend: &'a str,
    /// Legend text for the error bars.
    pub interval_legend: &'a str,
    /// The bars, left to right.
    pub estimates: &'a [Estimate],
}

/// A linear axis whose ticks are exactly the given points (month starts on
/// a date axis, one per bar on a category axis); labels come from the
/// chart's formatter.
#[derive(Clone, Debug)]
struct KeyedAxis {
    lo: f64,
    hi: f64,
    keys: Vec<f64>,
}

impl Ranged for KeyedAxis {
    type FormatOption = plotters::coord::ranged1d::DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let span = self.hi - self.lo;
        if span <= 0.0 {
            return limit.0;
        }
        let f = (value - self.lo) / span;
        limit.0 + (f * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<Hint: plotters::coord::ranged1d::KeyPointHint>(&self, _hint: Hint) -> Vec<f64> {
        self.keys.clone()
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

fn draw_error<E: std::error::Error + Send + Sync + 'static>(
    e: DrawingAreaErrorKind<E>,
) -> io::Error {
    io::Error::other(format!("drawing a chart: {e}"))
}

/// Splits `text` into lines of at most `width` characters at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// A legend entry, drawn below the plot so it never hides data.
#[derive(Clone, Copy, Debug)]
enum Key {
    /// A filled swatch (bands, bars).
    Swatch(RGBAColor),
    /// A line (median, capacity).
    Line(RGBColor),
    /// A dashed line (a series drawn over another with the same values).
    Dashed(RGBColor),
    /// An error bar (a confidence interval).
    Whisker,
}

/// Font sizes in plotters' units (it draws SVG text at size / 1.24).
const TITLE_SIZE: u32 = 27;
const AXIS_DESC_SIZE: u32 = 19;
const LABEL_SIZE: u32 = 17;
const FOOTER_SIZE: u32 = 18;
/// Approximate width of a footer character, in pixels, for laying out
/// legend entries (the viewer's sans-serif font averages about this).
const FOOTER_CHAR_PX: i32 = 8;
const LINE_PX: i32 = 22;

/// Legend entries placed left to right, wrapping; returns each entry's
/// row and x offset.
fn legend_layout(keys: &[(Key, &str)]) -> Vec<(i32, i32)> {
    let mut out = Vec::with_capacity(keys.len());
    let (mut row, mut x) = (0, 0);
    for (_, label) in keys {
        let w = 30 + FOOTER_CHAR_PX * label.chars().count() as i32 + 24;
        if x > 0 && x + w > WIDTH as i32 - 24 {
            row += 1;
            x = 0;
        }
        out.push((row, x));
        x += w;
    }
    out
}

/// Height in pixels of the legend and caption below the plot.
fn footer_height(keys: &[(Key, &str)], caption: &str) -> u32 {
    let legend_rows = legend_layout(keys).last().map_or(0, |(r, _)| r + 1);
    let lines = legend_rows + wrap(caption, CAPTION_CHARS).len() as i32;
    (12 + LINE_PX * lines) as u32
}

/// Draws the legend, then the caption lines, into `area`, left-aligned.
fn draw_footer<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    keys: &[(Key, &str)],
    caption: &str,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let layout = legend_layout(keys);
    let text = TextStyle::from((FONT, FOOTER_SIZE).into_font()).color(&BLACK);
    for ((key, label), (row, x)) in keys.iter().zip(&layout) {
        let (x, y) = (16 + x, 4 + LINE_PX * row);
        let mid = y + 8;
        match *key {
            Key::Swatch(c) => {
                area.draw(&Rectangle::new(
                    [(x, mid - 7), (x + 22, mid + 7)],
                    c.filled(),
                ))?;
            }
            Key::Line(c) => {
                area.draw(&PathElement::new(
                    vec![(x, mid), (x + 22, mid)],
                    c.stroke_width(3),
                ))?;
            }
            Key::Dashed(c) => {
                for x0 in [x, x + 9, x + 18] {
                    area.draw(&PathElement::new(
                        vec![(x0, mid), (x0 + 5, mid)],
                        c.stroke_width(3),
                    ))?;
                }
            }
            Key::Whisker => {
                let style = BLACK.stroke_width(2);
                area.draw(&PathElement::new(
                    vec![(x + 11, mid - 8), (x + 11, mid + 8)],
                    style,
                ))?;
                area.draw(&PathElement::new(
                    vec![(x + 6, mid - 8), (x + 16, mid - 8)],
                    style,
                ))?;
                area.draw(&PathElement::new(
                    vec![(x + 6, mid + 8), (x + 16, mid + 8)],
                    style,
                ))?;
            }
        }
        area.draw(&Text::new(label.to_string(), (x + 30, y), text.clone()))?;
    }
    let rows = layout.last().map_or(0, |(r, _)| r + 1);
    let grey = TextStyle::from((FONT, FOOTER_SIZE).into_font()).color(&GREY);
    for (i, line) in wrap(caption, CAPTION_CHARS).iter().enumerate() {
        area.draw(&Text::new(
            line.clone(),
            (16, 8 + LINE_PX * (rows + i as i32)),
            grey.clone(),
        ))?;
    }
    Ok(())
}

/// The plot's part of a chart, above its legend and caption.
type PlotArea<'s> = DrawingArea<SVGBackend<'s>, plotters::coord::Shift>;

/// Draws one chart: a white `WIDTH` x `HEIGHT` SVG, `plot` drawing into
/// the part above the legend `keys` and the wrapped `caption`.
fn svg_chart(
    keys: &[(Key, &str)],
    caption: &str,
    plot: impl FnOnce(&PlotArea<'_>) -> io::Result<()>,
) -> io::Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_error)?;
        let (main, footer) = root.split_vertically(HEIGHT - footer_height(keys, caption));
        plot(&main)?;
        draw_footer(&footer, keys, caption).map_err(draw_error)?;
        root.present().map_err(draw_error)?;
    }
    Ok(super::escape::svg(&svg))
}

/// A chart's title over `area`, with the house margins; `y_label_area` is
/// the width left of the plot for the y axis's labels.
fn chart_on<'a, 'b, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    y_label_area: u32,
) -> ChartBuilder<'a, 'b, DB> {
    let mut builder = ChartBuilder::on(area);
    builder
        .caption(title, (FONT, TITLE_SIZE).into_font().color(&BLACK))
        .margin(14)
        .x_label_area_size(56)
        .y_label_area_size(y_label_area);
    builder
}

/// The house style of a chart's axes: fonts, no minor grid lines, light
/// grey major ones.
fn house_mesh<'m, 'a, 'b, X: Ranged, Y: Ranged, DB: DrawingBackend>(
    mesh: &'m mut plotters::chart::MeshStyle<'a, 'b, X, Y, DB>,
) -> &'m mut plotters::chart::MeshStyle<'a, 'b, X, Y, DB> {
    mesh.axis_desc_style((FONT, AXIS_DESC_SIZE))
        .label_style((FONT, LABEL_SIZE))
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(RGBColor(216, 221, 224))
}

/// An axis of `n` categories at 0, 1, ..., drawn from `lo` to `hi`.
fn category_axis(n: usize, lo: f64, hi: f64) -> KeyedAxis {
    KeyedAxis {
        lo,
        hi,
        keys: (0..n).map(|i| i as f64).collect(),
    }
}

/// The label of a category axis at `x`: `labels[x]` where `x` is a whole
/// position, nothing between them.
fn category_label(labels: &[String], x: f64) -> String {
    let i = x.round();
    if i >= 0.0 && (x - i).abs() < 1e-6 {
        labels.get(i as usize).cloned().unwrap_or_default()
    } else {
        String::new()
    }
}

/// Labels for a category axis: line breaks and controls as spaces.
fn category_labels<'a>(labels: impl Iterator<Item = &'a str>) -> Vec<String> {
    labels
        .map(|l| super::escape::clean(l).into_owned())
        .collect()
}

/// The points (day, value) of the days with a finite value.
fn finite_points(values: &[f64]) -> Vec<(f64, f64)> {
    values
        .iter()
        .enumerate()
        .filter(|(_, v)| v.is_finite())
        .map(|(d, &v)| (d as f64, v))
        .collect()
}

/// Key points for a date axis: the first day of each month in the window
/// (the window's first day too, if it is not one), as day offsets.
fn month_starts(first_day: Date, days: usize) -> Vec<f64> {
    let starts: Vec<f64> = (0..days)
        .filter(|&d| first_day.add_days(d as i64).ymd().2 == 1)
        .map(|d| d as f64)
        .collect();
    // A window shorter than a month, or one starting more than three weeks
    // before the first month start, also gets a tick on its first day (a
    // tick closer than that would collide with the next label).
    match starts.first() {
        Some(&f) if f < 21.0 => starts,
        _ => std::iter::once(0.0).chain(starts).collect(),
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `Oct 2025` for the first tick (the window's first month start) and every
/// January, `Nov` otherwise; `28 Sep 2025` for a tick that is not a month
/// start.
fn month_label(first_day: Date, day: f64) -> String {
    let date = first_day.add_days(day.round() as i64);
    let (y, m, d) = date.ymd();
    let name = MONTHS
        .get((m as usize).wrapping_sub(1))
        .copied()
        .unwrap_or("?");
    // The first month start is within 31 days of any window's start.
    let first_tick = month_starts(first_day, 32)
        .first()
        .is_some_and(|&f| (f - day).abs() < 0.5);
    if d != 1 {
        format!("{d} {name} {y}")
    } else if first_tick || m == 1 {
        format!("{name} {y}")
    } else {
        name.to_string()
    }
}

/// (min, max) of the finite values, or None.
fn finite_range<'a>(values: impl Iterator<Item = &'a f64>) -> Option<(f64, f64)> {
    values
        .filter(|v| v.is_finite())
        .fold(None, |acc, &v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// A closed band between `lower` and `upper` over the days where both are
/// defined.
fn band(lower: &[f64], upper: &[f64]) -> Vec<(f64, f64)> {
    let days: Vec<usize> = (0..lower.len().min(upper.len()))
        .filter(|&d| lower[d].is_finite() && upper[d].is_finite())
        .collect();
    let mut pts: Vec<(f64, f64)> = days.iter().map(|&d| (d as f64, upper[d])).collect();
    pts.extend(days.iter().rev().map(|&d| (d as f64, lower[d])));
    pts
}

/// A chart over `days` days from `first_day` (ticks at month starts) with
/// the y axis `y` labelled `y_label`: fan and backtest charts.
fn date_chart<'a, 's>(
    main: &'a PlotArea<'s>,
    title: &str,
    first_day: Date,
    days: usize,
    y: std::ops::Range<f64>,
    y_label: &str,
) -> io::Result<
    ChartContext<
        'a,
        SVGBackend<'s>,
        Cartesian2d<KeyedAxis, plotters::coord::types::RangedCoordf64>,
    >,
> {
    let x = KeyedAxis {
        lo: 0.0,
        hi: days.max(1) as f64,
        keys: month_starts(first_day, days),
    };
    let mut chart = chart_on(main, title, 76)
        .build_cartesian_2d(x, y)
        .map_err(draw_error)?;
    house_mesh(&mut chart.configure_mesh())
        .x_desc("Date (value at midnight, 00:00)")
        .y_desc(y_label)
        .x_label_formatter(&|x| month_label(first_day, *x))
        .y_label_formatter(&|y| prose_number(*y, 0))
        .draw()
        .map_err(draw_error)?;
    Ok(chart)
}

/// A fan chart: the median over days, the 50% and 90% bands of outcomes
/// around it, and optionally a capacity step line.
pub fn fan_chart(c: &FanChart<'_>) -> io::Result<String> {
    let days = c.p50.len();
    let outer = NHS_BLUE.mix(0.18);
    let inner = NHS_BLUE.mix(0.42);
    let mut keys: Vec<(Key, &str)> = vec![
        (
            Key::Swatch(outer),
            "90% of outcomes (5th to 95th percentile)",
        ),
        (
            Key::Swatch(inner),
            "50% of outcomes (25th to 75th percentile)",
        ),
        (Key::Line(DARK_BLUE), "Median"),
    ];
    if let Some((label, _)) = c.capacity {
        keys.push((Key::Line(CAPACITY_RED), label));
    }
    svg_chart(&keys, c.caption, |main| {
        let capacity = c.capacity.map(|(_, v)| v).unwrap_or(&[]);
        let (lo, hi) = finite_range(
            c.p5.iter()
                .chain(c.p95.iter())
                .chain(c.p50.iter())
                .chain(capacity.iter()),
        )
        .unwrap_or((0.0, 1.0));
        let pad = ((hi - lo) * 0.08).max(1.0);
        let y0 = if c.zero_based {
            0.0
        } else {
            (lo - pad).max(0.0)
        };
        let y1 = hi + pad;
        let mut chart = date_chart(main, c.title, c.first_day, days, y0..y1, c.y_label)?;

        chart
            .draw_series(std::iter::once(Polygon::new(
                band(c.p5, c.p95),
                outer.filled(),
            )))
            .map_err(draw_error)?;
        chart
            .draw_series(std::iter::once(Polygon::new(
                band(c.p25, c.p75),
                inner.filled(),
            )))
            .map_err(draw_error)?;
        chart
            .draw_series(LineSeries::new(
                finite_points(c.p50),
                DARK_BLUE.stroke_width(2),
            ))
            .map_err(draw_error)?;
        if let Some((_, beds)) = c.capacity {
            // A step line: each day's capacity holds from 00:00 to 24:00.
            let mut steps = Vec::with_capacity(2 * beds.len());
            for (d, &b) in beds.iter().enumerate() {
                steps.push((d as f64, b));
                steps.push(((d + 1) as f64, b));
            }
            chart
                .draw_series(LineSeries::new(steps, CAPACITY_RED.stroke_width(3)))
                .map_err(draw_error)?;
        }
        Ok(())
    })
}

/// Bars of means with 95% confidence intervals as error bars, each bar
/// labelled with its rounded mean.
pub fn interval_bars(c: &IntervalBars<'_>) -> io::Result<String> {
    let n = c.estimates.len();
    let bar_colour = NHS_BLUE.mix(0.75);
    let keys: Vec<(Key, &str)> = vec![
        (Key::Swatch(bar_colour), c.bar_legend),
        (Key::Whisker, c.interval_legend),
    ];
    svg_chart(&keys, c.caption, |main| {
        let (lo, hi) = finite_range(c.estimates.iter().flat_map(|e| [&e.mean, &e.low, &e.high]))
            .unwrap_or((0.0, 1.0));
        // Bars start at zero, so the axis includes it.
        let y0 = lo.min(0.0);
        let y1 = hi.max(0.0) + (hi - y0).abs().max(1.0) * 0.15;
        let labels = category_labels(c.estimates.iter().map(|e| e.label.as_str()));

        let mut chart = chart_on(main, c.title, 84)
            .build_cartesian_2d(category_axis(n, -0.5, (n as f64 - 0.5).max(0.5)), y0..y1)
            .map_err(draw_error)?;
        house_mesh(&mut chart.configure_mesh())
            .x_desc(c.x_label)
            .y_desc(c.y_label)
            .x_label_formatter(&|x| category_label(&labels, *x))
            .y_label_formatter(&|y| prose_number(*y, 0))
            .disable_x_mesh()
            .draw()
            .map_err(draw_error)?;

        let finite: Vec<(usize, &Estimate)> = c
            .estimates
            .iter()
            .enumerate()
            .filter(|(_, e)| e.mean.is_finite())
            .collect();
        chart
            .draw_series(finite.iter().map(|&(i, e)| {
                let x = i as f64;
                Rectangle::new([(x - 0.3, 0.0), (x + 0.3, e.mean)], bar_colour.filled())
            }))
            .map_err(draw_error)?;
        chart
            .draw_series(
                finite
                    .iter()
                    .filter(|(_, e)| e.low.is_finite() && e.high.is_finite())
                    .flat_map(|&(i, e)| {
                        let x = i as f64;
                        let style = BLACK.stroke_width(2);
                        [
                            PathElement::new(vec![(x, e.low), (x, e.high)], style),
                            PathElement::new(vec![(x - 0.06, e.low), (x + 0.06, e.low)], style),
                            PathElement::new(vec![(x - 0.06, e.high), (x + 0.06, e.high)], style),
                        ]
                    }),
            )
            .map_err(draw_error)?;
        // The rounded mean beside each error bar's top, to the precision of
        // its interval.
        chart
            .draw_series(finite.iter().map(|&(i, e)| {
                let e_exp = precision_exponent(e.mean, (e.high - e.low) / 2.0);
                let top = if e.high.is_finite() {
                    e.high.max(e.mean)
                } else {
                    e.mean
                };
                Text::new(
                    prose_number(e.mean, e_exp),
                    (i as f64 + 0.09, top + (y1 - y0) * 0.06),
                    (FONT, LABEL_SIZE + 2).into_font().color(&BLACK),
                )
            }))
            .map_err(draw_error)?;
        Ok(())
    })
}

/// A forest plot: one row per estimate, its mean as a dot and its 95%
/// confidence interval as a horizontal line, with a vertical line at zero
/// (no effect), so a reader sees at once which intervals exclude it.
#[derive(Clone, Debug)]
pub struct ForestPlot<'a> {
    /// The chart's title.
    pub title: &'a str,
    /// X axis label, with its unit.
    pub x_label: &'a str,
    /// The caption under the chart.
    pub caption: &'a str,
    /// Legend text for the dots (the means).
    pub point_legend: &'a str,
    /// Legend text for the lines (the intervals).
    pub interval_legend: &'a str,
    /// Top to bottom.
    pub estimates: &'a [Estimate],
}

/// Draws a [`ForestPlot`].
pub fn forest_plot(c: &ForestPlot<'_>) -> io::Result<String> {
    let n = c.estimates.len();
    let keys: Vec<(Key, &str)> = vec![
        (Key::Swatch(DARK_BLUE.to_rgba()), c.point_legend),
        (Key::Whisker, c.interval_legend),
        (Key::Line(GREY), "No effect (0)"),
    ];
    // Room for the plan names on the left: they are the row labels.
    let longest = c
        .estimates
        .iter()
        .map(|e| e.label.chars().count())
        .max()
        .unwrap_or(0);
    let label_area = (24 + 8 * longest as u32).clamp(90, WIDTH / 2);
    svg_chart(&keys, c.caption, |main| {
        let (lo, hi) = finite_range(c.estimates.iter().flat_map(|e| [&e.mean, &e.low, &e.high]))
            .unwrap_or((-1.0, 1.0));
        // Zero is always on the axis: it is the reference line.
        let (lo, hi) = (lo.min(0.0), hi.max(0.0));
        let pad = ((hi - lo) * 0.08).max(1.0);
        let (x0, x1) = (lo - pad, hi + pad);
        // Row i is drawn at y = n - 1 - i, so the first estimate is on top.
        // Row labels are one line each: line breaks in a plan's name as spaces.
        let labels = category_labels(c.estimates.iter().rev().map(|e| e.label.as_str()));
        let mut chart = chart_on(main, c.title, label_area)
            .build_cartesian_2d(x0..x1, category_axis(n, -0.6, (n as f64 - 0.4).max(0.6)))
            .map_err(draw_error)?;
        house_mesh(&mut chart.configure_mesh())
            .x_desc(c.x_label)
            .y_label_formatter(&|y| category_label(&labels, *y))
            .x_label_formatter(&|x| prose_number(*x, precision_exponent(0.0, (x1 - x0) / 10.0)))
            .disable_y_mesh()
            .draw()
            .map_err(draw_error)?;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(0.0, -0.6), (0.0, (n as f64 - 0.4).max(0.6))],
                GREY.stroke_width(2),
            )))
            .map_err(draw_error)?;
        let row = |i: usize| (n - 1 - i) as f64;
        chart
            .draw_series(
                c.estimates
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| e.low.is_finite() && e.high.is_finite())
                    .flat_map(|(i, e)| {
                        let y = row(i);
                        let style = BLACK.stroke_width(2);
                        [
                            PathElement::new(vec![(e.low, y), (e.high, y)], style),
                            PathElement::new(vec![(e.low, y - 0.12), (e.low, y + 0.12)], style),
                            PathElement::new(vec![(e.high, y - 0.12), (e.high, y + 0.12)], style),
                        ]
                    }),
            )
            .map_err(draw_error)?;
        chart
            .draw_series(
                c.estimates
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| e.mean.is_finite())
                    .map(|(i, e)| Circle::new((e.mean, row(i)), 7, DARK_BLUE.filled())),
            )
            .map_err(draw_error)?;
        // The rounded mean above each dot, to the precision of its interval,
        // centred on the dot and clear of it, so its sign is never hidden
        // under the marker.
        let above = Pos::new(HPos::Center, VPos::Bottom);
        chart
            .draw_series(
                c.estimates
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| e.mean.is_finite())
                    .map(|(i, e)| {
                        let exp = precision_exponent(e.mean, (e.high - e.low) / 2.0);
                        let text = prose_number(e.mean, exp);
                        // On a white ground a little wider than the text,
                        // so the no-effect line never runs through a
                        // label sitting at zero (nor strikes its sign).
                        let half = 6 + 5 * text.chars().count() as i32;
                        // 10 pixels above the centre of the 7-pixel dot.
                        EmptyElement::at((e.mean, row(i)))
                            + Rectangle::new([(-half, -30), (half, -10)], WHITE.filled())
                            + Text::new(
                                text,
                                (0, -10),
                                (FONT, LABEL_SIZE + 2).into_font().color(&BLACK).pos(above),
                            )
                    }),
            )
            .map_err(draw_error)?;
        Ok(())
    })
}

/// One line of a [`SweepChart`]: an estimate at each x position.
#[derive(Clone, Debug)]
pub struct SweepLine {
    /// Legend text (the second swept key's value), or empty for one line.
    pub label: String,
    /// One per x position, in order; NaN where there is no plan.
    pub estimates: Vec<Estimate>,
}

/// An effect against the values of a swept key: a line through the means
/// with a shaded 95% confidence interval band, one line per value of a
/// second key.
#[derive(Clone, Debug)]
pub struct SweepChart<'a> {
    /// The chart's title.
    pub title: &'a str,
    /// X axis label (the swept key).
    pub x_label: &'a str,
    /// Y axis label, with its unit.
    pub y_label: &'a str,
    /// The caption under the chart.
    pub caption: &'a str,
    /// The swept key's values, left to right, evenly spaced (values may be
    /// text such as opening hours, so positions are not scaled).
    pub x_values: &'a [String],
    /// One line per value of the other keys.
    pub lines: &'a [SweepLine],
}

/// Colours for the lines of a sweep chart, NHS palette (grey is the
/// no-effect line's).
const LINE_COLOURS: [RGBColor; 6] = [
    NHS_BLUE,
    CAPACITY_RED,
    RGBColor(0, 150, 57),
    RGBColor(237, 139, 0),
    RGBColor(51, 0, 114),
    RGBColor(0, 164, 153),
];

/// How a line of a sweep chart meets an earlier one that would hide it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Overlap {
    /// Exactly the same estimates (means and intervals) as line `.0`.
    Same(usize),
    /// A mean within `tolerance` of line `.0`'s at the same x: the two
    /// markers would sit on one another there.
    Near(usize),
}

/// For each line of a sweep chart, the first earlier line it would hide
/// or be hidden by (see [`Overlap`]); `tolerance` is in the y axis's units.
pub(crate) fn overlaps(lines: &[SweepLine], tolerance: f64) -> Vec<Option<Overlap>> {
    let eq = |x: f64, y: f64| x == y || (x.is_nan() && y.is_nan());
    let same =
        |a: &Estimate, b: &Estimate| eq(a.mean, b.mean) && eq(a.low, b.low) && eq(a.high, b.high);
    let near = |a: &Estimate, b: &Estimate| {
        a.mean.is_finite() && b.mean.is_finite() && (a.mean - b.mean).abs() <= tolerance
    };
    lines
        .iter()
        .enumerate()
        .map(|(k, line)| {
            let earlier = &lines[..k];
            earlier
                .iter()
                .position(|o| {
                    o.estimates.len() == line.estimates.len()
                        && o.estimates
                            .iter()
                            .zip(&line.estimates)
                            .all(|(a, b)| same(a, b))
                })
                .map(Overlap::Same)
                .or_else(|| {
                    earlier
                        .iter()
                        .position(|o| {
                            o.estimates
                                .iter()
                                .zip(&line.estimates)
                                .any(|(a, b)| near(a, b))
                        })
                        .map(Overlap::Near)
                })
        })
        .collect()
}

/// Draws a [`SweepChart`].
pub fn sweep_chart(c: &SweepChart<'_>) -> io::Result<String> {
    let n = c.x_values.len();
    let name = |l: &SweepLine| {
        if l.label.is_empty() {
            "Mean effect".to_string()
        } else {
            super::escape::clean(&l.label).into_owned()
        }
    };
    let (lo, hi) = finite_range(
        c.lines
            .iter()
            .flat_map(|l| l.estimates.iter())
            .flat_map(|e| [&e.mean, &e.low, &e.high]),
    )
    .unwrap_or((-1.0, 1.0));
    let (lo, hi) = (lo.min(0.0), hi.max(0.0));
    let pad = ((hi - lo) * 0.08).max(1.0);
    // A line whose markers would sit on an earlier line's (within 2% of
    // the axis, about the size of a marker) is drawn dashed, with open
    // markers a little to the right, and the legend says so: else it
    // would hide under the other.
    let same = overlaps(c.lines, 0.02 * (hi - lo + 2.0 * pad));
    let legends: Vec<String> = c
        .lines
        .iter()
        .zip(&same)
        .map(|(l, s)| match s {
            Some(Overlap::Same(o)) => format!(
                "{} (dashed: same values as {})",
                name(l),
                name(&c.lines[*o])
            ),
            Some(Overlap::Near(o)) => {
                format!("{} (dashed: overlaps {})", name(l), name(&c.lines[*o]))
            }
            None => name(l),
        })
        .collect();
    let mut keys: Vec<(Key, &str)> = c
        .lines
        .iter()
        .enumerate()
        .map(|(i, _)| {
            let colour = LINE_COLOURS[i % LINE_COLOURS.len()];
            let key = if same[i].is_some() {
                Key::Dashed(colour)
            } else {
                Key::Line(colour)
            };
            (key, legends[i].as_str())
        })
        .collect();
    keys.push((
        Key::Swatch(NHS_BLUE.mix(0.18)),
        "95% CI of the mean paired difference",
    ));
    keys.push((Key::Line(GREY), "No effect (0)"));
    svg_chart(&keys, c.caption, |main| {
        let labels = category_labels(c.x_values.iter().map(String::as_str));
        let mut chart = chart_on(main, c.title, 84)
            .build_cartesian_2d(
                category_axis(n, -0.3, (n as f64 - 0.7).max(0.3)),
                (lo - pad)..(hi + pad),
            )
            .map_err(draw_error)?;
        house_mesh(&mut chart.configure_mesh())
            .x_desc(c.x_label)
            .y_desc(c.y_label)
            .x_label_formatter(&|x| category_label(&labels, *x))
            .y_label_formatter(&|y| prose_number(*y, precision_exponent(0.0, (hi - lo) / 10.0)))
            .draw()
            .map_err(draw_error)?;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(-0.3, 0.0), ((n as f64 - 0.7).max(0.3), 0.0)],
                GREY.stroke_width(2),
            )))
            .map_err(draw_error)?;
        // How many lines each line repeats, for the dodge of its repeats.
        let mut repeats = vec![0usize; c.lines.len()];
        for (k, line) in c.lines.iter().enumerate() {
            let colour = LINE_COLOURS[k % LINE_COLOURS.len()];
            let dodge = match same[k] {
                Some(Overlap::Same(o) | Overlap::Near(o)) => {
                    repeats[o] += 1;
                    0.06 * repeats[o] as f64
                }
                None => 0.0,
            };
            let low: Vec<f64> = line.estimates.iter().map(|e| e.low).collect();
            let high: Vec<f64> = line.estimates.iter().map(|e| e.high).collect();
            if !matches!(same[k], Some(Overlap::Same(_))) {
                chart
                    .draw_series(std::iter::once(Polygon::new(
                        band(&low, &high),
                        colour.mix(0.18).filled(),
                    )))
                    .map_err(draw_error)?;
            }
            let points: Vec<(f64, f64)> = line
                .estimates
                .iter()
                .enumerate()
                .filter(|(_, e)| e.mean.is_finite())
                .map(|(i, e)| (i as f64 + dodge, e.mean))
                .collect();
            if same[k].is_some() {
                chart
                    .draw_series(DashedLineSeries::new(
                        points.clone(),
                        8,
                        6,
                        colour.stroke_width(3),
                    ))
                    .map_err(draw_error)?;
                chart
                    .draw_series(
                        points
                            .iter()
                            .map(|&p| Circle::new(p, 6, colour.stroke_width(2))),
                    )
                    .map_err(draw_error)?;
            } else {
                chart
                    .draw_series(LineSeries::new(points.clone(), colour.stroke_width(3)))
                    .map_err(draw_error)?;
                chart
                    .draw_series(points.iter().map(|&p| Circle::new(p, 5, colour.filled())))
                    .map_err(draw_error)?;
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captions_wrap_at_spaces() {
        assert_eq!(wrap("a bb ccc", 4), ["a bb", "ccc"]);
        assert!(wrap("", 10).is_empty());
    }

    #[test]
    fn fan_chart_has_title_legend_and_no_fetches() {
        let v: Vec<f64> = (0..100).map(|d| 400.0 + d as f64 * 0.1).collect();
        let beds = vec![485.0; 100];
        let svg = fan_chart(&FanChart {
            title: "Occupied beds",
            y_label: "Occupied beds (beds)",
            caption: "Bands are outcomes.",
            first_day: Date::from_ymd(2025, 9, 28).expect("date"),
            p5: &v,
            p25: &v,
            p50: &v,
            p75: &v,
            p95: &v,
            capacity: Some(("Beds available", &beds)),
            zero_based: false,
        })
        .expect("draws");
        assert!(svg.starts_with("<svg"));
        for text in [
            "Occupied beds",
            "Beds available",
            "Median",
            "Oct 2025",
            "Bands are outcomes.",
        ] {
            assert!(svg.contains(text), "missing {text}");
        }
        assert!(!svg.contains("<image") && !svg.contains("href"));
    }

    /// A forest plot's value labels sit centred above their dots, so a
    /// minus sign is never under the marker (for any number of rows).
    #[test]
    fn forest_plot_labels_sit_above_their_dots() {
        for rows in [1usize, 7, 30] {
            let estimates: Vec<Estimate> = (0..rows)
                .map(|i| Estimate {
                    label: format!("Plan {i}"),
                    mean: -11.8 + i as f64,
                    low: -14.0 + i as f64,
                    high: -9.6 + i as f64,
                })
                .collect();
            let svg = forest_plot(&ForestPlot {
                title: "Admissions avoided",
                x_label: "Admissions avoided (patients)",
                caption: "95% CI.",
                point_legend: "Mean",
                interval_legend: "95% CI",
                estimates: &estimates,
            })
            .expect("draws");
            // The first plan's label: -11.8 rounded to its interval, "-12".
            let label_at = svg.find(">\n-12\n<").expect("the label of -11.8 is drawn");
            let text_tag = &svg[svg[..label_at].rfind("<text").expect("a text element")..label_at];
            assert!(text_tag.contains("text-anchor=\"middle\""), "{text_tag}");
            let attr = |tag: &str, name: &str| -> f64 {
                let k = tag.find(&format!("{name}=\"")).expect(name) + name.len() + 2;
                tag[k..k + tag[k..].find('"').expect("closing quote")]
                    .parse()
                    .expect("a number")
            };
            let circles: Vec<&str> = svg
                .match_indices("<circle")
                .map(|(k, _)| &svg[k..])
                .collect();
            let label_x = attr(text_tag, "x");
            let label_y = attr(text_tag, "y");
            let dot = circles
                .iter()
                .find(|c| (attr(c, "cx") - label_x).abs() < 1.0)
                .expect("a dot under the label");
            // SVG y grows downwards: the text's baseline is above the dot's top.
            assert!(
                label_y <= attr(dot, "cy") - attr(dot, "r"),
                "{rows} rows: label at y={label_y}, dot at {dot:.80}"
            );
        }
    }
}

/// The backtest of one series: the model's 95%, 80% and 50% bands and
/// median over the observed days, with the observed values drawn over them.
#[derive(Clone, Debug)]
pub struct BacktestChart<'a> {
    /// The chart's title.
    pub title: &'a str,
    /// Y axis label, with its unit.
    pub y_label: &'a str,
    /// The caption under the chart.
    pub caption: &'a str,
    /// Date of day 0.
    pub first_day: Date,
    /// Band edges by day (NaN for a day not observed): `lower[b]`,
    /// `upper[b]` for the 95%, 80% and 50% bands.
    pub lower: [&'a [f64]; 3],
    /// See `lower`.
    pub upper: [&'a [f64]; 3],
    /// The model's median by day.
    pub median: &'a [f64],
    /// The observed values by day (NaN where none).
    pub observed: &'a [f64],
}

/// A backtest chart (see [`BacktestChart`]).
pub fn backtest_chart(c: &BacktestChart<'_>) -> io::Result<String> {
    let days = c.median.len();
    let shades = [NHS_BLUE.mix(0.14), NHS_BLUE.mix(0.28), NHS_BLUE.mix(0.46)];
    let keys: Vec<(Key, &str)> = vec![
        (Key::Swatch(shades[0]), "Model: 95% of outcomes"),
        (Key::Swatch(shades[1]), "80%"),
        (Key::Swatch(shades[2]), "50%"),
        (Key::Line(DARK_BLUE), "Model median"),
        (Key::Line(CAPACITY_RED), "Observed"),
    ];
    svg_chart(&keys, c.caption, |main| {
        let (lo, hi) = finite_range(
            c.lower[0]
                .iter()
                .chain(c.upper[0].iter())
                .chain(c.observed.iter()),
        )
        .unwrap_or((0.0, 1.0));
        let pad = ((hi - lo) * 0.08).max(1.0);
        let y = (lo - pad).max(0.0)..hi + pad;
        let mut chart = date_chart(main, c.title, c.first_day, days, y, c.y_label)?;
        for (b, shade) in shades.iter().enumerate() {
            chart
                .draw_series(std::iter::once(Polygon::new(
                    band(c.lower[b], c.upper[b]),
                    shade.filled(),
                )))
                .map_err(draw_error)?;
        }
        chart
            .draw_series(LineSeries::new(
                finite_points(c.median),
                DARK_BLUE.stroke_width(2),
            ))
            .map_err(draw_error)?;
        chart
            .draw_series(LineSeries::new(
                finite_points(c.observed),
                CAPACITY_RED.stroke_width(2),
            ))
            .map_err(draw_error)?;
        chart
            .draw_series(
                finite_points(c.observed)
                    .into_iter()
                    .map(|p| Circle::new(p, 3, CAPACITY_RED.filled())),
            )
            .map_err(draw_error)?;
        Ok(())
    })
}

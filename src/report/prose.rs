//! Numbers for prose: thousands separators and rounding to the precision
//! the replications support.
//!
//! Only the report's sentences and tables use these. CSV files never get
//! separators (Excel in some locales would read `1,150` as 1.15).

/// The rounding unit, as a power of ten, for an estimate whose 95%
/// confidence interval has half-width `half_width`: one significant figure
/// of the half-width, two when it starts with a 1 (rounding 0.14 to 0.1
/// would throw away a third of it). So a half-width of 40 rounds to tens,
/// 15 to units, 0.3 to tenths.
///
/// Without a usable half-width (one replication, or every replication the
/// same), three significant figures of `value` (units for 0).
pub fn precision_exponent(value: f64, half_width: f64) -> i32 {
    if half_width.is_finite() && half_width > 0.0 {
        let e = half_width.log10().floor() as i32;
        let leading = half_width / 10f64.powi(e);
        // `log10` can land a hair below an exact power of ten.
        let (e, leading) = if leading >= 10.0 {
            (e + 1, leading / 10.0)
        } else {
            (e, leading)
        };
        if leading < 2.0 { e - 1 } else { e }
    } else if value.is_finite() && value != 0.0 {
        value.abs().log10().floor() as i32 - 2
    } else {
        0
    }
}

/// `value` rounded to a multiple of `10^exponent` (half away from zero).
pub fn round_to(value: f64, exponent: i32) -> f64 {
    if !value.is_finite() {
        return value;
    }
    let r = if exponent >= 0 {
        let unit = 10f64.powi(exponent);
        (value / unit).round() * unit
    } else {
        // Multiply by the exact power rather than divide by an inexact one.
        let scale = 10f64.powi(-exponent);
        (value * scale).round() / scale
    };
    if r == 0.0 { 0.0 } else { r }
}

/// `value` rounded to `10^exponent` and written for prose: thousands
/// separated by commas, as many decimals as the exponent asks for
/// (`28,100`, `5.3`, `-1,250`). Undefined values read `n/a`.
pub fn prose_number(value: f64, exponent: i32) -> String {
    if !value.is_finite() {
        return "n/a".to_string();
    }
    let decimals = if exponent < 0 {
        (-exponent) as usize
    } else {
        0
    };
    group_thousands(&format!("{:.*}", decimals, round_to(value, exponent)))
}

/// A whole number for prose (`1,924`).
pub fn prose_count(value: u64) -> String {
    group_thousands(&value.to_string())
}

/// A count with its noun, singular for one (`1 thread`, `2 threads`).
pub fn counted(value: u64, noun: &str) -> String {
    if value == 1 {
        format!("1 {noun}")
    } else {
        format!("{} {noun}s", prose_count(value))
    }
}

/// Inserts a comma every three digits of the integer part of a plain
/// decimal string (`-1234.5` -> `-1,234.5`).
fn group_thousands(plain: &str) -> String {
    let (sign, digits) = match plain.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", plain),
    };
    let (int, frac) = match digits.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (digits, None),
    };
    let mut grouped = String::with_capacity(int.len() + int.len() / 3);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    // "-0" after rounding a small negative number reads as a sign error.
    let sign = if grouped.chars().all(|c| c == '0' || c == ',')
        && frac.is_none_or(|f| f.chars().all(|c| c == '0'))
    {
        ""
    } else {
        sign
    };
    match frac {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

/// An estimate with its interval for prose: `28,100 (95% CI 28,060 to
/// 28,140)`, all three rounded to the precision of the interval; without an
/// interval, the rounded value alone.
pub fn estimate_with_ci(mean: f64, low: f64, high: f64) -> String {
    let (value, ci) = estimate_parts(mean, low, high);
    if ci.is_empty() {
        value
    } else {
        format!("{value} ({ci})")
    }
}

/// The rounded estimate and its interval as separate texts
/// (`28,100`, `95% CI 28,060 to 28,140`), so a sentence can put the
/// interval after the noun; the interval is empty when undefined.
pub fn estimate_parts(mean: f64, low: f64, high: f64) -> (String, String) {
    let e = precision_exponent(mean, (high - low) / 2.0);
    let ci = if low.is_finite() && high.is_finite() && high > low {
        format!(
            "95% CI {} to {}",
            prose_number(low, e),
            prose_number(high, e)
        )
    } else {
        String::new()
    };
    (prose_number(mean, e), ci)
}

/// As [`estimate_parts`] for a quantity that cannot be negative (a count, a
/// mean of bed days): a t-interval reaching below zero is shown from 0
/// (rounded as the untruncated interval is).
pub fn estimate_parts_non_negative(mean: f64, low: f64, high: f64) -> (String, String) {
    let (value, ci) = estimate_parts(mean, low, high);
    if ci.is_empty() || low >= 0.0 {
        return (value, ci);
    }
    let e = precision_exponent(mean, (high - low) / 2.0);
    let ci = format!(
        "95% CI {} to {}",
        prose_number(0.0, e),
        prose_number(high, e)
    );
    (value, ci)
}

/// Whether a 95% confidence interval includes no change (`low <= 0 <=
/// high`): the one test every sentence and chart uses for "no clear
/// change". An undefined end (NaN) includes nothing.
pub fn includes_no_change(low: f64, high: f64) -> bool {
    low <= 0.0 && 0.0 <= high
}

/// The rounding of an effect and its interval: [`precision_exponent`],
/// with up to three more digits when the interval excludes no change but
/// an end would round to 0 (`95% CI 0 to 500` would read as including no
/// change).
pub fn effect_exponent(mean: f64, low: f64, high: f64) -> i32 {
    let mut e = precision_exponent(mean, (high - low) / 2.0);
    if low.is_finite() && high.is_finite() && !includes_no_change(low, high) {
        for _ in 0..3 {
            if round_to(low, e) == 0.0 || round_to(high, e) == 0.0 {
                e -= 1;
            }
        }
    }
    e
}

/// What an effect shows, read from its mean and 95% interval (positive is
/// the direction the finding calls `Up`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finding {
    /// The interval lies wholly above zero.
    Up,
    /// The interval lies wholly below zero.
    Down,
    /// The interval includes zero and has width: no clear change.
    Unclear,
    /// Every replication gave a difference of exactly zero.
    None,
    /// No interval (one replication): only the sign of the mean is known,
    /// `Some(true)` above zero.
    NoInterval(Option<bool>),
    /// The mean is undefined.
    Undefined,
}

impl Finding {
    /// The finding of an effect with mean `mean` and 95% interval `low` to
    /// `high` (either order).
    pub fn of(mean: f64, low: f64, high: f64) -> Finding {
        if !mean.is_finite() {
            return Finding::Undefined;
        }
        if !(low.is_finite() && high.is_finite()) {
            return Finding::NoInterval((mean != 0.0).then_some(mean > 0.0));
        }
        let (low, high) = (low.min(high), low.max(high));
        if includes_no_change(low, high) {
            if low == high {
                Finding::None
            } else {
                Finding::Unclear
            }
        } else if low > 0.0 {
            Finding::Up
        } else {
            Finding::Down
        }
    }
}

/// A signed difference in plain words, its size rounded to `10^exponent`:
/// `12 more`, `3.5 fewer`, or `0` when it rounds to nothing.
pub fn more_or_fewer(diff: f64, exponent: i32) -> String {
    let size = prose_number(diff.abs(), exponent);
    if !diff.is_finite() {
        size
    } else if round_to(diff, exponent) == 0.0 {
        prose_number(0.0, exponent)
    } else if diff > 0.0 {
        format!("{size} more")
    } else {
        format!("{size} fewer")
    }
}

/// An effect whose interval includes no change, `what` saying of what:
/// `no clear change in admissions a year (an estimated 3 more; 95% CI 2
/// fewer to 8 more)`, each figure rounded to `10^exponent`.
pub fn unclear_change(what: &str, diff: f64, low: f64, high: f64, exponent: i32) -> String {
    format!(
        "no clear change {what} (an estimated {}; 95% CI {} to {})",
        more_or_fewer(diff, exponent),
        more_or_fewer(low, exponent),
        more_or_fewer(high, exponent)
    )
}

/// ` (95% CI a to b)`, or nothing when `ci` is empty.
pub fn paren(ci: &str) -> String {
    if ci.is_empty() {
        String::new()
    } else {
        format!(" ({ci})")
    }
}

/// A date for prose: `28 September 2025`.
pub fn prose_date(date: crate::scenario::calendar::Date) -> String {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let (y, m, d) = date.ymd();
    let month = MONTHS.get((m as usize).wrapping_sub(1)).unwrap_or(&"?");
    format!("{d} {month} {y}")
}

/// "a", "a and b", "a, b and c".
pub(crate) fn and_list<S: AsRef<str>>(items: &[S]) -> String {
    match items {
        [] => String::new(),
        [one] => one.as_ref().to_string(),
        [init @ .., last] => format!(
            "{} and {}",
            init.iter()
                .map(AsRef::as_ref)
                .collect::<Vec<_>>()
                .join(", "),
            last.as_ref()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interval_of_a_non_negative_quantity_starts_at_zero() {
        assert_eq!(
            estimate_parts_non_negative(0.2, -0.21, 0.61),
            ("0.2".to_string(), "95% CI 0.0 to 0.6".to_string())
        );
        assert_eq!(
            estimate_parts_non_negative(5.0, 4.0, 6.0),
            estimate_parts(5.0, 4.0, 6.0)
        );
    }

    #[test]
    fn counted_nouns_agree() {
        assert_eq!(counted(1, "thread"), "1 thread");
        assert_eq!(counted(2, "thread"), "2 threads");
        assert_eq!(counted(0, "replication"), "0 replications");
        assert_eq!(counted(2000, "replication"), "2,000 replications");
    }

    #[test]
    fn thousands() {
        assert_eq!(prose_number(28_103.4, 1), "28,100");
        assert_eq!(prose_number(1_150.0, 0), "1,150");
        assert_eq!(prose_number(999.0, 0), "999");
        assert_eq!(prose_number(1_000.0, 0), "1,000");
        assert_eq!(prose_number(-1_234.56, -1), "-1,234.6");
        assert_eq!(prose_number(1_234_567.0, 0), "1,234,567");
        assert_eq!(prose_number(-0.04, -1), "0.0");
        assert_eq!(prose_number(f64::NAN, 0), "n/a");
        assert_eq!(prose_count(1924), "1,924");
    }

    #[test]
    fn precision_follows_the_interval() {
        assert_eq!(precision_exponent(28_103.0, 40.2), 1);
        assert_eq!(precision_exponent(28_103.0, 15.0), 0);
        assert_eq!(precision_exponent(5.3, 0.3), -1);
        assert_eq!(precision_exponent(5.3, 0.14), -2);
        assert_eq!(precision_exponent(5.3, 100.0), 1);
        assert_eq!(precision_exponent(5.3, 1000.0), 2);
        // No interval: three significant figures.
        assert_eq!(precision_exponent(28_103.0, f64::NAN), 2);
        assert_eq!(precision_exponent(0.0123, 0.0), -4);
        assert_eq!(
            estimate_with_ci(28_103.4, 28_063.2, 28_143.6),
            "28,100 (95% CI 28,060 to 28,140)"
        );
        assert_eq!(estimate_with_ci(12.0, f64::NAN, f64::NAN), "12.0");
    }

    #[test]
    fn rounding_is_exact_in_decimals() {
        assert_eq!(format!("{}", round_to(5.34, -1)), "5.3");
        assert_eq!(round_to(28_145.0, 1), 28_150.0);
        assert_eq!(round_to(-0.01, -1), 0.0);
    }
}

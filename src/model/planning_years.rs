//! Planning years (`docs/model.md`, "Results by year"): the UK financial
//! years (1 April to 31 March) that a statistics window longer than 365
//! days crosses, each cut to the window.

use crate::scenario::calendar::Date;

/// Days a window must exceed for results by year.
pub const YEARLY_AFTER_DAYS: f64 = 365.0;

/// One planning year of a window: the part of a financial year inside it.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanningYear {
    /// `"2026/27"`: the financial year from 1 April 2026 to 31 March 2027.
    pub label: String,
    /// Simulated hours of its start and end, `[start, end)`.
    pub start_hours: f64,
    /// See `start_hours`.
    pub end_hours: f64,
    /// The date of its first and of its last hour.
    pub first_date: Date,
    /// See `first_date`.
    pub last_date: Date,
    /// True when the window cuts the financial year short (its first or
    /// last year): its counts cover fewer days than a whole year's.
    pub partial: bool,
}

impl PlanningYear {
    /// Days it spans (fractional when the window starts or ends inside a day).
    pub fn days(&self) -> f64 {
        (self.end_hours - self.start_hours) / 24.0
    }
}

/// The planning years of the window `[window_start, window_end)` (hours
/// from 00:00 of `start_date`): the financial years it crosses, in order,
/// each cut to the window; none when the window is 365 days or shorter, or
/// is exactly one (leap) financial year.
pub fn planning_years(start_date: Date, window_start: f64, window_end: f64) -> Vec<PlanningYear> {
    // NaN-safe: a window that is not longer than a year has none.
    if (window_end - window_start).partial_cmp(&(YEARLY_AFTER_DAYS * 24.0))
        != Some(std::cmp::Ordering::Greater)
    {
        return Vec::new();
    }
    let hours_of = |d: Date| start_date.days_until(d) as f64 * 24.0;
    let date_at = |h: f64| start_date.add_days((h / 24.0).floor() as i64);
    let first = date_at(window_start);
    let (y, m, _) = first.ymd();
    // The financial year holding the window's first day starts on 1 April
    // of this calendar year, or of the one before for January to March.
    let mut year = if m >= 4 { y } else { y - 1 };
    let mut years = Vec::new();
    while let (Some(from), Some(to)) = (Date::from_ymd(year, 4, 1), Date::from_ymd(year + 1, 4, 1))
    {
        let (fy_start, fy_end) = (hours_of(from), hours_of(to));
        if fy_start >= window_end {
            break;
        }
        let start = fy_start.max(window_start);
        let end = fy_end.min(window_end);
        if end > start {
            years.push(PlanningYear {
                label: format!("{}/{:02}", year, (year + 1).rem_euclid(100)),
                start_hours: start,
                end_hours: end,
                first_date: date_at(start),
                last_date: start_date.add_days((end / 24.0).ceil() as i64 - 1),
                partial: start > fy_start || end < fy_end,
            });
        }
        year += 1;
    }
    // A window of exactly one leap financial year: its whole-window results
    // are its year's.
    if years.len() < 2 {
        years.clear();
    }
    years
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn financial_years_cut_to_the_window() {
        let start = Date::from_ymd(2026, 1, 1).unwrap();
        // Window from 2026-02-01 for 800 days: to 2028-04-11 (exclusive).
        let ws = 31.0 * 24.0;
        let years = planning_years(start, ws, ws + 800.0 * 24.0);
        let labels: Vec<_> = years.iter().map(|y| y.label.as_str()).collect();
        assert_eq!(labels, ["2025/26", "2026/27", "2027/28", "2028/29"]);
        assert!(years[0].partial && !years[1].partial && !years[2].partial && years[3].partial);
        assert_eq!(years[0].first_date.to_string(), "2026-02-01");
        assert_eq!(years[0].last_date.to_string(), "2026-03-31");
        assert_eq!(years[1].first_date.to_string(), "2026-04-01");
        assert_eq!(years[1].days(), 365.0);
        assert_eq!(years[2].days(), 366.0); // 2028 is a leap year
        assert_eq!(years[3].last_date.to_string(), "2028-04-10");
        let total: f64 = years.iter().map(PlanningYear::days).sum();
        assert_eq!(total, 800.0);
        for w in years.windows(2) {
            assert_eq!(w[0].end_hours, w[1].start_hours);
        }
    }

    #[test]
    fn a_year_or_less_has_no_planning_years() {
        let start = Date::from_ymd(2026, 1, 1).unwrap();
        assert!(planning_years(start, 0.0, 365.0 * 24.0).is_empty());
        assert_eq!(planning_years(start, 0.0, 365.0 * 24.0 + 1.0).len(), 2);
        // 2027/28 is 366 days: one financial year, no planning years.
        let leap = start.days_until(Date::from_ymd(2027, 4, 1).unwrap()) as f64 * 24.0;
        assert!(planning_years(start, leap, leap + 366.0 * 24.0).is_empty());
        assert_eq!(planning_years(start, leap, leap + 367.0 * 24.0).len(), 2);
    }
}

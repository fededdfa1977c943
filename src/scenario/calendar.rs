//! Calendar dates, weekdays and clock windows.
//!
//! The model runs on local clock time with no daylight saving, so a date is
//! just a count of days and a clock time is minutes after midnight.

use std::fmt;

use super::error::truncate_token;

/// A calendar date (proleptic Gregorian), stored as days since 1970-01-01.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    days_since_epoch: i32,
}

/// Day of the week, Monday first (as in the format's `day_of_week` lists, `docs/scenario-format.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Weekday {
    /// Monday.
    Mon,
    /// Tuesday.
    Tue,
    /// Wednesday.
    Wed,
    /// Thursday.
    Thu,
    /// Friday.
    Fri,
    /// Saturday.
    Sat,
    /// Sunday.
    Sun,
}

impl Weekday {
    /// All days, Monday first.
    pub const ALL: [Weekday; 7] = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];

    /// 0 for Monday up to 6 for Sunday.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The three-letter name used in scenario files (`"Mon"`).
    pub fn name(self) -> &'static str {
        ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][self.index()]
    }

    /// Parses the three-letter name used in scenario files.
    pub fn parse(s: &str) -> Option<Weekday> {
        Weekday::ALL.into_iter().find(|d| d.name() == s)
    }

    /// Saturday and Sunday are the weekend.
    pub fn is_weekend(self) -> bool {
        matches!(self, Weekday::Sat | Weekday::Sun)
    }
}

impl Date {
    /// The date from its year, month (1-12) and day (1-31), if it exists.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Date> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        // Days from civil, after H. Hinnant's public-domain algorithm.
        let y = if month <= 2 { year - 1 } else { year };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = month as i32;
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i32 - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        Some(Date {
            days_since_epoch: era * 146_097 + doe - 719_468,
        })
    }

    /// The last date a scenario may reach: dates are written with four-digit
    /// years, 0001-01-01 to 9999-12-31.
    pub fn last_supported() -> Date {
        Date {
            // 9999-12-31, checked by a test.
            days_since_epoch: 2_932_896,
        }
    }

    /// Parses `YYYY-MM-DD` exactly (four-digit year from 0001, two-digit
    /// month and day).
    pub fn parse(s: &str) -> Option<Date> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let digits = |r: std::ops::Range<usize>| -> Option<u32> {
            let part = &s[r];
            if part.bytes().all(|c| c.is_ascii_digit()) {
                part.parse().ok()
            } else {
                None
            }
        };
        let year = digits(0..4)?;
        if year == 0 {
            return None;
        }
        Date::from_ymd(year as i32, digits(5..7)?, digits(8..10)?)
    }

    /// Days since 1970-01-01 (negative before).
    pub fn days_since_epoch(self) -> i32 {
        self.days_since_epoch
    }

    /// The date `days` later (earlier when negative).
    pub fn add_days(self, days: i64) -> Date {
        Date {
            days_since_epoch: (self.days_since_epoch as i64 + days) as i32,
        }
    }

    /// Whole days from `self` to `other` (negative when `other` is earlier).
    pub fn days_until(self, other: Date) -> i64 {
        other.days_since_epoch as i64 - self.days_since_epoch as i64
    }

    /// The weekday; 1970-01-01 was a Thursday.
    pub fn weekday(self) -> Weekday {
        Weekday::ALL[(self.days_since_epoch as i64 + 3).rem_euclid(7) as usize]
    }

    /// (year, month 1-12, day 1-31).
    pub fn ymd(self) -> (i32, u32, u32) {
        let z = self.days_since_epoch + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i32::from(month <= 2);
        (year, month, day)
    }

    /// Month 1-12.
    pub fn month(self) -> u32 {
        self.ymd().1
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A daily clock window: `"08:00-20:00"`, `"20:00-08:00"` (crosses midnight),
/// `"00:00-24:00"` (always) or `"none"` (never).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClockWindow {
    /// `"none"`: closed all day.
    Never,
    /// `"00:00-24:00"`: open all day.
    Always,
    /// Open from `start` to `end`, minutes after midnight; `start != end`.
    /// When `start > end` the window crosses midnight: open from `start` to
    /// 24:00 and from 00:00 to `end` of the same calendar date.
    Span {
        /// Opening time, minutes after midnight (0 to 1439).
        start_minute: u16,
        /// Closing time, minutes after midnight (1 to 1440).
        end_minute: u16,
    },
}

impl ClockWindow {
    /// Parses `"HH:MM-HH:MM"`, `"none"`; `"24:00"` is allowed only as an end.
    /// Hours may have one digit (`"8:00"`), minutes have two, and spaces
    /// around the `-` are allowed (`"08:00 - 20:00"`).
    /// A window whose start equals its end is refused (ambiguous: say
    /// `"00:00-24:00"` or `"none"`).
    pub fn parse(s: &str) -> Result<ClockWindow, String> {
        let s = s.trim();
        if s == "none" {
            return Ok(ClockWindow::Never);
        }
        let bad = || {
            format!(
                "expected a clock window \"HH:MM-HH:MM\", \"00:00-24:00\" or \"none\", found \"{}\"",
                truncate_token(s)
            )
        };
        let (a, b) = s.split_once('-').ok_or_else(bad)?;
        let start = parse_clock(a.trim(), false).ok_or_else(bad)?;
        let end = parse_clock(b.trim(), true).ok_or_else(bad)?;
        if start == 0 && end == 24 * 60 {
            return Ok(ClockWindow::Always);
        }
        if start == end {
            return Err(format!(
                "the window \"{s}\" starts and ends at the same time: write \"00:00-24:00\" for always or \"none\" for never"
            ));
        }
        Ok(ClockWindow::Span {
            start_minute: start,
            end_minute: end,
        })
    }

    /// Open intervals within one calendar day, in minutes `[a, b)`.
    pub fn intervals(self) -> Vec<(u16, u16)> {
        match self {
            ClockWindow::Never => vec![],
            ClockWindow::Always => vec![(0, 1440)],
            ClockWindow::Span {
                start_minute: a,
                end_minute: b,
            } if a < b => vec![(a, b)],
            ClockWindow::Span {
                start_minute: a,
                end_minute: b,
            } => {
                let mut v = Vec::new();
                if b > 0 {
                    v.push((0, b));
                }
                v.push((a, 1440));
                v
            }
        }
    }

    /// Open minutes per day.
    pub fn open_minutes(self) -> u32 {
        self.intervals()
            .iter()
            .map(|&(a, b)| u32::from(b - a))
            .sum()
    }
}

impl fmt::Display for ClockWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ClockWindow::Never => write!(f, "none"),
            ClockWindow::Always => write!(f, "00:00-24:00"),
            ClockWindow::Span {
                start_minute: a,
                end_minute: b,
            } => write!(f, "{:02}:{:02}-{:02}:{:02}", a / 60, a % 60, b / 60, b % 60),
        }
    }
}

fn parse_clock(s: &str, allow_24: bool) -> Option<u16> {
    let (h, m) = s.split_once(':')?;
    if !(1..=2).contains(&h.len())
        || m.len() != 2
        || !h.bytes().chain(m.bytes()).all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let h: u16 = h.parse().ok()?;
    let m: u16 = m.parse().ok()?;
    if m >= 60 {
        return None;
    }
    if h == 24 && m == 0 && allow_24 {
        return Some(1440);
    }
    if h >= 24 {
        return None;
    }
    Some(h * 60 + m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_and_weekdays() {
        let d = Date::parse("2025-04-01").unwrap();
        assert_eq!(d.to_string(), "2025-04-01");
        assert_eq!(d.weekday(), Weekday::Tue);
        assert_eq!(
            Date::parse("2024-02-29").unwrap().add_days(1).to_string(),
            "2024-03-01"
        );
        assert!(Date::parse("2025-02-29").is_none());
        assert!(Date::parse("2025-4-01").is_none());
        assert!(Date::parse("0000-01-01").is_none());
        assert_eq!(Date::parse("9999-12-31"), Some(Date::last_supported()));
        assert_eq!(Date::parse("0001-01-01").unwrap().to_string(), "0001-01-01");
        assert_eq!(Date::parse("1970-01-01").unwrap().days_since_epoch(), 0);
        for k in -1000..1000 {
            let d = Date::parse("2000-01-01").unwrap().add_days(k);
            let (y, m, dd) = d.ymd();
            assert_eq!(Date::from_ymd(y, m, dd), Some(d));
        }
    }

    #[test]
    fn windows_parse() {
        assert_eq!(ClockWindow::parse("none").unwrap(), ClockWindow::Never);
        assert_eq!(
            ClockWindow::parse("00:00-24:00").unwrap(),
            ClockWindow::Always
        );
        assert_eq!(
            ClockWindow::parse("20:00-08:00").unwrap().intervals(),
            vec![(0, 480), (1200, 1440)]
        );
        assert_eq!(
            ClockWindow::parse("08:00-20:00").unwrap().open_minutes(),
            720
        );
        assert!(ClockWindow::parse("08:00-08:00").is_err());
        assert!(ClockWindow::parse("24:00-08:00").is_err());
        assert_eq!(
            ClockWindow::parse("8:00-20:00"),
            ClockWindow::parse("08:00 - 20:00")
        );
        assert_eq!(
            ClockWindow::parse(" 8:00 -20:00").unwrap().open_minutes(),
            12 * 60
        );
        assert!(ClockWindow::parse("8:0-20:00").is_err());
        assert!(ClockWindow::parse("008:00-20:00").is_err());
        assert!(ClockWindow::parse("08:60-20:00").is_err());
    }
}

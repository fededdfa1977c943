//! Calendars turned into simulated time: opening hours, the crisis arrival
//! rate and the acute bed count, all precomputed once per scenario.
//!
//! Simulated time is hours after 00:00 on the scenario's start date.

use crate::scenario::calendar::{ClockWindow, Date, Weekday};
use crate::scenario::dated::covering;
use crate::scenario::{Acute, CapacityChange, Demand, DischargeChange, HoursChange, OpenDays};

const WEEK_HOURS: f64 = 168.0;

/// Weekly opening hours as sorted, disjoint intervals within one week that
/// starts at 00:00 on the scenario's start date (so the weekday of that date
/// comes first). Finding the interval for an instant starts from a table by
/// hour of the week, so `is_open`, `next_open` and `opening` look at one or
/// two intervals instead of scanning (a scan's exit, which depends on the
/// weekday, is a branch the processor cannot predict).
#[derive(Clone, Debug)]
pub struct WeeklySchedule {
    /// `[start, end)` hours since the week start, merged where they touch.
    intervals: Vec<(f64, f64)>,
    /// For each whole hour `h` of the week, the first interval that ends
    /// after `h` (`intervals.len()` if none).
    first_ending_after_hour: [u8; 168],
    open_hours_per_week: f64,
}

impl WeeklySchedule {
    /// Opening hours from the window that applies to each calendar date:
    /// `window_for(weekday)`. A window that crosses midnight contributes the
    /// early part and the late part of the same date, per `docs/model.md`.
    pub fn new(start: Date, window_for: impl Fn(Weekday) -> ClockWindow) -> WeeklySchedule {
        let mut intervals: Vec<(f64, f64)> = Vec::new();
        for day in 0..7 {
            let weekday = start.add_days(day).weekday();
            let base = day as f64 * 24.0;
            for (a, b) in window_for(weekday).intervals() {
                let (a, b) = (base + f64::from(a) / 60.0, base + f64::from(b) / 60.0);
                match intervals.last_mut() {
                    Some(last) if last.1 == a => last.1 = b,
                    _ => intervals.push((a, b)),
                }
            }
        }
        let open_hours_per_week = intervals.iter().map(|(a, b)| b - a).sum();
        // At most 14 intervals (two a day), so an index fits in a byte.
        let first_ending_after_hour = std::array::from_fn(|h| {
            intervals
                .iter()
                .take_while(|&&(_, b)| b <= h as f64)
                .count() as u8
        });
        WeeklySchedule {
            intervals,
            first_ending_after_hour,
            open_hours_per_week,
        }
    }

    /// The first interval that ends after `w` hours into the week
    /// (`0 <= w < 168`), or `intervals.len()`: the only one that can contain
    /// `w` or open after it within the week.
    #[inline]
    fn first_ending_after(&self, w: f64) -> usize {
        let mut i = usize::from(self.first_ending_after_hour[(w as usize).min(167)]);
        // Intervals can end within the hour: step past those ending by `w`.
        while let Some(&(_, b)) = self.intervals.get(i)
            && b <= w
        {
            i += 1;
        }
        i
    }

    /// A service open in `window` on `days`.
    pub fn service(start: Date, window: ClockWindow, days: &OpenDays) -> WeeklySchedule {
        WeeklySchedule::new(start, |d| {
            if days[d.index()] {
                window
            } else {
                ClockWindow::Never
            }
        })
    }

    /// Discharge hours: `weekday` on Monday to Friday, `weekend` on Saturday and Sunday.
    pub fn discharge(start: Date, weekday: ClockWindow, weekend: ClockWindow) -> WeeklySchedule {
        WeeklySchedule::new(start, |d| if d.is_weekend() { weekend } else { weekday })
    }

    /// (whole weeks before `t`, the start of the week containing `t`, hours
    /// into that week), `t >= 0`.
    #[inline]
    fn split(t: f64) -> (u64, f64, f64) {
        // Truncation is floor for t >= 0, and avoids a libm call (signed
        // conversions are single instructions). Just below a week boundary
        // the quotient can round up to the next whole week: step back so
        // that the offset is never negative.
        let mut weeks = (t / WEEK_HOURS) as i64;
        let mut week_start = weeks as f64 * WEEK_HOURS;
        if t < week_start {
            weeks -= 1;
            week_start = weeks as f64 * WEEK_HOURS;
        }
        (weeks as u64, week_start, t - week_start)
    }

    /// Whether the service is open at `t`.
    #[inline]
    pub fn is_open(&self, t: f64) -> bool {
        let (_, _, w) = Self::split(t);
        self.intervals
            .get(self.first_ending_after(w))
            .is_some_and(|&(a, _)| a <= w)
    }

    /// The first instant `>= t` at which the service is open (`t` itself when
    /// open now), or `None` if it never opens.
    pub fn next_open(&self, t: f64) -> Option<f64> {
        match self.opening(t) {
            Opening::Now | Opening::Starting { .. } => Some(t),
            Opening::At { time, .. } => Some(time),
            Opening::Never => None,
        }
    }

    /// When the service opens, seen from `t`: now (maybe at the very instant
    /// of an opening), at a later opening, or never. Openings are numbered
    /// from the start of week 0, so that events waiting for the same opening
    /// can be grouped by its number.
    #[inline]
    pub fn opening(&self, t: f64) -> Opening {
        let (week, week_start, w) = Self::split(t);
        let n = self.intervals.len() as u64;
        let i = self.first_ending_after(w);
        if let Some(&(a, _)) = self.intervals.get(i) {
            if w > a {
                return Opening::Now;
            }
            let index = week * n + i as u64;
            // As `opening_time(index)`, to the bit: whole weeks are exact.
            let time = week_start + a;
            if w == a {
                // Exactly at an opening instant (a stay of whole days, for
                // one): it is that opening, if the time is exactly it.
                return match time == t {
                    true => Opening::Starting { index },
                    false => Opening::Now,
                };
            }
            return Opening::At { time, index };
        }
        match self.intervals.first() {
            Some(&(a, _)) => Opening::At {
                time: week_start + WEEK_HOURS + a,
                index: (week + 1) * n,
            },
            None => Opening::Never,
        }
    }

    /// The time of opening number `index` (see [`WeeklySchedule::opening`]);
    /// the schedule must have some opening hours.
    #[inline]
    pub fn opening_time(&self, index: u64) -> f64 {
        let n = self.intervals.len() as u64;
        let week = index / n;
        // Whole weeks are exact in f64, as in `split`.
        week as f64 * WEEK_HOURS + self.intervals[(index % n) as usize].0
    }

    /// Open hours in `[0, t)`.
    fn open_hours_before(&self, t: f64) -> f64 {
        let (_, week_start, w) = Self::split(t);
        let partial: f64 = self
            .intervals
            .iter()
            .map(|&(a, b)| (b.min(w) - a).max(0.0))
            .sum();
        week_start / WEEK_HOURS * self.open_hours_per_week + partial
    }

    /// Open hours in `[from, to)`.
    pub fn open_hours_between(&self, from: f64, to: f64) -> f64 {
        (self.open_hours_before(to) - self.open_hours_before(from)).max(0.0)
    }
}

/// The opening hours of the PRU or the frailty unit, which may change on
/// dates (`docs/model.md`, "Capacity over time"): the weekly schedule in
/// force on each simulated day.
#[derive(Clone, Debug)]
pub struct DatedHours {
    /// The scenario's own hours (`open` and `days`).
    base: WeeklySchedule,
    /// The other schedules that some day has.
    others: Vec<WeeklySchedule>,
    /// For each simulated day, 0 for `base` or `i + 1` for `others[i]`;
    /// empty without dated changes of the hours.
    by_day: Vec<u16>,
}

impl DatedHours {
    /// A service open in `window` on `days`, changed on dates by `changes`
    /// (each key of an entry applies on the dates it covers, the last entry
    /// listed that names the key winning), for `days_count` simulated days.
    pub fn service(
        start: Date,
        window: ClockWindow,
        days: &OpenDays,
        changes: &[HoursChange],
        days_count: usize,
    ) -> DatedHours {
        let base = WeeklySchedule::service(start, window, days);
        if changes.is_empty() {
            return DatedHours {
                base,
                others: Vec::new(),
                by_day: Vec::new(),
            };
        }
        let mut kinds: Vec<(ClockWindow, OpenDays)> = vec![(window, *days)];
        let mut others = Vec::new();
        let by_day = (0..days_count)
            .map(|d| {
                let date = start.add_days(d as i64);
                let w = covering(changes, date)
                    .find_map(|c| c.open)
                    .unwrap_or(window);
                let o = covering(changes, date)
                    .find_map(|c| c.days)
                    .unwrap_or(*days);
                match kinds.iter().position(|&k| k == (w, o)) {
                    Some(i) => i as u16,
                    None => {
                        kinds.push((w, o));
                        others.push(WeeklySchedule::service(start, w, &o));
                        (kinds.len() - 1) as u16
                    }
                }
            })
            .collect();
        DatedHours {
            base,
            others,
            by_day,
        }
    }

    /// The schedule in force on day `day` (the last day's after the end).
    #[inline]
    fn on_day(&self, day: usize) -> &WeeklySchedule {
        match self.by_day.get(day).or(self.by_day.last()) {
            Some(&i) if i > 0 => &self.others[usize::from(i) - 1],
            _ => &self.base,
        }
    }

    /// Whether the service is open at `t` (on the hot path: the hours
    /// without dated changes as fast as a plain [`WeeklySchedule`]).
    #[inline(always)]
    pub fn is_open(&self, t: f64) -> bool {
        if self.by_day.is_empty() {
            return self.base.is_open(t);
        }
        self.is_open_dated(t)
    }

    #[inline(never)]
    fn is_open_dated(&self, t: f64) -> bool {
        self.on_day((t / 24.0) as usize).is_open(t)
    }

    /// Open hours in `[from, to)`, each day by its own schedule.
    pub fn open_hours_between(&self, from: f64, to: f64) -> f64 {
        if self.by_day.is_empty() {
            return self.base.open_hours_between(from, to);
        }
        let mut total = 0.0;
        let mut day = (from.max(0.0) / 24.0).floor() as usize;
        loop {
            let (a, b) = (
                (day as f64 * 24.0).max(from),
                ((day + 1) as f64 * 24.0).min(to),
            );
            if b <= a {
                break;
            }
            total += self.on_day(day).open_hours_between(a, b);
            day += 1;
        }
        total
    }
}

/// The discharge hours, which may change on dates (`docs/model.md`,
/// "Capacity over time"): one weekly schedule, or, with dated changes,
/// every open interval of the run laid day by day.
#[derive(Clone, Debug)]
pub enum DischargeHours {
    /// The same hours every week.
    Weekly(WeeklySchedule),
    /// Hours that change on dates.
    Dated(DatedOpenings),
}

/// Every open interval `[start, end)` of the run, in order, numbered from
/// 0: intervals of two days that touch at a midnight are one, except at
/// the start of a week of the run (as in a [`WeeklySchedule`], so hours
/// changed to what they were give the same openings, to the bit).
#[derive(Clone, Debug)]
pub struct DatedOpenings {
    intervals: Vec<(f64, f64)>,
    /// For each simulated day, the first interval that ends after its 00:00.
    first_by_day: Vec<u32>,
}

impl DischargeHours {
    /// The hours `weekday` (Monday to Friday) and `weekend`, changed on
    /// dates by `changes` (each key of an entry applying on the dates it
    /// covers, the last entry listed that names it winning), for
    /// `days_count` simulated days.
    pub fn new(
        start: Date,
        weekday: ClockWindow,
        weekend: ClockWindow,
        changes: &[DischargeChange],
        days_count: usize,
    ) -> DischargeHours {
        if changes.is_empty() {
            return DischargeHours::Weekly(WeeklySchedule::discharge(start, weekday, weekend));
        }
        let mut intervals: Vec<(f64, f64)> = Vec::new();
        let mut last_week = u64::MAX;
        let mut first_by_day = Vec::with_capacity(days_count);
        for d in 0..days_count {
            let date = start.add_days(d as i64);
            let window = if date.weekday().is_weekend() {
                covering(changes, date)
                    .find_map(|c| c.weekend)
                    .unwrap_or(weekend)
            } else {
                covering(changes, date)
                    .find_map(|c| c.weekday)
                    .unwrap_or(weekday)
            };
            let week = (d / 7) as u64;
            let week_start = week as f64 * WEEK_HOURS;
            let base = (d % 7) as f64 * 24.0;
            for (a, b) in window.intervals() {
                // As `WeeklySchedule::opening` computes an opening's time.
                let (a, b) = (base + f64::from(a) / 60.0, base + f64::from(b) / 60.0);
                let (a, b) = (week_start + a, week_start + b);
                match intervals.last_mut() {
                    Some(last) if last.1 == a && last_week == week => last.1 = b,
                    _ => intervals.push((a, b)),
                }
                last_week = week;
            }
            first_by_day.push(0);
        }
        // The first interval ending after each day's 00:00.
        let mut i = 0;
        for (d, slot) in first_by_day.iter_mut().enumerate() {
            let midnight = d as f64 * 24.0;
            while intervals.get(i).is_some_and(|&(_, b)| b <= midnight) {
                i += 1;
            }
            *slot = i as u32;
        }
        DischargeHours::Dated(DatedOpenings {
            intervals,
            first_by_day,
        })
    }

    /// When the discharge hours open, seen from `t` (see
    /// [`WeeklySchedule::opening`]).
    #[inline(always)]
    pub fn opening(&self, t: f64) -> Opening {
        match self {
            DischargeHours::Weekly(w) => w.opening(t),
            DischargeHours::Dated(d) => d.opening(t),
        }
    }

    /// The time of opening number `index`.
    #[inline]
    pub fn opening_time(&self, index: u64) -> f64 {
        match self {
            DischargeHours::Weekly(w) => w.opening_time(index),
            DischargeHours::Dated(d) => d.intervals[index as usize].0,
        }
    }
}

impl DatedOpenings {
    #[inline(never)]
    fn opening(&self, t: f64) -> Opening {
        let day = (t.max(0.0) / 24.0) as usize;
        let mut i = match self.first_by_day.get(day) {
            Some(&i) => i as usize,
            None => self.intervals.len(),
        };
        while self.intervals.get(i).is_some_and(|&(_, b)| b <= t) {
            i += 1;
        }
        match self.intervals.get(i) {
            Some(&(a, _)) if t > a => Opening::Now,
            Some(&(a, _)) if t == a => Opening::Starting { index: i as u64 },
            Some(&(a, _)) => Opening::At {
                time: a,
                index: i as u64,
            },
            None => Opening::Never,
        }
    }
}

/// When a service opens, seen from an instant.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Opening {
    /// Open at that instant.
    Now,
    /// Open from that very instant: opening number `index` is now.
    Starting { index: u64 },
    /// Closed; opens at `time`, its opening number `index`.
    At { time: f64, index: u64 },
    /// Never open.
    Never,
}

/// The crisis arrival rate, constant within each clock hour:
/// `crises_per_day / 24 x hour weight x weekday weight x month weight`,
/// each list divided by the simple mean of its entries. One precomputed rate
/// per simulated hour, with its reciprocal (16 bytes an hour: 140 KB a year).
#[derive(Clone, Debug)]
pub struct ArrivalProfile {
    /// (crises per hour, hours per crisis) in each simulated clock hour. The
    /// reciprocal (infinite for a rate of 0, never used then) makes an
    /// arrival cost a multiplication, not a division.
    /// Shared (an `Arc`, as cheap to index as a `Vec`): a planning year's
    /// copy of a prepared scenario holds the same profile (`sim/yearly.rs`).
    cells: std::sync::Arc<[(f64, f64)]>,
}

/// Where an arrival stream is in the profile: the clock hour of its last
/// arrival. Successive arrivals mostly fall in the same hour, so the next
/// one is found without converting a time to an hour.
#[derive(Clone, Copy, Debug)]
pub struct ArrivalCursor {
    hour: usize,
    /// The end of that hour, `hour + 1`.
    hour_end: f64,
}

impl ArrivalCursor {
    /// A stream at time zero.
    pub fn start() -> ArrivalCursor {
        ArrivalCursor {
            hour: 0,
            hour_end: 1.0,
        }
    }
}

impl ArrivalProfile {
    /// The profile for `days` simulated days from `start`.
    #[cfg(test)]
    pub fn new(demand: &Demand, start: Date, days: usize) -> ArrivalProfile {
        ArrivalProfile::dated(demand, start, days, None)
    }

    /// As [`ArrivalProfile::new`], with `crises_per_day` on each day from
    /// `per_day` when given (a dated rate, `docs/model.md`, "Dated values").
    pub fn dated(
        demand: &Demand,
        start: Date,
        days: usize,
        per_day: Option<&[f64]>,
    ) -> ArrivalProfile {
        fn normalised<const N: usize>(w: &[f64; N]) -> [f64; N] {
            let mean = w.iter().sum::<f64>() / N as f64;
            w.map(|x| x / mean)
        }
        let hour = normalised(&demand.hour_of_day);
        let weekday = normalised(&demand.day_of_week);
        let month = normalised(&demand.month_of_year);
        let base = demand.crises_per_day / 24.0;
        let mut cells = Vec::with_capacity(days * 24);
        for d in 0..days {
            let date = start.add_days(d as i64);
            let base = match per_day {
                None => base,
                Some(v) => v.get(d).or(v.last()).copied().unwrap_or(0.0) / 24.0,
            };
            let day = base * weekday[date.weekday().index()] * month[date.month() as usize - 1];
            cells.extend(hour.iter().map(|h| (day * h, 1.0 / (day * h))));
        }
        ArrivalProfile {
            cells: cells.into(),
        }
    }

    /// A constant rate of `per_day` a day for `days` simulated days (a
    /// homogeneous source, given growth by [`ArrivalProfile::grown`]).
    pub fn flat(per_day: f64, days: usize) -> ArrivalProfile {
        let rate = per_day / 24.0;
        ArrivalProfile {
            cells: vec![(rate, 1.0 / rate); days * 24].into(),
        }
    }

    /// A rate of `per_day[d]` a day on each simulated day `d` (a
    /// homogeneous source whose rate changes on dates).
    pub fn by_day(per_day: &[f64]) -> ArrivalProfile {
        let cells: Vec<(f64, f64)> = per_day
            .iter()
            .flat_map(|&r| {
                let rate = r / 24.0;
                std::iter::repeat_n((rate, 1.0 / rate), 24)
            })
            .collect();
        ArrivalProfile {
            cells: cells.into(),
        }
    }

    /// The profile with yearly growth `g` (`docs/model.md`, "Demand
    /// growth"): each clock hour's rate times the mean growth multiplier
    /// over that hour. Unchanged, to the bit, when `g` is 0.
    pub fn grown(self, g: &crate::scenario::GrowthSpec) -> ArrivalProfile {
        if !g.grows() {
            return self;
        }
        let cells: Vec<(f64, f64)> = self
            .cells
            .iter()
            .enumerate()
            .map(|(h, cell)| {
                let rate = cell.0 * g.hour_factor(h as f64);
                (rate, 1.0 / rate)
            })
            .collect();
        ArrivalProfile {
            cells: cells.into(),
        }
    }

    /// Expected arrivals in `[from, to)` hours (whole hours of the profile
    /// and the parts of the first and last).
    #[cfg(test)]
    pub fn integral(&self, from: f64, to: f64) -> f64 {
        let mut total = 0.0;
        let mut h = from.max(0.0).floor() as usize;
        while let Some(&(rate, _)) = self.cells.get(h) {
            let (a, b) = ((h as f64).max(from), ((h + 1) as f64).min(to));
            if b <= a {
                break;
            }
            total += rate * (b - a);
            h += 1;
        }
        total
    }

    /// Crises per hour in the clock hour containing `t` (`t >= 0`).
    #[cfg(test)]
    pub fn rate(&self, t: f64) -> f64 {
        self.cells.get(t as usize).map_or(0.0, |c| c.0)
    }

    /// The next arrival after `t`, the time of the stream's last arrival (or
    /// zero), given a unit-exponential draw `e`, by inverting the integrated
    /// rate hour by hour; `None` if it falls at or after `end`. `cursor` is
    /// the stream's, and `t` must lie in (or, rounded, at the end of) its
    /// hour.
    #[inline]
    pub fn next_arrival(
        &self,
        cursor: &mut ArrivalCursor,
        t: f64,
        e: f64,
        end: f64,
    ) -> Option<f64> {
        // Most often the next arrival is in the same hour.
        if let Some(&(rate, hours_per_crisis)) = self.cells.get(cursor.hour)
            && t < end
            && rate * (cursor.hour_end - t) > e
        {
            let next = t + e * hours_per_crisis;
            return (next < end).then_some(next);
        }
        self.next_arrival_later(cursor, t, e, end)
    }

    /// `next_arrival` in general, hour by hour.
    #[inline(never)]
    fn next_arrival_later(
        &self,
        cursor: &mut ArrivalCursor,
        mut t: f64,
        mut e: f64,
        end: f64,
    ) -> Option<f64> {
        let mut hour = cursor.hour;
        while t < end {
            let (rate, hours_per_crisis) = *self.cells.get(hour)?;
            let cell_end = (hour + 1) as f64;
            let mass = rate * (cell_end - t);
            if mass > e {
                cursor.hour = hour;
                cursor.hour_end = cell_end;
                let next = t + e * hours_per_crisis;
                return (next < end).then_some(next);
            }
            e -= mass;
            t = cell_end;
            hour += 1;
        }
        None
    }
}

/// Acute beds available on each simulated day (capacity changes applied: from
/// 00:00 on `from` to 24:00 on `to`, the last listed change winning).
pub fn beds_by_day(acute: &Acute, start: Date, days: usize) -> Vec<u32> {
    beds_by_day_of(acute.beds, &acute.capacity_changes, start, days)
}

/// Beds available on each simulated day from `beds` and dated `changes`
/// (the rule of [`beds_by_day`], for any bed type).
pub fn beds_by_day_of(beds: u32, changes: &[CapacityChange], start: Date, days: usize) -> Vec<u32> {
    (0..days)
        .map(|d| {
            let date = start.add_days(d as i64);
            covering(changes, date).next().map_or(beds, |c| c.beds)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::EVERY_DAY;

    fn tuesday() -> Date {
        Date::parse("2025-04-01").unwrap()
    }

    /// A grown profile's rate integrates, year by year, to the smooth
    /// growth's integral (the hour means add up exactly), and growth 0
    /// leaves every cell's bits alone.
    #[test]
    fn growth_integrates_to_the_smooth_rate() {
        let year = crate::scenario::GROWTH_YEAR_HOURS;
        let g = 0.03;
        let p = ArrivalProfile::flat(24.0, 800).grown(&crate::scenario::GrowthSpec::Rate(g));
        for k in 0..2 {
            let (a, b) = (k as f64 * year, (k + 1) as f64 * year);
            let smooth = year * g / (1.0_f64 + g).ln() * (1.0_f64 + g).powi(k);
            let got = p.integral(a, b);
            assert!((got / smooth - 1.0).abs() < 1e-9, "{k}: {got} {smooth}");
        }
        // Within an hour the rate is the hour's mean: between the ends.
        let h = 5000.0;
        let r = p.rate(h + 0.5);
        assert!(r > (1.0_f64 + g).powf(h / year) && r < (1.0_f64 + g).powf((h + 1.0) / year));
        let demand = Demand {
            crises_per_day: 218.5,
            frail_share: 0.1,
            hour_of_day: std::array::from_fn(|i| 1.0 + i as f64 / 10.0),
            day_of_week: [1.1, 1.0, 1.0, 1.0, 1.0, 0.9, 1.0],
            month_of_year: [1.0; 12],
        };
        let plain = ArrivalProfile::new(&demand, tuesday(), 30);
        let zero = ArrivalProfile::new(&demand, tuesday(), 30)
            .grown(&crate::scenario::GrowthSpec::Rate(0.0));
        let bits = |p: &ArrivalProfile| {
            p.cells
                .iter()
                .map(|c| (c.0.to_bits(), c.1.to_bits()))
                .collect::<Vec<_>>()
        };
        assert_eq!(bits(&plain), bits(&zero));
    }

    /// Dated discharge hours that name the hours already in force give the
    /// weekly schedule's openings to the bit (numbers aside: a dated
    /// schedule numbers the run's intervals), and a change takes effect at
    /// 00:00 of its date.
    #[test]
    fn dated_discharge_hours() {
        let weekday = ClockWindow::parse("08:00-20:00").unwrap();
        let weekend = ClockWindow::parse("00:00-24:00").unwrap();
        let date = |d: i64| tuesday().add_days(d);
        let weekly = DischargeHours::new(tuesday(), weekday, weekend, &[], 60);
        let same = DischargeHours::new(
            tuesday(),
            weekday,
            weekend,
            &[DischargeChange {
                from: date(3),
                to: date(40),
                weekday: Some(weekday),
                weekend: None,
            }],
            60,
        );
        let mut t = 0.0;
        while t < 24.0 * 55.0 {
            let (a, b) = (weekly.opening(t), same.opening(t));
            match (a, b) {
                (Opening::Now, Opening::Now) => {}
                (Opening::Starting { index: i }, Opening::Starting { index: j }) => {
                    assert_eq!(weekly.opening_time(i), same.opening_time(j));
                }
                (Opening::At { time: x, .. }, Opening::At { time: y, .. }) => {
                    assert_eq!(x.to_bits(), y.to_bits(), "{t}");
                }
                _ => panic!("{t}: {a:?} {b:?}"),
            }
            t += 0.25;
        }
        // Closed all day from day 10 (a Friday) to day 12: a patient ready
        // at 19:00 on day 9 leaves at once; at 21:00 they wait to day 13.
        let closed = DischargeHours::new(
            tuesday(),
            weekday,
            weekend,
            &[DischargeChange {
                from: date(10),
                to: date(12),
                weekday: Some(ClockWindow::Never),
                weekend: Some(ClockWindow::Never),
            }],
            60,
        );
        assert_eq!(closed.opening(9.0 * 24.0 + 19.0), Opening::Now);
        match closed.opening(9.0 * 24.0 + 21.0) {
            Opening::At { time, .. } => assert_eq!(time, 13.0 * 24.0 + 8.0),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn service_hours_and_next_opening() {
        let w = ClockWindow::parse("08:00-20:00").unwrap();
        let s = WeeklySchedule::service(tuesday(), w, &EVERY_DAY);
        assert!(!s.is_open(7.99));
        assert!(s.is_open(8.0));
        assert!(!s.is_open(20.0));
        assert_eq!(s.next_open(3.0), Some(8.0));
        assert_eq!(s.next_open(21.0), Some(32.0));
        assert_eq!(s.next_open(10.0), Some(10.0));
        assert!((s.open_hours_between(0.0, 24.0 * 10.0) - 120.0).abs() < 1e-9);
        assert!((s.open_hours_between(9.0, 33.0) - 12.0).abs() < 1e-9);
    }

    /// `opening` agrees with `next_open` to the bit, and its numbers rise
    /// with the openings' times.
    #[test]
    fn openings_are_numbered_in_order() {
        let weekday = ClockWindow::parse("08:00-20:00").unwrap();
        let weekend = ClockWindow::parse("09:00-17:00").unwrap();
        let crossing = ClockWindow::parse("20:00-08:00").unwrap();
        for s in [
            WeeklySchedule::discharge(tuesday(), weekday, weekend),
            WeeklySchedule::discharge(tuesday(), crossing, weekend),
            WeeklySchedule::discharge(tuesday(), weekday, ClockWindow::Never),
        ] {
            let mut last: Option<(f64, u64)> = None;
            let mut starts = 0;
            let mut t = 0.0;
            while t < 24.0 * 60.0 {
                match s.opening(t) {
                    Opening::Now => assert_eq!(s.next_open(t), Some(t), "{t}"),
                    Opening::Starting { index } => {
                        assert_eq!(s.opening_time(index), t);
                        assert_eq!(s.next_open(t), Some(t), "{t}");
                        starts += 1;
                    }
                    Opening::At { time, index } => {
                        assert_eq!(s.next_open(t).map(f64::to_bits), Some(time.to_bits()));
                        assert!(time > t && !s.is_open(t) && s.is_open(time));
                        assert_eq!(s.opening_time(index).to_bits(), time.to_bits());
                        if let Some((last_time, last_index)) = last {
                            if time == last_time {
                                assert_eq!(index, last_index);
                            } else {
                                // An interval that starts a week where the
                                // last one ended is no opening: its number
                                // is skipped.
                                assert!(time > last_time);
                                assert!(index > last_index && index <= last_index + 2, "{t}");
                            }
                        }
                        last = Some((time, index));
                    }
                    Opening::Never => panic!("opens every week"),
                }
                t += 0.25;
            }
            // The quarter-hour grid hits every opening instant: five or more a
            // week for 60 days.
            assert!(starts >= 40, "{starts}");
        }
        let never = WeeklySchedule::service(tuesday(), ClockWindow::Never, &EVERY_DAY);
        assert_eq!(never.opening(5.0), Opening::Never);
    }

    #[test]
    fn weekday_only_and_crossing_midnight() {
        // Start Tuesday; open Mon-Fri 20:00-08:00 by the calendar date rule.
        let days = [true, true, true, true, true, false, false];
        let w = ClockWindow::parse("20:00-08:00").unwrap();
        let s = WeeklySchedule::service(tuesday(), w, &days);
        // Saturday 2025-04-05 02:00 is day 4 -> t = 4*24+2: closed (Saturday).
        assert!(!s.is_open(4.0 * 24.0 + 2.0));
        // Friday 23:00 open.
        assert!(s.is_open(3.0 * 24.0 + 23.0));
        // From Saturday 02:00 the next opening is Monday 00:00 (day 6).
        assert_eq!(s.next_open(4.0 * 24.0 + 2.0), Some(6.0 * 24.0));
        let never = WeeklySchedule::service(tuesday(), ClockWindow::Never, &EVERY_DAY);
        assert_eq!(never.next_open(5.0), None);
        let always = WeeklySchedule::service(tuesday(), ClockWindow::Always, &EVERY_DAY);
        assert_eq!(always.next_open(1234.5), Some(1234.5));
        assert!((always.open_hours_between(10.0, 1000.0) - 990.0).abs() < 1e-9);
    }

    /// The hour table gives what a scan of every interval gives, at
    /// instants on and near interval ends inside an hour (minute windows)
    /// and at arbitrary instants over several weeks.
    #[test]
    fn hour_table_matches_a_scan() {
        let days = [true, false, true, true, false, true, true];
        let windows = [
            "08:10-19:50",
            "20:05-08:00",
            "00:00-00:30",
            "23:59-00:01",
            "06:00-24:00",
        ];
        let mut x: u64 = 77;
        for (k, w) in windows.iter().enumerate() {
            let w = ClockWindow::parse(w).unwrap();
            let other = ClockWindow::parse(windows[(k + 1) % windows.len()]).unwrap();
            for s in [
                WeeklySchedule::service(tuesday(), w, &days),
                WeeklySchedule::discharge(tuesday(), w, other),
            ] {
                let mut times: Vec<f64> = Vec::new();
                for &(a, b) in &s.intervals {
                    for week in 0..3 {
                        let base = week as f64 * WEEK_HOURS;
                        times.extend(
                            [a, b]
                                .iter()
                                .flat_map(|&e| [base + e, base + e - 1e-9, base + e + 1e-9]),
                        );
                    }
                }
                for _ in 0..5000 {
                    x = x
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    times.push((x >> 11) as f64 / (1u64 << 53) as f64 * 4.0 * WEEK_HOURS);
                }
                for t in times.into_iter().filter(|&t| t >= 0.0) {
                    let (_, week_start, w) = WeeklySchedule::split(t);
                    let scan_open = s.intervals.iter().any(|&(a, b)| a <= w && w < b);
                    assert_eq!(s.is_open(t), scan_open, "{t}");
                    let scan_next = s
                        .intervals
                        .iter()
                        .find(|&&(_, b)| w < b)
                        .map(|&(a, _)| if w >= a { t } else { week_start + a })
                        .or(s
                            .intervals
                            .first()
                            .map(|&(a, _)| week_start + WEEK_HOURS + a));
                    assert_eq!(s.next_open(t), scan_next, "{t}");
                }
            }
        }
    }
}

//! Results by planning year (`docs/model.md`, "Results by year").
//!
//! A replication whose window is longer than 365 days runs once more with
//! its statistics window moving from one planning year to the next: at the
//! end of each year its metrics are taken exactly as at the end of a run,
//! then every accumulator restarts as it stands at the start of a run whose
//! window is the next year (counts and integrals zero, levels at their
//! values). The patients, queues and random streams are untouched, so each
//! year's metrics are those of a run whose statistics window is that year,
//! number for number (`tests/it/yearly.rs` checks it).
//!
//! Whatever a service records must restart here: a new accumulator of a
//! service is one more line in [`Sim::restart_statistics`].

use super::{Event, Sim};
use crate::model::metrics::Metrics;
use crate::model::observe::WaitMean;
use crate::model::trace::Tracer;

impl<'p, T: Tracer> Sim<'p, T> {
    /// Whether the statistics window moves from year to year.
    #[inline]
    pub(super) fn by_year(&self) -> bool {
        !self.process_ahead.is_empty()
    }

    /// Before anything else is scheduled: the end of every planning year
    /// but the last, first in the order of events due at its instant (the
    /// events at a year's end belong to the next year); then the first
    /// year's statistics window.
    pub(super) fn start_years(&mut self) {
        let years = &self.prepared.years;
        if years.is_empty() {
            return;
        }
        for (year, _) in &years[..years.len() - 1] {
            self.ws.queue.schedule(year.end_hours, Event::YearEnd);
        }
        self.years = years;
        self.process_ahead = vec![0.0; years.len()];
        self.enter_year(0);
    }

    /// The planning year `index` becomes the statistics window: `p` is the
    /// scenario prepared with that window (the same in all else).
    fn enter_year(&mut self, index: usize) {
        self.year = index;
        self.prepared = &self.years[index].1;
    }

    /// The end of the current planning year: its metrics, then the next.
    pub(super) fn on_year_end(&mut self) {
        let metrics = self.window_metrics();
        self.yearly.push(metrics);
        let next = self.year + 1;
        self.restart_statistics(next);
        self.enter_year(next);
    }

    /// Process-delay bed-hours over `[from, to)`, known in advance (a
    /// patient's delay is drawn when they take a bed): counted in the
    /// window, and, moving from year to year, kept for each later year it
    /// reaches, as a run whose window is that year would count it.
    #[inline]
    pub(super) fn process_interval(&mut self, from: f64, to: f64) {
        let window = self.prepared.window;
        self.beds.process_level.add_interval(from, to, &window);
        if self.by_year() {
            self.process_ahead_add(from, to);
        }
    }

    #[cold]
    fn process_ahead_add(&mut self, from: f64, to: f64) {
        for (k, (_, view)) in self.years.iter().enumerate().skip(self.year + 1) {
            self.process_ahead[k] += view.window.overlap(from, to);
        }
    }

    /// Every accumulator of the metrics as a run whose statistics window
    /// starts now finds it there: counts, sums and integrals zero (the
    /// process delays already known into year `next` excepted), levels
    /// keeping their values.
    fn restart_statistics(&mut self, next: usize) {
        self.counts = Metrics::default();
        for series in &mut self.daily {
            series.clear();
        }
        self.ws.bed_waits.clear();

        let beds = &mut self.beds;
        beds.occupied_level.restart(0.0);
        beds.full_level.restart(0.0);
        beds.available_level.restart(0.0);
        for level in &mut beds.capacity_level {
            level.restart(0.0);
        }
        beds.process_level.restart(self.process_ahead[next]);
        beds.fit_at_midnight = 0.0;
        beds.stranded_at_midnight = 0.0;
        beds.super_stranded_at_midnight = 0.0;
        beds.ready_to_leave = WaitMean::default();
        beds.stays_ended = 0;
        beds.stays_under_a_day = 0;

        self.pru.busy_level.restart(0.0);
        let community = &mut self.community;
        community.held_level.restart(0.0);
        community.waiting_level.restart(0.0);
        community.waits = Default::default();
        self.rehab.level.restart(0.0);
        self.rehab.waits = WaitMean::default();
        let care_homes = &mut self.care_homes;
        care_homes.level.restart(0.0);
        care_homes.waits = WaitMean::default();
        care_homes.admissions = 0;
        let mh = &mut self.mental_health;
        mh.occupied_level.restart(0.0);
        mh.available_level.restart(0.0);
        mh.out_of_area_level.restart(0.0);
        mh.crht_level.restart(0.0);
        mh.delayed_level.restart(0.0);
        mh.supported_waits = WaitMean::default();
        self.home_care.level.restart(0.0);
        self.home_care.waits = WaitMean::default();
    }
}

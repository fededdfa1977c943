//! What the model records inside the statistics window `[warm_up, warm_up + horizon)`.
//!
//! Counts are taken for events inside the window; time averages integrate
//! only the part of each interval inside it; a wait is recorded when it ends
//! inside the window (zero waits included).

/// A piecewise-constant quantity (beds occupied, cars busy) integrated over
/// the window. O(1) per change.
#[derive(Clone, Copy, Debug, Default)]
pub struct Level {
    value: f64,
    since: f64,
    area: f64,
}

impl Level {
    /// The current value.
    #[inline]
    pub fn value(&self) -> f64 {
        self.value
    }

    /// Sets the value from time `t` on, integrating the old value up to `t`
    /// over the part of `[since, t)` inside `window`.
    #[inline]
    pub fn set(&mut self, t: f64, value: f64, window: &StatsWindow) {
        self.area += self.value * window.overlap(self.since, t);
        self.since = t;
        self.value = value;
    }

    /// Adds `delta` to the value from time `t` on.
    #[inline]
    pub fn add(&mut self, t: f64, delta: f64, window: &StatsWindow) {
        self.set(t, self.value + delta, window);
    }

    /// Adds one unit over `[from, to)` to the integral without changing the
    /// value: for a stay whose start and end are both known in advance.
    #[inline]
    pub fn add_interval(&mut self, from: f64, to: f64, window: &StatsWindow) {
        self.area += window.overlap(from, to);
    }

    /// Restarts the integral at `area`, keeping the value: for a window
    /// that starts now (`sim/yearly.rs`).
    pub fn restart(&mut self, area: f64) {
        self.area = area;
    }

    /// The integral over the window up to its end (value x hours).
    pub fn area_at_end(&self, window: &StatsWindow) -> f64 {
        self.area + self.value * window.overlap(self.since, window.end)
    }
}

/// The statistics window, hours.
#[derive(Clone, Copy, Debug)]
pub struct StatsWindow {
    pub start: f64,
    pub end: f64,
}

impl StatsWindow {
    /// Whether an instant lies inside `[start, end)`.
    #[inline]
    pub fn contains(&self, t: f64) -> bool {
        self.start <= t && t < self.end
    }

    /// Length of `[a, b)` inside the window.
    #[inline]
    pub fn overlap(&self, a: f64, b: f64) -> f64 {
        // Plain comparisons, not f64::min/max: times are never NaN, and this
        // compiles to bare minsd/maxsd on the hot path.
        let lo = if a > self.start { a } else { self.start };
        let hi = if b < self.end { b } else { self.end };
        if hi > lo { hi - lo } else { 0.0 }
    }

    pub fn hours(&self) -> f64 {
        self.end - self.start
    }
}

/// Sum and count of waits, for a mean (0 over no waits, per `docs/model.md`).
#[derive(Clone, Copy, Debug, Default)]
pub struct WaitMean {
    sum: f64,
    count: u64,
}

impl WaitMean {
    #[inline]
    pub fn record(&mut self, wait: f64) {
        self.sum += wait;
        self.count += 1;
    }

    pub fn mean(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum / self.count as f64
        }
    }
}

//! Dated values in a replication (`docs/model.md`, "Dated values"): the
//! scenario in force in each period between the dates its values change,
//! and each dated rate's base value on each simulated day.

use crate::scenario::dated::{DatedKey, names, value_on, values_on};
use crate::scenario::{DatedValue, Scenario};

/// The periods of `sc` over `days` simulated days: (first day, the
/// scenario with the values in force on it), the first on day 0; empty
/// without `[[rate_changes]]`. A new period starts on each day whose values
/// differ from the day before.
pub fn periods(sc: &Scenario, days: usize) -> Vec<(u32, Scenario)> {
    if sc.rate_changes.is_empty() {
        return Vec::new();
    }
    let mut base = sc.clone();
    let changes = std::mem::take(&mut base.rate_changes);
    let mut out: Vec<(u32, Scenario)> = Vec::new();
    let mut last: Option<Vec<Option<DatedValue>>> = None;
    for d in 0..days.max(1) {
        let date = sc.start_date.add_days(d as i64);
        let values: Vec<Option<DatedValue>> = DatedKey::ALL
            .iter()
            .map(|&k| value_on(&sc.rate_changes, k, date))
            .collect();
        if last.as_ref() != Some(&values) {
            out.push((d as u32, values_on(&base, &changes, date)));
            last = Some(values);
        }
    }
    out
}

/// The base value (without growth) of the rate `key` on each of `days`
/// simulated days; `None` when no change names it.
pub fn rate_by_day(sc: &Scenario, key: DatedKey, days: usize) -> Option<Vec<f64>> {
    if !names(&sc.rate_changes, key) {
        return None;
    }
    let base = key.get(sc).map_or(0.0, DatedKey::number);
    Some(
        (0..days)
            .map(|d| {
                let date = sc.start_date.add_days(d as i64);
                value_on(&sc.rate_changes, key, date).map_or(base, DatedKey::number)
            })
            .collect(),
    )
}

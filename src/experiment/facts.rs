//! The facts of a loaded scenario that its report reads
//! ([`ScenarioFacts`], `run.json`'s `scenario_facts`): filled in here, from
//! the scenario as the run loaded it, so that the report never loads it.

use crate::model::Prepared;
use crate::report::facts::{
    BedCalendar, BedChange, CalibrationRecord, Capacity, Divisor, MentalHealthFacts, ScenarioFacts,
    Timing,
};
use crate::scenario::calendar::ClockWindow;
use crate::scenario::calibration::{Quantity, Target};
use crate::scenario::{CapacityChange, LoadedScenario, Scenario};

/// The facts of `loaded` (prepared as `prepared`) a report needs.
pub fn scenario_facts(loaded: &LoadedScenario, prepared: &Prepared) -> ScenarioFacts {
    let s = &loaded.scenario;
    ScenarioFacts {
        name: s.name.clone(),
        description: s.description.clone(),
        timing: timing(s, prepared),
        capacity: Capacity {
            pru_cars: beds(s.pru.cars, &s.pru.capacity_changes),
            frailty_unit_slots: beds(s.frailty_unit.slots, &s.frailty_unit.capacity_changes),
            acute_beds: beds(s.acute.beds, &s.acute.capacity_changes),
            community_teams: beds(s.community.teams, &s.community.capacity_changes),
            community_caseload_per_team: s.community.caseload_per_team,
            rehab_beds: beds(s.rehab.beds, &s.rehab.capacity_changes),
            care_home_beds: beds(s.care_homes.beds, &s.care_homes.capacity_changes),
            home_care_packages: s
                .home_care
                .as_ref()
                .map(|h| beds(h.packages, &h.capacity_changes)),
        },
        community_priority: s
            .community
            .priority
            .iter()
            .map(|c| c.name().to_string())
            .collect(),
        mental_health: s.mental_health.as_ref().map(|mh| MentalHealthFacts {
            beds: beds(mh.beds, &mh.capacity_changes),
            crht_places: mh.crht.places,
            crht_open: mh.crht.open != ClockWindow::Never,
        }),
        sources: loaded.sources.clone(),
        calibration: loaded
            .calibration
            .iter()
            .map(|t| calibration(t, s))
            .collect(),
        parameters: loaded.doc.parameters(),
        uncertain_values: loaded
            .uncertainty
            .as_ref()
            .map(|u| u.record().recorded())
            .unwrap_or_default(),
    }
}

/// The run settings of `s` (prepared as `prepared`) and the window they
/// give.
pub fn timing(s: &Scenario, prepared: &Prepared) -> Timing {
    Timing {
        seed: s.seed,
        replications: s.replications,
        warm_up_hours: s.warm_up_hours,
        horizon_hours: s.horizon_hours,
        start_date: s.start_date,
        first_day: prepared.first_day(),
        days: prepared.days_in_window(),
    }
}

fn beds(beds: u32, changes: &[CapacityChange]) -> BedCalendar {
    BedCalendar {
        beds,
        changes: changes
            .iter()
            .map(|c| BedChange {
                from: c.from,
                to: c.to,
                beds: c.beds,
            })
            .collect(),
    }
}

pub(crate) fn calibration(t: &Target, s: &Scenario) -> CalibrationRecord {
    let (metric, divisor) = match t.quantity {
        Quantity::Metric(m) => (m, Divisor::One),
        Quantity::PerDay(m) => (m, Divisor::Day),
        Quantity::Ratio(a, b) => (a, Divisor::Metric(b)),
        Quantity::Over(m, v) => (m, Divisor::Value(v.of(s))),
    };
    CalibrationRecord {
        name: t.name.clone(),
        quantity: t.quantity.text(),
        metric,
        divisor,
        target: t.target,
        low: t.low,
        high: t.high,
        source: t.source.clone(),
    }
}

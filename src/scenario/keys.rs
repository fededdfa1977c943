//! Every key of the scenario format, as dotted paths (`pru.cars`), for the
//! checks that name keys in text rather than in table structure: the
//! `[sources]` table, and the report's parameter table.
//!
//! The raw structs in `raw.rs` define the format for the loader; this list
//! restates it as paths. A test (`keys_match_the_format`) walks
//! `tests/data/scenarios/full.toml`, which sets every key, and checks that
//! the two agree, so the list cannot drift from the format unnoticed.

use super::dist::dist_parameter_names;

/// Every table and value key of format v1 (plus `sources` additions), in
/// the order of `docs/scenario-format.md`. Keys whose value is a distribution table are
/// in [`DIST_KEYS`] instead; the keys of a distribution (`.dist`, `.mean`,
/// ...) are derived from the families.
pub(crate) const SCENARIO_KEYS: &[&str] = &[
    "scenario",
    "scenario.name",
    "scenario.description",
    "scenario.start_date",
    "scenario.warm_up",
    "scenario.horizon",
    "scenario.replications",
    "scenario.seed",
    "demand",
    "demand.crises_per_day",
    "demand.frail_share",
    "demand.hour_of_day",
    "demand.day_of_week",
    "demand.month_of_year",
    "pru",
    "pru.cars",
    "pru.open",
    "pru.days",
    "pru.eligible_share",
    "pru.treated_at_home",
    "pru.community_follow_up",
    "frailty_unit",
    "frailty_unit.slots",
    "frailty_unit.open",
    "frailty_unit.days",
    "frailty_unit.discharged_same_day",
    "frailty_unit.community_follow_up",
    "ed",
    "ed.frail_admit_share",
    "ed.other_admit_share",
    "acute",
    "acute.beds",
    "acute.discharge_hours",
    "acute.weekend_discharge_hours",
    "acute.los",
    "acute.capacity_changes",
    "pathways",
    "pathways.frail",
    "pathways.frail.p0",
    "pathways.frail.p1",
    "pathways.frail.p2",
    "pathways.frail.p3",
    "pathways.other",
    "pathways.other.p0",
    "pathways.other.p1",
    "pathways.other.p2",
    "pathways.other.p3",
    "pathways.process_delay",
    "community",
    "community.teams",
    "community.caseload_per_team",
    "community.referrals_per_day",
    "community.priority",
    "community.episode",
    "rehab",
    "rehab.beds",
    "rehab.community_follow_up",
    "care_homes",
    "care_homes.beds",
    "care_homes.initial_occupancy",
    "care_homes.community_placements_per_day",
    "care_homes.hospital_first",
    "care_homes.crises_per_resident_year",
    "care_homes.red_bag",
    "care_homes.red_bag.enabled",
    "care_homes.red_bag.los_reduction",
    "care_homes.red_bag.min_los",
    "readmission",
    "readmission.window",
    "readmission.p0",
    "readmission.p1",
    "readmission.p2",
];

/// Keys whose value is a distribution table.
pub(crate) const DIST_KEYS: &[&str] = &[
    "pru.visit",
    "frailty_unit.assessment",
    "acute.los.frail",
    "acute.los.other",
    "pathways.process_delay.p1",
    "pathways.process_delay.p2",
    "pathways.process_delay.p3",
    "community.episode.discharge",
    "community.episode.avoidance",
    "community.episode.community",
    "rehab.stay",
    "care_homes.stay",
];

/// Whether `key` is a key of the format: a listed key, a distribution key,
/// or a distribution key followed by `dist` or a parameter of any family
/// (the family in force may differ between a base and a plan, so any
/// family's parameter is accepted).
pub(crate) fn is_known_key(key: &str) -> bool {
    if SCENARIO_KEYS.contains(&key) || DIST_KEYS.contains(&key) {
        return true;
    }
    match key.rsplit_once('.') {
        Some((head, last)) if DIST_KEYS.contains(&head) => {
            last == "dist" || dist_parameter_names().contains(&last)
        }
        _ => false,
    }
}

/// Every known key written out (distribution parameters included), for
/// "did you mean" suggestions.
pub(crate) fn all_known_keys() -> Vec<String> {
    let mut keys: Vec<String> = SCENARIO_KEYS.iter().map(|k| k.to_string()).collect();
    for d in DIST_KEYS {
        keys.push(d.to_string());
        keys.push(format!("{d}.dist"));
        for p in dist_parameter_names() {
            keys.push(format!("{d}.{p}"));
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::tree::{Node, Value};
    use std::path::Path;

    /// Dotted paths of every table and value in `node`, not descending into
    /// distribution tables or arrays.
    fn paths(prefix: &str, node: &Node, out: &mut Vec<String>) {
        if let Value::Table(t) = &node.value {
            if t.contains_key("dist") {
                return;
            }
            for (k, e) in t {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                out.push(p.clone());
                paths(&p, &e.node, out);
            }
        }
    }

    #[test]
    fn keys_match_the_format() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/scenarios/full.toml");
        let doc = crate::scenario::ScenarioDoc::read(&path).expect("full.toml loads");
        doc.to_scenario().expect("full.toml is valid");
        let mut found = Vec::new();
        paths("", &doc.root_node(), &mut found);
        found.sort();
        let mut listed: Vec<String> = SCENARIO_KEYS
            .iter()
            .chain(DIST_KEYS)
            .map(|k| k.to_string())
            .collect();
        listed.sort();
        assert_eq!(found, listed, "full.toml sets every key of the format");
        assert!(is_known_key("acute.los.frail.sd"));
        assert!(is_known_key("rehab.stay.dist"));
        assert!(!is_known_key("rehab.stay.mode_"));
        assert!(!is_known_key("pru.car"));
    }
}

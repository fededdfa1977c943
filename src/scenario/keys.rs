//! Every key of the scenario format, as dotted paths (`pru.cars`), in the
//! documentation's order: what the `[sources]` table may cite (with its
//! suggestions) and the order the resolved TOML is written in.
//!
//! The raw structs in `raw.rs` define the format for the loader; this list
//! restates it as paths. A test (`keys_match_the_format`) walks
//! `tests/data/scenarios/full.toml`, which sets every key, and checks that
//! the two agree, so the list cannot drift from the format unnoticed.

use super::dist::dist_parameter_names;

/// What a key of the format holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    /// A table of further keys.
    Table,
    /// A single value (or an array of values, or an inline table of shares).
    Value,
    /// A distribution table (`{ dist = "gamma", mean = ... }`): its keys are
    /// `dist` and the families' parameters.
    Dist,
    /// A key of each table of an array of tables (`[[acute.capacity_changes]]`):
    /// ordered like the others, but not citable in `[sources]`.
    Item,
    /// `[sources]`: citations about the other keys, not a key of the model.
    Sources,
}

use Shape::{Dist as DIST, Item as ITEM, Sources as SOURCES, Table as TABLE, Value as VALUE};

/// Every key of format v1, in the order of `docs/scenario-format.md` (the
/// resolved TOML is written in this order). The one list of the format's
/// keys: `[sources]` checks and its suggestions, and the writer's key order,
/// are derived from it; `keys_match_the_format` checks it against the raw
/// structs through `tests/data/scenarios/full.toml`.
pub(crate) const FORMAT: &[(&str, Shape)] = &[
    ("scenario", TABLE),
    ("scenario.name", VALUE),
    ("scenario.description", VALUE),
    ("scenario.start_date", VALUE),
    ("scenario.warm_up", VALUE),
    ("scenario.horizon", VALUE),
    ("scenario.replications", VALUE),
    ("scenario.seed", VALUE),
    ("demand", TABLE),
    ("demand.crises_per_day", VALUE),
    ("demand.frail_share", VALUE),
    ("demand.hour_of_day", VALUE),
    ("demand.day_of_week", VALUE),
    ("demand.month_of_year", VALUE),
    ("pru", TABLE),
    ("pru.cars", VALUE),
    ("pru.open", VALUE),
    ("pru.days", VALUE),
    ("pru.eligible_share", VALUE),
    ("pru.visit", DIST),
    ("pru.treated_at_home", VALUE),
    ("pru.community_follow_up", VALUE),
    ("pru.capacity_changes", VALUE),
    ("pru.capacity_changes.from", ITEM),
    ("pru.capacity_changes.to", ITEM),
    ("pru.capacity_changes.cars", ITEM),
    ("pru.capacity_changes.open", ITEM),
    ("pru.capacity_changes.days", ITEM),
    ("frailty_unit", TABLE),
    ("frailty_unit.slots", VALUE),
    ("frailty_unit.open", VALUE),
    ("frailty_unit.days", VALUE),
    ("frailty_unit.assessment", DIST),
    ("frailty_unit.discharged_same_day", VALUE),
    ("frailty_unit.community_follow_up", VALUE),
    ("frailty_unit.capacity_changes", VALUE),
    ("frailty_unit.capacity_changes.from", ITEM),
    ("frailty_unit.capacity_changes.to", ITEM),
    ("frailty_unit.capacity_changes.slots", ITEM),
    ("frailty_unit.capacity_changes.open", ITEM),
    ("frailty_unit.capacity_changes.days", ITEM),
    ("ed", TABLE),
    ("ed.frail_admit_share", VALUE),
    ("ed.other_admit_share", VALUE),
    ("ed.home_treatable_admit_share", VALUE),
    ("acute", TABLE),
    ("acute.beds", VALUE),
    ("acute.discharge_hours", VALUE),
    ("acute.weekend_discharge_hours", VALUE),
    ("acute.los", TABLE),
    ("acute.los.frail", DIST),
    ("acute.los.other", DIST),
    ("acute.capacity_changes", VALUE),
    ("acute.capacity_changes.from", ITEM),
    ("acute.capacity_changes.to", ITEM),
    ("acute.capacity_changes.beds", ITEM),
    ("acute.capacity_changes.discharge_hours", ITEM),
    ("acute.capacity_changes.weekend_discharge_hours", ITEM),
    ("pathways", TABLE),
    ("pathways.frail", TABLE),
    ("pathways.frail.p0", VALUE),
    ("pathways.frail.p1", VALUE),
    ("pathways.frail.p2", VALUE),
    ("pathways.frail.p3", VALUE),
    ("pathways.other", TABLE),
    ("pathways.other.p0", VALUE),
    ("pathways.other.p1", VALUE),
    ("pathways.other.p2", VALUE),
    ("pathways.other.p3", VALUE),
    ("pathways.process_delay", TABLE),
    ("pathways.process_delay.p1", DIST),
    ("pathways.process_delay.p2", DIST),
    ("pathways.process_delay.p3", DIST),
    ("community", TABLE),
    ("community.teams", VALUE),
    ("community.caseload_per_team", VALUE),
    ("community.referrals_per_day", VALUE),
    ("community.priority", VALUE),
    ("community.episode", TABLE),
    ("community.episode.discharge", DIST),
    ("community.episode.avoidance", DIST),
    ("community.episode.community", DIST),
    ("community.capacity_changes", VALUE),
    ("community.capacity_changes.from", ITEM),
    ("community.capacity_changes.to", ITEM),
    ("community.capacity_changes.teams", ITEM),
    ("rehab", TABLE),
    ("rehab.beds", VALUE),
    ("rehab.stay", DIST),
    ("rehab.community_follow_up", VALUE),
    ("rehab.capacity_changes", VALUE),
    ("rehab.capacity_changes.from", ITEM),
    ("rehab.capacity_changes.to", ITEM),
    ("rehab.capacity_changes.beds", ITEM),
    ("care_homes", TABLE),
    ("care_homes.beds", VALUE),
    ("care_homes.initial_residents", VALUE),
    ("care_homes.initial_occupancy", VALUE),
    ("care_homes.stay", DIST),
    ("care_homes.community_placements_per_day", VALUE),
    ("care_homes.hospital_first", VALUE),
    ("care_homes.search_at_one_free_bed", VALUE),
    ("care_homes.crises_per_resident_year", VALUE),
    ("care_homes.red_bag", TABLE),
    ("care_homes.red_bag.enabled", VALUE),
    ("care_homes.red_bag.los_reduction", VALUE),
    ("care_homes.red_bag.min_los", VALUE),
    ("care_homes.capacity_changes", VALUE),
    ("care_homes.capacity_changes.from", ITEM),
    ("care_homes.capacity_changes.to", ITEM),
    ("care_homes.capacity_changes.beds", ITEM),
    ("home_care", TABLE),
    ("home_care.packages", VALUE),
    ("home_care.capacity_changes", VALUE),
    ("home_care.capacity_changes.from", ITEM),
    ("home_care.capacity_changes.to", ITEM),
    ("home_care.capacity_changes.packages", ITEM),
    ("home_care.package", DIST),
    ("home_care.community_starts_per_day", VALUE),
    ("home_care.hospital_first", VALUE),
    ("home_care.community_follow_up", VALUE),
    ("home_care.initial_packages", VALUE),
    ("readmission", TABLE),
    ("readmission.window", VALUE),
    ("readmission.p0", VALUE),
    ("readmission.p1", VALUE),
    ("readmission.p2", VALUE),
    ("mental_health", TABLE),
    ("mental_health.crises_per_day", VALUE),
    ("mental_health.referrals_per_day", VALUE),
    ("mental_health.liaison_assessment", DIST),
    ("mental_health.ed_admit_share", VALUE),
    ("mental_health.ed_crht_share", VALUE),
    ("mental_health.beds", VALUE),
    ("mental_health.capacity_changes", VALUE),
    ("mental_health.capacity_changes.from", ITEM),
    ("mental_health.capacity_changes.to", ITEM),
    ("mental_health.capacity_changes.beds", ITEM),
    ("mental_health.stay", DIST),
    ("mental_health.out_of_area_after", VALUE),
    ("mental_health.out_of_area_stay", DIST),
    ("mental_health.repatriate", VALUE),
    ("mental_health.process_delay", DIST),
    ("mental_health.pathways", TABLE),
    ("mental_health.pathways.home", VALUE),
    ("mental_health.pathways.supported", VALUE),
    ("mental_health.pathways.care_home", VALUE),
    ("mental_health.crht", TABLE),
    ("mental_health.crht.places", VALUE),
    ("mental_health.crht.open", VALUE),
    ("mental_health.crht.episode", DIST),
    ("mental_health.crht.escalation_share", VALUE),
    ("mental_health.crht.when_full", VALUE),
    ("mental_health.crht.capacity_changes", VALUE),
    ("mental_health.crht.capacity_changes.from", ITEM),
    ("mental_health.crht.capacity_changes.to", ITEM),
    ("mental_health.crht.capacity_changes.places", ITEM),
    ("mental_health.supported_accommodation", TABLE),
    ("mental_health.supported_accommodation.places", VALUE),
    ("mental_health.supported_accommodation.stay", DIST),
    ("mental_health.readmission", TABLE),
    ("mental_health.readmission.window", VALUE),
    ("mental_health.readmission.share", VALUE),
    ("population", TABLE),
    ("population.adults", VALUE),
    ("growth", TABLE),
    ("growth.crises", VALUE),
    ("growth.community_referrals", VALUE),
    ("growth.care_home_placements", VALUE),
    ("growth.mh_crises", VALUE),
    ("growth.mh_referrals", VALUE),
    ("growth.home_care_starts", VALUE),
    ("uncertainty", TABLE),
    ("uncertainty.keep", VALUE),
    ("uncertainty.cutoff", VALUE),
    ("uncertainty.central_replications", VALUE),
    ("uncertainty.max_draws", VALUE),
    ("calibration", VALUE),
    ("calibration.name", ITEM),
    ("calibration.quantity", ITEM),
    ("calibration.target", ITEM),
    ("calibration.range", ITEM),
    ("calibration.source", ITEM),
    ("start", TABLE),
    ("start.census", VALUE),
    ("start.acute_frail", VALUE),
    ("start.acute_other", VALUE),
    ("start.fit_p0", VALUE),
    ("start.fit_p1", VALUE),
    ("start.fit_p2", VALUE),
    ("start.fit_p3", VALUE),
    ("start.ed_frail", VALUE),
    ("start.ed_other", VALUE),
    ("start.rehab", VALUE),
    ("start.community_discharge", VALUE),
    ("start.community_avoidance", VALUE),
    ("start.community_community", VALUE),
    ("start.waiting_discharge", VALUE),
    ("start.waiting_avoidance", VALUE),
    ("start.waiting_community", VALUE),
    ("start.mh_beds", VALUE),
    ("start.mh_out_of_area", VALUE),
    ("sources", SOURCES),
    // `[[rate_changes]]`: its elements' keys are those of `dated.rs`.
    ("rate_changes", VALUE),
];

/// The keys a distribution table may hold, `dist` first, then every
/// family's parameters in the order of the families' table.
pub(crate) fn dist_keys() -> Vec<&'static str> {
    let mut keys = vec!["dist"];
    keys.extend(dist_parameter_names());
    keys
}

/// The format's keys directly below the table at `path` (`[]` for the top
/// level), in the format's order; for a distribution table, [`dist_keys`].
pub(crate) fn child_order(path: &[&str], is_dist: bool) -> Vec<&'static str> {
    if is_dist {
        return dist_keys();
    }
    FORMAT
        .iter()
        .filter_map(|(key, _)| {
            let mut parts = key.split('.');
            let head_matches = path.iter().all(|p| parts.next() == Some(*p));
            let last = parts.next()?;
            (head_matches && parts.next().is_none()).then_some(last)
        })
        .collect()
}

/// Whether `key` names a key of the format that `[sources]` may cite: a
/// table, a value or a distribution of [`FORMAT`], or a distribution key
/// followed by `dist` or a parameter of any family (the family in force may
/// differ between a base and a plan, so any family's parameter is accepted).
pub(crate) fn is_known_key(key: &str) -> bool {
    all_known_keys().iter().any(|k| k == key)
}

/// Every citable key written out (distribution parameters included), for
/// `[sources]` and its "did you mean" suggestions: tables and values in the
/// format's order, then each distribution with its keys (ties between
/// suggestions go to the earlier key).
pub(crate) fn all_known_keys() -> Vec<String> {
    let mut keys: Vec<String> = FORMAT
        .iter()
        .filter(|(_, shape)| matches!(shape, TABLE | VALUE))
        .map(|(key, _)| key.to_string())
        .collect();
    for (key, _) in FORMAT.iter().filter(|(_, shape)| *shape == DIST) {
        keys.push(key.to_string());
        keys.extend(dist_keys().iter().map(|p| format!("{key}.{p}")));
    }
    keys
}

/// Keys that exclude one another where a layer (`extends` file, `--set`,
/// sweep key) that writes one drops the other, inherited
/// (`docs/scenario-format.md`, "Keys that exclude one another").
pub(crate) const EXCLUSIVE: [(&str, &str); 1] = [(
    "care_homes.search_at_one_free_bed",
    "care_homes.hospital_first",
)];

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use toml::de::{DeTable, DeValue};

    /// Dotted paths of every table and value in `table`, not descending into
    /// distribution tables or arrays.
    fn paths(prefix: &str, table: &DeTable<'_>, out: &mut Vec<String>) {
        if table.contains_key("dist") {
            return;
        }
        for (k, v) in table {
            let p = if prefix.is_empty() {
                k.get_ref().to_string()
            } else {
                format!("{prefix}.{}", k.get_ref())
            };
            out.push(p.clone());
            if let DeValue::Table(t) = v.get_ref() {
                paths(&p, t, out);
            }
        }
    }

    #[test]
    fn keys_match_the_format() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/scenarios/full.toml");
        let doc = crate::scenario::ScenarioDoc::read(&path).expect("full.toml loads");
        doc.to_scenario().expect("full.toml is valid");
        let mut found = Vec::new();
        paths("", &doc.document().expect("parses"), &mut found);
        found.sort();
        // Keys that exclude one another: full.toml sets the first of each
        // pair, the minimal scenario the second.
        let exclusive = [
            (
                "care_homes.initial_residents",
                "care_homes.initial_occupancy",
            ),
            EXCLUSIVE[0],
        ];
        let minimal =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/scenarios/minimal.toml");
        let minimal = crate::scenario::ScenarioDoc::read(&minimal).expect("minimal.toml loads");
        let mut in_minimal = Vec::new();
        paths("", &minimal.document().expect("parses"), &mut in_minimal);
        for (set, alternative) in exclusive {
            assert!(in_minimal.iter().any(|k| k == alternative), "{alternative}");
            assert!(found.iter().any(|k| k == set), "{set}");
            assert!(!found.iter().any(|k| k == alternative), "{alternative}");
        }
        let mut listed: Vec<String> = FORMAT
            .iter()
            .filter(|(k, shape)| {
                matches!(shape, TABLE | VALUE | DIST)
                    && !exclusive.iter().any(|(_, alternative)| k == alternative)
            })
            .map(|(k, _)| k.to_string())
            .collect();
        listed.sort();
        assert_eq!(found, listed, "full.toml sets every key of the format");
        assert!(is_known_key("acute.los.frail.sd"));
        assert!(is_known_key("rehab.stay.dist"));
        assert!(!is_known_key("rehab.stay.mode_"));
        assert!(!is_known_key("pru.car"));
    }
}

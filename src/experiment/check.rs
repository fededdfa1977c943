//! `patientflow check`: the offered load on each service from the flow
//! balance ([`crate::model::flow`]) as a table, and the limits that refuse a
//! run too large for memory or time before anything is allocated.

use std::fmt::Write as _;

use crate::model::EventBudget;
pub use crate::model::MAX_CRISES_PER_REPLICATION;
pub use crate::model::MAX_SIMULATED_DAYS;
use crate::model::flow::ArrivalRates;
pub use crate::model::flow::*;
use crate::report::text_table::{Align, TextTable};
use crate::scenario::{Scenario, human_fixed};

/// Most events expected in one replication (warm-up included): 100 million,
/// about 400 times the baseline's (250,000 expected, 180,000 handled), and
/// about a quarter of a minute of one core. A replication's budget ([`EventBudget`]) is a multiple of its
/// expected events, so this bounds every replication's time.
pub const MAX_EVENTS_PER_REPLICATION: f64 = 100e6;

/// Most care home beds: every bed is simulated with its resident.
pub const MAX_CARE_HOME_BEDS: u32 = 1_000_000;

/// Most home care packages (`home_care.packages`, its capacity changes and
/// `home_care.initial_packages`, each package at time zero simulated).
pub const MAX_HOME_CARE_PACKAGES: u32 = 1_000_000;

/// Most memory for the replications' results kept for the summary (their
/// metrics and daily series, 8 bytes a value): 2 GiB.
pub const MAX_RESULTS_BYTES: f64 = 2.0 * 1024.0 * 1024.0 * 1024.0;

/// Why a run was refused before starting: the key to change and the reason.
#[derive(Clone, Debug, PartialEq)]
pub struct TooLarge {
    /// The scenario key to change (`scenario.replications`, ...).
    pub key: &'static str,
    /// Why the run was refused, with the figures.
    pub message: String,
}

/// The bytes of results kept for one replication of `sc`: its metrics and
/// three daily series of the window, 8 bytes a value.
pub fn result_bytes_per_replication(sc: &Scenario) -> f64 {
    let window_days = sc.horizon_hours / 24.0 + 1.0;
    (crate::model::metrics::Metric::ALL.len() as f64 + 3.0 * window_days) * 8.0
}

/// Refuses, up front, a run that would take unbounded time or memory;
/// anything within these limits runs with memory flat in replications
/// except for the results kept (about 24 bytes per day of the window per
/// replication).
pub fn size_limits(sc: &Scenario, check: &Check) -> Result<(), TooLarge> {
    if let Some(c) = sc
        .care_homes
        .capacity_changes
        .iter()
        .find(|c| c.beds > MAX_CARE_HOME_BEDS)
    {
        return Err(TooLarge {
            key: "care_homes.capacity_changes",
            message: format!(
                "{} care home beds from {}; the most the simulator takes is \
                 {MAX_CARE_HOME_BEDS} (each bed is simulated with its resident)",
                c.beds, c.from
            ),
        });
    }
    home_care_limits(sc)?;
    let grown = sc.growth.any();
    // A run that grows is sized at its largest rates, every day.
    let peak;
    let (sc, check) = if crate::model::years::has_years(sc) {
        let view = crate::model::years::balance_view(sc, true);
        let balance = offered_load(&view);
        peak = (view, balance);
        (&peak.0, &peak.1)
    } else {
        (sc, check)
    };
    let days = (sc.warm_up_hours + sc.horizon_hours) / 24.0;
    if days.is_nan() || days > MAX_SIMULATED_DAYS {
        return Err(TooLarge {
            key: "scenario.horizon",
            message: format!(
                "warm_up + horizon is {} days; the most a run simulates is \
                 {MAX_SIMULATED_DAYS:.0} days (100 years)",
                human_fixed(days, 0)
            ),
        });
    }
    if sc.care_homes.beds > MAX_CARE_HOME_BEDS {
        return Err(TooLarge {
            key: "care_homes.beds",
            message: format!(
                "{} care home beds; the most the simulator takes is {MAX_CARE_HOME_BEDS} \
                 (each bed is simulated with its resident)",
                sc.care_homes.beds
            ),
        });
    }
    if sc.care_homes.initial_residents() > MAX_CARE_HOME_BEDS {
        return Err(TooLarge {
            key: "care_homes.initial_residents",
            message: format!(
                "{} care home residents at time zero; the most the simulator takes is \
                 {MAX_CARE_HOME_BEDS} (each resident is simulated)",
                sc.care_homes.initial_residents()
            ),
        });
    }
    let [frail, other] = check.readmission_gain;
    // Blamed on readmissions only when their gain is the cause; a balance
    // that overflowed for sheer demand is refused for its crises below.
    if check.readmissions_diverge() {
        return Err(TooLarge {
            key: "readmission",
            message: format!(
                "readmissions feed themselves without bound: once the PRU and the frailty unit \
                 are full, {} of every 100 frail patients' crises and {} of every 100 others' \
                 come back as readmissions (readmission shares x admission shares), so each \
                 crisis brings at least one more and every replication would run until it ran \
                 out of memory or time: lower readmission.p0/p1/p2 or the admission shares",
                percent(frail),
                percent(other),
            ),
        });
    }
    if sc.mental_health.is_some() && !check.mental_health.converged {
        return Err(TooLarge {
            key: "mental_health.readmission",
            message: "mental health readmissions feed themselves without bound: every patient \
                      leaving a mental health bed comes back and is admitted again, so every \
                      replication would run until it ran out of memory or time: lower \
                      mental_health.readmission.share or the admission shares"
                .to_string(),
        });
    }
    let sources = ArrivalRates::new(sc, check);
    let crises = sources.crises() * days;
    if crises.is_nan() || crises > MAX_CRISES_PER_REPLICATION as f64 {
        return Err(TooLarge {
            key: sources.largest_crisis_source(),
            message: format!(
                "about {} crises a day{} for {days:.0} days is {} crises in each replication; \
                 the most is {} (each replication would need more than ~160 MB and ~10 s): \
                 lower the demand{} or shorten scenario.horizon",
                number(sources.crises()),
                if grown {
                    " (at the largest rates [growth] reaches in the run)"
                } else {
                    ""
                },
                if crises.is_finite() {
                    format!("{crises:.3e}")
                } else {
                    "an unbounded number of".to_string()
                },
                MAX_CRISES_PER_REPLICATION as f64,
                if grown { " or its growth" } else { "" },
            ),
        });
    }
    let events = expected_events(sc, check);
    if events.is_nan() || events > MAX_EVENTS_PER_REPLICATION {
        return Err(TooLarge {
            key: sources.largest(),
            message: format!(
                "about {events:.3e} events are expected in each replication ({days:.0} days), \
                 most of them from {}; the most is {MAX_EVENTS_PER_REPLICATION:.0e} (a \
                 replication stops at {} times its expected events): lower it or shorten \
                 scenario.horizon",
                sources.largest(),
                EventBudget::MULTIPLE
            ),
        });
    }
    let per_replication = result_bytes_per_replication(sc);
    let results = per_replication * f64::from(sc.replications);
    if results > MAX_RESULTS_BYTES {
        return Err(TooLarge {
            key: "scenario.replications",
            message: format!(
                "{} replications of a {:.0}-day window keep about {:.1} GB of results \
                 ({:.0} KB each); the most is {:.1} GB: run at most {} replications, or a \
                 shorter horizon",
                sc.replications,
                sc.horizon_hours / 24.0,
                results / 1e9,
                per_replication / 1e3,
                MAX_RESULTS_BYTES / 1e9,
                (MAX_RESULTS_BYTES / per_replication).floor()
            ),
        });
    }
    Ok(())
}

/// `[home_care]` within [`MAX_HOME_CARE_PACKAGES`] (docs/scenario-format.md,
/// "[home_care]"): refused at the key rather than for the events the
/// packages at time zero would bring.
fn home_care_limits(sc: &Scenario) -> Result<(), TooLarge> {
    let Some(hc) = &sc.home_care else {
        return Ok(());
    };
    let refuse = |key, what: String| TooLarge {
        key,
        message: format!(
            "{what}; the most the simulator takes is {MAX_HOME_CARE_PACKAGES} packages"
        ),
    };
    if hc.packages > MAX_HOME_CARE_PACKAGES {
        return Err(refuse(
            "home_care.packages",
            format!("{} home care packages", hc.packages),
        ));
    }
    if let Some(c) = hc
        .capacity_changes
        .iter()
        .find(|c| c.beds > MAX_HOME_CARE_PACKAGES)
    {
        return Err(refuse(
            "home_care.capacity_changes",
            format!("{} home care packages from {}", c.beds, c.from),
        ));
    }
    if hc.initial_packages > MAX_HOME_CARE_PACKAGES {
        return Err(refuse(
            "home_care.initial_packages",
            format!(
                "{} home care packages at time zero (each one is simulated)",
                hc.initial_packages
            ),
        ));
    }
    Ok(())
}

/// A share as a percentage for a message (`-` for NaN).
fn percent(share: f64) -> String {
    if share.is_nan() {
        "-".to_string()
    } else {
        format!("{:.0}", share * 100.0)
    }
}

fn number(x: f64) -> String {
    if x.is_nan() {
        "-".to_string()
    } else {
        human_fixed(x, 1)
    }
}

/// The utilisation of each service in each planning year (a scenario that
/// grows or changes counts on dates, over more than a year), with the years
/// at or above capacity marked; empty otherwise.
fn by_year_table(check: &Check) -> String {
    let Some(first) = check.by_year.first() else {
        return String::new();
    };
    let mut columns: Vec<(&str, Align)> = vec![("utilisation by planning year", Align::Left)];
    columns.extend(
        check
            .by_year
            .iter()
            .map(|y| (y.label.as_str(), Align::Right)),
    );
    let mut table = TextTable::new(&columns);
    for (i, s) in first.services.iter().enumerate() {
        let mut row = vec![s.service.to_string()];
        for year in &check.by_year {
            let u = year.services.get(i).map_or(f64::NAN, |s| s.utilisation());
            row.push(if u.is_nan() {
                "-".to_string()
            } else if !u.is_finite() {
                "inf !".to_string()
            } else if s.kind == ServiceKind::Queue && u >= 1.0 {
                format!("{} !", human_fixed(u, 2))
            } else {
                human_fixed(u, 2)
            });
        }
        table.push(row);
    }
    format!(
        "\n{}Each planning year's rates at their mean growth and dated values over the year, \
         each count at its mean over the year (a partial first or last year over its own \
         days); `!` marks a queue at or above its capacity in that year.\n",
        table.render()
    )
}

/// The check as a table for the terminal, with the flows behind it.
pub fn format_check(check: &Check) -> String {
    let mut table = TextTable::new(&[
        ("service", Align::Left),
        ("offered load", Align::Right),
        ("capacity", Align::Right),
        ("utilisation", Align::Right),
        ("verdict", Align::Left),
    ]);
    for s in &check.services {
        let u = s.utilisation();
        let mut verdict = s.verdict().name().to_string();
        if let Some(loss) = s.loss_share {
            let percent = loss * 100.0;
            // What a loss is depends on the service: a placement out of
            // area, an admission instead of home treatment, or a patient the
            // PRU or frailty unit could not see.
            let _ = match s.service {
                "mental health beds" => {
                    write!(verdict, " (about {percent:.0}% placed out of area)")
                }
                "CRHT" => write!(
                    verdict,
                    " (about {percent:.0}% admitted: CRHT closed or full)"
                ),
                _ => write!(verdict, " (turns away {percent:.0}% while open)"),
            };
        }
        table.push([
            s.service.to_string(),
            number(s.offered),
            number(s.capacity),
            if u.is_finite() {
                human_fixed(u, 2)
            } else {
                "inf".into()
            },
            verdict,
        ]);
    }
    let mut out = table.render();
    out.push_str(&by_year_table(check));
    let f = &check.flows;
    let _ = writeln!(
        out,
        "\nExpected flows per day (steady state): crises {} (residents' {}, readmissions {}), \
         ED attendances {}, admissions {}, leaving on P0/P1/P2/P3 {}/{}/{}/{}, community \
         referrals {}, care home placements {}; mean wait for discharge hours {} h.",
        number(f.crises),
        number(f.residents_crises),
        number(f.readmissions),
        number(f.ed_attendances),
        number(f.admissions),
        number(f.pathway[0]),
        number(f.pathway[1]),
        number(f.pathway[2]),
        number(f.pathway[3]),
        number(f.referrals.iter().sum()),
        number(f.care_home_placements),
        number(f.discharge_wait_hours),
    );
    let _ = writeln!(
        out,
        "Offered load = arrivals x mean time holding a place (Little's law), without queueing; \
         PRU and frailty unit while open. Annual averages: seasonal peaks are not included; \
         with [growth] or dated capacity changes, the last 365 days of the run, each rate at \
         its mean growth and each count at its mean over those days. A queueing service at utilisation >= 1 is unstable (its queue grows \
         without bound); >= {HIGH_UTILISATION} means long queues."
    );
    if let Some(days) = check.care_home_search_days {
        let _ = if days.is_finite() {
            writeln!(
                out,
                "Care home placement search: with the beds the offered load leaves free, a \
                 search takes about {} days on average (`care_homes.search_at_one_free_bed` / \
                 free beds); searching is waiting, not a place held, so it is not in the \
                 offered load.",
                number(days)
            )
        } else {
            writeln!(
                out,
                "Care home placement search: the offered load leaves no bed free, so \
                 searches would not end."
            )
        };
    }
    if check.readmissions_diverge() {
        let [frail, other] = check.readmission_gain;
        let _ = writeln!(
            out,
            "Readmissions feed demand without bound (the flow balance diverges): once the PRU \
             and the frailty unit are full, {} of every 100 frail patients' crises and {} of \
             every 100 others' come back as readmissions. A run is refused (exit 2).",
            percent(frail),
            percent(other)
        );
    } else if !check.converged {
        let _ = writeln!(
            out,
            "The flow balance does not settle: demand is too large for its numbers (they \
             overflow). A run is refused (exit 2) for its crises."
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts() {
        let q = |offered, capacity| ServiceLoad {
            service: "x",
            kind: ServiceKind::Queue,
            offered,
            capacity,
            loss_share: None,
        };
        assert_eq!(q(0.0, 0.0).verdict(), Verdict::Ok);
        assert_eq!(q(1.0, 0.0).verdict(), Verdict::Overloaded);
        assert_eq!(q(94.0, 100.0).verdict(), Verdict::Ok);
        assert_eq!(q(95.0, 100.0).verdict(), Verdict::High);
        assert_eq!(q(100.0, 100.0).verdict(), Verdict::Overloaded);
        assert_eq!(q(f64::NAN, 100.0).verdict(), Verdict::Overloaded);
        assert_eq!(q(f64::INFINITY, 100.0).verdict(), Verdict::Overloaded);
    }
}

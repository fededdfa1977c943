//! One replication-year of a borough-sized scenario, the pieces of the
//! hot path (creating a patient's random stream, the event queue), and
//! issue 17's case: the uncertain baseline and its seven plans, one
//! parameter draw each.
//!
//! Run with `cargo bench --bench replication`. Throughput is reported in
//! events per second for the replication. `cargo bench --bench replication
//! -- uncertain` runs only issue 17's case (README, "Speed").

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use patientflow::engine::{EventQueue, StreamKey, StreamRng};
use patientflow::model::Prepared;

fn baseline() -> Prepared {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/tower-hamlets-baseline.toml");
    match patientflow::scenario::load(&path, &[]) {
        // One simulation of the model, without the counterfactual arms that
        // a run adds (each a whole replication of its own).
        Ok(loaded) => Prepared::new(loaded.scenario).without_counterfactuals(),
        Err(e) => panic!("the shipped baseline must load: {e}"),
    }
}

fn replication_year(c: &mut Criterion) {
    let prepared = baseline();
    let events = prepared.simulate(0).map_or(0, |r| r.events);
    let mut group = c.benchmark_group("baseline");
    group.sample_size(20);
    group.throughput(Throughput::Elements(events));
    let mut r = 0u32;
    group.bench_function("replication_year", |b| {
        b.iter(|| {
            r = r.wrapping_add(1);
            black_box(prepared.simulate(r % 64).ok())
        })
    });
    group.finish();
}

/// The seven plans of issue 17's figure: the plans that extend the
/// baseline and touch no mental health service.
const PLANS: [&str; 7] = [
    "admission-avoidance-package",
    "four-more-community-teams",
    "red-bag-off",
    "second-pru-car",
    "seven-day-frailty-unit",
    "thirty-more-care-home-beds",
    "winter-escalation-beds",
];

fn load(relative: &str) -> patientflow::scenario::LoadedScenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    match patientflow::scenario::load(&path, &[]) {
        Ok(loaded) => loaded,
        Err(e) => panic!("the shipped {relative} must load: {e}"),
    }
}

/// `loaded`, each replication drawing its values, with its counterfactual
/// arms, as `run` and `compare` prepare it.
fn drawn(loaded: patientflow::scenario::LoadedScenario) -> Prepared {
    let draws = loaded.uncertainty.clone().expect("uncertain values");
    Prepared::new(loaded.scenario).with_draws(draws as Arc<dyn patientflow::model::ScenarioDraws>)
}

/// The uncertain baseline.
fn uncertain() -> Prepared {
    drawn(load("scenarios/tower-hamlets-uncertain.toml"))
}

/// Shipped plan `name` as a comparison with the uncertain baseline runs
/// it: extending the uncertain file (so sharing its draws) instead of the
/// certain baseline, as `compare` requires.
fn uncertain_plan(dir: &Path, name: &str) -> Prepared {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join(format!("scenarios/plans/{name}.toml")))
        .expect("the shipped plan reads");
    let body = text
        .strip_prefix("extends = \"../tower-hamlets-baseline.toml\"")
        .expect("the plan extends the baseline on its first line");
    let path = dir.join(format!("{name}.toml"));
    let base = root.join("scenarios/tower-hamlets-uncertain.toml");
    std::fs::write(
        &path,
        format!("extends = {:?}{body}", base.display().to_string()),
    )
    .expect("writes the plan");
    drawn(patientflow::scenario::load(&path, &[]).expect("the plan loads"))
}

/// Issue 17's figure is 8 scenarios x 1,000 draws, one replication each,
/// on two cores: minutes, too long for a benchmark's repeated samples. This
/// measures a slice of it: one draw (replication) of the uncertain baseline
/// with its three counterfactual arms, and the same draw of each of the
/// seven plans, each extending the uncertain baseline as a comparison
/// needs, the draw changing from sample to sample. The whole figure
/// is about 1,000 times `eight_scenarios_one_draw` divided by the two
/// threads' speed-up (1.9); README "Speed" gives both the derived and the
/// measured figure (`patientflow compare`).
fn uncertain_draws(c: &mut Criterion) {
    let base = uncertain();
    let dir = tempfile::tempdir().expect("a temporary folder");
    let plans: Vec<Prepared> = PLANS
        .iter()
        .map(|p| uncertain_plan(dir.path(), p))
        .collect();
    let mut group = c.benchmark_group("uncertain");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(10));
    // Each function starts from draw 0 (draws differ in cost).
    let mut r = 0u32;
    group.bench_function("baseline_one_draw", |b| {
        b.iter(|| {
            r = r.wrapping_add(1);
            black_box(base.simulate(r % 1000).ok())
        })
    });
    r = 0;
    group.bench_function("eight_scenarios_one_draw", |b| {
        b.iter(|| {
            r = r.wrapping_add(1);
            black_box(base.simulate(r % 1000).ok());
            for plan in &plans {
                black_box(plan.simulate(r % 1000).ok());
            }
        })
    });
    group.finish();
}

fn hot_path_pieces(c: &mut Criterion) {
    let mut i = 0u64;
    c.bench_function("patient_stream_create_and_draw", |b| {
        b.iter(|| {
            i = i.wrapping_add(1);
            let mut rng = StreamRng::new(StreamKey::new(20251122, 7, 1, black_box(i)));
            black_box(rng.uniform())
        })
    });
    c.bench_function("event_queue_push_pop_1000_pending", |b| {
        let mut q = EventQueue::<u32, 1>::new(2048, 0u32);
        let mut rng = StreamRng::new(StreamKey::new(1, 0, 0, 0));
        let mut t = 0.0;
        for _ in 0..1000 {
            q.schedule(t + rng.uniform() * 100.0, 0u32);
        }
        b.iter(|| {
            if let Some((now, e)) = q.pop() {
                t = now;
                q.schedule(t + rng.uniform() * 100.0, black_box(e));
            }
        })
    });
}

criterion_group!(benches, replication_year, hot_path_pieces, uncertain_draws);
criterion_main!(benches);

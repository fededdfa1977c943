//! One replication-year of a borough-sized scenario, and the pieces of the
//! hot path: creating a patient's random stream and the event queue.
//!
//! Run with `cargo bench --bench replication`. Throughput is reported in
//! events per second for the replication.

use std::hint::black_box;
use std::path::Path;

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

criterion_group!(benches, replication_year, hot_path_pieces);
criterion_main!(benches);

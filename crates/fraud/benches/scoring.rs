//! Criterion benchmarks of the fraud scorer on rows of `shared/data/transactions_train.csv.gz`
//! (set `VIGIL_SHARED_DATA` to its folder): inference alone, single and blocked, and the
//! whole scoring step per transaction, one at a time and in batches.
//! Run: `cargo bench -p vigil-fraud`.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use vigil_fraud::features::{EntityStore, Features, MemoryStore};
use vigil_fraud::input::{Event, LabeledReader, open};
use vigil_fraud::model::default_model;
use vigil_fraud::rules::Rules;
use vigil_fraud::scorer::{BATCH, Scorer};

const ROWS: usize = 50_000;

/// The first rows of the Sparkov training data; `None` (nothing measured) without it.
fn events() -> Option<Vec<Event>> {
    let path = vigil_testkit::shared_data("transactions_train.csv.gz")?;
    let input = open(&path).expect("transactions_train.csv.gz");
    let events = LabeledReader::new(input)
        .unwrap()
        .filter_map(Result::ok)
        .take(ROWS)
        .map(|r| r.event)
        .collect();
    Some(events)
}

fn benches(c: &mut Criterion) {
    let Some(events) = events() else { return };
    let scorer = Scorer::new(default_model().unwrap(), Rules::default_rules());
    let mut store = MemoryStore::default();
    let rows: Vec<Features> = events
        .iter()
        .map(|e| store.state(&e.entity_id).observe(e))
        .collect();
    let ensemble = &scorer.model().ensemble;

    let mut g = c.benchmark_group("fraud");
    g.throughput(Throughput::Elements(rows.len() as u64));
    g.bench_function("inference_single_row", |b| {
        b.iter(|| rows.iter().map(|r| ensemble.predict_raw(r)).sum::<f32>())
    });
    let mut out = vec![0f32; rows.len()];
    g.bench_function("inference_blocked", |b| {
        b.iter(|| ensemble.predict_raw_batch(&rows, &mut out))
    });
    g.bench_function("whole_scoring_step", |b| {
        b.iter_batched_ref(
            MemoryStore::default,
            |store| {
                for e in &events {
                    std::hint::black_box(scorer.assess(store, e));
                }
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("whole_scoring_step_batched", |b| {
        b.iter_batched_ref(
            MemoryStore::default,
            |store| {
                for chunk in events.chunks(BATCH) {
                    std::hint::black_box(scorer.assess_batch(store, chunk));
                }
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group! {
    name = scoring;
    config = Criterion::default().sample_size(10);
    targets = benches
}
criterion_main!(scoring);

//! Speed measurements shared by `vigil bench-fraud` and the criterion benchmarks: model
//! inference alone (one row at a time and in blocks), and the whole scoring step
//! (features + model + rules + reasons) per transaction, one at a time and in batches, on
//! one thread.

use std::hint::black_box;
use std::time::{Duration, Instant};

use crate::features::{Features, MemoryStore};
use crate::input::Event;
use crate::scorer::Scorer;

/// Rows (or transactions) per second, measured over at least `min_time`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub per_second: f64,
    pub nanos_each: f64,
}

fn measure(min_time: Duration, items_per_pass: usize, mut pass: impl FnMut()) -> Rate {
    pass(); // warm caches
    let began = Instant::now();
    let mut passes = 0u64;
    while began.elapsed() < min_time {
        pass();
        passes += 1;
    }
    let secs = began.elapsed().as_secs_f64();
    let items = (passes as f64) * items_per_pass as f64;
    Rate {
        per_second: items / secs,
        nanos_each: secs * 1e9 / items,
    }
}

pub fn inference_single(scorer: &Scorer, rows: &[Features], min_time: Duration) -> Rate {
    let e = &scorer.model().ensemble;
    measure(min_time, rows.len(), || {
        for r in rows {
            black_box(e.predict_raw(black_box(r)));
        }
    })
}

pub fn inference_batch(scorer: &Scorer, rows: &[Features], min_time: Duration) -> Rate {
    let e = &scorer.model().ensemble;
    let mut out = vec![0f32; rows.len()];
    measure(min_time, rows.len(), || {
        e.predict_raw_batch(black_box(rows), &mut out);
        black_box(&out);
    })
}

/// The whole step per transaction, entity state starting empty on each pass.
pub fn scoring_step(scorer: &Scorer, events: &[Event], min_time: Duration) -> Rate {
    measure(min_time, events.len(), || {
        let mut store = MemoryStore::default();
        for e in events {
            black_box(scorer.assess(&mut store, black_box(e)));
        }
    })
}

/// The whole step per transaction in batches of `batch` events, as the scoring Lambda and
/// `vigil score` run it: entity state still advances one event at a time, and the model
/// runs over each batch with the blocked kernel.
pub fn scoring_step_batched(
    scorer: &Scorer,
    events: &[Event],
    batch: usize,
    min_time: Duration,
) -> Rate {
    measure(min_time, events.len(), || {
        let mut store = MemoryStore::default();
        for chunk in events.chunks(batch.max(1)) {
            black_box(scorer.assess_batch(&mut store, black_box(chunk)));
        }
    })
}

/// Entity features alone (state lookup, description, update) per transaction.
pub fn features_only(events: &[Event], min_time: Duration) -> Rate {
    measure(min_time, events.len(), || {
        let mut store = MemoryStore::default();
        for e in events {
            black_box(
                crate::features::EntityStore::state(&mut store, &e.entity_id).observe(black_box(e)),
            );
        }
    })
}

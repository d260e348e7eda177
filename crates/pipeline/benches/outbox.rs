//! Criterion benchmark of the local outbox: 1,000 alerts written as new `.eml` files, and
//! the same 1,000 sent again (each replaces its file). Files go under `VIGIL_BENCH_DIR` (or
//! the temporary directory), a new directory per iteration, all deleted at the end: on ext4,
//! files created right after many were deleted are slower to create, so the benchmark
//! deletes nothing while it measures.
//! Run: `cargo bench -p vigil-pipeline --bench outbox`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use vigil_core::Notifier;
use vigil_pipeline::local::Outbox;

const ALERTS: usize = 1000;

struct Root(PathBuf);

impl Drop for Root {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn send_all(runtime: &tokio::runtime::Runtime, outbox: &Outbox, body: &str) -> Duration {
    let began = Instant::now();
    runtime.block_on(async {
        for i in 0..ALERTS {
            let id = format!("8c2d5e9a-1b3f-4c6d-9e8f-{i:012}");
            outbox
                .notify(&id, "FRAUD ALERT: Transaction has been flagged!", body)
                .await
                .unwrap();
        }
    });
    began.elapsed()
}

fn outbox(c: &mut Criterion) {
    let base = std::env::var_os("VIGIL_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let root = Root(base.join(format!("vigil-outbox-bench-{}", std::process::id())));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    // An alert's body is about 600 bytes: ids, outcome, amount, reasons, masked contacts.
    let body = "Transaction 8c2d5e9a flagged.\n".repeat(20);
    let mut next = 0usize;
    let mut fresh = || {
        next += 1;
        Outbox::new(
            root.0.join(next.to_string()),
            "vigil@localhost",
            "team@localhost",
        )
    };
    let mut g = c.benchmark_group("outbox");
    g.throughput(Throughput::Elements(ALERTS as u64));
    g.sample_size(20);
    g.bench_function("new_alerts", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| send_all(&runtime, &fresh(), &body))
                .sum()
        })
    });
    g.bench_function("resent_alerts", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    let outbox = fresh();
                    send_all(&runtime, &outbox, &body);
                    send_all(&runtime, &outbox, &body)
                })
                .sum()
        })
    });
    g.finish();
}

criterion_group!(benches, outbox);
criterion_main!(benches);

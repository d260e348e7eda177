//! The pipeline in this process: the customers spread over worker threads, each taking its
//! share through score → alert → archive batch by batch.

use std::sync::mpsc::sync_channel;
use std::time::{Duration, Instant};

use chrono::Utc;
use tracing::warn;
use vigil_core::Transaction;

use super::{ARCHIVE_BUCKET, LocalOutputs, PROCESSED_TOPIC, Progress, Tally};
use crate::Error;
use crate::batch;
use crate::score::ScoreStage;

/// Batches a worker may have waiting: the producer stays a little ahead.
const QUEUED_BATCHES: usize = 4;

/// How the in-process run is shaped.
#[derive(Debug, Clone, Copy)]
pub struct InProcess {
    /// Worker threads; one per core is right (more only contend, docs/benchmarks.md).
    pub workers: usize,
    /// Records per batch, as an event source mapping's `BatchSize`.
    pub batch_size: usize,
}

/// Runs `transactions` through score → alert → archive on `shape.workers` threads.
///
/// Each customer stays on one worker, as one consumer per partition would have it: threads
/// share no state, and each archives as a partition of its own. The stages hand records over
/// as they are: in one process there is no wire format to go through. The calling thread
/// plays the producer: it keys each transaction to its worker and hands it a batch as soon
/// as one is full, so the stages start at once and the run is never copied whole into
/// per-worker vectors first. The alert and archive stages are async (their ports are);
/// each worker drives them on `runtime`.
pub fn in_process(
    shape: InProcess,
    outputs: &LocalOutputs,
    new_stage: &(dyn Fn() -> Result<ScoreStage, Error> + Sync),
    transactions: impl IntoIterator<Item = Transaction>,
    progress: &dyn Progress,
    runtime: &tokio::runtime::Handle,
) -> Result<Tally, Error> {
    let workers = shape.workers.max(1);
    let batch_size = shape.batch_size.max(1);
    let (senders, receivers): (Vec<_>, Vec<_>) = (0..workers)
        .map(|_| sync_channel::<Vec<Transaction>>(QUEUED_BATCHES))
        .unzip();
    let shares: Vec<Result<Tally, Error>> = std::thread::scope(|s| {
        let threads: Vec<_> = receivers
            .into_iter()
            .enumerate()
            .map(|(worker, batches)| {
                s.spawn(move || {
                    worker_share(worker, batches, outputs, new_stage, progress, runtime)
                })
            })
            .collect();
        // Keyed as a producer keys them: one customer, one worker, in the order given.
        let mut pending: Vec<Vec<Transaction>> = (0..workers)
            .map(|_| Vec::with_capacity(batch_size))
            .collect();
        for t in transactions {
            let p = (vigil_core::stable_hash(&t.entity_id) % workers as u64) as usize;
            pending[p].push(t);
            if pending[p].len() == batch_size {
                let full = std::mem::replace(&mut pending[p], Vec::with_capacity(batch_size));
                // A worker that has stopped (its error is returned below) takes no more.
                let _ = senders[p].send(full);
            }
        }
        for (p, rest) in pending.into_iter().enumerate() {
            if !rest.is_empty() {
                let _ = senders[p].send(rest);
            }
        }
        drop(senders);
        threads
            .into_iter()
            .map(|t| {
                t.join()
                    .unwrap_or_else(|_| Err(Error::Stage("a worker's pipeline panicked".into())))
            })
            .collect()
    });
    progress.finish();
    let mut tally = Tally::default();
    for share in shares {
        tally.merge(share?);
    }
    Ok(tally)
}

/// One worker: its batches through the three stages.
fn worker_share(
    worker: usize,
    batches: std::sync::mpsc::Receiver<Vec<Transaction>>,
    outputs: &LocalOutputs,
    new_stage: &(dyn Fn() -> Result<ScoreStage, Error> + Sync),
    progress: &dyn Progress,
    runtime: &tokio::runtime::Handle,
) -> Result<Tally, Error> {
    let mut tally = Tally::default();
    let mut stage = new_stage()?;
    let mut times = [Duration::ZERO; 3];
    let (mut total, mut next_offset) = (0, 0i64);
    for batch in batches {
        let n = batch.len();
        total += n;
        let began = Instant::now();
        let mut processed = Vec::with_capacity(n);
        for result in stage.process_transactions(batch, Utc::now()) {
            match result {
                Ok(p) => {
                    *tally.outcomes.entry(p.fd.outcome).or_default() += 1;
                    processed.push(p);
                }
                Err(reason) => {
                    tally.dead_letters += 1;
                    warn!(worker, reason, "transaction not scored");
                }
            }
        }
        let scored_at = Instant::now();
        tally.alerts += runtime.block_on(batch::alert_processed(
            &outputs.outbox,
            outputs.policy,
            &processed,
        ))?;
        let alerted_at = Instant::now();
        if !processed.is_empty() {
            // Offsets as `processed_transactions` would give them, the worker standing for
            // the partition.
            let at = (PROCESSED_TOPIC, worker as i32, next_offset);
            runtime.block_on(batch::archive_run(
                &outputs.store,
                ARCHIVE_BUCKET,
                at,
                &processed,
            ))?;
            tally.objects += 1;
            tally.archived += processed.len();
            next_offset += processed.len() as i64;
        }
        times[0] += scored_at - began;
        times[1] += alerted_at - scored_at;
        times[2] += alerted_at.elapsed();
        progress.inc(n as u64);
    }
    tally.entities = stage.entities();
    tally.stage_times = vec![
        ("score (busy time)", total, times[0]),
        ("alert (busy time)", tally.archived, times[1]),
        ("archive (busy time)", tally.archived, times[2]),
    ];
    Ok(tally)
}

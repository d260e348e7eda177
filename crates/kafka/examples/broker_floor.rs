//! The floor under `vigil demo --broker`: the demo's message flow through a Kafka-protocol
//! broker, with no work done on the records. A producer sends COUNT records of a
//! transaction's size to one topic; a consumer group reads them and sends each on, at a
//! processed record's size, to a second topic, which two more groups read. The clients
//! batch, pipeline and commit as the demo's stages do, so whatever the demo does on top
//! (decoding, scoring, alerts, the archive), it cannot go faster than this.
//!
//! `cargo run --release -p vigil-kafka --example broker_floor -- HOST:PORT [COUNT]`

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use vigil_kafka::{GroupReader, KafkaConfig, KeyedProducer, ensure_topics};

/// Sizes as the demo's records measured through the broker: a transaction ≈ 700 bytes of
/// JSON, a processed record ≈ 980.
const TRANSACTION_BYTES: usize = 700;
const PROCESSED_BYTES: usize = 980;
/// As the demo: its customers (keys), its batch, its chunk, its batches in flight.
const KEYS: usize = 3_427;
const BATCH: usize = 500;
const CHUNK: usize = 5_000;
const IN_FLIGHT: usize = 8;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// A batch read: its deliveries on, if it relays, and its positions, to commit after them.
type Batch = (Option<tokio::task::JoinHandle<usize>>, Vec<(i32, i64)>);

fn payload(bytes: usize, i: usize) -> Vec<u8> {
    let mut p = format!("{{\"n\":{i},\"pad\":\"").into_bytes();
    p.resize(bytes - 2, b'x');
    p.extend_from_slice(b"\"}");
    p
}

fn key(i: usize) -> String {
    format!("entity-{:05}", i % KEYS)
}

/// Reads `count` records of `topic` for `group`; with `relay`, sends each on as the scoring
/// stage does (deliveries in flight while the next batches are read, a batch committed once
/// its deliveries are done).
fn stage(
    config: &KafkaConfig,
    group: &str,
    topic: &str,
    count: usize,
    relay: Option<(&Arc<KeyedProducer>, &str, &tokio::runtime::Handle)>,
) -> Result<()> {
    let reader = GroupReader::new(config, group, topic, &Default::default())?;
    let mut in_flight: VecDeque<Batch> = VecDeque::new();
    let mut taken = 0;
    let finish = |(sent, positions): Batch, wait: bool| -> Result<()> {
        if let Some((sent, (_, _, runtime))) = sent.zip(relay) {
            runtime.block_on(sent)?;
        }
        if wait {
            reader.commit(&positions)?;
        } else {
            reader.commit_async(&positions)?;
        }
        Ok(())
    };
    while taken < count {
        let messages = reader.poll_batch(BATCH, Duration::from_millis(50))?;
        taken += messages.len();
        let positions = messages.iter().map(|m| (m.partition, m.offset)).collect();
        let sent = relay.map(|(producer, out, runtime)| {
            let records: Vec<(Vec<u8>, Vec<u8>)> = messages
                .into_iter()
                .map(|m| (m.key.unwrap_or_default(), payload(PROCESSED_BYTES, 0)))
                .collect();
            let (producer, out) = (producer.clone(), out.to_owned());
            runtime.spawn(async move {
                let report = producer.send_all(&out, records).await;
                assert!(report.failed.is_empty(), "{:?}", report.failed.first());
                report.delivered
            })
        });
        in_flight.push_back((sent, positions));
        if in_flight.len() > IN_FLIGHT {
            finish(in_flight.pop_front().expect("more than none"), false)?;
        }
    }
    while let Some(batch) = in_flight.pop_front() {
        finish(batch, in_flight.is_empty())?;
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let broker = args.next().ok_or("usage: broker_floor HOST:PORT [COUNT]")?;
    let count: usize = args.next().map_or(Ok(200_000), |c| c.parse())?;
    let config = KafkaConfig::new(&broker)?;
    let run = format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_millis()
    );
    let (input, output) = (format!("floor-in-{run}"), format!("floor-out-{run}"));
    ensure_topics(&config, &[(&input, 3), (&output, 3)]).await?;
    let producer = Arc::new(KeyedProducer::new(&config)?);
    // The records, made before the clock starts, as the demo generates before its run.
    let records: Vec<(String, Vec<u8>)> = (0..count)
        .map(|i| (key(i), payload(TRANSACTION_BYTES, i)))
        .collect();
    // The producer's id, asked for before the clock starts, as the demo does.
    tokio::time::sleep(Duration::from_secs(1)).await;

    let began = Instant::now();
    let runtime = tokio::runtime::Handle::current();
    let produce = {
        let (producer, input) = (producer.clone(), input.clone());
        tokio::spawn(async move {
            for chunk in records.chunks(CHUNK) {
                // Collected first: a lazy map over borrows would make the task not `Send`.
                let batch: Vec<(&[u8], &[u8])> = chunk
                    .iter()
                    .map(|(k, p)| (k.as_bytes(), p.as_slice()))
                    .collect();
                let report = producer.send_all(&input, batch).await;
                assert!(report.failed.is_empty(), "{:?}", report.failed.first());
            }
            began.elapsed()
        })
    };
    let spawn_stage = |group: &str, topic: &str, relay: bool| {
        let (config, group, topic, producer, output, runtime) = (
            config.clone(),
            format!("{group}-{run}"),
            topic.to_owned(),
            producer.clone(),
            output.clone(),
            runtime.clone(),
        );
        tokio::task::spawn_blocking(move || -> Result<Duration> {
            let relay = relay.then_some((&producer, output.as_str(), &runtime));
            stage(&config, &group, &topic, count, relay)?;
            Ok(began.elapsed())
        })
    };
    let relay = spawn_stage("floor-relay", &input, true);
    let sink_a = spawn_stage("floor-sink-a", &output, false);
    let sink_b = spawn_stage("floor-sink-b", &output, false);
    let produced = produce.await?;
    let relayed = relay.await??;
    let (a, b) = (sink_a.await??, sink_b.await??);
    let took = a.max(b);
    println!(
        "produce {:.2} s, relay {:.2} s, sinks {:.2} s: {count} records end to end in {:.2} s ({:.0}/s)",
        produced.as_secs_f64(),
        relayed.as_secs_f64(),
        took.as_secs_f64(),
        took.as_secs_f64(),
        count as f64 / took.as_secs_f64()
    );
    Ok(())
}

//! The floor under `vigil demo --broker`: the demo's message flow through a Kafka-protocol
//! broker, with no work done on the records. A producer sends COUNT records of a
//! transaction's size to one topic; a consumer group reads them and sends each on, at a
//! processed record's size, to a second topic, which two more groups read. It runs the
//! demo's own [`produce`] and [`consume`] (the same batches, deliveries in flight and
//! commits), so whatever the demo does on top (decoding, scoring, alerts, the archive), it
//! cannot go faster than this.
//!
//! `cargo run --release -p vigil-pipeline --features broker --example broker_floor -- HOST:PORT [COUNT]`

use std::sync::Arc;
use std::time::{Duration, Instant};

use vigil_core::RecordSink;
use vigil_kafka::{KafkaConfig, KeyedProducer, ensure_topics};
use vigil_pipeline::run::broker::{DELIVERY_BUDGET, PARTITIONS, Source, consume, produce};
use vigil_pipeline::run::{Counter, Progress};

/// Sizes as the demo's records measured through the broker: a transaction ≈ 700 bytes of
/// JSON, a processed record ≈ 980.
const TRANSACTION_BYTES: usize = 700;
const PROCESSED_BYTES: usize = 980;
/// As the demo: its customers (keys) and its batch.
const KEYS: usize = 3_427;
const BATCH: usize = 500;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn payload(bytes: usize, i: usize) -> Vec<u8> {
    let mut p = format!("{{\"n\":{i},\"pad\":\"").into_bytes();
    p.resize(bytes - 2, b'x');
    p.extend_from_slice(b"\"}");
    p
}

fn key(i: usize) -> String {
    format!("entity-{:05}", i % KEYS)
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
    ensure_topics(&config, &[(&input, PARTITIONS), (&output, PARTITIONS)]).await?;
    let producer = Arc::new(KeyedProducer::new(&config)?);
    // The records, made before the clock starts, as the demo generates before its run.
    let records: Vec<(String, Vec<u8>)> = (0..count)
        .map(|i| (key(i), payload(TRANSACTION_BYTES, i)))
        .collect();
    // The producer's id, asked for before the clock starts, as the demo does.
    tokio::time::sleep(Duration::from_secs(1)).await;

    let began = Instant::now();
    let runtime = tokio::runtime::Handle::current();
    let producing = {
        let (producer, input) = (producer.clone(), input.clone());
        tokio::spawn(async move {
            produce(
                producer.as_ref(),
                &input,
                records.into_iter().map(Ok),
                &Counter::default(),
            )
            .await
        })
    };
    let spawn_stage = |group: &str, topic: &str, relay: bool| {
        let source = Source {
            config: config.clone(),
            group: format!("{group}-{run}"),
            topic: topic.to_owned(),
            start: Default::default(),
            batch_size: BATCH,
        };
        let (producer, output, runtime) = (producer.clone(), output.clone(), runtime.clone());
        tokio::task::spawn_blocking(move || -> Result<Duration> {
            let progress = Counter::default();
            consume(&source, &|| count, &progress, &runtime, &mut |records| {
                if !relay {
                    return Ok(None);
                }
                let outgoing: Vec<(String, Vec<u8>)> = records
                    .into_iter()
                    .map(|r| {
                        let key = String::from_utf8_lossy(&r.key.unwrap_or_default()).into_owned();
                        (key, payload(PROCESSED_BYTES, 0))
                    })
                    .collect();
                let (producer, output) = (producer.clone(), output.clone());
                Ok(Some(runtime.spawn(async move {
                    producer.deliver(&output, outgoing, DELIVERY_BUDGET).await?;
                    Ok(())
                })))
            })?;
            assert_eq!(
                progress.position(),
                count as u64,
                "{}: records read",
                source.group
            );
            Ok(began.elapsed())
        })
    };
    let relay = spawn_stage("floor-relay", &input, true);
    let sink_a = spawn_stage("floor-sink-a", &output, false);
    let sink_b = spawn_stage("floor-sink-b", &output, false);
    let produced = producing.await??;
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

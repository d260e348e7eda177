//! `vigil demo`: the transaction pipeline end to end on this machine: generate → (broker) →
//! score → alert (outbox) → archive (local directory), with a closing summary.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::Utc;
use indicatif::{ProgressBar, ProgressStyle};
use vigil_core::{Notifier, ObjectRef, ObjectStore, ProcessedTransaction, Transaction};
use vigil_fraud::model::default_model;
use vigil_fraud::rules::Rules;
use vigil_fraud::scorer::Scorer;
use vigil_generator::{Generated, Generator, default_customers};
use vigil_kafka::{KafkaConfig, KeyedProducer, end_offsets, ensure_topic, read_topic};
use vigil_pipeline::alert::{AlertPolicy, render};
use vigil_pipeline::archive;
use vigil_pipeline::local::{LocalStore, Outbox};
use vigil_pipeline::score::ScoreStage;

use crate::DemoArgs;

const PARTITIONS: i32 = 3;
const CHUNK: usize = 5_000;
/// Records per archive object, as an event source mapping's batch size would make them.
const ARCHIVE_BATCH: usize = 500;
const PROCESSED_TOPIC: &str = "processed_transactions";

fn bar(len: usize, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len as u64).with_message(what.to_owned());
    bar.set_style(
        ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} ({per_sec}, {elapsed})")
            .expect("constant template")
            .progress_chars("=> "),
    );
    bar
}

fn rate(count: usize, took: Duration) -> String {
    format!("{:.0}/s", count as f64 / took.as_secs_f64().max(1e-9))
}

/// A record as a topic holds it.
struct Message {
    partition: i32,
    offset: i64,
    payload: Vec<u8>,
}

/// Spreads keys over partitions as a keyed producer does (one key, one partition).
fn partition_of(key: &str) -> i32 {
    (vigil_core::stable_hash(key) % PARTITIONS as u64) as i32
}

pub async fn run(args: &DemoArgs) -> Result<()> {
    let customers = default_customers()?;
    let settings = args.generator.config();
    let count = args.count as usize;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    eprintln!(
        "Vigil demo: {count} transactions, fraud rate {}, seed {}, results in {}",
        settings.fraud_rate,
        settings.seed,
        args.out.display()
    );

    let progress = bar(count, "generate");
    let generated: Vec<Generated> = Generator::new(&customers, &settings)?
        .take(count)
        .inspect(|_| progress.inc(1))
        .collect();
    progress.finish();
    let mut by_pattern: BTreeMap<&str, usize> = BTreeMap::new();
    for g in &generated {
        if let Some(p) = g.pattern {
            *by_pattern.entry(p.as_str()).or_default() += 1;
        }
    }
    let fraud: usize = by_pattern.values().sum();
    let patterns = by_pattern
        .iter()
        .map(|(p, n)| format!("{p} {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut lines = vec![format!(
        "transactions generated  {count} ({fraud} in fraud patterns: {patterns})"
    )];

    let messages = match &args.broker {
        Some(broker) => {
            let (messages, summary) = through_broker(broker, &args.topic, &generated).await?;
            lines.extend(summary);
            messages
        }
        None => {
            // In process: the records keep the partition and offset a keyed topic would give them.
            let mut next_offset = [0i64; PARTITIONS as usize];
            let mut messages = Vec::with_capacity(generated.len());
            for g in &generated {
                let partition = partition_of(&g.transaction.entity_id);
                let offset = &mut next_offset[partition as usize];
                messages.push(Message {
                    partition,
                    offset: *offset,
                    payload: serde_json::to_vec(&g.transaction)?,
                });
                *offset += 1;
            }
            lines.push(
                "stages                  in process (pass --broker HOST:PORT to go through Kafka)"
                    .into(),
            );
            messages
        }
    };
    lines.extend(process(args, &messages).await?);

    println!("\nVigil demo summary");
    for line in lines {
        println!("  {line}");
    }
    Ok(())
}

/// Score, alert and archive: the three consumers of the pipeline, run one after the other.
async fn process(args: &DemoArgs, messages: &[Message]) -> Result<Vec<String>> {
    let mut stage = ScoreStage::new(Scorer::new(default_model()?, Rules::default_rules()));
    let progress = bar(messages.len(), "score");
    let began = Instant::now();
    let mut processed: Vec<(i32, i64, ProcessedTransaction)> = Vec::with_capacity(messages.len());
    let mut dead_letters = 0;
    for m in messages {
        match stage.process(&m.payload, Utc::now()) {
            Ok(p) => processed.push((m.partition, m.offset, p)),
            Err(dead) => {
                dead_letters += 1;
                progress.suspend(|| {
                    eprintln!(
                        "dead letter (partition {}, offset {}): {}",
                        m.partition, m.offset, dead.reason
                    )
                });
            }
        }
        progress.inc(1);
    }
    progress.finish();
    let score_time = began.elapsed();
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    for (_, _, p) in &processed {
        *outcomes.entry(p.fd.outcome.to_string()).or_default() += 1;
    }

    let outbox_dir = args.out.join("outbox");
    let outbox = Outbox::new(&outbox_dir, "vigil@localhost", "fraud-team@localhost");
    let policy = AlertPolicy {
        on_review: args.alert_on_review,
    };
    let mut alerts = 0;
    for (_, _, p) in processed
        .iter()
        .filter(|(_, _, p)| policy.wants(p.fd.outcome))
    {
        let alert = render(p);
        outbox
            .notify(&alert.event_id, &alert.subject, &alert.body)
            .await?;
        alerts += 1;
    }

    let store = LocalStore::new(&args.out);
    let mut by_partition: BTreeMap<i32, Vec<(i64, ProcessedTransaction)>> = BTreeMap::new();
    for (partition, offset, p) in processed {
        by_partition.entry(partition).or_default().push((offset, p));
    }
    let began = Instant::now();
    let mut objects = 0;
    for (partition, records) in &by_partition {
        for batch in records.chunks(ARCHIVE_BATCH) {
            let first_offset = batch[0].0;
            let batch: Vec<ProcessedTransaction> = batch.iter().map(|(_, p)| p.clone()).collect();
            let key = archive::key(PROCESSED_TOPIC, *partition, first_offset, &batch);
            store
                .put(
                    &ObjectRef::new("archive", key),
                    archive::ndjson(&batch)?,
                    "application/x-ndjson",
                )
                .await?;
            objects += 1;
        }
    }
    let archive_time = began.elapsed();
    let scored: usize = outcomes.values().sum();
    let outcome_text = outcomes
        .iter()
        .map(|(o, n)| format!("{o} {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    Ok(vec![
        format!(
            "scored                  {scored} ({outcome_text}); {dead_letters} dead letters; {} customers; {} ({})",
            stage.entities(),
            format_args!("{:.2} s", score_time.as_secs_f64()),
            rate(scored, score_time)
        ),
        format!(
            "alerts                  {alerts} in {} (on block{})",
            outbox_dir.display(),
            if args.alert_on_review {
                " and review"
            } else {
                ""
            }
        ),
        format!(
            "archive                 {objects} objects under {} in {:.2} s",
            Path::new(&args.out).join("archive/processed").display(),
            archive_time.as_secs_f64()
        ),
    ])
}

/// Produces the records to `topic`, reads them back from where the topic ended before,
/// and checks that every record arrived intact, keyed by customer.
async fn through_broker(
    broker: &str,
    topic: &str,
    generated: &[Generated],
) -> Result<(Vec<Message>, Vec<String>)> {
    let config = KafkaConfig::new(broker).context("--broker")?;
    ensure_topic(&config, topic, PARTITIONS)
        .await
        .with_context(|| {
            format!("is a Kafka-protocol broker listening on {broker}? (infra/stack.sh start)")
        })?;
    let (c, t) = (config.clone(), topic.to_owned());
    let start = tokio::task::spawn_blocking(move || end_offsets(&c, &t)).await??;

    let producer = KeyedProducer::new(&config)?;
    let progress = bar(generated.len(), "produce");
    let began = Instant::now();
    let mut failed = 0;
    for chunk in generated.chunks(CHUNK) {
        let records = chunk
            .iter()
            .map(|g| {
                Ok((
                    g.transaction.entity_id.as_str(),
                    serde_json::to_vec(&g.transaction)?,
                ))
            })
            .collect::<Result<Vec<_>, serde_json::Error>>()?;
        let report = producer.send_all(topic, records).await;
        failed += report.failed.len();
        progress.inc(chunk.len() as u64);
    }
    progress.finish();
    let produce_time = began.elapsed();
    if failed > 0 {
        bail!(
            "{failed} of {} records were not delivered to {broker}",
            generated.len()
        );
    }

    let progress = bar(generated.len(), "consume");
    let began = Instant::now();
    let (c, t, p, expected) = (
        config.clone(),
        topic.to_owned(),
        progress.clone(),
        generated.len(),
    );
    let read = tokio::task::spawn_blocking(move || {
        read_topic(
            &c,
            &t,
            &start,
            expected,
            Duration::from_secs(120),
            &mut |n| p.set_position(n as u64),
        )
    })
    .await??;
    progress.finish();
    let consume_time = began.elapsed();

    let sent: HashMap<&str, &Transaction> = generated
        .iter()
        .map(|g| (g.transaction.event_id.as_str(), &g.transaction))
        .collect();
    let (mut intact, mut altered, mut foreign) = (0, 0, 0);
    let mut partitions_of: HashMap<String, HashSet<i32>> = HashMap::new();
    for m in &read {
        let Ok(t) = serde_json::from_slice::<Transaction>(&m.payload) else {
            foreign += 1;
            continue;
        };
        match sent.get(t.event_id.as_str()) {
            Some(original)
                if **original == t && m.key.as_deref() == Some(t.entity_id.as_bytes()) =>
            {
                intact += 1
            }
            Some(_) => altered += 1,
            None => foreign += 1,
        }
        partitions_of
            .entry(t.entity_id)
            .or_default()
            .insert(m.partition);
    }
    if intact != generated.len() {
        bail!(
            "{intact} of {} records came back intact ({altered} altered, {foreign} foreign)",
            generated.len()
        );
    }
    let split = partitions_of.values().filter(|p| p.len() > 1).count();
    let summary = vec![
        format!(
            "produced                {} to `{topic}` on {broker} in {:.2} s ({})",
            generated.len(),
            produce_time.as_secs_f64(),
            rate(generated.len(), produce_time)
        ),
        format!(
            "consumed back           {intact} intact, in {:.2} s ({}); {} customers, {split} split over partitions",
            consume_time.as_secs_f64(),
            rate(intact, consume_time),
            partitions_of.len()
        ),
    ];
    let messages = read
        .into_iter()
        .map(|m| Message {
            partition: m.partition,
            offset: m.offset,
            payload: m.payload,
        })
        .collect();
    Ok((messages, summary))
}

//! `vigil demo`: the transaction pipeline end to end on this machine.
//!
//! Today the pipeline is generate → produce → consume; scoring, alerts, the archive and
//! the report join it as they are built.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use vigil_core::Transaction;
use vigil_generator::{Generated, Generator, default_customers};
use vigil_kafka::{KafkaConfig, KeyedProducer, end_offsets, ensure_topic, read_topic};

use crate::DemoArgs;

const PARTITIONS: i32 = 3;
const CHUNK: usize = 5_000;

fn bar(len: usize, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len as u64).with_message(what.to_owned());
    bar.set_style(
        ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} ({per_sec}, {elapsed})")
            .expect("constant template")
            .progress_chars("=> "),
    );
    bar
}

fn write_ndjson<'a>(path: &Path, records: impl Iterator<Item = &'a Transaction>) -> Result<()> {
    let mut out =
        BufWriter::new(File::create(path).with_context(|| format!("creating {}", path.display()))?);
    for t in records {
        serde_json::to_writer(&mut out, t)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

fn rate(count: usize, took: Duration) -> String {
    format!("{:.0}/s", count as f64 / took.as_secs_f64().max(1e-9))
}

pub async fn run(args: &DemoArgs) -> Result<()> {
    let customers = default_customers()?;
    let settings = args.generator.config();
    let count = args.count as usize;
    let dir = args.out.join("transactions");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
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
    let records_path = dir.join("transactions.ndjson");
    match &args.broker {
        Some(broker) => {
            lines.extend(through_broker(broker, &args.topic, &generated, &records_path).await?)
        }
        None => {
            write_ndjson(&records_path, generated.iter().map(|g| &g.transaction))?;
            lines.push(
                "stages                  in process (pass --broker HOST:PORT to go through Kafka)"
                    .into(),
            );
        }
    }
    lines.push(format!(
        "records written to      {}",
        records_path.display()
    ));

    println!("\nVigil demo summary");
    for line in lines {
        println!("  {line}");
    }
    Ok(())
}

/// Produces the records to `topic`, reads them back from where the topic ended before,
/// and checks that every record arrived intact, keyed by customer.
async fn through_broker(
    broker: &str,
    topic: &str,
    generated: &[Generated],
    path: &Path,
) -> Result<Vec<String>> {
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
    let messages = tokio::task::spawn_blocking(move || {
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
    let mut received = Vec::with_capacity(messages.len());
    for m in &messages {
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
            .entry(t.entity_id.clone())
            .or_default()
            .insert(m.partition);
        received.push(t);
    }
    write_ndjson(path, received.iter())?;
    let split = partitions_of.values().filter(|p| p.len() > 1).count();
    if intact != generated.len() {
        bail!(
            "{intact} of {} records came back intact ({altered} altered, {foreign} foreign)",
            generated.len()
        );
    }
    Ok(vec![
        format!(
            "produced                {} to `{topic}` on {broker} in {:.2} s ({})",
            generated.len(),
            produce_time.as_secs_f64(),
            rate(generated.len(), produce_time)
        ),
        format!(
            "consumed back           {intact} intact, 0 altered, in {:.2} s ({})",
            consume_time.as_secs_f64(),
            rate(intact, consume_time)
        ),
        format!(
            "customers               {} ({} split over partitions)",
            partitions_of.len(),
            split
        ),
    ])
}

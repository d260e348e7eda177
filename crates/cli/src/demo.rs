//! `vigil demo`: the transaction pipeline end to end on this machine: generate → score →
//! alert (outbox) → archive (local directory), with a closing summary. In process, the
//! stages run one after the other over batches; with `--broker`, a producer and three
//! consumer groups (score, alert, archive) run at once through the broker, as on AWS. Both
//! call the same batch functions as the Lambda functions (`vigil_pipeline::batch`).

use std::collections::{BTreeMap, VecDeque};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::Utc;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use tracing::warn;
use vigil_core::{Outcome, Transaction};
use vigil_fraud::model::default_model;
use vigil_fraud::rules::Rules;
use vigil_fraud::scorer::Scorer;
use vigil_generator::{Generated, Generator, default_customers};
use vigil_kafka::{
    GroupReader, KafkaConfig, KeyedProducer, ReadMessage, end_offsets, ensure_topics,
};
use vigil_pipeline::alert::AlertPolicy;
use vigil_pipeline::batch::{self, Record};
use vigil_pipeline::local::{LocalStore, Outbox};
use vigil_pipeline::score::ScoreStage;

use crate::DemoArgs;

const PARTITIONS: i32 = 3;
const PROCESSED_TOPIC: &str = "processed_transactions";
const DEAD_LETTER_TOPIC: &str = "transactions_dead_letters";
const ARCHIVE_BUCKET: &str = "archive";
/// Batches whose deliveries a stage lets run while it reads and handles the next ones: a
/// broker's acknowledgement takes a round trip and the producer's linger.
const IN_FLIGHT: usize = 8;
/// How long a stage keeps re-sending what the broker did not acknowledge.
const DELIVERY_BUDGET: Duration = Duration::from_secs(300);
/// How long a stage's poll waits for a first record: how late it may notice that no more
/// are due.
const POLL_WAIT: Duration = Duration::from_millis(50);
/// A stage that gets nothing for this long while records are still due gives up.
const IDLE_LIMIT: Duration = Duration::from_secs(180);
/// After this long without progress in any stage, the demo says it is waiting.
const WAIT_NOTICE: Duration = Duration::from_secs(5);

fn style(bar: &ProgressBar) {
    bar.set_style(
        ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} ({per_sec}, {elapsed})")
            .expect("constant template")
            .progress_chars("=> "),
    );
}

fn bar(len: usize, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len as u64).with_message(what.to_owned());
    style(&bar);
    bar
}

/// A line on stderr above the progress bars (which are hidden when stderr is no terminal).
fn say(bar: &ProgressBar, line: &str) {
    bar.suspend(|| eprintln!("{line}"));
}

fn rate(count: usize, took: Duration) -> String {
    format!("{:.0}/s", count as f64 / took.as_secs_f64().max(1e-9))
}

/// The in-process pipeline's threads: `--workers`, or one per core.
fn workers(args: &DemoArgs) -> usize {
    args.workers.map(usize::from).unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    })
}

/// What the stages did, for the summary.
#[derive(Default)]
struct Tally {
    outcomes: BTreeMap<Outcome, usize>,
    dead_letters: usize,
    entities: usize,
    alerts: usize,
    objects: usize,
    archived: usize,
    stage_times: Vec<(&'static str, usize, Duration)>,
}

fn scorer() -> Result<ScoreStage> {
    Ok(ScoreStage::new(Scorer::new(
        default_model()?,
        Rules::default_rules(),
    )))
}

pub async fn run(args: &DemoArgs) -> Result<()> {
    let customers = default_customers()?;
    let settings = args.generator.config(args.count);
    let count = args.count as usize;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    eprintln!(
        "Vigil demo: {count} transactions, fraud rate {}, seed {}, results in {}",
        settings.fraud_rate,
        settings.seed,
        args.out.display()
    );

    // The broker first: an absent one is reported before any work, and its set-up is not
    // counted as the pipeline's time.
    let link = match &args.broker {
        Some(broker) => Some(connect(args, broker).await?),
        None => None,
    };
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

    let began = Instant::now();
    let tally = match link {
        Some(link) => {
            lines.push(format!(
                "stages                  through the broker on {}: a producer and the consumer groups score, alert, archive",
                link.config.bootstrap_servers
            ));
            lines.push(format!(
                "broker set-up           {:.2} s before the run (topics, producer, where the topics end)",
                link.took.as_secs_f64()
            ));
            through_broker(args, link, generated).await?
        }
        None => {
            lines.push(format!(
                "stages                  in process on {} threads (pass --broker HOST:PORT to go through Kafka)",
                workers(args)
            ));
            in_process(args, generated).await?
        }
    };
    let took = began.elapsed();
    lines.extend(summary(args, &tally));
    lines.push(format!(
        "end to end              {count} transactions in {:.2} s ({})",
        took.as_secs_f64(),
        rate(count, took)
    ));

    if args.documents > 0 {
        let seed = args.generator.seed.unwrap_or(1);
        lines.extend(crate::documents::demo(&args.out, args.documents, seed, &args.model).await?);
    }

    let began = Instant::now();
    let report =
        crate::reports::build_report(&args.out.join("archive"), &args.out.join("report")).await;
    match &report {
        Ok((_, report)) => {
            lines.push(format!(
                "report                  {} transactions charted in {:.2} s ({} note(s) on the data)",
                report.total(),
                began.elapsed().as_secs_f64(),
                report.notes.len()
            ));
            // The archive, read back, should hold each transaction this run scored once.
            let scored: usize = tally.outcomes.values().sum();
            if report.total() != scored as u64 {
                lines.push(format!(
                    "WARNING                 the archive holds {} transactions for {scored} scored in this run: an earlier run's records in the same folder, or records lost or archived twice",
                    report.total()
                ));
            }
        }
        Err(e) => lines.push(format!("report                  not built: {e:#}")),
    }

    println!("\nVigil demo summary");
    for line in lines {
        println!("  {line}");
    }
    if let Ok((index, _)) = report {
        println!("\nReport: {}", index.display());
    }
    Ok(())
}

fn summary(args: &DemoArgs, tally: &Tally) -> Vec<String> {
    let scored: usize = tally.outcomes.values().sum();
    let outcome_text = tally
        .outcomes
        .iter()
        .map(|(o, n)| format!("{o} {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut lines = vec![format!(
        "scored                  {scored} ({outcome_text}); {} dead letters; {} customers",
        tally.dead_letters, tally.entities
    )];
    lines.push(format!(
        "alerts                  {} in {} (on block{})",
        tally.alerts,
        args.out.join("outbox").display(),
        if args.alert_on_review {
            " and review"
        } else {
            ""
        }
    ));
    lines.push(format!(
        "archive                 {} records in {} objects under {}",
        tally.archived,
        tally.objects,
        Path::new(&args.out).join("archive/processed").display(),
    ));
    for (stage, n, took) in &tally.stage_times {
        lines.push(format!(
            "{:<24}{n} records in {:.2} s ({})",
            format!("  {stage}"),
            took.as_secs_f64(),
            rate(*n, *took)
        ));
    }
    lines
}

fn outbox(args: &DemoArgs) -> Outbox {
    Outbox::new(
        args.out.join("outbox"),
        "vigil@localhost",
        "fraud-team@localhost",
    )
}

fn policy(args: &DemoArgs) -> AlertPolicy {
    AlertPolicy {
        on_review: args.alert_on_review,
    }
}

/// The customers are spread over `workers` threads (one per core by default), and each
/// thread takes its share through score → alert → archive, batch by batch, as one consumer
/// per partition would: a customer stays on one thread, so threads share no state, and each
/// archives as a partition of its own. The stages hand records over as they are: in one
/// process there is no wire format to go through. One worker per core rather than one per
/// topic partition: more threads than cores only contend (docs/benchmarks.md).
///
/// This thread plays the producer: it keys each transaction to its worker and hands it a
/// batch as soon as one is full, so the stages start at once, and the run is never copied
/// whole into per-worker vectors first.
async fn in_process(args: &DemoArgs, generated: Vec<Generated>) -> Result<Tally> {
    let count = generated.len();
    let batch_size = args.batch_size as usize;
    let progress = bar(count, "process");
    let (outbox, store, policy) = (outbox(args), LocalStore::new(&args.out), policy(args));
    let runtime = tokio::runtime::Handle::current();
    let workers = workers(args);
    // A few batches of room per worker: the producer stays a little ahead.
    let (senders, receivers): (Vec<_>, Vec<_>) = (0..workers)
        .map(|_| std::sync::mpsc::sync_channel::<Vec<Transaction>>(4))
        .unzip();
    let shares: Vec<Result<Tally>> = std::thread::scope(|s| {
        let threads: Vec<_> = receivers
            .into_iter()
            .enumerate()
            .map(|(worker, batches)| {
                let (progress, outbox, store, runtime) = (&progress, &outbox, &store, &runtime);
                s.spawn(move || -> Result<Tally> {
                    let mut tally = Tally::default();
                    let mut stage = scorer()?;
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
                        tally.alerts +=
                            runtime.block_on(batch::alert_processed(outbox, policy, &processed))?;
                        let alerted_at = Instant::now();
                        if !processed.is_empty() {
                            // Offsets as `processed_transactions` would give them, the
                            // worker standing for the partition.
                            let at = (PROCESSED_TOPIC, worker as i32, next_offset);
                            runtime.block_on(batch::archive_run(
                                store,
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
                })
            })
            .collect();
        // Keyed as a producer keys them: one customer, one worker, in the order generated.
        let mut pending: Vec<Vec<Transaction>> = (0..workers)
            .map(|_| Vec::with_capacity(batch_size))
            .collect();
        for g in generated {
            let p = (vigil_core::stable_hash(&g.transaction.entity_id) % workers as u64) as usize;
            pending[p].push(g.transaction);
            if pending[p].len() == batch_size {
                let full = std::mem::replace(&mut pending[p], Vec::with_capacity(batch_size));
                // A worker that has stopped (its error is reported below) takes
                // no more.
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
            .map(|t| t.join().expect("a worker's pipeline panicked"))
            .collect()
    });
    progress.finish();
    let mut tally = Tally::default();
    for part in shares {
        tally.merge(part?);
    }
    Ok(tally)
}

impl Tally {
    /// Adds another worker's figures (stage times add up to busy time).
    fn merge(&mut self, other: Tally) {
        for (o, n) in other.outcomes {
            *self.outcomes.entry(o).or_default() += n;
        }
        self.dead_letters += other.dead_letters;
        self.entities += other.entities;
        self.alerts += other.alerts;
        self.objects += other.objects;
        self.archived += other.archived;
        for (stage, n, took) in other.stage_times {
            match self.stage_times.iter_mut().find(|(s, _, _)| *s == stage) {
                Some((_, total, time)) => {
                    *total += n;
                    *time += took;
                }
                None => self.stage_times.push((stage, n, took)),
            }
        }
    }

    fn count(&mut self, scored: &batch::Scored) {
        for (o, n) in &scored.outcomes {
            *self.outcomes.entry(*o).or_default() += n;
        }
        self.dead_letters += scored.dead_letters.len();
    }
}

fn to_records(topic: &str, messages: Vec<ReadMessage>) -> Vec<Record> {
    messages
        .into_iter()
        .map(|m| Record {
            topic: topic.to_owned(),
            partition: m.partition,
            offset: m.offset,
            key: m.key,
            value: Ok(m.payload),
        })
        .collect()
}

/// Where a stage reads from: its consumer group, on a topic, from the offsets where this
/// run began.
struct Source {
    config: KafkaConfig,
    group: String,
    topic: String,
    start: vigil_kafka::StartOffsets,
    batch_size: usize,
}

/// What a stage's handler may leave running when it returns: its batch's deliveries, to
/// be awaited before the batch is committed.
type InFlight = Option<tokio::task::JoinHandle<Result<()>>>;

/// A batch handled, its deliveries perhaps still in flight, not yet committed.
struct Handled {
    in_flight: InFlight,
    positions: Vec<(i32, i64)>,
}

/// A consumer group's loop: reads batches, hands each to `handle`, commits after it, until
/// `due()` records have been read. A batch's deliveries (what `handle` left in flight) go
/// on while the next [`IN_FLIGHT`] batches are read and handled; batches are committed in
/// order, each once its deliveries are done,
/// so nothing is committed before its output is acknowledged. A broker that cannot be
/// reached is reported and waited for; a batch whose handling or delivery fails is not
/// committed and stops the stage.
fn consume(
    source: &Source,
    due: &dyn Fn() -> usize,
    progress: &ProgressBar,
    runtime: &tokio::runtime::Handle,
    handle: &mut dyn FnMut(Vec<Record>) -> Result<InFlight>,
) -> Result<usize> {
    let reader = GroupReader::new(&source.config, &source.group, &source.topic, &source.start)
        .with_context(|| format!("joining consumer group {}", source.group))?;
    let (mut seen, mut idle_since) = (0usize, Instant::now());
    let mut in_flight: VecDeque<Handled> = VecDeque::new();
    // Waits for a batch's deliveries, then commits it. While batches keep coming the commit
    // is not waited for (a round trip per batch); it is when the stage goes idle or ends,
    // or when an earlier one failed, and a failed one is retried.
    let finish = |batch: Handled, seen: &mut usize, wait: bool| -> Result<()> {
        if let Some(deliveries) = batch.in_flight {
            runtime
                .block_on(deliveries)
                .context("a delivery task failed")??;
        }
        let mut committed = if wait {
            reader.commit(&batch.positions)
        } else {
            reader.commit_async(&batch.positions)
        };
        let mut pause = Duration::from_millis(200);
        while let Err(e) = committed {
            if pause > Duration::from_secs(30) {
                return Err(e).context(format!("{}: committing offsets", source.group));
            }
            say(
                progress,
                &format!("{}: committing offsets: {e}; retrying", source.group),
            );
            std::thread::sleep(pause);
            pause *= 2;
            committed = reader.commit(&[]);
        }
        *seen += batch.positions.len();
        progress.inc(batch.positions.len() as u64);
        Ok(())
    };
    // Finishes every batch in flight, in order, waiting for the last commit.
    let finish_all = |in_flight: &mut VecDeque<Handled>, seen: &mut usize| -> Result<()> {
        while let Some(batch) = in_flight.pop_front() {
            finish(batch, seen, in_flight.is_empty())?;
        }
        Ok(())
    };
    // Records handed to `handle`: once all that are due are in, the stage stops reading and
    // finishes, rather than waiting out one more empty poll.
    let mut taken = 0;
    while taken < due() {
        let messages = match reader.poll_batch(source.batch_size, POLL_WAIT) {
            Ok(m) => m,
            Err(e) => {
                say(progress, &format!("{}: {e}; retrying", source.group));
                std::thread::sleep(Duration::from_millis(500));
                Vec::new()
            }
        };
        if messages.is_empty() {
            // Nothing new: the batches in flight are finished now rather than with the next.
            if !in_flight.is_empty() {
                finish_all(&mut in_flight, &mut seen)?;
                idle_since = Instant::now();
                continue;
            }
            let idle = idle_since.elapsed();
            if idle > IDLE_LIMIT {
                bail!(
                    "{}: no records on `{}` for {} s ({seen} read, more due)",
                    source.group,
                    source.topic,
                    IDLE_LIMIT.as_secs(),
                );
            }
            continue;
        }
        idle_since = Instant::now();
        let positions: Vec<(i32, i64)> = messages.iter().map(|m| (m.partition, m.offset)).collect();
        taken += messages.len();
        in_flight.push_back(Handled {
            in_flight: handle(to_records(&source.topic, messages))?,
            positions,
        });
        if in_flight.len() > IN_FLIGHT {
            let batch = in_flight.pop_front().expect("more than none");
            finish(batch, &mut seen, false)?;
        }
    }
    finish_all(&mut in_flight, &mut seen)?;
    Ok(seen)
}

/// How many processed records are due, once scoring has said; the bar learns it too.
fn due(processed: &AtomicUsize, bar: &ProgressBar) -> usize {
    let n = processed.load(Ordering::SeqCst);
    if n != usize::MAX {
        bar.set_length(n as u64);
    }
    n
}

/// A run's link to the broker, set up before the transactions are generated, so that the
/// pipeline's time is the pipeline's.
struct BrokerLink {
    config: KafkaConfig,
    /// Shared by the producer and the scoring stage. Made first: an idempotent producer
    /// asks the broker for its id before it sends anything, which took up to 1 s here.
    producer: Arc<KeyedProducer>,
    /// Where both topics ended when the run began: its consumer groups start there.
    transactions_end: vigil_kafka::StartOffsets,
    processed_end: vigil_kafka::StartOffsets,
    took: Duration,
}

/// Checks that the broker answers, makes the topics and the producer, and finds where the
/// topics end.
async fn connect(args: &DemoArgs, broker: &str) -> Result<BrokerLink> {
    let began = Instant::now();
    let config = KafkaConfig::new(broker).context("--broker")?;
    // librdkafka would retry an absent broker quietly for minutes: ask once, plainly.
    let reachable = config.bootstrap_servers.split(',').any(|server| {
        use std::net::ToSocketAddrs;
        server.trim().to_socket_addrs().is_ok_and(|mut addrs| {
            addrs.any(|a| std::net::TcpStream::connect_timeout(&a, Duration::from_secs(3)).is_ok())
        })
    });
    if !reachable {
        bail!("no broker answers at {broker}: start the local one with infra/stack.sh start");
    }
    let producer = Arc::new(KeyedProducer::new(&config)?);
    ensure_topics(
        &config,
        &[
            (args.topic.as_str(), PARTITIONS),
            (PROCESSED_TOPIC, PARTITIONS),
            (DEAD_LETTER_TOPIC, 1),
        ],
    )
    .await
    .with_context(|| {
        format!("is a Kafka-protocol broker listening on {broker}? (infra/stack.sh start)")
    })?;
    // Both looked up at once (each lookup waits out a quiet moment).
    let (transactions_end, processed_end) = std::thread::scope(|s| {
        let transactions = s.spawn(|| end_offsets(&config, &args.topic));
        let processed = end_offsets(&config, PROCESSED_TOPIC);
        (transactions.join(), processed)
    });
    Ok(BrokerLink {
        transactions_end: transactions_end.expect("the end offset lookup panicked")?,
        processed_end: processed_end?,
        config,
        producer,
        took: began.elapsed(),
    })
}

/// A producer and three consumer groups at once, through the broker.
async fn through_broker(
    args: &DemoArgs,
    link: BrokerLink,
    generated: Vec<Generated>,
) -> Result<Tally> {
    let BrokerLink {
        config,
        producer,
        transactions_end,
        processed_end,
        ..
    } = link;
    // Each run has its own consumer groups, starting where the topics ended.
    let run = format!("{:x}", Utc::now().timestamp_millis());
    let source = |stage: &str, topic: &str, start: &vigil_kafka::StartOffsets| Source {
        start: start.clone(),
        config: config.clone(),
        group: format!("vigil-{stage}-{run}"),
        topic: topic.to_owned(),
        batch_size: args.batch_size as usize,
    };
    let score_source = source("score", &args.topic, &transactions_end);
    let alert_source = source("alert", PROCESSED_TOPIC, &processed_end);
    let archive_source = source("archive", PROCESSED_TOPIC, &processed_end);

    let bars = MultiProgress::new();
    let count = generated.len();
    let produce_bar = bars.add(bar(count, "produce"));
    let score_bar = bars.add(bar(count, "score"));
    let alert_bar = bars.add(bar(count, "alert"));
    let archive_bar = bars.add(bar(count, "archive"));
    // The consumers of `processed_transactions` learn how many records are due once
    // scoring is done (dead letters do not reach them).
    let processed_due = Arc::new(AtomicUsize::new(usize::MAX));
    let runtime = tokio::runtime::Handle::current();

    let producing = {
        let (producer, topic, bar) = (producer.clone(), args.topic.clone(), produce_bar.clone());
        tokio::spawn(async move {
            let began = Instant::now();
            // Encoded a chunk at a time: no second copy of the whole run in memory.
            for chunk in generated.chunks(5_000) {
                let records = chunk
                    .iter()
                    .map(|g| {
                        Ok((
                            g.transaction.entity_id.clone(),
                            sonic_rs::to_vec(&g.transaction)?,
                        ))
                    })
                    .collect::<Result<Vec<_>>>()?;
                producer
                    .send_reliably(&topic, records, DELIVERY_BUDGET, &mut |left, reason| {
                        say(&bar, &format!("produce: {left} records not delivered ({reason}); sending them again"))
                    })
                    .await?;
                bar.inc(chunk.len() as u64);
            }
            bar.finish();
            anyhow::Ok(began.elapsed())
        })
    };

    let scoring = {
        let (processed_due, bar, runtime) =
            (processed_due.clone(), score_bar.clone(), runtime.clone());
        tokio::task::spawn_blocking(move || -> Result<(Tally, Duration)> {
            let mut stage = scorer()?;
            let mut tally = Tally::default();
            let began = Instant::now();
            let mut processed = 0;
            consume(&score_source, &|| count, &bar, &runtime, &mut |records| {
                let scored = batch::score(&mut stage, &records, Utc::now())?;
                tally.count(&scored);
                processed += scored.processed.len();
                // Delivered while the next batch is scored; `consume` commits after.
                let (producer, bar) = (producer.clone(), bar.clone());
                Ok(Some(runtime.spawn(async move {
                    for (topic, outgoing) in [
                        (PROCESSED_TOPIC, scored.processed),
                        (DEAD_LETTER_TOPIC, scored.dead_letters),
                    ] {
                        producer.send_reliably(topic, outgoing, DELIVERY_BUDGET, &mut |left, reason| {
                            say(&bar, &format!("score: {left} records not delivered to {topic} ({reason}); sending them again"))
                        }).await?;
                    }
                    Ok(())
                })))
            })
            .inspect_err(|_| processed_due.store(0, Ordering::SeqCst))?;
            processed_due.store(processed, Ordering::SeqCst);
            bar.finish();
            tally.entities = stage.entities();
            Ok((tally, began.elapsed()))
        })
    };

    let alerting = {
        let (processed, bar, runtime, outbox, policy) = (
            processed_due.clone(),
            alert_bar.clone(),
            runtime.clone(),
            outbox(args),
            policy(args),
        );
        tokio::task::spawn_blocking(move || -> Result<(usize, usize, Duration)> {
            let began = Instant::now();
            let mut alerts = 0;
            let due_now = || due(&processed, &bar);
            let read = consume(&alert_source, &due_now, &bar, &runtime, &mut |records| {
                alerts += runtime
                    .block_on(batch::alert(&outbox, policy, &records))?
                    .alerts;
                Ok(None)
            })?;
            bar.finish();
            Ok((read, alerts, began.elapsed()))
        })
    };

    let archiving = {
        let (processed, bar, runtime, store) = (
            processed_due.clone(),
            archive_bar.clone(),
            runtime.clone(),
            LocalStore::new(&args.out),
        );
        tokio::task::spawn_blocking(move || -> Result<(usize, usize, usize, Duration)> {
            let began = Instant::now();
            let (mut objects, mut archived) = (0, 0);
            let due_now = || due(&processed, &bar);
            let read = consume(&archive_source, &due_now, &bar, &runtime, &mut |records| {
                let done = runtime.block_on(batch::archive(&store, ARCHIVE_BUCKET, &records))?;
                objects += done.objects.len();
                archived += done.records - done.skipped;
                Ok(None)
            })?;
            bar.finish();
            Ok((read, objects, archived, began.elapsed()))
        })
    };

    // Says so when no stage moves, e.g. while the broker does not answer.
    let watchdog = {
        let stages = [
            ("produce", produce_bar.clone()),
            ("score", score_bar.clone()),
            ("alert", alert_bar.clone()),
            ("archive", archive_bar.clone()),
        ];
        tokio::spawn(async move {
            let (mut last, mut since) = (0, Instant::now());
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                let now: u64 = stages.iter().map(|(_, b)| b.position()).sum();
                if now != last {
                    (last, since) = (now, Instant::now());
                } else if since.elapsed() >= WAIT_NOTICE {
                    let where_ = stages
                        .iter()
                        .map(|(name, b)| format!("{name} {}", b.position()))
                        .collect::<Vec<_>>()
                        .join(", ");
                    say(
                        &stages[0].1,
                        &format!(
                            "no progress for {} s ({where_}); waiting for the broker",
                            since.elapsed().as_secs()
                        ),
                    );
                    since = Instant::now();
                }
            }
        })
    };
    let produce_time = producing.await??;
    let (mut tally, score_time) = scoring.await??;
    let (alert_read, alerts, alert_time) = alerting.await??;
    let (archive_read, objects, archived, archive_time) = archiving.await??;
    watchdog.abort();
    tally.alerts = alerts;
    tally.objects = objects;
    tally.archived = archived;
    tally.stage_times = vec![
        ("produce", count, produce_time),
        ("score", count, score_time),
        ("alert", alert_read, alert_time),
        ("archive", archive_read, archive_time),
    ];
    Ok(tally)
}

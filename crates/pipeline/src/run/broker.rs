//! The pipeline through a Kafka-protocol broker, as on AWS: a producer and three consumer
//! groups (score, alert, archive) at once. [`connect`] sets the broker up before the run,
//! [`through_broker`] runs it; [`produce`] and [`consume`] are its two halves, which the
//! broker floor benchmark (`examples/broker_floor.rs`) runs with no work on the records.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use vigil_core::{RecordSink, Transaction};
use vigil_kafka::{
    GroupReader, KafkaConfig, KeyedProducer, ReadMessage, Security, StartOffsets, end_offsets,
    ensure_topics,
};

use super::{ARCHIVE_BUCKET, DEAD_LETTER_TOPIC, LocalOutputs, PROCESSED_TOPIC, Progress, Tally};
use crate::Error;
use crate::batch::{self, Record};
use crate::score::ScoreStage;

/// Partitions of the transactions and processed topics when the run makes them.
pub const PARTITIONS: i32 = 3;
/// Records the producer encodes and sends at a time: no second copy of the whole run.
pub const CHUNK: usize = 5_000;
/// Batches whose deliveries a stage lets run while it reads and handles the next ones: a
/// broker's acknowledgement takes a round trip and the producer's linger.
pub const IN_FLIGHT: usize = 8;
/// How long a stage keeps re-sending what the broker did not acknowledge.
pub const DELIVERY_BUDGET: Duration = Duration::from_secs(300);
/// How long a stage's poll waits for a first record: how late it may notice that no more
/// are due.
const POLL_WAIT: Duration = Duration::from_millis(50);
/// A stage that gets nothing for this long while records are still due gives up.
const IDLE_LIMIT: Duration = Duration::from_secs(180);
/// After this long without progress in any stage, the run says it is waiting.
const WAIT_NOTICE: Duration = Duration::from_secs(5);
/// How long to wait for a TCP connection when checking that the broker answers.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// The longest pause between attempts to commit offsets before the stage gives up.
const COMMIT_PATIENCE: Duration = Duration::from_secs(30);

/// A run's link to the broker, set up before the transactions are generated, so that the
/// pipeline's time is the pipeline's.
pub struct BrokerLink {
    pub config: KafkaConfig,
    /// Shared by the producer and the scoring stage. Made first: an idempotent producer
    /// asks the broker for its id before it sends anything, which took up to 1 s here.
    pub producer: Arc<KeyedProducer>,
    /// The topic transactions are produced to.
    pub topic: String,
    /// Where both topics ended when the run began: its consumer groups start there.
    pub transactions_end: StartOffsets,
    pub processed_end: StartOffsets,
    /// How long the set-up took.
    pub took: Duration,
}

fn kafka(what: impl Into<String>) -> impl FnOnce(vigil_kafka::Error) -> Error {
    let what = what.into();
    move |source| Error::Kafka { what, source }
}

/// Checks that the broker answers, makes the topics and the producer, and finds where the
/// topics end. `security` is TLS and SASL (`Security::default()`: plaintext, no auth).
pub async fn connect(broker: &str, security: Security, topic: &str) -> Result<BrokerLink, Error> {
    let began = Instant::now();
    let config = KafkaConfig::new(broker)
        .and_then(|c| c.with_security(security))
        .map_err(kafka(format!("broker {broker}")))?;
    // librdkafka would retry an absent broker quietly for minutes: ask once, plainly.
    let reachable = config.bootstrap_servers.split(',').any(|server| {
        use std::net::ToSocketAddrs;
        server.trim().to_socket_addrs().is_ok_and(|mut addrs| {
            addrs.any(|a| std::net::TcpStream::connect_timeout(&a, CONNECT_TIMEOUT).is_ok())
        })
    });
    if !reachable {
        return Err(Error::NoBroker(broker.to_owned()));
    }
    let producer = Arc::new(KeyedProducer::new(&config).map_err(kafka("making the producer"))?);
    ensure_topics(
        &config,
        &[
            (topic, PARTITIONS),
            (PROCESSED_TOPIC, PARTITIONS),
            (DEAD_LETTER_TOPIC, 1),
        ],
    )
    .await
    .map_err(kafka(format!(
        "making the topics: is a Kafka-protocol broker listening on {broker}? (infra/stack.sh start)"
    )))?;
    // Both looked up at once (each lookup waits out a quiet moment).
    let (transactions_end, processed_end) = std::thread::scope(|s| {
        let transactions = s.spawn(|| end_offsets(&config, topic));
        let processed = end_offsets(&config, PROCESSED_TOPIC);
        (transactions.join(), processed)
    });
    let transactions_end = transactions_end
        .map_err(|_| Error::Stage("the end offset lookup panicked".into()))?
        .map_err(kafka(format!("where `{topic}` ends")))?;
    Ok(BrokerLink {
        transactions_end,
        processed_end: processed_end.map_err(kafka(format!("where `{PROCESSED_TOPIC}` ends")))?,
        config,
        producer,
        topic: topic.to_owned(),
        took: began.elapsed(),
    })
}

/// One progress per stage of a broker run.
pub struct StageProgress {
    pub produce: Arc<dyn Progress>,
    pub score: Arc<dyn Progress>,
    pub alert: Arc<dyn Progress>,
    pub archive: Arc<dyn Progress>,
}

/// Runs `transactions` through the broker: produced to the link's topic, scored by `stage`
/// onto `processed_transactions`, then alerted on and archived by two more groups. Each
/// run has its own consumer groups, starting where the topics ended when it connected.
pub async fn through_broker(
    link: BrokerLink,
    batch_size: usize,
    outputs: LocalOutputs,
    stage: ScoreStage,
    transactions: Vec<Transaction>,
    bars: &StageProgress,
) -> Result<Tally, Error> {
    let BrokerLink {
        config,
        producer,
        topic,
        transactions_end,
        processed_end,
        ..
    } = link;
    let run = format!("{:x}", Utc::now().timestamp_millis());
    let source = |stage: &str, topic: &str, start: &StartOffsets| Source {
        start: start.clone(),
        config: config.clone(),
        group: format!("vigil-{stage}-{run}"),
        topic: topic.to_owned(),
        batch_size,
    };
    let score_source = source("score", &topic, &transactions_end);
    let alert_source = source("alert", PROCESSED_TOPIC, &processed_end);
    let archive_source = source("archive", PROCESSED_TOPIC, &processed_end);
    let count = transactions.len();
    // The consumers of `processed_transactions` learn how many records are due once
    // scoring is done (dead letters do not reach them).
    let processed_due = Arc::new(AtomicUsize::new(usize::MAX));
    let runtime = tokio::runtime::Handle::current();
    let outputs = Arc::new(outputs);

    let producing = {
        let (producer, bar) = (producer.clone(), bars.produce.clone());
        tokio::spawn(async move {
            let encoded = transactions.into_iter().map(|t| {
                let payload = sonic_rs::to_vec(&t)?;
                Ok((t.entity_id, payload))
            });
            produce(producer.as_ref(), &topic, encoded, bar.as_ref()).await
        })
    };

    let scoring = {
        let (processed_due, bar, runtime) =
            (processed_due.clone(), bars.score.clone(), runtime.clone());
        let mut stage = stage;
        tokio::task::spawn_blocking(move || -> Result<(Tally, Duration), Error> {
            let mut tally = Tally::default();
            let began = Instant::now();
            let mut processed = 0;
            consume(
                &score_source,
                &|| count,
                bar.as_ref(),
                &runtime,
                &mut |records| {
                    let scored = batch::score(&mut stage, &records, Utc::now())?;
                    tally.count(&scored);
                    processed += scored.processed.len();
                    // Delivered while the next batch is scored; `consume` commits after.
                    let producer = producer.clone();
                    Ok(Some(runtime.spawn(async move {
                        producer
                            .deliver(PROCESSED_TOPIC, scored.processed, DELIVERY_BUDGET)
                            .await?;
                        producer
                            .deliver(DEAD_LETTER_TOPIC, scored.dead_letters, DELIVERY_BUDGET)
                            .await?;
                        Ok(())
                    })))
                },
            )
            .inspect_err(|_| processed_due.store(0, Ordering::SeqCst))?;
            processed_due.store(processed, Ordering::SeqCst);
            bar.finish();
            tally.entities = stage.entities();
            Ok((tally, began.elapsed()))
        })
    };

    let alerting = {
        let (processed, bar, runtime, outputs) = (
            processed_due.clone(),
            bars.alert.clone(),
            runtime.clone(),
            outputs.clone(),
        );
        tokio::task::spawn_blocking(move || -> Result<(usize, usize, Duration), Error> {
            let began = Instant::now();
            let mut alerts = 0;
            let due_now = || due(&processed, bar.as_ref());
            let read = consume(
                &alert_source,
                &due_now,
                bar.as_ref(),
                &runtime,
                &mut |records| {
                    alerts += runtime
                        .block_on(batch::alert(&outputs.outbox, outputs.policy, &records))?
                        .alerts;
                    Ok(None)
                },
            )?;
            bar.finish();
            Ok((read, alerts, began.elapsed()))
        })
    };

    let archiving = {
        let (processed, bar, runtime, outputs) = (
            processed_due.clone(),
            bars.archive.clone(),
            runtime.clone(),
            outputs.clone(),
        );
        tokio::task::spawn_blocking(move || -> Result<(usize, usize, usize, Duration), Error> {
            let began = Instant::now();
            let (mut objects, mut archived) = (0, 0);
            let due_now = || due(&processed, bar.as_ref());
            let read = consume(
                &archive_source,
                &due_now,
                bar.as_ref(),
                &runtime,
                &mut |records| {
                    let done = runtime.block_on(batch::archive(
                        &outputs.store,
                        ARCHIVE_BUCKET,
                        &records,
                    ))?;
                    objects += done.objects.len();
                    archived += done.records - done.skipped;
                    Ok(None)
                },
            )?;
            bar.finish();
            Ok((read, objects, archived, began.elapsed()))
        })
    };

    let watchdog = tokio::spawn(watch([
        ("produce", bars.produce.clone()),
        ("score", bars.score.clone()),
        ("alert", bars.alert.clone()),
        ("archive", bars.archive.clone()),
    ]));
    let finished = async {
        let produce_time = producing.await.map_err(task("produce"))??;
        let (mut tally, score_time) = scoring.await.map_err(task("score"))??;
        let (alert_read, alerts, alert_time) = alerting.await.map_err(task("alert"))??;
        let (archive_read, objects, archived, archive_time) =
            archiving.await.map_err(task("archive"))??;
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
    .await;
    watchdog.abort();
    finished
}

fn task(stage: &'static str) -> impl FnOnce(tokio::task::JoinError) -> Error {
    move |e| Error::Stage(format!("the {stage} stage's task failed: {e}"))
}

/// Says so when no stage moves, e.g. while the broker does not answer.
async fn watch<const N: usize>(stages: [(&'static str, Arc<dyn Progress>); N]) {
    let (mut last, mut since) = (0, Instant::now());
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now: u64 = stages.iter().map(|(_, p)| p.position()).sum();
        if now != last {
            (last, since) = (now, Instant::now());
        } else if since.elapsed() >= WAIT_NOTICE {
            let where_ = stages
                .iter()
                .map(|(name, p)| format!("{name} {}", p.position()))
                .collect::<Vec<_>>()
                .join(", ");
            if let Some((_, first)) = stages.first() {
                first.say(&format!(
                    "no progress for {} s ({where_}); waiting for the broker",
                    since.elapsed().as_secs()
                ));
            }
            since = Instant::now();
        }
    }
}

/// Sends `records` (`(key, payload)`, or why one could not be encoded) to `topic`, [`CHUNK`]
/// at a time, each chunk delivered before the next is encoded; returns how long it took.
pub async fn produce(
    sink: &impl RecordSink,
    topic: &str,
    records: impl Iterator<Item = Result<(String, Vec<u8>), Error>>,
    progress: &dyn Progress,
) -> Result<Duration, Error> {
    let began = Instant::now();
    let mut records = records.peekable();
    while records.peek().is_some() {
        let chunk = records
            .by_ref()
            .take(CHUNK)
            .collect::<Result<Vec<_>, Error>>()?;
        let n = chunk.len() as u64;
        sink.deliver(topic, chunk, DELIVERY_BUDGET).await?;
        progress.inc(n);
    }
    progress.finish();
    Ok(began.elapsed())
}

/// Where a stage reads from: its consumer group, on a topic, from the offsets where this
/// run began.
pub struct Source {
    pub config: KafkaConfig,
    pub group: String,
    pub topic: String,
    pub start: StartOffsets,
    pub batch_size: usize,
}

/// What a stage's handler may leave running when it returns: its batch's deliveries, to
/// be awaited before the batch is committed.
pub type InFlight = Option<tokio::task::JoinHandle<Result<(), Error>>>;

/// A batch handled, its deliveries perhaps still in flight, not yet committed.
struct Handled {
    in_flight: InFlight,
    positions: Vec<(i32, i64)>,
}

/// A consumer group's loop: reads batches, hands each to `handle`, commits after it, until
/// `due()` records have been read; returns how many were read.
///
/// A batch's deliveries (what `handle` left in flight) go on while the next [`IN_FLIGHT`]
/// batches are read and handled; batches are committed in order, each once its deliveries
/// are done, so nothing is committed before its output is acknowledged. A broker that
/// cannot be reached is reported and waited for; a batch whose handling or delivery fails
/// is not committed and stops the stage.
pub fn consume(
    source: &Source,
    due: &dyn Fn() -> usize,
    progress: &dyn Progress,
    runtime: &tokio::runtime::Handle,
    handle: &mut dyn FnMut(Vec<Record>) -> Result<InFlight, Error>,
) -> Result<usize, Error> {
    let reader = GroupReader::new(&source.config, &source.group, &source.topic, &source.start)
        .map_err(kafka(format!("joining consumer group {}", source.group)))?;
    let (mut seen, mut idle_since) = (0usize, Instant::now());
    let mut in_flight: VecDeque<Handled> = VecDeque::new();
    // Waits for a batch's deliveries, then commits it. While batches keep coming the commit
    // is not waited for (a round trip per batch); it is when the stage goes idle or ends,
    // or when an earlier one failed, and a failed one is retried.
    let finish = |batch: Handled, seen: &mut usize, wait: bool| -> Result<(), Error> {
        if let Some(deliveries) = batch.in_flight {
            runtime
                .block_on(deliveries)
                .map_err(|e| Error::Stage(format!("a delivery task failed: {e}")))??;
        }
        let mut committed = if wait {
            reader.commit(&batch.positions)
        } else {
            reader.commit_async(&batch.positions)
        };
        let mut pause = Duration::from_millis(200);
        while let Err(e) = committed {
            if pause > COMMIT_PATIENCE {
                return Err(kafka(format!("{}: committing offsets", source.group))(e));
            }
            progress.say(&format!(
                "{}: committing offsets: {e}; retrying",
                source.group
            ));
            std::thread::sleep(pause);
            pause *= 2;
            committed = reader.commit(&[]);
        }
        *seen += batch.positions.len();
        progress.inc(batch.positions.len() as u64);
        Ok(())
    };
    // Finishes every batch in flight, in order, waiting for the last commit.
    let finish_all = |in_flight: &mut VecDeque<Handled>, seen: &mut usize| -> Result<(), Error> {
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
                progress.say(&format!("{}: {e}; retrying", source.group));
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
            if idle_since.elapsed() > IDLE_LIMIT {
                return Err(Error::Stage(format!(
                    "{}: no records on `{}` for {} s ({seen} read, more due)",
                    source.group,
                    source.topic,
                    IDLE_LIMIT.as_secs(),
                )));
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
        if in_flight.len() > IN_FLIGHT
            && let Some(batch) = in_flight.pop_front()
        {
            finish(batch, &mut seen, false)?;
        }
    }
    finish_all(&mut in_flight, &mut seen)?;
    Ok(seen)
}

/// How many processed records are due, once scoring has said; the progress learns it too.
fn due(processed: &AtomicUsize, progress: &dyn Progress) -> usize {
    let n = processed.load(Ordering::SeqCst);
    if n != usize::MAX {
        progress.set_length(n as u64);
    }
    n
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

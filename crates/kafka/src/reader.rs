use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use crate::context::{Auth, Explains, prime};
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::message::BorrowedMessage;
use rdkafka::{Message, Offset, TopicPartitionList};

use crate::{Error, KafkaConfig};

/// A message as read back from a topic.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadMessage {
    pub partition: i32,
    pub offset: i64,
    pub key: Option<Vec<u8>>,
    pub payload: Vec<u8>,
}

impl From<&BorrowedMessage<'_>> for ReadMessage {
    fn from(m: &BorrowedMessage<'_>) -> Self {
        Self {
            partition: m.partition(),
            offset: m.offset(),
            key: m.key().map(<[u8]>::to_vec),
            payload: m.payload().unwrap_or_default().to_vec(),
        }
    }
}

/// Where a read starts: the beginning of every partition, or given offsets (partitions not
/// named start at the beginning).
pub type StartOffsets = HashMap<i32, i64>;

fn reader(config: &KafkaConfig) -> Result<BaseConsumer<Auth>, Error> {
    let consumer: BaseConsumer<Auth> = config
        .consumer_config("vigil-reader")
        .create_with_context(config.context())?;
    prime(consumer.client(), config.iam())?;
    Ok(consumer)
}

/// Why a request found no broker. librdkafka reports a failed connection (a TLS handshake,
/// an authentication) as an event on the client's main queue, which only a poll reads: the
/// consumer is polled briefly (it is assigned nothing, so no record is taken) and its context
/// says what it heard.
fn why<C: ConsumerContext + Explains>(
    consumer: &BaseConsumer<C>,
    e: rdkafka::error::KafkaError,
) -> Error {
    for _ in 0..EVENT_POLLS {
        let _ = consumer.poll(Duration::from_millis(100));
    }
    consumer.context().explain(e)
}

/// How many short polls [`why`] reads events for.
const EVENT_POLLS: usize = 10;

/// An admin request failed (an admin client never reads its main queue, so its failed
/// connections go unheard): a consumer made for the purpose asks for metadata and, if that
/// fails too, says why.
pub(crate) fn diagnose(config: &KafkaConfig, e: rdkafka::error::KafkaError) -> Error {
    let Ok(probe) = reader(config) else {
        return Error::Client(e);
    };
    match probe.fetch_metadata(None, Duration::from_secs(5)) {
        Ok(_) => Error::Client(e),
        Err(_) => why(&probe, e),
    }
}

pub(crate) fn partitions<C: ConsumerContext + Explains>(
    consumer: &BaseConsumer<C>,
    topic: &str,
) -> Result<Vec<i32>, Error> {
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .map_err(|e| why(consumer, e))?;
    let partitions: Vec<i32> = metadata
        .topics()
        .iter()
        .filter(|t| t.name() == topic)
        .flat_map(|t| t.partitions().iter().map(|p| p.id()))
        .collect();
    if partitions.is_empty() {
        return Err(Error::Topic {
            topic: topic.to_owned(),
            message: "has no partitions (does it exist?)".into(),
        });
    }
    Ok(partitions)
}

/// The current end offset of each partition: where the next message will land.
///
/// The high watermark should be that, but tansu 0.6.0 (the local broker) reports one past
/// the first offset of the partition's last record batch, and serves nothing from an
/// offset inside a batch. So the end is found by reading from the record before the
/// watermark: on a broker that reports it right, that is the last record; on tansu, the
/// last batch, whose last offset is the end. The topic is quiet when a run starts, so the
/// read stops once every partition has answered and nothing more came for a moment.
pub fn end_offsets(config: &KafkaConfig, topic: &str) -> Result<StartOffsets, Error> {
    let consumer = reader(config)?;
    let mut ends = StartOffsets::new();
    let mut waiting = HashSet::new();
    let mut assignment = TopicPartitionList::new();
    for p in partitions(&consumer, topic)? {
        let (low, high) = consumer.fetch_watermarks(topic, p, Duration::from_secs(10))?;
        ends.insert(p, high);
        if high > low {
            assignment.add_partition_offset(topic, p, Offset::Offset(high - 1))?;
            waiting.insert(p);
        }
    }
    if waiting.is_empty() {
        // Every partition is empty: nothing to read, nothing to wait for.
        return Ok(ends);
    }
    consumer.assign(&assignment)?;
    let deadline = Instant::now() + END_SEARCH_TIMEOUT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Error::Timeout {
                secs: END_SEARCH_TIMEOUT.as_secs(),
                what: format!("the last records of `{topic}`"),
            });
        }
        let wait = if waiting.is_empty() {
            END_SEARCH_IDLE
        } else {
            left
        };
        match consumer.poll(wait) {
            Some(message) => {
                let message = message?;
                let end = ends.entry(message.partition()).or_default();
                *end = (*end).max(message.offset() + 1);
                waiting.remove(&message.partition());
            }
            None if waiting.is_empty() => return Ok(ends),
            None => {}
        }
    }
}

/// How long the search for the end offsets waits for the partitions' last records.
const END_SEARCH_TIMEOUT: Duration = Duration::from_secs(30);
/// How long it waits for more once every partition has answered: ten of the consumers'
/// fetch waits, while a partition's last batch comes whole in one fetch answer.
const END_SEARCH_IDLE: Duration = Duration::from_millis(100);

/// Reads every partition of `topic` from `start` until `expected` messages have arrived,
/// or fails after `timeout`; `progress` is told the count as messages arrive. Assigns
/// partitions directly (no consumer group), so it commits nothing.
pub fn read_topic(
    config: &KafkaConfig,
    topic: &str,
    start: &StartOffsets,
    expected: usize,
    timeout: Duration,
    progress: &mut dyn FnMut(usize),
) -> Result<Vec<ReadMessage>, Error> {
    let consumer = reader(config)?;
    let mut assignment = TopicPartitionList::new();
    for p in partitions(&consumer, topic)? {
        let offset = start
            .get(&p)
            .map_or(Offset::Beginning, |o| Offset::Offset(*o));
        assignment.add_partition_offset(topic, p, offset)?;
    }
    consumer.assign(&assignment)?;

    let deadline = Instant::now() + timeout;
    let mut out = Vec::with_capacity(expected);
    while out.len() < expected {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Error::Timeout {
                secs: timeout.as_secs(),
                what: format!("{expected} messages on `{topic}` (got {})", out.len()),
            });
        }
        if let Some(message) = consumer.poll(left.min(Duration::from_millis(200))) {
            out.push(ReadMessage::from(&message?));
            progress(out.len());
        }
    }
    Ok(out)
}

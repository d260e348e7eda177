use std::collections::HashMap;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
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

fn reader(config: &KafkaConfig) -> Result<BaseConsumer, Error> {
    Ok(config
        .client_config()
        .set("group.id", "vigil-reader")
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false")
        .create()?)
}

pub(crate) fn partitions(consumer: &BaseConsumer, topic: &str) -> Result<Vec<i32>, Error> {
    let metadata = consumer.fetch_metadata(Some(topic), Duration::from_secs(10))?;
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
pub fn end_offsets(config: &KafkaConfig, topic: &str) -> Result<StartOffsets, Error> {
    let consumer = reader(config)?;
    partitions(&consumer, topic)?
        .into_iter()
        .map(|p| {
            let (_, high) = consumer.fetch_watermarks(topic, p, Duration::from_secs(10))?;
            Ok((p, high))
        })
        .collect()
}

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

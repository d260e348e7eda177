//! A consumer group's reader, as each stage of the pipeline runs locally: it reads its
//! topic in batches and commits after a batch is done, so a restarted stage resumes where
//! it left off and records are never skipped.

use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::{Offset, TopicPartitionList};

use crate::reader::{StartOffsets, partitions};
use crate::{Error, KafkaConfig, ReadMessage};

pub struct GroupReader {
    consumer: BaseConsumer,
    topic: String,
}

impl GroupReader {
    /// Reads every partition of `topic` for consumer group `group`, from the group's
    /// committed offsets, or (for a partition the group never committed) from `start`, or
    /// the beginning. Partitions are assigned, not balanced: one reader per group.
    pub fn new(
        config: &KafkaConfig,
        group: &str,
        topic: &str,
        start: &StartOffsets,
    ) -> Result<Self, Error> {
        let consumer: BaseConsumer = config
            .consumer_config(group)
            .set("isolation.level", "read_committed")
            .create()?;
        let mut wanted = TopicPartitionList::new();
        for p in partitions(&consumer, topic)? {
            wanted.add_partition(topic, p);
        }
        let committed = consumer.committed_offsets(wanted.clone(), Duration::from_secs(10))?;
        let mut assignment = TopicPartitionList::new();
        for e in wanted.elements() {
            let offset = match committed
                .find_partition(topic, e.partition())
                .map(|c| c.offset())
            {
                Some(Offset::Offset(o)) => Offset::Offset(o),
                _ => start
                    .get(&e.partition())
                    .map_or(Offset::Beginning, |o| Offset::Offset(*o)),
            };
            assignment.add_partition_offset(topic, e.partition(), offset)?;
        }
        consumer.assign(&assignment)?;
        Ok(Self {
            consumer,
            topic: topic.to_owned(),
        })
    }

    /// Up to `max` messages: waits up to `wait` for the first, then takes what has arrived.
    pub fn poll_batch(&self, max: usize, wait: Duration) -> Result<Vec<ReadMessage>, Error> {
        let mut out = Vec::new();
        let deadline = Instant::now() + wait;
        while out.len() < max {
            let left = if out.is_empty() {
                deadline.saturating_duration_since(Instant::now())
            } else {
                Duration::ZERO
            };
            match self.consumer.poll(left) {
                Some(m) => out.push(ReadMessage::from(&m?)),
                None if out.is_empty() && !left.is_zero() => continue,
                None => break,
            }
        }
        Ok(out)
    }

    /// Commits, synchronously, the position after the last of the `(partition, offset)`s
    /// read in each partition.
    pub fn commit(&self, read: &[(i32, i64)]) -> Result<(), Error> {
        let mut next = StartOffsets::new();
        for &(partition, offset) in read {
            let o = next.entry(partition).or_insert(offset + 1);
            *o = (*o).max(offset + 1);
        }
        if next.is_empty() {
            return Ok(());
        }
        let mut list = TopicPartitionList::new();
        for (p, o) in next {
            list.add_partition_offset(&self.topic, p, Offset::Offset(o))?;
        }
        self.consumer.commit(&list, CommitMode::Sync)?;
        Ok(())
    }
}

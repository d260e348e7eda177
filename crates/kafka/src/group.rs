//! A consumer group's reader, as each stage of the pipeline runs locally: it reads its
//! topic in batches and commits after a batch is done, so a restarted stage resumes where
//! it left off and records are never skipped.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use rdkafka::client::{ClientContext, OAuthToken};

use crate::context::{Auth, Explains, prime};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext};
use rdkafka::error::KafkaResult;
use rdkafka::{Offset, TopicPartitionList};

use crate::reader::{StartOffsets, partitions};
use crate::{Error, KafkaConfig, ReadMessage};

/// Keeps the last failure of an asynchronous commit, which librdkafka reports while the
/// consumer is polled.
struct CommitWatch {
    failed: Mutex<Option<String>>,
    auth: Auth,
}

impl ClientContext for CommitWatch {
    const ENABLE_REFRESH_OAUTH_TOKEN: bool = true;

    fn generate_oauth_token(
        &self,
        config: Option<&str>,
    ) -> Result<OAuthToken, Box<dyn std::error::Error>> {
        self.auth.generate_oauth_token(config)
    }

    fn error(&self, error: rdkafka::error::KafkaError, reason: &str) {
        self.auth.error(error, reason);
    }
}

impl Explains for CommitWatch {
    fn explain(&self, e: rdkafka::error::KafkaError) -> Error {
        self.auth.explain(e)
    }
}

impl ConsumerContext for CommitWatch {
    fn commit_callback(&self, result: KafkaResult<()>, _offsets: &TopicPartitionList) {
        if let Err(e) = result {
            *lock(&self.failed) = Some(e.to_string());
        }
    }
}

/// A poisoned lock only means another thread panicked mid-update of plain data.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

pub struct GroupReader {
    consumer: BaseConsumer<CommitWatch>,
    topic: String,
    /// Per partition, the position after the last record handed to a commit: every commit
    /// carries them all, so a later one makes good an earlier one that failed.
    positions: Mutex<StartOffsets>,
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
        let consumer: BaseConsumer<CommitWatch> = config
            .consumer_config(group)
            .set("isolation.level", "read_committed")
            .create_with_context(CommitWatch {
                failed: Mutex::default(),
                auth: config.context(),
            })?;
        prime(consumer.client(), config.iam())?;
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
            positions: Mutex::default(),
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
    /// read in each partition, with those of earlier commits (so `commit(&[])` makes sure
    /// of everything handed in so far).
    pub fn commit(&self, read: &[(i32, i64)]) -> Result<(), Error> {
        let Some(list) = self.advance(read)? else {
            return Ok(());
        };
        self.consumer.commit(&list, CommitMode::Sync)?;
        // Everything handed in so far is committed: an earlier failure no longer matters.
        lock(&self.consumer.context().failed).take();
        Ok(())
    }

    /// [`GroupReader::commit`] without waiting for the broker's answer, which would cost a
    /// round trip per batch. Fails when an earlier asynchronous commit was refused, so
    /// that the caller makes sure with [`GroupReader::commit`]; a failure of this one is
    /// reported by a later call.
    pub fn commit_async(&self, read: &[(i32, i64)]) -> Result<(), Error> {
        let list = self.advance(read)?;
        if let Some(reason) = lock(&self.consumer.context().failed).take() {
            return Err(Error::Commit(reason));
        }
        if let Some(list) = list {
            self.consumer.commit(&list, CommitMode::Async)?;
        }
        Ok(())
    }

    /// Moves the positions past `read`; the list to commit, if any position is known.
    fn advance(&self, read: &[(i32, i64)]) -> Result<Option<TopicPartitionList>, Error> {
        let mut positions = lock(&self.positions);
        for &(partition, offset) in read {
            let o = positions.entry(partition).or_insert(offset + 1);
            *o = (*o).max(offset + 1);
        }
        if positions.is_empty() {
            return Ok(None);
        }
        let mut list = TopicPartitionList::new();
        for (&p, &o) in positions.iter() {
            list.add_partition_offset(&self.topic, p, Offset::Offset(o))?;
        }
        Ok(Some(list))
    }
}

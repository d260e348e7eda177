//! Ports: the traits that adapters (AWS, local) implement.

use std::future::Future;
use std::time::{Duration, SystemTime};

use crate::{Error, FraudAssessment, Transaction};

/// An object in a bucket. Locally a bucket is a directory.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectRef {
    pub bucket: String,
    pub key: String,
}

impl ObjectRef {
    pub fn new(bucket: impl Into<String>, key: impl Into<String>) -> Self {
        Self {
            bucket: bucket.into(),
            key: key.into(),
        }
    }
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

/// Object storage (S3, or a local directory). Every method is idempotent, so that a
/// retried event does no harm: a put or copy overwrites, a delete of a missing object
/// succeeds.
pub trait ObjectStore: Send + Sync {
    fn put(
        &self,
        object: &ObjectRef,
        body: Vec<u8>,
        content_type: &str,
    ) -> impl Future<Output = Result<(), Error>> + Send;

    /// Fails with [`Error::ObjectNotFound`] when there is no such object.
    fn get(&self, object: &ObjectRef) -> impl Future<Output = Result<Vec<u8>, Error>> + Send;

    fn copy(
        &self,
        from: &ObjectRef,
        to: &ObjectRef,
    ) -> impl Future<Output = Result<(), Error>> + Send;

    /// Replaces the object's tags.
    fn set_tags(
        &self,
        object: &ObjectRef,
        tags: &[(String, String)],
    ) -> impl Future<Output = Result<(), Error>> + Send;

    fn tags(
        &self,
        object: &ObjectRef,
    ) -> impl Future<Output = Result<Vec<(String, String)>, Error>> + Send;

    fn delete(&self, object: &ObjectRef) -> impl Future<Output = Result<(), Error>> + Send;

    /// Keys under a prefix with when each was last written (when the store says), in
    /// lexical order.
    fn entries(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> impl Future<Output = Result<Vec<(String, Option<SystemTime>)>, Error>> + Send;

    /// Keys under a prefix, in lexical order.
    fn list(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> impl Future<Output = Result<Vec<String>, Error>> + Send {
        async move {
            let entries = self.entries(bucket, prefix).await?;
            Ok(entries.into_iter().map(|(key, _)| key).collect())
        }
    }

    /// Keys under a prefix last written before `before`, in lexical order (a sweep for
    /// what was left behind).
    fn list_written_before(
        &self,
        bucket: &str,
        prefix: &str,
        before: SystemTime,
    ) -> impl Future<Output = Result<Vec<String>, Error>> + Send {
        async move {
            let entries = self.entries(bucket, prefix).await?;
            Ok(entries
                .into_iter()
                .filter(|(_, written)| written.is_some_and(|w| w < before))
                .map(|(key, _)| key)
                .collect())
        }
    }
}

/// Something that assesses a transaction: the built-in model and rules, or Amazon Fraud
/// Detector. `ttdf` and `proc_time` are the caller's to fill in.
pub trait FraudScorer: Send + Sync {
    fn assess(
        &self,
        transaction: &Transaction,
    ) -> impl Future<Output = Result<FraudAssessment, Error>> + Send;
}

/// Sends an alert (SNS on AWS, an outbox of `.eml` files locally). `id` names the alert, so
/// that sending the same alert again replaces it where the channel allows.
pub trait Notifier: Send + Sync {
    fn notify(
        &self,
        id: &str,
        subject: &str,
        body: &str,
    ) -> impl Future<Output = Result<(), Error>> + Send;
}

/// Where keyed records go: Kafka topics (MSK on AWS, a local broker), or a vector in unit
/// tests. The scoring and producing Lambda functions and `vigil demo` write through it.
pub trait RecordSink: Send + Sync {
    /// Delivers every `(key, payload)` to `topic` and returns how many were delivered.
    /// What the destination does not acknowledge is sent again, alone, until `budget` has
    /// passed; then it fails with [`Error::Delivery`]. An acknowledged record is never sent
    /// twice.
    fn deliver(
        &self,
        topic: &str,
        records: Vec<(String, Vec<u8>)>,
        budget: Duration,
    ) -> impl Future<Output = Result<usize, Error>> + Send;
}

/// Which copy of an event a consumer has acted on. A scoring batch that is retried after
/// its output was delivered puts a second copy of its records on the topic, at other
/// offsets; the consumers that must act once per event (alerts, the archive) claim each
/// event for the position of the copy they read, and pass over copies at other positions.
/// A consumer batch that is itself retried reads the same positions, so it keeps its
/// claims and does its work again (idempotently) rather than dropping it.
pub trait EventClaims: Send + Sync {
    /// Claims `event_id` within `scope` (one per consumer) for the copy at `position`;
    /// `true` when that copy holds the claim: the first to claim it, or the same copy again.
    fn claim(
        &self,
        scope: &str,
        event_id: &str,
        position: &str,
    ) -> impl Future<Output = Result<bool, Error>> + Send;
}

/// Claims kept in memory: for one process (tests, a local run), where nothing is retried
/// across processes.
#[derive(Debug, Default)]
pub struct MemoryClaims(std::sync::Mutex<std::collections::HashMap<(String, String), String>>);

impl EventClaims for MemoryClaims {
    async fn claim(&self, scope: &str, event_id: &str, position: &str) -> Result<bool, Error> {
        let mut claims = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let holder = claims
            .entry((scope.to_owned(), event_id.to_owned()))
            .or_insert_with(|| position.to_owned());
        Ok(holder == position)
    }
}

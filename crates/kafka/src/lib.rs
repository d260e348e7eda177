//! Kafka (MSK) adapters over rdkafka: connection settings, an idempotent keyed producer,
//! a reader that drains a topic, a consumer group's batch reader, and topic creation.

mod admin;
mod config;
mod context;
mod group;
pub mod msk_iam;
mod producer;
mod reader;
pub mod security;

pub use admin::{ensure_topic, ensure_topics};
pub use config::KafkaConfig;
pub use group::GroupReader;
pub use producer::{DeliveryReport, KeyedProducer};
pub use reader::{ReadMessage, StartOffsets, end_offsets, read_topic};
pub use security::Security;

/// The one error type of `vigil-kafka`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Kafka setting: {0}")]
    Config(String),
    /// TLS or SASL: a token that could not be made, credentials that could not be found.
    #[error("Kafka authentication: {0}")]
    Auth(String),
    /// No broker could be reached, with librdkafka's reason.
    #[error("cannot reach the brokers: {0}")]
    Connect(String),
    #[error("Kafka client: {0}")]
    Client(#[from] rdkafka::error::KafkaError),
    #[error("topic `{topic}`: {message}")]
    Topic { topic: String, message: String },
    #[error("could not encode record: {0}")]
    Encode(#[from] serde_json::Error),
    #[error("{failed} of {total} records were not delivered to `{topic}` (first: {first})")]
    Delivery {
        topic: String,
        failed: usize,
        total: usize,
        first: String,
    },
    #[error("an earlier offset commit failed: {0}")]
    Commit(String),
    #[error("timed out after {secs} s waiting for {what}")]
    Timeout { secs: u64, what: String },
}

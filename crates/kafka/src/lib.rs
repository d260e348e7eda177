//! Kafka (MSK) adapters over rdkafka: connection settings, an idempotent keyed producer,
//! a reader that drains a topic, a consumer group's batch reader, and topic creation.

mod admin;
mod config;
mod group;
mod producer;
mod reader;

pub use admin::{ensure_topic, ensure_topics};
pub use config::KafkaConfig;
pub use group::GroupReader;
pub use producer::{DeliveryReport, KeyedProducer};
pub use reader::{ReadMessage, StartOffsets, end_offsets, read_topic};

/// The one error type of `vigil-kafka`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Kafka setting: {0}")]
    Config(String),
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

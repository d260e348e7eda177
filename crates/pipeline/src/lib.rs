//! The transaction pipeline's stages as plain functions over records, shared by the Lambda
//! functions and the local runner: [`score`] (transaction → processed transaction, or a
//! dead letter), [`alert`] (processed transaction → masked alert e-mail), [`archive`]
//! (a batch → one NDJSON object under a retry-stable key). [`local`] has the local
//! adapters: a directory for S3 and an outbox of `.eml` files for SNS. [`batch`] runs the
//! stages over a batch of Kafka records, for the Lambda functions and `vigil demo` alike;
//! [`run`] runs the whole pipeline over a run of transactions, in process or (feature
//! `broker`) through a Kafka-protocol broker. [`registry`] keeps model and rules versions
//! and hands a running scorer the active ones.

pub mod alert;
pub mod archive;
pub mod batch;
pub mod dedup;
pub mod local;
pub mod registry;
pub mod run;
pub mod score;
pub mod scoring;

/// The one error type of `vigil-pipeline`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// Writing JSON (sonic-rs: SIMD string escaping, a third faster than serde_json here).
    #[error("JSON: {0}")]
    Encode(#[from] sonic_rs::Error),
    #[error(transparent)]
    Store(#[from] vigil_core::Error),
    #[error(transparent)]
    State(#[from] vigil_fraud::Error),
    #[error("{0}")]
    Downstream(String),
    /// A stage of a run that stopped: a worker that panicked, a consumer that waited too
    /// long for records.
    #[error("{0}")]
    Stage(String),
    #[cfg(feature = "broker")]
    #[error("{what}: {source}")]
    Kafka {
        what: String,
        #[source]
        source: vigil_kafka::Error,
    },
    #[cfg(feature = "broker")]
    #[error("no broker answers at {0}: start the local one with infra/stack.sh start")]
    NoBroker(String),
}

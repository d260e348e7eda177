/// The one error type of `vigil-core`.
///
/// Messages never carry field values of a record: they may hold personal data.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("object s3://{bucket}/{key} does not exist")]
    ObjectNotFound { bucket: String, key: String },
    #[error("object store {op} failed for s3://{bucket}/{key}: {message}")]
    Store {
        op: &'static str,
        bucket: String,
        key: String,
        message: String,
    },
    #[error("CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("line {line}: {message}")]
    Record { line: u64, message: String },
    /// A CSV whose header lacks a column the table needs: not an export of the table.
    #[error("line 1: header has no `{0}` column")]
    MissingColumn(String),
    #[error("unknown outcome `{0}` (expected approve, review or block)")]
    UnknownOutcome(String),
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("fraud scorer: {0}")]
    Scorer(String),
    #[error("notifier: {0}")]
    Notify(String),
    #[error("delivery: {0}")]
    Delivery(String),
    /// The claims a consumer keeps on the events it has acted on could not be read or written.
    #[error("event claims: {0}")]
    Claims(String),
    /// A setting kept in a cloud service (a cluster's brokers, a secret) could not be read.
    #[error("{what}: {message}")]
    Lookup { what: String, message: String },
}

/// What can go wrong building or drawing the report.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A report query failed in the engine that ran it.
    #[error("query {name}: {message}")]
    Query { name: String, message: String },
    /// A result lacks a column or holds a value of the wrong kind.
    #[error("query {name}: {message}")]
    Result { name: String, message: String },
    #[error("chart {name}: {message}")]
    Chart { name: String, message: String },
    #[error("{path}: {source}")]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

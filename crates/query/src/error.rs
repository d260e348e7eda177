use std::path::PathBuf;

/// What can go wrong reading the archive or running SQL over it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{0}: no processed transactions here (looked for an archive with dt=YYYY-MM-DD folders of .json files, or exported .csv files)"
    )]
    NoData(PathBuf),
    /// The engine's own message: a bad statement, an unknown column, a type error.
    #[error("{0}")]
    Sql(String),
    #[error("{0}")]
    Arrow(#[from] datafusion::arrow::error::ArrowError),
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

impl From<datafusion::error::DataFusionError> for Error {
    fn from(e: datafusion::error::DataFusionError) -> Self {
        // DataFusion wraps errors in context layers; the innermost message is the one a user can act on.
        Error::Sql(e.find_root().to_string())
    }
}

/// The one error type of `vigil-documents`.
///
/// Messages name files, pages and limits, never the text of a document: it may hold
/// personal data.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not a PDF (no %PDF header)")]
    NotPdf,
    #[error("the PDF needs a password: it is encrypted with a user password")]
    NeedsPassword,
    #[error("the PDF is encrypted with a security handler this reader does not support: {0}")]
    Encrypted(String),
    #[error("the PDF uses the {0} filter, which this reader does not support")]
    Filter(String),
    #[error("the PDF is damaged or truncated: {0}")]
    Damaged(String),
    #[error("the PDF has no pages")]
    NoPages,
    /// With why OCR did not read it either.
    #[error("the PDF has no text layer (scanned or image-only pages) and {0}")]
    NoText(String),
    #[error("the file is too large: {size} bytes (limit {limit})")]
    TooLarge { size: u64, limit: u64 },
    #[error("the PDF has too many {what}: {count} (limit {limit})")]
    TooMany {
        what: &'static str,
        count: usize,
        limit: usize,
    },
    #[error("OCR: {0}")]
    Ocr(String),
    #[error("the PDF took longer than the time budget of {0} ms")]
    TimeBudget(u64),
    #[error("model: {0}")]
    Model(String),
    #[error("allow list {origin}: {message}")]
    AllowList { origin: String, message: String },
    #[error("model file {path}: {message}")]
    ModelFile { path: String, message: String },
    #[error(transparent)]
    Store(#[from] vigil_core::Error),
    #[error("findings record: {0}")]
    Json(#[from] serde_json::Error),
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
}

impl From<candle_core::Error> for Error {
    fn from(e: candle_core::Error) -> Self {
        Error::Model(e.to_string())
    }
}

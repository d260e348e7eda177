//! SQL over the archive: the port, and its local adapter (DataFusion over the demo's
//! folder). The console's statements use only what both DataFusion (with Vigil's Presto
//! functions) and Athena understand, as the report's do.

use std::future::Future;
#[cfg(feature = "local")]
use std::path::PathBuf;

use serde::Serialize;
use serde_json::{Map, Value};
#[cfg(feature = "local")]
use vigil_query::Engine;
#[cfg(feature = "local")]
use vigil_query::datafusion::arrow::json::ArrayWriter;

use crate::Error;

/// Most rows an answer carries; the rest are counted, not sent.
pub const MAX_ROWS: usize = 5_000;

/// A query's answer: column names and rows as JSON objects.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Rows {
    pub columns: Vec<String>,
    pub rows: Vec<Map<String, Value>>,
    /// Rows left out past [`MAX_ROWS`].
    pub truncated: usize,
}

/// Read-only SQL over `txn_processedtxns` and `txn_labels`.
pub trait Sql: Send + Sync {
    fn query(&self, sql: &str) -> impl Future<Output = Result<Rows, Error>> + Send;

    /// An array or map column in a form this engine answers as JSON: DataFusion's rows
    /// carry them as they are; Athena answers text, so there they are cast to JSON.
    fn json(&self, expression: &str) -> String {
        expression.to_owned()
    }
}

#[cfg(feature = "local")]
/// The archive under a folder (the demo's output, or an archive), read afresh for each
/// statement so that records and labels written since are seen.
pub struct ArchiveSql {
    dir: PathBuf,
}

#[cfg(feature = "local")]
impl ArchiveSql {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }
}

#[cfg(feature = "local")]
impl Sql for ArchiveSql {
    async fn query(&self, sql: &str) -> Result<Rows, Error> {
        let mut engine = Engine::open(&self.dir)
            .await
            .map_err(|e| Error::Query(e.to_string()))?;
        let answer = engine
            .query(sql)
            .await
            .map_err(|e| Error::Query(e.to_string()))?;
        let columns = answer
            .schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let mut rows = Vec::new();
        let mut truncated = 0;
        for batch in &answer.batches {
            let room = MAX_ROWS.saturating_sub(rows.len());
            if batch.num_rows() > room {
                truncated += batch.num_rows() - room;
            }
            if room == 0 {
                continue;
            }
            let batch = batch.slice(0, batch.num_rows().min(room));
            let mut writer = ArrayWriter::new(Vec::new());
            writer
                .write(&batch)
                .map_err(|e| Error::Internal(format!("encoding rows: {e}")))?;
            writer
                .finish()
                .map_err(|e| Error::Internal(format!("encoding rows: {e}")))?;
            let bytes = writer.into_inner();
            if bytes.is_empty() {
                continue;
            }
            let decoded: Vec<Map<String, Value>> = serde_json::from_slice(&bytes)
                .map_err(|e| Error::Internal(format!("encoding rows: {e}")))?;
            rows.extend(decoded);
        }
        Ok(Rows {
            columns,
            rows,
            truncated,
        })
    }
}

/// A number, also when an engine answers it as text.
pub(crate) fn number(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// A text as an SQL string literal (quotes doubled). Values put into statements are
/// checked by their callers too (ids, outcomes, times); this is the last line.
pub fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

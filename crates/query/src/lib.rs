//! SQL over the processed-transactions archive: DataFusion with the table
//! `txn_processedtxns` (the archive's NDJSON with its `dt=` partitions, or the original
//! system's exported CSVs), `txn_labels` (analysts' verdicts beside it) and the Presto
//! functions Athena queries use.

mod csv_out;
mod engine;
mod error;
pub mod functions;
pub mod labels;
mod ndjson;
mod scan;
pub mod schema;
pub mod source;

pub use csv_out::{CsvWriter, to_csv_string, write_csv};
pub use datafusion;
pub use engine::{Answer, Engine};
pub use error::Error;

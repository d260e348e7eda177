//! The table `txn_labels`: analysts' verdicts as `vigil labels` stores them (NDJSON under
//! the archive's `labels/`, beside `processed/`), as the Glue table of the same name reads
//! them on AWS. Small enough to read whole into memory.

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use crate::Error;

pub const LABELS_TABLE: &str = "txn_labels";
const COLUMNS: [&str; 4] = ["event_id", "label", "time", "who"];

pub fn labels_schema() -> SchemaRef {
    Arc::new(Schema::new(
        COLUMNS
            .iter()
            .map(|c| Field::new(*c, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ))
}

/// Every label in the `*.json` files of `dir` (none when it does not exist), and how many
/// lines were not label objects.
pub fn load_labels(dir: &Path) -> Result<(RecordBatch, usize), Error> {
    let mut columns: [Vec<Option<String>>; 4] = Default::default();
    let mut skipped = 0;
    let mut files: Vec<_> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(Error::io(dir, e)),
    };
    files.sort();
    for file in files {
        let text = std::fs::read_to_string(&file).map_err(|e| Error::io(&file, e))?;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let Ok(serde_json::Value::Object(object)) = serde_json::from_str(line) else {
                skipped += 1;
                continue;
            };
            for (column, name) in columns.iter_mut().zip(COLUMNS) {
                column.push(object.get(name).and_then(|v| v.as_str()).map(str::to_owned));
            }
        }
    }
    let arrays: Vec<ArrayRef> = columns
        .into_iter()
        .map(|c| Arc::new(StringArray::from(c)) as ArrayRef)
        .collect();
    Ok((RecordBatch::try_new(labels_schema(), arrays)?, skipped))
}

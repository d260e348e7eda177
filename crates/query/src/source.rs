//! Where the processed transactions are, and how they become the table: the archive
//! (`dt=YYYY-MM-DD/*.json`, listed here and read by [`crate::scan`]), or the original
//! system's exported CSVs, whose good records are loaded into memory with a count of what
//! was skipped.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray};
use datafusion::arrow::json::ReaderBuilder;
use vigil_core::ProcessedTransaction;
use vigil_core::seed::read_processed_csv;

use crate::Error;
use crate::scan::ArchiveFile;
use crate::schema::{PARTITION, record_schema, table_schema};

/// The two layouts `--data` may point at.
#[derive(Debug, Clone, PartialEq)]
pub enum Layout {
    /// The folder holding the `dt=` partitions.
    Archive(PathBuf),
    /// Exported result CSVs (Athena/Superset downloads).
    Exports(Vec<PathBuf>),
}

fn is_partition(p: &Path) -> bool {
    p.is_dir()
        && p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("dt="))
}

fn entries(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        out.push(e.map_err(|e| Error::io(dir, e))?.path());
    }
    out.sort();
    Ok(out)
}

/// Finds the data under `dir`: the archive folder itself, or the demo's output folder
/// (`archive/processed`), or a folder of exported CSVs.
pub fn locate(dir: &Path) -> Result<Layout, Error> {
    if !dir.is_dir() {
        return Err(Error::io(
            dir,
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such folder"),
        ));
    }
    for candidate in [
        dir.to_path_buf(),
        dir.join("processed"),
        dir.join("archive/processed"),
    ] {
        if candidate.is_dir() && entries(&candidate)?.iter().any(|p| is_partition(p)) {
            return Ok(Layout::Archive(candidate));
        }
    }
    let csvs: Vec<PathBuf> = entries(dir)?
        .into_iter()
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")))
        .collect();
    if csvs.is_empty() {
        return Err(Error::NoData(dir.to_path_buf()));
    }
    Ok(Layout::Exports(csvs))
}

/// Good records with their partition, and what was left out.
#[derive(Debug, Default)]
pub struct Loaded {
    pub rows: Vec<(ProcessedTransaction, String)>,
    pub warnings: Vec<String>,
}

/// The archive's `.json` objects with their `dt` partition, in path order.
pub fn archive_files(root: &Path) -> Result<Vec<ArchiveFile>, Error> {
    let mut files = Vec::new();
    for part in entries(root)?.into_iter().filter(|p| is_partition(p)) {
        let name = part.file_name().and_then(|n| n.to_str()).unwrap_or("dt=");
        let dt: Arc<str> = Arc::from(&name[3..]);
        for path in entries(&part)? {
            if path.extension().is_some_and(|e| e == "json") {
                let size = std::fs::metadata(&path)
                    .map_err(|e| Error::io(&path, e))?
                    .len();
                files.push(ArchiveFile {
                    path,
                    dt: dt.clone(),
                    size,
                });
            }
        }
    }
    Ok(files)
}

/// Reads exported CSVs as the table (with [`vigil_core::seed::read_processed_csv`]): files
/// whose header has every transaction column and `fd` are rows of the table; other exports
/// (query results, chart series) are not, and are named in a warning. Padding rows are
/// skipped; a transaction exported more than once is kept once (by `event_id`).
pub fn load_exports(files: &[PathBuf]) -> Result<Loaded, Error> {
    let mut loaded = Loaded::default();
    let mut seen = HashSet::new();
    let (mut padding, mut bad, mut duplicates, mut other_files) = (0usize, 0usize, 0usize, 0usize);
    for file in files {
        let input = std::fs::File::open(file).map_err(|e| Error::io(file, e))?;
        let read = match read_processed_csv(input) {
            Ok(read) => read,
            Err(vigil_core::Error::MissingColumn(_)) => {
                other_files += 1;
                continue;
            }
            Err(e) => return Err(Error::io(file, std::io::Error::other(e))),
        };
        padding += read.padding_rows;
        for reason in read.rejected {
            bad += 1;
            if bad <= 5 {
                loaded
                    .warnings
                    .push(format!("{}: {reason}: skipped", file.display()));
            }
        }
        for r in read.records {
            if !seen.insert(r.transaction.event_id.clone()) {
                duplicates += 1;
                continue;
            }
            let dt = r
                .transaction
                .event_time
                .get(..10)
                .unwrap_or("unknown")
                .to_owned();
            loaded.rows.push((r, dt));
        }
    }
    if other_files > 0 {
        loaded.warnings.push(format!(
            "{other_files} CSV file(s) are not exports of the table (query results or chart series) and were not read"
        ));
    }
    if padding > 0 {
        loaded
            .warnings
            .push(format!("{padding} empty padding row(s) skipped"));
    }
    if duplicates > 0 {
        loaded.warnings.push(format!(
            "{duplicates} row(s) exported more than once kept once (same event_id)"
        ));
    }
    if bad > 0 {
        loaded
            .warnings
            .push(format!("{bad} unreadable row(s) skipped"));
    }
    Ok(loaded)
}

/// The records as one Arrow batch of the table's schema (through their canonical JSON,
/// so that the archive and the exports are decoded by one reader).
pub fn to_batch(rows: &[(ProcessedTransaction, String)]) -> Result<RecordBatch, Error> {
    let record_schema = record_schema();
    let mut decoder = ReaderBuilder::new(record_schema.clone())
        .with_batch_size(rows.len().max(1))
        .build_decoder()?;
    let mut json = Vec::with_capacity(rows.len() * 900);
    for (r, _) in rows {
        serde_json::to_writer(&mut json, r).map_err(|e| Error::Sql(e.to_string()))?;
        json.push(b'\n');
    }
    let mut offset = 0;
    while offset < json.len() {
        let read = decoder.decode(&json[offset..])?;
        if read == 0 {
            break;
        }
        offset += read;
    }
    let batch = decoder
        .flush()?
        .unwrap_or_else(|| RecordBatch::new_empty(record_schema));
    let dt: ArrayRef = Arc::new(StringArray::from_iter_values(rows.iter().map(|(_, d)| d)));
    let mut columns = batch.columns().to_vec();
    columns.push(dt);
    debug_assert_eq!(table_schema().field(columns.len() - 1).name(), PARTITION);
    Ok(RecordBatch::try_new(table_schema(), columns)?)
}

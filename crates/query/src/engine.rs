//! A DataFusion session with the table and the Presto functions registered.

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::datasource::MemTable;
use datafusion::error::DataFusionError;
use datafusion::execution::context::{SQLOptions, SessionContext};
use datafusion::prelude::DataFrame;
use futures::StreamExt;

use crate::labels::{LABELS_TABLE, labels_schema, load_labels};
use crate::scan::{ArchiveTable, SkipLog};
use crate::schema::{PARTITION, TABLE, table_schema};
use crate::source::{Layout, Loaded, archive_files, load_exports, locate, to_batch};
use crate::{CsvWriter, Error, functions};

/// A query's result: its columns and rows.
#[derive(Debug, Clone)]
pub struct Answer {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
}

impl Answer {
    pub fn rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }
}

/// SQL over one data folder.
pub struct Engine {
    ctx: SessionContext,
    layout: Layout,
    in_memory: bool,
    warnings: Vec<String>,
    /// The archive scans' log of lines left out.
    skipped: Option<Arc<Mutex<SkipLog>>>,
}

impl Engine {
    /// Finds the data under `dir` and registers it as `txn_processedtxns`, and the labels
    /// beside it (none: an empty table) as `txn_labels`.
    pub async fn open(dir: &Path) -> Result<Self, Error> {
        let ctx = SessionContext::new();
        functions::register(&ctx);
        let layout = locate(dir)?;
        let mut engine = Engine {
            ctx,
            layout,
            in_memory: false,
            warnings: vec![],
            skipped: None,
        };
        let labels_dir = match &engine.layout {
            Layout::Archive(processed) => processed.parent().unwrap_or(dir).join("labels"),
            Layout::Exports(_) => dir.join("labels"),
        };
        let (labels, skipped) = load_labels(&labels_dir)?;
        if skipped > 0 {
            engine.warnings.push(format!(
                "{}: {skipped} lines that are not labels left out",
                labels_dir.display()
            ));
        }
        engine.ctx.register_table(
            LABELS_TABLE,
            Arc::new(MemTable::try_new(labels_schema(), vec![vec![labels]])?),
        )?;
        match engine.layout.clone() {
            Layout::Archive(root) => {
                let table = ArchiveTable::new(archive_files(&root)?);
                engine.skipped = Some(table.skipped());
                engine.ctx.register_table(TABLE, Arc::new(table))?;
            }
            Layout::Exports(files) => {
                let loaded = tokio::task::spawn_blocking(move || load_exports(&files))
                    .await
                    .map_err(|e| Error::Sql(e.to_string()))??;
                engine.register_loaded(loaded)?;
            }
        }
        Ok(engine)
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// What was skipped while reading, for the user to see.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = self.warnings.clone();
        if let Some(log) = &self.skipped {
            out.extend(log.lock().unwrap_or_else(|p| p.into_inner()).warnings());
        }
        out
    }

    fn register_loaded(&mut self, loaded: Loaded) -> Result<(), Error> {
        let batch = to_batch(&loaded.rows)?;
        self.warnings.extend(loaded.warnings);
        // Slices of 64k rows, so that queries over it use every core.
        let partitions = (0..batch.num_rows().max(1))
            .step_by(65_536)
            .map(|at| vec![batch.slice(at, 65_536.min(batch.num_rows() - at))])
            .collect();
        let table = MemTable::try_new(table_schema(), partitions)?;
        self.ctx.deregister_table(TABLE)?;
        self.ctx.register_table(TABLE, Arc::new(table))?;
        self.in_memory = true;
        Ok(())
    }

    /// Reads `columns` (and `dt`) of the table once into memory, so that the statements
    /// that follow (the report's several queries) do not each scan the files again. Later
    /// statements see only these columns.
    pub async fn keep_in_memory(&mut self, columns: &[&str]) -> Result<(), Error> {
        if self.in_memory {
            return Ok(());
        }
        let list = columns
            .iter()
            .chain(std::iter::once(&PARTITION))
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let answer = self.query(&format!("SELECT {list} FROM {TABLE}")).await?;
        // One partition per batch: the queries on it still run on every core.
        let partitions = answer.batches.into_iter().map(|b| vec![b]).collect();
        let table = MemTable::try_new(answer.schema, partitions)?;
        self.ctx.deregister_table(TABLE)?;
        self.ctx.register_table(TABLE, Arc::new(table))?;
        self.in_memory = true;
        Ok(())
    }

    /// Runs one read-only statement. Archive lines that are not processed transactions
    /// are left out, and counted in the warnings.
    pub async fn query(&mut self, sql: &str) -> Result<Answer, Error> {
        let (schema, df) = self.plan(sql).await?;
        let batches = df.collect().await?;
        Ok(Answer { schema, batches })
    }

    /// Runs one read-only statement and writes its result to `out` as CSV, a batch at a
    /// time as the scan produces them (so that a large result is neither held whole nor
    /// formatted only after the scan).
    pub async fn query_csv<W: Write>(&mut self, sql: &str, out: W) -> Result<W, Error> {
        let (schema, df) = self.plan(sql).await?;
        let mut stream = df.execute_stream().await?;
        let mut w = CsvWriter::new(out, &schema)?;
        while let Some(batch) = stream.next().await {
            w.write_batch(&batch?)?;
        }
        w.finish()
    }

    /// The statement's plan, and its result's schema with Presto's column names.
    async fn plan(&self, sql: &str) -> Result<(SchemaRef, DataFrame), DataFusionError> {
        let options = SQLOptions::new()
            .with_allow_ddl(false)
            .with_allow_dml(false)
            .with_allow_statements(false);
        let df = self.ctx.sql_with_options(sql, options).await?;
        let arrow = df.schema().as_arrow();
        let schema: SchemaRef = Arc::new(Schema::new_with_metadata(
            arrow
                .fields()
                .iter()
                .map(|f| f.as_ref().clone().with_name(presto_name(f.name())))
                .collect::<Vec<_>>(),
            arrow.metadata().clone(),
        ));
        Ok((schema, df))
    }
}

/// Presto names an unaliased field access after the field (`fd.outcome` is `outcome`);
/// DataFusion calls it `txn_processedtxns.fd[outcome]`.
fn presto_name(name: &str) -> String {
    let is_ident = |s: &str| {
        !s.is_empty()
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !s.starts_with(|c: char| c.is_ascii_digit())
    };
    if let Some(open) = name.find('[') {
        let (base, fields) = name.split_at(open);
        let base_ok = base.split('.').all(is_ident);
        let parts: Vec<&str> = fields
            .strip_prefix('[')
            .and_then(|f| f.strip_suffix(']'))
            .map(|f| f.split("][").collect())
            .unwrap_or_default();
        if base_ok && !parts.is_empty() && parts.iter().all(|p| is_ident(p)) {
            return parts[parts.len() - 1].to_owned();
        }
    }
    name.to_owned()
}

#[cfg(test)]
mod tests {
    use super::presto_name;

    #[test]
    fn field_access_is_named_after_the_field() {
        assert_eq!(presto_name("txn_processedtxns.fd[outcome]"), "outcome");
        assert_eq!(presto_name("fd[outcome]"), "outcome");
        assert_eq!(presto_name("t.fd[a][b]"), "b");
        assert_eq!(
            presto_name("txn_processedtxns.fd[reasons][Int64(1)]"),
            "txn_processedtxns.fd[reasons][Int64(1)]"
        );
        assert_eq!(presto_name("count(*)"), "count(*)");
        assert_eq!(presto_name("event_ts"), "event_ts");
    }
}

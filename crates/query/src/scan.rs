//! The archive as a DataFusion table: its files split into one group per core, each read
//! whole and decoded by [`LineDecoder`] into only the columns the query needs, with `dt`
//! taken from the file's partition folder.

use std::collections::BTreeSet;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use datafusion::arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions, StringBuilder};
use datafusion::arrow::datatypes::{Fields, SchemaRef};
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{Expr, TableType};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
    SendableRecordBatchStream,
};

use crate::Error;
use crate::ndjson::{LineDecoder, Skipped};
use crate::schema::{PARTITION, table_schema};

/// One archive object and its partition.
#[derive(Debug, Clone)]
pub struct ArchiveFile {
    pub path: PathBuf,
    pub dt: Arc<str>,
    pub size: u64,
}

/// The archive lines the scans left out: each counted once however many queries met it,
/// the first few described.
#[derive(Debug, Default)]
pub struct SkipLog {
    lines: BTreeSet<(PathBuf, usize)>,
    examples: Vec<String>,
}

impl SkipLog {
    const EXAMPLES: usize = 5;

    fn add(&mut self, path: &Path, skipped: Vec<Skipped>) {
        for s in skipped {
            if self.lines.insert((path.to_path_buf(), s.line))
                && self.examples.len() < Self::EXAMPLES
            {
                self.examples.push(format!(
                    "{}: line {}: skipped, not a processed transaction ({})",
                    path.display(),
                    s.line,
                    s.reason
                ));
            }
        }
    }

    /// What to tell the user.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = self.examples.clone();
        if !self.lines.is_empty() {
            out.push(format!(
                "{} malformed archive line(s) skipped in all",
                self.lines.len()
            ));
        }
        out
    }
}

/// `txn_processedtxns` over the archive's files.
#[derive(Debug)]
pub struct ArchiveTable {
    files: Vec<ArchiveFile>,
    schema: SchemaRef,
    skipped: Arc<Mutex<SkipLog>>,
}

impl ArchiveTable {
    pub fn new(files: Vec<ArchiveFile>) -> Self {
        ArchiveTable {
            files,
            schema: table_schema(),
            skipped: Arc::default(),
        }
    }

    /// The lines left out so far, shared with every scan of the table.
    pub fn skipped(&self) -> Arc<Mutex<SkipLog>> {
        self.skipped.clone()
    }
}

/// Contiguous runs of files of about equal size, at most `n` of them.
fn split_by_size(files: &[ArchiveFile], n: usize) -> Vec<Vec<ArchiveFile>> {
    let total: u64 = files.iter().map(|f| f.size.max(1)).sum();
    let share = total.div_ceil(n.max(1) as u64);
    let mut groups: Vec<Vec<ArchiveFile>> = vec![];
    let mut current = vec![];
    let mut filled = 0;
    for f in files {
        current.push(f.clone());
        filled += f.size.max(1);
        if filled >= share {
            groups.push(std::mem::take(&mut current));
            filled = 0;
        }
    }
    if !current.is_empty() {
        groups.push(current);
    }
    if groups.is_empty() {
        groups.push(vec![]);
    }
    groups
}

#[async_trait]
impl TableProvider for ArchiveTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let all: Vec<usize> = (0..self.schema.fields().len()).collect();
        let projection = projection.unwrap_or(&all).clone();
        let projected = Arc::new(self.schema.project(&projection)?);
        let target = state.config_options().execution.target_partitions;
        Ok(Arc::new(ArchiveScan::new(
            split_by_size(&self.files, target),
            projected,
            limit,
            self.skipped.clone(),
        )))
    }
}

/// Where an output column comes from.
#[derive(Debug, Clone, Copy)]
enum Source {
    /// The n-th decoded record column.
    Record(usize),
    Partition,
}

#[derive(Debug)]
pub struct ArchiveScan {
    groups: Vec<Vec<ArchiveFile>>,
    schema: SchemaRef,
    record_fields: Fields,
    sources: Vec<Source>,
    limit: Option<usize>,
    skipped: Arc<Mutex<SkipLog>>,
    properties: Arc<PlanProperties>,
}

impl ArchiveScan {
    fn new(
        groups: Vec<Vec<ArchiveFile>>,
        schema: SchemaRef,
        limit: Option<usize>,
        skipped: Arc<Mutex<SkipLog>>,
    ) -> Self {
        let mut record_fields = vec![];
        let sources = schema
            .fields()
            .iter()
            .map(|f| {
                if f.name() == PARTITION {
                    Source::Partition
                } else {
                    record_fields.push(f.clone());
                    Source::Record(record_fields.len() - 1)
                }
            })
            .collect();
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(schema.clone()),
            Partitioning::UnknownPartitioning(groups.len()),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ));
        ArchiveScan {
            groups,
            schema,
            record_fields: Fields::from(record_fields),
            sources,
            limit,
            skipped,
            properties,
        }
    }
}

impl DisplayAs for ArchiveScan {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let files: usize = self.groups.iter().map(Vec::len).sum();
        write!(
            f,
            "ArchiveScan: {files} files in {} groups, columns {:?}",
            self.groups.len(),
            self.schema
                .fields()
                .iter()
                .map(|f| f.name())
                .collect::<Vec<_>>()
        )
    }
}

impl ExecutionPlan for ArchiveScan {
    fn name(&self) -> &str {
        "ArchiveScan"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        _children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let files = self.groups.get(partition).cloned().ok_or_else(|| {
            DataFusionError::Internal(format!("ArchiveScan has no partition {partition}"))
        })?;
        let decoder = LineDecoder::new(&self.record_fields).map_err(DataFusionError::Plan)?;
        let batches = Batches {
            files: files.into_iter(),
            decoder,
            dt: StringBuilder::new(),
            buf: Vec::new(),
            schema: self.schema.clone(),
            sources: self.sources.clone(),
            batch_size: context.session_config().batch_size(),
            left: self.limit.unwrap_or(usize::MAX),
            skipped: self.skipped.clone(),
            failed: false,
        };
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.schema.clone(),
            futures::stream::iter(batches),
        )))
    }
}

/// One group's files as record batches of about `batch_size` rows (whole files each).
struct Batches {
    files: std::vec::IntoIter<ArchiveFile>,
    decoder: LineDecoder,
    dt: StringBuilder,
    buf: Vec<u8>,
    schema: SchemaRef,
    sources: Vec<Source>,
    batch_size: usize,
    left: usize,
    skipped: Arc<Mutex<SkipLog>>,
    failed: bool,
}

impl Batches {
    fn read(&mut self, file: &ArchiveFile) -> std::result::Result<(), Error> {
        self.buf.clear();
        std::fs::File::open(&file.path)
            .and_then(|mut f| f.read_to_end(&mut self.buf))
            .map_err(|e| Error::io(&file.path, e))?;
        let len = self.buf.len();
        LineDecoder::pad(&mut self.buf);
        let (rows, skipped) = self.decoder.decode(&mut self.buf, len);
        if !skipped.is_empty() {
            tracing::warn!(file = %file.path.display(), lines = skipped.len(), "malformed archive lines skipped");
            // A poisoned lock only means another scan panicked; the log is still whole.
            let mut log = self.skipped.lock().unwrap_or_else(|p| p.into_inner());
            log.add(&file.path, skipped);
        }
        for _ in 0..rows {
            self.dt.append_value(&file.dt);
        }
        Ok(())
    }

    fn emit(&mut self) -> Result<RecordBatch> {
        let rows = self.decoder.rows();
        let mut decoded: Vec<Option<ArrayRef>> =
            self.decoder.finish().into_iter().map(Some).collect();
        let dt: ArrayRef = Arc::new(self.dt.finish());
        let columns = self
            .sources
            .iter()
            .map(|s| match s {
                Source::Record(i) => decoded[*i].take().expect("each record column used once"),
                Source::Partition => dt.clone(),
            })
            .collect();
        self.left = self.left.saturating_sub(rows);
        Ok(RecordBatch::try_new_with_options(
            self.schema.clone(),
            columns,
            &RecordBatchOptions::new().with_row_count(Some(rows)),
        )?)
    }
}

impl Iterator for Batches {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.left == 0 {
            return None;
        }
        while self.decoder.rows() < self.batch_size.min(self.left) {
            let Some(file) = self.files.next() else {
                break;
            };
            if let Err(e) = self.read(&file) {
                self.failed = true;
                return Some(Err(DataFusionError::External(Box::new(e))));
            }
        }
        (self.decoder.rows() > 0).then(|| self.emit())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(size: u64) -> ArchiveFile {
        ArchiveFile {
            path: PathBuf::from(format!("{size}.json")),
            dt: Arc::from("2023-11-01"),
            size,
        }
    }

    #[test]
    fn groups_are_contiguous_and_about_equal() {
        let files: Vec<_> = [5, 5, 5, 5, 10, 10].into_iter().map(file).collect();
        let groups = split_by_size(&files, 2);
        let sizes: Vec<u64> = groups
            .iter()
            .map(|g| g.iter().map(|f| f.size).sum())
            .collect();
        assert_eq!(sizes, vec![20, 20]);
        assert_eq!(split_by_size(&[], 4).len(), 1, "one empty group");
        assert_eq!(
            split_by_size(&files, 16).len(),
            6,
            "no more groups than files"
        );
    }
}

//! `refresh-reports`: runs the report's queries (on Athena), draws the charts and files the
//! page, the PNGs and each result's CSV under `<prefix><date>/` in the reports bucket.

use std::path::Path;

use chrono::NaiveDate;
use serde::Serialize;
use vigil_core::{ObjectRef, ObjectStore};
use vigil_reports::{Report, Runner};

use crate::Error;

/// What one refresh produced (the function's answer).
#[derive(Debug, Serialize)]
pub struct Refreshed {
    pub prefix: String,
    pub objects: Vec<String>,
    pub transactions: u64,
    pub blocked: u64,
    pub crawler_seconds: Option<f64>,
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("png") => "image/png",
        Some("csv") => "text/csv; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Builds the report with `runner` in `workdir` and uploads it. The keys depend only on
/// the date, so a retried invocation replaces its own objects.
pub async fn refresh<R: Runner, S: ObjectStore>(
    runner: &mut R,
    store: &S,
    bucket: &str,
    prefix: &str,
    date: NaiveDate,
    source: &str,
    workdir: &Path,
) -> Result<Refreshed, Error> {
    let report = Report::build(runner).await?;
    let dir = workdir.join(date.to_string());
    let written = vigil_reports::write(&report, &dir, source)?;
    let prefix = format!("{prefix}{date}/");
    let mut objects = Vec::new();
    let files = std::iter::once(&written.index)
        .chain(&written.pngs)
        .chain(&written.csvs);
    for file in files {
        let relative = file.strip_prefix(&dir).unwrap_or(file);
        let key = format!("{prefix}{}", relative.display());
        let body = std::fs::read(file).map_err(|source| vigil_reports::Error::Io {
            path: file.clone(),
            source,
        })?;
        store
            .put(&ObjectRef::new(bucket, &key), body, content_type(file))
            .await?;
        objects.push(key);
    }
    // The Lambda's /tmp persists between invocations; don't let it fill.
    let _ = std::fs::remove_dir_all(&dir);
    tracing::info!(prefix = %prefix, objects = objects.len(), transactions = report.total(), "report refreshed");
    Ok(Refreshed {
        prefix,
        objects,
        transactions: report.total(),
        blocked: report.totals[2],
        crawler_seconds: None,
    })
}

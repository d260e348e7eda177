//! `refresh-reports`: runs the report's queries (on Athena), draws the charts and files the
//! page, the PNGs and each result's CSV under `<prefix><date>/` in the reports bucket.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use vigil_core::{ObjectRef, ObjectStore};
use vigil_reports::{Report, Runner};

use crate::Error;
use crate::settings::Vars;

/// `refresh-reports`' settings: `ATHENA_WORKGROUP`, `GLUE_DATABASE`, `REPORTS_BUCKET`
/// (required), `REPORTS_PREFIX` (`reports/`), `QUERY_BUDGET_SECONDS` (300).
#[derive(Debug, Clone, PartialEq)]
pub struct ReportSettings {
    pub workgroup: String,
    pub database: String,
    pub bucket: String,
    pub prefix: String,
    pub query_budget: Duration,
}

impl ReportSettings {
    pub fn from_vars(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let vars = Vars::new(lookup);
        Ok(Self {
            workgroup: vars.required("ATHENA_WORKGROUP", "the Athena workgroup")?,
            database: vars.required("GLUE_DATABASE", "the Glue database of the table")?,
            bucket: vars.required("REPORTS_BUCKET", "the reports bucket's name")?,
            prefix: vars.text_or("REPORTS_PREFIX", "reports/")?,
            query_budget: vars.seconds_or("QUERY_BUDGET_SECONDS", 300)?,
        })
    }

    /// Where the report says its figures come from.
    pub fn source(&self) -> String {
        format!(
            "Athena {}.txn_processedtxns (workgroup {})",
            self.database, self.workgroup
        )
    }
}

/// The day a report is for: a scheduled event's time; anything else is refreshed as of
/// `now`.
pub fn report_date(payload: &serde_json::Value, now: DateTime<Utc>) -> NaiveDate {
    payload
        .get("time")
        .and_then(|t| t.as_str())
        .and_then(|t| t.parse::<DateTime<Utc>>().ok())
        .unwrap_or(now)
        .date_naive()
}

/// What one refresh produced (the function's answer).
#[derive(Debug, Serialize)]
pub struct Refreshed {
    pub prefix: String,
    pub objects: Vec<String>,
    pub transactions: u64,
    pub blocked: u64,
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
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn settings_have_defaults_and_the_date_comes_from_the_schedule() {
        let vars: HashMap<&str, &str> = [
            ("ATHENA_WORKGROUP", "wg"),
            ("GLUE_DATABASE", "txn_database"),
            ("REPORTS_BUCKET", "reports"),
        ]
        .into();
        let s = ReportSettings::from_vars(|k| vars.get(k).map(|v| v.to_string())).unwrap();
        assert_eq!(
            (s.prefix.as_str(), s.query_budget.as_secs()),
            ("reports/", 300)
        );
        assert_eq!(
            s.source(),
            "Athena txn_database.txn_processedtxns (workgroup wg)"
        );
        let err = ReportSettings::from_vars(|_| None).unwrap_err().to_string();
        assert!(err.contains("ATHENA_WORKGROUP is not set"), "{err}");

        let now: DateTime<Utc> = "2024-03-05T01:00:00Z".parse().unwrap();
        let scheduled = serde_json::json!({"time": "2024-03-04T23:00:00Z"});
        assert_eq!(report_date(&scheduled, now).to_string(), "2024-03-04");
        assert_eq!(
            report_date(&serde_json::json!({}), now).to_string(),
            "2024-03-05"
        );
    }
}

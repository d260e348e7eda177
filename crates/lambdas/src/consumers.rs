//! The consumers of `processed_transactions`: alerts and the archive. Each takes a batch
//! of MSK records; a record that is not a processed transaction is counted and skipped
//! (it can never succeed, so retrying would only block the partition).

use serde::{Deserialize, Serialize};
use tracing::warn;
use vigil_core::{Notifier, ObjectRef, ObjectStore, ProcessedTransaction};
use vigil_pipeline::alert::{AlertPolicy, render};
use vigil_pipeline::archive;

use crate::Error;
use crate::msk::MskRecord;

fn decode(records: &[MskRecord]) -> (Vec<(&MskRecord, ProcessedTransaction)>, usize) {
    let mut skipped = 0;
    let mut out = Vec::with_capacity(records.len());
    for r in records {
        let parsed = r.value.as_ref().map_err(Clone::clone).and_then(|v| {
            serde_json::from_slice::<ProcessedTransaction>(v)
                .map_err(|e| format!("not a processed transaction ({:?} error)", e.classify()))
        });
        match parsed {
            Ok(p) => out.push((r, p)),
            Err(reason) => {
                skipped += 1;
                warn!(topic = %r.topic, partition = r.partition, offset = r.offset, reason, "record skipped");
            }
        }
    }
    (out, skipped)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertSummary {
    pub records: usize,
    pub alerts: usize,
    pub skipped: usize,
}

/// Sends an alert for each record the policy wants. Fails (so that the batch is retried)
/// when any alert could not be sent.
pub async fn alert(
    notifier: &impl Notifier,
    policy: AlertPolicy,
    records: &[MskRecord],
) -> Result<AlertSummary, Error> {
    let (decoded, skipped) = decode(records);
    let (mut alerts, mut failures) = (0, Vec::new());
    for (_, p) in decoded.iter().filter(|(_, p)| policy.wants(p.fd.outcome)) {
        let a = render(p);
        match notifier.notify(&a.event_id, &a.subject, &a.body).await {
            Ok(()) => alerts += 1,
            Err(e) => failures.push(e.to_string()),
        }
    }
    if let Some(first) = failures.first() {
        return Err(Error::Downstream(format!(
            "{} alerts not sent (first: {first})",
            failures.len()
        )));
    }
    Ok(AlertSummary {
        records: records.len(),
        alerts,
        skipped,
    })
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArchiveSummary {
    pub records: usize,
    pub objects: Vec<String>,
    pub skipped: usize,
}

/// Writes one NDJSON object per topic-partition of the batch, keyed by its first offset, so
/// that a retried batch overwrites its own objects.
pub async fn archive(
    store: &impl ObjectStore,
    bucket: &str,
    records: &[MskRecord],
) -> Result<ArchiveSummary, Error> {
    let (decoded, skipped) = decode(records);
    let mut objects = Vec::new();
    let mut start = 0;
    while start < decoded.len() {
        let (first, _) = decoded[start];
        let end = decoded[start..]
            .iter()
            .position(|(r, _)| r.topic != first.topic || r.partition != first.partition)
            .map_or(decoded.len(), |n| start + n);
        let batch: Vec<ProcessedTransaction> =
            decoded[start..end].iter().map(|(_, p)| p.clone()).collect();
        let key = archive::key(&first.topic, first.partition, first.offset, &batch);
        let body = archive::ndjson(&batch).map_err(|e| Error::Downstream(e.to_string()))?;
        store
            .put(&ObjectRef::new(bucket, &key), body, "application/x-ndjson")
            .await
            .map_err(|e| Error::Downstream(e.to_string()))?;
        objects.push(key);
        start = end;
    }
    Ok(ArchiveSummary {
        records: records.len(),
        objects,
        skipped,
    })
}

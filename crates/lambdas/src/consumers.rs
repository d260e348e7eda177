//! The consumers of `processed_transactions`: alerts and the archive, over an MSK batch.
//! The logic is [`vigil_pipeline::batch`], shared with `vigil demo`; before it, each batch
//! passes over repeated copies of an event ([`vigil_pipeline::dedup`]), so that a scoring
//! batch retried after delivery neither alerts nor archives twice.

use std::time::Duration;

use vigil_core::{EventClaims, Notifier, ObjectStore};
use vigil_pipeline::batch::Record;
pub use vigil_pipeline::batch::{AlertSummary, ArchiveSummary, alert, archive};
use vigil_pipeline::dedup::first_copies;

use crate::Error;
use crate::settings::Vars;

/// How long a claim on an event is kept: far longer than any retry of its scoring batch.
pub const CLAIM_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// The claims table named by `CLAIMS_TABLE`, or none: then every copy is acted on (a
/// warning at start says so).
pub enum Claims<C> {
    Table(C),
    None,
}

impl<C: EventClaims> EventClaims for Claims<C> {
    async fn claim(
        &self,
        scope: &str,
        event_id: &str,
        position: &str,
    ) -> Result<bool, vigil_core::Error> {
        match self {
            Claims::Table(table) => table.claim(scope, event_id, position).await,
            Claims::None => Ok(true),
        }
    }
}

/// A consumer's answer: its summary, and how many repeated copies it passed over.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Once<S> {
    #[serde(flatten)]
    pub summary: S,
    pub repeats: usize,
}

/// [`alert`] over the batch's first copies of each event.
pub async fn alert_once(
    notifier: &impl Notifier,
    claims: &impl EventClaims,
    policy: vigil_pipeline::alert::AlertPolicy,
    records: &[Record],
) -> Result<Once<AlertSummary>, Error> {
    // Every record is claimed, not only those that alert: a repeat was scored again (over
    // state that already counted the first copy), so its outcome may differ, and a repeat
    // that blocks where the first copy did not must not alert either.
    let (firsts, repeats) = first_copies(claims, "alert", records).await?;
    let mut summary = alert(notifier, policy, &firsts).await?;
    summary.records = records.len();
    Ok(Once { summary, repeats })
}

/// [`archive`] over the batch's first copies of each event.
pub async fn archive_once(
    store: &impl ObjectStore,
    claims: &impl EventClaims,
    bucket: &str,
    records: &[Record],
) -> Result<Once<ArchiveSummary>, Error> {
    let (firsts, repeats) = first_copies(claims, "archive", records).await?;
    let mut summary = archive(store, bucket, &firsts).await?;
    summary.records = records.len();
    Ok(Once { summary, repeats })
}

/// `alert-transactions`' settings: `ALERT_TOPIC_ARN` (required), `ALERT_ON_REVIEW`
/// (`false`), `CLAIMS_TABLE` (none).
#[derive(Debug, Clone, PartialEq)]
pub struct AlertSettings {
    pub topic_arn: String,
    pub policy: vigil_pipeline::alert::AlertPolicy,
    pub claims_table: Option<String>,
}

impl AlertSettings {
    pub fn from_vars(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let vars = Vars::new(lookup);
        Ok(Self {
            topic_arn: vars.required("ALERT_TOPIC_ARN", "the alert topic's ARN")?,
            policy: vigil_pipeline::alert::AlertPolicy {
                on_review: vars.choice_or(
                    "ALERT_ON_REVIEW",
                    false,
                    &[("true", true), ("false", false)],
                )?,
            },
            claims_table: vars.optional("CLAIMS_TABLE"),
        })
    }
}

/// `archive-transactions`' settings: `ARCHIVE_BUCKET` (required), `CLAIMS_TABLE` (none).
#[derive(Debug, Clone, PartialEq)]
pub struct ArchiveSettings {
    pub bucket: String,
    pub claims_table: Option<String>,
}

impl ArchiveSettings {
    pub fn from_vars(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let vars = Vars::new(lookup);
        Ok(Self {
            bucket: vars.required("ARCHIVE_BUCKET", "the archive bucket's name")?,
            claims_table: vars.optional("CLAIMS_TABLE"),
        })
    }
}

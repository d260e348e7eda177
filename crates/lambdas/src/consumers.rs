//! The consumers of `processed_transactions`: alerts and the archive, over an MSK batch.
//! The logic is [`vigil_pipeline::batch`], shared with `vigil demo`.

pub use vigil_pipeline::batch::{AlertSummary, ArchiveSummary, alert, archive};

use crate::Error;
use crate::settings::Vars;

/// `alert-transactions`' settings: `ALERT_TOPIC_ARN` (required), `ALERT_ON_REVIEW`
/// (`false`).
#[derive(Debug, Clone, PartialEq)]
pub struct AlertSettings {
    pub topic_arn: String,
    pub policy: vigil_pipeline::alert::AlertPolicy,
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
        })
    }
}

/// `archive-transactions`' settings: `ARCHIVE_BUCKET` (required).
#[derive(Debug, Clone, PartialEq)]
pub struct ArchiveSettings {
    pub bucket: String,
}

impl ArchiveSettings {
    pub fn from_vars(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let vars = Vars::new(lookup);
        Ok(Self {
            bucket: vars.required("ARCHIVE_BUCKET", "the archive bucket's name")?,
        })
    }
}

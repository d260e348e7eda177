//! The consumers of `processed_transactions`: alerts and the archive, over an MSK batch.
//! The logic is [`vigil_pipeline::batch`], shared with `vigil demo`.

pub use vigil_pipeline::batch::{AlertSummary, ArchiveSummary, alert, archive};

//! Runners: the whole pipeline (score → alert → archive) over a run of transactions on one
//! machine, for `vigil demo` and the benchmarks. [`in_process`] runs the stages in this
//! process over batches; [`broker`] (feature `broker`) runs a producer and three consumer
//! groups at once through a Kafka-protocol broker, as on AWS. Both call the same batch
//! functions as the Lambda functions ([`crate::batch`]); what they did comes back as a
//! [`Tally`], and how far they are goes to a [`Progress`] the caller draws.

#[cfg(feature = "broker")]
pub mod broker;
mod in_process;
mod progress;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use vigil_core::Outcome;

use crate::alert::AlertPolicy;
use crate::batch;
use crate::local::{LocalStore, Outbox};

pub use in_process::{InProcess, in_process};
pub use progress::{Counter, Progress};

/// The topic the scoring stage writes processed transactions to.
pub const PROCESSED_TOPIC: &str = "processed_transactions";
/// The topic of records that could not be scored.
pub const DEAD_LETTER_TOPIC: &str = "transactions_dead_letters";
/// The bucket (a directory under the run's folder) the archive writes to.
pub const ARCHIVE_BUCKET: &str = "archive";

/// Where a local run's outputs go: alerts to an outbox of `.eml` files, the archive to a
/// directory standing for S3, both under one folder.
pub struct LocalOutputs {
    pub outbox: Outbox,
    pub store: LocalStore,
    pub policy: AlertPolicy,
}

impl LocalOutputs {
    /// `out/outbox` and `out/archive/…`.
    pub fn under(out: &Path, policy: AlertPolicy) -> Self {
        Self {
            outbox: Outbox::new(
                out.join("outbox"),
                "vigil@localhost",
                "fraud-team@localhost",
            ),
            store: LocalStore::new(out),
            policy,
        }
    }
}

/// What a run's stages did.
#[derive(Debug, Default)]
pub struct Tally {
    pub outcomes: BTreeMap<Outcome, usize>,
    pub dead_letters: usize,
    /// Customers whose state the scoring stage keeps.
    pub entities: usize,
    pub alerts: usize,
    /// Archive objects written, and the records in them.
    pub objects: usize,
    pub archived: usize,
    /// Per stage: records handled and the time it took (busy time, in process).
    pub stage_times: Vec<(&'static str, usize, Duration)>,
}

impl Tally {
    /// Transactions scored (dead letters apart).
    pub fn scored(&self) -> usize {
        self.outcomes.values().sum()
    }

    /// Adds another share's figures (stage times add up to busy time).
    fn merge(&mut self, other: Tally) {
        for (o, n) in other.outcomes {
            *self.outcomes.entry(o).or_default() += n;
        }
        self.dead_letters += other.dead_letters;
        self.entities += other.entities;
        self.alerts += other.alerts;
        self.objects += other.objects;
        self.archived += other.archived;
        for (stage, n, took) in other.stage_times {
            match self.stage_times.iter_mut().find(|(s, _, _)| *s == stage) {
                Some((_, total, time)) => {
                    *total += n;
                    *time += took;
                }
                None => self.stage_times.push((stage, n, took)),
            }
        }
    }

    /// Counts a scored batch's outcomes and dead letters.
    pub fn count(&mut self, scored: &batch::Scored) {
        for (o, n) in &scored.outcomes {
            *self.outcomes.entry(*o).or_default() += n;
        }
        self.dead_letters += scored.dead_letters.len();
    }
}

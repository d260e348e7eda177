//! The scoring port: what scores a batch of records. The `score-transactions` Lambda is
//! generic over it; two adapters implement it: [`BuiltIn`] (the model and rules, with each
//! customer's entity state in the instance's memory or in a [`StateTable`]) and [`Outside`]
//! (a [`FraudScorer`] service: Amazon Fraud Detector).

use std::future::Future;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use vigil_core::FraudScorer;
use vigil_fraud::features::StateTable;

use crate::Error;
use crate::batch::{self, Record, Scored, StateChanges};
use crate::registry::{Fixed, ScorerSource};
use crate::score::ScoreStage;

/// Scores batches of records. A batch's output is delivered by the caller, and only then
/// are the batch's changes saved ([`BatchScorer::save`]), so that a batch that fails and
/// is retried starts again from the states it first saw.
pub trait BatchScorer: Send + Sync {
    /// Scores every record of the batch in order: a processed transaction, or a dead
    /// letter for a record that is not a transaction. Fails only when a retry may succeed
    /// (a service or a state table that did not answer).
    fn score_batch(
        &self,
        records: &[Record],
        received: DateTime<Utc>,
    ) -> impl Future<Output = Result<(Scored, StateChanges), Error>> + Send;

    /// Saves what [`BatchScorer::score_batch`] changed.
    fn save(&self, changes: StateChanges) -> impl Future<Output = Result<(), Error>> + Send;
}

/// The built-in model and rules. Entity state lives in `table` when there is one (each
/// batch's customers are loaded first and saved after delivery), else in this instance's
/// memory between batches.
///
/// The model and rules come from `source` when it has new ones (the registry's
/// [`Watcher`](crate::registry::Watcher)), looked for before each batch; else they stay.
pub struct BuiltIn<T, W = Fixed> {
    stage: Mutex<ScoreStage>,
    table: Option<T>,
    source: W,
}

impl<T: StateTable> BuiltIn<T> {
    pub fn new(stage: ScoreStage, table: Option<T>) -> Self {
        Self::with_source(stage, table, Fixed)
    }
}

impl<T: StateTable, W: ScorerSource> BuiltIn<T, W> {
    pub fn with_source(stage: ScoreStage, table: Option<T>, source: W) -> Self {
        Self {
            stage: Mutex::new(stage),
            table,
            source,
        }
    }
}

impl<T: StateTable, W: ScorerSource> BatchScorer for BuiltIn<T, W> {
    async fn score_batch(
        &self,
        records: &[Record],
        received: DateTime<Utc>,
    ) -> Result<(Scored, StateChanges), Error> {
        if let Some(scorer) = self.source.poll().await {
            self.stage
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .replace_scorer(scorer);
        }
        match &self.table {
            Some(table) => batch::score_stateful(&self.stage, table, records, received).await,
            None => {
                // A lock poisoned by a panic in an earlier batch is taken over: the
                // instance goes on scoring rather than failing every batch after it.
                let mut stage = self
                    .stage
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                Ok((
                    batch::score(&mut stage, records, received)?,
                    StateChanges::default(),
                ))
            }
        }
    }

    async fn save(&self, changes: StateChanges) -> Result<(), Error> {
        match &self.table {
            Some(table) => changes.save(table).await,
            None => Ok(()),
        }
    }
}

/// An outside scoring service, one call per transaction; it keeps its own state.
pub struct Outside<S>(pub S);

impl<S: FraudScorer> BatchScorer for Outside<S> {
    async fn score_batch(
        &self,
        records: &[Record],
        received: DateTime<Utc>,
    ) -> Result<(Scored, StateChanges), Error> {
        Ok((
            batch::score_with(&self.0, records, received).await?,
            StateChanges::default(),
        ))
    }

    async fn save(&self, _changes: StateChanges) -> Result<(), Error> {
        Ok(())
    }
}

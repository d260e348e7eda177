//! The pipeline's steps over a batch of Kafka records, as a consumer receives them (an MSK
//! event's batch on AWS, a consumer group's poll locally): [`score`], [`alert`] and
//! [`archive`]. The Lambda functions and `vigil demo` call these same functions; only the
//! way records arrive and leave differs. One bad record never sinks its batch.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Instant;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tracing::warn;
use vigil_core::{
    FraudScorer, Notifier, ObjectRef, ObjectStore, Outcome, ProcessedRecord, ProcessedTransaction,
};

use vigil_fraud::features::{EntityState, EntityStore, Saved, StateTable};
use vigil_fraud::input::Event;

use crate::Error;
use crate::alert::{AlertPolicy, render};
use crate::score::ScoreStage;

/// One record of a batch. `value` is `Err` with the reason when the transport could not
/// decode it (an MSK value that is not base64, a record without a value).
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub key: Option<Vec<u8>>,
    pub value: Result<Vec<u8>, String>,
}

/// `(key, payload)` pairs to produce.
pub type Outgoing = Vec<(String, Vec<u8>)>;

/// What scoring a batch gives: processed records keyed by `entity_id`, and dead letters
/// (the reason, where the record was, and its original bytes) keyed by their source.
#[derive(Debug, Default)]
pub struct Scored {
    pub processed: Outgoing,
    pub dead_letters: Outgoing,
    pub outcomes: BTreeMap<Outcome, usize>,
}

impl Scored {
    fn accept(&mut self, p: ProcessedTransaction) -> Result<(), Error> {
        *self.outcomes.entry(p.fd.outcome).or_default() += 1;
        let mut payload = Vec::with_capacity(1024);
        crate::archive::write_record(&mut payload, &p)?;
        self.processed.push((p.transaction.entity_id, payload));
        Ok(())
    }

    fn reject(&mut self, r: &Record, reason: &str) -> Result<(), Error> {
        warn!(topic = %r.topic, partition = r.partition, offset = r.offset, reason, "dead letter");
        // The original bytes go with it, so nothing is lost; they stay in Kafka, not in logs.
        let letter = json!({
            "reason": reason, "topic": r.topic, "partition": r.partition, "offset": r.offset,
            "value": r.value.as_ref().ok().map(|v| String::from_utf8_lossy(v).into_owned()),
        });
        let key = format!("{}-{}-{}", r.topic, r.partition, r.offset);
        self.dead_letters.push((key, serde_json::to_vec(&letter)?));
        Ok(())
    }
}

/// Scores every record of the batch, in order, with the built-in model and rules.
pub fn score(
    stage: &mut ScoreStage,
    records: &[Record],
    received: DateTime<Utc>,
) -> Result<Scored, Error> {
    let mut out = Scored::default();
    // Records the transport could not decode skip the stage; the rest are scored together.
    let payloads = records.iter().filter_map(|r| r.value.as_deref().ok());
    let mut processed = stage.process_batch(payloads, received).into_iter();
    for r in records {
        let result = match &r.value {
            Ok(_) => processed
                .next()
                .expect("one result per payload")
                .map_err(|d| d.reason),
            Err(reason) => Err(reason.clone()),
        };
        match result {
            Ok(p) => out.accept(p)?,
            Err(reason) => out.reject(r, &reason)?,
        }
    }
    Ok(out)
}

/// Entity states a batch changed, to be saved once its output is delivered.
#[derive(Debug, Default)]
pub struct StateChanges {
    /// Entity, its new state, the version it was read at (`None`: new), and its events in
    /// this batch (to apply again over a newer state after a conflict).
    changes: Vec<(String, EntityState, Option<u64>, Vec<Event>)>,
}

/// How often a save that lost a race is tried again over the newer state.
const SAVE_ATTEMPTS: usize = 5;

impl StateChanges {
    pub fn len(&self) -> usize {
        self.changes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Saves every changed state. A save that finds the entity written by someone else in
    /// the meantime reloads it, applies this batch's events of that entity again, and
    /// retries: no update is lost, none applied twice.
    pub async fn save(self, table: &impl StateTable) -> Result<(), Error> {
        for (entity, mut state, mut version, events) in self.changes {
            let mut attempt = 0;
            loop {
                match table.save(&entity, &state, version).await? {
                    Saved::Written(_) => break,
                    Saved::Conflict if attempt + 1 < SAVE_ATTEMPTS => {
                        attempt += 1;
                        let fresh = table.load(std::slice::from_ref(&entity)).await?;
                        let stored = fresh.get(&entity);
                        version = stored.map(|v| v.version);
                        state = stored.map(|v| v.state.clone()).unwrap_or_default();
                        for e in &events {
                            state.observe(e);
                        }
                    }
                    // The entity id is personal data: the message does not name it.
                    Saved::Conflict => {
                        return Err(Error::Downstream(format!(
                            "an entity state kept changing under {SAVE_ATTEMPTS} saves"
                        )));
                    }
                }
            }
        }
        Ok(())
    }
}

/// [`score`], with entity state kept in `table` rather than in this process: the batch's
/// entities are loaded first, and their new states returned, to be saved with
/// [`StateChanges::save`] once the output is delivered (so that a batch that fails and is
/// retried is not counted twice).
pub async fn score_stateful(
    stage: &Mutex<ScoreStage>,
    table: &impl StateTable,
    records: &[Record],
    received: DateTime<Utc>,
) -> Result<(Scored, StateChanges), Error> {
    let mut events: BTreeMap<String, Vec<Event>> = BTreeMap::new();
    for r in records {
        let Ok(value) = &r.value else { continue };
        let Ok(t) = crate::score::decode(value) else {
            continue;
        };
        if let Ok(e) = Event::from_transaction(&t) {
            events.entry(e.entity_id.clone()).or_default().push(e);
        }
    }
    let entities: Vec<String> = events.keys().cloned().collect();
    let mut loaded = table.load(&entities).await?;
    let mut stage = stage
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    // The table holds the truth: memory holds this batch's entities only, so it stays small.
    *stage.store_mut() = Default::default();
    for entity in &entities {
        let state = loaded
            .get(entity)
            .map(|v| v.state.clone())
            .unwrap_or_default();
        stage.store_mut().insert(entity, state);
    }
    let scored = score(&mut stage, records, received)?;
    let changes = events
        .into_iter()
        .map(|(entity, events)| {
            let state = stage.store_mut().state(&entity).clone();
            let version = loaded.remove(&entity).map(|v| v.version);
            (entity, state, version, events)
        })
        .collect();
    Ok((scored, StateChanges { changes }))
}

/// Scores every record of the batch with an outside scorer (Amazon Fraud Detector). A
/// record that is not a transaction is a dead letter; a scorer that fails fails the batch,
/// since a retry may succeed.
pub async fn score_with(
    scorer: &impl FraudScorer,
    records: &[Record],
    received: DateTime<Utc>,
) -> Result<Scored, Error> {
    // A service call per record: up to `IN_FLIGHT` at once, results kept in input order.
    // (The calls are made before the stream, from a named function: a closure returning
    // an async block inside the stream defeats the compiler's `Send` check.)
    let calls: Vec<_> = records
        .iter()
        .map(|r| assess_one(scorer, r, received))
        .collect();
    let assessed: Vec<_> = futures::stream::iter(calls)
        .buffered(IN_FLIGHT)
        .collect()
        .await;
    let mut out = Scored::default();
    for (r, a) in records.iter().zip(assessed) {
        match a? {
            Ok(p) => out.accept(p)?,
            Err(reason) => out.reject(r, &reason)?,
        }
    }
    Ok(out)
}

/// One record through an outside scorer: `Ok(Err(reason))` when it is not a transaction,
/// `Err` when the service failed.
async fn assess_one(
    scorer: &impl FraudScorer,
    r: &Record,
    received: DateTime<Utc>,
) -> Result<Result<ProcessedTransaction, String>, vigil_core::Error> {
    let began = Instant::now();
    let decoded = r
        .value
        .as_ref()
        .map_err(Clone::clone)
        .and_then(|v| crate::score::decode(v).map_err(|d| d.reason));
    match decoded {
        Ok(t) => {
            let fd = scorer.assess(&t).await?;
            Ok(Ok(crate::score::finish(t, fd, began, received)))
        }
        Err(reason) => Ok(Err(reason)),
    }
}

/// Calls to an outside scorer that one batch makes at once.
const IN_FLIGHT: usize = 16;

/// The records that are processed transactions, each with its record, read in place
/// ([`ProcessedRecord`] borrows from the record), and how many were skipped: a record that
/// is not one can never succeed, so retrying would only block its partition.
fn decode(records: &[Record]) -> (Vec<(&Record, ProcessedRecord<'_>)>, usize) {
    decode_with(records, read_processed)
}

fn read_processed(v: &[u8]) -> Result<ProcessedRecord<'_>, String> {
    sonic_rs::from_slice::<ProcessedRecord>(v)
        .map_err(|e| format!("not a processed transaction ({:?} error)", e.classify()))
}

/// [`decode`] with another reading of each record's bytes.
fn decode_with<'a, T>(
    records: impl IntoIterator<Item = &'a Record>,
    read: impl Fn(&'a [u8]) -> Result<T, String>,
) -> (Vec<(&'a Record, T)>, usize) {
    let records = records.into_iter();
    let mut skipped = 0;
    let mut out = Vec::with_capacity(records.size_hint().0);
    for r in records {
        match r.value.as_deref().map_err(Clone::clone).and_then(&read) {
            Ok(p) => out.push((r, p)),
            Err(reason) => {
                skipped += 1;
                warn!(topic = %r.topic, partition = r.partition, offset = r.offset, reason, "record skipped");
            }
        }
    }
    (out, skipped)
}

/// The one field of a processed record that decides whether it raises an alert.
#[derive(Deserialize)]
struct OutcomeOf {
    fd: OutcomeOnly,
}

#[derive(Deserialize)]
struct OutcomeOnly {
    outcome: Outcome,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AlertSummary {
    pub records: usize,
    pub alerts: usize,
    pub skipped: usize,
}

/// Sends an alert for each record the policy wants. Fails (so that the batch is retried)
/// when any alert could not be sent; alerts are named by `event_id`, so a resent one
/// replaces itself where the channel allows.
pub async fn alert(
    notifier: &impl Notifier,
    policy: AlertPolicy,
    records: &[Record],
) -> Result<AlertSummary, Error> {
    // Most records raise no alert: their outcome is all that is read of them. The few
    // that do are read whole, and skipped if they are not processed transactions.
    let (outcomes, mut skipped) = decode_with(records, |v| {
        sonic_rs::from_slice::<OutcomeOf>(v)
            .map_err(|e| format!("no outcome in the record ({:?} error)", e.classify()))
    });
    let alerting = outcomes
        .into_iter()
        .filter(|(_, o)| policy.wants(o.fd.outcome))
        .map(|(r, _)| r);
    let (whole, not) = decode_with(alerting, read_processed);
    skipped += not;
    let wanted: Vec<ProcessedTransaction> = whole.into_iter().map(|(_, p)| p.into()).collect();
    Ok(AlertSummary {
        records: records.len(),
        alerts: alert_processed(notifier, policy, &wanted).await?,
        skipped,
    })
}

/// [`alert`] over records already decoded (stages in one process hand them over as they
/// are). Returns how many alerts were sent.
pub async fn alert_processed(
    notifier: &impl Notifier,
    policy: AlertPolicy,
    processed: &[ProcessedTransaction],
) -> Result<usize, Error> {
    let (mut alerts, mut failures) = (0, Vec::new());
    for p in processed.iter().filter(|p| policy.wants(p.fd.outcome)) {
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
    Ok(alerts)
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ArchiveSummary {
    pub records: usize,
    pub objects: Vec<String>,
    pub skipped: usize,
}

/// Writes one NDJSON object per topic-partition of the batch, keyed by its first offset, so
/// that a retried batch overwrites its own objects. `records` must be in (topic, partition,
/// offset) order, as [`Record`]s from one poll or one MSK event are once sorted. A record
/// is checked to be a processed transaction and archived as it came, one line each.
pub async fn archive(
    store: &impl ObjectStore,
    bucket: &str,
    records: &[Record],
) -> Result<ArchiveSummary, Error> {
    let (decoded, skipped) = decode(records);
    let mut objects = Vec::new();
    for run in decoded.chunk_by(|(a, _), (b, _)| a.topic == b.topic && a.partition == b.partition) {
        let (first, first_record) = &run[0];
        let key = crate::archive::key(
            &first.topic,
            first.partition,
            first.offset,
            Some(&first_record.event_time),
        );
        let mut body = Vec::with_capacity(run.iter().map(|(r, _)| payload_len(r) + 1).sum());
        for (r, p) in run {
            let payload = r.value.as_deref().unwrap_or_default().trim_ascii();
            if payload.contains(&b'\n') {
                // Spread over lines (pretty-printed): written again on one.
                crate::archive::write_line(&mut body, &ProcessedTransaction::from(p.clone()))?;
            } else {
                body.extend_from_slice(payload);
                body.push(b'\n');
            }
        }
        store
            .put(&ObjectRef::new(bucket, &key), body, "application/x-ndjson")
            .await?;
        objects.push(key);
    }
    Ok(ArchiveSummary {
        records: records.len(),
        objects,
        skipped,
    })
}

fn payload_len(r: &Record) -> usize {
    r.value.as_ref().map_or(0, Vec::len)
}

/// Writes one run of processed records, from one topic-partition and starting at
/// `(topic, partition, first offset)`, as one NDJSON object; returns its key. Stages in one
/// process call it with the records as they are; [`archive`] is its counterpart for
/// records as they come from a topic.
pub async fn archive_run(
    store: &impl ObjectStore,
    bucket: &str,
    (topic, partition, first_offset): (&str, i32, i64),
    records: &[ProcessedTransaction],
) -> Result<String, Error> {
    let first_time = records.first().map(|r| r.transaction.event_time.as_str());
    let key = crate::archive::key(topic, partition, first_offset, first_time);
    let body = crate::archive::ndjson(records)?;
    store
        .put(&ObjectRef::new(bucket, &key), body, "application/x-ndjson")
        .await?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use vigil_fraud::model::default_model;
    use vigil_fraud::rules::Rules;
    use vigil_fraud::scorer::Scorer;

    use super::*;
    use crate::local::LocalStore;

    fn record(partition: i32, offset: i64, value: Result<Vec<u8>, String>) -> Record {
        Record {
            topic: "t".into(),
            partition,
            offset,
            key: None,
            value,
        }
    }

    fn stage() -> ScoreStage {
        ScoreStage::new(Scorer::new(
            default_model().unwrap(),
            Rules::default_rules(),
        ))
    }

    fn transaction(id: &str) -> Vec<u8> {
        let mut t: serde_json::Value =
            serde_json::from_str(include_str!("../../../test_data/transaction.json")).unwrap();
        t["event_id"] = id.into();
        serde_json::to_vec(&t).unwrap()
    }

    /// An outside scorer for the test: blocks everything, or fails as a service would.
    struct Detector {
        fails: bool,
    }

    impl FraudScorer for Detector {
        async fn assess(
            &self,
            _: &vigil_core::Transaction,
        ) -> Result<vigil_core::FraudAssessment, vigil_core::Error> {
            if self.fails {
                return Err(vigil_core::Error::Scorer("throttled".into()));
            }
            Ok(vigil_core::FraudAssessment {
                outcome: Outcome::Block,
                model_scores: Default::default(),
                rule_results: vec![],
                reasons: vec![],
                ttdf: 0,
                proc_time: 0,
                frauddetector_time: 7,
                model_version: None,
                rules_version: None,
                shadow: None,
            })
        }
    }

    #[tokio::test]
    async fn an_outside_scorer_scores_and_its_failure_fails_the_batch() {
        let batch = vec![
            record(0, 0, Ok(transaction("a"))),
            record(0, 1, Ok(b"[]".to_vec())),
        ];
        let scored = score_with(&Detector { fails: false }, &batch, Utc::now())
            .await
            .unwrap();
        assert_eq!(scored.outcomes.get(&Outcome::Block), Some(&1));
        assert_eq!(scored.dead_letters.len(), 1);
        let p: ProcessedTransaction = serde_json::from_slice(&scored.processed[0].1).unwrap();
        assert_eq!(p.fd.frauddetector_time, 7);
        assert!(p.fd.ttdf >= p.fd.proc_time);
        let err = score_with(&Detector { fails: true }, &batch, Utc::now())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("throttled"), "{err}");
    }

    /// A state table in memory, for the logic of loads, saves and conflicts.
    #[derive(Default)]
    struct Table(Mutex<std::collections::HashMap<String, vigil_fraud::features::Versioned>>);

    impl StateTable for Table {
        async fn load(
            &self,
            entities: &[String],
        ) -> Result<
            std::collections::HashMap<String, vigil_fraud::features::Versioned>,
            vigil_fraud::Error,
        > {
            let all = self.0.lock().unwrap();
            Ok(entities
                .iter()
                .filter_map(|e| all.get(e).map(|v| (e.clone(), v.clone())))
                .collect())
        }

        async fn save(
            &self,
            entity: &str,
            state: &EntityState,
            read_version: Option<u64>,
        ) -> Result<Saved, vigil_fraud::Error> {
            let mut all = self.0.lock().unwrap();
            let stored = all.get(entity).map(|v| v.version);
            if stored != read_version {
                return Ok(Saved::Conflict);
            }
            let version = stored.unwrap_or(0) + 1;
            all.insert(
                entity.to_owned(),
                vigil_fraud::features::Versioned {
                    state: state.clone(),
                    version,
                },
            );
            Ok(Saved::Written(version))
        }
    }

    #[tokio::test]
    async fn state_in_a_table_survives_instances_and_races() {
        let table = Table::default();
        let stage = || Mutex::new(stage());
        let entity = "166-98-6721"; // the fixture's
        let batch = vec![
            record(0, 0, Ok(transaction("a"))),
            record(0, 1, Ok(transaction("b"))),
            record(0, 2, Ok(b"junk".to_vec())),
        ];
        // One instance scores a batch and saves; a fresh one goes on from the table.
        let (_, changes) = score_stateful(&stage(), &table, &batch, Utc::now())
            .await
            .unwrap();
        assert_eq!(changes.len(), 1);
        changes.save(&table).await.unwrap();
        let (_, changes) = score_stateful(&stage(), &table, &batch[..1], Utc::now())
            .await
            .unwrap();
        // Meanwhile another instance writes the entity: the save reloads and re-applies.
        let (_, theirs) = score_stateful(&stage(), &table, &batch[1..2], Utc::now())
            .await
            .unwrap();
        theirs.save(&table).await.unwrap();
        changes.save(&table).await.unwrap();
        let stored = table.0.lock().unwrap()[entity].clone();
        assert_eq!(stored.state.transactions(), 4, "no update lost, none twice");
        assert_eq!(stored.version, 3);
    }

    #[tokio::test]
    async fn a_bad_record_never_sinks_the_batch() {
        let mut stage = stage();
        let batch = vec![
            record(0, 0, Ok(transaction("a"))),
            record(0, 1, Ok(b"{\"event_id\": 3}".to_vec())),
            record(0, 2, Err("the value is not base64".into())),
            record(1, 0, Ok(transaction("b"))),
        ];
        let scored = score(&mut stage, &batch, Utc::now()).unwrap();
        assert_eq!(scored.processed.len(), 2);
        assert_eq!(scored.outcomes.values().sum::<usize>(), 2);
        let keys: Vec<&str> = scored
            .dead_letters
            .iter()
            .map(|(k, _)| k.as_str())
            .collect();
        assert_eq!(keys, ["t-0-1", "t-0-2"]);

        // The processed records, as the consumers of `processed_transactions` get them.
        let processed: Vec<Record> = scored
            .processed
            .iter()
            .enumerate()
            .map(|(i, (_, p))| record(i as i32, 10, Ok(p.clone())))
            .chain([record(2, 0, Ok(b"junk".to_vec()))])
            .collect();
        let dir = std::env::temp_dir().join(format!("vigil-batch-{}", std::process::id()));
        let store = LocalStore::new(&dir);
        let first = archive(&store, "b", &processed).await.unwrap();
        assert_eq!((first.objects.len(), first.skipped), (2, 1));
        let again = archive(&store, "b", &processed).await.unwrap();
        assert_eq!(first, again, "a retry writes the same keys");
        assert_eq!(store.list("b", "processed/").await.unwrap().len(), 2);
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// A transaction scored by a fresh stage, as the JSON value of its processed record.
    fn one_processed_record() -> serde_json::Value {
        let mut stage = stage();
        let scored = score(
            &mut stage,
            &[record(0, 0, Ok(transaction("a")))],
            Utc::now(),
        )
        .unwrap();
        serde_json::from_slice(&scored.processed[0].1).unwrap()
    }

    #[test]
    fn records_with_escapes_read_as_serde_json_reads_them() {
        let mut v = one_processed_record();
        v["customer_name"] = "Zoë \"Z\" O'Brien\\\n\t\u{1F600}".into();
        v["transaction_amt"] = 1234.5678.into();
        let bytes = serde_json::to_vec(&v).unwrap();
        let batch = [record(0, 0, Ok(bytes.clone()))];
        let (decoded, skipped) = decode(&batch);
        assert_eq!(skipped, 0);
        let expected: ProcessedTransaction = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(ProcessedTransaction::from(decoded[0].1.clone()), expected);
    }

    #[tokio::test]
    async fn alerts_read_the_outcome_and_only_alerting_records_whole() {
        let processed = one_processed_record();
        let with_outcome = |outcome: &str| {
            let mut v = processed.clone();
            v["fd"]["outcome"] = outcome.into();
            v
        };
        let (block, approve) = (with_outcome("block"), with_outcome("approve"));
        let mut broken_block = block.clone();
        broken_block.as_object_mut().unwrap().remove("event_id");
        let batch: Vec<Record> = [
            serde_json::to_vec(&block).unwrap(),
            serde_json::to_vec(&approve).unwrap(),
            serde_json::to_vec(&broken_block).unwrap(),
            // No alert is due for it, so the rest of it is never read.
            br#"{"fd": {"outcome": "approve"}}"#.to_vec(),
            b"junk".to_vec(),
            br#"{"fd": {"outcome": "maybe"}}"#.to_vec(),
        ]
        .into_iter()
        .enumerate()
        .map(|(i, v)| record(0, i as i64, Ok(v)))
        .collect();
        let dir = std::env::temp_dir().join(format!("vigil-alerts-{}", std::process::id()));
        let outbox = crate::local::Outbox::new(&dir, "from@example.com", "to@example.com");
        let policy = AlertPolicy { on_review: false };
        let summary = alert(&outbox, policy, &batch).await.unwrap();
        assert_eq!(
            summary,
            AlertSummary {
                records: 6,
                alerts: 1,
                skipped: 3
            }
        );
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn the_archive_keeps_records_as_they_came_one_per_line() {
        let mut stage = stage();
        let batch = vec![
            record(0, 0, Ok(transaction("a"))),
            record(0, 1, Ok(transaction("b"))),
        ];
        let scored = score(&mut stage, &batch, Utc::now()).unwrap();
        let compact = scored.processed[0].1.clone();
        let value: serde_json::Value = serde_json::from_slice(&scored.processed[1].1).unwrap();
        let pretty = serde_json::to_vec_pretty(&value).unwrap();
        let processed = vec![record(1, 7, Ok(compact.clone())), record(1, 8, Ok(pretty))];
        let dir = std::env::temp_dir().join(format!("vigil-raw-{}", std::process::id()));
        let store = LocalStore::new(&dir);
        let done = archive(&store, "b", &processed).await.unwrap();
        assert_eq!(done.objects.len(), 1);
        let body = store
            .get(&ObjectRef::new("b", &done.objects[0]))
            .await
            .unwrap();
        let lines: Vec<&[u8]> = body.split(|b| *b == b'\n').collect();
        assert_eq!(lines.len(), 3, "two lines and the final newline");
        assert_eq!(lines[0], compact.as_slice(), "passed on byte for byte");
        let second: ProcessedTransaction = serde_json::from_slice(lines[1]).unwrap();
        let expected: ProcessedTransaction = serde_json::from_value(value).unwrap();
        assert_eq!(
            second, expected,
            "the pretty-printed one is put on one line"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}

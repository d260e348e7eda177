//! The scoring stage: decode a transaction, score it, time it as the original did.

use std::time::Instant;

use chrono::{DateTime, Utc};
use vigil_core::{FraudAssessment, ProcessedTransaction, Transaction};
use vigil_fraud::features::MemoryStore;
use vigil_fraud::input::{Event, parse_time};
use vigil_fraud::scorer::Scorer;

/// A record that could not be scored, with the reason (never the record's values).
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    pub reason: String,
    pub payload: Vec<u8>,
}

/// Scores transactions with the built-in model and rules, keeping entity state in memory.
pub struct ScoreStage {
    scorer: Scorer,
    store: MemoryStore,
}

impl ScoreStage {
    pub fn new(scorer: Scorer) -> Self {
        Self::with_store(scorer, MemoryStore::default())
    }

    /// A stage that starts from entity states already built (customers' history).
    pub fn with_store(scorer: Scorer, store: MemoryStore) -> Self {
        Self { scorer, store }
    }

    /// Scores with `scorer` from now on; entity state stays as it is.
    pub fn replace_scorer(&mut self, scorer: Scorer) {
        self.scorer = scorer;
    }

    pub fn scorer(&self) -> &Scorer {
        &self.scorer
    }

    /// Entities whose state is held.
    pub fn entities(&self) -> usize {
        self.store.len()
    }

    /// The entity states, to load from and save to a table around a batch.
    pub fn store_mut(&mut self) -> &mut MemoryStore {
        &mut self.store
    }

    /// Scores one record as received at `received`. `ttdf` is the time from the event to
    /// the decision, `proc_time` the stage's own time, `frauddetector_time` the model's.
    pub fn process(
        &mut self,
        payload: &[u8],
        received: DateTime<Utc>,
    ) -> Result<ProcessedTransaction, DeadLetter> {
        let began = Instant::now();
        let (mut transaction, event, time) = decode_event(payload)?;
        let fd = self.scorer.assess(&mut self.store, &event);
        event.give_back(&mut transaction);
        Ok(finish_at(transaction, time, fd, began, received))
    }

    /// [`ScoreStage::process`] for a batch of records, in order, with the model run over the
    /// batch's good records at once. `proc_time` is then the time from the batch's start
    /// to its decisions.
    pub fn process_batch<'a>(
        &mut self,
        payloads: impl IntoIterator<Item = &'a [u8]>,
        received: DateTime<Utc>,
    ) -> Vec<Result<ProcessedTransaction, DeadLetter>> {
        let began = Instant::now();
        let decoded = payloads.into_iter().map(decode_event).collect();
        self.assess_decoded(decoded, began, received)
    }

    /// [`ScoreStage::process_batch`] for transactions already decoded, as stages in one
    /// process hand them over: no wire format between them. A transaction the scorer
    /// cannot take (a time that is no time, an absurd amount) comes back with the reason.
    pub fn process_transactions(
        &mut self,
        transactions: impl IntoIterator<Item = Transaction>,
        received: DateTime<Utc>,
    ) -> Vec<Result<ProcessedTransaction, String>> {
        let began = Instant::now();
        let decoded = transactions
            .into_iter()
            .map(|mut t| Event::take_from(&mut t).map(|(e, time)| (t, e, time)))
            .collect();
        self.assess_decoded(decoded, began, received)
    }

    /// Scores the good records of a batch at once; the bad ones keep their error, in place.
    fn assess_decoded<E>(
        &mut self,
        decoded: Vec<Result<Taken, E>>,
        began: Instant,
        received: DateTime<Utc>,
    ) -> Vec<Result<ProcessedTransaction, E>> {
        let events: Vec<&Event> = decoded.iter().flatten().map(|(_, e, _)| e).collect();
        let mut assessed = self
            .scorer
            .assess_batch(&mut self.store, &events)
            .into_iter();
        decoded
            .into_iter()
            .map(|d| {
                let (mut transaction, event, time) = d?;
                event.give_back(&mut transaction);
                let fd = assessed.next().expect("one assessment per good record");
                Ok(finish_at(transaction, time, fd, began, received))
            })
            .collect()
    }
}

/// A transaction with its strings lent to the scorer's view of it ([`Event::take_from`]),
/// and its time.
type Taken = (Transaction, Event, DateTime<Utc>);

/// Decodes a transaction record and the scorer's view of it.
fn decode_event(payload: &[u8]) -> Result<Taken, DeadLetter> {
    let mut transaction = decode(payload)?;
    let (event, time) = Event::take_from(&mut transaction).map_err(|reason| DeadLetter {
        reason,
        payload: payload.to_vec(),
    })?;
    Ok((transaction, event, time))
}

/// Decodes a transaction record. The reason names the field and the kind of error, never a
/// value (serde's own message may quote personal data).
pub fn decode(payload: &[u8]) -> Result<Transaction, DeadLetter> {
    // The fast path (SIMD); the path-tracking decoder (slower) runs only to explain a failure.
    if let Ok(t) = sonic_rs::from_slice(payload) {
        return Ok(t);
    }
    let mut json = serde_json::Deserializer::from_slice(payload);
    serde_path_to_error::deserialize(&mut json).map_err(|e| {
        let inner = e.inner();
        let what = match inner.classify() {
            serde_json::error::Category::Data if inner.to_string().starts_with("missing field") => {
                inner.to_string()
            }
            serde_json::error::Category::Data => "a value of the wrong type".to_owned(),
            serde_json::error::Category::Syntax => "malformed JSON".to_owned(),
            serde_json::error::Category::Eof => "truncated JSON".to_owned(),
            serde_json::error::Category::Io => "unreadable input".to_owned(),
        };
        let path = e.path().to_string();
        let reason = if path == "." {
            format!("not a transaction record: {what}")
        } else {
            format!("not a transaction record: field `{path}`: {what}")
        };
        DeadLetter {
            reason,
            payload: payload.to_vec(),
        }
    })
}

/// The processed record, with the original's timings: `proc_time` since `began`, and
/// `ttdf` the event's wait before arriving plus that.
pub fn finish(
    transaction: Transaction,
    fd: FraudAssessment,
    began: Instant,
    received: DateTime<Utc>,
) -> ProcessedTransaction {
    let event_time = parse_time(&transaction.event_time).unwrap_or(received);
    finish_at(transaction, event_time, fd, began, received)
}

/// [`finish`] for a transaction whose time is already parsed.
fn finish_at(
    transaction: Transaction,
    event_time: DateTime<Utc>,
    mut fd: FraudAssessment,
    began: Instant,
    received: DateTime<Utc>,
) -> ProcessedTransaction {
    fd.proc_time = began.elapsed().as_millis() as u64;
    fd.ttdf = (received - event_time).num_milliseconds().max(0) as u64 + fd.proc_time;
    ProcessedTransaction { transaction, fd }
}

#[cfg(test)]
mod tests {
    use vigil_fraud::model::default_model;
    use vigil_fraud::rules::Rules;

    use super::*;

    fn stage() -> ScoreStage {
        ScoreStage::new(Scorer::new(
            default_model().unwrap(),
            Rules::default_rules(),
        ))
    }

    const GOOD: &str = r#"{"transaction_amt": 25.5, "email_address": "a@b.com", "ip_address": "1.2.3.4",
        "transaction_currency": "usd", "event_id": "e1", "entity_id": "111-22-3333",
        "event_time": "2024-01-01T00:00:00Z", "billing_longitude": "1", "billing_state": "VA",
        "user_agent": "ua", "billing_street": "s", "billing_city": "c", "card_bin": "400000",
        "customer_name": "N", "product_category": "home", "customer_job": "j", "phone": "555",
        "billing_latitude": "2", "billing_zip": "3"}"#;

    #[test]
    fn scores_and_times_a_record() {
        let mut s = stage();
        let received: DateTime<Utc> = "2024-01-01T00:00:02Z".parse().unwrap();
        let p = s.process(GOOD.as_bytes(), received).unwrap();
        assert_eq!(p.transaction.event_id, "e1");
        assert!(p.fd.ttdf >= 2_000, "{}", p.fd.ttdf);
        assert!(p.fd.model_scores.contains_key("vigil_gbdt"));
        assert_eq!(s.entities(), 1);
    }

    #[test]
    fn bad_records_become_dead_letters_without_values() {
        let mut s = stage();
        let now = Utc::now();
        for (payload, expected) in [
            ("not json".to_owned(), "not a transaction record"),
            (
                GOOD.replace("\"transaction_amt\": 25.5", "\"transaction_amt\": \"lots\""),
                "transaction_amt",
            ),
            (GOOD.replace("2024-01-01T00:00:00Z", "soon"), "event_time"),
            (GOOD.replace("\"event_id\": \"e1\",", ""), "event_id"),
        ] {
            let dead = s.process(payload.as_bytes(), now).unwrap_err();
            assert!(dead.reason.contains(expected), "{}", dead.reason);
            assert!(
                !dead.reason.contains("a@b.com") && !dead.reason.contains("111-22"),
                "{}",
                dead.reason
            );
            assert_eq!(dead.payload, payload.as_bytes());
        }
        assert_eq!(s.entities(), 0);
    }

    #[test]
    fn a_batch_keeps_order_and_matches_record_by_record() {
        let received: DateTime<Utc> = "2024-01-01T00:00:02Z".parse().unwrap();
        let payloads: Vec<String> = (0..40)
            .map(|i| match i % 7 {
                3 => "not json".to_owned(),
                _ => GOOD
                    .replace("\"e1\"", &format!("\"e{i}\""))
                    .replace("25.5", &format!("{}.5", 20 + i * 37)),
            })
            .collect();
        let (mut one, mut many) = (stage(), stage());
        let batch = many.process_batch(payloads.iter().map(|p| p.as_bytes()), received);
        assert_eq!(batch.len(), payloads.len());
        for (payload, b) in payloads.iter().zip(batch) {
            match (one.process(payload.as_bytes(), received), b) {
                (Ok(a), Ok(b)) => {
                    assert_eq!(a.transaction, b.transaction);
                    assert_eq!(
                        (a.fd.outcome, a.fd.model_scores, a.fd.reasons),
                        (b.fd.outcome, b.fd.model_scores, b.fd.reasons)
                    );
                }
                (Err(a), Err(b)) => assert_eq!(a, b),
                (a, b) => panic!("record by record {a:?}, in a batch {b:?}"),
            }
        }
        assert_eq!(many.entities(), 1);
    }

    #[test]
    fn transactions_handed_over_in_process_score_as_records_do() {
        let received: DateTime<Utc> = "2024-01-01T00:00:02Z".parse().unwrap();
        let payloads: Vec<String> = (0..30)
            .map(|i| match i {
                4 => GOOD.replace("2024-01-01T00:00:00Z", "soon"),
                9 => GOOD.replace("25.5", "1e12"),
                _ => GOOD
                    .replace("\"e1\"", &format!("\"e{i}\""))
                    .replace("25.5", &format!("{}.5", 20 + i * 41)),
            })
            .collect();
        // Both are well-formed records: only the scorer can refuse them.
        let transactions: Vec<Transaction> = payloads
            .iter()
            .map(|p| decode(p.as_bytes()).unwrap())
            .collect();
        let (mut records, mut handed) = (stage(), stage());
        let by_record = records.process_batch(payloads.iter().map(|p| p.as_bytes()), received);
        let by_value = handed.process_transactions(transactions, received);
        for (i, (a, b)) in by_record.into_iter().zip(by_value).enumerate() {
            match (i, b) {
                (4, Err(reason)) => assert!(reason.contains("event_time"), "{reason}"),
                (9, Err(reason)) => assert!(reason.contains("transaction_amt"), "{reason}"),
                (4 | 9, b) => panic!("record {i} should be refused: {b:?}"),
                (_, Ok(b)) => {
                    // Entity state went the same way: scores equal too.
                    let a = a.unwrap();
                    assert_eq!(
                        (a.transaction, a.fd.outcome, a.fd.model_scores),
                        (b.transaction, b.fd.outcome, b.fd.model_scores)
                    );
                }
                (_, Err(reason)) => panic!("record {i} refused: {reason}"),
            }
        }
    }
}

//! `score-transactions`: an MSK batch of transactions → scored records on
//! `processed_transactions` (keyed by `entity_id`), and records that cannot be scored on a
//! dead-letter topic with the reason; the rest of the batch always goes on.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::json;
use tracing::{info, warn};
use vigil_kafka::{KafkaConfig, KeyedProducer};
use vigil_pipeline::score::ScoreStage;

use crate::Error;
use crate::msk::MskRecord;

#[derive(Debug, Clone, PartialEq)]
pub struct ScoreSettings {
    pub kafka: KafkaConfig,
    pub processed_topic: String,
    pub dead_letter_topic: String,
}

impl ScoreSettings {
    /// `KAFKA_BOOTSTRAP_SERVERS` (required), `KAFKA_SECURITY_PROTOCOL`, `PROCESSED_TOPIC`
    /// (`processed_transactions`), `DEAD_LETTER_TOPIC` (`transactions_dead_letters`).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let kafka = crate::kafka_from_vars(&var)?;
        let topic = |name: &str, default: &str| -> Result<String, Error> {
            let t = var(name).unwrap_or_else(|| default.to_owned());
            if t.trim().is_empty() {
                return Err(Error::Config(format!("{name} is empty")));
            }
            Ok(t)
        };
        Ok(Self {
            kafka,
            processed_topic: topic("PROCESSED_TOPIC", "processed_transactions")?,
            dead_letter_topic: topic("DEAD_LETTER_TOPIC", "transactions_dead_letters")?,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreSummary {
    pub records: usize,
    pub processed: usize,
    pub dead_letters: usize,
}

/// Scores the batch and produces the results. Fails, so that the event source retries the
/// batch, only when something could not be delivered.
pub async fn score(
    stage: &Mutex<ScoreStage>,
    producer: &KeyedProducer,
    settings: &ScoreSettings,
    records: &[MskRecord],
) -> Result<ScoreSummary, Error> {
    let received = chrono::Utc::now();
    let (mut processed, mut dead) = (Vec::new(), Vec::new());
    {
        let mut stage = stage
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for r in records {
            let outcome = match &r.value {
                Ok(value) => stage.process(value, received).map_err(|d| d.reason),
                Err(reason) => Err(reason.clone()),
            };
            match outcome {
                Ok(p) => {
                    let payload = serde_json::to_vec(&p).map_err(vigil_kafka::Error::from)?;
                    processed.push((p.transaction.entity_id, payload));
                }
                Err(reason) => {
                    warn!(topic = %r.topic, partition = r.partition, offset = r.offset, reason, "dead letter");
                    // The original bytes go with it, so nothing is lost; they stay in Kafka, not in logs.
                    let letter = json!({
                        "reason": reason, "topic": r.topic, "partition": r.partition, "offset": r.offset,
                        "value": r.value.as_ref().ok().map(|v| String::from_utf8_lossy(v).into_owned()),
                    });
                    let key = format!("{}-{}-{}", r.topic, r.partition, r.offset);
                    dead.push((
                        key,
                        serde_json::to_vec(&letter).map_err(vigil_kafka::Error::from)?,
                    ));
                }
            }
        }
    }
    let summary = ScoreSummary {
        records: records.len(),
        processed: processed.len(),
        dead_letters: dead.len(),
    };
    for (topic, batch) in [
        (&settings.processed_topic, processed),
        (&settings.dead_letter_topic, dead),
    ] {
        let total = batch.len();
        let report = producer.send_all(topic, batch).await;
        if let Some((_, first)) = report.failed.first() {
            return Err(Error::Delivery {
                topic: topic.clone(),
                failed: report.failed.len(),
                total,
                first: first.clone(),
            });
        }
    }
    info!(
        records = summary.records,
        processed = summary.processed,
        dead_letters = summary.dead_letters,
        "batch scored"
    );
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn settings_have_defaults_and_clear_errors() {
        let vars: HashMap<&str, &str> = [("KAFKA_BOOTSTRAP_SERVERS", "b:9092")].into();
        let s = ScoreSettings::from_vars(|k| vars.get(k).map(|v| v.to_string())).unwrap();
        assert_eq!(
            (s.processed_topic.as_str(), s.dead_letter_topic.as_str()),
            ("processed_transactions", "transactions_dead_letters")
        );
        let err = ScoreSettings::from_vars(|_| None).unwrap_err();
        assert!(
            err.to_string()
                .contains("KAFKA_BOOTSTRAP_SERVERS is not set")
        );
        let vars: HashMap<&str, &str> = [
            ("KAFKA_BOOTSTRAP_SERVERS", "b:9092"),
            ("PROCESSED_TOPIC", " "),
        ]
        .into();
        assert!(
            ScoreSettings::from_vars(|k| vars.get(k).map(|v| v.to_string()))
                .unwrap_err()
                .to_string()
                .contains("PROCESSED_TOPIC is empty")
        );
    }
}

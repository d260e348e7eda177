//! `score-transactions`: an MSK batch of transactions → scored records on
//! `processed_transactions` (keyed by `entity_id`), and records that cannot be scored on a
//! dead-letter topic with the reason; the rest of the batch always goes on.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use tracing::{info, warn};
use vigil_aws::dynamodb::DynamoStateTable;
use vigil_aws::frauddetector::{DetectorConfig, FraudDetectorScorer};
use vigil_kafka::{KafkaConfig, KeyedProducer};
use vigil_pipeline::batch::{self, Record};
use vigil_pipeline::score::ScoreStage;

use crate::Error;

/// Which scorer assesses the transactions.
#[derive(Debug, Clone, PartialEq)]
pub enum ScorerChoice {
    /// The built-in model and rules (the default), with entity state in the named DynamoDB
    /// table, or in the function instance's memory when there is none.
    BuiltIn { state_table: Option<String> },
    /// Amazon Fraud Detector, for accounts that still have it.
    FraudDetector(DetectorConfig),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScoreSettings {
    pub kafka: KafkaConfig,
    pub processed_topic: String,
    pub dead_letter_topic: String,
    pub scorer: ScorerChoice,
}

/// The scorer, ready. The built-in one keeps entity state in a table when it has one, else
/// in the instance's memory between invocations.
pub enum Scoring {
    BuiltIn(Box<Mutex<ScoreStage>>, Option<DynamoStateTable>),
    FraudDetector(FraudDetectorScorer),
}

impl ScoreSettings {
    /// `KAFKA_BOOTSTRAP_SERVERS` (required), `KAFKA_SECURITY_PROTOCOL`, `PROCESSED_TOPIC`
    /// (`processed_transactions`), `DEAD_LETTER_TOPIC` (`transactions_dead_letters`),
    /// `SCORER` (`builtin`, with entity state in `ENTITY_STATE_TABLE` if set, or
    /// `frauddetector` with `DETECTOR_ID` (required),
    /// `DETECTOR_VERSION` (the active one), `EVENT_TYPE` (`transaction_event`),
    /// `ENTITY_TYPE` (`customer`) and `DEFAULT_OUTCOME` (`approve`)).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let kafka = crate::kafka_from_vars(&var)?;
        let topic = |name: &str, default: &str| -> Result<String, Error> {
            let t = var(name).unwrap_or_else(|| default.to_owned());
            if t.trim().is_empty() {
                return Err(Error::Config(format!("{name} is empty")));
            }
            Ok(t)
        };
        let scorer = match var("SCORER").as_deref().map(str::trim) {
            None | Some("" | "builtin") => ScorerChoice::BuiltIn {
                state_table: var("ENTITY_STATE_TABLE").filter(|t| !t.trim().is_empty()),
            },
            Some("frauddetector") => {
                let text = |name: &str, default: &str| {
                    var(name)
                        .filter(|v| !v.trim().is_empty())
                        .unwrap_or_else(|| default.to_owned())
                };
                let detector_id = text("DETECTOR_ID", "");
                if detector_id.is_empty() {
                    return Err(Error::Config(
                        "SCORER=frauddetector needs DETECTOR_ID (the detector's name)".into(),
                    ));
                }
                let default_outcome = text("DEFAULT_OUTCOME", "approve");
                ScorerChoice::FraudDetector(DetectorConfig {
                    detector_id,
                    detector_version: var("DETECTOR_VERSION").filter(|v| !v.trim().is_empty()),
                    event_type: text("EVENT_TYPE", "transaction_event"),
                    entity_type: text("ENTITY_TYPE", "customer"),
                    default_outcome: default_outcome.parse().map_err(|_| {
                        Error::Config(format!(
                            "DEFAULT_OUTCOME `{default_outcome}` is not approve, review or block"
                        ))
                    })?,
                })
            }
            Some(other) => {
                return Err(Error::Config(format!(
                    "SCORER `{other}` is not builtin or frauddetector"
                )));
            }
        };
        Ok(Self {
            kafka,
            processed_topic: topic("PROCESSED_TOPIC", "processed_transactions")?,
            dead_letter_topic: topic("DEAD_LETTER_TOPIC", "transactions_dead_letters")?,
            scorer,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreSummary {
    pub records: usize,
    pub processed: usize,
    pub dead_letters: usize,
}

/// Scores the batch and produces the results. Records the broker did not acknowledge are
/// sent again, alone; the invocation fails, so that the event source retries the batch,
/// only when they still have not got through after [`crate::DELIVERY_BUDGET`].
pub async fn score(
    scoring: &Scoring,
    producer: &KeyedProducer,
    settings: &ScoreSettings,
    records: &[Record],
) -> Result<ScoreSummary, Error> {
    let received = chrono::Utc::now();
    let (scored, changes) = match scoring {
        Scoring::BuiltIn(stage, Some(table)) => {
            batch::score_stateful(stage, table, records, received).await?
        }
        Scoring::BuiltIn(stage, None) => {
            let mut stage = stage
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            (
                batch::score(&mut stage, records, received)?,
                Default::default(),
            )
        }
        Scoring::FraudDetector(detector) => (
            batch::score_with(detector, records, received).await?,
            Default::default(),
        ),
    };
    let summary = ScoreSummary {
        records: records.len(),
        processed: scored.processed.len(),
        dead_letters: scored.dead_letters.len(),
    };
    for (topic, outgoing) in [
        (&settings.processed_topic, scored.processed),
        (&settings.dead_letter_topic, scored.dead_letters),
    ] {
        producer
            .send_reliably(
                topic,
                outgoing,
                crate::DELIVERY_BUDGET,
                &mut |left, reason| {
                    warn!(
                        topic,
                        left, reason, "records not delivered; sending them again"
                    )
                },
            )
            .await?;
    }
    // Only once the output is delivered: a failed batch is retried from the old states.
    if let Scoring::BuiltIn(_, Some(table)) = scoring {
        changes.save(table).await?;
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

    use vigil_core::Outcome;

    use super::*;

    #[test]
    fn settings_have_defaults_and_clear_errors() {
        let vars: HashMap<&str, &str> = [("KAFKA_BOOTSTRAP_SERVERS", "b:9092")].into();
        let s = ScoreSettings::from_vars(|k| vars.get(k).map(|v| v.to_string())).unwrap();
        assert_eq!(
            (s.processed_topic.as_str(), s.dead_letter_topic.as_str()),
            ("processed_transactions", "transactions_dead_letters")
        );
        assert_eq!(s.scorer, ScorerChoice::BuiltIn { state_table: None });
        let vars: HashMap<&str, &str> = [
            ("KAFKA_BOOTSTRAP_SERVERS", "b:9092"),
            ("SCORER", "frauddetector"),
            ("DETECTOR_ID", "txn_detector"),
            ("DEFAULT_OUTCOME", "review"),
        ]
        .into();
        let s = ScoreSettings::from_vars(|k| vars.get(k).map(|v| v.to_string())).unwrap();
        let ScorerChoice::FraudDetector(d) = s.scorer else {
            panic!("{:?}", s.scorer)
        };
        assert_eq!(
            (
                d.detector_id.as_str(),
                d.event_type.as_str(),
                d.entity_type.as_str()
            ),
            ("txn_detector", "transaction_event", "customer")
        );
        assert_eq!(
            (d.detector_version, d.default_outcome),
            (None, Outcome::Review)
        );
        for (name, value, expected) in [
            ("SCORER", "xgboost", "SCORER `xgboost`"),
            ("DEFAULT_OUTCOME", "maybe", "DEFAULT_OUTCOME `maybe`"),
        ] {
            let mut bad = vars.clone();
            bad.insert(name, value);
            let err = ScoreSettings::from_vars(|k| bad.get(k).map(|v| v.to_string())).unwrap_err();
            assert!(err.to_string().contains(expected), "{err}");
        }
        let mut bad = vars.clone();
        bad.remove("DETECTOR_ID");
        let err = ScoreSettings::from_vars(|k| bad.get(k).map(|v| v.to_string())).unwrap_err();
        assert!(err.to_string().contains("needs DETECTOR_ID"), "{err}");

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

//! `score-transactions`: an MSK batch of transactions → scored records on
//! `processed_transactions` (keyed by `entity_id`), and records that cannot be scored on a
//! dead-letter topic with the reason; the rest of the batch always goes on.

use serde::{Deserialize, Serialize};
use tracing::info;
use vigil_aws::frauddetector::DetectorConfig;
use vigil_core::{Outcome, RecordSink};
use vigil_kafka::KafkaConfig;
use vigil_pipeline::batch::Record;
use vigil_pipeline::scoring::BatchScorer;

use crate::Error;
use crate::settings::Vars;

/// Which scorer assesses the transactions.
#[derive(Debug, Clone, PartialEq)]
pub enum ScorerChoice {
    /// The built-in model and rules (the default), with entity state in the named DynamoDB
    /// table, or in the function instance's memory when there is none.
    BuiltIn {
        state_table: Option<String>,
        /// Where the model and rules versions are; none: the ones the function ships.
        registry: Option<RegistryPlace>,
    },
    /// Amazon Fraud Detector, for accounts that still have it.
    FraudDetector(DetectorConfig),
}

/// A registry of versions in S3, and how often to look for a change in it.
#[derive(Debug, Clone, PartialEq)]
pub struct RegistryPlace {
    pub bucket: String,
    pub prefix: String,
    pub reload: std::time::Duration,
}

/// `s3://bucket/prefix` → bucket and prefix.
fn s3_place(name: &str, value: &str) -> Result<(String, String), Error> {
    let rest = value.strip_prefix("s3://").ok_or_else(|| {
        Error::Config(format!("{name} must be s3://bucket/prefix, got `{value}`"))
    })?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err(Error::Config(format!("{name} names no bucket: `{value}`")));
    }
    Ok((bucket.to_owned(), prefix.trim_matches('/').to_owned()))
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScoreSettings {
    pub kafka: KafkaConfig,
    pub processed_topic: String,
    pub dead_letter_topic: String,
    pub scorer: ScorerChoice,
}

impl ScoreSettings {
    /// `KAFKA_BOOTSTRAP_SERVERS` (required), `KAFKA_SECURITY_PROTOCOL`, `PROCESSED_TOPIC`
    /// (`processed_transactions`), `DEAD_LETTER_TOPIC` (`transactions_dead_letters`),
    /// `SCORER` (`builtin`, with entity state in `ENTITY_STATE_TABLE` if set and the
    /// model and rules versions in `REGISTRY` (`s3://bucket/prefix`, looked at again every
    /// `REGISTRY_RELOAD_SECONDS`, 60) if set, or
    /// `frauddetector` with `DETECTOR_ID` (required),
    /// `DETECTOR_VERSION` (the active one), `EVENT_TYPE` (`transaction_event`),
    /// `ENTITY_TYPE` (`customer`) and `DEFAULT_OUTCOME` (`approve`)).
    pub fn from_vars(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let vars = Vars::new(lookup);
        let scorer = match vars.optional("SCORER").as_deref() {
            None | Some("builtin") => ScorerChoice::BuiltIn {
                state_table: vars.optional("ENTITY_STATE_TABLE"),
                registry: match vars.optional("REGISTRY") {
                    None => None,
                    Some(place) => {
                        let (bucket, prefix) = s3_place("REGISTRY", &place)?;
                        Some(RegistryPlace {
                            bucket,
                            prefix,
                            reload: vars.seconds_or(
                                "REGISTRY_RELOAD_SECONDS",
                                vigil_pipeline::registry::RELOAD_EVERY.as_secs(),
                            )?,
                        })
                    }
                },
            },
            Some("frauddetector") => ScorerChoice::FraudDetector(DetectorConfig {
                detector_id: vars.optional("DETECTOR_ID").ok_or_else(|| {
                    Error::Config(
                        "SCORER=frauddetector needs DETECTOR_ID (the detector's name)".into(),
                    )
                })?,
                detector_version: vars.optional("DETECTOR_VERSION"),
                event_type: vars
                    .optional("EVENT_TYPE")
                    .unwrap_or_else(|| "transaction_event".into()),
                entity_type: vars
                    .optional("ENTITY_TYPE")
                    .unwrap_or_else(|| "customer".into()),
                default_outcome: vars.parsed_or("DEFAULT_OUTCOME", Outcome::Approve, |v| {
                    v.parse()
                        .map_err(|_| format!("`{v}` is not approve, review or block"))
                })?,
            }),
            Some(other) => {
                return Err(Error::Config(format!(
                    "SCORER `{other}` is not builtin or frauddetector"
                )));
            }
        };
        Ok(Self {
            kafka: crate::kafka_from_vars(&vars)?,
            processed_topic: vars.text_or("PROCESSED_TOPIC", "processed_transactions")?,
            dead_letter_topic: vars.text_or("DEAD_LETTER_TOPIC", "transactions_dead_letters")?,
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

/// Scores the batch and delivers the results: processed transactions to the processed
/// topic keyed by `entity_id`, dead letters to theirs. The sink sends again, alone, what
/// was not acknowledged; the invocation fails, so that the event source retries the batch,
/// only when some still have not got through after [`crate::DELIVERY_BUDGET`]. The
/// scorer's state changes are saved only after delivery.
pub async fn score(
    scorer: &impl BatchScorer,
    sink: &impl RecordSink,
    settings: &ScoreSettings,
    records: &[Record],
) -> Result<ScoreSummary, Error> {
    let (scored, changes) = scorer.score_batch(records, chrono::Utc::now()).await?;
    let summary = ScoreSummary {
        records: records.len(),
        processed: scored.processed.len(),
        dead_letters: scored.dead_letters.len(),
    };
    for (topic, outgoing) in [
        (&settings.processed_topic, scored.processed),
        (&settings.dead_letter_topic, scored.dead_letters),
    ] {
        sink.deliver(topic, outgoing, crate::DELIVERY_BUDGET)
            .await?;
    }
    scorer.save(changes).await?;
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
        assert_eq!(
            s.scorer,
            ScorerChoice::BuiltIn {
                state_table: None,
                registry: None
            }
        );
        let with_registry: HashMap<&str, &str> = [
            ("KAFKA_BOOTSTRAP_SERVERS", "b:9092"),
            ("REGISTRY", "s3://models-bucket/registry/"),
        ]
        .into();
        let s = ScoreSettings::from_vars(|k| with_registry.get(k).map(|v| v.to_string())).unwrap();
        assert_eq!(
            s.scorer,
            ScorerChoice::BuiltIn {
                state_table: None,
                registry: Some(RegistryPlace {
                    bucket: "models-bucket".into(),
                    prefix: "registry".into(),
                    reload: std::time::Duration::from_secs(60),
                })
            }
        );
        let mut bad = with_registry.clone();
        bad.insert("REGISTRY", "models-bucket");
        let err = ScoreSettings::from_vars(|k| bad.get(k).map(|v| v.to_string())).unwrap_err();
        assert!(err.to_string().contains("REGISTRY must be s3://"), "{err}");
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

    /// One good transaction and one record that is not: the first is scored and delivered
    /// to the processed topic, the second to the dead letters, with in-memory adapters.
    #[tokio::test]
    async fn a_batch_is_scored_and_delivered_through_the_ports() {
        use vigil_fraud::model::default_model;
        use vigil_fraud::rules::Rules;
        use vigil_fraud::scorer::Scorer;
        use vigil_pipeline::local::MemorySink;
        use vigil_pipeline::score::ScoreStage;
        use vigil_pipeline::scoring::BuiltIn;

        let vars: HashMap<&str, &str> = [("KAFKA_BOOTSTRAP_SERVERS", "b:9092")].into();
        let settings = ScoreSettings::from_vars(|k| vars.get(k).map(|v| v.to_string())).unwrap();
        let scorer = BuiltIn::<vigil_aws::dynamodb::DynamoStateTable>::new(
            ScoreStage::new(Scorer::new(
                default_model().unwrap(),
                Rules::default_rules(),
            )),
            None,
        );
        let customers = vigil_generator::default_customers().unwrap();
        let config = vigil_generator::GeneratorConfig {
            seed: 3,
            ..Default::default()
        };
        let good = vigil_generator::Generator::new(&customers, &config)
            .unwrap()
            .next()
            .unwrap()
            .transaction;
        let record = |offset: i64, value: Vec<u8>| Record {
            topic: "transactions".into(),
            partition: 0,
            offset,
            key: None,
            value: Ok(value),
        };
        let records = [
            record(0, serde_json::to_vec(&good).unwrap()),
            record(1, b"{\"transaction_amt\": \"lots\"}".to_vec()),
        ];
        let sink = MemorySink::default();
        let summary = score(&scorer, &sink, &settings, &records).await.unwrap();
        assert_eq!((summary.processed, summary.dead_letters), (1, 1));
        let delivered = sink.delivered();
        assert_eq!(delivered.len(), 2);
        assert_eq!(
            (delivered[0].0.as_str(), delivered[0].1.as_str()),
            ("processed_transactions", good.entity_id.as_str())
        );
        let processed: serde_json::Value = serde_json::from_slice(&delivered[0].2).unwrap();
        assert!(processed["fd"]["outcome"].is_string(), "{processed}");
        assert_eq!(delivered[1].0, "transactions_dead_letters");
        // The dead letter says where the record was, and keeps its bytes.
        assert_eq!(delivered[1].1, "transactions-0-1");
    }
}

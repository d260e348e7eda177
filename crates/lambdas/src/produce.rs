//! `produce-transactions`: generate N synthetic transactions and produce them to Kafka.
//!
//! Invoked by an EventBridge schedule (or directly with `{"count": N, …}`). With a
//! scheduled event the seed and start time come from the event's id and time, so a retried
//! invocation produces the very same records (same `event_id`s) rather than new ones.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tracing::info;
use vigil_core::RecordSink;
use vigil_generator::{Customer, Generator, GeneratorConfig};
use vigil_kafka::KafkaConfig;

use crate::Error;
use crate::settings::Vars;

/// Most records one invocation may produce: a Lambda has 15 minutes at most.
pub const MAX_COUNT: usize = 1_000_000;

/// Most partitions a topic the producer creates may have.
pub const MAX_PARTITIONS: i32 = 1_000;

/// Settings from the function's environment.
#[derive(Debug, Clone, PartialEq)]
pub struct ProduceSettings {
    pub kafka: KafkaConfig,
    pub topic: String,
    /// The pipeline's other topics, created with `topic` when missing (MSK does not create
    /// topics on first use), so that the event source mappings find all three.
    pub processed_topic: String,
    pub dead_letter_topic: String,
    pub partitions: i32,
    pub count: usize,
    pub fraud_rate: f64,
}

impl ProduceSettings {
    /// `KAFKA_BOOTSTRAP_SERVERS` (required), `KAFKA_SECURITY_PROTOCOL` (plaintext),
    /// `TRANSACTIONS_TOPIC` (transactions), `PROCESSED_TOPIC` (`processed_transactions`),
    /// `DEAD_LETTER_TOPIC` (`transactions_dead_letters`), `TOPIC_PARTITIONS` (6),
    /// `TRANSACTION_COUNT` (50), `FRAUD_RATE` (0.05).
    pub fn from_vars(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let vars = Vars::new(lookup);
        Ok(Self {
            kafka: crate::kafka_from_vars(&vars)?,
            topic: vars.text_or("TRANSACTIONS_TOPIC", "transactions")?,
            processed_topic: vars.text_or("PROCESSED_TOPIC", "processed_transactions")?,
            dead_letter_topic: vars.text_or("DEAD_LETTER_TOPIC", "transactions_dead_letters")?,
            partitions: vars.parsed_or("TOPIC_PARTITIONS", 6, parse_partitions)?,
            count: vars.parsed_or("TRANSACTION_COUNT", 50, parse_count)?,
            fraud_rate: vars.parsed_or("FRAUD_RATE", 0.05, parse_rate)?,
        })
    }
}

fn parse_count(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if (1..=MAX_COUNT).contains(&n) => Ok(n),
        _ => Err(format!(
            "must be a whole number from 1 to {MAX_COUNT}, got `{text}`"
        )),
    }
}

fn parse_partitions(text: &str) -> Result<i32, String> {
    match text.trim().parse::<i32>() {
        Ok(n) if (1..=MAX_PARTITIONS).contains(&n) => Ok(n),
        _ => Err(format!(
            "must be a whole number from 1 to {MAX_PARTITIONS}, got `{text}`"
        )),
    }
}

impl ProduceSettings {
    /// The topics to create when missing, with their partition counts.
    pub fn topics(&self) -> [(&str, i32); 3] {
        [
            (&self.topic, self.partitions),
            (&self.processed_topic, self.partitions),
            (&self.dead_letter_topic, self.partitions),
        ]
    }
}

fn parse_rate(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
        _ => Err(format!("must be a number from 0 to 1, got `{text}`")),
    }
}

/// Overrides an invocation may carry (in a scheduled event's `detail`, or as the whole
/// payload of a direct call).
#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overrides {
    pub count: Option<usize>,
    pub fraud_rate: Option<f64>,
    pub seed: Option<u64>,
    pub start: Option<DateTime<Utc>>,
}

/// What one invocation will generate.
#[derive(Debug, Clone, PartialEq)]
pub struct ProduceRequest {
    pub count: usize,
    pub generator: GeneratorConfig,
}

/// Reads an invocation payload: an EventBridge event, a direct `{"count": …}` call, or `{}`.
pub fn request_from_event(
    payload: &Value,
    settings: &ProduceSettings,
    now: DateTime<Utc>,
) -> Result<ProduceRequest, Error> {
    let (overrides, event_id, event_time) = if payload.get("detail-type").is_some() {
        let event: EventBridgeEvent<Value> = serde_json::from_value(payload.clone())
            .map_err(|e| Error::Event(format!("not an EventBridge event: {e}")))?;
        let overrides = match &event.detail {
            Value::Null => Overrides::default(),
            detail => serde_json::from_value(detail.clone())
                .map_err(|e| Error::Event(format!("detail: {e}")))?,
        };
        (overrides, event.id, event.time)
    } else if payload.is_null() {
        (Overrides::default(), None, None)
    } else {
        let overrides = serde_json::from_value(payload.clone())
            .map_err(|e| Error::Event(format!("payload: {e}")))?;
        (overrides, None, None)
    };
    let count = overrides.count.unwrap_or(settings.count);
    if !(1..=MAX_COUNT).contains(&count) {
        return Err(Error::Event(format!(
            "count must be from 1 to {MAX_COUNT}, got {count}"
        )));
    }
    let fraud_rate = overrides.fraud_rate.unwrap_or(settings.fraud_rate);
    // A scheduled event's id seeds the generator: a retry of the same event gives the same records.
    let seed = overrides
        .seed
        .or_else(|| event_id.as_deref().map(vigil_core::stable_hash))
        .unwrap_or_else(|| now.timestamp_nanos_opt().unwrap_or_default() as u64);
    let generator = GeneratorConfig {
        fraud_rate,
        seed,
        start: overrides.start.or(event_time).unwrap_or(now),
        ..GeneratorConfig::default()
    };
    generator.validate()?;
    Ok(ProduceRequest { count, generator })
}

/// What an invocation returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProduceSummary {
    pub topic: String,
    pub produced: usize,
    pub fraud_records: usize,
    pub seed: u64,
}

/// Generates the request's records and produces them keyed by `entity_id`, sending again
/// only what the broker did not acknowledge. Fails (so that the invocation is retried, with
/// the same records) when some still have not got through after `DELIVERY_BUDGET`.
pub async fn produce(
    settings: &ProduceSettings,
    customers: &[Customer],
    sink: &impl RecordSink,
    request: &ProduceRequest,
) -> Result<ProduceSummary, Error> {
    let mut fraud_records = 0;
    let mut records = Vec::with_capacity(request.count);
    for g in Generator::new(customers, &request.generator)?.take(request.count) {
        fraud_records += usize::from(g.pattern.is_some());
        let payload = serde_json::to_vec(&g.transaction).map_err(vigil_kafka::Error::from)?;
        records.push((g.transaction.entity_id, payload));
    }
    let produced = sink
        .deliver(&settings.topic, records, crate::DELIVERY_BUDGET)
        .await?;
    info!(topic = %settings.topic, produced, fraud_records, seed = request.generator.seed, "transactions produced");
    Ok(ProduceSummary {
        topic: settings.topic.clone(),
        produced,
        fraud_records,
        seed: request.generator.seed,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn settings_from(pairs: &[(&str, &str)]) -> Result<ProduceSettings, Error> {
        let vars: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ProduceSettings::from_vars(|k| vars.get(k).cloned())
    }

    fn now() -> DateTime<Utc> {
        "2025-01-01T00:00:00Z".parse().unwrap()
    }

    #[test]
    fn defaults_apply() {
        let s = settings_from(&[("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")]).unwrap();
        assert_eq!(
            (s.topic.as_str(), s.count, s.fraud_rate),
            ("transactions", 50, 0.05)
        );
        assert_eq!(
            s.topics(),
            [
                ("transactions", 6),
                ("processed_transactions", 6),
                ("transactions_dead_letters", 6)
            ]
        );
        let err = settings_from(&[
            ("KAFKA_BOOTSTRAP_SERVERS", "h:1"),
            ("TOPIC_PARTITIONS", "0"),
        ])
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("TOPIC_PARTITIONS must be a whole number"),
            "{err}"
        );
    }

    #[test]
    fn missing_broker_address_is_a_clear_error() {
        let err = settings_from(&[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "configuration: KAFKA_BOOTSTRAP_SERVERS is not set (the brokers' host:port list, or \
             KAFKA_CLUSTER_ARN to ask MSK for them)"
        );
        let err = settings_from(&[("KAFKA_BOOTSTRAP_SERVERS", "localhost")]).unwrap_err();
        assert!(
            err.to_string().contains("`localhost` is not host:port"),
            "{err}"
        );
    }

    #[test]
    fn bad_count_or_rate_is_a_clear_error() {
        for bad in ["0", "-3", "ten", "1000001", ""] {
            let err = settings_from(&[
                ("KAFKA_BOOTSTRAP_SERVERS", "h:1"),
                ("TRANSACTION_COUNT", bad),
            ])
            .unwrap_err();
            assert!(
                err.to_string()
                    .starts_with("configuration: TRANSACTION_COUNT must be a whole number"),
                "{err}"
            );
        }
        let err =
            settings_from(&[("KAFKA_BOOTSTRAP_SERVERS", "h:1"), ("FRAUD_RATE", "2")]).unwrap_err();
        assert!(
            err.to_string()
                .contains("FRAUD_RATE must be a number from 0 to 1"),
            "{err}"
        );
    }

    #[test]
    fn scheduled_event_seeds_from_its_id_so_retries_repeat() {
        let s = settings_from(&[("KAFKA_BOOTSTRAP_SERVERS", "h:1")]).unwrap();
        let event: Value = serde_json::from_str(include_str!(
            "../../../infra/events/eventbridge-schedule.json"
        ))
        .unwrap();
        let a = request_from_event(&event, &s, now()).unwrap();
        let b = request_from_event(&event, &s, now() + chrono::Duration::hours(1)).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.count, 50);
        assert_eq!(
            a.generator.start,
            "2015-10-08T16:53:06Z".parse::<DateTime<Utc>>().unwrap()
        );
    }

    #[test]
    fn overrides_and_bad_payloads() {
        let s = settings_from(&[("KAFKA_BOOTSTRAP_SERVERS", "h:1")]).unwrap();
        let r = request_from_event(&serde_json::json!({"count": 7, "seed": 3}), &s, now()).unwrap();
        assert_eq!((r.count, r.generator.seed), (7, 3));
        assert_eq!(
            request_from_event(&Value::Null, &s, now()).unwrap().count,
            50
        );
        let err = request_from_event(&serde_json::json!({"count": 0}), &s, now()).unwrap_err();
        assert!(err.to_string().contains("count must be from 1"), "{err}");
        let err = request_from_event(&serde_json::json!({"cuont": 5}), &s, now()).unwrap_err();
        assert!(err.to_string().contains("unknown field `cuont`"), "{err}");
        let err =
            request_from_event(&serde_json::json!({"fraud_rate": 3.0}), &s, now()).unwrap_err();
        assert!(err.to_string().contains("fraud rate"), "{err}");
        let err =
            request_from_event(&serde_json::json!({"detail-type": "x"}), &s, now()).unwrap_err();
        assert!(
            err.to_string().contains("not an EventBridge event"),
            "{err}"
        );
    }
}

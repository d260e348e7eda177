//! `score-transactions` attached to cargo-lambda's Runtime API, invoked with an MSK batch
//! holding good and malformed records: the good ones are scored onto the processed topic
//! (keyed by entity), the bad ones land on the dead-letter topic with a reason, none lost.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use vigil_core::ProcessedTransaction;
use vigil_generator::{Generator, GeneratorConfig, default_customers};
use vigil_kafka::{KafkaConfig, ensure_topic, read_topic};

#[tokio::test]
async fn good_records_are_scored_and_bad_ones_dead_lettered() {
    let broker = std::env::var("VIGIL_TEST_BROKER").expect(
        "VIGIL_TEST_BROKER is not set: run the tests with infra/test.sh, which starts a broker",
    );
    let config = KafkaConfig::new(&broker).unwrap();
    let run = uuid::Uuid::new_v4().simple().to_string();
    let (processed_topic, dead_topic) = (
        format!("vigil-test-processed-{run}"),
        format!("vigil-test-dead-{run}"),
    );
    ensure_topic(&config, &processed_topic, 2).await.unwrap();
    ensure_topic(&config, &dead_topic, 1).await.unwrap();

    let customers = default_customers().unwrap();
    let settings = GeneratorConfig {
        seed: 5,
        start: "2024-05-01T08:00:00Z".parse().unwrap(),
        ..GeneratorConfig::default()
    };
    let transactions: Vec<_> = Generator::new(&customers, &settings)
        .unwrap()
        .take(20)
        .map(|g| g.transaction)
        .collect();
    let mut entries: Vec<Value> = transactions
        .iter()
        .enumerate()
        .map(|(i, t)| {
            json!({"topic": "transactions", "partition": 0, "offset": i, "timestamp": 0, "headers": [],
                   "key": STANDARD.encode(&t.entity_id), "value": STANDARD.encode(serde_json::to_vec(t).unwrap())})
        })
        .collect();
    entries.push(
        json!({"topic": "transactions", "partition": 0, "offset": 20, "timestamp": 0, "headers": [],
                        "value": STANDARD.encode(r#"{"transaction_amt": "a lot"}"#)}),
    );
    entries.push(json!({"topic": "transactions", "partition": 0, "offset": 21, "timestamp": 0, "headers": [], "value": null}));
    let event = json!({"eventSource": "aws:kafka", "records": {"transactions-0": entries}});
    let path = std::env::temp_dir().join(format!("vigil-score-{run}.json"));
    std::fs::write(&path, event.to_string()).unwrap();

    let watch = common::watch(
        env!("CARGO_BIN_EXE_score-transactions"),
        &[
            ("KAFKA_BOOTSTRAP_SERVERS", &broker),
            ("PROCESSED_TOPIC", &processed_topic),
            ("DEAD_LETTER_TOPIC", &dead_topic),
        ],
    );
    let summary = common::invoke(&watch, &path);
    assert_eq!(
        (
            summary["processed"].as_u64(),
            summary["dead_letters"].as_u64()
        ),
        (Some(20), Some(2)),
        "{summary}"
    );

    let (c, t) = (config.clone(), processed_topic.clone());
    let processed = tokio::task::spawn_blocking(move || {
        read_topic(
            &c,
            &t,
            &Default::default(),
            20,
            Duration::from_secs(60),
            &mut |_| {},
        )
    })
    .await
    .unwrap()
    .unwrap();
    let sent: HashSet<&str> = transactions.iter().map(|t| t.event_id.as_str()).collect();
    let mut seen = HashSet::new();
    for m in &processed {
        let p: ProcessedTransaction = serde_json::from_slice(&m.payload).unwrap();
        assert_eq!(m.key.as_deref(), Some(p.transaction.entity_id.as_bytes()));
        assert!(sent.contains(p.transaction.event_id.as_str()));
        assert!(p.fd.model_scores.contains_key("vigil_gbdt"));
        seen.insert(p.transaction.event_id.clone());
    }
    assert_eq!(seen.len(), 20);

    let (c, t) = (config.clone(), dead_topic.clone());
    let dead = tokio::task::spawn_blocking(move || {
        read_topic(
            &c,
            &t,
            &Default::default(),
            2,
            Duration::from_secs(60),
            &mut |_| {},
        )
    })
    .await
    .unwrap()
    .unwrap();
    let reasons: Vec<String> = dead
        .iter()
        .map(|m| {
            serde_json::from_slice::<Value>(&m.payload).unwrap()["reason"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert!(
        reasons.iter().any(|r| r.contains("transaction_amt")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("no value")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().all(|r| !r.contains("a lot")),
        "reasons never quote values: {reasons:?}"
    );
}

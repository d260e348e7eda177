//! `produce-transactions` runs under the Lambda runtime API emulator (`cargo lambda watch`),
//! is invoked with an EventBridge schedule fixture by `cargo lambda invoke`, and its
//! records arrive in a real broker. Needs `cargo lambda` on PATH and `VIGIL_TEST_BROKER`
//! (the README's test command provides both).

mod common;

use std::collections::HashSet;
use std::time::Duration;

use vigil_core::Transaction;
use vigil_kafka::{KafkaConfig, ensure_topic, read_topic};

#[tokio::test]
async fn scheduled_invocation_produces_records_to_the_broker() {
    let Some(broker) = common::broker() else {
        return;
    };
    let config = KafkaConfig::new(&broker).unwrap();
    let topic = format!("vigil-test-lambda-{}", uuid::Uuid::new_v4().simple());
    ensure_topic(&config, &topic, 2).await.unwrap();

    let watch = common::watch(
        env!("CARGO_BIN_EXE_produce-transactions"),
        &[
            ("KAFKA_BOOTSTRAP_SERVERS", &broker),
            ("TRANSACTIONS_TOPIC", &topic),
            ("TRANSACTION_COUNT", "25"),
        ],
    );
    let fixture = common::workspace_root().join("infra/events/eventbridge-schedule.json");
    let first = common::invoke(&watch, &fixture);
    assert_eq!(first["produced"], 25, "{first}");
    assert_eq!(first["topic"], topic.as_str());
    // The same scheduled event again (a retry) yields the same records, not new ones.
    let second = common::invoke(&watch, &fixture);
    assert_eq!(second["seed"], first["seed"]);

    let (c, t) = (config.clone(), topic.clone());
    let messages = tokio::task::spawn_blocking(move || {
        read_topic(
            &c,
            &t,
            &Default::default(),
            50,
            Duration::from_secs(60),
            &mut |_| {},
        )
    })
    .await
    .unwrap()
    .unwrap();
    let mut ids = HashSet::new();
    for m in &messages {
        let txn: Transaction = serde_json::from_slice(&m.payload).unwrap();
        assert_eq!(m.key.as_deref(), Some(txn.entity_id.as_bytes()));
        assert!(
            txn.event_time.starts_with("2015-10-08T"),
            "start time from the event: {}",
            txn.event_time
        );
        ids.insert(txn.event_id);
    }
    assert_eq!(ids.len(), 25, "a retried event repeats its event ids");
}

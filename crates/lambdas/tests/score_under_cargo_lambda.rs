//! `score-transactions` attached to cargo-lambda's Runtime API, invoked with an MSK batch
//! holding good and malformed records: the good ones are scored onto the processed topic
//! (keyed by entity), the bad ones land on the dead-letter topic with a reason, none lost;
//! and with a state table (DynamoDB on moto), entity state outlives the function instance.

mod common;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use vigil_aws::dynamodb::DynamoStateTable;
use vigil_core::{ProcessedTransaction, Transaction};
use vigil_fraud::features::StateTable;
use vigil_generator::{Generator, GeneratorConfig, default_customers};
use vigil_kafka::{KafkaConfig, ReadMessage, ensure_topic, read_topic};

/// A run's own topics on the broker: `processed_transactions` (with `partitions`) and the
/// dead letters, named after a fresh run id (also returned, for other names).
async fn run_topics(config: &KafkaConfig, partitions: i32) -> (String, String, String) {
    let run = uuid::Uuid::new_v4().simple().to_string();
    let (processed, dead) = (
        format!("vigil-test-processed-{run}"),
        format!("vigil-test-dead-{run}"),
    );
    ensure_topic(config, &processed, partitions).await.unwrap();
    ensure_topic(config, &dead, 1).await.unwrap();
    (run, processed, dead)
}

#[tokio::test]
async fn good_records_are_scored_and_bad_ones_dead_lettered() {
    let Some(broker) = common::broker() else {
        return;
    };
    let config = KafkaConfig::new(&broker).unwrap();
    let (run, processed_topic, dead_topic) = run_topics(&config, 2).await;

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

/// An MSK event with `transactions` on partition 0 from `first_offset`, written to a file.
fn msk_event_file(transactions: &[Transaction], first_offset: usize, name: &str) -> PathBuf {
    let messages: Vec<ReadMessage> = transactions
        .iter()
        .enumerate()
        .map(|(i, t)| ReadMessage {
            partition: 0,
            offset: (first_offset + i) as i64,
            key: Some(t.entity_id.clone().into_bytes()),
            payload: serde_json::to_vec(t).unwrap(),
        })
        .collect();
    common::msk_event("transactions", &messages, &format!("score-{name}"))
}

/// With `ENTITY_STATE_TABLE`, a fresh function instance goes on from the state the previous
/// one left in DynamoDB (moto): every transaction counted once, per customer.
#[tokio::test]
async fn entity_state_lives_in_the_table_across_instances() {
    let Some(broker) = common::broker() else {
        return;
    };
    let Some(moto) = common::moto() else { return };
    let config = KafkaConfig::new(&broker).unwrap();
    let (run, processed_topic, dead_topic) = run_topics(&config, 1).await;
    let table_name = format!("vigil-test-entities-{run}");
    let dynamo = common::dynamodb_table(&moto, &table_name, "entity_id").await;

    // Few customers, so that most appear in both batches.
    let customers: Vec<_> = default_customers().unwrap().into_iter().take(4).collect();
    let settings = GeneratorConfig {
        seed: 9,
        start: "2024-05-01T08:00:00Z".parse().unwrap(),
        ..GeneratorConfig::default()
    };
    let transactions: Vec<Transaction> = Generator::new(&customers, &settings)
        .unwrap()
        .take(30)
        .map(|g| g.transaction)
        .collect();
    let mut env: Vec<(&str, String)> = common::aws_env(&moto);
    env.extend([
        ("KAFKA_BOOTSTRAP_SERVERS", broker.clone()),
        ("PROCESSED_TOPIC", processed_topic.clone()),
        ("DEAD_LETTER_TOPIC", dead_topic.clone()),
        ("ENTITY_STATE_TABLE", table_name.clone()),
    ]);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    for (i, half) in transactions.chunks(15).enumerate() {
        let path = msk_event_file(half, i * 15, &format!("{run}-{i}"));
        // A new instance each time: nothing carries over in memory.
        let watch = common::watch(env!("CARGO_BIN_EXE_score-transactions"), &env);
        let summary = common::invoke(&watch, &path);
        assert_eq!(summary["processed"].as_u64(), Some(15), "{summary}");
    }

    let mut expected: HashMap<String, u32> = HashMap::new();
    for t in &transactions {
        *expected.entry(t.entity_id.clone()).or_default() += 1;
    }
    let entities: Vec<String> = expected.keys().cloned().collect();
    let table = DynamoStateTable::new(dynamo, &table_name, Duration::from_secs(3600));
    let stored = table.load(&entities).await.unwrap();
    for (entity, count) in &expected {
        let v = &stored[entity];
        assert_eq!(v.state.transactions(), *count, "transactions counted once");
        let in_both = transactions[..15].iter().any(|t| &t.entity_id == entity)
            && transactions[15..].iter().any(|t| &t.entity_id == entity);
        assert_eq!(v.version, if in_both { 2 } else { 1 });
    }
}

/// The processed records of `sent`, read from the start of `topic` (which holds `total`).
async fn processed_of(
    config: &KafkaConfig,
    topic: &str,
    total: usize,
    sent: &[Transaction],
) -> Vec<ProcessedTransaction> {
    let (c, t) = (config.clone(), topic.to_owned());
    let messages = tokio::task::spawn_blocking(move || {
        read_topic(
            &c,
            &t,
            &Default::default(),
            total,
            Duration::from_secs(60),
            &mut |_| {},
        )
    })
    .await
    .unwrap()
    .unwrap();
    let ids: HashSet<&str> = sent.iter().map(|t| t.event_id.as_str()).collect();
    let out: Vec<ProcessedTransaction> = messages
        .iter()
        .map(|m| serde_json::from_slice::<ProcessedTransaction>(&m.payload).unwrap())
        .filter(|p| ids.contains(p.transaction.event_id.as_str()))
        .collect();
    assert_eq!(out.len(), sent.len());
    out
}

/// The registry of versions in S3 (moto), under the function: it starts on what the
/// pointer names (nothing: the shipped versions), switches when another rules version is
/// activated, keeps its versions when a changed pointer names a file that does not load,
/// and records a shadow's decision without acting on it.
#[tokio::test]
async fn versions_are_loaded_switched_refused_and_shadowed() {
    use vigil_aws::s3::S3Store;
    use vigil_core::Outcome;
    use vigil_fraud::versions::{self, Kind};
    use vigil_pipeline::registry::Registry;

    let Some(broker) = common::broker() else {
        return;
    };
    let Some(moto) = common::moto() else { return };
    let config = KafkaConfig::new(&broker).unwrap();
    let (run, processed_topic, dead_topic) = run_topics(&config, 1).await;
    let bucket = format!("vigil-test-registry-{run}");
    let s3 = common::s3_client(&moto);
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let registry = Registry::new(S3Store::new(s3.clone()), &bucket, "registry");

    let block_all = "default_outcome = \"approve\"\n[[rule]]\nname = \"everything\"\nwhen = \"$amount > -1\"\noutcome = \"block\"\n";
    let approve_all = "default_outcome = \"approve\"\n[[rule]]\nname = \"nothing\"\nwhen = \"$amount < -1e12\"\noutcome = \"block\"\n";
    let (blocking, _) = registry
        .publish(Kind::Rules, block_all.as_bytes().to_vec(), "block.toml")
        .await
        .unwrap();
    let (approving, _) = registry
        .publish(Kind::Rules, approve_all.as_bytes().to_vec(), "approve.toml")
        .await
        .unwrap();

    let settings = GeneratorConfig {
        seed: 12,
        start: "2024-05-01T08:00:00Z".parse().unwrap(),
        ..GeneratorConfig::default()
    };
    let transactions: Vec<Transaction> = Generator::new(&default_customers().unwrap(), &settings)
        .unwrap()
        .take(40)
        .map(|g| g.transaction)
        .collect();
    let mut env: Vec<(&str, String)> = common::aws_env(&moto);
    env.extend([
        ("KAFKA_BOOTSTRAP_SERVERS", broker.clone()),
        ("PROCESSED_TOPIC", processed_topic.clone()),
        ("DEAD_LETTER_TOPIC", dead_topic.clone()),
        ("REGISTRY", format!("s3://{bucket}/registry")),
        ("REGISTRY_RELOAD_SECONDS", "0".into()),
    ]);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let watch = common::watch(env!("CARGO_BIN_EXE_score-transactions"), &env);
    let mut batches = transactions.chunks(10).enumerate();
    let mut invoke = async |step: &str| {
        let (i, batch) = batches.next().unwrap();
        let path = msk_event_file(batch, i * 10, &format!("{run}-{step}"));
        let summary = common::invoke(&watch, &path);
        assert_eq!(summary["processed"].as_u64(), Some(10), "{step}: {summary}");
        processed_of(&config, &processed_topic, (i + 1) * 10, batch).await
    };

    // Nothing active: the shipped versions, named in every record.
    for p in invoke("shipped").await {
        assert_eq!(p.fd.model_version, Some(versions::shipped_model_id()));
        assert_eq!(p.fd.rules_version, Some(versions::shipped_rules_id()));
        assert!(p.fd.shadow.is_none());
    }

    // Activated between two batches: the next batch is decided by it.
    registry.activate(&blocking.id).await.unwrap();
    for p in invoke("switched").await {
        assert_eq!(p.fd.rules_version.as_deref(), Some(blocking.id.as_str()));
        assert_eq!(p.fd.outcome, Outcome::Block);
    }

    // A pointer changed by hand to a version whose file was damaged: refused, kept.
    s3.put_object()
        .bucket(&bucket)
        .key(format!(
            "registry/{}",
            versions::artifact_key(Kind::Rules, &approving.id)
        ))
        .body(b"default_outcome = \"maybe\"".to_vec().into())
        .send()
        .await
        .unwrap();
    s3.put_object()
        .bucket(&bucket)
        .key("registry/active.json")
        .body(
            format!("{{\"model\": null, \"rules\": \"{}\"}}", approving.id)
                .into_bytes()
                .into(),
        )
        .send()
        .await
        .unwrap();
    for p in invoke("refused").await {
        assert_eq!(p.fd.rules_version.as_deref(), Some(blocking.id.as_str()));
        assert_eq!(p.fd.outcome, Outcome::Block);
    }

    // A shadow: decided beside, recorded, not acted on.
    registry.activate(&blocking.id).await.unwrap();
    // (The damaged version's content is taken: a shadow of the same rules is another file.)
    let (shadow, _) = registry
        .publish(
            Kind::Rules,
            format!("{approve_all}# shadow\n").into_bytes(),
            "shadow.toml",
        )
        .await
        .unwrap();
    registry
        .shadow(std::slice::from_ref(&shadow.id))
        .await
        .unwrap();
    for p in invoke("shadowed").await {
        assert_eq!(p.fd.outcome, Outcome::Block, "the active rules act");
        let s = p.fd.shadow.expect("a shadow decision");
        assert_eq!(
            (s.outcome, s.rules_version.as_str()),
            (Outcome::Approve, shadow.id.as_str())
        );
    }
}

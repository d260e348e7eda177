//! The transaction pipeline end to end through the four Lambda functions, each under
//! `cargo lambda watch`, on real peers: `produce-transactions` writes to tansu; its records
//! (plus two malformed ones) go to `score-transactions` as an MSK event, as the event source
//! mapping would send them, and again, as the mapping retries a batch whose invocation
//! failed after its output was delivered; the processed records (each twice) go to
//! `alert-transactions` (moto's SNS) and `archive-transactions` (moto's S3), which claim
//! each event in moto's DynamoDB. N transactions come out as N archived rows with outcomes
//! and one masked SNS message per `block`; the malformed ones are dead letters.

mod common;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use serde_json::json;
use vigil_core::{Outcome, ProcessedTransaction, Transaction};
use vigil_kafka::{KafkaConfig, KeyedProducer, ReadMessage, ensure_topic, read_topic};

const COUNT: usize = 400;

async fn read_all(config: &KafkaConfig, topic: &str, expected: usize) -> Vec<ReadMessage> {
    let (c, t) = (config.clone(), topic.to_owned());
    tokio::task::spawn_blocking(move || {
        read_topic(
            &c,
            &t,
            &Default::default(),
            expected,
            Duration::from_secs(60),
            &mut |_| {},
        )
    })
    .await
    .unwrap()
    .unwrap()
}

#[tokio::test]
async fn transactions_come_out_archived_and_alerted_once_masked() {
    let Some(broker) = common::broker() else {
        return;
    };
    let Some(moto) = common::moto() else { return };
    let config = KafkaConfig::new(&broker).unwrap();
    let run = uuid::Uuid::new_v4().simple().to_string();
    let (transactions, processed, dead) = (
        format!("vigil-e2e-transactions-{run}"),
        format!("vigil-e2e-processed-{run}"),
        format!("vigil-e2e-dead-{run}"),
    );
    ensure_topic(&config, &transactions, 3).await.unwrap();
    ensure_topic(&config, &processed, 3).await.unwrap();
    ensure_topic(&config, &dead, 1).await.unwrap();
    let bucket = format!("vigil-e2e-archive-{run}");
    let s3 = common::s3_client(&moto);
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let arn = common::sns_topic(&moto, &format!("vigil-e2e-alerts-{run}")).await;
    let aws = common::aws_env(&moto);

    // Produce: a direct invocation with a high fraud rate, so that there are blocks.
    let produce = common::watch(
        env!("CARGO_BIN_EXE_produce-transactions"),
        &[
            ("KAFKA_BOOTSTRAP_SERVERS", &broker),
            ("TRANSACTIONS_TOPIC", &transactions),
        ],
    );
    let request = std::env::temp_dir().join(format!("vigil-e2e-produce-{run}.json"));
    std::fs::write(
        &request,
        json!({"count": COUNT, "seed": 21, "fraud_rate": 0.3}).to_string(),
    )
    .unwrap();
    let produced = common::invoke(&produce, &request);
    assert_eq!(produced["produced"], COUNT, "{produced}");
    drop(produce);
    // Two records that are not transactions, as a faulty producer might send.
    let bad = KeyedProducer::new(&config).unwrap();
    let report = bad
        .send_all(
            &transactions,
            [
                ("x", b"{\"transaction_amt\": \"lots\"}".to_vec()),
                ("y", b"not json".to_vec()),
            ],
        )
        .await;
    assert!(report.failed.is_empty());
    let sent = read_all(&config, &transactions, COUNT + 2).await;
    let originals: HashMap<String, Transaction> = sent
        .iter()
        .filter_map(|m| serde_json::from_slice::<Transaction>(&m.payload).ok())
        .map(|t| (t.event_id.clone(), t))
        .collect();
    assert_eq!(originals.len(), COUNT);

    // Score: one MSK batch with everything.
    let score = common::watch(
        env!("CARGO_BIN_EXE_score-transactions"),
        &[
            ("KAFKA_BOOTSTRAP_SERVERS", &broker),
            ("PROCESSED_TOPIC", &processed),
            ("DEAD_LETTER_TOPIC", &dead),
        ],
    );
    let batch = common::msk_event(&transactions, &sent, &format!("e2e-{run}-score"));
    // The batch twice: the second time as a retry after the first had delivered.
    for _ in 0..2 {
        let summary = common::invoke(&score, &batch);
        assert_eq!(
            (
                summary["processed"].as_u64(),
                summary["dead_letters"].as_u64()
            ),
            (Some(COUNT as u64), Some(2)),
            "{summary}"
        );
    }
    drop(score);
    let scored = read_all(&config, &processed, 2 * COUNT).await;
    assert_eq!(scored.len(), 2 * COUNT, "the retry repeated every record");
    let dead_letters = read_all(&config, &dead, 4).await;
    assert_eq!(dead_letters.len(), 4);

    // Alert and archive: the same processed batch, each its own consumer, each claiming
    // the events it acts on.
    let claims = format!("vigil-e2e-claims-{run}");
    common::dynamodb_table(&moto, &claims, "claim").await;
    let event = common::msk_event(&processed, &scored, &format!("e2e-{run}-processed"));
    let alert_env = [
        ("ALERT_TOPIC_ARN", arn.clone()),
        ("CLAIMS_TABLE", claims.clone()),
    ];
    let alert = common::watch(
        env!("CARGO_BIN_EXE_alert-transactions"),
        &common::env_for(&aws, &alert_env),
    );
    let alerted = common::invoke(&alert, &event);
    assert_eq!(alerted["repeats"], COUNT, "{alerted}");
    let archive_env = [
        ("ARCHIVE_BUCKET", bucket.clone()),
        ("CLAIMS_TABLE", claims.clone()),
    ];
    let archive = common::watch(
        env!("CARGO_BIN_EXE_archive-transactions"),
        &common::env_for(&aws, &archive_env),
    );
    // Twice: a retried archive batch keeps its claims and rewrites its own objects.
    for _ in 0..2 {
        let archived = common::invoke(&archive, &event);
        assert_eq!(
            (archived["records"].as_u64(), archived["repeats"].as_u64()),
            (Some(2 * COUNT as u64), Some(COUNT as u64)),
            "{archived}"
        );
    }

    // N archived rows, each transaction once, intact, with an outcome.
    let mut archived: HashMap<String, ProcessedTransaction> = HashMap::new();
    for (key, body) in common::s3_objects(&s3, &bucket, "processed/").await {
        assert!(
            key.starts_with("processed/dt=") && key.ends_with(".json"),
            "{key}"
        );
        for line in body.lines() {
            let p: ProcessedTransaction = serde_json::from_str(line).unwrap();
            assert_eq!(&p.transaction, &originals[&p.transaction.event_id]);
            assert!(
                archived.insert(p.transaction.event_id.clone(), p).is_none(),
                "archived twice"
            );
        }
    }
    assert_eq!(archived.len(), COUNT);

    // One SNS message per block, each masked.
    let blocks: HashSet<&str> = archived
        .values()
        .filter(|p| p.fd.outcome == Outcome::Block)
        .map(|p| p.transaction.event_id.as_str())
        .collect();
    assert!(!blocks.is_empty(), "the fraud patterns produced blocks");
    assert_eq!(alerted["alerts"], blocks.len(), "{alerted}");
    let messages = common::sns_sent(&moto, &arn);
    assert_eq!(messages.len(), blocks.len());
    let mut alerted_ids = HashSet::new();
    for m in &messages {
        let text = m.to_string();
        let id = blocks
            .iter()
            .find(|id| text.contains(**id))
            .unwrap_or_else(|| panic!("an alert for a transaction that is no block: {text}"));
        alerted_ids.insert(*id);
        let t = &originals[*id];
        for personal in [&t.email_address, &t.phone, &t.entity_id, &t.billing_street] {
            assert!(
                !text.contains(personal.as_str()),
                "unmasked personal data: {text}"
            );
        }
    }
    assert_eq!(alerted_ids, blocks, "one message per block");
}

//! `archive-transactions` and `alert-transactions` under `cargo lambda watch`, invoked with
//! MSK events (the shape of the `aws_lambda_events` fixture) against moto's S3 and SNS.

mod common;

use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use vigil_core::{FraudAssessment, Outcome, ProcessedTransaction, Transaction};

fn processed(i: usize, outcome: Outcome) -> ProcessedTransaction {
    let mut t: Transaction =
        serde_json::from_str(include_str!("../../../test_data/transaction.json")).unwrap();
    t.event_id = format!("evt-{i}");
    t.event_time = format!("2024-03-0{}T10:00:00Z", 1 + i % 2);
    ProcessedTransaction {
        transaction: t,
        fd: FraudAssessment {
            outcome,
            model_scores: [(
                "vigil_gbdt".to_owned(),
                if outcome == Outcome::Block {
                    990.0
                } else {
                    10.0
                },
            )]
            .into(),
            rule_results: vec![],
            reasons: vec!["amount 14.0x the customer's mean".into()],
            ttdf: 5,
            proc_time: 0,
            frauddetector_time: 0,
            model_version: None,
            rules_version: None,
            shadow: None,
        },
    }
}

/// An MSK event: partition 0 from offset 100, partition 1 from offset 7, plus one record
/// that is not a processed transaction.
fn msk_event(name: &str) -> (PathBuf, Vec<ProcessedTransaction>) {
    let records: Vec<ProcessedTransaction> = (0..6)
        .map(|i| {
            processed(
                i,
                if i % 3 == 0 {
                    Outcome::Block
                } else {
                    Outcome::Approve
                },
            )
        })
        .collect();
    let entry = |r: &ProcessedTransaction, partition: i64, offset: i64| {
        json!({
            "topic": "processed_transactions", "partition": partition, "offset": offset,
            "timestamp": 1_700_000_000_000i64, "timestampType": "CREATE_TIME",
            "key": STANDARD.encode(&r.transaction.entity_id),
            "value": STANDARD.encode(serde_json::to_vec(r).unwrap()), "headers": []
        })
    };
    let mut p0: Vec<Value> = records[..4]
        .iter()
        .enumerate()
        .map(|(k, r)| entry(r, 0, 100 + k as i64))
        .collect();
    p0.push(
        json!({"topic": "processed_transactions", "partition": 0, "offset": 104, "timestamp": 1,
                   "value": STANDARD.encode("not json"), "headers": []}),
    );
    let p1: Vec<Value> = records[4..]
        .iter()
        .enumerate()
        .map(|(k, r)| entry(r, 1, 7 + k as i64))
        .collect();
    let event = json!({
        "eventSource": "aws:kafka",
        "eventSourceArn": "arn:aws:kafka:us-east-1:123456789012:cluster/vigil/abc",
        "bootstrapServers": "b-1.vigil:9098",
        "records": {"processed_transactions-0": p0, "processed_transactions-1": p1}
    });
    let path = std::env::temp_dir().join(format!("vigil-msk-{}-{name}.json", std::process::id()));
    std::fs::write(&path, event.to_string()).unwrap();
    (path, records)
}

#[tokio::test]
async fn a_batch_delivered_twice_leaves_one_object_per_partition() {
    let Some(endpoint) = common::moto() else {
        return;
    };
    let s3 = common::s3_client(&endpoint);
    let bucket = format!("vigil-test-archive-{}", uuid::Uuid::new_v4().simple());
    s3.create_bucket().bucket(&bucket).send().await.unwrap();

    let aws = common::aws_env(&endpoint);
    let extra = [("ARCHIVE_BUCKET", bucket.clone())];
    let watch = common::watch(
        env!("CARGO_BIN_EXE_archive-transactions"),
        &common::env_for(&aws, &extra),
    );
    let (event, records) = msk_event("archive");
    let first = common::invoke(&watch, &event);
    let second = common::invoke(&watch, &event);
    assert_eq!(first, second, "a retry writes the same objects");
    assert_eq!(first["skipped"], 1, "{first}");

    let objects = common::s3_objects(&s3, &bucket, "").await;
    let keys: Vec<&str> = objects.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "processed/dt=2024-03-01/processed_transactions-0-100.json",
            "processed/dt=2024-03-01/processed_transactions-1-7.json",
        ]
    );
    let archived: Vec<ProcessedTransaction> = objects
        .iter()
        .flat_map(|(_, body)| body.lines())
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(
        archived, records,
        "every good record once, intact, in partition order"
    );
}

#[tokio::test]
async fn blocks_are_published_to_sns_masked() {
    let Some(endpoint) = common::moto() else {
        return;
    };
    let arn = common::sns_topic(
        &endpoint,
        &format!("vigil-test-alerts-{}", uuid::Uuid::new_v4().simple()),
    )
    .await;

    let aws = common::aws_env(&endpoint);
    let extra = [("ALERT_TOPIC_ARN", arn.clone())];
    let watch = common::watch(
        env!("CARGO_BIN_EXE_alert-transactions"),
        &common::env_for(&aws, &extra),
    );
    let (event, records) = msk_event("alert");
    let summary = common::invoke(&watch, &event);
    let blocks = records
        .iter()
        .filter(|r| r.fd.outcome == Outcome::Block)
        .count();
    assert_eq!(summary["alerts"], blocks, "{summary}");

    let sent = common::sns_sent(&endpoint, &arn);
    assert_eq!(sent.len(), blocks, "{sent:?}");
    let t = &records[0].transaction;
    for n in &sent {
        let text = n.to_string();
        assert!(
            text.contains("FRAUD ALERT: Transaction has been flagged!"),
            "{text}"
        );
        assert!(text.contains("***-**-"), "{text}");
        for secret in [
            &t.email_address,
            &t.phone,
            &t.entity_id,
            &t.billing_street,
            &t.customer_name,
        ] {
            assert!(
                !text.contains(secret.as_str()),
                "alert leaks personal data: {text}"
            );
        }
    }
}

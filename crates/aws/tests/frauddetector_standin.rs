//! The Fraud Detector adapter against a local stand-in that speaks Fraud Detector's JSON
//! protocol over HTTP (moto does not implement the service): request mapping, every score
//! and rule result kept, default outcome, throttling retried, clear errors.
#![cfg(feature = "frauddetector")]

use aws_config::BehaviorVersion;
use aws_sdk_frauddetector::config::{Credentials, Region};
use serde_json::{Value, json};
use vigil_aws::frauddetector::{DetectorConfig, FraudDetectorScorer};
use vigil_core::{FraudScorer, Outcome, Transaction};
use vigil_testkit::http::StandIn;

/// A stand-in answering with `replies` (status, JSON) in order.
async fn stand_in(replies: Vec<(u16, Value)>) -> StandIn {
    let replies = replies
        .into_iter()
        .map(|(status, body)| (status, "application/x-amz-json-1.1", body.to_string()))
        .collect();
    StandIn::start(replies).await
}

/// What the scorer sent: its `X-Amz-Target` and JSON body, per request.
fn sent(stand_in: &StandIn) -> Vec<(String, Value)> {
    stand_in
        .seen()
        .into_iter()
        .map(|r| {
            let target = r.header("x-amz-target").unwrap_or("").to_owned();
            (
                target,
                serde_json::from_slice(&r.body).unwrap_or(Value::Null),
            )
        })
        .collect()
}

async fn scorer(endpoint: &str) -> FraudDetectorScorer {
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .endpoint_url(endpoint)
        .load()
        .await;
    FraudDetectorScorer::from_sdk_config(
        &sdk,
        DetectorConfig {
            detector_id: "transaction_fraud_detector".into(),
            detector_version: None,
            event_type: "transaction_event".into(),
            entity_type: "customer".into(),
            default_outcome: Outcome::Approve,
        },
    )
}

fn transaction() -> Transaction {
    let text = r#"{"transaction_amt": 255, "email_address": "lowegary@gmail.com", "ip_address": "131.77.132.4",
        "transaction_currency": "usd", "event_id": "cd3c04cd-caf5-4082-b641-0a54069afb26", "entity_id": "140-94-8416",
        "event_time": "2023-08-02T11:12:35.856868", "billing_longitude": "-85.2849", "billing_state": "TN",
        "user_agent": "Mozilla/5.0", "billing_street": "53104 Cruz Square Suite 485", "billing_city": "Chattanooga",
        "card_bin": "303372", "customer_name": "Eileen", "product_category": "grocery_pos",
        "customer_job": "Learning mentor", "phone": "001-845-169-2115-8972", "billing_latitude": "35.0024",
        "billing_zip": "37407"}"#;
    serde_json::from_str(text).unwrap()
}

fn prediction(rules: Value) -> Value {
    json!({
        "modelScores": [{
            "modelVersion": {"modelId": "txn_model", "modelType": "TRANSACTION_FRAUD_INSIGHTS", "modelVersionNumber": "1.0"},
            "scores": {"txn_model_insightscore": 912.0}
        }],
        "ruleResults": rules
    })
}

#[tokio::test]
async fn maps_the_request_and_keeps_every_score_and_rule() {
    let rules = json!([{"ruleId": "high_risk", "outcomes": ["block"]}, {"ruleId": "also", "outcomes": ["review"]}]);
    let service = stand_in(vec![(200, prediction(rules))]).await;
    let fd = scorer(&service.endpoint)
        .await
        .assess(&transaction())
        .await
        .unwrap();
    assert_eq!(fd.outcome, Outcome::Block);
    assert_eq!(fd.model_scores["txn_model_insightscore"], 912.0);
    assert_eq!(fd.rule_results.len(), 2);
    assert_eq!(fd.rule_results[1].outcomes, vec!["review".to_owned()]);

    let seen = &sent(&service);
    assert_eq!(seen.len(), 1);
    let (target, body) = &seen[0];
    assert_eq!(target, "AWSHawksNestServiceFacade.GetEventPrediction");
    assert_eq!(body["detectorId"], "transaction_fraud_detector");
    assert_eq!(body["eventId"], "cd3c04cd-caf5-4082-b641-0a54069afb26");
    assert_eq!(body["eventTimestamp"], "2023-08-02T11:12:35Z");
    assert_eq!(
        body["entities"][0],
        json!({"entityType": "customer", "entityId": "140-94-8416"})
    );
    let variables = &body["eventVariables"];
    assert_eq!(variables["order_price"], "255");
    assert_eq!(variables["customer_email"], "lowegary@gmail.com");
    assert_eq!(variables["payment_currency"], "usd");
    assert_eq!(variables["phone"], "001-845-169-2115-8972");
    assert_eq!(variables.as_object().unwrap().len(), 16);
}

#[tokio::test]
async fn no_rule_result_means_the_default_outcome() {
    let service = stand_in(vec![(200, prediction(json!([])))]).await;
    let fd = scorer(&service.endpoint)
        .await
        .assess(&transaction())
        .await
        .unwrap();
    assert_eq!(fd.outcome, Outcome::Approve);
    assert!(fd.rule_results.is_empty());
    assert_eq!(fd.model_scores.len(), 1);
}

#[tokio::test]
async fn throttling_is_retried() {
    let throttled = (
        400,
        json!({"__type": "ThrottlingException", "message": "Rate exceeded"}),
    );
    let ok = (
        200,
        prediction(json!([{"ruleId": "r", "outcomes": ["approve"]}])),
    );
    let service = stand_in(vec![throttled.clone(), throttled, ok]).await;
    let fd = scorer(&service.endpoint)
        .await
        .assess(&transaction())
        .await
        .unwrap();
    assert_eq!(fd.outcome, Outcome::Approve);
    assert_eq!(service.seen().len(), 3);
}

#[tokio::test]
async fn a_missing_detector_is_a_clear_error_without_personal_data() {
    let missing = (
        400,
        json!({"__type": "ResourceNotFoundException", "message": "detector not found"}),
    );
    let service = stand_in(vec![missing]).await;
    let err = scorer(&service.endpoint)
        .await
        .assess(&transaction())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("transaction_fraud_detector") && err.contains("ResourceNotFoundException"),
        "{err}"
    );
    assert!(
        !err.contains("lowegary") && !err.contains("140-94-8416"),
        "{err}"
    );
}

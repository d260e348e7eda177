//! Entity state in DynamoDB, against moto's server: conditional writes, versions, TTL.
//! Needs `VIGIL_TEST_S3_ENDPOINT` (moto serves every AWS API on one endpoint).
#![cfg(feature = "dynamodb")]

use std::time::Duration;

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use vigil_aws::claims::DynamoClaims;
use vigil_aws::dynamodb::DynamoStateTable;
use vigil_core::EventClaims;
use vigil_fraud::features::{EntityState, Saved, StateTable};
use vigil_fraud::input::Event;

fn client() -> Option<aws_sdk_dynamodb::Client> {
    let endpoint = vigil_testkit::peer("VIGIL_TEST_S3_ENDPOINT", "moto's server")?;
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .endpoint_url(endpoint)
        .build();
    Some(aws_sdk_dynamodb::Client::from_conf(config))
}

async fn table(client: &aws_sdk_dynamodb::Client) -> String {
    keyed_table(client, "entities", "entity_id").await
}

/// A fresh table whose partition key is the string attribute `key`.
async fn keyed_table(client: &aws_sdk_dynamodb::Client, role: &str, key: &str) -> String {
    let name = format!("vigil-test-{role}-{}", uuid::Uuid::new_v4().simple());
    client
        .create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(key)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name(key)
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    name
}

fn state_after(events: usize) -> EntityState {
    let mut s = EntityState::default();
    for i in 0..events {
        s.observe(&Event {
            event_id: format!("e{i}"),
            entity_id: "111-22-3333".into(),
            time: 1_700_000_000 + i as i64 * 60,
            amount: 10.0 + i as f64,
            category: "home".into(),
            ip_address: "10.0.0.1".into(),
            user_agent: "ua".into(),
            card_bin: "400000".into(),
            billing_state: "VA".into(),
            email: "a@b.c".into(),
        });
    }
    s
}

#[tokio::test]
async fn conditional_writes_keep_every_update() {
    let Some(client) = client() else { return };
    let name = table(&client).await;
    let store = DynamoStateTable::new(client.clone(), &name, Duration::from_secs(90 * 86_400));
    let entity = "111-22-3333".to_owned();

    assert!(
        store
            .load(std::slice::from_ref(&entity))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.save(&entity, &state_after(1), None).await.unwrap(),
        Saved::Written(1)
    );
    // A second writer that also thought the entity was new loses, and must reload.
    assert_eq!(
        store.save(&entity, &state_after(1), None).await.unwrap(),
        Saved::Conflict
    );
    assert_eq!(
        store.save(&entity, &state_after(2), Some(1)).await.unwrap(),
        Saved::Written(2)
    );
    assert_eq!(
        store.save(&entity, &state_after(3), Some(1)).await.unwrap(),
        Saved::Conflict
    );

    let loaded = store
        .load(&[entity.clone(), entity.clone(), "absent".into()])
        .await
        .unwrap();
    assert_eq!(loaded.len(), 1);
    assert_eq!(loaded[&entity].version, 2);
    assert_eq!(loaded[&entity].state, state_after(2));

    let item = client
        .get_item()
        .table_name(&name)
        .key(
            "entity_id",
            aws_sdk_dynamodb::types::AttributeValue::S(entity.clone()),
        )
        .send()
        .await
        .unwrap();
    let expires: u64 = item.item().unwrap()["expires_at"]
        .as_n()
        .unwrap()
        .parse()
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(expires > now + 80 * 86_400, "TTL is set ahead");
}

#[tokio::test]
async fn loads_more_than_one_batch_and_reports_a_missing_table() {
    let Some(client) = client() else { return };
    let name = table(&client).await;
    let store = DynamoStateTable::new(client.clone(), &name, Duration::from_secs(3_600));
    let entities: Vec<String> = (0..250).map(|i| format!("e{i:03}")).collect();
    for e in &entities {
        store.save(e, &state_after(1), None).await.unwrap();
    }
    assert_eq!(store.load(&entities).await.unwrap().len(), 250);

    let missing = DynamoStateTable::new(client, "vigil-no-such-table", Duration::from_secs(1));
    let err = missing
        .save("111-22-3333", &state_after(1), None)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("vigil-no-such-table"), "{err}");
    assert!(
        !err.contains("111-22-3333"),
        "the entity id is personal data: {err}"
    );
}

#[tokio::test]
async fn an_event_is_claimed_once_per_scope_and_kept_by_its_own_copy() {
    let Some(client) = client() else { return };
    let name = keyed_table(&client, "claims", "claim").await;
    let claims = DynamoClaims::new(client, &name, Duration::from_secs(7 * 24 * 3600));
    let first = "processed_transactions/0/17";
    assert!(claims.claim("archive", "e1", first).await.unwrap());
    // The same copy again (its consumer batch retried): still its claim.
    assert!(claims.claim("archive", "e1", first).await.unwrap());
    // A repeat at another offset: passed over.
    assert!(
        !claims
            .claim("archive", "e1", "processed_transactions/0/42")
            .await
            .unwrap()
    );
    // Another consumer's claim is its own.
    assert!(
        claims
            .claim("alert", "e1", "processed_transactions/0/42")
            .await
            .unwrap()
    );
    let err = DynamoClaims::new(
        aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new("us-east-1"))
                .credentials_provider(Credentials::new("test", "test", None, None, "test"))
                .endpoint_url(vigil_testkit::peer("VIGIL_TEST_S3_ENDPOINT", "moto").unwrap())
                .build(),
        ),
        "vigil-no-such-table",
        Duration::from_secs(60),
    )
    .claim("archive", "e1", first)
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("vigil-no-such-table"), "{err}");
}

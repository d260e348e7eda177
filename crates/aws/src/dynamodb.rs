//! Entity state in DynamoDB: one item per entity (`entity_id` partition key) holding the
//! serialised state, a version for conditional writes, and an expiry for DynamoDB's TTL so
//! that customers who stop transacting cost nothing.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use vigil_fraud::Error;
use vigil_fraud::features::{EntityState, Saved, StateTable, Versioned};

/// BatchGetItem takes at most 100 keys.
const BATCH: usize = 100;

#[derive(Clone)]
pub struct DynamoStateTable {
    client: Client,
    table: String,
    ttl: Duration,
}

fn store_error(what: &str, e: impl std::error::Error) -> Error {
    Error::StateStore(format!("{what}: {}", DisplayErrorContext(e)))
}

impl DynamoStateTable {
    /// `ttl`: how long an entity's state lives after its last write.
    pub fn new(client: Client, table: impl Into<String>, ttl: Duration) -> Self {
        Self {
            client,
            table: table.into(),
            ttl,
        }
    }

    /// A client from the shared AWS configuration.
    pub fn from_sdk_config(
        sdk: &aws_config::SdkConfig,
        table: impl Into<String>,
        ttl: Duration,
    ) -> Self {
        Self::new(Client::new(sdk), table, ttl)
    }

    fn decode(&self, item: &HashMap<String, AttributeValue>) -> Result<(String, Versioned), Error> {
        let bad = |field: &str| {
            Error::StateStore(format!(
                "table {}: an item has no valid `{field}`",
                self.table
            ))
        };
        let entity = item
            .get("entity_id")
            .and_then(|v| v.as_s().ok())
            .ok_or_else(|| bad("entity_id"))?;
        let version = item
            .get("version")
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse::<u64>().ok())
            .ok_or_else(|| bad("version"))?;
        let bytes = item
            .get("state")
            .and_then(|v| v.as_b().ok())
            .ok_or_else(|| bad("state"))?;
        let state: EntityState =
            serde_json::from_slice(bytes.as_ref()).map_err(|_| bad("state"))?;
        Ok((entity.clone(), Versioned { state, version }))
    }
}

impl StateTable for DynamoStateTable {
    async fn load(&self, entities: &[String]) -> Result<HashMap<String, Versioned>, Error> {
        let mut out = HashMap::with_capacity(entities.len());
        let mut unique: Vec<&String> = entities.iter().collect();
        unique.sort();
        unique.dedup();
        for chunk in unique.chunks(BATCH) {
            let keys = chunk
                .iter()
                .map(|e| HashMap::from([("entity_id".to_owned(), AttributeValue::S((*e).clone()))]))
                .collect::<Vec<_>>();
            let mut request = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(keys))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| store_error("building the read", e))?,
            );
            let mut backoff = Duration::from_millis(20);
            while let Some(keys) = request.take() {
                let response = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, keys)
                    .send()
                    .await
                    .map_err(|e| store_error("reading entity states", e))?;
                for item in response
                    .responses()
                    .and_then(|r| r.get(&self.table))
                    .into_iter()
                    .flatten()
                {
                    let (entity, versioned) = self.decode(item)?;
                    out.insert(entity, versioned);
                }
                // Keys the service did not get to (throttling) are asked again, with backoff.
                request = response
                    .unprocessed_keys()
                    .and_then(|u| u.get(&self.table))
                    .filter(|k| !k.keys().is_empty())
                    .cloned();
                if request.is_some() {
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                }
            }
        }
        Ok(out)
    }

    async fn save(
        &self,
        entity: &str,
        state: &EntityState,
        read_version: Option<u64>,
    ) -> Result<Saved, Error> {
        let version = read_version.map_or(1, |v| v + 1);
        let expires = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            + self.ttl;
        let body = serde_json::to_vec(state).map_err(|e| Error::StateStore(e.to_string()))?;
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("entity_id", AttributeValue::S(entity.to_owned()))
            .item("state", AttributeValue::B(Blob::new(body)))
            .item("version", AttributeValue::N(version.to_string()))
            .item(
                "expires_at",
                AttributeValue::N(expires.as_secs().to_string()),
            );
        put = match read_version {
            None => put.condition_expression("attribute_not_exists(entity_id)"),
            Some(v) => put
                .condition_expression("#version = :read")
                .expression_attribute_names("#version", "version")
                .expression_attribute_values(":read", AttributeValue::N(v.to_string())),
        };
        match put.send().await {
            Ok(_) => Ok(Saved::Written(version)),
            Err(e) if e.code() == Some("ConditionalCheckFailedException") => Ok(Saved::Conflict),
            // The entity id is personal data: the message names the table, not the entity.
            Err(e) => Err(store_error(
                &format!("writing an entity state to {}", self.table),
                e,
            )),
        }
    }
}

//! Event claims in DynamoDB (`vigil_core::EventClaims`): one item per scope and event,
//! `claim` = `<scope>#<event_id>` (partition key), holding the position of the copy that
//! claimed it and an expiry for DynamoDB's TTL. A repeat arrives within minutes of the
//! first copy (a retried scoring batch), so claims need only outlive the retries.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_dynamodb::types::AttributeValue;
use vigil_core::{Error, EventClaims};

#[derive(Clone)]
pub struct DynamoClaims {
    client: Client,
    table: String,
    ttl: Duration,
}

impl DynamoClaims {
    /// `ttl`: how long a claim is kept.
    pub fn new(client: Client, table: impl Into<String>, ttl: Duration) -> Self {
        Self {
            client,
            table: table.into(),
            ttl,
        }
    }

    pub fn from_sdk_config(
        sdk: &aws_config::SdkConfig,
        table: impl Into<String>,
        ttl: Duration,
    ) -> Self {
        Self::new(Client::new(sdk), table, ttl)
    }
}

impl EventClaims for DynamoClaims {
    /// One conditional write: it succeeds when nobody holds the claim, or this position
    /// does (then it only renews the expiry).
    async fn claim(&self, scope: &str, event_id: &str, position: &str) -> Result<bool, Error> {
        let expires = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            + self.ttl;
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("claim", AttributeValue::S(format!("{scope}#{event_id}")))
            .item("position", AttributeValue::S(position.to_owned()))
            .item(
                "expires_at",
                AttributeValue::N(expires.as_secs().to_string()),
            )
            .condition_expression("attribute_not_exists(#claim) OR #position = :position")
            .expression_attribute_names("#claim", "claim")
            .expression_attribute_names("#position", "position")
            .expression_attribute_values(":position", AttributeValue::S(position.to_owned()));
        match put.send().await {
            Ok(_) => Ok(true),
            Err(e) if e.code() == Some("ConditionalCheckFailedException") => Ok(false),
            Err(e) => Err(Error::Claims(format!(
                "table {} ({scope}): {}",
                self.table,
                DisplayErrorContext(e)
            ))),
        }
    }
}

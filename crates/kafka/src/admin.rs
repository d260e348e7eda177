use std::time::Duration;

use crate::context::{Auth, prime};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::types::RDKafkaErrorCode;

use crate::{Error, KafkaConfig};

/// Creates `topic` with `partitions` partitions unless it exists already.
pub async fn ensure_topic(config: &KafkaConfig, topic: &str, partitions: i32) -> Result<(), Error> {
    ensure_topics(config, &[(topic, partitions)]).await
}

/// Creates each `(topic, partitions)` that does not exist yet, in one request: one client
/// and one round trip however many topics there are.
pub async fn ensure_topics(config: &KafkaConfig, topics: &[(&str, i32)]) -> Result<(), Error> {
    let admin: AdminClient<Auth> = config
        .client_config()
        .create_with_context(config.context())?;
    prime(admin.inner(), config.iam())?;
    // A broker that cannot be reached fails the request after 15 s rather than the
    // client's default minute.
    let options = AdminOptions::new()
        .operation_timeout(Some(Duration::from_secs(10)))
        .request_timeout(Some(Duration::from_secs(15)));
    let new: Vec<NewTopic> = topics
        .iter()
        // -1: the broker's default replication (KIP-464). MSK Serverless refuses any
        // other factor than its own 3; a one-broker test cluster has 1.
        .map(|&(topic, partitions)| NewTopic::new(topic, partitions, TopicReplication::Fixed(-1)))
        .collect();
    let results = admin
        .create_topics(&new, &options)
        .await
        .map_err(|e| crate::reader::diagnose(config, e))?;
    for result in results {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((name, code)) => {
                return Err(Error::Topic {
                    topic: name,
                    message: format!("could not be created: {code}"),
                });
            }
        }
    }
    Ok(())
}

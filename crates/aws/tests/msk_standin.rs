//! MSK's control plane (`kafka:GetBootstrapBrokers`) through the real SDK client against a
//! stand-in that speaks its REST/JSON protocol (moto does not implement the call): the
//! request it signs and sends, every listener read back, and a missing cluster's error.
#![cfg(feature = "msk")]

use aws_config::BehaviorVersion;
use aws_sdk_kafka::config::{Credentials, Region};
use vigil_aws::msk::{BootstrapBrokers, bootstrap_brokers};
use vigil_testkit::http::StandIn;

const CLUSTER: &str = "arn:aws:kafka:eu-west-1:123456789012:cluster/vigil-kafka/0b5f1c2e-7a44-4b1a-9d7e-1f2a3b4c5d6e-s2";

async fn config(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .credentials_provider(Credentials::new(
            "AKIDEXAMPLE",
            "secret",
            None,
            None,
            "test",
        ))
        .endpoint_url(endpoint)
        .load()
        .await
}

#[tokio::test]
async fn reads_every_listener_of_the_cluster() {
    // A serverless cluster answers with its IAM listener only.
    let reply = r#"{"bootstrapBrokerStringSaslIam": "boot-abc.c2.kafka-serverless.eu-west-1.amazonaws.com:9098"}"#;
    let msk = StandIn::start(vec![(200, "application/json", reply.into())]).await;
    let lists = bootstrap_brokers(&config(&msk.endpoint).await, CLUSTER)
        .await
        .unwrap();
    assert_eq!(
        lists,
        BootstrapBrokers {
            sasl_iam: Some("boot-abc.c2.kafka-serverless.eu-west-1.amazonaws.com:9098".into()),
            ..Default::default()
        }
    );
    let seen = msk.seen();
    assert_eq!(seen.len(), 1);
    let request = &seen[0];
    assert_eq!(request.method, "GET");
    // The ARN is one path segment: its slashes and colons percent-encoded.
    assert_eq!(
        request.target,
        "/v1/clusters/arn%3Aaws%3Akafka%3Aeu-west-1%3A123456789012%3Acluster%2Fvigil-kafka%2F0b5f1c2e-7a44-4b1a-9d7e-1f2a3b4c5d6e-s2/bootstrap-brokers"
    );
    let auth = request.header("authorization").unwrap_or("");
    assert!(
        auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
            && auth.contains("/eu-west-1/kafka/aws4_request"),
        "{auth}"
    );
}

#[tokio::test]
async fn a_provisioned_cluster_lists_each_listener_and_blank_ones_are_none() {
    let reply = r#"{"bootstrapBrokerString": "", "bootstrapBrokerStringTls": "b-1.x:9094,b-2.x:9094",
        "bootstrapBrokerStringSaslScram": "b-1.x:9096,b-2.x:9096", "bootstrapBrokerStringSaslIam": "b-1.x:9098"}"#;
    let msk = StandIn::start(vec![(200, "application/json", reply.into())]).await;
    let lists = bootstrap_brokers(&config(&msk.endpoint).await, CLUSTER)
        .await
        .unwrap();
    assert_eq!(lists.plaintext, None);
    assert_eq!(lists.tls.as_deref(), Some("b-1.x:9094,b-2.x:9094"));
    assert_eq!(lists.sasl_scram.as_deref(), Some("b-1.x:9096,b-2.x:9096"));
    assert_eq!(lists.sasl_iam.as_deref(), Some("b-1.x:9098"));
}

#[tokio::test]
async fn a_missing_cluster_is_an_error_that_names_it() {
    let reply =
        r#"{"__type": "NotFoundException", "message": "The specified cluster was not found."}"#;
    let msk = StandIn::start(vec![(404, "application/json", reply.into())]).await;
    let err = bootstrap_brokers(&config(&msk.endpoint).await, CLUSTER)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains(CLUSTER), "{err}");
    assert!(err.contains("was not found"), "{err}");
}

//! SCRAM credentials from Secrets Manager, against moto's server (`VIGIL_TEST_S3_ENDPOINT`:
//! one moto serves every service): read as MSK keeps them, and errors that name the secret
//! without showing its text.
#![cfg(feature = "secretsmanager")]

use aws_config::BehaviorVersion;
use aws_sdk_secretsmanager::config::{Credentials, Region};
use vigil_aws::secrets::scram_credentials;

async fn config() -> Option<aws_config::SdkConfig> {
    let endpoint = vigil_testkit::peer("VIGIL_TEST_S3_ENDPOINT", "moto's server")?;
    Some(
        aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "test"))
            .endpoint_url(endpoint)
            .load()
            .await,
    )
}

async fn secret(config: &aws_config::SdkConfig, text: &str) -> String {
    let name = format!("AmazonMSK_vigil-{}", uuid::Uuid::new_v4().simple());
    aws_sdk_secretsmanager::Client::new(config)
        .create_secret()
        .name(&name)
        .secret_string(text)
        .send()
        .await
        .unwrap()
        .arn()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn reads_the_user_and_password_of_an_msk_secret() {
    let Some(config) = config().await else { return };
    let arn = secret(&config, r#"{"username": "vigil", "password": "pa55-word"}"#).await;
    let c = scram_credentials(&config, &arn).await.unwrap();
    assert_eq!(
        (c.username.as_str(), c.password.as_str()),
        ("vigil", "pa55-word")
    );
}

#[tokio::test]
async fn errors_name_the_secret_and_never_show_its_text() {
    let Some(config) = config().await else { return };
    let arn = secret(&config, "username=vigil password=pa55-word").await;
    let err = scram_credentials(&config, &arn)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains(&arn) && err.contains("not JSON"), "{err}");
    assert!(!err.contains("pa55-word"), "{err}");

    let missing = "AmazonMSK_no-such-secret";
    let err = scram_credentials(&config, missing)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains(missing), "{err}");
    assert!(err.contains("ResourceNotFound"), "{err}");
}

//! The S3 adapter against a real S3 API: moto's server. Needs `VIGIL_TEST_S3_ENDPOINT`
//! (the README's test command starts moto and sets it).

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use vigil_aws::s3::S3Store;
use vigil_core::{Error, ObjectRef, ObjectStore};

fn client() -> Option<aws_sdk_s3::Client> {
    let endpoint = vigil_testkit::peer("VIGIL_TEST_S3_ENDPOINT", "moto's server")?;
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .build();
    Some(aws_sdk_s3::Client::from_conf(config))
}

async fn bucket(client: &aws_sdk_s3::Client, role: &str) -> String {
    let name = format!("vigil-test-{role}-{}", uuid::Uuid::new_v4().simple());
    client.create_bucket().bucket(&name).send().await.unwrap();
    name
}

#[tokio::test]
async fn puts_gets_copies_tags_lists_and_deletes() {
    let Some(client) = client() else { return };
    let uploads = bucket(&client, "uploads").await;
    let pii = bucket(&client, "pii").await;
    let store = S3Store::new(client);

    // A key as users name files: spaces, a plus sign, a folder.
    let upload = ObjectRef::new(&uploads, "loans/Loan application + 2024.pdf");
    let body = b"%PDF-1.7 not really".to_vec();
    store
        .put(&upload, body.clone(), "application/pdf")
        .await
        .unwrap();
    assert_eq!(store.get(&upload).await.unwrap(), body);

    let filed = ObjectRef::new(&pii, &upload.key);
    store.copy(&upload, &filed).await.unwrap();
    assert_eq!(store.get(&filed).await.unwrap(), body);

    let tags = vec![("vigil:verdict".to_owned(), "pii".to_owned())];
    store.set_tags(&filed, &tags).await.unwrap();
    assert_eq!(store.tags(&filed).await.unwrap(), tags);

    store
        .put(
            &ObjectRef::new(&pii, "findings/x.json"),
            b"{}".to_vec(),
            "application/json",
        )
        .await
        .unwrap();
    assert_eq!(
        store.list(&pii, "").await.unwrap(),
        vec!["findings/x.json".to_owned(), upload.key.clone()]
    );
    assert_eq!(
        store.list(&pii, "findings/").await.unwrap(),
        vec!["findings/x.json".to_owned()]
    );

    store.delete(&upload).await.unwrap();
    assert!(matches!(
        store.get(&upload).await,
        Err(Error::ObjectNotFound { .. })
    ));
    // Deleting again is not an error: a retried event does no harm.
    store.delete(&upload).await.unwrap();
    assert!(store.list(&uploads, "").await.unwrap().is_empty());
}

#[tokio::test]
async fn missing_objects_and_buckets_are_clear_errors() {
    let Some(client) = client() else { return };
    let b = bucket(&client, "errors").await;
    let store = S3Store::new(client);
    let missing = ObjectRef::new(&b, "nope.pdf");
    let err = store.get(&missing).await.unwrap_err();
    assert!(matches!(err, Error::ObjectNotFound { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        format!("object s3://{b}/nope.pdf does not exist")
    );

    let no_bucket = ObjectRef::new("vigil-no-such-bucket-here", "k");
    let err = store
        .put(&no_bucket, vec![1], "text/plain")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("put failed"), "{err}");
}

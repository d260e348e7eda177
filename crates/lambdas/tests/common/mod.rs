//! Running the Lambda binaries under `cargo lambda watch` (the Runtime API emulator).
#![allow(dead_code)] // each test file uses part of this

use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};

use base64::Engine;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The Lambda Runtime API emulator and one function binary attached to it; both are
/// stopped when dropped.
pub struct Watch {
    emulator: Child,
    function: Child,
    pub port: u16,
}

impl Drop for Watch {
    fn drop(&mut self) {
        for child in [&mut self.function, &mut self.emulator] {
            let group = format!("-{}", child.id());
            let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
            let _ = child.wait();
        }
    }
}

pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Starts `cargo lambda watch --only-lambda-apis` (the Runtime API, without building
/// anything) and runs `binary` (the one this test build made) against it, with `env`.
pub fn watch(binary: &str, env: &[(&str, &str)]) -> Watch {
    watch_command(Command::new(binary), env)
}

/// [`watch`] for a Lambda package's arm64 `bootstrap` (what `sam build` made), run by
/// `qemu` (user-mode emulation) with the aarch64 C library of Debian's cross packages.
pub fn watch_arm64(qemu: &str, bootstrap: &Path, env: &[(&str, &str)]) -> Watch {
    let mut command = Command::new(qemu);
    command
        .args(["-L", "/usr/aarch64-linux-gnu"])
        .arg(bootstrap);
    watch_command(command, env)
}

fn watch_command(mut command: Command, env: &[(&str, &str)]) -> Watch {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let emulator = Command::new("cargo")
        .args(["lambda", "watch", "--only-lambda-apis", "--quiet"])
        .args([
            "--invoke-address",
            "127.0.0.1",
            "--invoke-port",
            &port.to_string(),
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("cargo lambda is not installed: run the tests with infra/test.sh");
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "cargo lambda watch did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let program = command.get_program().to_string_lossy().into_owned();
    let function = command
        .env(
            "AWS_LAMBDA_RUNTIME_API",
            format!("http://127.0.0.1:{port}/.rt"),
        )
        .env("AWS_LAMBDA_FUNCTION_NAME", "_")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("starting {program}: {e}"));
    Watch {
        emulator,
        function,
        port,
    }
}

/// `cargo lambda invoke --data-file FILE` on the attached function, returning the raw output.
pub fn invoke_raw(watch: &Watch, data: &Path) -> Output {
    Command::new("cargo")
        .args(["lambda", "invoke", "_", "--invoke-address", "127.0.0.1"])
        .args([
            "--invoke-port",
            &watch.port.to_string(),
            "--output-format",
            "json",
        ])
        .arg("--data-file")
        .arg(data)
        .output()
        .expect("cargo lambda is not installed: run the tests with infra/test.sh")
}

/// Invokes and parses the function's JSON answer, failing the test on an error.
pub fn invoke(watch: &Watch, data: &Path) -> serde_json::Value {
    let out = invoke_raw(watch, data);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "invoke failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

/// moto's endpoint (it serves every AWS API), from the test environment; `None` (the test
/// skipped) without it.
pub fn moto() -> Option<String> {
    vigil_testkit::peer("VIGIL_TEST_S3_ENDPOINT", "moto's server")
}

/// The Kafka-protocol broker's address; `None` (the test skipped) without it.
pub fn broker() -> Option<String> {
    vigil_testkit::peer("VIGIL_TEST_BROKER", "a Kafka-protocol broker")
}

/// The imported NER model's directory; `None` (the test skipped) without it.
pub fn model() -> Option<String> {
    vigil_testkit::peer("VIGIL_TEST_MODEL_DIR", "the imported NER model")
}

/// Environment that points the AWS SDK at moto.
pub fn aws_env(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", endpoint.to_owned()),
        ("AWS_ACCESS_KEY_ID", "test".into()),
        ("AWS_SECRET_ACCESS_KEY", "test".into()),
        ("AWS_REGION", "us-east-1".into()),
    ]
}

/// `aws` then `extra` settings as `(name, value)` pairs for [`watch`].
pub fn env_for<'a>(
    aws: &'a [(&'static str, String)],
    extra: &'a [(&'static str, String)],
) -> Vec<(&'a str, &'a str)> {
    aws.iter()
        .chain(extra)
        .map(|(k, v)| (*k, v.as_str()))
        .collect()
}

pub fn athena_client(endpoint: &str) -> aws_sdk_athena::Client {
    use aws_sdk_athena::config::{BehaviorVersion, Credentials, Region};
    aws_sdk_athena::Client::from_conf(
        aws_sdk_athena::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "test"))
            .endpoint_url(endpoint)
            .build(),
    )
}

pub fn s3_client(endpoint: &str) -> aws_sdk_s3::Client {
    use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "test"))
            .endpoint_url(endpoint)
            .force_path_style(true)
            .build(),
    )
}

/// A new DynamoDB table on moto whose partition key is the string attribute `key` (as the
/// template makes the entity-state and event-claims tables); a client for it.
pub async fn dynamodb_table(endpoint: &str, name: &str, key: &str) -> aws_sdk_dynamodb::Client {
    use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    let client = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "test"))
            .endpoint_url(endpoint)
            .build(),
    );
    client
        .create_table()
        .table_name(name)
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
    client
}

/// A new SNS topic on moto; its ARN.
pub async fn sns_topic(endpoint: &str, name: &str) -> String {
    use aws_sdk_sns::config::{BehaviorVersion, Credentials, Region};
    let sns = aws_sdk_sns::Client::from_conf(
        aws_sdk_sns::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "test"))
            .endpoint_url(endpoint)
            .build(),
    );
    sns.create_topic()
        .name(name)
        .send()
        .await
        .unwrap()
        .topic_arn()
        .unwrap()
        .to_owned()
}

/// What moto says was published to the topic `arn`
/// (`GET /moto-api/data.json` → sns → Topic → sent_notifications).
pub fn sns_sent(endpoint: &str, arn: &str) -> Vec<serde_json::Value> {
    let out = Command::new("curl")
        .args(["-fsS", &format!("{endpoint}/moto-api/data.json")])
        .output()
        .unwrap();
    let data: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut sent = Vec::new();
    for topic in data["sns"]["Topic"].as_array().into_iter().flatten() {
        if topic["arn"] == arn {
            sent.extend(
                topic["sent_notifications"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default(),
            );
        }
    }
    sent
}

/// Every object under `prefix` in `bucket`, as text, by key.
pub async fn s3_objects(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
) -> Vec<(String, String)> {
    let listed = s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .send()
        .await
        .unwrap();
    let mut out = Vec::new();
    for o in listed.contents() {
        let key = o.key().unwrap().to_owned();
        let body = s3_bytes(s3, bucket, &key).await;
        out.push((key, String::from_utf8(body).unwrap()));
    }
    out
}

/// One object's body.
pub async fn s3_bytes(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Vec<u8> {
    s3.get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap()
        .body
        .collect()
        .await
        .unwrap()
        .to_vec()
}

/// The MSK event an event source mapping would send for `messages` of `topic`.
pub fn msk_event(topic: &str, messages: &[vigil_kafka::ReadMessage], name: &str) -> PathBuf {
    let mut by_partition: std::collections::BTreeMap<String, Vec<serde_json::Value>> =
        Default::default();
    for m in messages {
        by_partition
            .entry(format!("{topic}-{}", m.partition))
            .or_default()
            .push(serde_json::json!({
                "topic": topic, "partition": m.partition, "offset": m.offset,
                "timestamp": 0, "timestampType": "CREATE_TIME", "headers": [],
                "key": m.key.as_ref().map(|k| base64::engine::general_purpose::STANDARD.encode(k)),
                "value": base64::engine::general_purpose::STANDARD.encode(&m.payload),
            }));
    }
    let event = serde_json::json!({"eventSource": "aws:kafka", "records": by_partition});
    let path = std::env::temp_dir().join(format!("vigil-msk-{name}.json"));
    std::fs::write(&path, event.to_string()).unwrap();
    path
}

/// The keys of a bucket (for objects that are not text).
pub async fn s3_keys(s3: &aws_sdk_s3::Client, bucket: &str) -> Vec<String> {
    let listed = s3.list_objects_v2().bucket(bucket).send().await.unwrap();
    listed
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect()
}

/// An S3 ObjectCreated event for `keys` (as S3 sends them: URL-encoded) in `bucket`, as a
/// file for `cargo lambda invoke`.
pub fn s3_event(bucket: &str, keys: &[&str], name: &str) -> std::path::PathBuf {
    let records: Vec<_> = keys
        .iter()
        .map(|key| {
            serde_json::json!({
                "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
                "eventTime": "2026-11-27T10:00:00.000Z", "eventName": "ObjectCreated:Put",
                "userIdentity": {"principalId": "AWS:TEST"},
                "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                "responseElements": {"x-amz-request-id": "1", "x-amz-id-2": "2"},
                "s3": {
                    "s3SchemaVersion": "1.0", "configurationId": "uploads",
                    "bucket": {"name": bucket, "ownerIdentity": {"principalId": "TEST"},
                               "arn": format!("arn:aws:s3:::{bucket}")},
                    "object": {"key": key, "size": 1, "eTag": "x", "sequencer": "1"}
                }
            })
        })
        .collect();
    let path = std::env::temp_dir().join(format!("vigil-s3-{}-{name}.json", std::process::id()));
    std::fs::write(&path, serde_json::json!({ "Records": records }).to_string()).unwrap();
    path
}

/// The SDK configuration a function gets from `aws_env(endpoint)`, for code run in the test.
pub fn sdk_config(endpoint: &str) -> vigil_aws::SdkConfig {
    use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region, SharedCredentialsProvider};
    vigil_aws::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "test", "test", None, None, "test",
        )))
        .endpoint_url(endpoint)
        .build()
}

pub fn cognito_client(endpoint: &str) -> aws_sdk_cognitoidentityprovider::Client {
    aws_sdk_cognitoidentityprovider::Client::new(&sdk_config(endpoint))
}

/// Queues canned answers for the next Athena queries (moto's static results API).
pub fn queue_athena(endpoint: &str, results: Vec<serde_json::Value>) {
    let posted = std::process::Command::new("curl")
        .args(["-sf", "-X", "POST", "-H", "Content-Type: application/json"])
        .arg(format!("{endpoint}/moto-api/static/athena/query-results"))
        .arg("--data")
        .arg(serde_json::json!({"region": "us-east-1", "results": results}).to_string())
        .status()
        .expect("curl is installed by infra/setup.sh");
    assert!(posted.success(), "queuing Athena results in moto");
}

/// Athena's result shape: the header as the first row, every value as text, with types.
pub fn athena_result(columns: &[(&str, &str)], rows: &[Vec<&str>]) -> serde_json::Value {
    let row = |cells: Vec<&str>| serde_json::json!({"Data": cells.iter().map(|c| serde_json::json!({"VarCharValue": c})).collect::<Vec<_>>()});
    let mut all = vec![row(columns.iter().map(|(n, _)| *n).collect())];
    all.extend(rows.iter().map(|r| row(r.clone())));
    serde_json::json!({
        "rows": all,
        "column_info": columns.iter().map(|(n, t)| serde_json::json!({
            "CatalogName": "hive", "SchemaName": "", "TableName": "", "Name": n, "Label": n,
            "Type": t, "Precision": 0, "Scale": 0, "Nullable": "UNKNOWN", "CaseSensitive": true
        })).collect::<Vec<_>>()
    })
}

/// Queues Athena's answers to the console's queue: one blocked transaction of Michaela's
/// (`event_id`) with `reasons`, and no labels yet.
pub fn queue_one_alert(endpoint: &str, event_id: &str, reasons: &str) {
    queue_athena(
        endpoint,
        vec![
            athena_result(
                &[
                    ("event_id", "varchar"),
                    ("event_time", "varchar"),
                    ("transaction_amt", "double"),
                    ("transaction_currency", "varchar"),
                    ("product_category", "varchar"),
                    ("customer_name", "varchar"),
                    ("email_address", "varchar"),
                    ("entity_id", "varchar"),
                    ("outcome", "varchar"),
                    ("reasons", "json"),
                    ("model_scores", "json"),
                ],
                &[vec![
                    event_id,
                    "2024-01-04T08:37:39Z",
                    "912.5",
                    "usd",
                    "travel",
                    "Michaela",
                    "kiddmadison@yahoo.com",
                    "140-43-3573",
                    "block",
                    reasons,
                    "{\"vigil_gbdt\":961.2}",
                ]],
            ),
            athena_result(
                &[
                    ("event_id", "varchar"),
                    ("label", "varchar"),
                    ("time", "varchar"),
                    ("who", "varchar"),
                ],
                &[],
            ),
        ],
    );
}

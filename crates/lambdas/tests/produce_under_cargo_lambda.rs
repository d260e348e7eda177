//! `produce-transactions` runs under the Lambda runtime API emulator (`cargo lambda watch`),
//! is invoked with an EventBridge schedule fixture by `cargo lambda invoke`, and its
//! records arrive in a real broker. Needs `cargo lambda` on PATH and `VIGIL_TEST_BROKER`
//! (the README's test command provides both).

use std::collections::HashSet;
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use vigil_core::Transaction;
use vigil_kafka::{KafkaConfig, ensure_topic, read_topic};

/// Stops the emulator and the function it started (one process group) when dropped.
struct Watch(Child);

impl Drop for Watch {
    fn drop(&mut self) {
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn invoke(port: u16) -> serde_json::Value {
    let out = Command::new("cargo")
        .args([
            "lambda",
            "invoke",
            "produce-transactions",
            "--invoke-address",
            "127.0.0.1",
        ])
        .args([
            "--invoke-port",
            &port.to_string(),
            "--output-format",
            "json",
        ])
        .arg("--data-file")
        .arg(workspace_root().join("infra/events/eventbridge-schedule.json"))
        .output()
        .expect("cargo lambda is not installed: run the tests with infra/test.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "invoke failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

#[tokio::test]
async fn scheduled_invocation_produces_records_to_the_broker() {
    let broker = std::env::var("VIGIL_TEST_BROKER").expect(
        "VIGIL_TEST_BROKER is not set: run the tests with infra/test.sh, which starts a broker",
    );
    let config = KafkaConfig::new(&broker).unwrap();
    let topic = format!("vigil-test-lambda-{}", uuid::Uuid::new_v4().simple());
    ensure_topic(&config, &topic, 2).await.unwrap();

    let port = free_port();
    let child = Command::new("cargo")
        .args([
            "lambda",
            "watch",
            "--release",
            "--ignore-changes",
            "--quiet",
        ])
        .args([
            "--invoke-address",
            "127.0.0.1",
            "--invoke-port",
            &port.to_string(),
        ])
        .args(["--env-var", &format!("KAFKA_BOOTSTRAP_SERVERS={broker}")])
        .args(["--env-var", &format!("TRANSACTIONS_TOPIC={topic}")])
        .args(["--env-var", "TRANSACTION_COUNT=25"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("cargo lambda is not installed: run the tests with infra/test.sh");
    let _watch = Watch(child);
    let deadline = Instant::now() + Duration::from_secs(120);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "cargo lambda watch did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    let first = invoke(port);
    assert_eq!(first["produced"], 25, "{first}");
    assert_eq!(first["topic"], topic.as_str());
    // The same scheduled event again (a retry) yields the same records, not new ones.
    let second = invoke(port);
    assert_eq!(second["seed"], first["seed"]);

    let (c, t) = (config.clone(), topic.clone());
    let messages = tokio::task::spawn_blocking(move || {
        read_topic(
            &c,
            &t,
            &Default::default(),
            50,
            Duration::from_secs(60),
            &mut |_| {},
        )
    })
    .await
    .unwrap()
    .unwrap();
    let mut ids = HashSet::new();
    for m in &messages {
        let txn: Transaction = serde_json::from_slice(&m.payload).unwrap();
        assert_eq!(m.key.as_deref(), Some(txn.entity_id.as_bytes()));
        assert!(
            txn.event_time.starts_with("2015-10-08T"),
            "start time from the event: {}",
            txn.event_time
        );
        ids.insert(txn.event_id);
    }
    assert_eq!(ids.len(), 25, "a retried event repeats its event ids");
}

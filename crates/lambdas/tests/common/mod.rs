//! Running the Lambda binaries under `cargo lambda watch` (the Runtime API emulator).
#![allow(dead_code)] // each test file uses part of this

use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Stops the emulator and the functions it started (one process group) when dropped.
pub struct Watch {
    child: Child,
    pub port: u16,
}

impl Drop for Watch {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let _ = self.child.wait();
    }
}

pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Starts `cargo lambda watch` with these environment variables for the functions.
pub fn watch(env: &[(&str, &str)]) -> Watch {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut command = Command::new("cargo");
    command
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
        ]);
    for (k, v) in env {
        command.args(["--env-var", &format!("{k}={v}")]);
    }
    let child = command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("cargo lambda is not installed: run the tests with infra/test.sh");
    let watch = Watch { child, port };
    let deadline = Instant::now() + Duration::from_secs(120);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "cargo lambda watch did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    watch
}

/// `cargo lambda invoke FUNCTION --data-file FILE`, returning the raw output.
pub fn invoke_raw(watch: &Watch, function: &str, data: &Path) -> Output {
    Command::new("cargo")
        .args([
            "lambda",
            "invoke",
            function,
            "--invoke-address",
            "127.0.0.1",
        ])
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
pub fn invoke(watch: &Watch, function: &str, data: &Path) -> serde_json::Value {
    let out = invoke_raw(watch, function, data);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "invoke failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

/// moto's endpoint (it serves every AWS API), from the test environment.
pub fn moto() -> String {
    std::env::var("VIGIL_TEST_S3_ENDPOINT").expect(
        "VIGIL_TEST_S3_ENDPOINT is not set: run the tests with infra/test.sh, which starts moto",
    )
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

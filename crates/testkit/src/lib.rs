//! What the integration tests need from outside their process: real peers (a Kafka-protocol
//! broker, moto, cargo-lambda, Chromium, the imported NER model) and the reference data in
//! `../shared/data`. `infra/test.sh` installs, starts and names every peer, and sets
//! [`REQUIRE_ALL`], under which a missing one fails its test; it names the reference data
//! when it is there, and a named folder must hold what the tests read. A plain `cargo
//! test`, or a clone without `../shared`, skips each test that cannot reach what it needs
//! and says so on stderr, instead of failing with a missing variable.

#[cfg(feature = "browser")]
pub mod browser;
pub mod http;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// Set by `infra/test.sh`: every peer must be there, so that a broken script cannot turn
/// the suite into skips.
pub const REQUIRE_ALL: &str = "VIGIL_TEST_REQUIRE_ALL";

/// Where the reference data is, when not at `../shared/data` beside the clone.
pub const SHARED_DATA: &str = "VIGIL_SHARED_DATA";

/// The value of the variable that names a peer (`VIGIL_TEST_BROKER`, …), or `None` after
/// saying on stderr that the calling test is skipped and why.
pub fn peer(var: &str, what: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(value) if !value.trim().is_empty() => Some(value),
        _ => skip(&format!(
            "{var} is not set ({what}); infra/test.sh starts it and sets the variable"
        )),
    }
}

/// A command-line tool the test runs (`sam`, `cfn-lint`), when it answers `args`.
pub fn tool(program: &str, args: &[&str], what: &str) -> Option<()> {
    let answers = Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if answers {
        Some(())
    } else {
        skip(&format!(
            "`{program}` is not available ({what}); infra/test.sh installs it"
        ))
    }
}

/// The reference data folder (`VIGIL_SHARED_DATA`, else `../shared/data` beside the clone)
/// joined with `path`, when it exists. A folder named by the variable must exist.
pub fn shared_data(path: &str) -> Option<PathBuf> {
    let named = std::env::var_os(SHARED_DATA).map(PathBuf::from);
    let root = named
        .clone()
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    let full = root.join(path);
    if full.exists() {
        return Some(full);
    }
    if let Some(root) = named {
        panic!(
            "{SHARED_DATA} is {} but {path} is not in it",
            root.display()
        );
    }
    // Not under REQUIRE_ALL: a clone without `../shared` passes infra/test.sh.
    say_skipped(&format!(
        "the reference data is not at {} (set {SHARED_DATA} to the shared data folder)",
        full.display()
    ));
    None
}

/// Says the calling test is skipped, or fails it under [`REQUIRE_ALL`].
fn skip<T>(reason: &str) -> Option<T> {
    if std::env::var_os(REQUIRE_ALL).is_some() {
        panic!("{}: {reason}", test_name());
    }
    say_skipped(reason);
    None
}

fn say_skipped(reason: &str) {
    // Straight to the process's stderr: libtest captures `eprintln!` of passing tests, and
    // a skip should be seen.
    let _ = writeln!(
        std::io::stderr().lock(),
        "SKIPPED {}: {reason}",
        test_name()
    );
}

/// libtest names each test's thread after the test.
fn test_name() -> String {
    std::thread::current().name().unwrap_or("a test").to_owned()
}

/// A tansu broker of the test's own (from `VIGIL_TEST_TANSU`) on a free port, in memory,
/// stopped when dropped: for tests that change the broker (TLS, a pause) and so cannot share
/// the one `infra/test.sh` starts.
pub struct Tansu {
    child: std::process::Child,
    pub port: u16,
}

impl Tansu {
    /// Starts it with `extra` arguments, advertising `127.0.0.1` and its own port, and
    /// waits until it accepts connections.
    pub fn start(bin: &str, extra: &[&str]) -> Self {
        let port = free_port();
        Self::start_advertising(bin, port, &format!("127.0.0.1:{port}"), extra)
    }

    /// Starts it on `port`, telling clients to connect to `advertised` (`host:port`: a TLS
    /// proxy in front of it, say).
    pub fn start_advertising(bin: &str, port: u16, advertised: &str, extra: &[&str]) -> Self {
        let child = Command::new(bin)
            .args([
                "broker",
                "--listener-url",
                &format!("tcp://127.0.0.1:{port}"),
                "--advertised-listener-url",
                &format!("tcp://{advertised}"),
                "--storage-engine",
                "memory://tansu/",
            ])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {bin}: {e}"));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(std::time::Instant::now() < deadline, "tansu did not start");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Self { child, port }
    }

    /// The broker's process id (to pause it).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Tansu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A TCP port nothing listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port: {e}"))
}

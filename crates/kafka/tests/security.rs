//! TLS and MSK IAM against real peers: records through a broker's TLS listener with a CA
//! made here, a clear error for a CA that did not sign the broker's certificate, and IAM
//! tokens byte for byte as AWS's reference signer makes them.
//!
//! Needs `VIGIL_TEST_TANSU` (the tansu binary: each TLS test starts its own broker),
//! `stunnel4` (the TLS listener in front of it, with a certificate made here: tansu 0.6's own
//! `--cert` and `--key` cannot be given together) and `VIGIL_TEST_PYTHON` (a Python with
//! `aws-msk-iam-sasl-signer-python`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, UNIX_EPOCH};

use aws_credential_types::Credentials;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use vigil_kafka::security::{Auth, Transport};
use vigil_kafka::{KafkaConfig, KeyedProducer, Security, ensure_topic, msk_iam, read_topic};

fn keys(id: &str, secret: &str, session: Option<String>) -> Credentials {
    Credentials::new(id, secret, session, None, "test")
}

/// A folder for one test's certificates.
fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("vigil-tls-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A certificate authority: its certificate (PEM) and what signs with it.
fn authority(name: &str) -> (String, Issuer<'static, KeyPair>) {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let key = KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), Issuer::new(params, key))
}

/// Writes `ca.pem`, and `broker.pem`/`broker.key` for `localhost` signed by it.
fn certificates(at: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let (ca_pem, ca) = authority("Vigil test CA");
    let mut params =
        CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &ca).unwrap();
    let paths = (
        at.join("ca.pem"),
        at.join("broker.pem"),
        at.join("broker.key"),
    );
    std::fs::write(&paths.0, ca_pem).unwrap();
    std::fs::write(&paths.1, cert.pem()).unwrap();
    std::fs::write(&paths.2, key.serialize_pem()).unwrap();
    paths
}

fn tls(port: u16, ca_file: &Path) -> KafkaConfig {
    KafkaConfig::new(&format!("localhost:{port}"))
        .unwrap()
        .with_security(Security {
            transport: Transport::Tls {
                ca_file: Some(ca_file.to_owned()),
            },
            auth: Auth::None,
        })
        .unwrap()
}

/// A TLS proxy (stunnel) in front of a plaintext port; stopped when dropped.
struct Stunnel(std::process::Child);

impl Drop for Stunnel {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A broker behind a TLS listener on `localhost`: the proxy, the broker, the port clients
/// use, the CA file and the test's folder.
struct TlsBroker {
    _proxy: Stunnel,
    _broker: vigil_testkit::Tansu,
    port: u16,
    ca: PathBuf,
    at: PathBuf,
}

fn tls_broker(name: &str) -> Option<TlsBroker> {
    let tansu = vigil_testkit::peer("VIGIL_TEST_TANSU", "the tansu binary")?;
    vigil_testkit::tool("stunnel4", &["-version"], "a TLS proxy for the broker")?;
    let at = dir(name);
    let (ca, cert, key) = certificates(&at);
    let (plain, tls) = (vigil_testkit::free_port(), vigil_testkit::free_port());
    // The broker tells clients to come back through the TLS port.
    let broker =
        vigil_testkit::Tansu::start_advertising(&tansu, plain, &format!("localhost:{tls}"), &[]);
    let config = at.join("stunnel.conf");
    std::fs::write(
        &config,
        format!(
            "foreground = yes\npid =\n[kafka]\naccept = 127.0.0.1:{tls}\nconnect = 127.0.0.1:{plain}\ncert = {}\nkey = {}\n",
            cert.display(),
            key.display()
        ),
    )
    .unwrap();
    let proxy = Stunnel(
        Command::new("stunnel4")
            .arg(&config)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", tls)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "stunnel did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(TlsBroker {
        _proxy: proxy,
        _broker: broker,
        port: tls,
        ca,
        at,
    })
}

#[tokio::test]
async fn records_go_through_a_tls_listener_trusting_a_ca_made_here() {
    let Some(broker) = tls_broker("round-trip") else {
        return;
    };
    let config = tls(broker.port, &broker.ca);
    let topic = "vigil-tls-round-trip";
    ensure_topic(&config, topic, 2).await.unwrap();
    let sent: Vec<(String, Vec<u8>)> = (0..50)
        .map(|i| {
            (
                format!("customer-{}", i % 7),
                format!("{{\"n\":{i}}}").into_bytes(),
            )
        })
        .collect();
    let producer = KeyedProducer::new(&config).unwrap();
    let report = producer.send_all(topic, sent.clone()).await;
    assert_eq!(report.delivered, 50, "{:?}", report.failed.first());
    let read = read_topic(
        &config,
        topic,
        &Default::default(),
        50,
        Duration::from_secs(20),
        &mut |_| {},
    )
    .unwrap();
    let mut got: Vec<Vec<u8>> = read.into_iter().map(|m| m.payload).collect();
    let mut want: Vec<Vec<u8>> = sent.into_iter().map(|(_, p)| p).collect();
    got.sort();
    want.sort();
    assert_eq!(got, want);
    std::fs::remove_dir_all(&broker.at).unwrap();
}

#[tokio::test]
async fn a_ca_that_did_not_sign_the_broker_is_a_clear_error() {
    let Some(broker) = tls_broker("unknown-ca") else {
        return;
    };
    let (other_pem, _) = authority("Some other CA");
    let other = broker.at.join("other-ca.pem");
    std::fs::write(&other, other_pem).unwrap();
    let err = ensure_topic(&tls(broker.port, &other), "vigil-tls-unknown-ca", 1)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("certificate verify failed"), "{err}");
    assert!(
        err.contains("KAFKA_SSL_CA_FILE"),
        "says what to check: {err}"
    );
    std::fs::remove_dir_all(&broker.at).unwrap();
}

/// The reference signer's token for fixed credentials, region and time: botocore's clock
/// is set to `epoch` for the signature.
fn reference_token(
    python: &str,
    credentials: &Credentials,
    region: &str,
    epoch: u64,
) -> (String, i64, String) {
    const SCRIPT: &str = r#"
import sys, datetime
import botocore.auth
from botocore.credentials import CredentialProvider, Credentials
from aws_msk_iam_sasl_signer import MSKAuthTokenProvider as signer
key, secret, session, region, epoch = sys.argv[1:6]
at = datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc).replace(tzinfo=None)
botocore.auth.get_current_datetime = lambda *args, **kwargs: at
class Fixed(CredentialProvider):
    METHOD = "fixed"
    def load(self):
        return Credentials(key, secret, session or None)
token, expiry = signer.generate_auth_token_from_credentials_provider(region, Fixed())
print(token)
print(expiry)
print(signer.__get_user_agent__())
"#;
    let out = Command::new(python)
        .args(["-c", SCRIPT])
        .args([
            credentials.access_key_id(),
            credentials.secret_access_key(),
            credentials.session_token().unwrap_or(""),
            region,
            &epoch.to_string(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    (
        lines[0].to_owned(),
        lines[1].parse().unwrap(),
        lines[2].to_owned(),
    )
}

#[test]
fn iam_tokens_are_byte_identical_to_the_reference_signer() {
    let Some(python) = vigil_testkit::peer(
        "VIGIL_TEST_PYTHON",
        "a Python with aws-msk-iam-sasl-signer-python",
    ) else {
        return;
    };
    let cases = [
        (
            keys(
                "AKIAIOSFODNN7EXAMPLE",
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                None,
            ),
            "us-east-1",
            1_765_000_000,
        ),
        (
            keys(
                "ASIAEXAMPLESESSION01",
                "secret/with+plus=equals",
                Some("IQoJb3JpZ2luX2VjEXAMPLE//session+token==".into()),
            ),
            "eu-west-1",
            1_780_123_457,
        ),
        (
            keys(
                "AKIDSOUTHAMERICA0001",
                "another-secret",
                Some("short".into()),
            ),
            "sa-east-1",
            1_700_000_001,
        ),
    ];
    for (credentials, region, epoch) in cases {
        let (token, expiry, user_agent) = reference_token(&python, &credentials, region, epoch);
        let ours = msk_iam::token(
            &credentials,
            region,
            UNIX_EPOCH + Duration::from_secs(epoch),
            &user_agent,
        )
        .unwrap();
        assert_eq!(ours.token, token, "{region} at {epoch}");
        assert_eq!(ours.expires_at_ms, expiry, "{region} at {epoch}");
    }
}

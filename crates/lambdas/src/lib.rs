//! The Lambda functions' logic, kept out of the binaries so that it is unit-tested and
//! shared with the `vigil` command; each binary in `src/bin` only wires adapters.

pub mod console;
pub mod consumers;
pub mod documents;
pub mod kafka_env;
pub mod metrics;
pub mod msk;
pub mod produce;
pub mod reports;
pub mod score;
pub mod settings;

use settings::{Vars, env_var};

/// How long an invocation keeps re-sending records the broker did not acknowledge before
/// it fails (the functions' timeout is 120 s).
pub const DELIVERY_BUDGET: std::time::Duration = std::time::Duration::from_secs(60);

/// The brokers from `KAFKA_BOOTSTRAP_SERVERS` (required; `kafka_env::resolve` fills it in
/// from `KAFKA_CLUSTER_ARN`), with TLS and SASL from `KAFKA_SECURITY_PROTOCOL`,
/// `KAFKA_SSL_CA_FILE`, `KAFKA_AUTH` and their companions (`vigil_kafka::security`).
pub fn kafka_from_vars(
    vars: &Vars<impl Fn(&str) -> Option<String>>,
) -> Result<vigil_kafka::KafkaConfig, Error> {
    let servers = vars.required(
        "KAFKA_BOOTSTRAP_SERVERS",
        "the brokers' host:port list, or KAFKA_CLUSTER_ARN to ask MSK for them",
    )?;
    let security = vigil_kafka::Security::from_lookup(|name| vars.optional(name))?;
    Ok(vigil_kafka::KafkaConfig::new(&servers)?.with_security(security)?)
}

/// Sets up logs for CloudWatch as Lambda's advanced logging controls ask:
/// `AWS_LAMBDA_LOG_LEVEL` (else `RUST_LOG`, else `info`) and `AWS_LAMBDA_LOG_FORMAT`
/// (`Text`, or JSON, the default here: one object a line, each field searchable).
pub fn init_logging() {
    let level = env_var("AWS_LAMBDA_LOG_LEVEL")
        .map(|l| lambda_log_level(&l))
        .or_else(|| env_var("RUST_LOG"))
        .unwrap_or_else(|| "info".into());
    // lopdf reports every damaged object it meets; the classifier says what matters.
    let filter = tracing_subscriber::EnvFilter::try_new(format!("{level},lopdf=error"))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,lopdf=error"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .without_time(); // CloudWatch stamps each line
    let text = env_var("AWS_LAMBDA_LOG_FORMAT").is_some_and(|f| f.eq_ignore_ascii_case("text"));
    if text {
        logs.init();
    } else {
        logs.json().with_current_span(false).init();
    }
}

/// Lambda's level names as tracing's: it has FATAL, tracing does not.
fn lambda_log_level(level: &str) -> String {
    match level.trim().to_ascii_lowercase().as_str() {
        "fatal" => "error".into(),
        other => other.into(),
    }
}

/// The one error type of `vigil-lambdas`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("configuration: {0}")]
    Config(String),
    #[error("event: {0}")]
    Event(String),
    #[error(transparent)]
    Kafka(#[from] vigil_kafka::Error),
    #[error(transparent)]
    Generator(#[from] vigil_generator::Error),
    #[error(transparent)]
    Pipeline(#[from] vigil_pipeline::Error),
    #[error(transparent)]
    Report(#[from] vigil_reports::Error),
    #[error(transparent)]
    Store(#[from] vigil_core::Error),
}

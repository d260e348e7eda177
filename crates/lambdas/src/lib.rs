//! The Lambda functions' logic, kept out of the binaries so that it is unit-tested and
//! shared with the `vigil` command; each binary in `src/bin` only wires adapters.

pub mod consumers;
pub mod documents;
pub mod msk;
pub mod produce;
pub mod reports;
pub mod score;

/// How long an invocation keeps re-sending records the broker did not acknowledge before
/// it fails (the functions' timeout is 120 s).
pub const DELIVERY_BUDGET: std::time::Duration = std::time::Duration::from_secs(60);

/// The brokers from `KAFKA_BOOTSTRAP_SERVERS` (required) and `KAFKA_SECURITY_PROTOCOL`.
pub fn kafka_from_vars(
    var: &impl Fn(&str) -> Option<String>,
) -> Result<vigil_kafka::KafkaConfig, Error> {
    let servers = var("KAFKA_BOOTSTRAP_SERVERS")
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| {
            Error::Config("KAFKA_BOOTSTRAP_SERVERS is not set (the brokers' host:port list)".into())
        })?;
    let mut kafka = vigil_kafka::KafkaConfig::new(&servers)?;
    if let Some(protocol) = var("KAFKA_SECURITY_PROTOCOL") {
        kafka = kafka.with_security_protocol(&protocol)?;
    }
    Ok(kafka)
}

/// Sets up JSON logs for CloudWatch, with the level from `RUST_LOG` (default `info`).
pub fn init_logging() {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,lopdf=error")),
        )
        .with_current_span(false)
        .without_time() // CloudWatch stamps each line
        .init();
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

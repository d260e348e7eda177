//! AWS adapters for Vigil's ports. Each service sits behind a cargo feature so that a
//! binary compiles only the SDKs it calls. Adapter failures surface as `vigil_core::Error`,
//! the ports' error type, except the reporting adapter (Athena), which serves
//! `vigil_reports` and speak its error.

#[cfg(feature = "athena")]
pub mod athena;
#[cfg(feature = "dynamodb")]
pub mod claims;
#[cfg(feature = "dynamodb")]
pub mod dynamodb;
#[cfg(feature = "frauddetector")]
pub mod frauddetector;
#[cfg(feature = "msk")]
pub mod msk;
#[cfg(feature = "s3")]
pub mod s3;
#[cfg(feature = "secretsmanager")]
pub mod secrets;
#[cfg(feature = "sns")]
pub mod sns;

pub use aws_config::SdkConfig;

/// Loads the AWS configuration the usual way (environment, profile, instance role).
/// `AWS_ENDPOINT_URL` (or `AWS_ENDPOINT_URL_S3`, …) points the clients at a local stand-in.
pub async fn load_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

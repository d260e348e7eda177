//! Lambda `console` (API Gateway HTTP API): the console's page and JSON API for the
//! deployed stack (`vigil_console`), signed in with Cognito. Settings:
//! `vigil_lambdas::console::ConsoleSettings`.

use std::sync::Arc;

use lambda_http::Error;
use vigil_aws::athena::AthenaRunner;
use vigil_aws::s3::S3Store;
use vigil_console::{CognitoAuth, Console};
use vigil_lambdas::console::{AthenaSql, ConsoleSettings, S3UploadUrls};
use vigil_lambdas::settings::env_var;

#[tokio::main]
async fn main() -> Result<(), Error> {
    vigil_lambdas::init_logging();
    let settings = ConsoleSettings::from_vars(env_var)?;
    let config = vigil_aws::load_config().await;
    // reqwest's TLS uses the process's crypto provider: the AWS SDK's (aws-lc-rs).
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    // The pool's public keys, once per cold start (Cognito does not rotate them).
    let jwks = reqwest::get(&settings.jwks_url)
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| {
            format!(
                "fetching the user pool's keys from {}: {e}",
                settings.jwks_url
            )
        })?
        .bytes()
        .await?;
    let auth = CognitoAuth::new(&settings.issuer, &settings.client_id, &jwks)?;
    let mut athena =
        AthenaRunner::from_sdk_config(&config, &settings.workgroup, &settings.database);
    athena.budget = settings.query_budget;
    let store = S3Store::from_sdk_config(&config);
    let urls = S3UploadUrls::new(store.client().clone());
    let console = Console::new(
        store,
        settings.layout.clone(),
        AthenaSql::new(athena),
        Box::new(auth),
    )
    .with_upload_urls(Box::new(urls));
    lambda_http::run(vigil_console::router(Arc::new(console))).await
}

//! Lambda `console` (API Gateway HTTP API): the console's page and JSON API for the
//! deployed stack (`vigil_console`), signed in with Cognito. Settings:
//! `vigil_lambdas::console::ConsoleSettings`.

use std::sync::Arc;

use lambda_http::Error;
use vigil_lambdas::console::{ConsoleSettings, open};
use vigil_lambdas::settings::env_var;

#[tokio::main]
async fn main() -> Result<(), Error> {
    vigil_lambdas::init_logging();
    let settings = ConsoleSettings::from_vars(env_var)?;
    let console = open(&settings, &vigil_aws::load_config().await).await?;
    lambda_http::run(vigil_console::router(Arc::new(console))).await
}

//! Lambda `refresh-reports` (EventBridge schedule): runs the report's Athena queries (the
//! table finds its partitions by projection, so no crawler runs first) and files the page,
//! charts and results in the reports bucket (`vigil_lambdas::reports`). Settings:
//! `vigil_lambdas::reports::ReportSettings`.

use chrono::Utc;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use vigil_aws::athena::AthenaRunner;
use vigil_aws::s3::S3Store;
use vigil_lambdas::reports::{ReportSettings, refresh, report_date};
use vigil_lambdas::settings::env_var;

#[tokio::main]
async fn main() -> Result<(), Error> {
    vigil_lambdas::init_logging();
    let settings = ReportSettings::from_vars(env_var)?;
    let config = vigil_aws::load_config().await;
    let store = S3Store::from_sdk_config(&config);
    let mut athena =
        AthenaRunner::from_sdk_config(&config, &settings.workgroup, &settings.database);
    athena.budget = settings.query_budget;
    let workdir = std::env::temp_dir().join("vigil-reports");
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let (store, settings, workdir) = (&store, &settings, &workdir);
        let mut runner = athena.clone();
        async move {
            let date = report_date(&event.payload, Utc::now());
            let done = refresh(
                &mut runner,
                store,
                &settings.bucket,
                &settings.prefix,
                date,
                &settings.source(),
                workdir,
            )
            .await?;
            Ok::<_, Error>(serde_json::to_value(done)?)
        }
    }))
    .await
}

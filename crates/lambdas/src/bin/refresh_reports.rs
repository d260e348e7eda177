//! Lambda `refresh-reports` (EventBridge schedule): optionally runs the Glue crawler, then the
//! report's Athena queries, and files the page, charts and results in the reports bucket
//! (`vigil_lambdas::reports`). Settings: `vigil_lambdas::reports::ReportSettings`.

use chrono::Utc;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use vigil_aws::athena::AthenaRunner;
use vigil_aws::glue::Crawler;
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
    let crawler = settings.crawler.as_ref().map(|name| {
        let mut c = Crawler::from_sdk_config(&config, name);
        c.budget = settings.crawler_budget;
        c
    });
    let workdir = std::env::temp_dir().join("vigil-reports");
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let (store, settings, workdir) = (&store, &settings, &workdir);
        let (mut runner, crawler) = (athena.clone(), crawler.clone());
        async move {
            let date = report_date(&event.payload, Utc::now());
            let crawler_seconds = match crawler {
                Some(crawler) => Some(
                    crawler
                        .run()
                        .await
                        .map_err(vigil_lambdas::Error::from)?
                        .as_secs_f64(),
                ),
                None => None,
            };
            let mut done = refresh(
                &mut runner,
                store,
                &settings.bucket,
                &settings.prefix,
                date,
                &settings.source(),
                workdir,
            )
            .await?;
            done.crawler_seconds = crawler_seconds;
            Ok::<_, Error>(serde_json::to_value(done)?)
        }
    }))
    .await
}

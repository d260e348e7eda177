//! Lambda `refresh-reports` (EventBridge schedule): optionally runs the Glue crawler, then the
//! report's Athena queries, and files the page, charts and results in the reports bucket
//! (`vigil_lambdas::reports`). Environment: `ATHENA_WORKGROUP`, `GLUE_DATABASE`,
//! `REPORTS_BUCKET`, `REPORTS_PREFIX` (default `reports/`), `CRAWLER_NAME` (empty: no
//! crawler), `QUERY_BUDGET_SECONDS` (default 300), `CRAWLER_BUDGET_SECONDS` (default 600).

use std::time::Duration;

use chrono::{DateTime, Utc};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use vigil_aws::athena::AthenaRunner;
use vigil_aws::glue::Crawler;
use vigil_aws::s3::S3Store;
use vigil_lambdas::reports::refresh;

fn var(name: &str) -> Result<String, vigil_lambdas::Error> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| vigil_lambdas::Error::Config(format!("{name} is not set")))
}

fn seconds(name: &str, default: u64) -> Result<Duration, vigil_lambdas::Error> {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => v.parse().map(Duration::from_secs).map_err(|_| {
            vigil_lambdas::Error::Config(format!("{name}={v:?} is not a number of seconds"))
        }),
        _ => Ok(Duration::from_secs(default)),
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    vigil_lambdas::init_logging();
    let workgroup = var("ATHENA_WORKGROUP")?;
    let database = var("GLUE_DATABASE")?;
    let bucket = var("REPORTS_BUCKET")?;
    let prefix = std::env::var("REPORTS_PREFIX").unwrap_or_else(|_| "reports/".into());
    let crawler_name = std::env::var("CRAWLER_NAME").ok().filter(|c| !c.is_empty());
    let query_budget = seconds("QUERY_BUDGET_SECONDS", 300)?;
    let crawler_budget = seconds("CRAWLER_BUDGET_SECONDS", 600)?;
    let config = vigil_aws::load_config().await;
    let store = S3Store::from_sdk_config(&config);
    let mut athena = AthenaRunner::from_sdk_config(&config, &workgroup, &database);
    athena.budget = query_budget;
    let crawler = crawler_name.map(|name| {
        let mut c = Crawler::from_sdk_config(&config, &name);
        c.budget = crawler_budget;
        c
    });
    let workdir = std::env::temp_dir().join("vigil-reports");
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let (store, bucket, prefix, workdir) = (&store, &bucket, &prefix, &workdir);
        let (mut runner, crawler) = (athena.clone(), crawler.clone());
        let (workgroup, database) = (&workgroup, &database);
        async move {
            // A scheduled event carries its time; anything else is refreshed as of now.
            let date = event
                .payload
                .get("time")
                .and_then(|t| t.as_str())
                .and_then(|t| t.parse::<DateTime<Utc>>().ok())
                .unwrap_or_else(Utc::now)
                .date_naive();
            let mut crawler_seconds = None;
            if let Some(crawler) = crawler {
                crawler_seconds = Some(
                    crawler
                        .run()
                        .await
                        .map_err(vigil_lambdas::Error::from)?
                        .as_secs_f64(),
                );
            }
            let source = format!("Athena {database}.txn_processedtxns (workgroup {workgroup})");
            let mut done =
                refresh(&mut runner, store, bucket, prefix, date, &source, workdir).await?;
            done.crawler_seconds = crawler_seconds;
            Ok::<_, Error>(serde_json::to_value(done)?)
        }
    }))
    .await
}

//! Lambda `archive-transactions`: MSK batches of processed transactions → S3 NDJSON objects
//! (`vigil_lambdas::consumers::archive`). Settings:
//! `vigil_lambdas::consumers::ArchiveSettings`.

use aws_lambda_events::event::kafka::KafkaEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use vigil_aws::claims::DynamoClaims;
use vigil_aws::s3::S3Store;
use vigil_lambdas::consumers::{ArchiveSettings, CLAIM_TTL, Claims, archive_once};
use vigil_lambdas::msk::records;
use vigil_lambdas::settings::env_var;

#[tokio::main]
async fn main() -> Result<(), Error> {
    vigil_lambdas::init_logging();
    let settings = ArchiveSettings::from_vars(env_var)?;
    let config = vigil_aws::load_config().await;
    let store = S3Store::from_sdk_config(&config);
    let claims = match &settings.claims_table {
        Some(table) => Claims::Table(DynamoClaims::from_sdk_config(&config, table, CLAIM_TTL)),
        None => {
            tracing::warn!("CLAIMS_TABLE is not set: a repeated event is archived again");
            Claims::None
        }
    };
    lambda_runtime::run(service_fn(|event: LambdaEvent<KafkaEvent>| {
        let (store, claims, bucket) = (&store, &claims, &settings.bucket);
        async move {
            Ok::<_, Error>(archive_once(store, claims, bucket, &records(&event.payload)).await?)
        }
    }))
    .await
}

//! Lambda `archive-transactions`: MSK batches of processed transactions → S3 NDJSON objects
//! (`vigil_lambdas::consumers::archive`). Environment: `ARCHIVE_BUCKET`.

use aws_lambda_events::event::kafka::KafkaEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use vigil_aws::s3::S3Store;
use vigil_lambdas::consumers::archive;
use vigil_lambdas::msk::records;

#[tokio::main]
async fn main() -> Result<(), Error> {
    vigil_lambdas::init_logging();
    let bucket = std::env::var("ARCHIVE_BUCKET").map_err(|_| {
        vigil_lambdas::Error::Config("ARCHIVE_BUCKET is not set (the archive bucket's name)".into())
    })?;
    let store = S3Store::from_sdk_config(&vigil_aws::load_config().await);
    lambda_runtime::run(service_fn(|event: LambdaEvent<KafkaEvent>| {
        let (store, bucket) = (&store, &bucket);
        async move { Ok::<_, Error>(archive(store, bucket, &records(&event.payload)).await?) }
    }))
    .await
}

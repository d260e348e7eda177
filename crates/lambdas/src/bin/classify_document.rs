//! Lambda `classify-document`: S3 uploads → PII or clean bucket, findings record, tags
//! (`vigil_lambdas::documents`). Environment: `PII_BUCKET`, `CLEAN_BUCKET`,
//! `FINDINGS_BUCKET`, `MODEL_DIR` (default `/opt/vigil/model`, baked into the image),
//! `NER_MODE` (`verdict`, default, or `everywhere`).

use aws_lambda_events::event::s3::S3Event;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use vigil_aws::s3::S3Store;
use vigil_documents::filing::Buckets;
use vigil_documents::{Classifier, Limits, ModelFiles, NerMode, NerModel};
use vigil_lambdas::documents::classify_event;

fn var(name: &str) -> Result<String, vigil_lambdas::Error> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| vigil_lambdas::Error::Config(format!("{name} is not set")))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    vigil_lambdas::init_logging();
    let buckets = Buckets {
        pii: var("PII_BUCKET")?,
        clean: var("CLEAN_BUCKET")?,
        findings: var("FINDINGS_BUCKET")?,
    };
    let mode = match std::env::var("NER_MODE").as_deref() {
        Ok("everywhere") => NerMode::Everywhere,
        Ok("verdict") | Err(_) => NerMode::Verdict,
        Ok(other) => {
            return Err(vigil_lambdas::Error::Config(format!(
                "NER_MODE `{other}` is not verdict or everywhere"
            ))
            .into());
        }
    };
    let dir = std::env::var("MODEL_DIR").unwrap_or_else(|_| "/opt/vigil/model".into());
    let model = NerModel::load(&ModelFiles::in_dir(dir.as_ref()))?;
    let classifier = Classifier::new(Some(model), Limits::default()).with_mode(mode);
    let store = S3Store::from_sdk_config(&vigil_aws::load_config().await);
    lambda_runtime::run(service_fn(|event: LambdaEvent<S3Event>| {
        let (store, classifier, buckets) = (&store, &classifier, &buckets);
        async move {
            let filed = classify_event(store, classifier, buckets, &event.payload).await?;
            Ok::<_, Error>(serde_json::json!({ "filed": filed.len() }))
        }
    }))
    .await
}

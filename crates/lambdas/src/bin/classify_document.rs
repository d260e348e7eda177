//! Lambda `classify-document`: S3 uploads → PII or clean bucket, findings record, tags
//! (`vigil_lambdas::documents`). Environment: `PII_BUCKET`, `CLEAN_BUCKET`,
//! `FINDINGS_BUCKET`, `MODEL_DIR` (default `/opt/vigil/model`, baked into the image),
//! `NER_MODE` (`verdict`, default, or `everywhere`), and the allow list of values the
//! organisation declares public: `ALLOW_LIST` (TOML text) or `ALLOW_LIST_OBJECT`
//! (`s3://bucket/key` of a TOML file, read once at start; a missing object is an empty
//! list).

use aws_lambda_events::event::s3::S3Event;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use vigil_aws::s3::S3Store;
use vigil_documents::filing::Buckets;
use vigil_documents::{AllowList, Classifier, Limits, ModelFiles, NerMode, NerModel, Ownership};
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
    let store = S3Store::from_sdk_config(&vigil_aws::load_config().await);
    let allow = AllowList::load(
        std::env::var("ALLOW_LIST").ok().as_deref(),
        std::env::var("ALLOW_LIST_OBJECT").ok().as_deref(),
        &store,
    )
    .await?;
    tracing::info!(entries = allow.len(), "allow list loaded");
    let classifier = Classifier::new(Some(model), Limits::default())
        .with_mode(mode)
        .with_ownership(Ownership::default().with_allow_list(allow));
    lambda_runtime::run(service_fn(|event: LambdaEvent<S3Event>| {
        let (store, classifier, buckets) = (&store, &classifier, &buckets);
        async move {
            let filed = classify_event(store, classifier, buckets, &event.payload).await?;
            Ok::<_, Error>(serde_json::json!({ "filed": filed.len() }))
        }
    }))
    .await
}

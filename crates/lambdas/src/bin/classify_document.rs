//! Lambda `classify-document`: S3 uploads → PII or clean bucket, findings record, tags
//! (`vigil_lambdas::documents`). Settings: `vigil_lambdas::documents::ClassifySettings`.

use aws_lambda_events::event::s3::S3Event;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use vigil_aws::s3::S3Store;
use vigil_documents::{AllowList, Classifier, Limits, ModelFiles, NerModel, Ownership};
use vigil_lambdas::documents::{ClassifySettings, classify_event};
use vigil_lambdas::settings::env_var;

#[tokio::main]
async fn main() -> Result<(), Error> {
    vigil_lambdas::init_logging();
    let settings = ClassifySettings::from_vars(env_var)?;
    let model = NerModel::load(&ModelFiles::in_dir(settings.model_dir.as_ref()))?;
    let store = S3Store::from_sdk_config(&vigil_aws::load_config().await);
    let allow = AllowList::load(
        settings.allow_list.as_deref(),
        settings.allow_list_object.as_deref(),
        &store,
    )
    .await?;
    tracing::info!(entries = allow.len(), "allow list loaded");
    let classifier = Classifier::new(Some(model), Limits::default())
        .with_mode(settings.mode)
        .with_ownership(Ownership::default().with_allow_list(allow));
    lambda_runtime::run(service_fn(|event: LambdaEvent<S3Event>| {
        let (store, classifier, buckets) = (&store, &classifier, &settings.buckets);
        async move {
            let filed = classify_event(store, classifier, buckets, &event.payload).await?;
            Ok::<_, Error>(serde_json::json!({ "filed": filed.len() }))
        }
    }))
    .await
}

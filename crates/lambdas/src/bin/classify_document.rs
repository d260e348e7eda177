//! Lambda `classify-document`: S3 uploads → PII or clean bucket, findings record, tags; on
//! a schedule, a sweep of uploads left unfiled (`vigil_lambdas::documents`). Settings:
//! `vigil_lambdas::documents::ClassifySettings`.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use vigil_aws::s3::S3Store;
use vigil_documents::{AllowList, Classifier, Limits, ModelFiles, NerModel, OcrUse, Ownership};
use vigil_lambdas::documents::{ClassifySettings, Invocation, classify_event, sweep};
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
    let ocr = if settings.ocr {
        OcrUse::open(settings.ocr_settings.clone())
    } else {
        OcrUse::Off
    };
    match &ocr {
        OcrUse::On(ocr) => tracing::info!(engine = %ocr.describe(), "OCR ready"),
        OcrUse::Unavailable(why) => tracing::warn!(error = %why, "OCR unavailable"),
        OcrUse::Off => tracing::info!("OCR off"),
    }
    let classifier = Classifier::new(Some(model), Limits::default())
        .with_mode(settings.mode)
        .with_ownership(Ownership::default().with_allow_list(allow))
        .with_ocr(ocr);
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let (store, classifier, settings) = (&store, &classifier, &settings);
        async move {
            let answer = match Invocation::from_payload(event.payload)? {
                Invocation::Uploads(uploads) => {
                    let filed =
                        classify_event(store, classifier, &settings.buckets, &uploads).await?;
                    serde_json::json!({ "filed": filed.len() })
                }
                Invocation::Sweep => {
                    let Some(bucket) = &settings.upload_bucket else {
                        return Err("a sweep needs UPLOAD_BUCKET (the bucket to sweep)".into());
                    };
                    let now = std::time::SystemTime::now();
                    let wait = settings.sweep_after;
                    let swept =
                        sweep(store, classifier, &settings.buckets, bucket, wait, now).await?;
                    serde_json::to_value(swept)?
                }
            };
            Ok::<_, Error>(answer)
        }
    }))
    .await
}

//! Lambda `alert-transactions`: MSK batches of processed transactions → SNS alerts for
//! `block` (and `review` with `ALERT_ON_REVIEW=true`). Environment: `ALERT_TOPIC_ARN`.

use aws_lambda_events::event::kafka::KafkaEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use vigil_aws::sns::SnsNotifier;
use vigil_lambdas::consumers::alert;
use vigil_lambdas::msk::records;
use vigil_pipeline::alert::AlertPolicy;

#[tokio::main]
async fn main() -> Result<(), Error> {
    vigil_lambdas::init_logging();
    let topic = std::env::var("ALERT_TOPIC_ARN").map_err(|_| {
        vigil_lambdas::Error::Config("ALERT_TOPIC_ARN is not set (the alert topic's ARN)".into())
    })?;
    let on_review = match std::env::var("ALERT_ON_REVIEW").as_deref() {
        Ok("true") => true,
        Ok("false") | Err(_) => false,
        Ok(other) => {
            return Err(vigil_lambdas::Error::Config(format!(
                "ALERT_ON_REVIEW must be true or false, got `{other}`"
            ))
            .into());
        }
    };
    let notifier = SnsNotifier::from_sdk_config(&vigil_aws::load_config().await, topic);
    let policy = AlertPolicy { on_review };
    lambda_runtime::run(service_fn(|event: LambdaEvent<KafkaEvent>| {
        let notifier = &notifier;
        async move { Ok::<_, Error>(alert(notifier, policy, &records(&event.payload)).await?) }
    }))
    .await
}

//! Lambda `alert-transactions`: MSK batches of processed transactions → SNS alerts for
//! `block` (and `review` with `ALERT_ON_REVIEW=true`). Settings:
//! `vigil_lambdas::consumers::AlertSettings`.

use aws_lambda_events::event::kafka::KafkaEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use vigil_aws::sns::SnsNotifier;
use vigil_lambdas::consumers::{AlertSettings, alert};
use vigil_lambdas::msk::records;
use vigil_lambdas::settings::env_var;

#[tokio::main]
async fn main() -> Result<(), Error> {
    vigil_lambdas::init_logging();
    let settings = AlertSettings::from_vars(env_var)?;
    let notifier =
        SnsNotifier::from_sdk_config(&vigil_aws::load_config().await, settings.topic_arn);
    let policy = settings.policy;
    lambda_runtime::run(service_fn(|event: LambdaEvent<KafkaEvent>| {
        let notifier = &notifier;
        async move { Ok::<_, Error>(alert(notifier, policy, &records(&event.payload)).await?) }
    }))
    .await
}

//! Lambda `alert-transactions`: MSK batches of processed transactions → SNS alerts for
//! `block` (and `review` with `ALERT_ON_REVIEW=true`). Settings:
//! `vigil_lambdas::consumers::AlertSettings`.

use aws_lambda_events::event::kafka::KafkaEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use vigil_aws::claims::DynamoClaims;
use vigil_aws::sns::SnsNotifier;
use vigil_lambdas::consumers::{AlertSettings, CLAIM_TTL, Claims, alert_once};
use vigil_lambdas::msk::records;
use vigil_lambdas::settings::env_var;

#[tokio::main]
async fn main() -> Result<(), Error> {
    vigil_lambdas::init_logging();
    let settings = AlertSettings::from_vars(env_var)?;
    let config = vigil_aws::load_config().await;
    let claims = match &settings.claims_table {
        Some(table) => Claims::Table(DynamoClaims::from_sdk_config(&config, table, CLAIM_TTL)),
        None => {
            tracing::warn!("CLAIMS_TABLE is not set: a repeated event alerts again");
            Claims::None
        }
    };
    let notifier = SnsNotifier::from_sdk_config(&config, settings.topic_arn);
    let policy = settings.policy;
    lambda_runtime::run(service_fn(|event: LambdaEvent<KafkaEvent>| {
        let (notifier, claims) = (&notifier, &claims);
        async move {
            Ok::<_, Error>(alert_once(notifier, claims, policy, &records(&event.payload)).await?)
        }
    }))
    .await
}

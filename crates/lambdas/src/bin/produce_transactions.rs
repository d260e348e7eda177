//! Lambda `produce-transactions`: see `vigil_lambdas::produce`.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;
use vigil_kafka::{KeyedProducer, ensure_topics};
use vigil_lambdas::kafka_env;
use vigil_lambdas::produce::{ProduceSettings, produce, request_from_event};
use vigil_lambdas::settings::env_var;

#[tokio::main]
async fn main() -> Result<(), Error> {
    vigil_lambdas::init_logging();
    // Configuration errors stop the function at start, with the reason in the logs.
    let env = kafka_env::resolve(env_var).await?;
    let settings = ProduceSettings::from_vars(|name| env.get(name))?;
    let customers = vigil_generator::default_customers()?;
    ensure_topics(&settings.kafka, &settings.topics()).await?;
    let producer = KeyedProducer::new(&settings.kafka)?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let (settings, customers, producer) = (&settings, &customers, &producer);
        async move {
            let request = request_from_event(&event.payload, settings, chrono::Utc::now())?;
            Ok::<_, Error>(produce(settings, customers, producer, &request).await?)
        }
    }))
    .await
}

//! Lambda `score-transactions`: see `vigil_lambdas::score`. Scores with the built-in model
//! and rules; entity state lives in the function instance's memory.

use std::sync::Mutex;

use aws_lambda_events::event::kafka::KafkaEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use vigil_fraud::model::default_model;
use vigil_fraud::rules::Rules;
use vigil_fraud::scorer::Scorer;
use vigil_kafka::KeyedProducer;
use vigil_lambdas::msk::records;
use vigil_lambdas::score::{ScoreSettings, score};
use vigil_pipeline::score::ScoreStage;

#[tokio::main]
async fn main() -> Result<(), Error> {
    vigil_lambdas::init_logging();
    let settings = ScoreSettings::from_vars(|name| std::env::var(name).ok())?;
    let producer = KeyedProducer::new(&settings.kafka)?;
    let stage = Mutex::new(ScoreStage::new(Scorer::new(
        default_model()?,
        Rules::default_rules(),
    )));
    lambda_runtime::run(service_fn(|event: LambdaEvent<KafkaEvent>| {
        let (stage, producer, settings) = (&stage, &producer, &settings);
        async move { Ok::<_, Error>(score(stage, producer, settings, &records(&event.payload)).await?) }
    }))
    .await
}

//! Lambda `score-transactions`: see `vigil_lambdas::score`. Scores with the built-in model
//! and rules (the versions active in the registry `REGISTRY`, or the ones it ships; entity
//! state in the DynamoDB table `ENTITY_STATE_TABLE`, or in the function instance's memory
//! without one), or with Amazon Fraud Detector when
//! `SCORER=frauddetector`.

use aws_lambda_events::event::kafka::KafkaEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use vigil_aws::dynamodb::DynamoStateTable;
use vigil_aws::frauddetector::FraudDetectorScorer;
use vigil_aws::s3::S3Store;
use vigil_fraud::scorer::Scorer;
use vigil_kafka::KeyedProducer;
use vigil_lambdas::msk::records;
use vigil_lambdas::score::{ScoreSettings, ScorerChoice, score};
use vigil_lambdas::settings::env_var;
use vigil_lambdas::{kafka_env, metrics};
use vigil_pipeline::registry::{Registry, Watcher};
use vigil_pipeline::score::ScoreStage;
use vigil_pipeline::scoring::{BatchScorer, BuiltIn, Outside};

/// The metric counted when a changed version does not load (the template's alarm).
const VERSION_REFUSED: &str = "VersionRefused";

/// How long a customer's state outlives their last transaction.
const STATE_TTL: std::time::Duration = std::time::Duration::from_secs(90 * 24 * 3600);

#[tokio::main]
async fn main() -> Result<(), Error> {
    vigil_lambdas::init_logging();
    let env = kafka_env::resolve(env_var).await?;
    let settings = ScoreSettings::from_vars(|name| env.get(name))?;
    let producer = KeyedProducer::new(&settings.kafka)?;
    match &settings.scorer {
        ScorerChoice::BuiltIn {
            state_table,
            registry,
        } => {
            let table = match state_table {
                Some(name) => Some(DynamoStateTable::from_sdk_config(
                    &vigil_aws::load_config().await,
                    name,
                    STATE_TTL,
                )),
                None => None,
            };
            match registry {
                Some(place) => {
                    let store = S3Store::from_sdk_config(&vigil_aws::load_config().await);
                    let registry = Registry::new(store, &place.bucket, &place.prefix);
                    let (watcher, scorer) = Watcher::start(registry, place.reload).await?;
                    let watcher = watcher.on_refusal(|| metrics::count(VERSION_REFUSED));
                    let stage = ScoreStage::new(scorer);
                    run(
                        BuiltIn::with_source(stage, table, watcher),
                        producer,
                        settings,
                    )
                    .await
                }
                None => {
                    let stage = ScoreStage::new(Scorer::shipped()?);
                    run(BuiltIn::new(stage, table), producer, settings).await
                }
            }
        }
        ScorerChoice::FraudDetector(detector) => {
            let config = vigil_aws::load_config().await;
            let scorer = FraudDetectorScorer::from_sdk_config(&config, detector.clone());
            run(Outside(scorer), producer, settings).await
        }
    }
}

async fn run(
    scorer: impl BatchScorer,
    producer: KeyedProducer,
    settings: ScoreSettings,
) -> Result<(), Error> {
    lambda_runtime::run(service_fn(|event: LambdaEvent<KafkaEvent>| {
        let (scorer, producer, settings) = (&scorer, &producer, &settings);
        async move {
            Ok::<_, Error>(score(scorer, producer, settings, &records(&event.payload)).await?)
        }
    }))
    .await
}

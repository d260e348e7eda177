//! Amazon Fraud Detector as a `FraudScorer`, for accounts that still have it (it closed to
//! new customers on 2025-11-07). Sends the original system's event variables, and keeps
//! every model score and rule result (the original kept only the first outcome). An empty
//! rule result means the configured default outcome; throttling is retried with backoff.

use std::time::{Duration, Instant};

use aws_sdk_frauddetector::Client;
use aws_sdk_frauddetector::config::retry::RetryConfig;
use aws_sdk_frauddetector::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_frauddetector::types::Entity;
use vigil_core::{Error, FraudAssessment, FraudScorer, Outcome, RuleResult, Transaction};

/// Which detector to ask, and what to do when its rules decide nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectorConfig {
    pub detector_id: String,
    /// `None`: the detector's active version.
    pub detector_version: Option<String>,
    pub event_type: String,
    pub entity_type: String,
    pub default_outcome: Outcome,
}

#[derive(Clone)]
pub struct FraudDetectorScorer {
    client: Client,
    config: DetectorConfig,
}

impl FraudDetectorScorer {
    pub fn new(client: Client, config: DetectorConfig) -> Self {
        Self { client, config }
    }

    /// A client from the shared AWS configuration, retrying throttled calls up to five
    /// times with exponential backoff.
    pub fn from_sdk_config(sdk: &aws_config::SdkConfig, config: DetectorConfig) -> Self {
        let conf = aws_sdk_frauddetector::config::Builder::from(sdk)
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(5)
                    .with_initial_backoff(Duration::from_millis(50)),
            )
            .build();
        Self::new(Client::from_conf(conf), config)
    }
}

/// The original producer's event variables, by Fraud Detector variable name.
pub fn event_variables(t: &Transaction) -> Vec<(&'static str, String)> {
    vec![
        ("order_price", t.transaction_amt.to_string()),
        ("customer_email", t.email_address.clone()),
        ("ip_address", t.ip_address.clone()),
        ("payment_currency", t.transaction_currency.clone()),
        ("billing_latitude", t.billing_latitude.clone()),
        ("billing_longitude", t.billing_longitude.clone()),
        ("billing_state", t.billing_state.clone()),
        ("billing_street", t.billing_street.clone()),
        ("billing_city", t.billing_city.clone()),
        ("billing_zip", t.billing_zip.clone()),
        ("user_agent", t.user_agent.clone()),
        ("card_bin", t.card_bin.clone()),
        ("customer_name", t.customer_name.clone()),
        ("product_category", t.product_category.clone()),
        ("customer_job", t.customer_job.clone()),
        ("phone", t.phone.clone()),
    ]
}

/// Fraud Detector outcomes are names the account chose; these are the usual ones.
fn outcome_of(name: &str) -> Option<Outcome> {
    let name = name.to_ascii_lowercase();
    if name.contains("block") || name.contains("deny") || name.contains("reject") {
        Some(Outcome::Block)
    } else if name.contains("review") || name.contains("investigate") {
        Some(Outcome::Review)
    } else if name.contains("approve") || name.contains("accept") || name.contains("allow") {
        Some(Outcome::Approve)
    } else {
        None
    }
}

/// Fraud Detector wants `yyyy-MM-ddTHH:mm:ssZ`.
fn timestamp(event_time: &str) -> String {
    let t = event_time.trim();
    let seconds = t.get(..19).unwrap_or(t);
    format!("{seconds}Z")
}

impl FraudScorer for FraudDetectorScorer {
    async fn assess(&self, t: &Transaction) -> Result<FraudAssessment, Error> {
        let entity = Entity::builder()
            .entity_type(&self.config.entity_type)
            .entity_id(&t.entity_id)
            .build()
            .map_err(|e| Error::Scorer(e.to_string()))?;
        let mut request = self
            .client
            .get_event_prediction()
            .detector_id(&self.config.detector_id)
            .set_detector_version_id(self.config.detector_version.clone())
            .event_id(&t.event_id)
            .event_type_name(&self.config.event_type)
            .event_timestamp(timestamp(&t.event_time))
            .entities(entity);
        for (name, value) in event_variables(t) {
            request = request.event_variables(name, value);
        }
        let began = Instant::now();
        let response = request.send().await.map_err(|e| {
            // The SDK's message carries no event variables; name the detector and the code.
            Error::Scorer(format!(
                "Fraud Detector `{}` ({}): {}",
                self.config.detector_id,
                e.code().unwrap_or("no error code"),
                DisplayErrorContext(&e)
            ))
        })?;
        let took = began.elapsed();
        let mut model_scores = std::collections::BTreeMap::new();
        for m in response.model_scores() {
            for (name, score) in m.scores().into_iter().flatten() {
                model_scores.insert(name.clone(), f64::from(*score));
            }
        }
        let rule_results: Vec<RuleResult> = response
            .rule_results()
            .iter()
            .map(|r| RuleResult {
                rule: r.rule_id().unwrap_or_default().to_owned(),
                outcomes: r.outcomes().to_vec(),
            })
            .collect();
        let outcome = rule_results
            .iter()
            .flat_map(|r| r.outcomes.iter())
            .find_map(|o| outcome_of(o))
            .unwrap_or(self.config.default_outcome);
        Ok(FraudAssessment {
            outcome,
            model_scores,
            reasons: rule_results
                .iter()
                .filter(|r| !r.outcomes.is_empty())
                .map(|r| format!("rule {}", r.rule))
                .collect(),
            rule_results,
            ttdf: 0,
            proc_time: 0,
            frauddetector_time: took.as_millis() as u64,
            model_version: None,
            rules_version: None,
            shadow: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_and_timestamps() {
        assert_eq!(outcome_of("block_outcome"), Some(Outcome::Block));
        assert_eq!(outcome_of("Investigate"), Some(Outcome::Review));
        assert_eq!(outcome_of("approve"), Some(Outcome::Approve));
        assert_eq!(outcome_of("send_to_team"), None);
        assert_eq!(
            timestamp("2023-08-02T11:12:35.856868"),
            "2023-08-02T11:12:35Z"
        );
        assert_eq!(
            timestamp("2024-01-01T00:00:00.000001Z"),
            "2024-01-01T00:00:00Z"
        );
    }
}

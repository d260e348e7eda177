//! The transaction record as the original producer wrote it, and the processed record
//! (`transaction` + `fd`) whose column names the reporting side relies on.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Error;

/// A card transaction. Field names (and their order) are the original producer's, so that
/// the original Athena query keeps working; every field but the amount is a string.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transaction {
    pub transaction_amt: f64,
    pub email_address: String,
    pub ip_address: String,
    pub transaction_currency: String,
    pub event_id: String,
    pub entity_id: String,
    pub event_time: String,
    pub billing_longitude: String,
    pub billing_state: String,
    pub user_agent: String,
    pub billing_street: String,
    pub billing_city: String,
    pub card_bin: String,
    pub customer_name: String,
    pub product_category: String,
    pub customer_job: String,
    pub phone: String,
    pub billing_latitude: String,
    pub billing_zip: String,
}

impl Transaction {
    /// Column names in the original order (the table `txn_processedtxns` minus `fd`).
    pub const COLUMNS: [&'static str; 19] = [
        "transaction_amt",
        "email_address",
        "ip_address",
        "transaction_currency",
        "event_id",
        "entity_id",
        "event_time",
        "billing_longitude",
        "billing_state",
        "user_agent",
        "billing_street",
        "billing_city",
        "card_bin",
        "customer_name",
        "product_category",
        "customer_job",
        "phone",
        "billing_latitude",
        "billing_zip",
    ];
}

/// The product categories of the original data set.
pub const PRODUCT_CATEGORIES: [&str; 14] = [
    "entertainment",
    "food_dining",
    "gas_transport",
    "grocery_net",
    "grocery_pos",
    "health_fitness",
    "home",
    "kids_pets",
    "misc_net",
    "misc_pos",
    "personal_care",
    "shopping_net",
    "shopping_pos",
    "travel",
];

/// What the scorer decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Approve,
    Review,
    Block,
}

impl Outcome {
    pub const ALL: [Outcome; 3] = [Outcome::Approve, Outcome::Review, Outcome::Block];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Approve => "approve",
            Outcome::Review => "review",
            Outcome::Block => "block",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Outcome {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "approve" => Ok(Outcome::Approve),
            "review" => Ok(Outcome::Review),
            "block" => Ok(Outcome::Block),
            _ => Err(Error::UnknownOutcome(s.to_owned())),
        }
    }
}

/// One rule's verdict, as Fraud Detector reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleResult {
    pub rule: String,
    pub outcomes: Vec<String>,
}

/// The `fd` column. `outcome`, `ttdf`, `proc_time` and `frauddetector_time` keep the
/// original meaning (milliseconds); the other fields are Vigil's additions and may be
/// absent in the original system's records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FraudAssessment {
    pub outcome: Outcome,
    /// Model name → score on Fraud Detector's 0–1000 scale.
    #[serde(default)]
    pub model_scores: BTreeMap<String, f64>,
    #[serde(default)]
    pub rule_results: Vec<RuleResult>,
    #[serde(default)]
    pub reasons: Vec<String>,
    /// Time from the event to its decision.
    pub ttdf: u64,
    /// Time spent in the scoring function.
    pub proc_time: u64,
    /// Time spent in the scorer itself (the model, or the Fraud Detector call).
    pub frauddetector_time: u64,
}

/// A transaction with its assessment: one row of `txn_processedtxns`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessedTransaction {
    #[serde(flatten)]
    pub transaction: Transaction,
    pub fd: FraudAssessment,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_parses_case_insensitively_and_rejects_unknown() {
        assert_eq!("BLOCK".parse::<Outcome>().unwrap(), Outcome::Block);
        assert_eq!(" review ".parse::<Outcome>().unwrap(), Outcome::Review);
        let err = "deny".parse::<Outcome>().unwrap_err();
        assert!(err.to_string().contains("unknown outcome `deny`"));
    }

    #[test]
    fn outcome_serializes_lowercase() {
        assert_eq!(
            serde_json::to_string(&Outcome::Approve).unwrap(),
            "\"approve\""
        );
    }

    #[test]
    fn fd_without_vigil_fields_defaults_them() {
        let fd: FraudAssessment = serde_json::from_str(
            r#"{"outcome":"approve","ttdf":853,"proc_time":612,"frauddetector_time":241}"#,
        )
        .unwrap();
        assert!(fd.model_scores.is_empty() && fd.rule_results.is_empty() && fd.reasons.is_empty());
        assert_eq!(fd.ttdf, 853);
    }
}

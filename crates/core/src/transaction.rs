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

/// A transaction with its assessment: one row of `txn_processedtxns`: the transaction's
/// columns, then `fd`.
///
/// Written out by hand rather than with `#[serde(flatten)]`, which buffers every record
/// through an untyped map on the way in and out (a third of the pipeline's decoding time).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(from = "FlatProcessed")]
pub struct ProcessedTransaction {
    pub transaction: Transaction,
    pub fd: FraudAssessment,
}

#[derive(Deserialize)]
struct FlatProcessed {
    transaction_amt: f64,
    email_address: String,
    ip_address: String,
    transaction_currency: String,
    event_id: String,
    entity_id: String,
    event_time: String,
    billing_longitude: String,
    billing_state: String,
    user_agent: String,
    billing_street: String,
    billing_city: String,
    card_bin: String,
    customer_name: String,
    product_category: String,
    customer_job: String,
    phone: String,
    billing_latitude: String,
    billing_zip: String,
    fd: FraudAssessment,
}

impl From<FlatProcessed> for ProcessedTransaction {
    fn from(f: FlatProcessed) -> Self {
        ProcessedTransaction {
            transaction: Transaction {
                transaction_amt: f.transaction_amt,
                email_address: f.email_address,
                ip_address: f.ip_address,
                transaction_currency: f.transaction_currency,
                event_id: f.event_id,
                entity_id: f.entity_id,
                event_time: f.event_time,
                billing_longitude: f.billing_longitude,
                billing_state: f.billing_state,
                user_agent: f.user_agent,
                billing_street: f.billing_street,
                billing_city: f.billing_city,
                card_bin: f.card_bin,
                customer_name: f.customer_name,
                product_category: f.product_category,
                customer_job: f.customer_job,
                phone: f.phone,
                billing_latitude: f.billing_latitude,
                billing_zip: f.billing_zip,
            },
            fd: f.fd,
        }
    }
}

impl Serialize for ProcessedTransaction {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let t = &self.transaction;
        let mut s = serializer.serialize_struct("ProcessedTransaction", 20)?;
        s.serialize_field("transaction_amt", &t.transaction_amt)?;
        s.serialize_field("email_address", &t.email_address)?;
        s.serialize_field("ip_address", &t.ip_address)?;
        s.serialize_field("transaction_currency", &t.transaction_currency)?;
        s.serialize_field("event_id", &t.event_id)?;
        s.serialize_field("entity_id", &t.entity_id)?;
        s.serialize_field("event_time", &t.event_time)?;
        s.serialize_field("billing_longitude", &t.billing_longitude)?;
        s.serialize_field("billing_state", &t.billing_state)?;
        s.serialize_field("user_agent", &t.user_agent)?;
        s.serialize_field("billing_street", &t.billing_street)?;
        s.serialize_field("billing_city", &t.billing_city)?;
        s.serialize_field("card_bin", &t.card_bin)?;
        s.serialize_field("customer_name", &t.customer_name)?;
        s.serialize_field("product_category", &t.product_category)?;
        s.serialize_field("customer_job", &t.customer_job)?;
        s.serialize_field("phone", &t.phone)?;
        s.serialize_field("billing_latitude", &t.billing_latitude)?;
        s.serialize_field("billing_zip", &t.billing_zip)?;
        s.serialize_field("fd", &self.fd)?;
        s.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn processed_records_keep_the_column_order_and_round_trip() {
        let t: Transaction =
            serde_json::from_str(include_str!("../../../test_data/transaction.json")).unwrap();
        let p = ProcessedTransaction {
            transaction: t,
            fd: FraudAssessment {
                outcome: Outcome::Review,
                model_scores: [("vigil_gbdt".to_owned(), 512.0)].into(),
                rule_results: vec![],
                reasons: vec!["a reason".into()],
                ttdf: 3,
                proc_time: 1,
                frauddetector_time: 0,
            },
        };
        let json = serde_json::to_string(&p).unwrap();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        let keys: Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut want = Transaction::COLUMNS.to_vec();
        want.push("fd");
        let mut sorted = want.clone();
        sorted.sort();
        assert_eq!(keys, sorted, "same columns (serde_json's map sorts them)");
        let order: Vec<usize> = want
            .iter()
            .map(|k| json.find(&format!("\"{k}\":")).unwrap())
            .collect();
        assert!(
            order.windows(2).all(|w| w[0] < w[1]),
            "columns in the original order: {json}"
        );
        assert_eq!(
            serde_json::from_str::<ProcessedTransaction>(&json).unwrap(),
            p
        );
    }

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

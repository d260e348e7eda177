//! The transaction record as the original producer wrote it, and the processed record
//! (`transaction` + `fd`) whose column names the reporting side relies on.

use std::borrow::Cow;
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

    /// The text columns' values, in the order of `COLUMNS[1..]` (all but the amount).
    pub fn text_fields(&self) -> [&str; 18] {
        [
            &self.email_address,
            &self.ip_address,
            &self.transaction_currency,
            &self.event_id,
            &self.entity_id,
            &self.event_time,
            &self.billing_longitude,
            &self.billing_state,
            &self.user_agent,
            &self.billing_street,
            &self.billing_city,
            &self.card_bin,
            &self.customer_name,
            &self.product_category,
            &self.customer_job,
            &self.phone,
            &self.billing_latitude,
            &self.billing_zip,
        ]
    }
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
    /// The model version that scored (its id in the registry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_version: Option<String>,
    /// The rules version that decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules_version: Option<String>,
    /// A candidate's decision on the same event, scored beside the active versions and
    /// never acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shadow: Option<ShadowAssessment>,
}

/// What a candidate model and rules would have decided (`fd.shadow`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShadowAssessment {
    pub outcome: Outcome,
    pub model_version: String,
    pub rules_version: String,
    /// The candidate model's score, 0–1000.
    pub score: f64,
    /// The rules that matched.
    #[serde(default)]
    pub rules: Vec<String>,
}

/// A transaction with its assessment: one row of `txn_processedtxns`: the transaction's
/// columns, then `fd`. Decoded through [`ProcessedRecord`].
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessedTransaction {
    pub transaction: Transaction,
    pub fd: FraudAssessment,
}

/// A processed record as it is written: the same columns and checks as
/// [`ProcessedTransaction`], with the strings borrowed from the input where they need no
/// unescaping. Consumers that only look at a record (its outcome, its time) or pass its
/// bytes on read it this way, without an allocation per column.
///
/// Written out by hand rather than with `#[serde(flatten)]`, which buffers every record
/// through an untyped map on the way in and out (a third of the pipeline's decoding time).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ProcessedRecord<'a> {
    pub transaction_amt: f64,
    #[serde(borrow)]
    pub email_address: Cow<'a, str>,
    #[serde(borrow)]
    pub ip_address: Cow<'a, str>,
    #[serde(borrow)]
    pub transaction_currency: Cow<'a, str>,
    #[serde(borrow)]
    pub event_id: Cow<'a, str>,
    #[serde(borrow)]
    pub entity_id: Cow<'a, str>,
    #[serde(borrow)]
    pub event_time: Cow<'a, str>,
    #[serde(borrow)]
    pub billing_longitude: Cow<'a, str>,
    #[serde(borrow)]
    pub billing_state: Cow<'a, str>,
    #[serde(borrow)]
    pub user_agent: Cow<'a, str>,
    #[serde(borrow)]
    pub billing_street: Cow<'a, str>,
    #[serde(borrow)]
    pub billing_city: Cow<'a, str>,
    #[serde(borrow)]
    pub card_bin: Cow<'a, str>,
    #[serde(borrow)]
    pub customer_name: Cow<'a, str>,
    #[serde(borrow)]
    pub product_category: Cow<'a, str>,
    #[serde(borrow)]
    pub customer_job: Cow<'a, str>,
    #[serde(borrow)]
    pub phone: Cow<'a, str>,
    #[serde(borrow)]
    pub billing_latitude: Cow<'a, str>,
    #[serde(borrow)]
    pub billing_zip: Cow<'a, str>,
    pub fd: FraudAssessment,
}

impl From<ProcessedRecord<'_>> for ProcessedTransaction {
    fn from(r: ProcessedRecord<'_>) -> Self {
        ProcessedTransaction {
            transaction: Transaction {
                transaction_amt: r.transaction_amt,
                email_address: r.email_address.into_owned(),
                ip_address: r.ip_address.into_owned(),
                transaction_currency: r.transaction_currency.into_owned(),
                event_id: r.event_id.into_owned(),
                entity_id: r.entity_id.into_owned(),
                event_time: r.event_time.into_owned(),
                billing_longitude: r.billing_longitude.into_owned(),
                billing_state: r.billing_state.into_owned(),
                user_agent: r.user_agent.into_owned(),
                billing_street: r.billing_street.into_owned(),
                billing_city: r.billing_city.into_owned(),
                card_bin: r.card_bin.into_owned(),
                customer_name: r.customer_name.into_owned(),
                product_category: r.product_category.into_owned(),
                customer_job: r.customer_job.into_owned(),
                phone: r.phone.into_owned(),
                billing_latitude: r.billing_latitude.into_owned(),
                billing_zip: r.billing_zip.into_owned(),
            },
            fd: r.fd,
        }
    }
}

impl<'de> Deserialize<'de> for ProcessedTransaction {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        ProcessedRecord::deserialize(deserializer).map(Self::from)
    }
}

impl Serialize for ProcessedTransaction {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let t = &self.transaction;
        let mut s = serializer.serialize_struct("ProcessedTransaction", 20)?;
        s.serialize_field("transaction_amt", &t.transaction_amt)?;
        for (name, value) in Transaction::COLUMNS[1..].iter().zip(t.text_fields()) {
            s.serialize_field(name, value)?;
        }
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
                model_version: None,
                rules_version: None,
                shadow: None,
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
    fn a_processed_record_is_read_in_place_and_made_whole_alike() {
        let mut t: Transaction =
            serde_json::from_str(include_str!("../../../test_data/transaction.json")).unwrap();
        t.customer_name = "Zoë \"Z\" O'Neil".into(); // needs unescaping: owned
        let p = ProcessedTransaction {
            transaction: t,
            fd: FraudAssessment {
                outcome: Outcome::Block,
                model_scores: [("vigil_gbdt".to_owned(), 991.0)].into(),
                rule_results: vec![],
                reasons: vec![],
                ttdf: 1,
                proc_time: 0,
                frauddetector_time: 0,
                model_version: None,
                rules_version: None,
                shadow: None,
            },
        };
        let json = serde_json::to_vec(&p).unwrap();
        let record: ProcessedRecord = serde_json::from_slice(&json).unwrap();
        assert!(matches!(record.event_id, Cow::Borrowed(_)));
        assert!(matches!(record.customer_name, Cow::Owned(_)));
        assert_eq!(record.fd.outcome, Outcome::Block);
        assert_eq!(ProcessedTransaction::from(record), p);
        let missing = String::from_utf8(json)
            .unwrap()
            .replace("\"phone\"", "\"fone\"");
        let err = serde_json::from_str::<ProcessedRecord>(&missing).unwrap_err();
        assert!(err.to_string().contains("missing field `phone`"), "{err}");
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

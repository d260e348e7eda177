//! Documents: what the classifier finds in a file and what it decides.

use serde::{Deserialize, Serialize};

/// Kinds of personal data, with the names of the `vigil classify` contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EntityKind {
    Person,
    Address,
    Ssn,
    Itin,
    Ein,
    CreditCard,
    BankAccount,
    RoutingNumber,
    Iban,
    Email,
    Phone,
    DateOfBirth,
    DriverLicense,
    Passport,
    IpAddress,
}

impl EntityKind {
    pub const ALL: [EntityKind; 15] = [
        EntityKind::Person,
        EntityKind::Address,
        EntityKind::Ssn,
        EntityKind::Itin,
        EntityKind::Ein,
        EntityKind::CreditCard,
        EntityKind::BankAccount,
        EntityKind::RoutingNumber,
        EntityKind::Iban,
        EntityKind::Email,
        EntityKind::Phone,
        EntityKind::DateOfBirth,
        EntityKind::DriverLicense,
        EntityKind::Passport,
        EntityKind::IpAddress,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Person => "PERSON",
            EntityKind::Address => "ADDRESS",
            EntityKind::Ssn => "SSN",
            EntityKind::Itin => "ITIN",
            EntityKind::Ein => "EIN",
            EntityKind::CreditCard => "CREDIT_CARD",
            EntityKind::BankAccount => "BANK_ACCOUNT",
            EntityKind::RoutingNumber => "ROUTING_NUMBER",
            EntityKind::Iban => "IBAN",
            EntityKind::Email => "EMAIL",
            EntityKind::Phone => "PHONE",
            EntityKind::DateOfBirth => "DATE_OF_BIRTH",
            EntityKind::DriverLicense => "DRIVER_LICENSE",
            EntityKind::Passport => "PASSPORT",
            EntityKind::IpAddress => "IP_ADDRESS",
        }
    }

    pub fn parse(name: &str) -> Option<EntityKind> {
        EntityKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// Direct identifiers make a document personal on their own (docs/architecture.md, Records); a name
    /// or an address needs another identifier of the same person. Routing numbers, EINs
    /// and IP addresses identify banks, businesses and machines, not people.
    pub fn is_direct_identifier(self) -> bool {
        matches!(
            self,
            EntityKind::Ssn
                | EntityKind::Itin
                | EntityKind::CreditCard
                | EntityKind::BankAccount
                | EntityKind::Iban
                | EntityKind::Passport
                | EntityKind::DriverLicense
                | EntityKind::Email
                | EntityKind::Phone
                | EntityKind::DateOfBirth
        )
    }
}

impl std::fmt::Display for EntityKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which part of the classifier found an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Detector {
    Recognizer,
    Ner,
    Both,
    /// On a page read by OCR (by the recognizers, the model or both; the evidence says):
    /// the value is only as good as the reading, whose confidence the finding carries.
    Ocr,
}

/// One piece of personal data. Offsets are character offsets into the page's text;
/// `masked` is the only form of the value that ever leaves the classifier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    #[serde(rename = "type")]
    pub kind: EntityKind,
    pub start: usize,
    pub end: usize,
    pub page: u32,
    pub score: f32,
    pub detector: Detector,
    pub masked: String,
    /// What decided whose the value is, in words without values ("business contact
    /// (p 0.08): a business label before it; repeated on 3 pages").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
    /// On a page read by OCR: the lowest confidence (0 … 1) of the words the value spans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocr_confidence: Option<f32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pii,
    NoPii,
    Error,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pii => "pii",
            Verdict::NoPii => "no_pii",
            Verdict::Error => "error",
        }
    }
}

/// The classifier's answer for one document: the findings record written next to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentVerdict {
    pub verdict: Verdict,
    pub pages: u32,
    pub entities: Vec<Finding>,
    /// Why the document is `pii` (or why it is not), in words without values.
    pub reasons: Vec<String>,
    /// Values found and judged an organisation's (letterheads, support lines, role
    /// mailboxes), masked, with the evidence: not personal data, listed so that a
    /// reviewer sees what was set aside and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub business: Vec<Finding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_round_trip() {
        for kind in EntityKind::ALL {
            assert_eq!(EntityKind::parse(kind.as_str()), Some(kind));
            assert_eq!(
                serde_json::to_string(&kind).unwrap(),
                format!("\"{}\"", kind.as_str())
            );
        }
    }
}

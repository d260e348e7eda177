//! Fraud alerts: the original's subject, and a body with what an analyst needs and nothing
//! more about the customer than masked contact details.

use std::fmt::Write;

use vigil_core::{Outcome, ProcessedTransaction, mask};

pub const SUBJECT: &str = "FRAUD ALERT: Transaction has been flagged!";

/// Which outcomes raise an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertPolicy {
    pub on_review: bool,
}

impl AlertPolicy {
    pub fn wants(&self, outcome: Outcome) -> bool {
        outcome == Outcome::Block || (self.on_review && outcome == Outcome::Review)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub event_id: String,
    pub subject: String,
    pub body: String,
}

/// The alert for a processed transaction.
pub fn render(p: &ProcessedTransaction) -> Alert {
    let t = &p.transaction;
    let mut body = String::new();
    let _ = writeln!(body, "A transaction was flagged by Vigil.\n");
    let _ = writeln!(body, "Transaction id: {}", t.event_id);
    let _ = writeln!(body, "Outcome:        {}", p.fd.outcome);
    let _ = writeln!(body, "Time:           {}", t.event_time);
    let _ = writeln!(
        body,
        "Amount:         {:.2} {}",
        t.transaction_amt,
        t.transaction_currency.to_uppercase()
    );
    if let Some((model, score)) = p.fd.model_scores.iter().next() {
        let _ = writeln!(body, "Score:          {score:.0} / 1000 ({model})");
    }
    let _ = writeln!(body, "\nReasons:");
    if p.fd.reasons.is_empty() {
        let _ = writeln!(body, "  - none given");
    }
    for reason in &p.fd.reasons {
        let _ = writeln!(body, "  - {reason}");
    }
    let _ = writeln!(body, "\nCustomer (masked):");
    let _ = writeln!(body, "  Email:  {}", mask::email(&t.email_address));
    let _ = writeln!(body, "  Phone:  {}", mask::identifier(&t.phone));
    let _ = writeln!(body, "  Entity: {}", mask::identifier(&t.entity_id));
    Alert {
        event_id: t.event_id.clone(),
        subject: SUBJECT.into(),
        body,
    }
}

/// The alert as an RFC 5322 message, for a local outbox.
pub fn to_eml(alert: &Alert, from: &str, to: &str, date: chrono::DateTime<chrono::Utc>) -> String {
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {}\r\nDate: {}\r\nMessage-ID: <{}@vigil.local>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{}",
        alert.subject,
        date.to_rfc2822(),
        alert.event_id,
        alert.body.replace('\n', "\r\n")
    )
}

#[cfg(test)]
mod tests {
    use vigil_core::{FraudAssessment, Transaction};

    use super::*;

    fn processed() -> ProcessedTransaction {
        let t: Transaction = serde_json::from_str(
            r#"{"transaction_amt": 1611, "email_address": "jonesmichael@yahoo.com", "ip_address": "123.235.24.201",
            "transaction_currency": "cad", "event_id": "4ac430f2", "entity_id": "193-82-1844",
            "event_time": "2023-08-02T11:13:40.329879", "billing_longitude": "-132.8279", "billing_state": "AK",
            "user_agent": "Mozilla", "billing_street": "078 Medina Key", "billing_city": "Port Alexander",
            "card_bin": "270647", "customer_name": "Charles", "product_category": "home",
            "customer_job": "Surveyor, rural practice", "phone": "025-989-5961", "billing_latitude": "56.536",
            "billing_zip": "99836"}"#,
        )
        .unwrap();
        ProcessedTransaction {
            transaction: t,
            fd: FraudAssessment {
                outcome: Outcome::Block,
                model_scores: [("vigil_gbdt".to_owned(), 987.0)].into(),
                rule_results: vec![],
                reasons: vec!["amount 14.0x the customer's mean".into()],
                ttdf: 1,
                proc_time: 0,
                frauddetector_time: 0,
                model_version: None,
                rules_version: None,
                shadow: None,
            },
        }
    }

    #[test]
    fn alert_is_masked_and_complete() {
        let a = render(&processed());
        assert_eq!(a.subject, SUBJECT);
        for expected in [
            "4ac430f2",
            "block",
            "2023-08-02T11:13:40",
            "1611.00 CAD",
            "amount 14.0x",
            "j*****@yahoo.com",
            "***-***-5961",
            "***-**-1844",
            "987 / 1000",
        ] {
            assert!(a.body.contains(expected), "missing {expected}:\n{}", a.body);
        }
        for secret in [
            "jonesmichael",
            "025-989",
            "193-82",
            "Charles",
            "Medina",
            "Port Alexander",
            "123.235",
            "270647",
            "Surveyor",
            "99836",
        ] {
            assert!(!a.body.contains(secret), "leaks {secret}:\n{}", a.body);
        }
        let eml = to_eml(
            &a,
            "vigil@localhost",
            "fraud-team@localhost",
            chrono::Utc::now(),
        );
        assert!(
            eml.starts_with("From: vigil@localhost\r\n")
                && eml.contains("\r\n\r\nA transaction was flagged")
        );
    }

    #[test]
    fn policy() {
        let p = AlertPolicy { on_review: false };
        assert!(p.wants(Outcome::Block) && !p.wants(Outcome::Review) && !p.wants(Outcome::Approve));
        assert!(AlertPolicy { on_review: true }.wants(Outcome::Review));
    }
}

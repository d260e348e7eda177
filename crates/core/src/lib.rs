//! Vigil's domain: transactions, fraud assessments, object-store port and masking helpers.
//!
//! Nothing here talks to AWS or to the network: adapters live in their own crates and
//! implement the ports declared in [`ports`].

pub mod error;
pub mod mask;
pub mod ports;
pub mod seed;
pub mod transaction;

pub use error::Error;
pub use ports::{FraudScorer, Notifier, ObjectRef, ObjectStore};
pub use transaction::{FraudAssessment, Outcome, ProcessedTransaction, RuleResult, Transaction};

//! Vigil's domain: transactions, fraud assessments, object-store port and masking helpers.
//!
//! Nothing here talks to AWS or to the network: adapters live in their own crates and
//! implement the ports declared in [`ports`].

pub mod document;
pub mod error;
pub mod mask;
pub mod ports;
pub mod seed;
pub mod transaction;

pub use error::Error;

/// FNV-1a: a hash that stays the same across runs, machines and Rust releases (std's
/// hasher may change), for anything stored or shared: seeds, partitions, entity state.
pub fn stable_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
pub use document::{Detector, DocumentVerdict, EntityKind, Finding, Verdict};
pub use ports::{
    EventClaims, FraudScorer, MemoryClaims, Notifier, ObjectRef, ObjectStore, RecordSink,
};
pub use transaction::{
    FraudAssessment, Outcome, PRODUCT_CATEGORIES, ProcessedRecord, ProcessedTransaction,
    RuleResult, ShadowAssessment, Transaction,
};

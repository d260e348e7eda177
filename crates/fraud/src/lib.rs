//! Vigil's built-in fraud scorer.
//!
//! - [`input`]: labeled CSV rows and live transactions, normalised to [`input::Event`].
//! - [`features`]: causal per-entity features over bounded state ([`features::EntityStore`]).
//! - [`gbdt`]: gradient-boosted trees, trained and evaluated in Rust.
//! - [`model`]: the versioned model file.
//! - [`rules`]: Fraud Detector-like rules, lists and outcomes.
//! - [`versions`]: models and rules as versioned artifacts (ids, manifests, checks).
//! - [`backtest`]: history replayed under the active and a candidate model and rules.
//! - [`scorer`]: features + model + rules + reasons → [`vigil_core::FraudAssessment`].

pub mod backtest;
pub mod bench;
pub mod features;
pub mod gbdt;
pub mod input;
pub mod labels;
pub mod metrics;
pub mod model;
pub mod rules;
pub mod scorer;
pub mod train;
pub mod versions;

/// The one error type of `vigil-fraud`. Messages name rows and fields, never their values.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("reading {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("the CSV header lacks column `{0}`")]
    MissingColumn(&'static str),
    #[error("row {row}: {message}")]
    Row { row: u64, message: String },
    #[error("model file: {0}")]
    Model(String),
    #[error("rules: {0}")]
    Rules(String),
    #[error("rules: line {line}, column {column}: rule `{rule}`: {message}")]
    RuleExpression {
        rule: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("version: {0}")]
    Version(String),
    #[error("training: {0}")]
    Training(String),
    #[error("entity state store: {0}")]
    StateStore(String),
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
}

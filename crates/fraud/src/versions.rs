//! Models and rules as versioned artifacts, in the manner of Fraud Detector's detector
//! versions: each published file gets an id derived from its content (publishing the same
//! file again is the same version), a manifest (creation time, hash, what it holds, its
//! status) and a place in a registry laid out as
//!
//! ```text
//! models/<id>/model.json     models/<id>/version.json
//! rules/<id>.toml            rules/<id>.json
//! lists/<name>.txt           (entries of a list; changing one needs no new rules version)
//! active.json                which model and rules score, and which run in their shadow
//! ```
//!
//! This module is the registry's pure part: ids, keys, manifests and the checks a file
//! must pass before it can be published or used. Reading and writing the registry, in a
//! directory or in S3, is `vigil_pipeline::registry`'s.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Error;
use crate::metrics::Metrics;
use crate::model::{DEFAULT_MODEL, ModelFile};
use crate::rules::{DEFAULT_RULES, Rules};

pub const ACTIVE_KEY: &str = "active.json";
pub const LISTS_PREFIX: &str = "lists/";
/// Largest model or rules file accepted (the shipped model is about 1 MB).
pub const MAX_ARTIFACT_BYTES: usize = 64 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Model,
    Rules,
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Kind::Model => "model",
            Kind::Rules => "rules",
        })
    }
}

/// As Fraud Detector's detector versions: a draft until activated, retired when another
/// version takes its place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Draft,
    Active,
    Retired,
}

/// What a model version holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSummary {
    /// The key of its score in `fd.model_scores`.
    pub name: String,
    pub trees: usize,
    pub training_input: String,
    pub training_input_sha256: String,
    pub training_rows: usize,
    pub validation: Option<Metrics>,
}

/// What a rules version holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RulesSummary {
    pub rules: Vec<String>,
    pub lists: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub id: String,
    pub kind: Kind,
    /// RFC 3339.
    pub created: String,
    /// Of the artifact's bytes.
    pub sha256: String,
    pub status: Status,
    /// Where it was published from, as the publisher named it.
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelSummary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<RulesSummary>,
}

/// Which versions score (`model`, `rules`; none: the shipped ones), and which are scored
/// beside them without acting (`shadow_*`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivePointer {
    pub model: Option<String>,
    pub rules: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shadow_model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shadow_rules: Option<String>,
    /// RFC 3339, when it was last changed.
    #[serde(default)]
    pub updated: String,
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `model-<12 hex digits>` or `rules-<12 hex digits>` of the content's SHA-256.
pub fn version_id(kind: Kind, bytes: &[u8]) -> String {
    format!("{kind}-{}", &sha256_hex(bytes)[..12])
}

/// The kind a version id names; `None` for anything that is not an id.
pub fn kind_of(id: &str) -> Option<Kind> {
    let (kind, hash) = id.split_once('-')?;
    if hash.len() != 12 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    match kind {
        "model" => Some(Kind::Model),
        "rules" => Some(Kind::Rules),
        _ => None,
    }
}

/// The ids of what Vigil ships: the versions used when the registry names none.
pub fn shipped_model_id() -> String {
    version_id(Kind::Model, DEFAULT_MODEL.as_bytes())
}

pub fn shipped_rules_id() -> String {
    version_id(Kind::Rules, DEFAULT_RULES.as_bytes())
}

/// Key of the artifact of a version (relative to the registry's prefix).
pub fn artifact_key(kind: Kind, id: &str) -> String {
    match kind {
        Kind::Model => format!("models/{id}/model.json"),
        Kind::Rules => format!("rules/{id}.toml"),
    }
}

/// Key of the manifest of a version.
pub fn manifest_key(kind: Kind, id: &str) -> String {
    match kind {
        Kind::Model => format!("models/{id}/version.json"),
        Kind::Rules => format!("rules/{id}.json"),
    }
}

pub fn list_key(name: &str) -> String {
    format!("{LISTS_PREFIX}{name}.txt")
}

/// The list a key under [`LISTS_PREFIX`] holds, if it is a list file.
pub fn list_name(key: &str) -> Option<&str> {
    let name = key.strip_prefix(LISTS_PREFIX)?.strip_suffix(".txt")?;
    crate::rules::is_list_name(name).then_some(name)
}

fn text(bytes: &[u8], kind: Kind) -> Result<&str, Error> {
    if bytes.len() > MAX_ARTIFACT_BYTES {
        return Err(Error::Version(format!(
            "the {kind} file is {} MB, over the limit of {} MB",
            bytes.len() >> 20,
            MAX_ARTIFACT_BYTES >> 20
        )));
    }
    std::str::from_utf8(bytes)
        .map_err(|_| Error::Version(format!("the {kind} file is not UTF-8 text")))
}

/// Parses and checks a model file.
pub fn check_model(bytes: &[u8]) -> Result<(ModelFile, ModelSummary), Error> {
    let model = ModelFile::parse(text(bytes, Kind::Model)?)?;
    let summary = ModelSummary {
        name: model.name.clone(),
        trees: model.ensemble.trees(),
        training_input: model.training.input.clone(),
        training_input_sha256: model.training.input_sha256.clone(),
        training_rows: model.training.rows,
        validation: model.validation,
    };
    Ok((model, summary))
}

/// Parses and checks a rules file against the lists kept beside it.
pub fn check_rules(
    bytes: &[u8],
    lists: &BTreeMap<String, Vec<String>>,
) -> Result<(Rules, RulesSummary), Error> {
    let rules = Rules::parse_with_lists(text(bytes, Kind::Rules)?, lists)?;
    let summary = RulesSummary {
        rules: rules.rule_names().map(str::to_owned).collect(),
        lists: rules.list_sizes().map(|(n, _)| n.to_owned()).collect(),
    };
    Ok((rules, summary))
}

/// A draft's manifest for a file that passed its check.
pub fn manifest(kind: Kind, bytes: &[u8], source: &str, created: String) -> Manifest {
    Manifest {
        id: version_id(kind, bytes),
        kind,
        created,
        sha256: sha256_hex(bytes),
        status: Status::Draft,
        source: source.to_owned(),
        model: None,
        rules: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_the_content_and_say_their_kind() {
        let a = version_id(Kind::Rules, b"x");
        assert_eq!(a, version_id(Kind::Rules, b"x"));
        assert_ne!(a, version_id(Kind::Rules, b"y"));
        assert!(a.starts_with("rules-") && a.len() == 18, "{a}");
        assert_eq!(kind_of(&a), Some(Kind::Rules));
        assert_eq!(kind_of(&shipped_model_id()), Some(Kind::Model));
        for bad in [
            "rules",
            "rules-12",
            "model-zzzzzzzzzzzz",
            "lists-0123456789ab",
            "../x",
        ] {
            assert_eq!(kind_of(bad), None, "{bad}");
        }
    }

    #[test]
    fn keys_and_list_names() {
        assert_eq!(
            artifact_key(Kind::Model, "model-1"),
            "models/model-1/model.json"
        );
        assert_eq!(manifest_key(Kind::Rules, "rules-1"), "rules/rules-1.json");
        assert_eq!(list_name(&list_key("deny_ips")), Some("deny_ips"));
        assert_eq!(list_name("lists/Deny.txt"), None);
        assert_eq!(list_name("lists/deny.csv"), None);
    }

    #[test]
    fn checks_refuse_what_cannot_be_used() {
        assert!(check_model(DEFAULT_MODEL.as_bytes()).is_ok());
        assert!(check_rules(DEFAULT_RULES.as_bytes(), &BTreeMap::new()).is_ok());
        let err = check_model(b"{\"format\": \"onnx\"}")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a Vigil model file"), "{err}");
        let err = check_rules(&[0xff, 0xfe], &BTreeMap::new())
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("not UTF-8"), "{err}");
        let (_, summary) = check_model(DEFAULT_MODEL.as_bytes()).unwrap();
        assert_eq!(summary.name, "vigil_gbdt");
        assert!(summary.validation.is_some());
    }
}

//! The model file: JSON with a format version, the feature list it was trained on, how
//! and on what it was trained (with the input's SHA-256), its held-out metrics and the trees.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::features::FEATURE_NAMES;
use crate::gbdt::{Ensemble, Params};
use crate::metrics::Metrics;

pub const FORMAT: &str = "vigil-gbdt";
pub const FORMAT_VERSION: u32 = 1;

/// How a model was trained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingInfo {
    pub input: String,
    pub input_sha256: String,
    pub rows: usize,
    pub rejected_rows: usize,
    pub train_rows: usize,
    pub early_stopping_rows: usize,
    pub validation_rows: usize,
    /// Training and early-stopping rows are before this time; validation rows from it on.
    pub validation_from: Option<String>,
    pub params: Params,
    pub trees: usize,
    /// The trees were refitted on the training and early-stopping rows together, with the
    /// tree count early stopping chose (the early-stopping metrics are of the first fit).
    #[serde(default)]
    pub refit: bool,
    pub vigil_version: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelFile {
    pub format: String,
    pub format_version: u32,
    /// The key of this model's score in `fd.model_scores`.
    pub name: String,
    pub features: Vec<String>,
    pub training: TrainingInfo,
    /// On the early-stopping rows (used to stop training and to choose settings).
    pub early_stopping: Option<Metrics>,
    /// On the held-out validation rows, never trained or tuned on.
    pub validation: Option<Metrics>,
    pub ensemble: Ensemble,
}

impl ModelFile {
    pub fn save(&self, path: &Path) -> Result<(), Error> {
        let text = serde_json::to_string(self)?;
        std::fs::write(path, text).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })
    }

    pub fn load(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text)
    }

    /// Parses and checks a model: format, version, features and tree arrays.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let model: ModelFile = serde_json::from_str(text)
            .map_err(|e| Error::Model(format!("not a Vigil model file: {e}")))?;
        if model.format != FORMAT {
            return Err(Error::Model(format!(
                "format is `{}`, expected `{FORMAT}`",
                model.format
            )));
        }
        if model.format_version != FORMAT_VERSION {
            return Err(Error::Model(format!(
                "format version {} is not supported (this build reads {FORMAT_VERSION}); retrain with `vigil train`",
                model.format_version
            )));
        }
        if model.features != FEATURE_NAMES {
            return Err(Error::Model(
                "the model was trained on other features than this build computes; retrain with `vigil train`".into(),
            ));
        }
        model.ensemble.validate()?;
        Ok(model)
    }
}

/// The model Vigil ships, trained on `shared/data/transactions_train.csv.gz`
/// (rebuild: `infra/train-default-model.sh`).
pub const DEFAULT_MODEL: &str = include_str!("../models/default.json");

pub fn default_model() -> Result<ModelFile, Error> {
    ModelFile::parse(DEFAULT_MODEL)
}

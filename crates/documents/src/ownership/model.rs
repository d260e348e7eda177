//! The ownership model: logistic regression over the evidence, with a fixed prior.
//!
//! Why linear: each feature's contribution is its weight times its value, so the evidence
//! that decided a finding is exact, not an approximation; and with a few dozen features and
//! a few thousand labelled values, a linear model cannot memorise one corpus's layouts the
//! way trees can. Why a fixed prior: without any evidence a value stays a person's (the
//! careful answer for a compliance tool), so the weights learn only what evidence is
//! worth, not how often a corpus happens to print business numbers.

use serde::{Deserialize, Serialize};

use super::evidence::{Evidence, FEATURES, N};
use crate::Error;

/// The log-odds of "personal" with no evidence: about 73 %.
pub const PRIOR: f32 = 1.0;

/// The models shipped with Vigil (trained by `vigil train-ownership`): identifiers, and
/// the NER's names and addresses.
const BUILT_IN: &str = include_str!("model.json");
const BUILT_IN_NAMES: &str = include_str!("names.json");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OwnershipModel {
    /// Feature names, in the order of `weights`: checked against the code's on load.
    pub features: Vec<String>,
    pub weights: Vec<f32>,
    pub bias: f32,
    /// A value is a person's when its probability is at least this.
    pub threshold: f32,
    /// What it was trained on and how it scored, for people reading the file.
    #[serde(default)]
    pub provenance: serde_json::Value,
}

/// One feature's share in a decision.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Contribution {
    pub feature: usize,
    /// Weight × value, in log-odds (positive: towards personal).
    pub log_odds: f32,
}

impl OwnershipModel {
    pub fn built_in() -> OwnershipModel {
        // Checked by a unit test; a broken file would fail every build's tests.
        Self::from_json(BUILT_IN).unwrap_or_else(|_| Self::untrained())
    }

    pub fn built_in_names() -> OwnershipModel {
        Self::from_json(BUILT_IN_NAMES).unwrap_or_else(|_| Self::untrained())
    }

    /// A model with no weights: every judged value is a person's.
    pub fn untrained() -> OwnershipModel {
        OwnershipModel {
            features: FEATURES.iter().map(|(n, _)| (*n).to_owned()).collect(),
            weights: vec![0.0; N],
            bias: PRIOR,
            threshold: 0.5,
            provenance: serde_json::Value::Null,
        }
    }

    pub fn from_json(json: &str) -> Result<OwnershipModel, Error> {
        let model: OwnershipModel = serde_json::from_str(json)
            .map_err(|e| Error::Model(format!("ownership model: {e}")))?;
        let expected: Vec<&str> = FEATURES.iter().map(|(n, _)| *n).collect();
        if model.features != expected || model.weights.len() != N {
            return Err(Error::Model(format!(
                "ownership model: its features ({}) are not this build's ({}); retrain it with `vigil train-ownership`",
                model.features.join(", "),
                expected.join(", ")
            )));
        }
        if !(0.0..=1.0).contains(&model.threshold) || model.weights.iter().any(|w| !w.is_finite()) {
            return Err(Error::Model(
                "ownership model: weights must be finite and the threshold in 0–1".into(),
            ));
        }
        Ok(model)
    }

    pub fn log_odds(&self, x: &Evidence) -> f32 {
        self.bias + self.weights.iter().zip(x).map(|(w, v)| w * v).sum::<f32>()
    }

    pub fn probability(&self, x: &Evidence) -> f32 {
        sigmoid(self.log_odds(x))
    }

    pub fn is_personal(&self, x: &Evidence) -> bool {
        self.probability(x) >= self.threshold
    }

    /// The features that pushed towards the decision taken, strongest first.
    pub fn deciding(&self, x: &Evidence) -> Vec<Contribution> {
        let personal = self.is_personal(x);
        let mut out: Vec<Contribution> = self
            .weights
            .iter()
            .zip(x)
            .enumerate()
            .map(|(feature, (w, v))| Contribution {
                feature,
                log_odds: w * v,
            })
            .filter(|c| {
                if personal {
                    c.log_odds > 0.05
                } else {
                    c.log_odds < -0.05
                }
            })
            .collect();
        out.sort_by(|a, b| b.log_odds.abs().total_cmp(&a.log_odds.abs()));
        out
    }
}

pub fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

/// Training settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainParams {
    /// L2 penalty on the weights (per row).
    pub l2: f32,
    pub epochs: usize,
    pub learning_rate: f32,
}

impl Default for TrainParams {
    fn default() -> Self {
        TrainParams {
            l2: 0.0001,
            epochs: 4000,
            learning_rate: 4.0,
        }
    }
}

/// Fits the weights by full-batch gradient descent on the log loss, the bias held at
/// [`PRIOR`]. Positives and negatives weigh alike in total, so that a corpus's mix of
/// personal and business values does not move the decision.
pub fn train(
    rows: &[Evidence],
    personal: &[bool],
    params: TrainParams,
) -> Result<OwnershipModel, Error> {
    let positives = personal.iter().filter(|p| **p).count();
    if rows.len() != personal.len() || positives == 0 || positives == rows.len() {
        return Err(Error::Model(
            "ownership training needs labelled values of both owners".into(),
        ));
    }
    let (wp, wn) = (
        0.5 / positives as f32,
        0.5 / (rows.len() - positives) as f32,
    );
    let mut weights = [0.0f32; N];
    for _ in 0..params.epochs {
        let mut grad = [0.0f32; N];
        for (x, &y) in rows.iter().zip(personal) {
            let z = PRIOR + weights.iter().zip(x).map(|(w, v)| w * v).sum::<f32>();
            let (target, weight) = if y { (1.0, wp) } else { (0.0, wn) };
            let err = (sigmoid(z) - target) * weight;
            for (g, v) in grad.iter_mut().zip(x) {
                *g += err * v;
            }
        }
        for (w, g) in weights.iter_mut().zip(grad) {
            *w -= params.learning_rate * (g + params.l2 * *w);
        }
    }
    Ok(OwnershipModel {
        features: FEATURES.iter().map(|(n, _)| (*n).to_owned()).collect(),
        weights: weights.to_vec(),
        bias: PRIOR,
        threshold: 0.5,
        provenance: serde_json::Value::Null,
    })
}

//! Gradient-boosted decision trees for binary classification (log loss), trained on
//! histograms of binned features, in flat arrays that evaluate with vector code.
//!
//! Two shapes: *depthwise* (the default: every node splits on its own best feature, as
//! XGBoost's `depthwise` policy; a variant splits every node of a level on one feature) and
//! *oblivious* (every node of a level splits on the same feature and threshold, as
//! CatBoost's: a tree is `depth` independent comparisons whose bits index the leaf). Both
//! are stored as complete trees of a fixed depth; a level that finds no useful split is
//! padded with a pass-through (threshold `f32::MAX`: every row goes left).
//!
//! Why our own: the maintained Rust boosters (perpetual, forust) grow trees of unbounded
//! depth stored node by node, and the XGBoost/LightGBM bindings call C++ whose prediction
//! is several times slower (docs/fraud-model.md has the comparison).
//!
//! - this file: the parameters and the ensemble's format;
//! - [`predict`]: one row and blocks of rows, and [`Kernel`], which instruction set a block
//!   is evaluated with; [`avx2`] and [`avx512`] hold the vector kernels;
//! - [`explain`]: per-feature contributions along each tree's path;
//! - [`train`]: binning, sampling and growing the trees.

mod avx2;
mod avx512;
mod explain;
mod predict;
mod train;

#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::features::{Features, N_FEATURES};

pub use explain::Explainer;
pub use predict::Kernel;
pub use train::{TrainLog, train};

/// Feature rows are padded to this width so that indexing needs no bounds check.
const WIDTH: usize = 32;
const _: () = assert!(N_FEATURES <= WIDTH);

/// The shape of the trees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TreeKind {
    /// Every node of a level splits alike: fastest to evaluate.
    #[default]
    Oblivious,
    /// Every node splits on its own best feature (as XGBoost's `depthwise` policy).
    Depthwise,
}

/// Training settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Params {
    #[serde(default)]
    pub kind: TreeKind,
    /// With depthwise trees: all nodes of a level split on one feature, each at its own
    /// threshold. Evaluation then reads one column per level instead of one per node.
    #[serde(default)]
    pub level_feature: bool,
    /// Most trees; early stopping usually ends sooner.
    pub trees: usize,
    pub depth: usize,
    pub learning_rate: f64,
    /// L2 regularisation of leaf values.
    pub lambda: f64,
    /// Least hessian sum in a child for a node's split to count.
    pub min_child_weight: f64,
    /// Least loss reduction for a level's split.
    pub min_gain: f64,
    /// Share of rows each tree sees.
    pub subsample: f64,
    /// Share of features each tree may split on.
    pub colsample: f64,
    /// Histogram bins per feature (at most 256).
    pub bins: usize,
    /// Stop when the early-stopping loss has not improved for this many trees.
    pub early_stopping: usize,
    pub seed: u64,
    /// Models trained with seeds `seed`, `seed + 1`, … and averaged (bagging): less
    /// variance, proportionally more trees to evaluate.
    #[serde(default = "one")]
    pub bag: usize,
}

fn one() -> usize {
    1
}

impl Default for Params {
    fn default() -> Self {
        Self {
            // Chosen for quality on the early-stopping rows; the other shapes evaluate
            // faster and score lower (docs/fraud-model.md has the figures).
            kind: TreeKind::Depthwise,
            level_feature: false,
            trees: 1000,
            depth: 6,
            // Chosen on a split inside the training months, never on the held-out rows:
            // stronger L2 keeps the leaves from trusting the training months too much, and
            // the higher rate buys back the trees it costs (docs/benchmarks.md).
            learning_rate: 0.2,
            lambda: 10.0,
            min_child_weight: 1.0,
            min_gain: 0.0,
            subsample: 0.8,
            colsample: 0.8,
            bins: 256,
            early_stopping: 60,
            seed: 1,
            bag: 1,
        }
    }
}

/// The trees in flat arrays. Tree `t` splits level `l` on `feature[t·d + l]` at
/// `threshold[t·d + l]` (right when the value is greater); its leaves are
/// `leaf[t·L .. (t+1)·L]` with `L = 2^d`, indexed by the comparison bits, first level
/// most significant. `node_value` holds, per tree, the value of each internal node in heap
/// order (`2^d − 1` of them), for path-based feature contributions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ensemble {
    #[serde(default)]
    pub kind: TreeKind,
    pub depth: u32,
    /// Raw score (log-odds) before any tree.
    pub base: f32,
    pub feature: Vec<u16>,
    pub threshold: Vec<f32>,
    pub node_value: Vec<f32>,
    pub leaf: Vec<f32>,
}

/// A mask of the first `n` of 16 lanes.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn live_lanes(n: usize) -> u16 {
    if n >= 16 { u16::MAX } else { (1u16 << n) - 1 }
}

/// A block of up to `LANES` rows as columns (missing rows are zeros).
#[inline(always)]
fn transpose<const LANES: usize>(rows: &[Features]) -> [[f32; LANES]; WIDTH] {
    let mut columns = [[0f32; LANES]; WIDTH];
    for (r, x) in rows.iter().enumerate().take(LANES) {
        for (f, v) in x.iter().enumerate() {
            columns[f][r] = *v;
        }
    }
    columns
}

#[inline]
fn padded(x: &Features) -> [f32; WIDTH] {
    let mut row = [0f32; WIDTH];
    row[..N_FEATURES].copy_from_slice(x);
    row
}

impl Ensemble {
    fn internal(&self) -> usize {
        (1usize << self.depth) - 1
    }

    pub fn trees(&self) -> usize {
        self.leaf.len() >> self.depth
    }

    /// Split entries per tree: one per level, or one per internal node plus one unused
    /// (a power of two, so that a tree's splits load as whole vectors).
    fn splits(&self) -> usize {
        match self.kind {
            TreeKind::Oblivious => self.depth as usize,
            TreeKind::Depthwise => 1 << self.depth,
        }
    }

    /// Checks the arrays fit together.
    pub fn validate(&self) -> Result<(), Error> {
        if !(1..=12).contains(&self.depth) {
            return Err(Error::Model(format!(
                "tree depth {} is not 1–12",
                self.depth
            )));
        }
        let (d, t) = (self.depth as usize, self.trees());
        let sizes_ok = self.leaf.len() == t << d
            && self.feature.len() == t * self.splits()
            && self.threshold.len() == t * self.splits()
            && self.node_value.len() == t * self.internal();
        if !sizes_ok {
            return Err(Error::Model("tree arrays have inconsistent lengths".into()));
        }
        if self.feature.iter().any(|f| *f as usize >= N_FEATURES) {
            return Err(Error::Model(format!(
                "a split names a feature beyond the {N_FEATURES} known"
            )));
        }
        Ok(())
    }

    /// The average of `models` (same shape) as one ensemble: their trees one after another,
    /// each leaf and node value divided by their number, so that a row's raw score is the
    /// mean of theirs and its path contributions the mean of theirs too.
    pub fn average(models: &[Ensemble]) -> Result<Ensemble, Error> {
        let Some(first) = models.first() else {
            return Err(Error::Model("no models to average".into()));
        };
        if models
            .iter()
            .any(|m| m.kind != first.kind || m.depth != first.depth)
        {
            return Err(Error::Model("averaged models differ in shape".into()));
        }
        let scale = 1.0 / models.len() as f32;
        let mut out = Ensemble {
            kind: first.kind,
            depth: first.depth,
            base: models.iter().map(|m| m.base).sum::<f32>() * scale,
            feature: Vec::new(),
            threshold: Vec::new(),
            node_value: Vec::new(),
            leaf: Vec::new(),
        };
        for m in models {
            out.feature.extend_from_slice(&m.feature);
            out.threshold.extend_from_slice(&m.threshold);
            out.node_value
                .extend(m.node_value.iter().map(|v| v * scale));
            out.leaf.extend(m.leaf.iter().map(|v| v * scale));
        }
        out.validate()?;
        Ok(out)
    }

    /// The part of a score no feature explains: the base plus every tree's root value.
    pub fn bias(&self) -> f32 {
        self.base
            + self
                .node_value
                .chunks_exact(self.internal())
                .map(|v| v[0])
                .sum::<f32>()
    }
}

pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

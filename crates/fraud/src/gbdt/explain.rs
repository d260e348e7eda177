//! Per-feature contributions to a score along each tree's path, for the reasons.

use super::{Ensemble, TreeKind, WIDTH, padded};
use crate::features::{Features, N_FEATURES};

/// Per-feature contributions to the raw score along each tree's path (Saabas), with each
/// leaf's path precomputed: a row's contributions are then its leaves (found as in
/// prediction, or by the blocked kernel) plus `depth` additions per tree. They add up to
/// `predict_raw(x) − bias()`, so one pass gives both score and reasons.
#[derive(Debug, Clone)]
pub struct Explainer {
    ensemble: Ensemble,
    /// Per tree and leaf, `depth` entries: each feature split on along the leaf's path,
    /// and the change in node value its splits made.
    feature: Vec<u8>,
    delta: Vec<f32>,
    bias: f32,
}

/// The accumulator slot that padding entries of a path add to (no feature has it).
pub(super) const UNUSED_SLOT: u8 = WIDTH as u8 - 1;
const _: () = assert!(N_FEATURES < WIDTH);

/// Rows per call of the blocked leaf kernel: their leaf indices stay in the L1 cache.
#[cfg(target_arch = "x86_64")]
pub(super) const EXPLAIN_BLOCK: usize = 64;

impl Explainer {
    pub fn new(ensemble: Ensemble) -> Self {
        let d = ensemble.depth as usize;
        let (internal, splits) = (ensemble.internal(), ensemble.splits());
        let leaves = 1usize << d;
        let mut feature = Vec::with_capacity(ensemble.leaf.len() * d);
        let mut delta = Vec::with_capacity(ensemble.leaf.len() * d);
        for tree in 0..ensemble.trees() {
            let values = &ensemble.node_value[tree * internal..(tree + 1) * internal];
            for leaf in 0..leaves {
                let (mut node, mut value) = (0usize, values[0]);
                let start = feature.len();
                for level in 0..d {
                    let k = match ensemble.kind {
                        TreeKind::Oblivious => tree * splits + level,
                        TreeKind::Depthwise => tree * splits + node,
                    };
                    let child = 2 * node + 1 + ((leaf >> (d - 1 - level)) & 1);
                    let child_value = if level + 1 == d {
                        ensemble.leaf[tree * leaves + leaf]
                    } else {
                        values[child]
                    };
                    // A feature met again on the path adds to its first entry, so that a
                    // row's additions to one feature do not wait on each other; the freed
                    // entries go to an unused slot.
                    let f = ensemble.feature[k] as u8;
                    match feature[start..].iter().position(|g| *g == f) {
                        Some(i) => delta[start + i] += child_value - value,
                        None => {
                            feature.push(f);
                            delta.push(child_value - value);
                        }
                    }
                    (node, value) = (child, child_value);
                }
                feature.resize(start + d, UNUSED_SLOT);
                delta.resize(start + d, 0.0);
            }
        }
        let bias = ensemble.bias();
        Self {
            ensemble,
            feature,
            delta,
            bias,
        }
    }

    /// The part of a score no feature explains (see [`Ensemble::bias`]).
    pub fn bias(&self) -> f32 {
        self.bias
    }

    /// Adds the paths of the leaves that `group(first)` names for trees `first..first + 4`
    /// and `leaf(tree)` for the trees after the last whole group. Tree `t` adds into
    /// accumulator `t mod 4`, so that consecutive trees' additions do not queue on each
    /// other; the single-row and blocked paths share this order and so agree to the bit.
    #[inline(always)]
    pub(super) fn add_paths(
        &self,
        mut group: impl FnMut(usize) -> [usize; 4],
        mut leaf: impl FnMut(usize) -> usize,
    ) -> [f32; N_FEATURES] {
        let d = self.ensemble.depth as usize;
        let trees = self.ensemble.trees();
        let mut out = [[0f32; WIDTH]; 4];
        let mut add = |tree: usize, leaf: usize| {
            let at = ((tree << d) + leaf) * d;
            let acc = &mut out[tree & 3];
            for (f, delta) in self.feature[at..at + d].iter().zip(&self.delta[at..at + d]) {
                acc[*f as usize & (WIDTH - 1)] += delta;
            }
        };
        let grouped = trees / 4 * 4;
        for first in (0..grouped).step_by(4) {
            for (j, l) in group(first).into_iter().enumerate() {
                add(first + j, l);
            }
        }
        for tree in grouped..trees {
            add(tree, leaf(tree));
        }
        std::array::from_fn(|f| (out[0][f] + out[1][f]) + (out[2][f] + out[3][f]))
    }

    /// Contributions of one row.
    pub fn contributions(&self, x: &Features) -> [f32; N_FEATURES] {
        let e = &self.ensemble;
        let row = padded(x);
        if e.kind == TreeKind::Oblivious {
            return self.add_paths(
                |first| std::array::from_fn(|j| e.oblivious_leaf(first + j, &row)),
                |tree| e.oblivious_leaf(tree, &row),
            );
        }
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports AVX-512F, checked just above.
            return unsafe { self.contributions_avx512(&row) };
        }
        self.contributions_portable(&row)
    }

    /// [`Explainer::contributions`] of depthwise trees without AVX-512.
    pub(super) fn contributions_portable(&self, row: &[f32; WIDTH]) -> [f32; N_FEATURES] {
        let e = &self.ensemble;
        // Four trees walked together, as in prediction, then their paths added.
        self.add_paths(
            |first| e.depthwise_leaves::<4>(first, row),
            |tree| e.depthwise_leaves::<1>(tree, row)[0],
        )
    }

    /// [`Explainer::contributions`] of depthwise trees with AVX-512: 32 trees' leaves at a
    /// time, as in prediction, handed out four by four. A function of its own so that the
    /// leaf kernel is inlined into it.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    pub(super) fn contributions_avx512(&self, row: &[f32; WIDTH]) -> [f32; N_FEATURES] {
        let e = &self.ensemble;
        // The last trees (fewer than four) are walked alone.
        let mut block = (usize::MAX, [0u32; 32]);
        self.add_paths(
            |first| {
                let from = first / 32 * 32;
                if block.0 != from {
                    // SAFETY: the CPU supports AVX-512F (the caller checked); each store
                    // writes 16 u32s to its half of an array of 32.
                    unsafe {
                        let found = e.depthwise_leaves16::<2>(from, row);
                        for (half, (_, leaves, _)) in block.1.chunks_exact_mut(16).zip(found) {
                            std::arch::x86_64::_mm512_storeu_si512(
                                half.as_mut_ptr().cast(),
                                leaves,
                            );
                        }
                    }
                    block.0 = from;
                }
                std::array::from_fn(|j| block.1[first % 32 + j] as usize)
            },
            |tree| e.depthwise_leaves::<1>(tree, row)[0],
        )
    }

    /// Contributions of many rows: with depth-6 depthwise trees on AVX2, the leaves come
    /// from the blocked prediction kernel.
    pub fn contributions_batch(&self, rows: &[Features], out: &mut [[f32; N_FEATURES]]) {
        assert_eq!(rows.len(), out.len(), "one output per row");
        #[cfg(target_arch = "x86_64")]
        if self.ensemble.kind == TreeKind::Depthwise
            && self.ensemble.depth == 6
            && std::arch::is_x86_feature_detected!("avx2")
        {
            let e = &self.ensemble;
            let trees = e.trees();
            let mut leaves = vec![0u16; EXPLAIN_BLOCK * trees];
            for (rows, out) in rows
                .chunks(EXPLAIN_BLOCK)
                .zip(out.chunks_mut(EXPLAIN_BLOCK))
            {
                let leaves = &mut leaves[..rows.len() * trees];
                // SAFETY: the CPU supports AVX2, checked just above.
                unsafe { e.predict_depthwise_avx2::<true>(rows, &mut [], leaves) };
                for (o, leaves) in out.iter_mut().zip(leaves.chunks_exact(trees)) {
                    let leaf = |tree: usize| usize::from(leaves[tree]);
                    *o = self.add_paths(|first| std::array::from_fn(|j| leaf(first + j)), leaf);
                }
            }
            return;
        }
        for (x, o) in rows.iter().zip(out.iter_mut()) {
            *o = self.contributions(x);
        }
    }
}

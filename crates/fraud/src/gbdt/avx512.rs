//! The AVX-512 kernels: one row with 32 depthwise trees at a time, and blocks of sixteen
//! rows per vector for both tree shapes.
#![cfg(target_arch = "x86_64")]

use super::{Ensemble, WIDTH, live_lanes, padded, transpose};
use crate::features::Features;

impl Ensemble {
    /// One row's raw score with 32 depthwise trees at a time, one per lane of two vectors.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    pub(super) fn predict_raw_depthwise_avx512(&self, x: &Features) -> f32 {
        use std::arch::x86_64::*;
        let row = padded(x);
        let trees = self.trees();
        let mut sum = _mm512_setzero_ps();
        for first in (0..trees).step_by(32) {
            for (at, leaves, live) in self.depthwise_leaves16::<2>(first, &row) {
                // SAFETY: live lanes index leaf `leaves` of their tree, within the leaf
                // array (`validate` checked its length); dead lanes load nothing.
                let values = unsafe {
                    _mm512_mask_i32gather_ps::<4>(
                        _mm512_setzero_ps(),
                        live,
                        _mm512_add_epi32(at, leaves),
                        self.leaf.as_ptr().cast(),
                    )
                };
                sum = _mm512_add_ps(sum, values);
            }
        }
        self.base + _mm512_reduce_add_ps(sum)
    }

    /// The leaves (as indices within their trees) that the depthwise trees
    /// `first..first + 16·G` send `row` to, one tree per lane of `G` vectors; with each
    /// lane's tree's offset in the split and leaf arrays, and the vector's live lanes (those
    /// with a tree; the others load nothing). The row's value
    /// for each lane's split comes from a permute of the row (two registers), the split
    /// from gathers; `G` vectors walk at once so that their gathers overlap.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    #[inline]
    pub(super) fn depthwise_leaves16<const G: usize>(
        &self,
        first: usize,
        row: &[f32; WIDTH],
    ) -> [(
        std::arch::x86_64::__m512i,
        std::arch::x86_64::__m512i,
        std::arch::x86_64::__mmask16,
    ); G] {
        use std::arch::x86_64::*;
        let nodes = self.internal() + 1;
        let live: [__mmask16; G] =
            std::array::from_fn(|g| live_lanes(self.trees().saturating_sub(first + 16 * g)));
        let internal = _mm512_set1_epi32(self.internal() as i32);
        let (one, feature_mask) = (_mm512_set1_epi32(1), _mm512_set1_epi32(WIDTH as i32 - 1));
        let lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        let at: [__m512i; G] = std::array::from_fn(|g| {
            _mm512_add_epi32(
                _mm512_set1_epi32(((first + 16 * g) * nodes) as i32),
                _mm512_mullo_epi32(lane, _mm512_set1_epi32(nodes as i32)),
            )
        });
        // SAFETY: the row holds WIDTH = 32 floats, two registers' worth.
        let (low, high) = unsafe {
            (
                _mm512_loadu_ps(row.as_ptr()),
                _mm512_loadu_ps(row.as_ptr().add(16)),
            )
        };
        let mut node = [_mm512_setzero_si512(); G];
        for _ in 0..self.depth {
            for g in 0..G {
                let k = _mm512_add_epi32(at[g], _mm512_and_si512(node[g], internal));
                // SAFETY: for a live lane `k` is an internal node of its tree, below the
                // tree's last split entry (an unused one, see `splits`), so the 4 bytes read
                // at the u16 `feature[k]` end within the array; the high half is masked off.
                let (feature, threshold) = unsafe {
                    (
                        _mm512_mask_i32gather_epi32::<2>(
                            _mm512_setzero_si512(),
                            live[g],
                            k,
                            self.feature.as_ptr().cast(),
                        ),
                        _mm512_mask_i32gather_ps::<4>(
                            _mm512_setzero_ps(),
                            live[g],
                            k,
                            self.threshold.as_ptr().cast(),
                        ),
                    )
                };
                let value =
                    _mm512_permutex2var_ps(low, _mm512_and_si512(feature, feature_mask), high);
                let right = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(value, threshold);
                let next = _mm512_add_epi32(_mm512_add_epi32(node[g], node[g]), one);
                node[g] = _mm512_mask_add_epi32(next, right, next, one);
            }
        }
        std::array::from_fn(|g| {
            (
                at[g],
                _mm512_and_si512(_mm512_sub_epi32(node[g], internal), internal),
                live[g],
            )
        })
    }

    /// Depth-6 depthwise trees, sixteen rows per vector and two vectors per pass: a tree's
    /// 64 split features, thresholds and leaves sit in four registers each and are looked
    /// up with permutes. The rows' values come from the block's columns: a level of a tree
    /// splits on only a few distinct features, so each lane's value is blended in from
    /// those few columns, which is cheaper than a gather.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    pub(super) fn predict_depthwise_avx512(&self, rows: &[Features], out: &mut [f32]) {
        use std::arch::x86_64::*;
        const LANES: usize = 16;
        const VECTORS: usize = 4;
        const NODES: usize = 64;
        const DEPTH: usize = 6;
        let step = LANES * VECTORS;
        let full = rows.len() / step * step;
        let used = self.level_feature_sets::<DEPTH>();
        let (one, upper) = (_mm512_set1_epi32(1), _mm512_set1_epi32(32));
        let lookup = |regs: &[__m512; 4], index: __m512i| -> __m512 {
            let low = _mm512_permutex2var_ps(regs[0], index, regs[1]);
            let high = _mm512_permutex2var_ps(regs[2], index, regs[3]);
            _mm512_mask_blend_ps(_mm512_test_epi32_mask(index, upper), low, high)
        };
        for (rows32, out) in rows[..full]
            .chunks_exact(step)
            .zip(out[..full].chunks_exact_mut(step))
        {
            let mut column = [[_mm512_setzero_ps(); WIDTH]; VECTORS];
            for (v, rows16) in rows32.chunks_exact(LANES).enumerate() {
                let columns = transpose::<LANES>(rows16);
                for (c, values) in column[v].iter_mut().zip(&columns) {
                    // SAFETY: each column holds exactly LANES floats.
                    *c = unsafe { _mm512_loadu_ps(values.as_ptr()) };
                }
            }
            let mut sums = [_mm512_set1_ps(self.base); VECTORS];
            for (((feature, threshold), leaf), sets) in self
                .feature
                .chunks_exact(NODES)
                .zip(self.threshold.chunks_exact(NODES))
                .zip(self.leaf.chunks_exact(NODES))
                .zip(&used)
            {
                // SAFETY: each chunk holds exactly 64 elements, read as four runs of 16.
                let (f, t, l) = unsafe {
                    let load_features = |k: usize| {
                        _mm512_castsi512_ps(_mm512_cvtepu16_epi32(_mm256_loadu_si256(
                            feature.as_ptr().add(16 * k).cast(),
                        )))
                    };
                    let load = |p: *const f32| {
                        [
                            _mm512_loadu_ps(p),
                            _mm512_loadu_ps(p.add(16)),
                            _mm512_loadu_ps(p.add(32)),
                            _mm512_loadu_ps(p.add(48)),
                        ]
                    };
                    (
                        [
                            load_features(0),
                            load_features(1),
                            load_features(2),
                            load_features(3),
                        ],
                        load(threshold.as_ptr()),
                        load(leaf.as_ptr()),
                    )
                };
                // All vectors walk a level together, so the loop over the level's features
                // (whose length varies by tree) runs once for them all.
                let mut node = [_mm512_setzero_si512(); VECTORS];
                for (level, set) in sets.iter().enumerate() {
                    // Levels 0–4 use nodes 0–30: one two-register permute finds them.
                    let find = |regs: &[__m512; 4], index: __m512i| {
                        if level < 5 {
                            _mm512_permutex2var_ps(regs[0], index, regs[1])
                        } else {
                            lookup(regs, index)
                        }
                    };
                    let set = *set;
                    let first = set.trailing_zeros() as usize & (WIDTH - 1);
                    let mut x: [__m512; VECTORS] = std::array::from_fn(|v| column[v][first]);
                    let mut remaining = set & set.wrapping_sub(1);
                    if remaining != 0 {
                        // Several features on this level: blend each lane's from its column.
                        let split: [__m512i; VECTORS] =
                            std::array::from_fn(|v| _mm512_castps_si512(find(&f, node[v])));
                        while remaining != 0 {
                            let k = remaining.trailing_zeros();
                            let wanted = _mm512_set1_epi32(k as i32);
                            for v in 0..VECTORS {
                                let here = _mm512_cmpeq_epi32_mask(split[v], wanted);
                                x[v] = _mm512_mask_blend_ps(
                                    here,
                                    x[v],
                                    column[v][k as usize & (WIDTH - 1)],
                                );
                            }
                            remaining &= remaining - 1;
                        }
                    }
                    for v in 0..VECTORS {
                        let right = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(x[v], find(&t, node[v]));
                        let n = _mm512_add_epi32(_mm512_add_epi32(node[v], node[v]), one);
                        node[v] = _mm512_mask_add_epi32(n, right, n, one);
                    }
                }
                for v in 0..VECTORS {
                    // Leaves are nodes 63..126: their index is node − 63.
                    let index = _mm512_sub_epi32(node[v], _mm512_set1_epi32(63));
                    sums[v] = _mm512_add_ps(sums[v], lookup(&l, index));
                }
            }
            for (sum, out) in sums.iter().zip(out.chunks_exact_mut(LANES)) {
                // SAFETY: `out` is a chunk of exactly LANES floats.
                unsafe { _mm512_storeu_ps(out.as_mut_ptr(), *sum) };
            }
        }
        for (x, o) in rows[full..].iter().zip(out[full..].iter_mut()) {
            *o = self.predict_raw_depthwise(x);
        }
    }

    /// Sixteen rows per vector, two vectors per pass over the trees (so each tree's
    /// splits and leaves are read once per 32 rows): a level is one compare into a mask
    /// and one masked add.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    pub(super) fn predict_raw_batch_avx512(&self, rows: &[Features], out: &mut [f32]) {
        use std::arch::x86_64::*;
        const LANES: usize = 16;
        const VECTORS: usize = 2;
        let d = self.depth as usize;
        let leaves_per_tree = 1usize << d;
        let mask = _mm512_set1_epi32((leaves_per_tree - 1) as i32);
        // The first level is the most significant bit of the leaf index.
        let level_bit: Vec<__m512i> = (0..d)
            .map(|l| _mm512_set1_epi32(1 << (d - 1 - l)))
            .collect();
        let step = LANES * VECTORS;
        let full = rows.len() / step * step;
        for (block, out) in rows[..full]
            .chunks_exact(step)
            .zip(out[..full].chunks_exact_mut(step))
        {
            let mut column = [[_mm512_setzero_ps(); WIDTH]; VECTORS];
            for (v, rows) in block.chunks_exact(LANES).enumerate() {
                let columns = transpose::<LANES>(rows);
                for (c, values) in column[v].iter_mut().zip(&columns) {
                    // SAFETY: each column holds exactly LANES floats.
                    *c = unsafe { _mm512_loadu_ps(values.as_ptr()) };
                }
            }
            let mut sums = [_mm512_set1_ps(self.base); VECTORS];
            for ((feature, threshold), leaf) in self
                .feature
                .chunks_exact(d)
                .zip(self.threshold.chunks_exact(d))
                .zip(self.leaf.chunks_exact(leaves_per_tree))
            {
                let mut index = [_mm512_setzero_si512(); VECTORS];
                for ((f, t), bit) in feature.iter().zip(threshold).zip(&level_bit) {
                    let t = _mm512_set1_ps(*t);
                    for v in 0..VECTORS {
                        let greater =
                            _mm512_cmp_ps_mask::<_CMP_GT_OQ>(column[v][*f as usize % WIDTH], t);
                        index[v] = _mm512_mask_add_epi32(index[v], greater, index[v], *bit);
                    }
                }
                if leaves_per_tree == 64 {
                    // 64 leaves fit in four registers: two 32-entry permutes and a blend on
                    // bit 5 are cheaper than a gather.
                    // SAFETY: `leaf` holds exactly 64 floats, read as four runs of 16.
                    let (l0, l1, l2, l3) = unsafe {
                        let p = leaf.as_ptr();
                        (
                            _mm512_loadu_ps(p),
                            _mm512_loadu_ps(p.add(16)),
                            _mm512_loadu_ps(p.add(32)),
                            _mm512_loadu_ps(p.add(48)),
                        )
                    };
                    for v in 0..VECTORS {
                        let low = _mm512_permutex2var_ps(l0, index[v], l1);
                        let high = _mm512_permutex2var_ps(l2, index[v], l3);
                        let upper = _mm512_test_epi32_mask(index[v], _mm512_set1_epi32(32));
                        sums[v] = _mm512_add_ps(sums[v], _mm512_mask_blend_ps(upper, low, high));
                    }
                } else {
                    for v in 0..VECTORS {
                        let index = _mm512_and_si512(index[v], mask);
                        // SAFETY: `leaf` has `leaves_per_tree` elements and every index is masked below that.
                        let values = unsafe { _mm512_i32gather_ps::<4>(index, leaf.as_ptr()) };
                        sums[v] = _mm512_add_ps(sums[v], values);
                    }
                }
            }
            for (sum, out) in sums.iter().zip(out.chunks_exact_mut(LANES)) {
                // SAFETY: `out` is a chunk of exactly LANES floats.
                unsafe { _mm512_storeu_ps(out.as_mut_ptr(), *sum) };
            }
        }
        self.predict_raw_batch_portable(&rows[full..], &mut out[full..]);
    }
}

//! The AVX2 kernels: blocks of eight rows per vector for both tree shapes.
#![cfg(target_arch = "x86_64")]

use super::{Ensemble, WIDTH, padded, transpose};
use crate::features::Features;

impl Ensemble {
    /// Depth-6 depthwise trees on AVX2, eight rows per vector and four vectors per pass.
    /// Each lane keeps its node's index within the level; the level's thresholds and split
    /// features (at most 32) are looked up with in-register permutes and blends rather
    /// than gathers, and each lane's value is blended in from the few columns the level
    /// splits on. The leaves, 64 per tree, are looked up the same way.
    ///
    /// With `LEAVES`, it writes each row's leaf index per tree to `leaves` (row-major,
    /// `rows × trees`) instead of raw scores to `out`, which is then not used.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    pub(super) fn predict_depthwise_avx2<const LEAVES: bool>(
        &self,
        rows: &[Features],
        out: &mut [f32],
        leaves: &mut [u16],
    ) {
        use std::arch::x86_64::*;
        const LANES: usize = 8;
        const VECTORS: usize = 4;
        const NODES: usize = 64;
        const DEPTH: usize = 6;
        let step = LANES * VECTORS;
        let full = rows.len() / step * step;
        let used = self.level_feature_sets::<DEPTH>();
        // Split features as i32 so that they permute like the thresholds.
        let features: Vec<i32> = self
            .feature
            .iter()
            .map(|f| i32::from(*f) & (WIDTH as i32 - 1))
            .collect();
        // Level `level`'s entry `r` of a tree's heap-ordered table (`2^level` entries from
        // `2^level − 1`): a permute by the low three bits of `r`, and blends on bits 3 and 4.
        #[inline]
        #[target_feature(enable = "avx2")]
        unsafe fn lookup(table: *const f32, level: usize, r: __m256i) -> __m256 {
            // SAFETY: the caller passes a tree's 64-entry chunk as `table`; every load below
            // reads entries `2^level − 1 .. 2^level + 7` or, on levels 4 and 5, runs of 8
            // inside the level's `2^level` entries, all below 64.
            unsafe {
                let at = table.add((1 << level) - 1);
                let permute =
                    |k: usize| _mm256_permutevar8x32_ps(_mm256_loadu_ps(at.add(8 * k)), r);
                let bit = |shift: i32| match shift {
                    3 => _mm256_castsi256_ps(_mm256_slli_epi32::<28>(r)),
                    _ => _mm256_castsi256_ps(_mm256_slli_epi32::<27>(r)),
                };
                match level {
                    0 => _mm256_broadcast_ss(&*at),
                    1..=3 => permute(0),
                    4 => _mm256_blendv_ps(permute(0), permute(1), bit(3)),
                    _ => {
                        let low = _mm256_blendv_ps(permute(0), permute(1), bit(3));
                        let high = _mm256_blendv_ps(permute(2), permute(3), bit(3));
                        _mm256_blendv_ps(low, high, bit(4))
                    }
                }
            }
        }
        // Entry `r` (< 64) of a tree's leaves: eight permutes and seven blends, cheaper
        // here than a gather.
        #[inline]
        #[target_feature(enable = "avx2")]
        unsafe fn leaf64(leaf: *const f32, r: __m256i) -> __m256 {
            // SAFETY: the caller passes `leaf` pointing at 64 floats.
            unsafe {
                let p = |k: usize| _mm256_permutevar8x32_ps(_mm256_loadu_ps(leaf.add(8 * k)), r);
                let b3 = _mm256_castsi256_ps(_mm256_slli_epi32::<28>(r));
                let b4 = _mm256_castsi256_ps(_mm256_slli_epi32::<27>(r));
                let b5 = _mm256_castsi256_ps(_mm256_slli_epi32::<26>(r));
                let q0 = _mm256_blendv_ps(
                    _mm256_blendv_ps(p(0), p(1), b3),
                    _mm256_blendv_ps(p(2), p(3), b3),
                    b4,
                );
                let q1 = _mm256_blendv_ps(
                    _mm256_blendv_ps(p(4), p(5), b3),
                    _mm256_blendv_ps(p(6), p(7), b3),
                    b4,
                );
                _mm256_blendv_ps(q0, q1, b5)
            }
        }
        let trees = self.trees();
        for (b, block) in rows[..full].chunks_exact(step).enumerate() {
            let mut column = [[_mm256_setzero_ps(); WIDTH]; VECTORS];
            for (v, rows8) in block.chunks_exact(LANES).enumerate() {
                let columns = transpose::<LANES>(rows8);
                for (c, values) in column[v].iter_mut().zip(&columns) {
                    // SAFETY: each column holds exactly LANES floats.
                    *c = unsafe { _mm256_loadu_ps(values.as_ptr()) };
                }
            }
            let mut sums = [_mm256_set1_ps(self.base); VECTORS];
            for (tree, (((feature, threshold), leaf), sets)) in features
                .chunks_exact(NODES)
                .zip(self.threshold.chunks_exact(NODES))
                .zip(self.leaf.chunks_exact(NODES))
                .zip(&used)
                .enumerate()
            {
                let mut r = [_mm256_setzero_si256(); VECTORS];
                for (level, set) in sets.iter().enumerate() {
                    let set = *set;
                    let first = set.trailing_zeros() as usize & (WIDTH - 1);
                    let mut x: [__m256; VECTORS] = std::array::from_fn(|v| column[v][first]);
                    let mut remaining = set & set.wrapping_sub(1);
                    if remaining != 0 {
                        // Several features on this level: blend each lane's from its column.
                        // SAFETY: `feature` is this tree's 64-entry chunk (see `lookup`).
                        let split: [__m256i; VECTORS] = std::array::from_fn(|v| unsafe {
                            _mm256_castps_si256(lookup(feature.as_ptr().cast(), level, r[v]))
                        });
                        while remaining != 0 {
                            let k = remaining.trailing_zeros();
                            let wanted = _mm256_set1_epi32(k as i32);
                            for v in 0..VECTORS {
                                let here = _mm256_cmpeq_epi32(split[v], wanted);
                                x[v] = _mm256_blendv_ps(
                                    x[v],
                                    column[v][k as usize & (WIDTH - 1)],
                                    _mm256_castsi256_ps(here),
                                );
                            }
                            remaining &= remaining - 1;
                        }
                    }
                    for v in 0..VECTORS {
                        // SAFETY: `threshold` is this tree's 64-entry chunk (see `lookup`).
                        let t = unsafe { lookup(threshold.as_ptr(), level, r[v]) };
                        let right = _mm256_castps_si256(_mm256_cmp_ps::<_CMP_GT_OQ>(x[v], t));
                        // Right is all ones (−1): subtracting it adds one.
                        r[v] = _mm256_sub_epi32(_mm256_add_epi32(r[v], r[v]), right);
                    }
                }
                if LEAVES {
                    for (v, r) in r.iter().enumerate() {
                        let mut lanes = [0i32; LANES];
                        // SAFETY: `lanes` holds exactly LANES i32s.
                        unsafe { _mm256_storeu_si256(lanes.as_mut_ptr().cast(), *r) };
                        for (lane, index) in lanes.iter().enumerate() {
                            leaves[(b * step + v * LANES + lane) * trees + tree] = *index as u16;
                        }
                    }
                    continue;
                }
                for v in 0..VECTORS {
                    // SAFETY: `leaf` has 64 entries; `r` is below 64 after six levels.
                    let values = unsafe { leaf64(leaf.as_ptr(), r[v]) };
                    sums[v] = _mm256_add_ps(sums[v], values);
                }
            }
            if !LEAVES {
                let out = &mut out[b * step..(b + 1) * step];
                for (sum, out) in sums.iter().zip(out.chunks_exact_mut(LANES)) {
                    // SAFETY: `out` is a chunk of exactly LANES floats.
                    unsafe { _mm256_storeu_ps(out.as_mut_ptr(), *sum) };
                }
            }
        }
        for (i, x) in rows.iter().enumerate().skip(full) {
            if LEAVES {
                let row = padded(x);
                for tree in 0..trees {
                    leaves[i * trees + tree] = self.depthwise_leaves::<1>(tree, &row)[0] as u16;
                }
            } else {
                out[i] = self.predict_raw_depthwise(x);
            }
        }
    }

    /// Eight rows per vector: each level is one compare of a column against a broadcast
    /// threshold, and the leaves are fetched with one gather.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    pub(super) fn predict_raw_batch_avx2(&self, rows: &[Features], out: &mut [f32]) {
        use std::arch::x86_64::*;
        const LANES: usize = 8;
        let d = self.depth as usize;
        let leaves_per_tree = 1usize << d;
        let mask = _mm256_set1_epi32((leaves_per_tree - 1) as i32);
        let full = rows.len() / LANES * LANES;
        for (block, out) in rows[..full]
            .chunks_exact(LANES)
            .zip(out[..full].chunks_exact_mut(LANES))
        {
            let columns = transpose::<LANES>(block);
            let mut column = [_mm256_setzero_ps(); WIDTH];
            for (c, values) in column.iter_mut().zip(&columns) {
                // SAFETY: each column holds exactly LANES floats.
                *c = unsafe { _mm256_loadu_ps(values.as_ptr()) };
            }
            // Four sums, so that consecutive trees' additions do not wait on each other.
            let mut sums = [_mm256_setzero_ps(); 4];
            for (tree, ((feature, threshold), leaf)) in self
                .feature
                .chunks_exact(d)
                .zip(self.threshold.chunks_exact(d))
                .zip(self.leaf.chunks_exact(leaves_per_tree))
                .enumerate()
            {
                let mut index = _mm256_setzero_si256();
                for (f, t) in feature.iter().zip(threshold) {
                    let greater = _mm256_cmp_ps::<_CMP_GT_OQ>(
                        column[*f as usize % WIDTH],
                        _mm256_set1_ps(*t),
                    );
                    let bit = _mm256_srli_epi32::<31>(_mm256_castps_si256(greater));
                    index = _mm256_or_si256(_mm256_slli_epi32::<1>(index), bit);
                }
                // The mask keeps every lane inside this tree's leaves.
                let index = _mm256_and_si256(index, mask);
                // SAFETY: `leaf` has `leaves_per_tree` elements and every index is masked below that.
                let values = unsafe { _mm256_i32gather_ps::<4>(leaf.as_ptr(), index) };
                sums[tree % 4] = _mm256_add_ps(sums[tree % 4], values);
            }
            let sum = _mm256_add_ps(
                _mm256_add_ps(sums[0], sums[1]),
                _mm256_add_ps(sums[2], _mm256_add_ps(sums[3], _mm256_set1_ps(self.base))),
            );
            // SAFETY: `out` is a chunk of exactly LANES floats.
            unsafe { _mm256_storeu_ps(out.as_mut_ptr(), sum) };
        }
        self.predict_raw_batch_portable(&rows[full..], &mut out[full..]);
    }
}

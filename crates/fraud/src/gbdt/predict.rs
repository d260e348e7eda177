//! Evaluating the trees: one row at a time, and blocks of rows with the fastest kernel the
//! CPU has (or one a test forces).

use super::{Ensemble, TreeKind, WIDTH, padded, transpose};
use crate::features::Features;

/// The instruction set a block of rows is evaluated with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    Avx512,
    Avx2,
    /// Plain Rust, on any CPU.
    Portable,
}

impl Kernel {
    /// The fastest kernel this CPU runs.
    pub fn best() -> Self {
        // On every block: no allocation, only the cached CPU feature checks.
        [Self::Avx512, Self::Avx2]
            .into_iter()
            .find(|k| k.runs_here())
            .unwrap_or(Self::Portable)
    }

    /// Every kernel this CPU runs, fastest first.
    pub fn available() -> Vec<Self> {
        [Self::Avx512, Self::Avx2, Self::Portable]
            .into_iter()
            .filter(|k| k.runs_here())
            .collect()
    }

    /// Whether this CPU has the instructions the kernel needs.
    pub fn runs_here(self) -> bool {
        match self {
            #[cfg(target_arch = "x86_64")]
            Self::Avx512 => std::arch::is_x86_feature_detected!("avx512f"),
            #[cfg(target_arch = "x86_64")]
            Self::Avx2 => std::arch::is_x86_feature_detected!("avx2"),
            #[cfg(not(target_arch = "x86_64"))]
            Self::Avx512 | Self::Avx2 => false,
            Self::Portable => true,
        }
    }
}

impl Ensemble {
    /// Raw score (log-odds) of one row.
    #[inline]
    pub fn predict_raw(&self, x: &Features) -> f32 {
        if self.kind == TreeKind::Depthwise {
            return self.predict_raw_depthwise(x);
        }
        let row = padded(x);
        let leaves = 1usize << self.depth;
        let mut sum = self.base;
        for tree in 0..self.trees() {
            sum += self.leaf[tree * leaves + self.oblivious_leaf(tree, &row)];
        }
        sum
    }

    pub(super) fn predict_raw_depthwise(&self, x: &Features) -> f32 {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports AVX-512F, checked just above.
            return unsafe { self.predict_raw_depthwise_avx512(x) };
        }
        self.predict_raw_depthwise_portable(x)
    }

    pub(super) fn predict_raw_depthwise_portable(&self, x: &Features) -> f32 {
        // Eight trees at a time, level by level: independent walks that overlap their loads
        // (eight rather than four: 296 → 229 ns a row with 28 trees, 1,253 → 960 with 115).
        // The rest go four, then one, at a time.
        let row = padded(x);
        let trees = self.trees();
        let mut sum = self.base;
        let mut first = 0;
        while first + 8 <= trees {
            sum += self.depthwise_group::<8>(first, &row);
            first += 8;
        }
        if first + 4 <= trees {
            sum += self.depthwise_group::<4>(first, &row);
            first += 4;
        }
        for tree in first..trees {
            sum += self.depthwise_group::<1>(tree, &row);
        }
        sum
    }

    /// The sum of the leaf values that `G` consecutive depthwise trees from `first` give `row`.
    #[inline(always)]
    pub(super) fn depthwise_group<const G: usize>(&self, first: usize, row: &[f32; WIDTH]) -> f32 {
        let nodes = self.internal() + 1;
        let leaves = self.depthwise_leaves::<G>(first, row);
        (0..G)
            .map(|j| self.leaf[(first + j) * nodes + leaves[j]])
            .sum()
    }

    /// The leaves that `G` consecutive depthwise trees from `first` send `row` to, walked
    /// level by level together so that their loads overlap.
    #[inline(always)]
    pub(super) fn depthwise_leaves<const G: usize>(
        &self,
        first: usize,
        row: &[f32; WIDTH],
    ) -> [usize; G] {
        let (d, internal) = (self.depth as usize, self.internal());
        let nodes = internal + 1;
        let mut node = [0usize; G];
        for _ in 0..d {
            for (j, n) in node.iter_mut().enumerate() {
                let k = (first + j) * nodes + (*n & internal);
                let right = row[self.feature[k] as usize & (WIDTH - 1)] > self.threshold[k];
                *n = 2 * *n + 1 + usize::from(right);
            }
        }
        node.map(|n| (n - internal) & internal)
    }

    /// The leaf an oblivious tree sends `row` to: its comparison bits, first level most
    /// significant.
    #[inline(always)]
    pub(super) fn oblivious_leaf(&self, tree: usize, row: &[f32; WIDTH]) -> usize {
        let d = self.depth as usize;
        let mut index = 0usize;
        for k in tree * d..(tree + 1) * d {
            index = (index << 1)
                | usize::from(row[self.feature[k] as usize % WIDTH] > self.threshold[k]);
        }
        index & ((1 << d) - 1)
    }

    /// Raw scores of many rows, a block at a time: the block is transposed so that one
    /// level's comparison over the block is a contiguous, vectorisable loop. Uses AVX2
    /// where the CPU has it.
    pub fn predict_raw_batch(&self, rows: &[Features], out: &mut [f32]) {
        self.predict_raw_batch_with(Kernel::best(), rows, out);
    }

    /// [`Ensemble::predict_raw_batch`] with a chosen kernel (one the CPU lacks falls back to
    /// the portable code), so that tests and benchmarks can compare every kernel.
    pub fn predict_raw_batch_with(&self, kernel: Kernel, rows: &[Features], out: &mut [f32]) {
        assert_eq!(rows.len(), out.len(), "one output per row");
        let kernel = if kernel.runs_here() {
            kernel
        } else {
            Kernel::Portable
        };
        match (self.kind, kernel) {
            #[cfg(target_arch = "x86_64")]
            (TreeKind::Depthwise, Kernel::Avx512) if self.depth == 6 => {
                // SAFETY: `runs_here` checked that the CPU supports AVX-512F.
                unsafe { self.predict_depthwise_avx512(rows, out) }
            }
            #[cfg(target_arch = "x86_64")]
            (TreeKind::Depthwise, Kernel::Avx2) if self.depth == 6 => {
                // SAFETY: `runs_here` checked that the CPU supports AVX2.
                unsafe { self.predict_depthwise_avx2::<false>(rows, out, &mut []) }
            }
            // Other depths one row at a time (with 32 trees per AVX-512 vector where the
            // CPU has it).
            (TreeKind::Depthwise, Kernel::Portable) => {
                for (x, o) in rows.iter().zip(out.iter_mut()) {
                    *o = self.predict_raw_depthwise_portable(x);
                }
            }
            (TreeKind::Depthwise, _) => {
                for (x, o) in rows.iter().zip(out.iter_mut()) {
                    *o = self.predict_raw_depthwise(x);
                }
            }
            #[cfg(target_arch = "x86_64")]
            (TreeKind::Oblivious, Kernel::Avx512) => {
                // SAFETY: `runs_here` checked that the CPU supports AVX-512F.
                unsafe { self.predict_raw_batch_avx512(rows, out) }
            }
            #[cfg(target_arch = "x86_64")]
            (TreeKind::Oblivious, Kernel::Avx2) => {
                // SAFETY: `runs_here` checked that the CPU supports AVX2.
                unsafe { self.predict_raw_batch_avx2(rows, out) }
            }
            (TreeKind::Oblivious, _) => self.predict_raw_batch_portable(rows, out),
        }
    }

    /// Per depthwise tree and level, the set of features its nodes split on (bit f =
    /// feature f). Pass-through nodes (threshold `f32::MAX`) send every value left, so their
    /// feature does not matter and is left out.
    #[cfg(target_arch = "x86_64")]
    pub(super) fn level_feature_sets<const DEPTH: usize>(&self) -> Vec<[u32; DEPTH]> {
        let nodes = 1usize << DEPTH;
        self.feature
            .chunks_exact(nodes)
            .zip(self.threshold.chunks_exact(nodes))
            .map(|(features, thresholds)| {
                let mut sets = [0u32; DEPTH];
                for (level, set) in sets.iter_mut().enumerate() {
                    let nodes = (1 << level) - 1..(2 << level) - 1;
                    for (f, t) in features[nodes.clone()].iter().zip(&thresholds[nodes]) {
                        if *t != f32::MAX {
                            *set |= 1 << (*f as u32 & 31);
                        }
                    }
                }
                sets
            })
            .collect()
    }

    #[inline(always)]
    pub(super) fn predict_raw_batch_portable(&self, rows: &[Features], out: &mut [f32]) {
        const BLOCK: usize = 16;
        let d = self.depth as usize;
        let mask = (1u32 << d) - 1;
        for (rows, out) in rows.chunks(BLOCK).zip(out.chunks_mut(BLOCK)) {
            let columns = transpose::<BLOCK>(rows);
            let mut sums = [self.base; BLOCK];
            for ((feature, threshold), leaf) in self
                .feature
                .chunks_exact(d)
                .zip(self.threshold.chunks_exact(d))
                .zip(self.leaf.chunks_exact(1 << d))
            {
                let mut index = [0u32; BLOCK];
                for (f, t) in feature.iter().zip(threshold) {
                    let column = &columns[*f as usize % WIDTH];
                    for (i, v) in index.iter_mut().zip(column) {
                        *i = (*i << 1) | u32::from(*v > *t);
                    }
                }
                for (s, i) in sums.iter_mut().zip(&index) {
                    *s += leaf[(*i & mask) as usize];
                }
            }
            out.copy_from_slice(&sums[..rows.len()]);
        }
    }
}

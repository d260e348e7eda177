//! Growing the trees: bin edges, row and feature sampling, the split search, early stopping.

use rayon::prelude::*;

use serde::{Deserialize, Serialize};

use super::{Ensemble, Params, TreeKind, sigmoid};
use crate::Error;
use crate::features::{Features, N_FEATURES};

/// Bin edges per feature: a value `x` falls in bin `b` = number of edges below it, so
/// "bin ≤ b" is "x ≤ edges[b]".
pub(super) fn bin_edges(rows: &[Features], feature: usize, bins: usize) -> Vec<f32> {
    let step = (rows.len() / 200_000).max(1); // a sample is enough for quantiles
    let mut values: Vec<f32> = rows
        .iter()
        .step_by(step)
        .map(|r| r[feature])
        .filter(|v| !v.is_nan())
        .collect();
    values.sort_by(f32::total_cmp);
    values.dedup();
    if values.len() <= bins {
        // Few distinct values: cut between each (the last needs no edge).
        return values.windows(2).map(|w| w[0]).collect();
    }
    let mut edges: Vec<f32> = (1..bins)
        .map(|k| values[k * values.len() / bins - 1])
        .collect();
    edges.dedup();
    edges
}

pub(super) struct Node {
    rows: Vec<u32>,
    g: f64,
    h: f64,
}

/// Simple xorshift generator for row and feature sampling, so that training is
/// reproducible from `Params::seed` without another dependency in the hot loop.
pub(super) struct Sampler(pub(super) u64);

impl Sampler {
    pub(super) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub(super) fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

/// How training went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainLog {
    pub trees: usize,
    pub best_validation_logloss: Option<f64>,
}

pub(super) fn logloss(raw: &[f32], y: &[f32]) -> f64 {
    raw.iter()
        .zip(y)
        .map(|(r, y)| {
            let p = f64::from(sigmoid(*r)).clamp(1e-12, 1.0 - 1e-12);
            -(f64::from(*y) * p.ln() + (1.0 - f64::from(*y)) * (1.0 - p).ln())
        })
        .sum::<f64>()
        / raw.len().max(1) as f64
}

/// Trains on `rows`/`labels` (0 or 1). With `valid`, stops early on its log loss and keeps
/// the best number of trees. `progress` is told the trees built and the validation loss.
pub fn train(
    rows: &[Features],
    labels: &[f32],
    valid: Option<(&[Features], &[f32])>,
    params: &Params,
    progress: &mut dyn FnMut(usize, Option<f64>),
) -> Result<(Ensemble, TrainLog), Error> {
    if rows.is_empty() || rows.len() != labels.len() {
        return Err(Error::Training(
            "no rows, or rows and labels differ in number".into(),
        ));
    }
    let positives = labels.iter().filter(|y| **y > 0.5).count();
    if positives == 0 || positives == rows.len() {
        return Err(Error::Training(
            "the labels must include both classes".into(),
        ));
    }
    if !(1..=12).contains(&params.depth) || !(2..=256).contains(&params.bins) {
        return Err(Error::Training("depth must be 1–12 and bins 2–256".into()));
    }
    let depth = params.depth;
    let (i_len, l_len) = ((1usize << depth) - 1, 1usize << depth);

    let edges: Vec<Vec<f32>> = (0..N_FEATURES)
        .into_par_iter()
        .map(|f| bin_edges(rows, f, params.bins))
        .collect();
    let binned: Vec<Vec<u8>> = (0..N_FEATURES)
        .into_par_iter()
        .map(|f| {
            rows.iter()
                .map(|r| edges[f].partition_point(|e| *e < r[f]) as u8)
                .collect()
        })
        .collect();

    let prior = positives as f64 / rows.len() as f64;
    let base = (prior / (1.0 - prior)).ln() as f32;
    let splits = match params.kind {
        TreeKind::Oblivious => depth,
        TreeKind::Depthwise => l_len,
    };
    let mut ensemble = Ensemble {
        kind: params.kind,
        depth: depth as u32,
        base,
        feature: Vec::new(),
        threshold: Vec::new(),
        node_value: Vec::new(),
        leaf: Vec::new(),
    };
    let mut raw = vec![base; rows.len()];
    let mut valid_raw = valid.map(|(v, _)| vec![base; v.len()]);
    let mut best: Option<(f64, usize)> = None;
    let mut sampler = Sampler(params.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let (mut grad, mut hess) = (vec![0f64; rows.len()], vec![0f64; rows.len()]);
    let leaf_value = |g: f64, h: f64| (-g / (h + params.lambda) * params.learning_rate) as f32;

    for round in 0..params.trees {
        for ((g, h), (r, y)) in grad
            .iter_mut()
            .zip(hess.iter_mut())
            .zip(raw.iter().zip(labels))
        {
            let p = f64::from(sigmoid(*r));
            *g = p - f64::from(*y);
            *h = (p * (1.0 - p)).max(1e-16);
        }
        let sampled: Vec<u32> = (0..rows.len() as u32)
            .filter(|_| sampler.chance(params.subsample))
            .collect();
        let allowed: Vec<usize> = {
            let mut a: Vec<usize> = (0..N_FEATURES)
                .filter(|_| sampler.chance(params.colsample))
                .collect();
            if a.is_empty() {
                a.push((sampler.next() % N_FEATURES as u64) as usize);
            }
            a
        };
        let (g0, h0) = sampled.iter().fold((0.0, 0.0), |(g, h), &r| {
            (g + grad[r as usize], h + hess[r as usize])
        });
        let mut level = vec![Node {
            rows: sampled,
            g: g0,
            h: h0,
        }];
        let mut feature = vec![0u16; splits];
        let mut threshold = vec![f32::MAX; splits];
        let mut node_value = vec![0f32; i_len];
        for d in 0..depth {
            for (k, node) in level.iter().enumerate() {
                node_value[(1 << d) - 1 + k] = leaf_value(node.g, node.h);
            }
            let mut next = Vec::with_capacity(level.len() * 2);
            if params.kind == TreeKind::Depthwise {
                // One feature for the whole level, or each node's own best split.
                let chosen = if params.level_feature {
                    best_level_feature(&level, &binned, &allowed, &grad, &hess, params)
                } else {
                    None
                };
                for (k, node) in level.into_iter().enumerate() {
                    let id = (1 << d) - 1 + k;
                    let split = match &chosen {
                        Some((f, bins)) => {
                            feature[id] = *f as u16; // even where the node passes through
                            bins[k].map(|b| (*f, b))
                        }
                        None if params.level_feature => None,
                        None => best_level_split(
                            std::slice::from_ref(&node),
                            &binned,
                            &allowed,
                            &grad,
                            &hess,
                            params,
                        ),
                    };
                    let (left, right) = match split {
                        Some((f, bin)) => {
                            feature[id] = f as u16;
                            threshold[id] = edges[f][bin];
                            node.rows
                                .iter()
                                .partition(|&&r| binned[f][r as usize] as usize <= bin)
                        }
                        None => (node.rows, Vec::new()), // pass-through: all go left
                    };
                    let (gl, hl) = left.iter().fold((0.0, 0.0), |(g, h), &r| {
                        (g + grad[r as usize], h + hess[r as usize])
                    });
                    let (gr, hr) = (node.g - gl, node.h - hl);
                    next.push(Node {
                        rows: left,
                        g: gl,
                        h: hl,
                    });
                    next.push(Node {
                        rows: right,
                        g: gr,
                        h: hr,
                    });
                }
                level = next;
                continue;
            }
            match best_level_split(&level, &binned, &allowed, &grad, &hess, params) {
                Some((f, bin)) => {
                    feature[d] = f as u16;
                    threshold[d] = edges[f][bin];
                    for node in level {
                        let (left, right): (Vec<u32>, Vec<u32>) = node
                            .rows
                            .iter()
                            .partition(|&&r| binned[f][r as usize] as usize <= bin);
                        let (gl, hl) = left.iter().fold((0.0, 0.0), |(g, h), &r| {
                            (g + grad[r as usize], h + hess[r as usize])
                        });
                        next.push(Node {
                            rows: left,
                            g: gl,
                            h: hl,
                        });
                        next.push(Node {
                            rows: right,
                            g: node.g - gl,
                            h: node.h - hl,
                        });
                    }
                }
                None => {
                    // Pass-through level: every row goes left; the right children stay empty.
                    for node in level {
                        next.push(node);
                        next.push(Node {
                            rows: Vec::new(),
                            g: 0.0,
                            h: 0.0,
                        });
                    }
                }
            }
            level = next;
        }
        let leaves: Vec<f32> = level.iter().map(|n| leaf_value(n.g, n.h)).collect();
        debug_assert_eq!(leaves.len(), l_len);
        ensemble.feature.extend_from_slice(&feature);
        ensemble.threshold.extend_from_slice(&threshold);
        ensemble.node_value.extend_from_slice(&node_value);
        ensemble.leaf.extend_from_slice(&leaves);

        let tree = Ensemble {
            kind: params.kind,
            depth: depth as u32,
            base: 0.0,
            feature,
            threshold,
            node_value,
            leaf: leaves,
        };
        raw.par_iter_mut()
            .zip(rows.par_iter())
            .for_each(|(r, x)| *r += tree.predict_raw(x));
        let mut loss = None;
        if let (Some((v, vy)), Some(vr)) = (valid, valid_raw.as_mut()) {
            vr.par_iter_mut()
                .zip(v.par_iter())
                .for_each(|(r, x)| *r += tree.predict_raw(x));
            let l = logloss(vr, vy);
            loss = Some(l);
            if best.is_none_or(|(b, _)| l < b) {
                best = Some((l, round + 1));
            }
        }
        progress(round + 1, loss);
        if best.is_some_and(|(_, at)| round + 1 - at >= params.early_stopping) {
            break;
        }
    }
    let kept = best.map_or(ensemble.trees(), |(_, at)| at);
    ensemble.feature.truncate(kept * splits);
    ensemble.threshold.truncate(kept * splits);
    ensemble.node_value.truncate(kept * i_len);
    ensemble.leaf.truncate(kept * l_len);
    ensemble.validate()?;
    Ok((
        ensemble,
        TrainLog {
            trees: kept,
            best_validation_logloss: best.map(|(l, _)| l),
        },
    ))
}

/// For a level of a depthwise tree with one feature per level: the feature whose nodes'
/// best thresholds gain most in total, and each node's best bin (`None`: no useful split).
pub(super) fn best_level_feature(
    level: &[Node],
    binned: &[Vec<u8>],
    allowed: &[usize],
    grad: &[f64],
    hess: &[f64],
    params: &Params,
) -> Option<(usize, Vec<Option<usize>>)> {
    let score = |g: f64, h: f64| g * g / (h + params.lambda);
    allowed
        .par_iter()
        .map(|&f| {
            let column = &binned[f];
            let mut total = 0.0;
            let bins: Vec<Option<usize>> = level
                .iter()
                .map(|node| {
                    if node.rows.len() < 2 {
                        return None;
                    }
                    let mut hist = [(0f64, 0f64); 256];
                    for &r in &node.rows {
                        let slot = &mut hist[column[r as usize] as usize];
                        slot.0 += grad[r as usize];
                        slot.1 += hess[r as usize];
                    }
                    let parent = score(node.g, node.h);
                    let (mut gl, mut hl) = (0.0, 0.0);
                    let mut best: Option<(f64, usize)> = None;
                    for (bin, (g, h)) in hist.iter().enumerate().take(255) {
                        gl += g;
                        hl += h;
                        let (gr, hr) = (node.g - gl, node.h - hl);
                        if hl < params.min_child_weight || hr < params.min_child_weight {
                            continue;
                        }
                        let gain = 0.5 * (score(gl, hl) + score(gr, hr) - parent);
                        if gain > params.min_gain && best.is_none_or(|b| gain > b.0) {
                            best = Some((gain, bin));
                        }
                    }
                    total += best.map_or(0.0, |b| b.0);
                    best.map(|b| b.1)
                })
                .collect();
            (total, f, bins)
        })
        .filter(|(total, _, _)| *total > params.min_gain)
        .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)))
        .map(|(_, f, bins)| (f, bins))
}

/// The best split for a whole level: the (feature, bin) whose gain, summed over the
/// level's nodes, is largest. A node's gain counts only when both its children keep at
/// least `min_child_weight`.
pub(super) fn best_level_split(
    level: &[Node],
    binned: &[Vec<u8>],
    allowed: &[usize],
    grad: &[f64],
    hess: &[f64],
    params: &Params,
) -> Option<(usize, usize)> {
    let score = |g: f64, h: f64| g * g / (h + params.lambda);
    allowed
        .par_iter()
        .filter_map(|&f| {
            let column = &binned[f];
            let mut gains = [0f64; 256];
            for node in level.iter().filter(|n| n.rows.len() >= 2) {
                let mut hist = [(0f64, 0f64); 256];
                for &r in &node.rows {
                    let slot = &mut hist[column[r as usize] as usize];
                    slot.0 += grad[r as usize];
                    slot.1 += hess[r as usize];
                }
                let parent = score(node.g, node.h);
                let (mut gl, mut hl) = (0.0, 0.0);
                for (gain, (g, h)) in gains.iter_mut().zip(&hist).take(255) {
                    gl += g;
                    hl += h;
                    let (gr, hr) = (node.g - gl, node.h - hl);
                    if hl >= params.min_child_weight && hr >= params.min_child_weight {
                        *gain += 0.5 * (score(gl, hl) + score(gr, hr) - parent);
                    }
                }
            }
            gains
                .iter()
                .enumerate()
                .take(255)
                .filter(|(_, g)| **g > params.min_gain)
                .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(&a.0)))
                .map(|(bin, gain)| (*gain, f, bin))
        })
        .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)))
        .map(|(_, f, bin)| (f, bin))
}

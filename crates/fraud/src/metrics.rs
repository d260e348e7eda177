//! Ranking quality of fraud scores: ROC-AUC, average precision (PR-AUC) and recall at a
//! false-positive rate. Equal scores are grouped, as `shared/tools/eval_fraud.py` does, so
//! that figures compare.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub rows: usize,
    pub fraud: usize,
    pub roc_auc: f64,
    pub pr_auc: f64,
    pub recall_at_1pct_fpr: f64,
}

/// Computes the metrics of `(score, is_fraud)` pairs; `None` without both classes.
pub fn evaluate(pairs: &[(f64, bool)]) -> Option<Metrics> {
    let positives = pairs.iter().filter(|p| p.1).count();
    let negatives = pairs.len() - positives;
    if positives == 0 || negatives == 0 {
        return None;
    }
    let mut sorted = pairs.to_vec();
    sorted.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (p, n) = (positives as f64, negatives as f64);
    let (mut tp, mut fp, mut auc, mut ap, mut recall) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let mut i = 0;
    while i < sorted.len() {
        let (mut dtp, mut dfp) = (0.0, 0.0);
        let mut j = i;
        while j < sorted.len() && sorted[j].0 == sorted[i].0 {
            if sorted[j].1 {
                dtp += 1.0;
            } else {
                dfp += 1.0;
            }
            j += 1;
        }
        auc += dfp * (tp + dtp / 2.0);
        tp += dtp;
        fp += dfp;
        if dtp > 0.0 {
            ap += dtp / p * (tp / (tp + fp));
        }
        if fp / n <= 0.01 {
            recall = tp / p;
        }
        i = j;
    }
    Some(Metrics {
        rows: pairs.len(),
        fraud: positives,
        roc_auc: auc / (p * n),
        pr_auc: ap,
        recall_at_1pct_fpr: recall,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_and_inverted_rankings() {
        let perfect = [(0.9, true), (0.8, true), (0.2, false), (0.1, false)];
        let m = evaluate(&perfect).unwrap();
        assert_eq!((m.roc_auc, m.pr_auc, m.recall_at_1pct_fpr), (1.0, 1.0, 1.0));
        let inverted = [(0.1, true), (0.2, true), (0.8, false), (0.9, false)];
        assert_eq!(evaluate(&inverted).unwrap().roc_auc, 0.0);
    }

    #[test]
    fn ties_count_half_and_one_class_is_none() {
        let tied = [(0.5, true), (0.5, false)];
        let m = evaluate(&tied).unwrap();
        assert_eq!(m.roc_auc, 0.5);
        assert_eq!(m.pr_auc, 0.5);
        assert!(evaluate(&[(0.1, true)]).is_none());
    }

    #[test]
    fn known_mixed_case() {
        // Scores 4,3,2,1 with labels 1,0,1,0: AUC 0.75, AP (1 + 2/3)/2.
        let m = evaluate(&[(4.0, true), (3.0, false), (2.0, true), (1.0, false)]).unwrap();
        assert!((m.roc_auc - 0.75).abs() < 1e-12);
        assert!((m.pr_auc - (1.0 + 2.0 / 3.0) / 2.0).abs() < 1e-12);
    }
}

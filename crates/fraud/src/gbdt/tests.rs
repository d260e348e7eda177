//! The trees learn, score and explain alike on every kernel.

use super::train::Sampler;
use super::*;

/// Rows where fraud is "amount > 500 and a new IP": a tree must find it.
fn data(n: usize, seed: u64) -> (Vec<Features>, Vec<f32>) {
    let mut s = Sampler(seed | 1);
    let mut rows = Vec::new();
    let mut labels = Vec::new();
    for _ in 0..n {
        let mut x = [0f32; N_FEATURES];
        x[0] = (s.next() % 1000) as f32;
        x[16] = (s.next() % 2) as f32;
        x[3] = (s.next() % 7) as f32; // noise
        let y = x[0] > 500.0 && x[16] > 0.5;
        rows.push(x);
        labels.push(if y { 1.0 } else { 0.0 });
    }
    (rows, labels)
}

#[test]
fn learns_a_conjunction_and_batch_matches_single() {
    let (x, y) = data(4_000, 7);
    let (vx, vy) = data(1_000, 9);
    let params = Params {
        trees: 60,
        depth: 3,
        learning_rate: 0.3,
        ..Params::default()
    };
    let (model, log) = train(&x, &y, Some((&vx, &vy)), &params, &mut |_, _| {}).unwrap();
    assert!(log.trees > 5);
    let mut batch = vec![0f32; vx.len()];
    model.predict_raw_batch(&vx, &mut batch);
    let mut errors = 0;
    for ((row, label), b) in vx.iter().zip(&vy).zip(&batch) {
        let p = sigmoid(model.predict_raw(row));
        assert!((model.predict_raw(row) - b).abs() < 1e-5);
        errors += usize::from((p > 0.5) != (*label > 0.5));
    }
    assert!(errors < 20, "{errors} errors of {}", vx.len());
}

#[test]
fn contributions_add_up_and_name_the_right_features() {
    for kind in [TreeKind::Oblivious, TreeKind::Depthwise] {
        let (x, y) = data(4_000, 3);
        let params = Params {
            trees: 30,
            depth: 4,
            kind,
            learning_rate: 0.3,
            ..Params::default()
        };
        let (model, _) = train(&x, &y, None, &params, &mut |_, _| {}).unwrap();
        let mut fraud = [0f32; N_FEATURES];
        fraud[0] = 900.0;
        fraud[16] = 1.0;
        let explainer = Explainer::new(model.clone());
        let c = explainer.contributions(&fraud);
        let total: f32 = c.iter().sum::<f32>() + explainer.bias();
        assert!((total - model.predict_raw(&fraud)).abs() < 1e-3);
        assert!(c[0] > 0.0 && c[16] > 0.0);
        assert!(c[0].max(c[16]) > c[3].abs() * 5.0);
    }
}

#[test]
fn an_averaged_bag_scores_and_explains_as_the_mean_of_its_models() {
    let (x, y) = data(4_000, 5);
    let (vx, _) = data(300, 13);
    let fit = |seed| {
        let params = Params {
            trees: 20,
            depth: 6,
            learning_rate: 0.3,
            seed,
            ..Params::default()
        };
        train(&x, &y, None, &params, &mut |_, _| {}).unwrap().0
    };
    let bag = [fit(1), fit(2), fit(3)];
    let mean = Ensemble::average(&bag).unwrap();
    assert_eq!(mean.trees(), bag.iter().map(Ensemble::trees).sum::<usize>());
    let mut batch = vec![0f32; vx.len()];
    mean.predict_raw_batch(&vx, &mut batch);
    let explainers = bag.clone().map(Explainer::new);
    let explainer = Explainer::new(mean.clone());
    for (row, b) in vx.iter().zip(&batch) {
        let expected = bag.iter().map(|m| m.predict_raw(row)).sum::<f32>() / 3.0;
        assert!((mean.predict_raw(row) - expected).abs() < 1e-4);
        assert!((b - expected).abs() < 1e-4);
        let c = explainer.contributions(row);
        let each = explainers.each_ref().map(|e| e.contributions(row));
        for (f, cf) in c.iter().enumerate() {
            let mean = each.iter().map(|e| e[f]).sum::<f32>() / 3.0;
            assert!((cf - mean).abs() < 1e-4);
        }
    }
    let mut other = bag[0].clone();
    other.depth = 5;
    assert!(Ensemble::average(&[bag[0].clone(), other]).is_err());
    assert!(Ensemble::average(&[]).is_err());
}

#[test]
fn every_batch_kernel_matches_the_single_row_path() {
    // 1,000 rows: full 32-row blocks plus a tail; depth 6 takes the permute path on
    // AVX-512 and AVX2, depth 4 the gather path, and the portable code handles the rest.
    let (x, y) = data(3_000, 11);
    let (vx, _) = data(1_000, 12);
    let shapes = [
        (4, TreeKind::Oblivious),
        (6, TreeKind::Oblivious),
        (4, TreeKind::Depthwise),
        (6, TreeKind::Depthwise),
    ];
    for (depth, kind) in shapes {
        // 29 trees: one row at a time, depthwise trees go 16 + 13 lanes (AVX-512) or
        // eight, four and one at a time (scalar).
        let params = Params {
            trees: 29,
            depth,
            kind,
            learning_rate: 0.3,
            ..Params::default()
        };
        let (model, _) = train(&x, &y, None, &params, &mut |_, _| {}).unwrap();
        let mut batch = vec![0f32; vx.len()];
        model.predict_raw_batch(&vx, &mut batch);
        // Each kernel this CPU runs, forced, against one row at a time.
        for kernel in Kernel::available() {
            let mut forced = vec![0f32; vx.len()];
            model.predict_raw_batch_with(kernel, &vx, &mut forced);
            for (row, f) in vx.iter().zip(&forced) {
                let single = model.predict_raw(row);
                assert!((single - f).abs() < 1e-4, "{kernel:?}: {single} {f}");
            }
        }
        for (row, b) in vx.iter().zip(&batch) {
            let single = model.predict_raw(row);
            assert!((single - b).abs() < 1e-4, "{single} {b}");
            if kind == TreeKind::Depthwise {
                // One row: 32 trees a vector walk (AVX-512) against the scalar walk.
                let scalar = model.predict_raw_depthwise_portable(row);
                assert!((single - scalar).abs() < 1e-4, "{single} {scalar}");
            }
        }
        // Contributions: the blocked path (leaves from the kernel) agrees with the
        // single-row walk to the bit, and both add up to the prediction.
        let explainer = Explainer::new(model.clone());
        let mut blocked = vec![[0f32; N_FEATURES]; vx.len()];
        explainer.contributions_batch(&vx, &mut blocked);
        for ((row, b), raw) in vx.iter().zip(&blocked).zip(&batch) {
            assert_eq!(explainer.contributions(row), *b);
            if kind == TreeKind::Depthwise {
                assert_eq!(explainer.contributions_portable(&padded(row)), *b);
            }
            let total = b.iter().sum::<f32>() + explainer.bias();
            assert!((total - raw).abs() < 1e-3, "{total} {raw}");
        }
    }
}

#[test]
fn rejects_one_class_and_bad_arrays() {
    let (x, _) = data(100, 1);
    let y = vec![0.0; 100];
    assert!(train(&x, &y, None, &Params::default(), &mut |_, _| {}).is_err());
    let broken = Ensemble {
        kind: TreeKind::Oblivious,
        depth: 2,
        base: 0.0,
        feature: vec![0; 2],
        threshold: vec![0.0; 2],
        node_value: vec![0.0; 3],
        leaf: vec![0.0; 3],
    };
    assert!(broken.validate().is_err());
    let bad_feature = Ensemble {
        kind: TreeKind::Oblivious,
        depth: 1,
        base: 0.0,
        feature: vec![999],
        threshold: vec![0.0],
        node_value: vec![0.0],
        leaf: vec![0.0; 2],
    };
    assert!(bad_feature.validate().is_err());
}

#!/usr/bin/env python3
"""Vigil's fraud model beside XGBoost and LightGBM on folds inside the training months.

Settings are chosen here, never on the held-out months: each fold keeps only the rows before
its end, holds out the month before that end for validation, and trains (with early stopping
on the latest rows before it, as `vigil train` splits) on the rest. Every learner sees the
same featurised rows (`vigil train --export-features`) and the same seeds; the anchors run
with their usual settings and with Vigil's L2, as in fraud_anchors.py. Prints the PR-AUC
(and tree count) per fold and seed, and each learner's mean.

usage: fraud_inner_folds.py --vigil BIN --data CSV.gz --work DIR [--fold VALIDATE_FROM:END ...]
                            [--seeds 1,2] [--refit] [-- VIGIL_TRAIN_ARGS...]
"""
import argparse
import csv
import gzip
import json
import os
import sys

import numpy as np

from fraud_anchors import fit_lgb, fit_xgb, load, metrics, run

DEFAULT_FOLDS = ["2023-10-01:2023-11-01", "2023-09-01:2023-10-01"]


def cut(data, end, path):
    """Writes the rows of `data` before `end` (an ISO date) to `path`, once."""
    if os.path.exists(path):
        return
    with gzip.open(data, "rt", newline="") as f, open(path + ".tmp", "w", newline="") as out:
        rows = csv.reader(f)
        header = next(rows)
        at = header.index("EVENT_TIMESTAMP")
        w = csv.writer(out)
        w.writerow(header)
        w.writerows(r for r in rows if r[at] < end)
    os.replace(path + ".tmp", path)


def main():
    argv = sys.argv[1:]
    vigil_args = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigil", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--fold", action="append", help="VALIDATE_FROM:END (ISO dates)")
    ap.add_argument("--seeds", default="1,2")
    ap.add_argument("--refit", action="store_true")
    a = ap.parse_args(argv)
    os.makedirs(a.work, exist_ok=True)
    seeds = [int(s) for s in a.seeds.split(",")]
    refit = [] if a.refit else ["--no-refit"]  # vigil train refits by default
    results = {}
    for fold in a.fold or DEFAULT_FOLDS:
        start, end = fold.split(":")
        rows = os.path.join(a.work, f"before-{end}.csv")
        cut(a.data, end, rows)
        feats = os.path.join(a.work, f"features-{start}-{end}")
        for i, seed in enumerate(seeds):
            model = os.path.join(a.work, f"vigil-{start}-s{seed}.json")
            # The features do not depend on the seed: export and read them once per fold.
            export = ["--export-features", feats] if i == 0 else []
            run([a.vigil, "train", "--input", rows, "--model", model, "--validation-from", f"{start}T00:00:00Z",
                 "--seed", str(seed)] + export + refit + vigil_args)
            with open(model) as f:
                m = json.load(f)
            results.setdefault("vigil", []).append((start, seed, m["validation"]["pr_auc"], m["training"]["trees"]))
            l2 = m["training"]["params"]["lambda"]
            if i == 0:
                Xtr, ytr = load(os.path.join(feats, "train.csv"))
                Xes, yes = load(os.path.join(feats, "early_stopping.csv"))
                Xva, yva = load(os.path.join(feats, "validation.csv"))
            for name, fit, extra in (("xgboost", fit_xgb, {}), (f"xgb λ{l2:g}", fit_xgb, {"lambda": l2}),
                                     ("lightgbm", fit_lgb, {}), (f"lgbm λ{l2:g}", fit_lgb, {"lambda_l2": l2})):
                pred, trees, _ = fit(Xtr, ytr, Xes, yes, a.refit, {**extra, "seed": seed})
                results.setdefault(name, []).append((start, seed, metrics(pred(Xva), yva)[1], trees))
            print(f"fold validating from {start} (rows before {end}), seed {seed}: done", file=sys.stderr)
    print(f"inner folds, refit: {'yes' if a.refit else 'no'}; vigil train {' '.join(vigil_args) or '(defaults)'}")
    for name, rs in results.items():
        cells = " ".join(f"{start[:7]}/s{seed} {pr:.4f} ({trees})" for start, seed, pr, trees in rs)
        print(f"{name:<10} mean PR-AUC {np.mean([r[2] for r in rs]):.4f}   {cells}")


if __name__ == "__main__":
    main()

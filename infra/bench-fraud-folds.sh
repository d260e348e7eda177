#!/usr/bin/env bash
# Vigil's fraud model beside XGBoost and LightGBM on folds inside the training months, where
# settings are chosen (the held-out months are never read). Arguments after `--` go to
# `vigil train`.
# Usage: infra/bench-fraud-folds.sh [WORK_DIR [--refit] [--seeds 1,2] [--fold FROM:END ...] [-- TRAIN_ARGS...]]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$VIGIL_ROOT"
source infra/bench/venv.sh
step "Building vigil"
cargo build --release --quiet --bin vigil
shared="${VIGIL_SHARED_DATA:-$VIGIL_ROOT/../shared/data}"
step "Training vigil, XGBoost and LightGBM on the inner folds"
"$bench_venv/bin/python" infra/bench/fraud_inner_folds.py --vigil "$CARGO_TARGET_DIR/release/vigil" \
  --data "$shared/transactions_train.csv.gz" --work "${1:-$VIGIL_CACHE/bench-fraud-folds}" "${@:2}"

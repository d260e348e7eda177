#!/usr/bin/env bash
# Vigil's fraud model beside XGBoost and LightGBM (from PyPI), trained and measured in one
# run on the same time split and features: quality on held-out months and one-thread speed.
# With --inner-folds, on folds inside the training months instead (where settings are
# chosen; the held-out months are never read); arguments after `--` go to `vigil train`.
# Usage: infra/bench-fraud.sh [WORK_DIR [--refit] [--validation-from RFC3339] [--lambda L] [--learning-rate R] [--bag N]]
#        infra/bench-fraud.sh --inner-folds [WORK_DIR [--refit] [--seeds 1,2] [--fold FROM:END ...] [-- TRAIN_ARGS...]]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$VIGIL_ROOT"
bench_venv="$VIGIL_CACHE/venv-bench"
packages=(numpy==2.3.5 xgboost-cpu==3.2.0 lightgbm==4.7.0)
if [ "$(cat "$bench_venv/.vigil-requirements" 2>/dev/null)" != "${packages[*]}" ]; then
  step "Benchmark venv ($bench_venv): ${packages[*]}"
  python3 -m venv "$bench_venv"
  "$bench_venv/bin/pip" install -q --disable-pip-version-check "${packages[@]}"
  echo "${packages[*]}" > "$bench_venv/.vigil-requirements"
fi
step "Building vigil"
cargo build --release --quiet --bin vigil
shared="${VIGIL_SHARED_DATA:-$VIGIL_ROOT/../shared/data}"
vigil="$CARGO_TARGET_DIR/release/vigil"
if [ "${1:-}" = "--inner-folds" ]; then
  step "Training vigil, XGBoost and LightGBM on the inner folds"
  exec "$bench_venv/bin/python" infra/bench/fraud_inner_folds.py --vigil "$vigil" \
    --data "$shared/transactions_train.csv.gz" --work "${2:-$VIGIL_CACHE/bench-fraud-folds}" "${@:3}"
fi
step "Training and measuring vigil, XGBoost and LightGBM"
"$bench_venv/bin/python" infra/bench/fraud_anchors.py --vigil "$vigil" \
  --data "$shared/transactions_train.csv.gz" --eval "$shared/../tools/eval_fraud.py" \
  --work "${1:-$VIGIL_CACHE/bench-fraud}" "${@:2}"

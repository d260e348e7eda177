#!/usr/bin/env bash
# Vigil's fraud model beside XGBoost and LightGBM (from PyPI), trained and measured in one
# run on the same time split and features: quality on held-out months and one-thread speed.
# Usage: infra/bench-fraud.sh [WORK_DIR [--refit] [--validation-from RFC3339] [--lambda L] [--learning-rate R]]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$VIGIL_ROOT"
source infra/bench/venv.sh
step "Building vigil"
cargo build --release --quiet --bin vigil
shared="${VIGIL_SHARED_DATA:-$VIGIL_ROOT/../shared/data}"
step "Training and measuring vigil, XGBoost and LightGBM"
"$bench_venv/bin/python" infra/bench/fraud_anchors.py --vigil "$CARGO_TARGET_DIR/release/vigil" \
  --data "$shared/transactions_train.csv.gz" --eval "$shared/../tools/eval_fraud.py" \
  --work "${1:-$VIGIL_CACHE/bench-fraud}" "${@:2}"

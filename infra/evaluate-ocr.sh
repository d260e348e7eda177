#!/usr/bin/env bash
# OCR measured on documents the project did not write:
#   pii-dev scans  image-only copies of ../shared/data/pii-dev (400 documents by another
#                  author) made by `vigil corpus --scan-copies-of`: every page rendered at
#                  150-300 dpi, up to 3 degrees of skew, blur, noise, JPEG 40-90; scored
#                  with the same labels as the originals, side by side with them
#   presidio scans image-only copies of ../shared/data/presidio-cases (569 one-line pages of
#                  a peer's recognizer tests: cards, IBANs, IPs, SSNs, phones), scored by
#                  ../shared/tools/score_presidio_cases.py beside the text layer's score:
#                  how OCR's misreadings inside identifiers cost, case by case
#   real-pdfs      ../shared/data/real-pdfs (74 real-world files, 9 of them scans) with OCR
#                  on, scored by ../shared/tools/eval_real_pdfs.py
#   speed          wall time per page of `vigil classify` on one core (taskset, one OpenMP
#                  thread) for the scans and for the originals: the difference is OCR's
# Settings are chosen on the presidio scans and reported on every set; the pii-dev
# scans are the measurement, not the tuning set.
# Usage: infra/evaluate-ocr.sh [--out DIR] [--seed N] [--languages eng] [--dpi N]
#        (VIGIL_BIN=path/to/vigil skips the build)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$VIGIL_ROOT"

out="$VIGIL_CACHE/evaluation/ocr"
seed=2026
languages=eng
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --languages) languages="$2"; shift 2 ;;
    --dpi) export VIGIL_OCR_DPI="$2"; shift 2 ;;
    *) die "unknown argument $1 (see the usage at the top of $0)" ;;
  esac
done
shared="${VIGIL_SHARED_DATA:-$VIGIL_ROOT/../shared/data}"
tools="$(cd "$shared/../tools" 2>/dev/null && pwd)" || die "no ../shared/tools next to $shared"
[ -f "$shared/pii-dev/labels.jsonl" ] || die "the shared data is not at $shared: set VIGIL_SHARED_DATA"
mkdir -p "$out"

model_dir=$("$VIGIL_ROOT/infra/model.sh")
export VIGIL_MODEL_DIR="$model_dir" VIGIL_OCR_LANGUAGES="$languages"
if [ -n "${VIGIL_BIN:-}" ]; then
  vigil="$VIGIL_BIN" # a vigil already built (say, by infra/test.sh's build)
else
  step "Building vigil"
  cargo build --release --quiet --bin vigil
  vigil="$CARGO_TARGET_DIR/release/vigil"
fi
# One core, one thread: the per-page figure is what one Lambda vCPU would see.
one_core() { OMP_THREAD_LIMIT=1 RAYON_NUM_THREADS=1 taskset -c 0 "$@"; }
pages_of() { python3 -c "import json,sys; print(sum(json.loads(l)['pages'] for l in open(sys.argv[1])))" "$1"; }
now() { date +%s.%N; }

scans="$VIGIL_CACHE/scans/pii-dev-seed$seed"
if [ ! -f "$scans/scan-styles.jsonl" ]; then
  step "Image-only copies of pii-dev (seed $seed) into $scans"
  mkdir -p "$scans"
  "$vigil" corpus --out "$scans" --seed "$seed" --scan-copies-of "$shared/pii-dev"
fi
pages=$(pages_of "$shared/pii-dev/labels.jsonl")

step "pii-dev originals (text layer; $pages pages)"
t0=$(now)
one_core "$vigil" classify --json --ocr off "$shared"/pii-dev/*.pdf > "$out/pii-dev.jsonl" 2>/dev/null || true
t1=$(now)
python3 "$tools/eval_pii_dev.py" "$shared/pii-dev/labels.jsonl" "$out/pii-dev.jsonl" > "$out/pii-dev.txt"
grep -m1 -A1 "^== Document level (errors and missing" "$out/pii-dev.txt" | tail -1 | sed 's/^/    /'

step "pii-dev scans (OCR, $languages)"
t2=$(now)
one_core "$vigil" classify --json --ocr auto "$scans"/*.pdf > "$out/pii-dev-scans.jsonl" 2>"$out/pii-dev-scans.stderr" || true
t3=$(now)
python3 "$tools/eval_pii_dev.py" "$shared/pii-dev/labels.jsonl" "$out/pii-dev-scans.jsonl" > "$out/pii-dev-scans.txt"
grep -m1 -A1 "^== Document level (errors and missing" "$out/pii-dev-scans.txt" | tail -1 | sed 's/^/    /'

python3 - "$t0" "$t1" "$t2" "$t3" "$pages" > "$out/speed.txt" <<'EOF'
import sys
t0, t1, t2, t3, pages = map(float, sys.argv[1:])
text, scans = (t1 - t0) / pages, (t3 - t2) / pages
print(f"one core, wall time per page: originals {text*1000:.0f} ms, scans {scans*1000:.0f} ms, OCR {(scans-text)*1000:.0f} ms")
EOF
sed 's/^/    /' "$out/speed.txt"

presidio="$VIGIL_CACHE/scans/presidio-seed$seed"
if [ ! -f "$presidio/scan-styles.jsonl" ]; then
  step "Image-only copies of presidio-cases (seed $seed) into $presidio"
  mkdir -p "$presidio"
  "$vigil" corpus --out "$presidio" --seed "$seed" --scan-copies-of "$shared/presidio-cases/pdf"
fi
step "presidio-cases: text layer, then scans (OCR)"
"$vigil" classify --json --ocr off "$shared"/presidio-cases/pdf/*.pdf > "$out/presidio.jsonl" 2>/dev/null || true
python3 "$tools/score_presidio_cases.py" --quiet "$shared/presidio-cases/cases.jsonl" "$out/presidio.jsonl" > "$out/presidio.txt"
"$vigil" classify --json --ocr auto "$presidio"/*.pdf > "$out/presidio-scans.jsonl" 2>/dev/null || true
python3 "$tools/score_presidio_cases.py" "$shared/presidio-cases/cases.jsonl" "$out/presidio-scans.jsonl" > "$out/presidio-scans.txt"
grep -m1 -i "^overall" "$out/presidio.txt" | sed 's/^/    text layer: /'
grep -m1 -i "^overall" "$out/presidio-scans.txt" | sed 's/^/    scans:      /'

step "real-pdfs (74 files, OCR on)"
"$vigil" classify --json --ocr auto "$shared"/real-pdfs/files/*.pdf > "$out/real-pdfs.jsonl" 2>/dev/null || true
python3 "$tools/eval_real_pdfs.py" "$out/real-pdfs.jsonl" > "$out/real-pdfs.txt"
head -3 "$out/real-pdfs.txt" | sed 's/^/    /'
note "reports in $out"

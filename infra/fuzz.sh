#!/usr/bin/env bash
# Runs the cargo-fuzz targets, each for a while, and keeps their corpora between runs in
# the cache. Seeds: the extraction targets start from the real-world PDFs and the
# labelled corpus in ../shared/data (read in place, copied only into the cache corpus)
# and fuzz/seeds/; a crash is written to fuzz/artifacts/TARGET/ and becomes a test.
# Usage: infra/fuzz.sh [SECONDS per target, default 480] [TARGET ...]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$VIGIL_ROOT/fuzz"

seconds="${1:-480}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(extract fonts recognize)
shared="${VIGIL_SHARED_DATA:-$VIGIL_ROOT/../shared/data}"

tools="$VIGIL_CACHE/tools/cargo-fuzz"
if [ ! -x "$tools/bin/cargo-fuzz" ]; then
  step "Installing cargo-fuzz from crates.io into $tools"
  CARGO_TARGET_DIR="$VIGIL_CACHE/build-fuzz-tool" cargo install --locked --quiet cargo-fuzz --root "$tools"
fi
export PATH="$tools/bin:$PATH"
# cargo-fuzz needs nightly flags; the stable toolchain accepts them with this.
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="$VIGIL_CACHE/fuzz-target"

for target in "${targets[@]}"; do
  corpus="$VIGIL_CACHE/fuzz/corpus/$target"
  mkdir -p "$corpus"
  case "$target" in
    extract)
      for f in "$shared"/real-pdfs/files/*.pdf "$shared"/pii-dev/dev_00[0-4]*.pdf; do
        [ -f "$f" ] && [ "$(stat -c %s "$f")" -lt 300000 ] && cp -n "$f" "$corpus/" 2>/dev/null || true
      done ;;
    fonts) cp -n seeds/fonts/* "$corpus/" ;;
  esac
  step "Fuzzing $target for $seconds s (corpus $corpus)"
  cargo fuzz run --release "$target" "$corpus" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=300000 -print_final_stats=1 2>&1 |
    tee "$VIGIL_CACHE/fuzz/$target.log" |
    grep -E "DONE|stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb|==[0-9]+==|SUMMARY|Test unit written" || true
  if compgen -G "artifacts/$target/*" >/dev/null; then
    die "fuzz target $target found crashes: see fuzz/artifacts/$target/"
  fi
done

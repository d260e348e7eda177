#!/usr/bin/env bash
# Runs Vigil's demo end to end on this machine: installs what is missing, starts the local
# broker, and runs `vigil demo` through it. Extra arguments go to `vigil demo`.
# Usage: infra/demo.sh [--count N] [--seed S] [--out DIR]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$VIGIL_ROOT"

"$VIGIL_ROOT/infra/setup.sh"
"$VIGIL_ROOT/infra/stack.sh" start
VIGIL_MODEL_DIR=$("$VIGIL_ROOT/infra/model.sh")
export VIGIL_MODEL_DIR

step "Building vigil"
free_build_space
cargo build --release --quiet --bin vigil

step "vigil demo"
"$CARGO_TARGET_DIR/release/vigil" demo --broker "127.0.0.1:$VIGIL_KAFKA_PORT" "$@"

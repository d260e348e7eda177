#!/usr/bin/env bash
# Runs Vigil's demo on this machine: installs what is missing, builds `vigil`, and runs
# `vigil demo` on its embedded defaults (the stages in process, a directory for S3, an
# outbox for SNS, DataFusion for Athena). With --broker the transactions go through a
# local Kafka-protocol broker instead (tansu, built once from crates.io: about 7 minutes
# on 2 cores). Other arguments go to `vigil demo`.
# Usage: infra/demo.sh [--broker] [--count N] [--seed S] [--out DIR] …
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$VIGIL_ROOT"

use_broker=0
args=()
for a in "$@"; do
  case "$a" in --broker) use_broker=1 ;; *) args+=("$a") ;; esac
done

if [ "$use_broker" = 1 ]; then
  "$VIGIL_ROOT/infra/setup.sh" build broker
else
  "$VIGIL_ROOT/infra/setup.sh" build
fi

step "Building vigil"
free_build_space
announce_first_build "$CARGO_TARGET_DIR/release/vigil" "$FIRST_RUN_MINUTES_DEMO" "vigil built"
cargo build --release --bin vigil

VIGIL_MODEL_DIR=$("$VIGIL_ROOT/infra/model.sh")
export VIGIL_MODEL_DIR

if [ "$use_broker" = 1 ]; then
  "$VIGIL_ROOT/infra/stack.sh" start-broker
  args=(--broker "127.0.0.1:$VIGIL_KAFKA_PORT" "${args[@]}")
fi

step "vigil demo"
exec "$CARGO_TARGET_DIR/release/vigil" demo "${args[@]}"

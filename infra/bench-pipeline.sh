#!/usr/bin/env bash
# Throughput of the transaction pipeline end to end (generate → score → alert → archive),
# in process and through the local broker (a producer and three consumer groups at once).
# A benchmark, not a test: it prints the demo's summaries, whose last lines are the
# per-stage and end-to-end rates. Then the floor under the broker run: the same message flow
# through an empty broker with no work done on the records (crates/pipeline/examples/broker_floor.rs),
# which is a ceiling for the demo: it moves the same messages and does its work on top.
# Usage: infra/bench-pipeline.sh [IN_PROCESS_COUNT] [BROKER_COUNT]   (default 1000000 200000)
# VIGIL_BENCH_DIR: where the runs write their archive and outbox (default: a new directory
# under $TMPDIR or /tmp; /dev/shm measures the pipeline without the disk). Whatever the
# directory, its output is deleted at the end. On ext4, leave a few minutes between runs:
# files created soon after many were deleted are slower to create (see docs/benchmarks.md).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$VIGIL_ROOT"
in_process=${1:-1000000}
through_broker=${2:-200000}

"$VIGIL_ROOT/infra/setup.sh"
# An empty broker: tansu holds every earlier run's records in memory, and a broker grown to
# most of the machine's memory slows both measurements (page faults), not only its own.
# `start` then reuses it and starts moto.
"$VIGIL_ROOT/infra/stack.sh" restart-broker
"$VIGIL_ROOT/infra/stack.sh" start
step "Building vigil"
cargo build --release --quiet --bin vigil
cargo build --release --quiet -p vigil-pipeline --features broker --example broker_floor
vigil="$CARGO_TARGET_DIR/release/vigil"
bench_dir="${VIGIL_BENCH_DIR:-${TMPDIR:-/tmp}}"
mkdir -p "$bench_dir"
out=$(mktemp -d -p "$bench_dir" vigil-bench.XXXXXX)
note "writing under $out"
trap 'rm -rf "$out"' EXIT

step "In process: $in_process transactions"
"$vigil" demo --count "$in_process" --seed 1 --documents 0 --out "$out/in-process" 2>/dev/null

step "Through the broker on 127.0.0.1:$VIGIL_KAFKA_PORT: $through_broker transactions"
"$vigil" demo --count "$through_broker" --seed 2 --documents 0 --out "$out/broker" \
  --broker "127.0.0.1:$VIGIL_KAFKA_PORT" 2>/dev/null

step "The floor: the same message flow through an empty broker, no work on the records ($through_broker)"
"$VIGIL_ROOT/infra/stack.sh" restart-broker
"$CARGO_TARGET_DIR/release/examples/broker_floor" "127.0.0.1:$VIGIL_KAFKA_PORT" "$through_broker"

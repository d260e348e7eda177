# Shared settings for the infra scripts; sourced, not run.
# Everything installed lives in one cache outside the clone, so that every clone (and CI)
# reuses the same build and tools.
VIGIL_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export VIGIL_CACHE="${VIGIL_CACHE:-$HOME/.cache/vigil}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$VIGIL_CACHE/target}"
VIGIL_VENV="$VIGIL_CACHE/venv"
TANSU_VERSION="0.6.0"
TANSU_ROOT="$VIGIL_CACHE/tools/tansu-$TANSU_VERSION"
TANSU_BIN="$TANSU_ROOT/bin/tansu"
VIGIL_RUN="$VIGIL_CACHE/run"
export VIGIL_KAFKA_PORT="${VIGIL_KAFKA_PORT:-9092}"
export VIGIL_MOTO_PORT="${VIGIL_MOTO_PORT:-5000}"
export PATH="$VIGIL_VENV/bin:$HOME/.cargo/bin:$PATH"
export SAM_CLI_TELEMETRY=0

step() { printf '\n\033[1m==> %s\033[0m\n' "$*" >&2; }
note() { printf '    %s\n' "$*" >&2; }
die() { printf '\033[31merror:\033[0m %s\n' "$*" >&2; exit 1; }

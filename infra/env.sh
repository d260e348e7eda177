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
# Kafka's TLS: the host's builds (vigil, the tests) link Debian's OpenSSL instead of building
# OpenSSL from source (minutes on 2 cores); only the Lambda binaries (aarch64, built by
# sam-build.sh) carry their own copy, since the Lambda runtime's OpenSSL is not promised.
export X86_64_UNKNOWN_LINUX_GNU_OPENSSL_NO_VENDOR=1

step() { printf '\n\033[1m==> %s\033[0m\n' "$*" >&2; }
note() { printf '    %s\n' "$*" >&2; }
die() { printf '\033[31merror:\033[0m %s\n' "$*" >&2; exit 1; }

# The release profile builds incrementally, and cargo never removes the incremental state
# of crate versions it no longer builds: on this machine it reached 24 GB and filled the
# disk. When less than 15 GB is free, drop it (it only speeds up rebuilds of our crates).
free_build_space() {
  mkdir -p "$CARGO_TARGET_DIR"
  local free_kb
  free_kb=$(df -Pk "$CARGO_TARGET_DIR" | awk 'NR==2 {print $4}')
  if [ "${free_kb:-0}" -lt $((15 * 1024 * 1024)) ]; then
    note "only $((free_kb / 1024 / 1024)) GB free: removing cargo's incremental state under $CARGO_TARGET_DIR"
    find "$CARGO_TARGET_DIR" -maxdepth 3 -type d -name incremental -prune -exec rm -rf {} +
  fi
}

# Minutes a first run took on this project's 2-core machine with an empty cache
# (docs/benchmarks.md, "First run"); announce_first_build scales them by the cores here.
FIRST_RUN_MINUTES_DEMO=22
FIRST_RUN_MINUTES_TESTS=50

# Before a first run: says how long it will take and what for, so that a long silence is
# not taken for a hang. Arguments: what the run leaves behind (absent: a first run),
# minutes on 2 cores, what takes the time.
announce_first_build() {
  [ -e "$1" ] && return 0
  local cores minutes
  cores=$(nproc 2>/dev/null || echo 2)
  minutes=$(($2 * 2 / (cores < 1 ? 1 : cores)))
  [ "$minutes" -ge 1 ] || minutes=1
  note "first run here: about $minutes minutes on $cores cores ($3; cargo shows its progress; later runs take seconds to minutes)"
}

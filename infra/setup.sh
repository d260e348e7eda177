#!/usr/bin/env bash
# Installs what Vigil's demo and tests need, idempotently: Debian packages, a Python venv
# (moto, aws-sam-cli with cfn-lint, cargo-lambda, zig), and the tansu broker.
# Usage: infra/setup.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

APT_PACKAGES=(cmake pkg-config libssl-dev libsasl2-dev zlib1g-dev libcurl4-openssl-dev libzstd-dev python3-venv curl chromium fonts-dejavu-core)
PIP_PACKAGES=("moto[server]==5.2.5" "aws-sam-cli==1.170.0" "cargo-lambda==1.9.2" "ziglang==0.17.1" "onnxruntime==1.32.0" "onnx==1.23.2")

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

step "System packages"
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  note "installing ${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
else
  note "all present"
fi

step "Rust toolchain"
command -v cargo >/dev/null || die "cargo not found: install Rust with rustup first"
for c in clippy rustfmt; do
  rustup component list --installed 2>/dev/null | grep -q "^$c" || rustup component add "$c"
done
note "$(cargo --version)"

step "Python tools (venv at $VIGIL_VENV)"
stamp="$VIGIL_VENV/.vigil-requirements"
wanted="${PIP_PACKAGES[*]}"
if [ ! -x "$VIGIL_VENV/bin/python" ]; then
  python3 -m venv "$VIGIL_VENV"
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  note "installing ${PIP_PACKAGES[*]} (a few minutes the first time)"
  "$VIGIL_VENV/bin/pip" install -q --disable-pip-version-check "${PIP_PACKAGES[@]}"
  echo "$wanted" > "$stamp"
else
  note "up to date"
fi

step "Kafka-protocol broker (tansu $TANSU_VERSION)"
if [ ! -x "$TANSU_BIN" ]; then
  note "building tansu from crates.io into $TANSU_ROOT (about 30 minutes on 2 cores, once)"
  CARGO_TARGET_DIR="$VIGIL_CACHE/build-tansu" cargo install --locked --quiet tansu \
    --version "$TANSU_VERSION" --features dynostore --root "$TANSU_ROOT"
  rm -rf "$VIGIL_CACHE/build-tansu"
else
  note "present"
fi

#!/usr/bin/env bash
# Installs what Vigil's demo and tests need, idempotently. Parts (all by default):
#   build   Debian packages to build vigil (librdkafka's and OpenSSL's), the Rust toolchain
#   test    build's, and Chromium, clippy and rustfmt, a Python venv (moto, aws-sam-cli with
#           cfn-lint, cargo-lambda, zig, onnxruntime) and checkov in a venv of its own
#   broker  the tansu broker, built from crates.io (about 7 minutes on 2 cores, once)
# Usage: infra/setup.sh [build|test|broker]…
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

BUILD_PACKAGES=(cmake pkg-config libssl-dev libsasl2-dev zlib1g-dev libcurl4-openssl-dev libzstd-dev python3-venv curl fonts-dejavu-core
  tesseract-ocr tesseract-ocr-eng)
# qemu-user and the arm64 C library run the arm64 packages `sam build` makes (tests).
TEST_PACKAGES=(chromium chromium-driver stunnel4 make qemu-user libc6-arm64-cross libgcc-s1-arm64-cross
  libstdc++6-arm64-cross)
PIP_PACKAGES=("moto[server]==5.2.5" "aws-sam-cli==1.170.0" "cargo-lambda==1.9.2" "ziglang==0.17.1" "onnxruntime==1.32.0" "onnx==1.23.2"
  "aws-msk-iam-sasl-signer-python==1.0.2") # the reference for MSK IAM tokens
# checkov pins boto3 below aws-sam-cli's pin: it gets a venv of its own, linked into the main one.
CHECKOV_PACKAGE="checkov==3.3.30"
CHECKOV_VENV="$VIGIL_CACHE/checkov"

parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(build test broker)
for p in "${parts[@]}"; do
  case "$p" in build|test|broker) ;; *) die "unknown part '$p': use build, test or broker" ;; esac
done
wants() { local p; for p in "${parts[@]}"; do [ "$p" = "$1" ] && return 0; done; return 1; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

system_packages() {
  step "System packages"
  local wanted=("${BUILD_PACKAGES[@]}") missing=() p
  if wants test; then wanted+=("${TEST_PACKAGES[@]}"); fi
  for p in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    note "installing ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    note "all present"
  fi
}

rust_toolchain() {
  step "Rust toolchain"
  command -v cargo >/dev/null || die "cargo not found: install Rust with rustup first (https://rustup.rs)"
  if wants test; then
    local c
    for c in clippy rustfmt; do
      rustup component list --installed 2>/dev/null | grep -q "^$c" || rustup component add "$c"
    done
  fi
  note "$(cargo --version)"
}

python_tools() {
  step "Python tools (venv at $VIGIL_VENV)"
  local stamp="$VIGIL_VENV/.vigil-requirements" wanted="${PIP_PACKAGES[*]}"
  [ -x "$VIGIL_VENV/bin/python" ] || python3 -m venv "$VIGIL_VENV"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    note "installing ${PIP_PACKAGES[*]} (a few minutes the first time)"
    "$VIGIL_VENV/bin/pip" install -q --disable-pip-version-check "${PIP_PACKAGES[@]}"
    echo "$wanted" >"$stamp"
  else
    note "up to date"
  fi
  stamp="$CHECKOV_VENV/.vigil-requirements"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$CHECKOV_PACKAGE" ]; then
    note "installing $CHECKOV_PACKAGE (its own venv, $CHECKOV_VENV)"
    [ -x "$CHECKOV_VENV/bin/python" ] || python3 -m venv "$CHECKOV_VENV"
    "$CHECKOV_VENV/bin/pip" install -q --disable-pip-version-check "$CHECKOV_PACKAGE"
    echo "$CHECKOV_PACKAGE" >"$stamp"
  fi
  ln -sfn "$CHECKOV_VENV/bin/checkov" "$VIGIL_VENV/bin/checkov"
}

# The console's charts: uPlot from its npm package, checked against the registry's
# integrity hash, unpacked where crates/console/build.rs finds it (embedded in the binary).
UPLOT_VERSION="1.6.32"
UPLOT_INTEGRITY="sha512-KIMVnG68zvu5XXUbC4LQEPnhwOxBuLyW1AHtpm6IKTXImkbLgkMy+jabjLgSLMasNuGGzQm/ep3tOkyTxpiQIw=="
web_assets() {
  step "Console chart library (uPlot $UPLOT_VERSION, npm)"
  local dest="$VIGIL_CACHE/web/uplot-$UPLOT_VERSION"
  if [ -f "$dest/dist/uPlot.iife.min.js" ]; then note "present"; return; fi
  if ! command -v npm >/dev/null; then
    note "installing npm"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq npm >/dev/null
  fi
  local tmp sum
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "uplot@$UPLOT_VERSION" >/dev/null)
  sum="sha512-$(openssl dgst -sha512 -binary "$tmp/uplot-$UPLOT_VERSION.tgz" | base64 -w0)"
  [ "$sum" = "$UPLOT_INTEGRITY" ] || die "uplot-$UPLOT_VERSION.tgz does not match its registry integrity hash"
  mkdir -p "$dest"
  tar -xzf "$tmp/uplot-$UPLOT_VERSION.tgz" -C "$dest" --strip-components=1
  rm -rf "$tmp"
  note "unpacked into $dest"
}

broker() {
  step "Kafka-protocol broker (tansu $TANSU_VERSION)"
  if [ -x "$TANSU_BIN" ]; then note "present"; return; fi
  note "building tansu from crates.io into $TANSU_ROOT (about 7 minutes on 2 cores, once)"
  # Optimised at level 1, not 3: 6 min 25 s instead of 8 min 54 s on 2 cores, and the same
  # throughput through it (broker_floor, 100,000 records: 105 k/s against 104 k/s).
  CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_TARGET_DIR="$VIGIL_CACHE/build-tansu" \
    cargo install --locked tansu --version "$TANSU_VERSION" --features dynostore --root "$TANSU_ROOT"
  rm -rf "$VIGIL_CACHE/build-tansu"
}

system_packages
rust_toolchain
web_assets
if wants test; then python_tools; fi
if wants broker; then broker; fi

#!/usr/bin/env bash
# `sam build`: every function of template.yaml built for arm64 with cargo-lambda (zig as
# the cross linker), into $VIGIL_CACHE/sam-build. Slow the first time (a full aarch64
# build of the workspace); later runs reuse the cargo target directory.
# Usage: infra/sam-build.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$VIGIL_ROOT"
"$VIGIL_ROOT/infra/setup.sh" test

# librdkafka 2.12 includes <curl/curl.h> even when built without curl (an #ifdef on a 0/1
# define), and zig's aarch64 sysroot has no curl. The header is the same for every
# architecture: the cross build gets a copy of it alone (not the host's other headers).
header=$(dpkg -L libcurl4-openssl-dev | grep '/curl/curl.h$' | head -n 1)
[ -n "$header" ] || die "curl's header is missing: apt-get install libcurl4-openssl-dev"
mkdir -p "$VIGIL_CACHE/cross-include"
cp -r "$(dirname "$header")" "$VIGIL_CACHE/cross-include/"
export CFLAGS_aarch64_unknown_linux_gnu="-I$VIGIL_CACHE/cross-include"

step "sam build: the zip functions (arm64, cargo-lambda)"
rm -rf "$VIGIL_CACHE/sam-build"
for fn in ProduceTransactionsFunction ScoreTransactionsFunction AlertTransactionsFunction ArchiveTransactionsFunction RefreshReportsFunction; do
  sam build "$fn" --build-dir "$VIGIL_CACHE/sam-build/$fn" "$@"
done
for f in "$VIGIL_CACHE"/sam-build/*/*Function/bootstrap; do
  note "$(basename "$(dirname "$f")"): $(file -b "$f" | cut -d, -f1-2), $(du -h "$f" | cut -f1)"
done

# ClassifyDocumentFunction is a container image (Dockerfile, model baked in): `sam build`
# builds it where a Docker daemon and the ECR base images are at hand. Its binary is
# cross-built here in any case, so that an arm64 build of the classifier is checked.
if docker info >/dev/null 2>&1; then
  step "sam build: ClassifyDocumentFunction (container image)"
  sam build ClassifyDocumentFunction --build-dir "$VIGIL_CACHE/sam-build/ClassifyDocumentFunction" "$@"
else
  note "no Docker daemon here: the classify-document image is not built (its binary is, below)"
fi
step "classify-document binary (arm64, cargo-lambda)"
cargo lambda build --release --arm64 --bin classify-document --lambda-dir "$VIGIL_CACHE/lambda-arm64" --quiet
f="$VIGIL_CACHE/lambda-arm64/classify-document/bootstrap"
note "classify-document: $(file -b "$f" | cut -d, -f1-2), $(du -h "$f" | cut -f1)"

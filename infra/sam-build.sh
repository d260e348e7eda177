#!/usr/bin/env bash
# `sam build`: every function of template.yaml built for arm64 with cargo-lambda (zig as
# the cross linker), the NER model layer and the OCR layer, into .aws-sam/build (where `sam deploy`
# looks). Slow the first time (a full aarch64 build of the workspace); later runs reuse the
# cargo target directory.
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

# The model layer's Makefile finds the project here.
export VIGIL_ROOT
# What ships is built by rustc alone (infra/test.sh compiles the host's tests through clippy).
unset RUSTC_WORKSPACE_WRAPPER CLIPPY_ARGS

step "sam build: every function (arm64, cargo-lambda), the model layer and the OCR layer"
build_dir="$VIGIL_ROOT/.aws-sam/build"
sam build --build-dir "$build_dir" "$@"
for f in "$build_dir"/*Function/bootstrap; do
  note "$(basename "$(dirname "$f")"): $(file -b "$f" | cut -d, -f1-2), $(du -h "$f" | cut -f1)"
done
note "NerModelLayer: $(du -sh "$build_dir/NerModelLayer" | cut -f1)"
note "OcrLayer: $(du -sh "$build_dir/OcrLayer" | cut -f1)"
note "deploy with: sam deploy --guided (it reads $build_dir/template.yaml)"

#!/usr/bin/env bash
# The OCR layer for the document function (arm64, Amazon Linux 2023): Tesseract's library
# in lib/ and its English data in tessdata/, mounted at /opt (so /opt/lib, which Lambda
# puts on the loader's path, and /opt/tessdata, the function's OCR_DATA default).
#
# Where each part comes from, and why:
#   Tesseract 5.5.4 and Leptonica, with libjpeg, libpng, libtiff, libwebp, libjbig: from
#     the manylinux_2_28 aarch64 wheel of tesserocr on PyPI (pinned by hash). Built for
#     glibc 2.27 and libstdc++ 3.4.22, they load on Amazon Linux 2023 (glibc 2.34, gcc 11's
#     libstdc++). Debian's arm64 packages do not: their libarchive and libstdc++ need
#     glibc 2.36 (arc4random).
#   eng.traineddata: Debian's tesseract-ocr-eng (tessdata_fast, Apache-2.0), the same
#     file the host's `vigil classify` reads.
#   libz.so.1, which the wheel's libpng and libtiff need and leave to the system: Debian's
#     arm64 zlib1g (needs glibc 2.17), shipped so that the layer does not depend on what
#     the runtime image happens to hold.
# Usage: infra/ocr-layer.sh OUT_DIR   (sam build calls it through infra/ocr-layer/Makefile)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

out="${1:?usage: infra/ocr-layer.sh OUT_DIR}"
WHEEL_REQUIREMENT="tesserocr==2.13.0 --hash=sha256:57c636f13e98d582b99d29e47ebc467cca7793ce0147dbf2515c91acd99ad3ea"
cache="$VIGIL_CACHE/ocr-layer"
mkdir -p "$cache/wheel" "$cache/deb"

if ! ls "$cache"/wheel/tesserocr-2.13.0-*aarch64*.whl >/dev/null 2>&1; then
  note "fetching Tesseract for arm64 (tesserocr's manylinux wheel, PyPI)"
  echo "$WHEEL_REQUIREMENT" > "$cache/requirements.txt"
  "$VIGIL_VENV/bin/pip" download -q --disable-pip-version-check --require-hashes --no-deps \
    --only-binary=:all: --platform manylinux_2_28_aarch64 --python-version 3.11 \
    -r "$cache/requirements.txt" -d "$cache/wheel"
fi
wheel=$(ls "$cache"/wheel/tesserocr-2.13.0-*aarch64*.whl | head -n 1)

if ! ls "$cache"/deb/tesseract-ocr-eng_*_all.deb >/dev/null 2>&1; then
  note "fetching English language data (Debian's tesseract-ocr-eng)"
  # (apt warns that it downloads as root when _apt cannot write the folder: harmless)
  (cd "$cache/deb" && apt-get download -q tesseract-ocr-eng >/dev/null 2>&1) ||
    die "apt-get download tesseract-ocr-eng failed (is Debian's archive reachable?)"
fi
deb=$(ls "$cache"/deb/tesseract-ocr-eng_*_all.deb | head -n 1)

if ! ls "$cache"/deb/zlib1g_*_arm64.deb >/dev/null 2>&1; then
  note "fetching zlib for arm64 (Debian's zlib1g, with apt's arm64 lists kept under $cache)"
  apt_state="$cache/apt-arm64"
  mkdir -p "$apt_state/state/lists/partial" "$apt_state/cache/archives/partial"
  arm64=(-o "Dir::State=$apt_state/state" -o "Dir::Cache=$apt_state/cache"
    -o APT::Architecture=arm64 -o APT::Architectures::=arm64 -o Dir::State::status=/dev/null)
  apt-get "${arm64[@]}" update -qq >/dev/null 2>&1 ||
    die "apt-get update for arm64 failed (is Debian's archive reachable?)"
  (cd "$cache/deb" && apt-get "${arm64[@]}" download zlib1g:arm64 >/dev/null 2>&1) ||
    die "apt-get download zlib1g:arm64 failed"
fi
zlib=$(ls "$cache"/deb/zlib1g_*_arm64.deb | head -n 1)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m zipfile -e "$wheel" "$work/wheel"
dpkg-deb -x "$deb" "$work/deb"
dpkg-deb -x "$zlib" "$work/zlib"

rm -rf "$out/lib" "$out/tessdata"
mkdir -p "$out/lib" "$out/tessdata"
libs="$work/wheel/tesserocr.libs"
tesseract=$(ls "$libs"/libtesseract-*.so.* | head -n 1)
# The function loads `libtesseract.so.5`; the library finds its own dependencies (names
# with auditwheel's hashes) beside itself through its RPATH, $ORIGIN.
cp "$tesseract" "$out/lib/libtesseract.so.5"
for f in "$libs"/*; do
  [ "$f" = "$tesseract" ] || cp "$f" "$out/lib/"
done
cp -L "$(find "$work/zlib" -name 'libz.so.1' | head -n 1)" "$out/lib/libz.so.1"
find "$work/deb" -name eng.traineddata -exec cp {} "$out/tessdata/" \;
[ -s "$out/tessdata/eng.traineddata" ] || die "no eng.traineddata in $deb"

# Nothing in the layer may need more than Amazon Linux 2023's glibc (2.34).
newest=$(objdump -T "$out"/lib/* | grep -o 'GLIBC_2\.[0-9]*' | sort -t. -k2 -n -u | tail -n 1)
case "$newest" in
  GLIBC_2.[0-9]|GLIBC_2.[12][0-9]|GLIBC_2.3[0-4]) ;;
  *) die "the OCR layer needs $newest; Amazon Linux 2023 has glibc 2.34" ;;
esac
cat > "$out/NOTICE" <<'NOTICE'
Tesseract OCR 5.5.4 (Apache-2.0) and Leptonica (BSD-2-Clause), with libjpeg-turbo (IJG/BSD),
libpng (libpng licence), libtiff (libtiff licence), libwebp (BSD-3-Clause) and jbigkit
(GPL-2.0-or-later), as built into the manylinux wheel of tesserocr 2.13.0 (MIT) on PyPI.
eng.traineddata from Debian's tesseract-ocr-eng (tessdata_fast, Apache-2.0).
zlib (Zlib licence) from Debian's zlib1g.
NOTICE
note "OCR layer: $(du -sh "$out" | cut -f1) (libraries need up to $newest)"

#!/usr/bin/env bash
# Refreshes the third-party browser libraries in static/vendor from the npm
# registry at the pinned versions below, with their licences. Run it after
# changing a version and commit what it writes; nothing is fetched at build or
# run time, so `go run` needs neither Node nor a network.
set -euo pipefail
cd "$(dirname "$0")"
HLS_VERSION=1.7.4           # hls.js: Apache-2.0
QRCODE_VERSION=2.0.4        # qrcode-generator: MIT

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "hls.js@$HLS_VERSION" "qrcode-generator@$QRCODE_VERSION" >/dev/null)
mkdir -p "$tmp/hls" "$tmp/qr"
tar xzf "$tmp/hls.js-$HLS_VERSION.tgz" -C "$tmp/hls"
tar xzf "$tmp/qrcode-generator-$QRCODE_VERSION.tgz" -C "$tmp/qr"

out=static/vendor
# The light build has what camcloud plays (fMP4, LL-HLS, byte ranges,
# program date time) without DRM, subtitles and alternate audio.
grep -v '^//# sourceMappingURL=' "$tmp/hls/package/dist/hls.light.min.mjs" >"$out/hls.light.min.mjs"
cp "$tmp/hls/package/LICENSE" "$out/LICENSE.hls.js.txt"
cp "$tmp/qr/package/dist/qrcode.mjs" "$out/qrcode.mjs"
# The package ships no licence file: its source header names MIT and the
# author; keep that header next to the file.
sed -n '1,16p' "$tmp/qr/package/dist/qrcode.mjs" >"$out/LICENSE.qrcode-generator.txt"
printf 'hls.js %s\nqrcode-generator %s\n' "$HLS_VERSION" "$QRCODE_VERSION" >"$out/VERSIONS"
echo "vendored into $out:"; cat "$out/VERSIONS"

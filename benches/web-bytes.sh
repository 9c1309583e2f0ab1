#!/usr/bin/env bash
# Bytes of the web app a tablet pulls for a first visit and a first document open, before and
# after precompressed assets, from the release binary (see benches/web-bytes.mjs).
# Usage: make bench   (or: bash benches/web-bytes.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/phonghop}
[ -x "$BIN" ] || cargo build --release --locked
command -v node >/dev/null || { echo "node is missing: apt-get install nodejs"; exit 1; }
TMP=$(mktemp -d)
PID=""
trap '[ -n "$PID" ] && kill $PID 2>/dev/null; rm -rf "$TMP"' EXIT
DATA=$TMP/data
"$BIN" init --data "$DATA" --room "Phòng họp đo dung lượng" --admin-password bench-password >/dev/null
"$BIN" serve --data "$DATA" --https-port 0 --http-port 0 --mdns off >/dev/null 2>"$TMP/log" &
PID=$!
until [ -s "$DATA/serving.json" ]; do sleep 0.02; done
PORT=$(sed -n 's/.*"https_port": \([0-9]*\).*/\1/p' "$DATA/serving.json")
echo "Web app bytes per tablet ($(git rev-parse --short HEAD 2>/dev/null)):"
node benches/web-bytes.mjs "https://localhost:$PORT" "$DATA/tls/root.pem"

#!/usr/bin/env bash
# Measures the appliance skeleton against its targets, on this machine, with the release build:
#   cold start to the first HTTPS response (first start, which creates the CA, and a restart),
#   idle RSS, binary size, and HTTPS requests per second on /healthz and /api/room (wrk).
# Usage: make bench   (or: bash benches/skeleton.sh [seconds-per-wrk-run])
# wrk runs on the same machine as the box, so the figures are a floor, not a ceiling.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
BIN=${BIN:-target/release/phonghop}
[ -x "$BIN" ] || cargo build --release --locked
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk"; exit 1; }
TMP=$(mktemp -d)
PID=""
trap '[ -n "$PID" ] && kill $PID 2>/dev/null; rm -rf "$TMP"' EXIT
DATA=$TMP/data
"$BIN" init --data "$DATA" --room "Phòng họp đo hiệu năng" --admin-password bench-password >/dev/null

now_ms() { date +%s%3N; }
start_box() {
  rm -f "$DATA/serving.json"
  local t0; t0=$(now_ms)
  "$BIN" serve --data "$DATA" --https-port "${PORT:-0}" --http-port 0 --mdns off >/dev/null 2>"$TMP/log" &
  PID=$!
  until [ -s "$DATA/serving.json" ]; do sleep 0.002; done
  PORT=$(sed -n 's/.*"https_port": \([0-9]*\).*/\1/p' "$DATA/serving.json")
  until curl -sf --cacert "$DATA/tls/root.pem" "https://localhost:$PORT/healthz" >/dev/null; do sleep 0.002; done
  ELAPSED=$(( $(now_ms) - t0 ))
}

start_box; first=$ELAPSED
kill -TERM $PID; wait $PID || true
start_box; warm=$ELAPSED
sleep 3
rss_kb=$(awk '/VmRSS/ {print $2}' /proc/$PID/status)
size=$(stat -c %s "$BIN")

echo "binary: $BIN ($(git rev-parse --short HEAD 2>/dev/null || echo unknown)), $(nproc) cores"
echo "cold start to first HTTPS response: first start (creates the CA) ${first} ms, restart ${warm} ms"
echo "idle RSS after 3 s: $((rss_kb / 1024)) MiB (${rss_kb} kB)"
echo "binary size: $((size / 1024 / 1024)) MiB (${size} bytes)"
for path in /healthz /api/room; do
  echo "--- wrk -t2 -c64 -d${DURATION}s https://localhost:$PORT$path"
  wrk -t2 -c64 -d"${DURATION}s" "https://localhost:$PORT$path" | grep -E "Requests/sec|Latency|requests in|Non-2xx" || true
done
rss_kb=$(awk '/VmHWM/ {print $2}' /proc/$PID/status)
echo "peak RSS during load: $((rss_kb / 1024)) MiB"

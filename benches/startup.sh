#!/usr/bin/env bash
# Start-up with a long event log (issue 7, item 7): grows a store to EVENTS events (default
# 1,000,000) through the library's Store::append (examples/gen_log.rs), then measures, with the
# release binary:
#   - `serve` cold start to the first HTTPS response, (a) the first start after the log grew
#     (the start-up check walks from the checkpoint of the previous start) and (b) a restart;
#     target under 1 s;
#   - how long the background walk of every chain takes (log line "event log verified");
#   - `phonghop verify` with the box stopped;
#   - idle RSS, and the database size.
# Usage: make bench-startup   (or: bash benches/startup.sh [events])
# Env: DATA_PARENT=<dir for the data directory> (default under target/, a real disk);
#      KEEP=1 keeps the generated data directory and prints its path.
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${1:-1000000}
TARGET=${CARGO_TARGET_DIR:-target}
BIN=${BIN:-$TARGET/release/phonghop}
[ -x "$BIN" ] || cargo build --release --locked --bin phonghop
cargo build --release --locked --example gen_log
GEN=$TARGET/release/examples/gen_log
mkdir -p "${DATA_PARENT:-$TARGET/bench}"
TMP=$(mktemp -d "${DATA_PARENT:-$TARGET/bench}/startup.XXXXXX")
PID=""
cleanup() { [ -n "$PID" ] && kill $PID 2>/dev/null; if [ -z "${KEEP:-}" ]; then rm -rf "$TMP"; else echo "kept $TMP"; fi; }
trap cleanup EXIT
DATA=$TMP/data
"$BIN" init --data "$DATA" --room "Phòng họp đo khởi động" --admin-password bench-password >/dev/null

now_ms() { date +%s%3N; }
# Starts the box; sets ELAPSED (ms to the first HTTPS response) and T0.
start_box() {
  rm -f "$DATA/serving.json"
  T0=$(now_ms)
  RUST_LOG=info "$BIN" serve --data "$DATA" --https-port 0 --http-port 0 --mdns off >/dev/null 2>"$TMP/log" &
  PID=$!
  until [ -s "$DATA/serving.json" ]; do kill -0 $PID 2>/dev/null || { cat "$TMP/log"; exit 1; }; sleep 0.002; done
  PORT=$(sed -n 's/.*"https_port": \([0-9]*\).*/\1/p' "$DATA/serving.json")
  until curl -sf --cacert "$DATA/tls/root.pem" "https://localhost:$PORT/healthz" >/dev/null; do sleep 0.002; done
  ELAPSED=$(( $(now_ms) - T0 ))
}
# Waits for the background walk; sets WALK (ms from start) and prints /readyz.
wait_walk() {
  until grep -q "event log verified\|could not verify" "$TMP/log"; do sleep 0.01; done
  WALK=$(( $(now_ms) - T0 ))
  grep "event log verified\|could not verify" "$TMP/log" | tail -1 | sed 's/^/  log: /'
}
stop_box() { kill -TERM $PID; wait $PID || true; PID=""; }

# The first start makes the CA and certificates; keep that out of the figures.
start_box; stop_box
echo "binary: $BIN ($(git rev-parse --short HEAD 2>/dev/null || echo unknown)), $(nproc) cores, data on $(df --output=source,fstype "$TMP" | tail -1)"
"$GEN" "$DATA" "$EVENTS" 2>/dev/null
db=$(stat -c %s "$DATA/phonghop.redb")
echo "database: $((db / 1024 / 1024)) MiB (${db} bytes) for $EVENTS events"

start_box
echo "first start after the log grew by $EVENTS events since the last checkpoint (the start-up check walks them all): ${ELAPSED} ms to first HTTPS response"
curl -s --cacert "$DATA/tls/root.pem" "https://localhost:$PORT/readyz" | head -c 300; echo
wait_walk
echo "  background walk of every chain done ${WALK} ms after start"
stop_box

start_box
echo "restart (checkpoint at the head): ${ELAPSED} ms to first HTTPS response"
curl -s --cacert "$DATA/tls/root.pem" "https://localhost:$PORT/readyz" | head -c 300; echo
wait_walk
echo "  background walk of every chain done ${WALK} ms after start"
rss_walk=$(awk '/VmHWM/ {print $2}' /proc/$PID/status)
sleep 3
rss_kb=$(awk '/VmRSS/ {print $2}' /proc/$PID/status)
echo "idle RSS 3 s after the walk: $((rss_kb / 1024)) MiB (${rss_kb} kB); peak RSS: $((rss_walk / 1024)) MiB"
# A power cut: no clean close of the database file.
kill -KILL $PID; wait $PID || true; PID=""
start_box
echo "start after kill -9 (redb repairs the file if it was not closed cleanly): ${ELAPSED} ms to first HTTPS response"
wait_walk
echo "  background walk of every chain done ${WALK} ms after start"
stop_box

t=$(now_ms)
"$BIN" verify --data "$DATA" > "$TMP/verify.out"; head -1 "$TMP/verify.out" | sed "s/^/  /"
echo "phonghop verify (box stopped): $(( $(now_ms) - t )) ms"

#!/usr/bin/env bash
# Backup and restore of a long event log (issue 13): grows a store to EVENTS events (default
# 1,000,000) with examples/gen_log.rs, then measures, with the release binary:
#   - `phonghop backup` while the box serves (through its control socket): time, archive size,
#     and how long an HTTPS write takes while the backup runs (it must not wait for it);
#   - `phonghop backup` with the box stopped;
#   - `phonghop restore` into an empty directory, then `phonghop verify` on the result.
# Usage: make bench-backup   (or: bash benches/backup.sh [events])
# Env: DATA_PARENT=<dir for the data directories> (default under target/, a real disk).
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${1:-1000000}
TARGET=${CARGO_TARGET_DIR:-target}
BIN=${BIN:-$TARGET/release/phonghop}
[ -x "$BIN" ] || cargo build --release --locked --bin phonghop
cargo build --release --locked --example gen_log
GEN=$TARGET/release/examples/gen_log
mkdir -p "${DATA_PARENT:-$TARGET/bench}"
TMP=$(mktemp -d "${DATA_PARENT:-$TARGET/bench}/backup.XXXXXX")
PID=""
cleanup() { [ -n "$PID" ] && kill $PID 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
DATA=$TMP/data
"$BIN" init --data "$DATA" --room "Phòng họp đo sao lưu" --admin-password bench-password >/dev/null
now_ms() { date +%s%3N; }
start_box() {
  rm -f "$DATA/serving.json"
  "$BIN" serve --data "$DATA" --https-port 0 --http-port 0 --mdns off >/dev/null 2>"$TMP/log" &
  PID=$!
  until [ -s "$DATA/serving.json" ]; do kill -0 $PID 2>/dev/null || { cat "$TMP/log"; exit 1; }; sleep 0.01; done
  PORT=$(sed -n 's/.*"https_port": \([0-9]*\).*/\1/p' "$DATA/serving.json")
  until curl -sf --cacert "$DATA/tls/root.pem" "https://localhost:$PORT/healthz" >/dev/null; do sleep 0.01; done
}
stop_box() { kill -TERM $PID; wait $PID || true; PID=""; }
start_box; stop_box
echo "binary: $BIN ($(git rev-parse --short HEAD 2>/dev/null || echo unknown)), $(nproc) cores, data on $(df --output=source,fstype "$TMP" | tail -1)"
"$GEN" "$DATA" "$EVENTS" 2>/dev/null
db=$(stat -c %s "$DATA/phonghop.redb")
echo "database: $((db / 1024 / 1024)) MiB for $EVENTS events"

start_box
URL="https://localhost:$PORT"
CURL=(curl -sf --cacert "$DATA/tls/root.pem")
COOKIE=$("${CURL[@]}" -D - -o /dev/null -H "origin: $URL" -H 'content-type: application/json' \
  -d '{"username":"admin","password":"bench-password"}' "$URL/api/session" | sed -n 's/^set-cookie: \([^;]*\).*/\1/Ip')
# Notices posted one after another: each one's time in ms, into file $1, until $TMP/stop.
write_loop() {
  while [ ! -f "$TMP/stop" ]; do
    t0=$(now_ms)
    "${CURL[@]}" -o /dev/null -H "origin: $URL" -H "cookie: $COOKIE" -H 'content-type: application/json' \
      -d '{"text":"Ghi trong lúc sao lưu"}' "$URL/api/room/notices"
    echo $(( $(now_ms) - t0 )) >> "$1"
  done
}
stats() { local n; n=$(wc -l < "$1"); echo "$n writes, median $(sort -n "$1" | sed -n "$(( (n + 1) / 2 ))p") ms, slowest $(sort -n "$1" | tail -1) ms"; }
write_loop "$TMP/idle" & WL=$!
sleep 3; touch "$TMP/stop"; wait $WL; rm "$TMP/stop"
echo "writes with no backup running (3 s): $(stats "$TMP/idle")"
write_loop "$TMP/writes" & WL=$!
sleep 1
T0=$(now_ms)
"$BIN" backup --data "$DATA" --out "$TMP/online.tar.gz" >/dev/null
T1=$(now_ms)
touch "$TMP/stop"; wait $WL
sz=$(stat -c %s "$TMP/online.tar.gz")
echo "backup while serving: $((T1 - T0)) ms, archive $((sz / 1024 / 1024)) MiB; during it (and 1 s before): $(stats "$TMP/writes")"
stop_box
T0=$(now_ms)
"$BIN" backup --data "$DATA" --out "$TMP/offline.tar.gz" >/dev/null
echo "backup with the box stopped: $(( $(now_ms) - T0 )) ms"
T0=$(now_ms)
"$BIN" restore --from "$TMP/online.tar.gz" --data "$TMP/restored" >/dev/null
echo "restore (unpack, check every hash, open, walk every chain, mark): $(( $(now_ms) - T0 )) ms"
T0=$(now_ms)
"$BIN" verify --data "$TMP/restored" > "$TMP/verify"
head -1 "$TMP/verify"
echo "verify on the restored directory: $(( $(now_ms) - T0 )) ms"

#!/usr/bin/env bash
# The hostile room Wi-Fi at full size, against the release build (issue 8, items 2 and 3):
#   - RSS after 1,000 failed sign-ins sent 100 at a time from rotating addresses (target < 64 MiB);
#   - a normal client's latency while 2,000 idle and 200 trickling connections are held open
#     on both ports (target: every answer within 1 s), with the box started under a soft
#     descriptor limit of 1,024 that it must raise itself.
# Usage: make bench   (or: bash benches/hostile.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/phonghop}
[ -x "$BIN" ] || cargo build --release --locked
cargo build --release --locked --example hostile-load >/dev/null 2>&1 || cargo build --release --locked --example hostile-load
LOAD=${CARGO_TARGET_DIR:-target}/release/examples/hostile-load
TMP=$(mktemp -d)
PID=""
trap '[ -n "$PID" ] && kill $PID 2>/dev/null; rm -rf "$TMP"' EXIT
DATA=$TMP/data
"$BIN" init --data "$DATA" --room "Phòng họp thử tấn công" --admin-password bench-password >/dev/null

start_box() {
  rm -f "$DATA/serving.json"
  (ulimit -S -n 1024; exec "$BIN" serve --data "$DATA" --https-port 0 --http-port 0 --mdns off >/dev/null 2>"$TMP/log") &
  PID=$!
  until [ -s "$DATA/serving.json" ]; do sleep 0.02; done
  HTTPS=$(sed -n 's/.*"https_port": \([0-9]*\).*/\1/p' "$DATA/serving.json")
  HTTP=$(sed -n 's/.*"http_port": \([0-9]*\).*/\1/p' "$DATA/serving.json")
  until curl -sf --cacert "$DATA/tls/root.pem" "https://localhost:$HTTPS/healthz" >/dev/null; do sleep 0.02; done
}

echo "binary: $BIN ($(git rev-parse --short HEAD 2>/dev/null || echo unknown)), $(nproc) cores"
start_box
sleep 1
echo "--- failed sign-ins (item 2): $LOAD sign-ins $HTTPS root.pem $PID"
"$LOAD" sign-ins "$HTTPS" "$DATA/tls/root.pem" "$PID"
kill -TERM $PID; wait $PID || true

start_box
echo "--- slow clients (item 3): $LOAD slow $HTTPS $HTTP root.pem (box started with ulimit -S -n 1024)"
echo "box soft descriptor limit after start: $(awk '/Max open files/ {print $4}' /proc/$PID/limits)"
"$LOAD" slow "$HTTPS" "$HTTP" "$DATA/tls/root.pem"
echo "box RSS with the connections held: $(( $(awk '/VmRSS/ {print $2}' /proc/$PID/status) / 1024 )) MiB"

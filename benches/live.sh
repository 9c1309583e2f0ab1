#!/usr/bin/env bash
# N simulated tablets in one live meeting (issue 9, "Load tool and figures"), against the release
# build over HTTPS trusting only the box's CA. For each N: a fresh box with a secretary and a
# chair account; the tool (benches/live_load.rs) creates the meeting, pairs N tablets through the
# real pairing path from 253 loopback addresses, opens N live feeds, and measures the time from
# each chair action to its arrival at every tablet, with the box's RSS and CPU time.
# Targets: 500 tablets p99 <= 50 ms; 2,000 tablets p99 <= 150 ms; RSS <= 100 MB at 2,000.
# Usage: make bench-live   (or: bash benches/live.sh [N ...], default 100 500 2000)
#        make bench-vote   (LIVE_ARGS=--vote: a named and a secret vote, every tablet voting at
#        once; target: close -> result on every tablet < 1 s at 1,000 tablets)
# Env: LIVE_ARGS="--rounds 20 --interval-ms 300 --speak 0.005 --json --retry-speak" passes
# options to the tool;
# DATA_PARENT=<dir for the data directories> (default: under target/, on a real disk).
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(100 500 2000)
TARGET=${CARGO_TARGET_DIR:-target}
BIN=${BIN:-$TARGET/release/phonghop}
[ -x "$BIN" ] || cargo build --release --locked --bin phonghop
cargo build --release --locked --example live-load >/dev/null 2>&1 || cargo build --release --locked --example live-load
LOAD=$TARGET/release/examples/live-load
# 2,000 tablets hold 2,000 connections in the tool and in the box; the box raises its own soft
# limit, the tool inherits this one.
ulimit -S -n "$(ulimit -H -n)"
mkdir -p "${DATA_PARENT:-$TARGET/bench}"
TMP=$(mktemp -d "${DATA_PARENT:-$TARGET/bench}/live.XXXXXX")
BOX=""
trap '[ -n "$BOX" ] && kill $BOX 2>/dev/null; rm -rf "$TMP"' EXIT
echo "binary: $BIN ($(git rev-parse --short HEAD 2>/dev/null || echo unknown)), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
status=0
for N in "${SIZES[@]}"; do
  DATA=$TMP/data-$N
  "$BIN" init --data "$DATA" --room "Phòng họp đo tải trực tiếp" --admin-password bench-admin >/dev/null
  "$BIN" admin create --data "$DATA" --username thuky --name "Thư ký" --role secretary --password bench-secretary >/dev/null
  "$BIN" admin create --data "$DATA" --username chutri --name "Chủ tọa" --role chair --password bench-chair >/dev/null
  "$BIN" serve --data "$DATA" --https-port 0 --http-port 0 --mdns off >/dev/null 2>"$TMP/box-$N.log" &
  BOX=$!
  until [ -s "$DATA/serving.json" ]; do sleep 0.05; done
  PORT=$(sed -n 's/.*"https_port": \([0-9]*\).*/\1/p' "$DATA/serving.json")
  until curl -sf --cacert "$DATA/tls/root.pem" "https://127.0.0.1:$PORT/healthz" >/dev/null; do sleep 0.05; done
  # shellcheck disable=SC2086
  "$LOAD" --url "https://127.0.0.1:$PORT" --ca "$DATA/tls/root.pem" --tablets "$N" \
    --secretary thuky:bench-secretary --chair chutri:bench-chair --pid "$BOX" ${LIVE_ARGS:-} || status=$?
  echo "database file: $(( $(stat -c %s "$DATA/phonghop.redb") / 1024 / 1024 )) MiB"
  echo "box log: $(grep -c 'fell behind' "$TMP/box-$N.log" || true) feeds cut off for falling behind, $(grep -c 'too slow' "$TMP/box-$N.log" || true) for a slow client, $(grep -ci 'refus' "$TMP/box-$N.log" || true) refusals"
  kill -TERM $BOX; wait $BOX || true
  BOX=""
done
exit $status

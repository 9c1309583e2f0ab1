#!/usr/bin/env bash
# Acknowledged writes per second, against the release binary over HTTPS (trusting only the box's
# CA), for a meeting with 10 agenda items and one with 5,000: updating an item (PUT) and adding
# one (POST). Target (issue 7, item 5): the rates for the two sizes differ by less than 10%.
# The two meetings live in the same box and are measured in alternating rounds, so load from
# elsewhere on the machine falls on both alike.
# Usage: make bench-writes   (or: bash benches/writes.sh [seconds-per-phase] [rounds] [clients])
# Defaults: 1 s phases, 15 rounds, 8 clients. Short alternating phases spread other load on the
# machine over both sizes; on a busy machine writes/s still wanders by 10-30% between runs, so
# the box's CPU time per write is reported as well.
# Env: ITEMS=10,5000  DATA_PARENT=<dir for the data directory> (default: a fresh dir under
# target/, on the same disk as a real box would write; /tmp may be a RAM disk with free fsync).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_PHASE=${1:-1}
ROUNDS=${2:-15}
CLIENTS=${3:-8}
ITEMS=${ITEMS:-10,5000}
TARGET=${CARGO_TARGET_DIR:-target}
BIN=${BIN:-$TARGET/release/phonghop}
[ -x "$BIN" ] || cargo build --release --locked --bin phonghop
cargo build --release --locked --example write_load
LOAD=$TARGET/release/examples/write_load
mkdir -p "${DATA_PARENT:-$TARGET/bench}"
TMP=$(mktemp -d "${DATA_PARENT:-$TARGET/bench}/writes.XXXXXX")
BOX=""
trap '[ -n "$BOX" ] && kill $BOX 2>/dev/null; rm -rf "$TMP"' EXIT
DATA=$TMP/data
"$BIN" init --data "$DATA" --room "Phòng họp đo tải ghi" --admin-password bench-admin >/dev/null
"$BIN" admin create --data "$DATA" --username thuky --name "Thư ký" --role secretary --password bench-secretary >/dev/null
"$BIN" serve --data "$DATA" --https-port 0 --http-port 0 --mdns off >/dev/null 2>"$TMP/box.log" &
BOX=$!
until [ -s "$DATA/serving.json" ]; do sleep 0.05; done
PORT=$(sed -n 's/.*"https_port": \([0-9]*\).*/\1/p' "$DATA/serving.json")
echo "binary: $BIN ($(git rev-parse --short HEAD 2>/dev/null || echo unknown)), $(nproc) cores, data on $(df --output=source,fstype "$TMP" | tail -1)"
"$LOAD" --url "https://localhost:$PORT" --ca "$DATA/tls/root.pem" --user thuky --password bench-secretary \
  --items "$ITEMS" --seconds "$SECONDS_PER_PHASE" --rounds "$ROUNDS" --concurrency "$CLIENTS" --pid "$BOX"
echo "database after the run: $(( $(stat -c %s "$DATA/phonghop.redb") / 1024 / 1024 )) MiB"

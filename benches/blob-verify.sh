#!/usr/bin/env bash
# What checking documents against their hash costs, with the release build and curl over HTTPS
# on loopback, for one 50 MB PDF:
#   - a whole download (hashed as it streams) against the same bytes as one `Range: bytes=0-`
#     (a range of a blob already verified is not hashed again): the difference is the hashing;
#   - after a restart (nothing remembered), the first 64 kB range, which waits until the whole
#     file has been hashed once (by the start-up check or by this request), and the next one.
# Usage: make bench   (or: bash benches/blob-verify.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/phonghop}
[ -x "$BIN" ] || cargo build --release --locked
TMP=$(mktemp -d)
BOX=""
trap '[ -n "$BOX" ] && kill $BOX 2>/dev/null; rm -rf "$TMP"' EXIT
DATA=$TMP/data
"$BIN" init --data "$DATA" --room "Phòng họp đo kiểm tra" --admin-password bench-admin >/dev/null
"$BIN" admin create --data "$DATA" --username thuky --name "Thư ký" --role secretary --password bench-secretary >/dev/null
printf 'max_upload_mb = 64\n' > "$DATA/phonghop.toml"
start() {
  rm -f "$DATA/serving.json"
  "$BIN" serve --data "$DATA" --https-port 0 --http-port 0 --mdns off >/dev/null 2>"$TMP/box.log" &
  BOX=$!
  until [ -s "$DATA/serving.json" ]; do sleep 0.05; done
  PORT=$(sed -n 's/.*"https_port": \([0-9]*\).*/\1/p' "$DATA/serving.json")
  URL="https://localhost:$PORT"
  CURL=(curl -sf --cacert "$DATA/tls/root.pem" -H "Origin: $URL")
  until "${CURL[@]}" -o /dev/null "$URL/healthz"; do sleep 0.05; done
}
start
COOKIE=$("${CURL[@]}" -c - -H 'content-type: application/json' -d '{"username":"thuky","password":"bench-secretary"}' "$URL/api/session" | awk '/phonghop_session/ {print $7}')
J=(-H "Cookie: phonghop_session=$COOKIE" -H 'content-type: application/json')
id() { grep -o '"id":"[0-9a-f]\{32\}"' | head -1 | cut -d'"' -f4; }
BODY=$("${CURL[@]}" "${J[@]}" -d '{"name":"UBND xã","kind":"ubnd"}' "$URL/api/bodies" | id)
MEETING=$("${CURL[@]}" "${J[@]}" -d "{\"body_id\":\"$BODY\",\"title\":\"Đo\",\"starts_at\":\"2027-01-05T01:00:00Z\"}" "$URL/api/meetings" | id)
ITEM=$("${CURL[@]}" "${J[@]}" -d '{"title":"Mục 1"}' "$URL/api/meetings/$MEETING/items" | id)
FILE=$TMP/tai-lieu-50mb.pdf
{ printf '%%PDF-1.7\n'; head -c $((50 * 1024 * 1024 - 9)) /dev/urandom; } > "$FILE"
SHA=$("${CURL[@]}" -H "Cookie: phonghop_session=$COOKIE" -H 'x-file-name: tai-lieu.pdf' --data-binary @"$FILE" \
  "$URL/api/meetings/$MEETING/items/$ITEM/documents?title=Tai%20lieu" | grep -o '"sha256":"[0-9a-f]*"' | cut -d'"' -f4)
BLOB="$URL/api/blobs/$SHA"
C=(-H "Cookie: phonghop_session=$COOKIE")
ms() { "${CURL[@]}" "${C[@]}" "$@" -o /dev/null -w "%{http_code} %{time_total}\n" "$BLOB" | awk '$1 != 200 && $1 != 206 { print "HTTP " $1 > "/dev/stderr"; exit 1 } { printf "%d", $2 * 1000 }'; }
best() { local b=999999 t; for _ in 1 2 3 4 5; do t=$(ms "$@"); [ "$t" -lt "$b" ] && b=$t; done; echo "$b"; }
"${CURL[@]}" "${C[@]}" "$BLOB" | cmp - "$FILE"
echo "50 MB PDF, $(nproc) cores, curl over HTTPS on loopback, best of 5 ($(git rev-parse --short HEAD 2>/dev/null))"
W=$(best); R=$(best -H 'Range: bytes=0-')
echo "whole download, hashed as it streams:   ${W} ms ($(awk -v t="$W" 'BEGIN { printf "%.0f", 50 * 1.048576 / t * 1000 }') MB/s)"
echo "same bytes as one range (not re-hashed): ${R} ms ($(awk -v t="$R" 'BEGIN { printf "%.0f", 50 * 1.048576 / t * 1000 }') MB/s)"
kill "$BOX"; wait "$BOX" 2>/dev/null || true; BOX=""
start
BLOB="$URL/api/blobs/$SHA"
FIRST=$(ms -H "Range: bytes=0-65535"); NEXT=$(ms -H "Range: bytes=65536-131071")
echo "after a restart: first 64 kB range (waits for one whole-file hash): ${FIRST} ms; the next: ${NEXT} ms"

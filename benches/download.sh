#!/usr/bin/env bash
# Document downloads, the box against nginx, side by side on this machine:
#   - 100 simultaneous HTTPS clients downloading the same 20 MB PDF;
#   - one HTTPS client downloading it over and over.
# Both serve the same file with the same certificate (the box's own leaf and chain), and wrk
# (on the same 2 cores) drives both. Reports throughput, the ratio box/nginx, and the box's
# peak RSS.
# Usage: make bench-download   (or: bash benches/download.sh [seconds-per-run])
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
BIN=${BIN:-target/release/phonghop}
[ -x "$BIN" ] || cargo build --release --locked
for tool in wrk nginx curl; do
  command -v $tool >/dev/null || { echo "$tool is missing: apt-get install wrk nginx-light curl"; exit 1; }
done
TMP=$(mktemp -d)
BOX=""; NGINX=""
cleanup() { [ -n "$BOX" ] && kill "$BOX" 2>/dev/null; [ -n "$NGINX" ] && kill "$NGINX" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
DATA=$TMP/data
"$BIN" init --data "$DATA" --room "Phòng họp đo tải" --admin-password bench-admin >/dev/null
"$BIN" admin create --data "$DATA" --username thuky --name "Thư ký" --role secretary --password bench-secretary >/dev/null
printf 'max_upload_mb = 64\n' > "$DATA/phonghop.toml"
"$BIN" serve --data "$DATA" --https-port 0 --http-port 0 --mdns off >/dev/null 2>"$TMP/box.log" &
BOX=$!
until [ -s "$DATA/serving.json" ]; do sleep 0.05; done
PORT=$(sed -n 's/.*"https_port": \([0-9]*\).*/\1/p' "$DATA/serving.json")
URL="https://localhost:$PORT"
CURL=(curl -sf --cacert "$DATA/tls/root.pem" -H "Origin: $URL")
COOKIE=$("${CURL[@]}" -c - -H 'content-type: application/json' -d '{"username":"thuky","password":"bench-secretary"}' "$URL/api/session" | awk '/phonghop_session/ {print $7}')
J=(-H "Cookie: phonghop_session=$COOKIE" -H 'content-type: application/json')
id() { grep -o '"id":"[0-9a-f]\{32\}"' | head -1 | cut -d'"' -f4; }
BODY=$("${CURL[@]}" "${J[@]}" -d '{"name":"UBND xã","kind":"ubnd"}' "$URL/api/bodies" | id)
MEETING=$("${CURL[@]}" "${J[@]}" -d "{\"body_id\":\"$BODY\",\"title\":\"Đo tải\",\"starts_at\":\"2027-01-05T01:00:00Z\"}" "$URL/api/meetings" | id)
ITEM=$("${CURL[@]}" "${J[@]}" -d '{"title":"Mục 1"}' "$URL/api/meetings/$MEETING/items" | id)
FILE=$TMP/tai-lieu-20mb.pdf
{ printf '%%PDF-1.7\n'; head -c $((20 * 1024 * 1024 - 9)) /dev/urandom; } > "$FILE"
SHA=$("${CURL[@]}" -H "Cookie: phonghop_session=$COOKIE" -H 'x-file-name: tai-lieu.pdf' --data-binary @"$FILE" \
  "$URL/api/meetings/$MEETING/items/$ITEM/documents?title=Tai%20lieu" | grep -o '"sha256":"[0-9a-f]*"' | cut -d'"' -f4)
BLOB="$URL/api/blobs/$SHA"
"${CURL[@]}" -H "Cookie: phonghop_session=$COOKIE" "$BLOB" | cmp - "$FILE"

# nginx with the same certificate chain and file.
mkdir -p "$TMP/nginx/www"
cp "$FILE" "$TMP/nginx/www/doc.pdf"
# nginx's workers drop root: let them reach the file.
chmod 755 "$TMP" "$TMP/nginx" "$TMP/nginx/www"; chmod 644 "$TMP/nginx/www/doc.pdf"
cat "$DATA/tls/leaf.pem" "$DATA/tls/intermediate.pem" > "$TMP/nginx/chain.pem"
NPORT=$((PORT + 1))
cat > "$TMP/nginx/nginx.conf" <<CONF
worker_processes auto;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  client_body_temp_path $TMP/nginx; proxy_temp_path $TMP/nginx; fastcgi_temp_path $TMP/nginx;
  uwsgi_temp_path $TMP/nginx; scgi_temp_path $TMP/nginx;
  server {
    listen 127.0.0.1:$NPORT ssl http2;
    ssl_certificate $TMP/nginx/chain.pem;
    ssl_certificate_key $DATA/tls/leaf.key;
    root $TMP/nginx/www;
  }
}
CONF
nginx -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" &
NGINX=$!
until curl -sf --cacert "$DATA/tls/root.pem" -o /dev/null "https://localhost:$NPORT/doc.pdf"; do sleep 0.05; done

run() { # name url connections threads extra-header
  local out
  out=$(wrk -t"$4" -c"$3" -d"${DURATION}s" ${5:+-H "$5"} "$2")
  echo "$out" | grep -E "Transfer/sec|Requests/sec|Non-2xx" | sed "s/^/  $1: /" >&2
  echo "$out" | awk '/Transfer\/sec/ {v=$2; u=substr(v, length(v)-1); n=substr(v, 1, length(v)-2); if (u=="GB") n*=1024; if (u=="KB") n/=1024; print n}'
}
echo "20 MB PDF, $(nproc) cores, wrk on the same machine, ${DURATION}s per run ($(git rev-parse --short HEAD 2>/dev/null))"
echo "100 simultaneous clients:"
B100=$(run box "$BLOB" 100 2 "Cookie: phonghop_session=$COOKIE")
N100=$(run nginx "https://localhost:$NPORT/doc.pdf" 100 2)
echo "one client:"
B1=$(run box "$BLOB" 1 1 "Cookie: phonghop_session=$COOKIE")
N1=$(run nginx "https://localhost:$NPORT/doc.pdf" 1 1)
awk -v b="$B100" -v n="$N100" 'BEGIN { printf "100 clients: box %.0f MB/s, nginx %.0f MB/s, ratio %.2f\n", b, n, b / n }'
awk -v b="$B1" -v n="$N1" 'BEGIN { printf "one client:  box %.0f MB/s, nginx %.0f MB/s, ratio %.2f\n", b, n, b / n }'
echo "box peak RSS: $(awk '/VmHWM/ {print int($2 / 1024)}' /proc/$BOX/status) MiB"

#!/usr/bin/env bash
# The shaped link between a room box and its hub (issue 12), against rsync of the same files
# over the same link, side by side.
#
# Two network namespaces, "box" and "hub", joined by a veth pair (10.77.0.1 ⇄ 10.77.0.2), all
# inside a private network+mount namespace made with `unshare -nm` (`-rnm`, with a user
# namespace, when not root: then only the sync half runs), so it leaves nothing behind and no
# packet can go anywhere but that veth and loopback. The
# kernel has no netem, so the link is shaped with:
#   - rate: tbf on both ends;
#   - loss: nftables `numgen random` drop on the receiving end's input (the packet crossed the
#     wire and is lost, as on a radio link; a drop on output would only return an error to TCP);
#   - cuts: `ip link set down` on the box's end for CUT_SECS, and (CUT_KILL=box, the default)
#     the box's TCP sockets aborted with `ss -K`, as when a 4G dongle reconnects; the hub's
#     side keeps its half-open connections, as it would. CUT_KILL=none: only the link goes
#     down (TCP then usually survives a short cut); CUT_KILL=both aborts the hub's side too.
#
# Scenarios (SCENARIO=…):
#   a      1 Mbit/s, 5% loss, three cuts of 8 s when 25%, 50% and 75% of the payload crossed;
#   b      256 kbit/s, no random loss, the link drops for 10 s every 60 s;
#   smoke  4 Mbit/s, 5% loss, one cut of 3 s at 40% (the scaled-down run of the test suite).
# PAYLOAD_MB (a, b: 100; smoke: 10), RATE, LOSS (percent), CUT_AT (fractions), CUT_EVERY
# (seconds), CUT_SECS override them. RUN="rsync sync" chooses the halves.
#
# For each tool it measures: the time to complete; the bytes on the wire (the box's veth
# counters, both directions, Ethernet frames) ÷ payload bytes; and, with the counting proxy in
# front of the hub (the `sync-link` helper; PROXY=0 to go without it), the bytes the hub's side
# received more than in a baseline run on the same link without shaping or cuts, per cut
# ("re-sent after a cut"). The sync half verifies every PDF at the hub by SHA-256 and runs
# `phonghop verify` on the hub; the rsync half compares the trees.
#
# Usage: make bench-sync    (or: SCENARIO=a bash benches/sync-link.sh)
# Needs: iproute2, nftables, rsync, curl, util-linux (unshare), sha256sum.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

if [ -z "${SYNC_LINK_INNER:-}" ]; then
  tools="ip tc nft curl unshare ss sha256sum"
  case "${RUN:-rsync sync}" in *rsync*) tools="$tools rsync" ;; esac
  for tool in $tools; do
    command -v "$tool" >/dev/null || { echo "sync-link: $tool is missing (apt-get install -y iproute2 nftables rsync curl util-linux)" >&2; exit 1; }
  done
  BIN=${PHONGHOP_BIN:-$ROOT/target/release/phonghop}
  HELPER=${SYNC_LINK_HELPER-$ROOT/target/release/examples/sync-link}
  if [ "${BUILD:-1}" = 1 ] && [ -z "${PHONGHOP_BIN:-}" ]; then
    cargo build --release --locked --bin phonghop --example sync-link >&2
  fi
  export BIN HELPER SYNC_LINK_INNER=1
  if [ "$(id -u)" = 0 ]; then
    exec unshare -nm --propagation private bash "$0" "$@"
  fi
  # Not root: a user namespace too. The rsync daemon cannot run there (as its "root" it must
  # call setgroups, which a user namespace forbids), so only the sync half runs.
  SYNC_LINK_NOT_ROOT=1 exec unshare -rnm --propagation private bash "$0" "$@"
fi

# ---- inside our own namespaces from here on ----
SCENARIO=${SCENARIO:-a}
case "$SCENARIO" in
  a)     D_RATE=1mbit;   D_LOSS=5; D_CUT_AT="0.25 0.5 0.75"; D_CUT_EVERY=0;  D_CUT_SECS=8;  D_MB=100 ;;
  b)     D_RATE=256kbit; D_LOSS=0; D_CUT_AT="";             D_CUT_EVERY=60; D_CUT_SECS=10; D_MB=100 ;;
  smoke) D_RATE=4mbit;   D_LOSS=5; D_CUT_AT="0.4";          D_CUT_EVERY=0;  D_CUT_SECS=3;  D_MB=10 ;;
  *) echo "sync-link: unknown SCENARIO $SCENARIO (a, b, smoke)" >&2; exit 64 ;;
esac
RATE=${RATE:-$D_RATE}; LOSS=${LOSS:-$D_LOSS}; CUT_AT=${CUT_AT-$D_CUT_AT}
CUT_EVERY=${CUT_EVERY:-$D_CUT_EVERY}; CUT_SECS=${CUT_SECS:-$D_CUT_SECS}
PAYLOAD_MB=${PAYLOAD_MB:-$D_MB}; CUT_KILL=${CUT_KILL:-box}
RUN=${RUN:-rsync sync}; PROXY=${PROXY:-1}
[ -x "${HELPER:-}" ] || PROXY=0
LIMIT=${LIMIT:-14400}   # give up on one transfer after this many seconds

TMP=$(mktemp -d /tmp/sync-link.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  # Everything still running in our two namespaces is ours (rsync forks a process a client).
  for ns in box hub; do ip netns pids $ns 2>/dev/null | xargs -r kill 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ "${KEEP:-0}" = 1 ] || rm -rf "$TMP"
}
trap cleanup EXIT
say() { echo "sync-link: $*" >&2; }

mount -t tmpfs none /run
mkdir -p /run/netns
ip link set lo up
ip netns add box
ip netns add hub
ip link add vbox type veth peer name vhub
ip link set vbox netns box
ip link set vhub netns hub
ip -n box addr add 10.77.0.1/24 dev vbox
ip -n hub addr add 10.77.0.2/24 dev vhub
for ns in box hub; do ip -n $ns link set lo up; done
ip -n box link set vbox up
ip -n hub link set vhub up
INB() { ip netns exec box "$@"; }
INH() { ip netns exec hub "$@"; }

shape() {  # $1: on|off
  for pair in "box vbox" "hub vhub"; do
    set -- "$1" $pair
    ip netns exec "$2" tc qdisc del dev "$3" root 2>/dev/null || true
    ip netns exec "$2" nft delete table inet link 2>/dev/null || true
    [ "$1" = on ] || continue
    ip netns exec "$2" tc qdisc add dev "$3" root tbf rate "$RATE" burst 32kbit latency 400ms
    if [ "$LOSS" != 0 ]; then
      ip netns exec "$2" nft -f - <<NFT
table inet link {
  chain input {
    type filter hook input priority 0;
    iifname "$3" numgen random mod 100 < $LOSS drop
  }
}
NFT
    fi
  done
}

# Bytes on the wire: the box end of the veth, both directions (frames, with their headers).
wire() { INB cat /sys/class/net/vbox/statistics/tx_bytes /sys/class/net/vbox/statistics/rx_bytes | awk '{s+=$1} END {print s}'; }
hub_rx() { INH cat /sys/class/net/vhub/statistics/rx_bytes; }
proxy_up() { [ -s "$1" ] && sed -n 's/.*"bytes_up":\([0-9]*\).*/\1/p' "$1" || echo 0; }

# Sleeps in 1 s steps: a `sleep` left running when its caller is killed would hold the
# caller's output open (and a test reading it would wait for it).
pause() { local i; for ((i = 0; i < $1; i++)); do sleep 1; done; }

cut_once() {
  ip -n box link set vbox down
  case "$CUT_KILL" in
    box)  INB ss -K dst 10.77.0.2 >/dev/null 2>&1 || true ;;
    both) INB ss -K dst 10.77.0.2 >/dev/null 2>&1 || true; INH ss -K dst 10.77.0.1 >/dev/null 2>&1 || true ;;
  esac
  pause "$CUT_SECS"
  ip -n box link set vbox up
  echo "$(date +%s.%N)" >> "$CUTS_LOG"
}

# Cuts while a transfer runs: at fractions of the payload that crossed to the hub, or every
# CUT_EVERY seconds. $1: payload bytes.
cutter() {
  local base; base=$(hub_rx)
  if [ "$CUT_EVERY" != 0 ]; then
    while true; do pause "$CUT_EVERY"; cut_once; done
  fi
  for f in $CUT_AT; do
    local need; need=$(awk -v f="$f" -v p="$1" 'BEGIN {printf "%d", f * p}')
    while [ $(( $(hub_rx) - base )) -lt "$need" ]; do sleep 0.2; done
    cut_once
  done
  while true; do sleep 1; done
}

PAYLOAD=$TMP/payload
if [ -n "${PAYLOAD_DIR:-}" ]; then
  PAYLOAD=$PAYLOAD_DIR
else
  "$HELPER" gen "$PAYLOAD" "$PAYLOAD_MB" >&2
fi
PAYLOAD_BYTES=$(find "$PAYLOAD" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
NFILES=$(ls "$PAYLOAD" | wc -l)
say "scenario $SCENARIO: $NFILES PDFs, $PAYLOAD_BYTES bytes; rate $RATE, loss $LOSS%, cuts at [$CUT_AT] every ${CUT_EVERY}s for ${CUT_SECS}s (kill: $CUT_KILL)"

# One line of figures per run, also kept in $TMP/results.
report() {  # tool label seconds wire app_up cuts [sender_bytes]
  local ratio; ratio=$(awk -v w="$4" -v p="$PAYLOAD_BYTES" 'BEGIN {printf "%.4f", w / p}')
  local line="{\"tool\":\"$1\",\"run\":\"$2\",\"scenario\":\"$SCENARIO\",\"payload_bytes\":$PAYLOAD_BYTES,\"files\":$NFILES,\"seconds\":$3,\"wire_bytes\":$4,\"wire_per_payload\":$ratio,\"app_bytes_up\":$5,\"cuts\":$6,\"sender_bytes\":${7:-0}}"
  echo "$line" | tee -a "$TMP/results"
}

# ---- rsync: a daemon in the hub namespace, the client in the box namespace ----
rsync_run() {  # label shaped(on|off)
  local dst=$TMP/rsync-dst stats=$TMP/rsync-proxy-$1.json port=873
  rm -rf "$dst"; mkdir -p "$dst"
  cat > "$TMP/rsyncd.conf" <<CONF
pid file = $TMP/rsyncd-$1.pid
use chroot = false
timeout = 30
[meeting]
  path = $dst
  read only = false
  uid = 0
  gid = 0
CONF
  if [ "$PROXY" = 1 ]; then
    ip netns exec hub rsync --daemon --no-detach --config="$TMP/rsyncd.conf" --address=127.0.0.1 --port=873 &
    PIDS+=($!); local daemon=$!
    ip netns exec hub "$HELPER" proxy 10.77.0.2:8730 127.0.0.1:873 "$stats" &
    PIDS+=($!); local proxy=$!
    port=8730
  else
    ip netns exec hub rsync --daemon --no-detach --config="$TMP/rsyncd.conf" --address=10.77.0.2 --port=873 &
    PIDS+=($!); local daemon=$!
  fi
  sleep 0.5
  shape "$2"
  CUTS_LOG=$TMP/cuts-rsync-$1; : > "$CUTS_LOG"
  local w0; w0=$(wire)
  local t0; t0=$(date +%s.%N)
  local cpid=""
  if [ "$2" = on ]; then cutter "$PAYLOAD_BYTES" & cpid=$!; PIDS+=("$cpid"); fi
  local tries=0
  until INB rsync -a --partial-dir=.rsync-partial --timeout=30 --contimeout=5 "$PAYLOAD/" "rsync://10.77.0.2:$port/meeting/" 2>>"$TMP/rsync.log"; do
    tries=$((tries + 1))
    if [ "$(awk -v t0="$t0" -v now="$(date +%s.%N)" 'BEGIN {print (now - t0 > '"$LIMIT"')}')" = 1 ]; then
      say "rsync did not finish within ${LIMIT}s"; exit 1
    fi
    sleep 1
  done
  local t1; t1=$(date +%s.%N)
  [ -n "$cpid" ] && { kill "$cpid" 2>/dev/null || true; wait "$cpid" 2>/dev/null || true; }
  ip -n box link set vbox up
  sleep 0.4   # the proxy's counters are written every 200 ms
  local w1; w1=$(wire)
  local up=0; [ "$PROXY" = 1 ] && up=$(proxy_up "$stats")
  shape off
  diff -r -x .rsync-partial "$PAYLOAD" "$dst" >&2 || { say "rsync: the trees differ"; exit 1; }
  kill "$daemon" 2>/dev/null || true
  [ "$PROXY" = 1 ] && { kill "$proxy" 2>/dev/null || true; wait "$proxy" 2>/dev/null || true; }
  wait "$daemon" 2>/dev/null || true
  say "rsync $1: $tries re-runs after errors"
  report rsync "$1" "$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')" $((w1 - w0)) "$up" "$(wc -l < "$CUTS_LOG")"
}

# ---- Phonghop: a hub in the hub namespace, a box in the box namespace ----
ADMIN_PW=bench-admin-pw
SEC_PW=bench-secretary-pw
HTTPS=8443; SYNC=9443

sync_run() {  # label shaped(on|off)
  local hub=$TMP/hub-$1 boxd=$TMP/box-$1 stats=$TMP/sync-proxy-$1.json
  rm -rf "$hub" "$boxd"
  INH "$BIN" init --hub --data "$hub" --room "Văn phòng tỉnh (đo đường truyền)" --admin-password "$ADMIN_PW" >/dev/null
  ip netns exec hub "$BIN" hub --data "$hub" --https-port $HTTPS --http-port 8080 --sync-port $SYNC >"$TMP/hub-$1.log" 2>&1 &
  PIDS+=($!); local hubpid=$!
  local sync_url=https://10.77.0.2:$SYNC
  if [ "$PROXY" = 1 ]; then
    ip netns exec hub "$HELPER" proxy 10.77.0.2:9444 127.0.0.1:$SYNC "$stats" &
    PIDS+=($!); local proxy=$!
    sync_url=https://10.77.0.2:9444
  fi
  until [ -s "$hub/serving.json" ]; do sleep 0.1; done

  # The box, not enrolled yet, gets the meeting package on its own loopback.
  INB "$BIN" init --data "$boxd" --room "Phòng họp xã (đo đường truyền)" --admin-password "$ADMIN_PW" >/dev/null
  INB "$BIN" admin create --data "$boxd" --username thuky --name "Thư ký" --role secretary --password "$SEC_PW" >/dev/null
  ip netns exec box "$BIN" serve --data "$boxd" --https-port $HTTPS --http-port 8080 --mdns off >"$TMP/box-$1.log" 2>&1 &
  local boxpid=$!; PIDS+=("$boxpid")
  until [ -s "$boxd/serving.json" ]; do sleep 0.1; done
  local url=https://127.0.0.1:$HTTPS
  local C=(INB curl -sf --cacert "$boxd/tls/root.pem" -H "Origin: $url")
  local cookie
  cookie=$("${C[@]}" -c - -H 'content-type: application/json' -d "{\"username\":\"thuky\",\"password\":\"$SEC_PW\"}" "$url/api/session" | awk '/phonghop_session/ {print $7}')
  local J=(-H "Cookie: phonghop_session=$cookie" -H 'content-type: application/json')
  idof() { grep -o '"id":"[0-9a-f]\{32\}"' | head -1 | cut -d'"' -f4; }
  local body meeting item
  body=$("${C[@]}" "${J[@]}" -d '{"name":"HĐND xã","kind":"hdnd"}' "$url/api/bodies" | idof)
  meeting=$("${C[@]}" "${J[@]}" -d "{\"body_id\":\"$body\",\"title\":\"Kỳ họp thứ 12\",\"starts_at\":\"2027-01-05T01:00:00Z\"}" "$url/api/meetings" | idof)
  item=$("${C[@]}" "${J[@]}" -d '{"title":"Các tờ trình"}' "$url/api/meetings/$meeting/items" | idof)
  for f in "$PAYLOAD"/*.pdf; do
    "${C[@]}" -o /dev/null -H "Cookie: phonghop_session=$cookie" -H "x-file-name: $(basename "$f")" \
      --data-binary @"$f" "$url/api/meetings/$meeting/items/$item/documents?title=$(basename "$f" .pdf)"
  done
  kill "$boxpid"; wait "$boxpid" 2>/dev/null || true

  # Enrol over the link, then start the box and time it until the hub holds everything.
  local hc=(INH curl -sf --cacert "$hub/tls/root.pem" -H "Origin: $url")
  local hcookie token
  hcookie=$("${hc[@]}" -c - -H 'content-type: application/json' -d "{\"username\":\"admin\",\"password\":\"$ADMIN_PW\"}" "$url/api/session" | awk '/phonghop_session/ {print $7}')
  token=$("${hc[@]}" -H "Cookie: phonghop_session=$hcookie" -H 'content-type: application/json' \
    -d '{"room":"Phòng họp xã (đo đường truyền)"}' "$url/api/hub/enrolments" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
  [ -n "$token" ] || { say "no enrolment token from the hub"; exit 1; }
  INB "$BIN" enroll --data "$boxd" "https://10.77.0.2:$HTTPS" "$token" --sync-url "$sync_url" >&2
  shape "$2"
  CUTS_LOG=$TMP/cuts-sync-$1; : > "$CUTS_LOG"
  local w0; w0=$(wire)
  local t0; t0=$(date +%s.%N)
  ip netns exec box "$BIN" serve --data "$boxd" --https-port $HTTPS --http-port 8080 --mdns off >>"$TMP/box-$1.log" 2>&1 &
  boxpid=$!; PIDS+=("$boxpid")
  local cpid=""
  if [ "$2" = on ]; then cutter "$PAYLOAD_BYTES" & cpid=$!; PIDS+=("$cpid"); fi
  until [ -s "$boxd/serving.json" ] && grep -q "\"pid\": *$boxpid" "$boxd/serving.json"; do sleep 0.1; done
  local bcookie
  bcookie=$("${C[@]}" -c - -H 'content-type: application/json' -d "{\"username\":\"admin\",\"password\":\"$ADMIN_PW\"}" "$url/api/session" | awk '/phonghop_session/ {print $7}')
  local st
  while true; do
    st=$("${C[@]}" -H "Cookie: phonghop_session=$bcookie" "$url/api/sync/status" || true)
    local head at pending backlog
    head=$(echo "$st" | sed -n 's/.*"head":\([0-9]*\).*/\1/p')
    at=$(echo "$st" | sed -n 's/.*"hub_cursor":\([0-9]*\).*/\1/p')
    pending=$(echo "$st" | sed -n 's/.*"blobs_pending":\([0-9]*\).*/\1/p')
    backlog=$(echo "$st" | sed -n 's/.*"backlog_events":\([0-9]*\).*/\1/p')
    if [ -n "$head" ] && [ "$head" = "$at" ] && [ "$pending" = 0 ] && [ "$backlog" = 0 ]; then
      break
    fi
    if [ "$(awk -v t0="$t0" -v now="$(date +%s.%N)" 'BEGIN {print (now - t0 > '"$LIMIT"')}')" = 1 ]; then
      say "sync did not finish within ${LIMIT}s: $st"; exit 1
    fi
    sleep 0.5
  done
  local t1; t1=$(date +%s.%N)
  [ -n "$cpid" ] && { kill "$cpid" 2>/dev/null || true; wait "$cpid" 2>/dev/null || true; }
  ip -n box link set vbox up
  # What the box says it wrote to its connections (event lines and blob bytes, re-sent ones
  # included, also those lost in its socket buffers when a cut aborted them).
  local sent; sent=$(echo "$st" | sed -n 's/.*"bytes_sent":\([0-9]*\).*/\1/p')
  say "phonghop $1: box sent $sent payload bytes in $(echo "$st" | sed -n 's/.*"sessions":\([0-9]*\).*/\1/p') sessions"
  sleep 0.4
  local w1; w1=$(wire)
  local up=0; [ "$PROXY" = 1 ] && up=$(proxy_up "$stats")
  shape off
  kill "$boxpid" "$hubpid" 2>/dev/null || true
  wait "$boxpid" "$hubpid" 2>/dev/null || true
  [ "$PROXY" = 1 ] && { kill "$proxy" 2>/dev/null || true; wait "$proxy" 2>/dev/null || true; }
  # Every PDF whole at the hub, and the hub's chains intact.
  local bad=0
  for f in "$PAYLOAD"/*.pdf; do
    local h; h=$(sha256sum "$f" | cut -d' ' -f1)
    local at="$hub/blobs/${h:0:2}/$h"
    [ -f "$at" ] && [ "$(sha256sum "$at" | cut -d' ' -f1)" = "$h" ] || { say "missing or damaged at the hub: $f"; bad=1; }
  done
  "$BIN" verify --data "$hub" >&2 || bad=1
  [ "$bad" = 0 ] || exit 1
  report phonghop "$1" "$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')" $((w1 - w0)) "$up" "$(wc -l < "$CUTS_LOG")" "$sent"
}

: > "$TMP/results"
for tool in $RUN; do
  if [ "$tool" = rsync ] && [ -n "${SYNC_LINK_NOT_ROOT:-}" ]; then
    say "not root: the rsync half is skipped (its daemon needs setgroups)"; continue
  fi
  if [ "$tool" = sync ] && ! "$BIN" hub --help >/dev/null 2>&1; then
    say "this phonghop has no 'hub' command yet: the sync half is skipped"; continue
  fi
  # A baseline without shaping or cuts, for the bytes re-sent after cuts.
  [ "$PROXY" = 1 ] && ${tool}_run baseline off
  ${tool}_run shaped on
done

# Summary: time against rsync, wire ÷ payload, bytes re-sent per cut.
command -v python3 >/dev/null || exit 0
python3 - "$TMP/results" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
by = {(r["tool"], r["run"]): r for r in rows}
# "hub got twice": bytes the hub's side received beyond the baseline run, per cut (counting
# proxy). "sender re-sent": bytes the box's sync wrote beyond the baseline, per cut (its own
# counter; includes what a cut destroyed in the socket buffers before it reached the wire).
print("\n%-9s %-8s %9s %12s %9s %5s %16s %16s" % ("tool", "run", "seconds", "wire bytes", "wire/pay", "cuts", "hub got twice/cut", "sender re-sent/cut"))
for r in rows:
    base = by.get((r["tool"], "baseline"))
    twice = resent = ""
    if r["run"] == "shaped" and base and r["cuts"]:
        if r["app_bytes_up"]:
            twice = "%d" % ((r["app_bytes_up"] - base["app_bytes_up"]) / r["cuts"])
        if r.get("sender_bytes"):
            resent = "%d" % ((r["sender_bytes"] - base["sender_bytes"]) / r["cuts"])
    print("%-9s %-8s %9.1f %12d %9.4f %5d %16s %16s" % (r["tool"], r["run"], r["seconds"], r["wire_bytes"], r["wire_per_payload"], r["cuts"], twice, resent))
p, s = by.get(("phonghop", "shaped")), by.get(("rsync", "shaped"))
if p and s:
    print("phonghop ÷ rsync time on the shaped link: %.2f (target ≤ 1.1)" % (p["seconds"] / s["seconds"]))
PY

#!/usr/bin/env bash
# Phonghop first boot: turns a fresh Debian 12 or Raspberry Pi OS (bookworm) machine into a
# room box. Safe to run again: each step checks whether it is already done.
#
#   first-boot.sh --room "Phòng họp UBND xã Tân Phú" --slug tanphu --deb phonghop_0.1.0-1_arm64.deb
#                 [--enroll https://hub.example.vn:8443/ --token TOKEN]
#                 [--ap --ssid PhongHop-TanPhu --passphrase '…' [--ap-iface wlan0]
#                  [--ap-address 192.168.50.1] [--country VN] [--channel 6]]
#                 [--dry-run DIR]
#
# --dry-run DIR runs nothing: it writes the files it would install under DIR (same paths as on
# the box) and lists the commands it would run in DIR/commands.txt.
# Steps: host name phonghop-<slug>; install the package; phonghop init; access point (hostapd,
# dnsmasq, a fixed address, phonghop.lan); enrolment with the hub; start; the access sheet.
# See docs/operator-guide.md ("Provisioning a box") for the time each step takes.
set -euo pipefail
# Bash 5.2 would otherwise turn '&' in a replacement into the matched text (passphrases!).
shopt -u patsub_replacement 2>/dev/null || true

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TEMPLATES="${PHONGHOP_TEMPLATES:-$HERE/templates}"
DATA=/var/lib/phonghop
STATE=/var/lib/phonghop-firstboot

ROOM="" SLUG="" DEB="" ENROLL_URL="" TOKEN="" AP=no SSID="" PASSPHRASE=""
IFACE=wlan0 ADDRESS=192.168.50.1 COUNTRY=VN CHANNEL=6 DNS_NAME=phonghop.lan DRY=""

die() { echo "first-boot: $*" >&2; exit 64; }
say() { echo "first-boot: $*"; }

while [ $# -gt 0 ]; do
    case "$1" in
    --ap | -h | --help) ;;
    *) [ $# -ge 2 ] || die "$1 needs a value" ;;
    esac
    case "$1" in
    --room) ROOM="$2"; shift 2 ;;
    --slug) SLUG="$2"; shift 2 ;;
    --deb) DEB="$2"; shift 2 ;;
    --enroll) ENROLL_URL="$2"; shift 2 ;;
    --token) TOKEN="$2"; shift 2 ;;
    --ap) AP=yes; shift ;;
    --ssid) SSID="$2"; shift 2 ;;
    --passphrase) PASSPHRASE="$2"; shift 2 ;;
    --ap-iface) IFACE="$2"; shift 2 ;;
    --ap-address) ADDRESS="$2"; shift 2 ;;
    --country) COUNTRY="$2"; shift 2 ;;
    --channel) CHANNEL="$2"; shift 2 ;;
    --dry-run) DRY="$2"; shift 2 ;;
    -h | --help) sed -n '2,17p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
    esac
done

# --- Check everything before changing anything. ---------------------------------------------
[ -n "$ROOM" ] || die "--room is required (the room's name as tablets show it)"
[[ "$SLUG" =~ ^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$ ]] ||
    die "--slug must be 1-40 of a-z, 0-9 and '-' (it becomes the host name phonghop-<slug>)"
HOST="phonghop-$SLUG"
if [ -n "$ENROLL_URL" ] || [ -n "$TOKEN" ]; then
    if [ -z "$ENROLL_URL" ] || [ -z "$TOKEN" ]; then die "--enroll and --token go together"; fi
    [[ "$ENROLL_URL" =~ ^https:// ]] || die "--enroll must be an https:// address of the hub"
fi
if [ "$AP" = yes ]; then
    ssid_bytes=$(printf '%s' "$SSID" | LC_ALL=C wc -c)
    if [ "$ssid_bytes" -lt 1 ] || [ "$ssid_bytes" -gt 32 ]; then die "--ssid must be 1 to 32 bytes"; fi
    [[ "$SSID" != *[[:cntrl:]]* ]] || die "--ssid must not hold control characters"
    if [[ "$PASSPHRASE" == *$'\n'* ]] ||
        ! printf '%s' "$PASSPHRASE" | LC_ALL=C grep -qxE '[ -~]{8,63}'; then
        die "--passphrase must be 8 to 63 printable ASCII characters (WPA2)"
    fi
    [[ "$IFACE" =~ ^[a-zA-Z0-9_.-]{1,15}$ ]] || die "--ap-iface is not an interface name"
    [[ "$ADDRESS" =~ ^(192\.168|10\.[0-9]{1,3}|172\.(1[6-9]|2[0-9]|3[01]))\.[0-9]{1,3}\.1$ ]] ||
        die "--ap-address must be a private x.y.z.1 address, e.g. 192.168.50.1"
    [[ "$COUNTRY" =~ ^[A-Z]{2}$ ]] || die "--country must be two capital letters, e.g. VN"
    [[ "$CHANNEL" =~ ^([1-9]|1[0-3])$ ]] || die "--channel must be 1 to 13"
fi
if [ -z "$DRY" ]; then
    [ "$(id -u)" = 0 ] || die "run as root (sudo)"
    [ -z "$DEB" ] || [ -f "$DEB" ] || die "no package at $DEB"
fi
PREFIX="${ADDRESS%.1}"

# --- Helpers: the dry run writes under $DRY and lists commands instead of running them. ----
run() {
    if [ -n "$DRY" ]; then
        printf '%q ' "$@" >>"$DRY/commands.txt"
        echo >>"$DRY/commands.txt"
    else
        "$@"
    fi
}

# Writes template $1 to path $2 with the placeholders filled; mode $3.
render() {
    local text
    text="$(cat "$TEMPLATES/$1")"
    text="${text//@IFACE@/$IFACE}"
    text="${text//@SSID@/$SSID}"
    text="${text//@PASSPHRASE@/$PASSPHRASE}"
    text="${text//@COUNTRY@/$COUNTRY}"
    text="${text//@CHANNEL@/$CHANNEL}"
    text="${text//@ADDRESS@/$ADDRESS}"
    text="${text//@DHCP_START@/$PREFIX.20}"
    text="${text//@DHCP_END@/$PREFIX.250}"
    text="${text//@DNS_NAME@/$DNS_NAME}"
    text="${text//@HOSTNAME@/$HOST}"
    local dest="${DRY}$2"
    mkdir -p "$(dirname "$dest")"
    (umask 077 && printf '%s\n' "$text" >"$dest.tmp")
    chmod "$3" "$dest.tmp"
    mv "$dest.tmp" "$dest"
    say "wrote $2"
}

done_before() { [ -z "$DRY" ] && [ -e "$STATE/$1" ]; }
mark_done() { [ -n "$DRY" ] || { mkdir -p "$STATE" && touch "$STATE/$1"; }; }

if [ -n "$DRY" ]; then
    mkdir -p "$DRY"
    : >"$DRY/commands.txt"
fi

# --- 1. Host name. ---------------------------------------------------------------------------
if [ -n "$DRY" ] || [ "$(hostname)" != "$HOST" ]; then
    run hostnamectl set-hostname "$HOST"
    if [ -z "$DRY" ] && ! grep -q "[[:space:]]$HOST\$" /etc/hosts; then
        sed -i '/^127\.0\.1\.1[[:space:]]/d' /etc/hosts
        echo "127.0.1.1 $HOST" >>/etc/hosts
    fi
    say "host name $HOST"
fi

# --- 2. The package. -------------------------------------------------------------------------
if [ -n "$DEB" ]; then
    want=dry have=none
    if [ -z "$DRY" ]; then
        want="$(dpkg-deb -f "$DEB" Version)"
        have="$(dpkg-query -W -f '${Version}' phonghop 2>/dev/null || true)"
    fi
    if [ "$want" != "$have" ]; then
        run apt-get install -y "$(realpath "$DEB")"
    else
        say "phonghop $have is installed"
    fi
fi

# --- 3. The box's data directory. ------------------------------------------------------------
if [ -n "$DRY" ] || [ ! -e "$DATA/phonghop.redb" ]; then
    # Prints the IT admin's password once and keeps it in $DATA/initial-admin-password.txt.
    run runuser -u phonghop -- phonghop init --data "$DATA" --room "$ROOM"
else
    say "the box is set up already ($DATA)"
fi

# --- 4. Access point. ------------------------------------------------------------------------
if [ "$AP" = yes ]; then
    if ! done_before ap-packages; then
        run apt-get install -y hostapd dnsmasq
        mark_done ap-packages
    fi
    render hostapd.conf /etc/hostapd/hostapd.conf 0600
    render dnsmasq.conf /etc/dnsmasq.d/phonghop.conf 0644
    render phonghop-ap.network /etc/systemd/network/10-phonghop-ap.network 0644
    render networkmanager-unmanaged.conf /etc/NetworkManager/conf.d/phonghop-ap.conf 0644
    # Debian ships hostapd masked until it has a configuration.
    run systemctl unmask hostapd.service
    run systemctl enable systemd-networkd.service hostapd.service dnsmasq.service
    if [ -z "$DRY" ] && systemctl is-active --quiet NetworkManager.service; then
        run systemctl reload NetworkManager.service
    fi
    run systemctl restart systemd-networkd.service hostapd.service dnsmasq.service
fi

# --- 5. Enrolment with the hub (the box must not be running; the hub issued the token). -------
if [ -n "$ENROLL_URL" ] && ! done_before enrolled; then
    # In the environment, not on the command line, so `ps` does not show it.
    export PHONGHOP_ENROLL_TOKEN="$TOKEN"
    run runuser -u phonghop -- phonghop enroll --data "$DATA" "$ENROLL_URL"
    unset PHONGHOP_ENROLL_TOKEN
    mark_done enrolled
fi

# --- 6. Start, and wait until it answers. -----------------------------------------------------
run systemctl enable --now phonghop.service
if [ -z "$DRY" ]; then
    for _ in $(seq 1 60); do
        curl -fsS -o /dev/null http://localhost/healthz 2>/dev/null && break
        sleep 1
    done
    curl -fsS -o /dev/null http://localhost/healthz || {
        echo "first-boot: the box did not answer in 60 s: journalctl -u phonghop -n 50" >&2
        exit 70
    }
    say "the box answers on http://localhost/"
fi

# --- 7. The access sheet (A4 PDF to print). ---------------------------------------------------
if [ "$AP" = yes ]; then
    run phonghop access-sheet --data "$DATA" --room "$ROOM" --ssid "$SSID" \
        --passphrase "$PASSPHRASE" --url "http://$DNS_NAME/" --out "$STATE/to-ket-noi.pdf"
    say "print $STATE/to-ket-noi.pdf and leave it at the secretary's desk"
fi
say "done: $HOST"

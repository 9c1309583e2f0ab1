#!/usr/bin/env bash
# In make test (on the debug build's package) and make test-deb-chroot (the release one); root
# and the Debian mirror, skipped with a message without them: the package installed for real
# with apt in a fresh Debian 12 chroot (debootstrap --variant=minbase), with the real adduser
# and deb-systemd-helper; then `phonghop init` and a first start as the service user, an
# upgrade, a remove and a purge. systemd does not run in the chroot, so nothing is started by
# the maintainer scripts; the unit's enablement is read from its symlink.
#   tests/deb/test-deb-chroot.sh path/to/phonghop_VERSION_ARCH.deb [CHROOT_DIR]
set -euo pipefail

DEB="$(realpath "${1:?usage: test-deb-chroot.sh DEB [CHROOT_DIR]}")"
R="${2:-/tmp/phonghop-chroot}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
[ "$(id -u)" = 0 ] || { echo "SKIPPED: needs root (chroot, debootstrap)"; exit 0; }
command -v debootstrap >/dev/null || apt-get install -y -q debootstrap
pass=0
ok() { pass=$((pass + 1)); echo "ok $pass - $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
in_root() { chroot "$R" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }

if [ ! -x "$R/usr/bin/apt-get" ]; then
    start=$(date +%s)
    if ! debootstrap --variant=minbase bookworm "$R" "$MIRROR" >"${R%/}.debootstrap.log" 2>&1; then
        echo "SKIPPED: debootstrap from $MIRROR failed (no mirror?): see ${R%/}.debootstrap.log"
        exit 0
    fi
    ok "debootstrap bookworm minbase in $(($(date +%s) - start)) s"
fi
cp /etc/resolv.conf "$R/etc/resolv.conf"
mountpoint -q "$R/proc" || mount -t proc proc "$R/proc"
trap 'umount "$R/proc" 2>/dev/null || true' EXIT
# Like a real first install: no earlier state.
in_root sh -c 'dpkg -P phonghop >/dev/null 2>&1 || true; rm -rf /var/lib/phonghop /etc/phonghop'
cp "$DEB" "$R/tmp/phonghop.deb"

start=$(date +%s)
in_root apt-get install -y -q /tmp/phonghop.deb >"$R/tmp/install.log" 2>&1 ||
    { cat "$R/tmp/install.log"; fail "apt-get install"; }
ok "apt-get install (with its dependencies) in $(($(date +%s) - start)) s"
in_root getent passwd phonghop | grep -q ':/var/lib/phonghop:/usr/sbin/nologin$' || fail "no system user"
[ "$(in_root stat -c '%a %U' /var/lib/phonghop)" = "700 phonghop" ] || fail "data directory"
[ -L "$R/etc/systemd/system/multi-user.target.wants/phonghop.service" ] || fail "box unit not enabled"
[ ! -e "$R/etc/systemd/system/multi-user.target.wants/phonghop-hub.service" ] || fail "hub enabled"
ok "system user phonghop, /var/lib/phonghop 0700, phonghop.service enabled, the hub's not"

start=$(date +%s)
in_root runuser -u phonghop -- phonghop init --data /var/lib/phonghop --room "Phòng họp thử" \
    --admin-password mat-khau-thu-1 >/dev/null || fail "init"
ok "phonghop init as the service user in $(($(date +%s) - start)) s"
in_root runuser -u phonghop -- env PHONGHOP_CONFIG=/etc/phonghop/phonghop.toml \
    phonghop serve --data /var/lib/phonghop --https-port 0 --http-port 0 --mdns off \
    >"$R/tmp/serve.log" 2>&1 &
served=""
for _ in $(seq 1 100); do
    [ -s "$R/var/lib/phonghop/serving.json" ] && { served=yes; break; }
    sleep 0.1
done
# The box's own pid, from serving.json (a chroot shares the host's pid space).
box_pid="$(sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' "$R/var/lib/phonghop/serving.json" 2>/dev/null || true)"
if [ -n "$box_pid" ]; then
    kill -TERM "$box_pid"
    for _ in $(seq 1 100); do kill -0 "$box_pid" 2>/dev/null || break; sleep 0.1; done
fi
wait || true
[ -n "$served" ] || { cat "$R/tmp/serve.log"; fail "the box did not start in the chroot"; }
[ -f "$R/var/lib/phonghop/tls/root.pem" ] || fail "no CA after the first start"
ok "first start as the service user with /etc/phonghop/phonghop.toml: serving, CA made"

echo 'max_upload_mb = 300' >>"$R/etc/phonghop/phonghop.toml"
mkdir -p "$R/tmp/v2"
dpkg-deb -R "$DEB" "$R/tmp/v2/pkg"
v2="$(dpkg-deb -f "$DEB" Version | cut -d- -f1)-99"
sed -i "s/^Version: .*/Version: $v2/" "$R/tmp/v2/pkg/DEBIAN/control"
dpkg-deb --root-owner-group -Zgzip -b "$R/tmp/v2/pkg" "$R/tmp/phonghop-v2.deb" >/dev/null
rm -rf "$R/tmp/v2"
in_root apt-get install -y -q -o Dpkg::Options::=--force-confold /tmp/phonghop-v2.deb >/dev/null 2>&1 ||
    fail "upgrade"
# shellcheck disable=SC2016 # dpkg-query's own ${Version}
[ "$(in_root dpkg-query -W -f '${Version}' phonghop)" = "$v2" ] || fail "not upgraded"
grep -qx 'max_upload_mb = 300' "$R/etc/phonghop/phonghop.toml" || fail "edited config lost"
[ -f "$R/var/lib/phonghop/phonghop.redb" ] || fail "records lost on upgrade"
in_root runuser -u phonghop -- phonghop verify --data /var/lib/phonghop >/dev/null || fail "verify after upgrade"
ok "upgrade to $v2: edited config and records kept, verify passes"

in_root apt-get remove -y -q phonghop >/dev/null 2>&1 || fail "remove"
[ ! -e "$R/usr/bin/phonghop" ] || fail "the program is left after remove"
[ -f "$R/var/lib/phonghop/phonghop.redb" ] || fail "remove deleted the records"
in_root apt-get purge -y -q phonghop >/dev/null 2>&1 || fail "purge"
[ ! -e "$R/etc/phonghop" ] || fail "/etc/phonghop left after purge"
[ -f "$R/var/lib/phonghop/phonghop.redb" ] || fail "purge deleted the records unasked"
[ ! -e "$R/etc/systemd/system/multi-user.target.wants/phonghop.service" ] || fail "unit link left"
ok "remove keeps the records; purge removes /etc/phonghop and the unit link, keeps the records"
echo "1..$pass"

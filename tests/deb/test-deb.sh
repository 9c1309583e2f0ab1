#!/usr/bin/env bash
# Checks the Debian package (make test-deb): control fields, the file list with owners and
# modes, conffiles, the units as in systemd/, the maintainer scripts (shellcheck), and a real
# dpkg install, upgrade, remove and purge into a fake root. dpkg runs the maintainer scripts
# there with DPKG_ROOT set (--root with --force-script-chrootless); adduser, getent, chown,
# systemctl and deb-systemd-helper/-invoke are shims that record what they were asked, so the
# host is never touched.
# The shims below are single-quoted on purpose: their text expands when a shim runs.
# shellcheck disable=SC2016
set -euo pipefail

DEB="${1:?usage: test-deb.sh path/to/phonghop_VERSION_ARCH.deb}"
DEB="$(realpath "$DEB")"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
pass=0
ok() { pass=$((pass + 1)); echo "ok $pass - $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

field() { dpkg-deb -f "$DEB" "$1"; }

# --- Control fields. ---------------------------------------------------------------------------
[ "$(field Package)" = phonghop ] || fail "Package is $(field Package)"
[[ "$(field Version)" =~ ^[0-9]+\.[0-9]+\.[0-9]+-[0-9]+$ ]] || fail "Version $(field Version)"
arch="$(field Architecture)"
[[ "$arch" =~ ^(amd64|arm64)$ ]] || fail "Architecture $arch"
for dep in adduser "init-system-helpers (>= 1.56)" libc6; do
    [[ "$(field Depends)" == *"$dep"* ]] || fail "Depends lacks $dep: $(field Depends)"
done
if [ -z "$(field Maintainer)" ] || [ -z "$(field Description)" ]; then fail "no Maintainer or Description"; fi
ok "control: phonghop $(field Version) $arch, Depends $(field Depends)"

# --- Files, owners and modes. ------------------------------------------------------------------
listing="$(dpkg-deb -c "$DEB")"
files="$(awk '$1 !~ /^d/ {print $1, $2, $6}' <<<"$listing" | sed 's# \./# /#' | sort -k3)"
expected="$(sort -k3 <<'EOF'
-rw-r--r-- 0/0 /etc/phonghop/phonghop-hub.toml
-rw-r--r-- 0/0 /etc/phonghop/phonghop.toml
-rw-r--r-- 0/0 /lib/systemd/system/phonghop-hub.service
-rw-r--r-- 0/0 /lib/systemd/system/phonghop.service
-rwxr-xr-x 0/0 /usr/bin/phonghop
-rw-r--r-- 0/0 /usr/share/doc/phonghop/README.md
-rw-r--r-- 0/0 /usr/share/doc/phonghop/api.md
-rw-r--r-- 0/0 /usr/share/doc/phonghop/architecture.md
-rw-r--r-- 0/0 /usr/share/doc/phonghop/copyright
-rw-r--r-- 0/0 /usr/share/doc/phonghop/fonts-OFL.txt
-rw-r--r-- 0/0 /usr/share/doc/phonghop/operator-guide.md
-rw-r--r-- 0/0 /usr/share/doc/phonghop/provisioning.md
-rw-r--r-- 0/0 /usr/share/doc/phonghop/security.md
-rwxr-xr-x 0/0 /usr/share/phonghop/provisioning/first-boot.sh
-rw-r--r-- 0/0 /usr/share/phonghop/provisioning/templates/dnsmasq.conf
-rw-r--r-- 0/0 /usr/share/phonghop/provisioning/templates/hostapd.conf
-rw-r--r-- 0/0 /usr/share/phonghop/provisioning/templates/networkmanager-unmanaged.conf
-rw-r--r-- 0/0 /usr/share/phonghop/provisioning/templates/phonghop-ap.network
EOF
)"
diff <(echo "$expected") <(echo "$files") || fail "file list, owners or modes differ (- expected, + in the package)"
awk '$1 ~ /^d/ && $1 != "drwxr-xr-x" {exit 1}' <<<"$listing" || fail "a directory is not 0755"
ok "files: $(wc -l <<<"$files") files, root-owned, modes as expected"

dpkg-deb -e "$DEB" "$WORK/control"
diff <(printf '/etc/phonghop/phonghop.toml\n/etc/phonghop/phonghop-hub.toml\n' | sort) \
    <(sort "$WORK/control/conffiles") || fail "conffiles"
for s in postinst prerm postrm; do
    [ "$(stat -c %a "$WORK/control/$s")" = 755 ] || fail "$s is not 0755"
    cmp -s "$WORK/control/$s" "$REPO/packaging/deb/$s" || fail "$s differs from packaging/deb/$s"
done
ok "conffiles are the two configs; postinst, prerm, postrm are packaging/deb's, 0755"

dpkg-deb -x "$DEB" "$WORK/x"
for u in phonghop.service phonghop-hub.service; do
    cmp -s "$WORK/x/lib/systemd/system/$u" "$REPO/systemd/$u" || fail "$u differs from systemd/$u"
done
grep -qx 'ExecStart=/usr/bin/phonghop serve --data /var/lib/phonghop --log-format json' \
    "$WORK/x/lib/systemd/system/phonghop.service" || fail "the box unit does not run /usr/bin/phonghop"
ok "units are systemd/'s and run /usr/bin/phonghop"
if [ "$arch" = "$(dpkg --print-architecture)" ]; then
    "$WORK/x/usr/bin/phonghop" --version | grep -q "^phonghop $(field Version | cut -d- -f1)$" ||
        fail "the packaged binary does not say its version"
    "$WORK/x/usr/bin/phonghop" access-sheet --help | grep -q -- --passphrase || fail "no access-sheet"
    ok "the packaged binary runs: $("$WORK/x/usr/bin/phonghop" --version)"
else
    machine="$(od -An -t u2 -j 18 -N 2 "$WORK/x/usr/bin/phonghop" | tr -d ' ')"
    case "$arch:$machine" in
    arm64:183 | amd64:62) ok "the packaged binary is an ELF for $arch (e_machine $machine)" ;;
    *) fail "the packaged binary's e_machine is $machine, not $arch's" ;;
    esac
    echo "# SKIPPED running the binary: $arch package on $(dpkg --print-architecture)"
fi
if command -v shellcheck >/dev/null; then
    shellcheck "$REPO"/packaging/deb/{postinst,prerm,postrm} "$REPO/provisioning/first-boot.sh"
    ok "shellcheck: maintainer scripts and first-boot.sh"
else
    echo "# SKIPPED shellcheck: not installed (apt-get install shellcheck)"
fi

# --- A real dpkg install, upgrade, remove and purge into a fake root. ---------------------------
R="$WORK/root"
SHIMS="$WORK/shims"
export SHIM_LOG="$WORK/calls.log" SHIM_STATE="$WORK/state"
mkdir -p "$R"/var/lib/dpkg/{info,updates,triggers} "$R/var/log" "$SHIMS" "$SHIM_STATE"
touch "$R/var/lib/dpkg/status" "$SHIM_LOG"
shim() { printf '#!/bin/sh\n%s\n' "$2" >"$SHIMS/$1"; chmod 755 "$SHIMS/$1"; }
# Accounts live in a state file; every call is logged as "name args". (The shims' text is
# single-quoted on purpose: it expands when the shim runs.)

shim getent 'echo "getent $*" >>"$SHIM_LOG"; grep -qx "$1 $2" "$SHIM_STATE/accounts" 2>/dev/null'
shim addgroup 'echo "addgroup $*" >>"$SHIM_LOG"; for a; do n=$a; done; echo "group $n" >>"$SHIM_STATE/accounts"'
shim adduser 'echo "adduser $*" >>"$SHIM_LOG"; for a; do n=$a; done; echo "passwd $n" >>"$SHIM_STATE/accounts"'
shim chown 'echo "chown $*" >>"$SHIM_LOG"'
shim systemctl 'echo "systemctl $*" >>"$SHIM_LOG"'
shim deb-systemd-invoke 'echo "deb-systemd-invoke $*" >>"$SHIM_LOG"'
shim deb-systemd-helper 'echo "deb-systemd-helper $*" >>"$SHIM_LOG"
[ "$1" = --quiet ] && shift
case "$1" in
debian-installed) test -e "$SHIM_STATE/installed-$2" ;;
was-enabled) test -e "$SHIM_STATE/enabled-$2" ;;
enable) touch "$SHIM_STATE/installed-$2" "$SHIM_STATE/enabled-$2" ;;
update-state) touch "$SHIM_STATE/installed-$2" ;;
purge) shift; for u; do rm -f "$SHIM_STATE/installed-$u" "$SHIM_STATE/enabled-$u"; done ;;
esac
exit 0'
dpkg_r() { PATH="$SHIMS:$PATH" dpkg --root="$R" --force-script-chrootless --force-depends --force-architecture \
    --force-unsafe-io --log=/dev/null "$@" >"$WORK/dpkg.out" 2>&1 || { cat "$WORK/dpkg.out"; fail "dpkg $*"; }; }
called() { grep -qxF "$1" "$SHIM_LOG"; }
status() { dpkg-query --admindir="$R/var/lib/dpkg" -W -f '${Status} ${Version}' phonghop 2>/dev/null || true; }

dpkg_r -i "$DEB"
[ "$(status)" = "install ok installed $(field Version)" ] || fail "status after install: $(status)"
called "addgroup --system --quiet phonghop" || fail "no system group made"
called "adduser --system --quiet --ingroup phonghop --home /var/lib/phonghop --no-create-home --shell /usr/sbin/nologin --gecos Phonghop meeting room phonghop" ||
    fail "no system user made: $(cat "$SHIM_LOG")"
[ "$(stat -c %a "$R/var/lib/phonghop")" = 700 ] || fail "data directory not 0700"
called "chown phonghop:phonghop $R/var/lib/phonghop" || fail "data directory not given to phonghop"
called "deb-systemd-helper enable phonghop.service" || fail "box unit not enabled"
! grep -q "enable phonghop-hub.service" "$SHIM_LOG" || fail "the hub unit was enabled"
! grep -q "^systemctl\|^deb-systemd-invoke" "$SHIM_LOG" || fail "systemctl called without systemd running"
if [ ! -x "$R/usr/bin/phonghop" ] || [ ! -f "$R/etc/phonghop/phonghop.toml" ]; then fail "files not installed"; fi
ok "install: user and group made, /var/lib/phonghop 0700 for phonghop, box unit enabled, hub not, nothing started"

# The IT admin edits the config; the box has records.
echo 'https_port = 8443' >>"$R/etc/phonghop/phonghop.toml"
echo records >"$R/var/lib/phonghop/phonghop.redb"
: >"$SHIM_LOG"
# Version 2 of the same package, as an upgrade; systemd now runs.
mkdir -p "$WORK/v2" "$R/run/systemd/system"
dpkg-deb -R "$DEB" "$WORK/v2/pkg"
v2="$(field Version | cut -d- -f1)-99"
sed -i "s/^Version: .*/Version: $v2/" "$WORK/v2/pkg/DEBIAN/control"
dpkg-deb --root-owner-group -Zgzip -b "$WORK/v2/pkg" "$WORK/v2/phonghop_v2.deb" >/dev/null
dpkg_r --force-confold -i "$WORK/v2/phonghop_v2.deb"
[ "$(status)" = "install ok installed $v2" ] || fail "status after upgrade: $(status)"
! grep -q "^adduser\|^addgroup" "$SHIM_LOG" || fail "accounts made again on upgrade"
grep -qx 'https_port = 8443' "$R/etc/phonghop/phonghop.toml" || fail "the edited config was replaced"
[ "$(cat "$R/var/lib/phonghop/phonghop.redb")" = records ] || fail "records touched by the upgrade"
called "deb-systemd-helper enable phonghop.service" || fail "box unit not kept enabled"
called "systemctl --system daemon-reload" || fail "no daemon-reload on upgrade"
called "deb-systemd-invoke try-restart phonghop.service phonghop-hub.service" || fail "not restarted on upgrade"
! grep -q "deb-systemd-invoke stop" "$SHIM_LOG" || fail "stopped on upgrade"
ok "upgrade to $v2: edited config kept, records kept, accounts not remade, restarted if running"

: >"$SHIM_LOG"
dpkg_r -r phonghop
called "deb-systemd-invoke stop phonghop.service phonghop-hub.service" || fail "not stopped on remove"
[ ! -e "$R/usr/bin/phonghop" ] || fail "binary left after remove"
[ -f "$R/etc/phonghop/phonghop.toml" ] || fail "config removed by remove (only purge may)"
[ -f "$R/var/lib/phonghop/phonghop.redb" ] || fail "records removed by remove"
ok "remove: stopped, program gone, config and records kept"

dpkg_r -P phonghop
[ ! -e "$R/etc/phonghop" ] || fail "/etc/phonghop left after purge: $(ls -A "$R/etc/phonghop")"
[ -f "$R/var/lib/phonghop/phonghop.redb" ] || fail "purge deleted the records without being asked"
grep -q "kept the meeting records" "$WORK/dpkg.out" || fail "purge did not say it kept the records"
called "deb-systemd-helper purge phonghop.service phonghop-hub.service" || fail "units' state not purged"
[ -z "$(status | grep installed || true)" ] || fail "still installed: $(status)"
ok "purge: /etc/phonghop and the units' state gone, records kept (and said so)"

# Asked to delete: the marker file, then the environment variable.
dpkg_r -i "$DEB"
touch "$R/etc/phonghop/purge-data"
dpkg_r -P phonghop
[ ! -e "$R/var/lib/phonghop" ] || fail "purge with /etc/phonghop/purge-data kept the records"
dpkg_r -i "$DEB"
echo records >"$R/var/lib/phonghop/phonghop.redb"
PHONGHOP_PURGE_DATA=yes dpkg_r -P phonghop
[ ! -e "$R/var/lib/phonghop" ] || fail "purge with PHONGHOP_PURGE_DATA=yes kept the records"
ok "purge deletes the records only when asked (purge-data marker or PHONGHOP_PURGE_DATA=yes)"

echo "1..$pass"

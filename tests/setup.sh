#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine with the Rust toolchain:
# Node.js and npm, Debian's Chromium (driven by playwright-core), NSS tools to make Chromium
# trust the box's CA, openssl, iproute2 and util-linux (unshare) for the TLS and mDNS tests, and
# faketime for the doctor's clock test.
set -euo pipefail
need=()
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
# `tests/setup.sh build` installs only what building the web app needs (for `make run`).
if [ "${1:-}" != build ]; then
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v certutil >/dev/null || need+=(libnss3-tools)
command -v openssl >/dev/null || need+=(openssl)
command -v ip >/dev/null || need+=(iproute2)
command -v unshare >/dev/null || need+=(util-linux)
# The shaped link between a box and a hub (tests/integration/shaped_link.rs, make bench-sync).
command -v nft >/dev/null || need+=(nftables)
command -v curl >/dev/null || need+=(curl)
command -v rsync >/dev/null || need+=(rsync)
# `phonghop doctor` is tested under a wrong clock (libfaketime, LD_PRELOAD).
command -v faketime >/dev/null || need+=(faketime)
fc-list 2>/dev/null | grep -qi noto || need+=(fonts-noto-core)
# The systemd units' checks (systemd-analyze), the package's (dpkg-deb, shellcheck), and the
# frozen-disk watchdog test (mkfs.ext4, fsfreeze, nsenter).
command -v systemd-analyze >/dev/null || need+=(systemd)
command -v shellcheck >/dev/null || need+=(shellcheck)
command -v mkfs.ext4 >/dev/null || need+=(e2fsprogs)
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "tests/setup.sh: installing ${need[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${need[@]}"
fi
# `tests/setup.sh deb`: cargo-deb for `make deb` (a crates.io install, about 35 s).
if [ "${1:-}" = deb ] && ! command -v cargo-deb >/dev/null; then
  cargo install cargo-deb --locked
fi

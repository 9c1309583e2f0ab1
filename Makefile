# Phonghop: the two commands from the README.
#   make run   — build everything and run a demo box on ./data (https://localhost:8443/)
#   make test  — install what the tests need, then run every check and test
SHELL := /bin/bash
DATA ?= ./data
ROOM ?= Phòng họp UBND xã Tân Phú (demo)
HTTPS_PORT ?= 8443
HTTP_PORT ?= 8080

.PHONY: run test web web-deps test-deps lint rust-test browser-test release bench bench-serving bench-writes bench-startup bench-live bench-vote bench-notes bench-download bench-backup bench-sync bench-sync-faults deb test-deb test-deb-dev test-deb-chroot cross-arm64 clean

web/node_modules/.package-lock.json: web/package-lock.json
	bash tests/setup.sh build
	cd web && npm ci --no-audit --no-fund
	@touch $@

# The web app is built again only when its sources changed: the box embeds web/dist, so a
# rebuilt dist also rebuilds the binary (a second `make run` starts at once).
WEB_SOURCES := $(shell find web/src web/src-sw web/public -type f 2>/dev/null) \
	web/index.html web/vite.config.ts web/svelte.config.js web/tsconfig.json \
	web/tsconfig.sw.json web/package.json

web/dist/index.html: web/node_modules/.package-lock.json $(WEB_SOURCES)
	cd web && npm run build

web: web/dist/index.html

release: web
	cargo build --release --locked

run: release
	./target/release/phonghop serve --data "$(DATA)" --https-port $(HTTPS_PORT) --http-port $(HTTP_PORT) \
		--mdns lo --demo --room "$(ROOM)"

test-deps:
	bash tests/setup.sh

lint:
	cargo fmt --all -- --check
	cargo clippy --locked --all-targets -- -D warnings

rust-test: web
	cargo test --locked

browser-test: web
	cargo build --locked --bin phonghop
	cd tests/browser && npm ci --no-audit --no-fund
	node --test --test-concurrency=1 tests/browser/

test: test-deps web lint rust-test browser-test test-deb-dev

# The Debian package (cargo-deb, installed on first use): target/debian/phonghop_<v>-1_<arch>.deb
# with the binary, both systemd units, /etc/phonghop/*.toml, the first-boot script and the docs.
DEB_VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
DEB_ARCH ?= $(shell dpkg --print-architecture 2>/dev/null || echo amd64)
DEB_FILE = target/debian/phonghop_$(DEB_VERSION)-1_$(DEB_ARCH).deb
deb: web
	bash tests/setup.sh deb
	cargo deb --locked --output target/debian/

# The package's contents and a dpkg install, upgrade, remove and purge in a fake root.
test-deb: deb
	bash tests/deb/test-deb.sh $(DEB_FILE)

# The release package installed with apt in a debootstrap chroot (root, the Debian mirror;
# 56 s from scratch here, 6 s with the chroot made): init and a first start as the service user, upgrade, remove, purge.
test-deb-chroot: deb
	bash tests/deb/test-deb-chroot.sh $(DEB_FILE)

# In `make test`: the same package built from the debug binary the tests already made (4 s,
# against 3+ min of CPU for the release build), so its contents, its scripts and an apt install
# in a chroot are checked on every run; `make test-deb` checks the release package.
test-deb-dev: rust-test
	bash tests/setup.sh deb
	cargo build --locked --bin phonghop
	cargo deb --locked --profile dev --no-build --fast --output target/debian-dev/
	bash tests/deb/test-deb.sh target/debian-dev/phonghop_$(DEB_VERSION)-1_$(DEB_ARCH).deb
	bash tests/deb/test-deb-chroot.sh target/debian-dev/phonghop_$(DEB_VERSION)-1_$(DEB_ARCH).deb

# The arm64 binary and package for a Raspberry Pi 4/5 (docs/operator-guide.md, "arm64").
cross-arm64: web
	bash tests/setup.sh deb
	rustup target add aarch64-unknown-linux-gnu
	dpkg -s gcc-aarch64-linux-gnu >/dev/null 2>&1 || apt-get install -y gcc-aarch64-linux-gnu libc6-dev-arm64-cross
	CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
	CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc \
		cargo deb --locked --target aarch64-unknown-linux-gnu --output target/debian/

clean:
	cargo clean
	rm -rf web/dist web/node_modules tests/browser/node_modules

# Speed figures (not part of `make test`): bench-serving (start-up, RSS, requests/s, live feeds,
# the reader, web bytes, blob checks); acknowledged writes/s for a 10-item and a 5,000-item
# meeting; start-up with 1,000,000 events; 100, 500 and 2,000 tablets in one live meeting.
bench: bench-serving bench-writes bench-startup bench-live

bench-serving: release
	bash benches/skeleton.sh
	PHONGHOP_BIN=target/release/phonghop node benches/live-tablets.mjs 500
	PHONGHOP_BIN=target/release/phonghop bash benches/reader-scanned.sh
	bash benches/web-bytes.sh
	bash benches/blob-verify.sh
	bash benches/hostile.sh

bench-writes: release
	bash benches/writes.sh

bench-startup: release
	bash benches/startup.sh

bench-backup: release
	bash benches/backup.sh

bench-live: release
	bash benches/live.sh 100 500 2000

# Issue 10: 1,000 tablets with their feeds open each sign and send a ballot at once, in a named
# and a secret vote; ballots accepted/s, close -> result on every tablet, RSS, counted once.
VOTE_TABLETS ?= 1000
bench-vote: release
	LIVE_ARGS="--vote $(LIVE_ARGS)" bash benches/live.sh $(VOTE_TABLETS)

# 100 cycles of a tablet writing a note offline, its page killed, and the Wi-Fi back (issue 11).
bench-notes: web
	cargo build --locked --bin phonghop
	cd tests/browser && npm ci --no-audit --no-fund
	NOTES_SOAK_CYCLES=$${NOTES_SOAK_CYCLES:-100} node --test tests/browser/notes-soak.test.mjs

bench-download: release
	bash benches/download.sh

# Issue 12: a hub and a box on a shaped link (two namespaces, a veth with tbf, loss and cuts)
# against rsync of the same ~100 MB of PDFs over the same link: scenario a (1 Mbit/s, 5% loss,
# three cuts) and b (256 kbit/s, a drop every 60 s). Hours, not minutes; SCENARIO=a or b alone,
# PAYLOAD_MB=… to scale down.
SYNC_SCENARIOS ?= a b
bench-sync: release
	cargo build --release --locked --example sync-link
	for s in $(SYNC_SCENARIOS); do SCENARIO=$$s BUILD=0 bash benches/sync-link.sh || exit 1; done

# The sync fault test over many more random schedules than `make test` runs (6), from a random
# seed unless SYNC_FAULT_SEED is given.
SYNC_FAULT_ROUNDS ?= 100
bench-sync-faults: web
	SYNC_FAULT_ROUNDS=$(SYNC_FAULT_ROUNDS) SYNC_FAULT_SEED=$${SYNC_FAULT_SEED:-$$RANDOM$$RANDOM} \
		cargo test --locked --test integration sync_faults::sync_converges -- --nocapture

#!/usr/bin/env bash
# Time to page 1 of a 50 MB, 300-page scanned PDF that is not linearized, with Chromium throttled
# to 20 Mbit/s (CDP Network.emulateNetworkConditions), and the share of the file fetched first.
# Usage: bash benches/reader-scanned.sh   (needs the binary, web/dist and tests/browser deps)
set -euo pipefail
cd "$(dirname "$0")/../tests/browser"
PHONGHOP_THROTTLE=1 node --test reader-scanned.test.mjs 2>&1 | grep -E 'figures|^# (pass|fail)'

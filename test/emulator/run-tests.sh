#!/usr/bin/env bash
# Build the emulator and run its tests through the official Alibaba Cloud SDK
# core, installed into test/emulator/sdk/node_modules with `npm ci`: exactly
# the versions and integrity hashes of the committed package-lock.json, again
# whenever the lockfile is newer than what is installed.
set -euo pipefail
cd "$(dirname "$0")"
make -s
cd sdk
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
	npm ci --no-audit --no-fund --loglevel=error >/dev/null
fi
node --test --test-reporter=tap

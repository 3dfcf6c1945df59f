#!/usr/bin/env bash
# Build the emulator and run its tests through the official Alibaba Cloud SDK
# core (installed from npm into test/emulator/sdk/node_modules on first use).
set -euo pipefail
cd "$(dirname "$0")"
make -s
cd sdk
if [ ! -d node_modules/@alicloud/openapi-client ]; then
	npm install --no-audit --no-fund --loglevel=error >/dev/null
fi
node --test --test-reporter=tap

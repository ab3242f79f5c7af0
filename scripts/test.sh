#!/usr/bin/env bash
# The README's test command: installs what is missing, builds the binaries, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bun run build
# Integration tests start daemons and mount filesystems: 60 s before a test counts as hung
# (Bun's default is 5 s, and bunfig.toml has no per-test timeout setting).
exec bun test --timeout 60000 "$@"

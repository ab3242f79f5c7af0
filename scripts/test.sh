#!/usr/bin/env bash
# The README's test command: installs what is missing, builds the binaries, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bun run build
exec bun test "$@"

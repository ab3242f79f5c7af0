#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks to build, test and run Scorpio. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

BUN_VERSION="${BUN_VERSION:-1.4.5}"
APT_PACKAGES=(fuse3 libfuse3-3 libfuse3-dev git gcc libc6-dev pkg-config ca-certificates curl xz-utils attr python3 stress-ng fio zsh fish git-lfs)

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! command -v bun >/dev/null 2>&1; then
  echo "setup: installing bun@${BUN_VERSION} from npm" >&2
  as_root npm install -g "bun@${BUN_VERSION}" >/dev/null
fi

bun install --frozen-lockfile >/dev/null
echo "setup: ok (bun $(bun --version), libfuse $(pkg-config --modversion fuse3 2>/dev/null || echo '?'))" >&2

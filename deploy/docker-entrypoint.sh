#!/bin/sh
# Container entrypoint: makes sure a config file exists, then runs scorpio with it.
#
# A config mounted at $SCORPIO_CONFIG_PATH (default /etc/scorpio/scorpio.toml) is used as is. Without one, a config
# is written from the environment: SCORPIO_BASE_URL (required to serve), SCORPIO_LFS_URL (default
# $SCORPIO_BASE_URL/info/lfs, where Mega serves Git LFS), and the paths (default under /var/lib/scorpiofs). SCORPIO_<KEY> variables keep
# overriding the file at run time, as everywhere.
set -e

CONFIG="${SCORPIO_CONFIG_PATH:-/etc/scorpio/scorpio.toml}"

# Top-level help and version need no config (and take no --config-path).
case "${1:-}" in
  -V|--version|-h|--help|help) exec scorpio "$@" ;;
  healthcheck)
    # The container HEALTHCHECK: `scorpio status` finds the daemon at the address it recorded in its state
    # file (whatever --http-addr says), and a degraded /health (Mega unreachable, disk full, a failed mount)
    # fails the check.
    out="$(scorpio --config-path "$CONFIG" status --json)" || exit 1
    # `ok` from scorpio serve, `healthy` from the standalone antares daemon.
    printf '%s\n' "$out" | grep -Eq '"status": "(ok|healthy)"' || { printf '%s\n' "$out" >&2; exit 1; }
    exit 0 ;;
esac

serve_mode=0
[ "$#" -eq 0 ] && serve_mode=1
for arg in "$@"; do
  [ "$arg" = serve ] && serve_mode=1
done

# toml_str VALUE: a TOML basic string (backslashes and quotes escaped).
toml_str() {
  printf '"%s"' "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')"
}

write_config() {
  data=/var/lib/scorpiofs
  base="${SCORPIO_BASE_URL:-http://localhost:8000}"
  set -- \
    base_url "$base" \
    lfs_url "${SCORPIO_LFS_URL:-${base%/}/info/lfs}" \
    log_level "${SCORPIO_LOG_LEVEL:-info}" \
    workspace "${SCORPIO_WORKSPACE:-$data/mount}" \
    store_path "${SCORPIO_STORE_PATH:-$data/store}" \
    config_file "${SCORPIO_CONFIG_FILE:-$data/runtime.toml}" \
    antares_upper_root "${SCORPIO_ANTARES_UPPER_ROOT:-$data/antares/upper}" \
    antares_cl_root "${SCORPIO_ANTARES_CL_ROOT:-$data/antares/cl}" \
    antares_mount_root "${SCORPIO_ANTARES_MOUNT_ROOT:-$data/antares/mnt}" \
    antares_state_file "${SCORPIO_ANTARES_STATE_FILE:-$data/antares/state.toml}"
  mkdir -p "$(dirname "$CONFIG")"
  tmp="$CONFIG.tmp.$$"
  echo "# Written by docker-entrypoint.sh from the environment; mount your own file here to replace it." >"$tmp"
  echo "# Every key: /usr/local/share/scorpiofs/scorpio.toml.example" >>"$tmp"
  while [ "$#" -ge 2 ]; do
    case "$2" in
      *[[:cntrl:]]*)
        rm -f "$tmp"
        echo "docker-entrypoint: the value for $1 contains control characters; refusing to write $CONFIG" >&2
        exit 2 ;;
    esac
    printf '%s = %s\n' "$1" "$(toml_str "$2")" >>"$tmp"
    shift 2
  done
  mv -f "$tmp" "$CONFIG"
  echo "docker-entrypoint: wrote $CONFIG (base_url $base)" >&2
}

if [ ! -e "$CONFIG" ]; then
  if [ "$serve_mode" = 1 ] && [ -z "${SCORPIO_BASE_URL:-}" ]; then
    echo "docker-entrypoint: SCORPIO_BASE_URL must be set (Mega server base URL), or mount a config at $CONFIG" >&2
    exit 2
  fi
  write_config
fi

[ "$#" -eq 0 ] && set -- serve --http-addr 0.0.0.0:2725 --insecure-bind
exec scorpio --config-path "$CONFIG" "$@"

#!/usr/bin/env bash
# Scorpio installer: downloads a release archive, verifies it against SHA256SUMS and installs it.
#
#   curl -fsSL <url>/install.sh | sudo bash -s -- [options]
#   bash install.sh [options]
#
# Options: see usage() below, or run with --help.
set -euo pipefail

DEFAULT_VERSION="0.3.0"
DEFAULT_BASE_URL='https://github.com/scorpiofs/scorpio/releases/download/v{version}'
MANIFEST_NAME="install-manifest"

say() { echo "==> $*"; }
warn() { echo "WARN: $*" >&2; }
die() { echo "ERROR: $*" >&2; exit 1; }

usage() {
  cat <<'USAGE'
Scorpio installer: downloads a release archive, verifies it against SHA256SUMS and installs it.

  curl -fsSL <url>/install.sh | sudo bash -s -- [options]
  bash install.sh [options]

Options:
  --version <v>          version to install (0.3.0 or v0.3.0). Default: the LATEST file at --base-url when the
                         URL has no {version} placeholder, else the version this script was released with.
  --prefix <dir>         installation prefix (default /usr/local): <prefix>/bin, <prefix>/share/...
  --base-url <url>       where the release files are (http://, https:// or file://); "{version}" in it is replaced
                         by the version. Default: $SCORPIO_RELEASE_BASE_URL, else the GitHub release of the version.
  --config-dir <dir>     where scorpio.toml goes (default /etc/scorpio); an existing file is never touched
  --systemd-dir <dir>    where the systemd units go (default /etc/systemd/system); skipped without systemctl
  --no-systemd           do not install the systemd units
  --enable-user-allow-other
                         add `user_allow_other` to /etc/fuse.conf (or $SCORPIO_FUSE_CONF) unless already there
  --dry-run              print every action without changing anything (the archive is still downloaded and
                         verified in a temporary directory, which is removed)
  --uninstall            remove exactly what a previous install with the same --prefix installed (per its
                         manifest); files changed since are kept, data in /var/lib/scorpiofs is never removed
  -h, --help             this help

Environment: SCORPIO_RELEASE_BASE_URL (default base URL), SCORPIO_FUSE_CONF (default /etc/fuse.conf),
SCORPIO_DOWNLOAD_MAX_TIME (seconds per download, default 600).
USAGE
}

DRY_RUN=0
# run CMD...: runs a mutating command, or prints it in --dry-run mode.
run() {
  if [ "$DRY_RUN" = 1 ]; then
    local line="  [dry-run]" a
    for a in "$@"; do line+=" $(printf '%q' "$a")"; done
    echo "$line"
  else
    "$@"
  fi
}

require_abs() { # flag value
  case "$2" in
    /*) ;;
    *) die "$1 must be an absolute path, got '$2'" ;;
  esac
  case "$2" in
    *$'\n'*|*$'\t'*) die "$1 must not contain tabs or newlines" ;;
  esac
}

need_value() { # flag remaining-arg-count value
  [ "$2" -ge 2 ] && [ -n "$3" ] || die "$1 needs a value (see --help)"
}

# Nearest existing ancestor of a path (the path itself if it exists).
existing_ancestor() {
  local p="$1"
  while [ ! -e "$p" ] && [ "$p" != "/" ]; do p="$(dirname "$p")"; done
  echo "$p"
}

# can_write PATH: whether this user could create or replace PATH.
can_write() {
  local p="$1"
  if [ -e "$p" ] && [ ! -d "$p" ]; then
    [ -w "$p" ] && [ -w "$(dirname "$p")" ]
  else
    [ -w "$(existing_ancestor "$p")" ]
  fi
}

# preflight PATH...: refuse early (before any download) when something cannot be written.
preflight() {
  local p bad=()
  for p in "$@"; do can_write "$p" || bad+=("$p"); done
  [ "${#bad[@]}" -eq 0 ] && return 0
  if [ "$DRY_RUN" = 1 ]; then
    warn "not writable by $(id -un 2>/dev/null || id -u): ${bad[*]} (a real run needs root)"
    return 0
  fi
  if [ "$(id -u)" != 0 ]; then
    die "cannot write to ${bad[*]} as $(id -un 2>/dev/null || id -u); re-run with sudo, or choose --prefix/--config-dir/--systemd-dir you can write to (--dry-run previews without root)"
  fi
  die "cannot write to ${bad[*]} (even as root: read-only file system?)"
}

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d ' ' -f 1
  elif command -v shasum >/dev/null 2>&1; then shasum -a 256 "$1" | cut -d ' ' -f 1
  elif command -v openssl >/dev/null 2>&1; then openssl dgst -sha256 -r "$1" | cut -d ' ' -f 1
  else die "no SHA-256 tool found (need sha256sum, shasum or openssl)"
  fi
}

# fetch URL DEST [quiet]: download with a deadline; dies with a clear message unless quiet (then returns 1).
fetch() {
  local url="$1" dest="$2" quiet="${3:-}" err max="${SCORPIO_DOWNLOAD_MAX_TIME:-600}"
  [[ "$max" =~ ^[0-9]+$ ]] || die "SCORPIO_DOWNLOAD_MAX_TIME must be a number of seconds"
  err="$(mktemp "${TMPDIR:-/tmp}/scorpio-fetch.XXXXXX")"
  local ok=0
  case "$url" in
    file://*)
      local path="${url#file://}"
      if [ -f "$path" ] && cp -- "$path" "$dest" 2>"$err"; then ok=1; else echo "no such file: $path" >>"$err"; fi
      ;;
    http://*|https://*)
      if command -v curl >/dev/null 2>&1; then
        curl --fail --silent --show-error --location --proto '=http,https' --connect-timeout 10 \
          --max-time "$max" --retry 2 --retry-delay 1 -o "$dest" "$url" 2>"$err" && ok=1
      elif command -v wget >/dev/null 2>&1; then
        # wget has no total deadline; --timeout bounds connect and every read, --tries bounds the attempts.
        wget -q --timeout=10 --tries=2 -O "$dest" "$url" 2>"$err" && ok=1
        [ "$ok" = 1 ] || echo "wget exit status non-zero (HTTP error, unreachable host or timeout)" >>"$err"
      else
        rm -f "$err"; die "neither curl nor wget is installed; install one of them"
      fi
      ;;
    *) rm -f "$err"; die "unsupported URL '$url' (use http://, https:// or file://)" ;;
  esac
  if [ "$ok" = 1 ]; then rm -f "$err"; return 0; fi
  rm -f "$dest"
  if [ -n "$quiet" ]; then rm -f "$err"; return 1; fi
  local msg; msg="$(tr '\n' ' ' <"$err" | head -c 400)"; rm -f "$err"
  die "download failed: $url (${msg% }) — check the network connection and --base-url"
}

detect_target() {
  local m; m="$(uname -m)"
  case "$m" in
    x86_64|amd64) echo "x86_64-unknown-linux-gnu" ;;
    aarch64|arm64) echo "aarch64-unknown-linux-gnu" ;;
    *) die "unsupported architecture '$m' (releases exist for x86_64 and aarch64 Linux)" ;;
  esac
}

normalise_version() {
  local v="${1#v}"
  [[ "$v" =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]+)?$ ]] || die "invalid version '$1' (expected like 0.3.0 or v0.3.0)"
  echo "$v"
}

# --- manifest -------------------------------------------------------------------------------------------------
# One line per thing installed: "f<TAB><sha256><TAB><path>" for a file, "d<TAB>-<TAB><path>" for a directory the
# installer created. --uninstall removes unchanged files, then the recorded directories that are empty.
MANIFEST_LINES=()
CREATED_DIRS=()

# ensure_dir DIR: mkdir -p that records every directory it creates.
ensure_dir() {
  local d="$1" missing=() i
  while [ ! -d "$d" ] && ! was_created "$d"; do
    [ -e "$d" ] && die "$d exists and is not a directory"
    missing=("$d" "${missing[@]+"${missing[@]}"}")
    d="$(dirname "$d")"
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  [ "$DRY_RUN" = 1 ] && run mkdir -p "${missing[-1]}"
  for i in "${missing[@]}"; do
    CREATED_DIRS+=("$i")
    [ "$DRY_RUN" = 1 ] || mkdir -m 0755 "$i"
  done
}

was_created() {
  local c
  for c in "${CREATED_DIRS[@]+"${CREATED_DIRS[@]}"}"; do [ "$c" = "$1" ] && return 0; done
  return 1
}

# put_file SRC DEST MODE: atomic install (a running binary is replaced, not overwritten), recorded in the manifest.
put_file() {
  local src="$1" dest="$2" mode="$3"
  ensure_dir "$(dirname "$dest")"
  if [ "$DRY_RUN" = 1 ]; then
    run install -m "$mode" "${src#"$WORK/"}" "$dest"
    return 0
  fi
  local tmp; tmp="$(dirname "$dest")/.$(basename "$dest").scorpio-install.$$"
  install -m "$mode" "$src" "$tmp"
  mv -f "$tmp" "$dest"
  MANIFEST_LINES+=("f"$'\t'"$(sha256_of "$dest")"$'\t'"$dest")
}

# put_link TARGET DEST: an atomic relative symlink, recorded like a file (the hash of what it points to).
put_link() {
  local target="$1" dest="$2"
  ensure_dir "$(dirname "$dest")"
  if [ "$DRY_RUN" = 1 ]; then
    run ln -sfn "$target" "$dest"
    return 0
  fi
  local tmp; tmp="$(dirname "$dest")/.$(basename "$dest").scorpio-install.$$"
  ln -sfn "$target" "$tmp"
  mv -Tf "$tmp" "$dest"
  MANIFEST_LINES+=("f"$'\t'"$(sha256_of "$dest")"$'\t'"$dest")
}

write_manifest() { # manifest-path version
  local manifest="$1" version="$2" line kind hash path
  local -A seen=()
  local out=()
  ensure_dir "$(dirname "$manifest")"
  for path in "${CREATED_DIRS[@]+"${CREATED_DIRS[@]}"}"; do MANIFEST_LINES+=("d"$'\t'"-"$'\t'"$path"); done
  for line in "${MANIFEST_LINES[@]}"; do
    IFS=$'\t' read -r kind hash path <<<"$line"
    seen["$path"]=1
    out+=("$line")
  done
  # Keep what an earlier install recorded and this one did not touch (e.g. the config file it created).
  if [ -f "$manifest" ]; then
    while IFS=$'\t' read -r kind hash path; do
      case "$kind" in f|d) ;; *) continue ;; esac
      [ -n "${seen[$path]+x}" ] && continue
      [ -e "$path" ] || continue
      seen["$path"]=1
      out+=("$kind"$'\t'"$hash"$'\t'"$path")
    done <"$manifest"
  fi
  {
    echo "# scorpiofs $version install manifest, read by install.sh --uninstall. kind<TAB>sha256<TAB>path"
    printf '%s\n' "${out[@]}"
  } >"$manifest.tmp.$$"
  mv -f "$manifest.tmp.$$" "$manifest"
}

# --- install --------------------------------------------------------------------------------------------------
generated_config() {
  cat <<'EOF'
# Scorpio configuration written by install.sh (kept on upgrade and uninstall).
# Every key, with its default: <prefix>/share/scorpiofs/scorpio.toml.example.
# An environment variable SCORPIO_<KEY> (e.g. SCORPIO_BASE_URL) overrides the key of the same name.
base_url = "http://localhost:8000"
# lfs_url is unset: it follows base_url ({base_url}/info/lfs, where Mega serves Git LFS).
log_level = "info"
workspace = "/var/lib/scorpiofs/mount"
store_path = "/var/lib/scorpiofs/store"
config_file = "/var/lib/scorpiofs/runtime.toml"
antares_upper_root = "/var/lib/scorpiofs/antares/upper"
antares_cl_root = "/var/lib/scorpiofs/antares/cl"
antares_mount_root = "/var/lib/scorpiofs/antares/mnt"
antares_state_file = "/var/lib/scorpiofs/antares/state.toml"
# The service runs as `scorpiofs`; allow_other lets members of the `scorpiofs` group (usermod -aG scorpiofs <user>)
# use the workspace and job mounts. The service has CAP_SYS_ADMIN for it; a daemon started by hand without it also
# needs user_allow_other in /etc/fuse.conf (install.sh --enable-user-allow-other).
mount_allow_other = true
EOF
}

enable_user_allow_other() {
  local conf="${SCORPIO_FUSE_CONF:-/etc/fuse.conf}"
  if [ -f "$conf" ] && grep -Eq '^[[:space:]]*user_allow_other[[:space:]]*$' "$conf"; then
    say "$conf already has user_allow_other"
    return 0
  fi
  say "adding user_allow_other to $conf"
  if [ "$DRY_RUN" = 1 ]; then
    echo "  [dry-run] echo user_allow_other >> $(printf '%q' "$conf")"
    return 0
  fi
  if [ -s "$conf" ] && [ -n "$(tail -c 1 "$conf")" ]; then echo >>"$conf"; fi
  echo "user_allow_other" >>"$conf"
}

do_install() {
  local target version base_url pkg tarball
  target="$(detect_target)"

  local base_tmpl="${BASE_URL:-${SCORPIO_RELEASE_BASE_URL:-$DEFAULT_BASE_URL}}"
  base_tmpl="${base_tmpl%/}"

  WORK="$(mktemp -d "${TMPDIR:-/tmp}/scorpio-install.XXXXXX")"
  trap 'rm -rf "$WORK"' EXIT

  if [ -n "$VERSION" ]; then
    version="$(normalise_version "$VERSION")"
  elif [[ "$base_tmpl" != *"{version}"* ]] && fetch "$base_tmpl/LATEST" "$WORK/LATEST" quiet; then
    version="$(normalise_version "$(head -n 1 "$WORK/LATEST" | tr -d '[:space:]')")"
    say "latest version at $base_tmpl is $version"
  else
    version="$DEFAULT_VERSION"
  fi
  base_url="${base_tmpl//\{version\}/$version}"
  pkg="scorpiofs-$version-$target"
  tarball="$pkg.tar.gz"

  local units=0
  if [ "$NO_SYSTEMD" = 1 ]; then
    say "skipping systemd units (--no-systemd)"
  elif ! command -v systemctl >/dev/null 2>&1; then
    say "systemctl not found: skipping systemd units"
  else
    units=1
  fi

  local targets=("$PREFIX/bin" "$PREFIX/share")
  [ -e "$CONFIG_DIR/scorpio.toml" ] || targets+=("$CONFIG_DIR")
  [ "$units" = 1 ] && targets+=("$SYSTEMD_DIR")
  [ "$ALLOW_OTHER" = 1 ] && targets+=("${SCORPIO_FUSE_CONF:-/etc/fuse.conf}")
  preflight "${targets[@]}"

  say "installing scorpiofs $version ($target) into $PREFIX"
  say "downloading $base_url/SHA256SUMS"
  fetch "$base_url/SHA256SUMS" "$WORK/SHA256SUMS"
  say "downloading $base_url/$tarball"
  fetch "$base_url/$tarball" "$WORK/$tarball"

  local expected actual
  expected="$(awk -v f="$tarball" '{ n = $2; sub(/^\*/, "", n); if (n == f) { print $1; exit } }' "$WORK/SHA256SUMS")"
  [ -n "$expected" ] || die "SHA256SUMS has no entry for $tarball — refusing to install"
  [[ "$expected" =~ ^[0-9a-fA-F]{64}$ ]] || die "SHA256SUMS entry for $tarball is malformed — refusing to install"
  actual="$(sha256_of "$WORK/$tarball")"
  [ "${expected,,}" = "$actual" ] \
    || die "checksum mismatch for $tarball (expected $expected, got $actual) — refusing to install"
  say "checksum OK ($actual)"

  mkdir "$WORK/x"
  tar -xzf "$WORK/$tarball" -C "$WORK/x" --no-same-owner || die "$tarball is not a valid archive"
  local src="$WORK/x/$pkg"
  [ -x "$src/bin/scorpio" ] && [ -x "$src/bin/antares" ] || die "$tarball does not contain $pkg/bin/{scorpio,antares}"

  put_file "$src/bin/scorpio" "$PREFIX/bin/scorpio" 0755
  # `antares` is a link to the one binary (it dispatches on argv[0]), also when an older archive shipped a copy.
  put_link scorpio "$PREFIX/bin/antares"
  put_file "$src/completions/scorpio.bash" "$PREFIX/share/bash-completion/completions/scorpio" 0644
  put_file "$src/completions/_scorpio" "$PREFIX/share/zsh/site-functions/_scorpio" 0644
  put_file "$src/completions/scorpio.fish" "$PREFIX/share/fish/vendor_completions.d/scorpio.fish" 0644
  put_file "$src/scorpio.toml.example" "$PREFIX/share/scorpiofs/scorpio.toml.example" 0644
  put_file "$src/LICENSE" "$PREFIX/share/doc/scorpiofs/LICENSE" 0644
  # systemd-sysusers(8) input for the service user; older archives did not ship it.
  if [ -f "$src/sysusers.d/scorpiofs.conf" ]; then
    put_file "$src/sysusers.d/scorpiofs.conf" "$PREFIX/share/scorpiofs/sysusers.d/scorpiofs.conf" 0644
  fi
  put_file "$src/README.md" "$PREFIX/share/doc/scorpiofs/README.md" 0644

  local config="$CONFIG_DIR/scorpio.toml"
  if [ -e "$config" ]; then
    say "keeping existing $config"
  else
    generated_config >"$WORK/scorpio.toml"
    put_file "$WORK/scorpio.toml" "$config" 0644
  fi

  if [ "$units" = 1 ]; then
    local unit name
    mkdir -p "$WORK/units"
    for unit in "$src"/systemd/*.service; do
      [ -f "$unit" ] || continue
      name="$(basename "$unit")"
      # The units name /usr/local/bin and /etc/scorpio; point them at this install's --prefix and --config-dir.
      sed -e "s#/usr/local/bin/#${PREFIX%/}/bin/#g" -e "s#/etc/scorpio/#${CONFIG_DIR%/}/#g" "$unit" >"$WORK/units/$name"
      put_file "$WORK/units/$name" "$SYSTEMD_DIR/$name" 0644
    done
  fi

  [ "$ALLOW_OTHER" = 1 ] && enable_user_allow_other

  local manifest="$PREFIX/share/scorpiofs/$MANIFEST_NAME"
  if [ "$DRY_RUN" = 1 ]; then
    run write-manifest "$manifest"
    say "dry run: nothing was changed"
    return 0
  fi
  write_manifest "$manifest" "$version"

  local got
  if got="$(timeout 10 "$PREFIX/bin/scorpio" --version 2>&1)"; then
    say "installed: $got"
  else
    warn "$PREFIX/bin/scorpio --version failed: ${got:-no output} (incompatible glibc?)"
  fi
  if ! { ldconfig -p 2>/dev/null | grep -q 'libfuse3\.so\.3'; } && ! ls /lib/*/libfuse3.so.3 /usr/lib/*/libfuse3.so.3 /usr/lib/libfuse3.so.3 /usr/lib64/libfuse3.so.3 >/dev/null 2>&1; then
    warn "libfuse3.so.3 not found: install fuse3 (apt-get install fuse3 / dnf install fuse3 / pacman -S fuse3)"
  fi
  command -v fusermount3 >/dev/null 2>&1 || warn "fusermount3 not found: install the fuse3 package"

  say "manifest: $manifest (used by --uninstall)"
  say "next steps:"
  echo "    edit $config (base_url, lfs_url), then: $PREFIX/bin/scorpio --config-path $config doctor"
  if [ "$units" = 1 ]; then
    echo "    systemd-sysusers $PREFIX/share/scorpiofs/sysusers.d/scorpiofs.conf   # the user and group the units run as"
    echo "    usermod -aG scorpiofs <developer>   # who may enter the workspace (mount_allow_other)"
    echo "    systemctl daemon-reload && systemctl enable --now scorpiofs"
  else
    echo "    $PREFIX/bin/scorpio --config-path $config serve"
  fi
}

# --- uninstall ------------------------------------------------------------------------------------------------
do_uninstall() {
  local manifest="$PREFIX/share/scorpiofs/$MANIFEST_NAME"
  [ -f "$manifest" ] || die "no install manifest at $manifest — nothing was installed with --prefix $PREFIX (pass the --prefix used to install)"

  local kind hash path files=() hashes=() dirs=()
  while IFS=$'\t' read -r kind hash path; do
    case "$kind" in
      f) files+=("$path"); hashes+=("$hash") ;;
      d) dirs+=("$path") ;;
    esac
  done <"$manifest"

  local parents=("$manifest") i
  for i in "${files[@]+"${files[@]}"}"; do parents+=("$i"); done
  preflight "${parents[@]}"

  say "uninstalling scorpiofs from $PREFIX (manifest $manifest)"
  local units_removed=0
  for i in "${!files[@]}"; do
    path="${files[$i]}"
    if [ ! -e "$path" ] && [ ! -L "$path" ]; then
      say "already gone: $path"
    elif [ -L "$path" ] && [ ! -e "$path" ]; then
      # Our link (antares -> scorpio) whose target was just removed.
      [ "$DRY_RUN" = 1 ] || echo "  removing $path"
      run rm -f "$path"
    elif [ "$(sha256_of "$path")" != "${hashes[$i]}" ]; then
      warn "keeping $path: it changed since it was installed"
    else
      [ "$DRY_RUN" = 1 ] || echo "  removing $path"
      run rm -f "$path"
      case "$path" in *.service) units_removed=1 ;; esac
    fi
  done
  run rm -f "$manifest"
  # Deepest directories first; only empty ones go.
  local d
  while IFS= read -r d; do
    [ -n "$d" ] || continue
    [ -d "$d" ] || continue
    if [ "$DRY_RUN" = 1 ]; then run rmdir "$d"
    else rmdir "$d" 2>/dev/null || say "keeping non-empty directory $d"
    fi
  done < <(printf '%s\n' "${dirs[@]+"${dirs[@]}"}" | awk '{ print length($0) "\t" $0 }' | sort -rn | cut -f 2-)

  [ "$units_removed" = 1 ] && say "systemd units removed: run 'systemctl daemon-reload' (stop the services first if they run)"
  say "data under /var/lib/scorpiofs and any edited config were kept; delete them by hand if no longer needed"
  [ "$DRY_RUN" = 1 ] && say "dry run: nothing was changed"
  return 0
}

main() {
  VERSION=""
  PREFIX="/usr/local"
  BASE_URL=""
  CONFIG_DIR="/etc/scorpio"
  SYSTEMD_DIR="/etc/systemd/system"
  NO_SYSTEMD=0
  UNINSTALL=0
  ALLOW_OTHER=0
  while [ $# -gt 0 ]; do
    case "$1" in
      --version) need_value "$1" $# "${2:-}"; VERSION="$2"; shift 2 ;;
      --version=*) VERSION="${1#*=}"; shift ;;
      --prefix) need_value "$1" $# "${2:-}"; PREFIX="$2"; shift 2 ;;
      --prefix=*) PREFIX="${1#*=}"; shift ;;
      --base-url) need_value "$1" $# "${2:-}"; BASE_URL="$2"; shift 2 ;;
      --base-url=*) BASE_URL="${1#*=}"; shift ;;
      --config-dir) need_value "$1" $# "${2:-}"; CONFIG_DIR="$2"; shift 2 ;;
      --config-dir=*) CONFIG_DIR="${1#*=}"; shift ;;
      --systemd-dir) need_value "$1" $# "${2:-}"; SYSTEMD_DIR="$2"; shift 2 ;;
      --systemd-dir=*) SYSTEMD_DIR="${1#*=}"; shift ;;
      --no-systemd) NO_SYSTEMD=1; shift ;;
      --enable-user-allow-other) ALLOW_OTHER=1; shift ;;
      --dry-run) DRY_RUN=1; shift ;;
      --uninstall) UNINSTALL=1; shift ;;
      -h|--help) usage; exit 0 ;;
      *) die "unknown option: $1 (see --help)" ;;
    esac
  done
  PREFIX="${PREFIX%/}"; [ -n "$PREFIX" ] || PREFIX="/"
  require_abs --prefix "$PREFIX"
  require_abs --config-dir "$CONFIG_DIR"
  require_abs --systemd-dir "$SYSTEMD_DIR"
  [ -z "${SCORPIO_FUSE_CONF:-}" ] || require_abs SCORPIO_FUSE_CONF "$SCORPIO_FUSE_CONF"
  CONFIG_DIR="${CONFIG_DIR%/}"
  SYSTEMD_DIR="${SYSTEMD_DIR%/}"

  if [ "$UNINSTALL" = 1 ]; then
    do_uninstall
  else
    do_install
  fi
}

# Everything above only defines functions, so a truncated download (curl | bash) cannot run half a script.
main "$@"

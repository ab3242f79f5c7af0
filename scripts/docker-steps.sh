#!/usr/bin/env bash
# Performs the steps of the repository's Dockerfile on this host, for machines without a Docker engine (CI):
#
#   <root>/context     the build context: the repository minus the .dockerignore patterns
#   <root>/stage-<n>   the file system of stage n: WORKDIR and COPY are applied there; RUN of a build stage runs
#                      on this host with the stage's WORKDIR as current directory (so it uses this host's bun,
#                      which must be the version of an oven/bun:<version> base image)
#   <root>/rootfs      symlink to the last stage: exactly what its COPY instructions put into the image
#   <root>/image.meta  the last stage's ENV/EXPOSE/HEALTHCHECK/ENTRYPOINT/CMD lines, verbatim
#
# RUN in the last stage may only install packages with apt-get; they are not installed, they are checked with
# dpkg-query on this host instead (this host stands in for the runtime image). Any other instruction than FROM,
# WORKDIR, COPY, RUN, ENV, EXPOSE, HEALTHCHECK, ENTRYPOINT, CMD and LABEL is refused, which keeps the Dockerfile
# within what this script reproduces. Finally runs <root>/rootfs/usr/local/bin/scorpio --version.
#
# Usage: scripts/docker-steps.sh --root DIR [--dockerfile FILE]
set -euo pipefail

die() { echo "docker-steps: ERROR: $*" >&2; exit 1; }
step() { echo "docker-steps: $*" >&2; }

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT=""
DOCKERFILE="$REPO/Dockerfile"
while [ $# -gt 0 ]; do
  case "$1" in
    --root) [ $# -ge 2 ] && [ -n "$2" ] || die "--root needs a directory"; ROOT="$2"; shift 2 ;;
    --dockerfile) [ $# -ge 2 ] && [ -n "$2" ] || die "--dockerfile needs a file"; DOCKERFILE="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) die "unknown option: $1 (see --help)" ;;
  esac
done
[ -n "$ROOT" ] || die "--root DIR is required"
[ -f "$DOCKERFILE" ] || die "no Dockerfile at $DOCKERFILE"
mkdir -p "$ROOT"
ROOT="$(cd "$ROOT" && pwd)"
[ -z "$(ls -A "$ROOT")" ] || die "$ROOT is not empty"

# --- build context ----------------------------------------------------------------------------------------
step "build context -> $ROOT/context"
prune=()
if [ -f "$REPO/.dockerignore" ]; then
  while IFS= read -r pat || [ -n "$pat" ]; do
    pat="${pat%%#*}"; pat="$(echo "$pat" | sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//')"
    [ -n "$pat" ] || continue
    case "$pat" in '!'*) die ".dockerignore exceptions (!pattern) are not supported here: $pat" ;; esac
    pat="${pat#/}"; pat="${pat%/}"
    [ "${#prune[@]}" -gt 0 ] && prune+=(-o)
    prune+=(-path "./$pat")
  done <"$REPO/.dockerignore"
fi
case "$ROOT/" in "$REPO"/*)  # a staging root inside the repository is not part of the context
  [ "${#prune[@]}" -gt 0 ] && prune+=(-o)
  prune+=(-path "./${ROOT#"$REPO"/}") ;;
esac
mkdir "$ROOT/context"
if [ "${#prune[@]}" -gt 0 ]; then
  (cd "$REPO" && find . -mindepth 1 \( "${prune[@]}" \) -prune -o \( -type f -o -type l \) -print0) >"$ROOT/.context-files"
else
  (cd "$REPO" && find . -mindepth 1 \( -type f -o -type l \) -print0) >"$ROOT/.context-files"
fi
tar -C "$REPO" --null -T "$ROOT/.context-files" -cf - | tar -C "$ROOT/context" -xf -
rm -f "$ROOT/.context-files"

# --- instructions -----------------------------------------------------------------------------------------
# Join continuation lines, drop comments and blank lines.
mapfile -t INSTR < <(awk '
  /^[[:space:]]*#/ && cont == "" { next }
  { line = cont $0 }
  /\\[[:space:]]*$/ { sub(/\\[[:space:]]*$/, "", line); cont = line " "; next }
  { cont = ""; if (line ~ /[^[:space:]]/) print line }
' "$DOCKERFILE")

stages_total="$(printf '%s\n' "${INSTR[@]}" | grep -ci '^[[:space:]]*FROM[[:space:]]' || true)"
[ "$stages_total" -ge 1 ] || die "no FROM in $DOCKERFILE"

declare -A STAGE_BY_NAME=()
stage=-1
stage_dir=""
workdir="/"
declare -a stage_env=()

# to_stage PATH: the host path of an image path in the current stage.
to_stage() {
  case "$1" in
    /*) echo "$stage_dir$1" ;;
    *) echo "$stage_dir${workdir%/}/$1" ;;
  esac
}

check_apt() { # the RUN line of the last stage
  local seg pkgs=() w in_install
  # Split on && and ; — each part is one command.
  while IFS= read -r seg; do
    [[ "$seg" =~ apt-get[[:space:]]+install ]] || { seg="$(echo "$seg" | sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//')"; [ -n "$seg" ] && step "  (runtime stage, not run here: $seg)"; continue; }
    in_install=0
    for w in $seg; do
      if [ "$in_install" = 1 ]; then
        case "$w" in -*|*=*) ;; *) pkgs+=("$w") ;; esac
      fi
      [ "$w" = install ] && in_install=1
    done
  done < <(echo "$1" | sed -e 's/&&/\n/g' -e 's/;/\n/g')
  [ "${#pkgs[@]}" -gt 0 ] || return 0
  local missing=() p
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ "${#missing[@]}" -eq 0 ] || die "runtime packages missing on this host: ${missing[*]} (apt-get install ${missing[*]})"
  step "  runtime packages present on this host: ${pkgs[*]}"
}

for line in "${INSTR[@]}"; do
  read -r op rest <<<"$line"
  op="${op^^}"
  case "$op" in
    FROM)
      stage=$((stage + 1))
      stage_dir="$ROOT/stage-$stage"
      mkdir -p "$stage_dir"
      workdir="/"
      stage_env=()
      read -r image as name _ <<<"$rest"
      [ "${as^^}" = AS ] && [ -n "$name" ] && STAGE_BY_NAME["$name"]="$stage"
      step "stage $stage: FROM $rest"
      if [[ "$image" == oven/bun:* ]]; then
        want="${image#oven/bun:}"; have="$(bun --version 2>/dev/null || echo none)"
        [ "$want" = "$have" ] || die "the Dockerfile builds with bun $want but this host has bun $have"
      fi
      ;;
    WORKDIR)
      [ "$stage" -ge 0 ] || die "WORKDIR before FROM"
      case "$rest" in /*) workdir="$rest" ;; *) workdir="${workdir%/}/$rest" ;; esac
      mkdir -p "$stage_dir$workdir"
      ;;
    COPY)
      [ "$stage" -ge 0 ] || die "COPY before FROM"
      read -r -a args <<<"$rest"
      from=""
      while [[ "${args[0]}" == --* ]]; do
        case "${args[0]}" in
          --from=*) from="${args[0]#--from=}" ;;
          *) die "unsupported COPY flag ${args[0]}" ;;
        esac
        args=("${args[@]:1}")
      done
      [ "${#args[@]}" -ge 2 ] || die "COPY needs a source and a destination: $line"
      dest="${args[-1]}"; srcs=("${args[@]:0:${#args[@]}-1}")
      if [ -n "$from" ]; then
        [ -n "${STAGE_BY_NAME[$from]+x}" ] || die "COPY --from=$from: no such stage"
        src_root="$ROOT/stage-${STAGE_BY_NAME[$from]}"
      else
        src_root="$ROOT/context"
      fi
      hdest="$(to_stage "$dest")"
      if [[ "$dest" == */ ]] || [ "${#srcs[@]}" -gt 1 ] || [ "$dest" = . ]; then mkdir -p "$hdest"; else mkdir -p "$(dirname "$hdest")"; fi
      for s in "${srcs[@]}"; do
        if [ -n "$from" ]; then hsrc="$src_root/${s#/}"; else hsrc="$src_root/${s#./}"; fi
        [ "$s" = . ] && hsrc="$src_root"
        [ -e "$hsrc" ] || die "COPY source not found: $s (looked at $hsrc)"
        if [ -d "$hsrc" ]; then cp -a "$hsrc/." "$hdest/"; else cp -a "$hsrc" "$hdest"; fi
      done
      step "  COPY $rest"
      ;;
    RUN)
      [ "$stage" -ge 0 ] || die "RUN before FROM"
      if [ "$stage" -eq $((stages_total - 1)) ]; then
        [[ "$rest" =~ apt-get ]] || die "only apt-get may RUN in the runtime stage (got: $rest)"
        check_apt "$rest"
      else
        step "  RUN $rest (in $stage_dir$workdir)"
        (cd "$stage_dir$workdir" && env "${stage_env[@]+"${stage_env[@]}"}" bash -euo pipefail -c "$rest") >&2 \
          || die "RUN failed in stage $stage: $rest"
      fi
      ;;
    ENV)
      if [[ "$rest" == *=* ]]; then
        read -r -a kvs <<<"$rest"; stage_env+=("${kvs[@]}")
      else
        read -r k v <<<"$rest"; stage_env+=("$k=$v")
      fi
      [ "$stage" -eq $((stages_total - 1)) ] && echo "ENV $rest" >>"$ROOT/image.meta"
      ;;
    EXPOSE|HEALTHCHECK|ENTRYPOINT|CMD|LABEL)
      [ "$stage" -eq $((stages_total - 1)) ] && echo "$op $rest" >>"$ROOT/image.meta"
      ;;
    *) die "instruction $op is not reproduced by this script; keep the Dockerfile simple or extend docker-steps.sh" ;;
  esac
done

ln -s "stage-$((stages_total - 1))" "$ROOT/rootfs"
touch "$ROOT/image.meta"

# --- smoke test -------------------------------------------------------------------------------------------
bin="$ROOT/rootfs/usr/local/bin/scorpio"
[ -x "$bin" ] || die "the image has no executable /usr/local/bin/scorpio"
out="$(timeout 30 "$bin" --version 2>&1)" || die "/usr/local/bin/scorpio --version failed: $out"
step "rootfs ready: $out"
echo "$ROOT/rootfs"

#!/usr/bin/env bash
# The README's main job: installs what is missing, builds dist/scorpio, starts the bundled
# Mega-compatible dev server on a sample git repository, mounts it with `scorpio serve`, and shows
# the mount in use, then edits in a job mount and sends them back as a change list (status, diff,
# commit, push, merge). Set DEMO_KEEP=1 to leave it running until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bun run build >/dev/null

work=$(mktemp -d "${TMPDIR:-/tmp}/scorpio-demo.XXXXXX")
dev_pid=""; serve_pid=""
cleanup() {
  [ -n "$serve_pid" ] && kill -TERM "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null || true
  [ -n "$dev_pid" ] && kill -TERM "$dev_pid" 2>/dev/null && wait "$dev_pid" 2>/dev/null || true
  if grep -qs " $work/workspace " /proc/mounts; then umount -l "$work/workspace" 2>/dev/null || fusermount3 -uz "$work/workspace" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "1. a sample monorepo (a real git repository)"
bun scripts/make-sample-repo.ts "$work/repo" >/dev/null
git -C "$work/repo" log --oneline | head -3

step "2. the bundled Mega-compatible dev server over it"
./dist/scorpio devserver --repo "$work/repo" --addr 127.0.0.1:0 >"$work/devserver.out" 2>"$work/devserver.log" &
dev_pid=$!
for _ in $(seq 1 100); do grep -qo 'http://[0-9.:]*' "$work/devserver.out" 2>/dev/null && break; sleep 0.1; done
url=$(grep -o 'http://[0-9.:]*' "$work/devserver.out" | head -1)
[ -n "$url" ] || { echo "dev server did not start:"; cat "$work/devserver.log"; exit 1; }
echo "Mega API at $url"

step "3. scorpio serve: mount the monorepo at $work/workspace"
cat >"$work/scorpio.toml" <<TOML
base_url = "$url"
workspace = "$work/workspace"
store_path = "$work/store"
config_file = "$work/runtime.toml"
antares_upper_root = "$work/antares/upper"
antares_cl_root = "$work/antares/cl"
antares_mount_root = "$work/antares/mnt"
antares_state_file = "$work/antares/state.toml"
TOML
start=$(date +%s%N)
./dist/scorpio serve -c "$work/scorpio.toml" --http-addr 127.0.0.1:0 2>"$work/serve.log" &
serve_pid=$!
for _ in $(seq 1 200); do grep -qs " $work/workspace " /proc/mounts && grep -qs http_addr "$work/runtime.toml" && break; sleep 0.05; done
grep -qs " $work/workspace " /proc/mounts || { echo "mount failed:"; cat "$work/serve.log"; exit 1; }
ls "$work/workspace" >/dev/null
echo "mounted and listed in $(( ($(date +%s%N) - start) / 1000000 )) ms"

step "4. ls -la (modes, symlinks and sizes come from git)"
ls -la "$work/workspace"
step "5. cat README.md (fetched on first read, verified, cached)"
cat "$work/workspace/README.md"
step "6. find . -type f | head"
(cd "$work/workspace" && find . -type f | sort | head -12)
step "7. git sees the mount as a clean checkout of HEAD"
git --git-dir="$work/repo/.git" --work-tree="$work/workspace" status --short --untracked-files=no && echo "(no differences)"
step "8. a new upstream commit shows up after the directory TTL"
(cd "$work/repo" && echo "hello from upstream" > UPSTREAM.md && git add UPSTREAM.md && git -c user.name=demo -c user.email=demo@example.com commit -qm "upstream change")
for _ in $(seq 1 100); do [ -e "$work/workspace/UPSTREAM.md" ] && break; sleep 0.1; done
cat "$work/workspace/UPSTREAM.md"
step "9. scorpio info (the daemon's summary)"
./dist/scorpio info -c "$work/scorpio.toml"

step "10. a writable job mount (Antares): edits land in the job's own upper layer"
job_mnt=$(./dist/scorpio mount demo-job -c "$work/scorpio.toml" | sed -n 's/^mounted job demo-job at //p')
echo "job mount at $job_mnt"
echo "edited in the job" >> "$job_mnt/README.md"
mkdir -p "$job_mnt/build" && echo "artifact" > "$job_mnt/build/out.txt"
echo "--- README.md in the job:"; cat "$job_mnt/README.md"
echo "--- README.md in the shared workspace (unchanged):"; cat "$work/workspace/README.md"
./dist/scorpio list -c "$work/scorpio.toml"

step "11. version control from the job mount: status, diff, commit, push to a change list (CL)"
printf 'build/\n' > "$job_mnt/.gitignore"
./dist/scorpio status -c "$work/scorpio.toml" --mount demo-job
./dist/scorpio diff -c "$work/scorpio.toml" --mount demo-job
./dist/scorpio commit -c "$work/scorpio.toml" --mount demo-job -m "Edit README from a job mount"
push_out=$(./dist/scorpio push -c "$work/scorpio.toml" --mount demo-job)
echo "$push_out"
link=$(printf '%s\n' "$push_out" | sed -n 's/^CL \([A-Z0-9]*\):.*/\1/p')
[ -n "$link" ] || { echo "push printed no CL link"; exit 1; }

step "12. merge the CL on the server; the workspace shows it after the watcher's next round"
curl -fsS -X POST "$url/api/v1/cl/$link/merge-no-auth"; echo
for _ in $(seq 1 300); do grep -qs "edited in the job" "$work/workspace/README.md" && break; sleep 0.1; done
echo "--- README.md in the workspace:"; cat "$work/workspace/README.md"
./dist/scorpio umount demo-job -c "$work/scorpio.toml"

if [ "${DEMO_KEEP:-0}" = 1 ]; then
  echo; echo "Mounted at $work/workspace; press Ctrl-C to unmount and clean up."
  wait "$serve_pid"
fi
step "done: unmounting"

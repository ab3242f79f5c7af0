/**
 * @module server/state-record — the daemon's entry in the runtime state file (`config_file`):
 * `daemon = {http_addr, pid, started_at}`. Client commands find the daemon through it. Written after
 * a successful bind, removed on clean shutdown; the `works` list is preserved untouched.
 */
import { readRuntimeState, writeRuntimeState, type RuntimeState } from "../config/index.ts";

export type DaemonRecord = NonNullable<RuntimeState["daemon"]>;

export function recordDaemon(stateFile: string, record: DaemonRecord): void {
  const state = readRuntimeState(stateFile);
  writeRuntimeState(stateFile, { ...state, daemon: record });
}

/** Removes the record if it is still ours (another daemon may have replaced it meanwhile). */
export function clearDaemonRecord(stateFile: string, pid: number): void {
  const state = readRuntimeState(stateFile);
  if (!state.daemon || state.daemon.pid !== pid) return;
  const { daemon: _ours, ...rest } = state;
  writeRuntimeState(stateFile, rest);
}

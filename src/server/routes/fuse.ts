/**
 * @module server/routes/fuse — `GET /api/v1/fuse`: every FUSE session this daemon serves, with its
 * request counts per operation and how requests were picked up (wake-ups, spin hits and misses), for
 * operators tuning `fuse_spin_micros` or looking for a mount that errs.
 */
import { Elysia, t } from "elysia";
import { FuseSession } from "../../fuse/index.ts";

const OpSchema = t.Object({ count: t.Integer(), errors: t.Integer(), total_ms: t.Number() });
const SessionSchema = t.Object({
  mountpoint: t.String(),
  spin_micros: t.Integer(),
  dispatch: t.Object({ wakeups: t.Integer(), spin_hits: t.Integer(), spin_misses: t.Integer() }),
  /** Operations that were asked at least once. */
  ops: t.Record(t.String(), OpSchema),
});

export type FuseSessionReport = typeof SessionSchema.static;

export function describeSession(s: FuseSession): FuseSessionReport {
  const ops: Record<string, typeof OpSchema.static> = {};
  for (const [name, st] of Object.entries(s.stats)) {
    if (st.count > 0) ops[name] = { count: st.count, errors: st.errors, total_ms: Math.round(st.totalMs * 1000) / 1000 };
  }
  const d = s.dispatch;
  return { mountpoint: s.mountpoint, spin_micros: s.spinMicros, dispatch: { wakeups: d.wakeups, spin_hits: d.spinHits, spin_misses: d.spinMisses }, ops };
}

export function fuseRoutes() {
  return new Elysia({ name: "fuse-routes" }).get("/api/v1/fuse", () => ({ sessions: FuseSession.all.map(describeSession) }), {
    response: { 200: t.Object({ sessions: t.Array(SessionSchema) }) },
    detail: { tags: ["fuse"], summary: "FUSE sessions: requests per operation and dispatch counters" },
  });
}

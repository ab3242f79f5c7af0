/**
 * @module server/routes/legacy/model — schemas of the deprecated `/api/fs/*` and `/api/config`
 * routes (§3.1). Handler failures answer 200 with `status: "Fail"` like the original; only
 * malformed requests get a 4xx `{error, code}`.
 */
import { t } from "elysia";

export const LegacyMountBody = t.Object({
  path: t.String({ maxLength: 4096 }),
  cl: t.Optional(t.Nullable(t.String({ maxLength: 256 }))),
});
export type LegacyMountRequest = typeof LegacyMountBody.static;

export const LegacyUnmountBody = t.Object({
  path: t.Optional(t.Nullable(t.String({ maxLength: 4096 }))),
  inode: t.Optional(t.Nullable(t.Integer({ minimum: 0 }))),
});
export type LegacyUnmountRequest = typeof LegacyUnmountBody.static;

export const LegacyConfigBody = t.Object({
  mega_url: t.Optional(t.Nullable(t.String())),
  mount_path: t.Optional(t.Nullable(t.String())),
  store_path: t.Optional(t.Nullable(t.String())),
});

export const SelectParams = t.Object({ request_id: t.String({ minLength: 1, maxLength: 64 }) });

export interface MountInfo {
  hash: string;
  path: string;
  inode: number;
}

export type Outcome = "Success" | "Fail";
export type TaskStatus = "fetching" | "finished" | "error";

export interface MountResponse {
  status: Outcome;
  request_id: string;
  message: string;
}

export interface SelectResponse {
  status: Outcome;
  task_status: TaskStatus | "not_found";
  mount: MountInfo | null;
  message: string;
}

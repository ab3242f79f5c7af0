/**
 * @module server/routes/vcs — status, diff, commit and push over HTTP: on Antares job mounts
 * (`/antares/mounts/{id}/status|diff|commit|push`, at the root on `antares serve`) and on legacy
 * checkouts (`/vcs/checkouts` and `/vcs/checkouts/{hash}/…`). Schemas at the edge; errors are
 * `{error, code}` (VcsError / AntaresError are HttpErrors).
 */
import { Elysia, t } from "elysia";
import { ErrorBodySchema, MountIdParams, type AntaresService } from "../../antares/index.ts";
import { CommitBody, DiffQuery, PushBody, VcsCommitSchema, VcsDiffSchema, VcsPushSchema, VcsStatusSchema, WritableMountSchema } from "../../vcs/model.ts";
import type { WritableMount } from "../../vcs/repo.ts";
import { VcsError } from "../../vcs/tree-source.ts";
import type { VcsService } from "../../vcs/service.ts";
import type { CheckoutMount, LegacyWorkspaces } from "./legacy/service.ts";

const errors = { 400: ErrorBodySchema, 401: ErrorBodySchema, 404: ErrorBodySchema, 409: ErrorBodySchema, 422: ErrorBodySchema, 500: ErrorBodySchema, 502: ErrorBodySchema };
const detail = (tag: string, summary: string) => ({ tags: [tag], summary });

function antaresWritable(antares: AntaresService, id: string): { m: WritableMount; clLink: string | null; id: string } {
  const w = antares.writableMount(id);
  return { id: w.id, clLink: w.clLink, m: { path: w.path, upperDir: w.upperDir, clDir: w.clDir, baseCommit: w.baseCommit, baseTree: w.baseTree, baseRootCommit: w.baseRootCommit, vcsDir: `${w.upperDir}.vcs` } };
}

export function antaresVcsRoutes(antares: AntaresService, vcs: VcsService, prefix: "" | "/antares") {
  const tag = "antares";
  return new Elysia({ name: `antares-vcs-routes${prefix}`, prefix })
    .get(
      "/mounts/:mount_id/status",
      ({ params }) => {
        const w = antaresWritable(antares, params.mount_id);
        return vcs.status(w.m, w.clLink);
      },
      { params: MountIdParams, response: { 200: VcsStatusSchema, ...errors }, detail: detail(tag, "What changed in the mount against its HEAD (last local commit, or the base commit)") },
    )
    .get("/mounts/:mount_id/diff", ({ params, query }) => vcs.diff(antaresWritable(antares, params.mount_id).m, query), {
      params: MountIdParams,
      query: DiffQuery,
      detail: detail(tag, "Unified diff of the mount's changes (JSON, or format=patch|stat for raw text)"),
    })
    .post("/mounts/:mount_id/commit", ({ params, body }) => vcs.commit(antaresWritable(antares, params.mount_id).m, body), {
      params: MountIdParams,
      body: CommitBody,
      response: { 200: VcsCommitSchema, ...errors },
      detail: detail(tag, "Commit the mount's changes locally (parent: HEAD); 409 NOTHING_TO_COMMIT when clean"),
    })
    .post(
      "/mounts/:mount_id/push",
      async ({ params, body }) => {
        const w = antaresWritable(antares, params.mount_id);
        const r = await vcs.push(w.m, body);
        await antares.setClLink(w.id, r.link);
        return r;
      },
      {
        params: MountIdParams,
        body: PushBody,
        response: { 200: VcsPushSchema, ...errors },
        detail: detail(tag, "Push the local commits (squashed into one on the base) to Mega; creates or updates the mount's CL"),
      },
    );
}

function checkoutWritable(c: CheckoutMount): WritableMount {
  return { path: c.path, upperDir: c.upperDir, clDir: c.clDir, baseCommit: c.base?.base_commit ?? null, baseTree: c.base?.base_tree ?? null, baseRootCommit: c.base?.base_root_commit ?? null, vcsDir: `${c.baseDir}/vcs` };
}

const HashParams = t.Object({ hash: t.String({ pattern: "^[0-9a-f]{40}$", description: "The checkout's hash (sha1 of its path)" }) });

export function checkoutVcsRoutes(legacy: LegacyWorkspaces, vcs: VcsService) {
  const tag = "vcs (checkouts)";
  const find = (hash: string): CheckoutMount => {
    const c = legacy.checkouts().find((x) => x.hash === hash);
    if (!c) throw new VcsError("NOT_FOUND", `no checkout with hash ${hash}`, 404);
    return c;
  };
  return new Elysia({ name: "checkout-vcs-routes", prefix: "/vcs/checkouts" })
    .get(
      "/",
      () => ({
        mounts: legacy.checkouts().map((c) => ({ kind: "checkout" as const, id: c.hash, job_id: null, path: c.path, mountpoint: c.mountpoint, base_commit: c.base?.base_commit ?? null, cl_link: null })),
      }),
      { response: { 200: t.Object({ mounts: t.Array(WritableMountSchema) }) }, detail: detail(tag, "Writable legacy checkouts") },
    )
    .get("/:hash/status", ({ params }) => vcs.status(checkoutWritable(find(params.hash)), null), {
      params: HashParams,
      response: { 200: VcsStatusSchema, ...errors },
      detail: detail(tag, "Status of a checkout"),
    })
    .get("/:hash/diff", ({ params, query }) => vcs.diff(checkoutWritable(find(params.hash)), query), { params: HashParams, query: DiffQuery, detail: detail(tag, "Diff of a checkout") })
    .post("/:hash/commit", ({ params, body }) => vcs.commit(checkoutWritable(find(params.hash)), body), {
      params: HashParams,
      body: CommitBody,
      response: { 200: VcsCommitSchema, ...errors },
      detail: detail(tag, "Commit a checkout's changes"),
    })
    .post("/:hash/push", ({ params, body }) => vcs.push(checkoutWritable(find(params.hash)), body), {
      params: HashParams,
      body: PushBody,
      response: { 200: VcsPushSchema, ...errors },
      detail: detail(tag, "Push a checkout's commits to a Mega CL"),
    });
}

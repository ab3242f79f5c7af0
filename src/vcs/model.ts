/**
 * @module vcs/model — the HTTP contract of status/diff/commit/push on a writable mount, as Elysia schemas
 * (validation, static types and OpenAPI in one place). Field names are stable.
 */
import { t } from "elysia";

export const ChangeSchema = t.Object({
  status: t.Union([t.Literal("added"), t.Literal("deleted"), t.Literal("modified"), t.Literal("typechange"), t.Literal("renamed")]),
  path: t.String({ description: "Mount-relative path (after a rename: the new path)" }),
  old_path: t.Nullable(t.String({ description: "Renames: the path before" })),
  old_mode: t.Nullable(t.String({ description: "git mode before: 100644, 100755, 120000 (symlink), 160000" })),
  new_mode: t.Nullable(t.String()),
  old_oid: t.Nullable(t.String()),
  new_oid: t.Nullable(t.String()),
  similarity: t.Nullable(t.Number({ description: "Renames: content similarity in percent" })),
});

const Pushed = t.Object({ commit: t.String(), link: t.String(), url: t.String() });

export const VcsStatusSchema = t.Object(
  {
    path: t.String({ description: "Monorepo path of the mount root" }),
    base_commit: t.String(),
    head: t.String({ description: "The last local commit, or base_commit when there is none" }),
    ahead: t.Number({ description: "Local commits not pushed yet" }),
    pushed: t.Nullable(Pushed),
    cl_link: t.Nullable(t.String()),
    clean: t.Boolean(),
    changes: t.Array(ChangeSchema),
  },
  { description: "VcsStatus" },
);

export const DiffQuery = t.Object({
  path: t.Optional(t.Union([t.String({ maxLength: 4096 }), t.Array(t.String({ maxLength: 4096 }), { maxItems: 1000 })], { description: "Limit to these mount-relative paths (repeatable)" })),
  format: t.Optional(t.Union([t.Literal("json"), t.Literal("patch"), t.Literal("stat")], { description: "json (default), or the raw patch / stat text" })),
});

export const VcsDiffSchema = t.Object(
  {
    patch: t.String({ description: "Unified diff (git format; bytes that are not UTF-8 are replaced here, use format=patch for the exact bytes)" }),
    stat: t.String(),
    files: t.Array(t.Object({ path: t.String(), old_path: t.Nullable(t.String()), status: t.String(), added: t.Number(), removed: t.Number(), binary: t.Boolean() })),
  },
  { description: "VcsDiff" },
);

export const CommitBody = t.Object({
  message: t.String({ maxLength: 1_000_000 }),
  author: t.Optional(t.Nullable(t.String({ maxLength: 1024, description: "Name <email>; default: git_author/git_email" }))),
  amend: t.Optional(t.Boolean({ description: "Replace the last local commit" })),
});

export const VcsCommitSchema = t.Object(
  { commit: t.String(), tree: t.String(), parent: t.String(), message: t.String(), changes: t.Array(ChangeSchema) },
  { description: "VcsCommit" },
);

export const PushBody = t.Object({
  token: t.Optional(t.Nullable(t.String({ maxLength: 4096, description: "Mega access token; default: the daemon's mega_token" }))),
});

export const VcsPushSchema = t.Object(
  { link: t.String(), url: t.String(), commit: t.String(), old_id: t.String(), squashed: t.Number({ description: "Local commits squashed into the pushed one" }), lfs_uploaded: t.Number({ description: "LFS objects uploaded before the pack" }), lfs_skipped: t.Number({ description: "LFS objects the server already had" }) },
  { description: "VcsPush" },
);

export const WritableMountSchema = t.Object({
  kind: t.Union([t.Literal("antares"), t.Literal("checkout")]),
  id: t.String({ description: "Antares mount id, or the checkout's hash" }),
  job_id: t.Nullable(t.String()),
  path: t.String(),
  mountpoint: t.String(),
  base_commit: t.Nullable(t.String()),
  cl_link: t.Nullable(t.String()),
});
export type WritableMountInfo = typeof WritableMountSchema.static;

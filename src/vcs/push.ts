/**
 * @module vcs/push — sends one commit to Mega over git smart HTTP, exactly as Mega expects (see
 * docs/vcs.md "Push protocol"): read `{P}.git/info/refs?service=git-receive-pack` for main's id, POST
 * `<old> <new> refs/heads/main\0report-status side-band-64k agent=…`, a flush and a pack of the objects
 * in the local store reachable from the commit, then parse the report. Mega does not name the CL it made,
 * so the link is found in `{P}.git/info/refs?service=git-upload-pack` as the `refs/cl/<LINK>` whose id is
 * the pushed commit. Every exchange has a deadline; the token is sent as `Authorization: Bearer` only.
 */
import { httpRequest, type HttpPolicy } from "../remote/http.ts";
import { RemoteError } from "../remote/remote-error.ts";
import { VERSION } from "../version.ts";
import { LooseObjectError, parseCommitLinks, parseTreeBody, readLooseObject } from "./loose-objects.ts";
import { writePack, type PackObject } from "./pack-writer.ts";
import { demuxSideBand, FLUSH, PktLineError, pktLine, pktText, readPkts, type Pkt } from "./pkt-line.ts";

export const ZERO_ID = "0000000000000000000000000000000000000000";
const OID = /^[0-9a-f]{40}$/;
const MAIN = "refs/heads/main";
const DEFAULT_TIMEOUT_MS = 60_000;
/** Mega writes `refs/cl/<LINK>` before answering; a few short retries cover a server that does it just after. */
const CL_LOOKUP_ATTEMPTS = 3;

export type PushErrorCode =
  | "bad-input" // the commit, object store, URL or path is unusable: nothing was sent
  | "unauthorized" // 401/403: missing or wrong access token
  | "rejected" // the server refused the push (report `ng`, unpack failure, fatal side-band message, HTTP error)
  | "non-fast-forward" // `ng … non-fast-forward` / `fetch first` / `stale info`
  | "network" // connection failure or deadline
  | "protocol" // the server's answer is not git smart HTTP as expected
  | "cl-not-found"; // the push was accepted but no refs/cl/<LINK> points at the commit

export class PushError extends Error {
  readonly code: PushErrorCode;
  /** What the server said: report-status lines, `remote:` messages, or the HTTP error body. */
  readonly serverReport: string;
  readonly status: number | undefined;

  constructor(code: PushErrorCode, message: string, init: { serverReport?: string; status?: number; cause?: unknown } = {}) {
    super(message, { cause: init.cause });
    this.name = "PushError";
    this.code = code;
    this.serverReport = init.serverReport ?? "";
    this.status = init.status;
  }
}

export interface PushOptions {
  /** Mega's base URL, e.g. `http://127.0.0.1:8000`. */
  baseUrl: string;
  /** The monorepo path pushed to (`/` for the root, `/project/foo`). */
  path: string;
  /** A git-layout loose-object directory holding the commit and its new objects. */
  objectsDir: string;
  commit: string;
  token?: string;
  /** Deadline of each HTTP exchange. Default 60 s. */
  timeoutMs?: number;
}

export interface PushResult {
  /** The CL link (8 upper-case alphanumerics on Mega). */
  link: string;
  /** `{baseUrl}/cl/<LINK>`. */
  url: string;
  /** The id of main at P the push was made against (zero id when P had none). */
  oldId: string;
}

export async function pushCommit(opts: PushOptions): Promise<PushResult> {
  const commit = opts.commit.toLowerCase();
  if (!OID.test(commit)) throw new PushError("bad-input", `not a commit id: ${JSON.stringify(opts.commit)}`);
  const base = normaliseBaseUrl(opts.baseUrl);
  const repoUrl = base + repoUrlPath(opts.path);
  const objects = collectObjects(opts.objectsDir, commit);
  const policy = (retries: number): HttpPolicy => ({
    requestTimeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    maxRetries: retries,
    backoffBaseMs: 200,
    backoffMaxMs: 2000,
    token: opts.token,
  });
  const hasToken = opts.token !== undefined && opts.token !== "";

  const advertised = (service: "git-receive-pack" | "git-upload-pack") =>
    call(hasToken, () => httpRequest(policy(2), { method: "GET", url: `${repoUrl}/info/refs?service=${service}`, read: bytes })).then((b) =>
      parseAdvertisement(b, service),
    );
  const adv = await advertised("git-receive-pack");
  const oldId = adv.refs.get(MAIN) ?? ZERO_ID;
  if (oldId === commit) throw new PushError("bad-input", `${commit} is already main at ${opts.path}: nothing to push`);
  if (!adv.caps.has("report-status")) {
    throw new PushError("protocol", `${repoUrl}: the server does not offer report-status, so the push outcome could not be known; nothing was sent`);
  }
  const sideBand = adv.caps.has("side-band-64k");
  const caps = ["report-status", ...(sideBand ? ["side-band-64k"] : []), `agent=scorpio/${VERSION}`];
  const pack = writePack(objects);
  const body = new Blob([pktLine(`${oldId} ${commit} ${MAIN}\0${caps.join(" ")}`), FLUSH, ...pack.chunks]);

  const report = await call(hasToken, () =>
    httpRequest(policy(0), {
      method: "POST",
      url: `${repoUrl}/git-receive-pack`,
      headers: { "content-type": "application/x-git-receive-pack-request", accept: "application/x-git-receive-pack-result" },
      body,
      read: bytes,
    }),
  ).then(parseReceiveResult);
  checkReport(report);

  for (let attempt = 1; ; attempt++) {
    const refs = await advertised("git-upload-pack");
    const link = findClLink(refs.refs, commit);
    if (link) return { link, url: `${base}/cl/${link}`, oldId };
    if (attempt >= CL_LOOKUP_ATTEMPTS) {
      throw new PushError(
        "cl-not-found",
        `the push of ${commit} to ${opts.path} was accepted, but no refs/cl/<LINK> at ${repoUrl} points at it; look for the CL with POST ${base}/api/v1/cl/list`,
        { serverReport: report.text },
      );
    }
    await Bun.sleep(200 * attempt);
  }
}

/** Every object of `objectsDir` reachable from `commit` (parents, trees, blobs); absent ones are on the server. */
export function collectObjects(objectsDir: string, commit: string): PackObject[] {
  const out: PackObject[] = [];
  const seen = new Set<string>();
  const read = (oid: string) => {
    try {
      return readLooseObject(objectsDir, oid);
    } catch (err) {
      if (err instanceof LooseObjectError) throw new PushError("bad-input", `local object store ${objectsDir}: ${err.message}`, { cause: err });
      throw err;
    }
  };
  const first = read(commit);
  if (!first) throw new PushError("bad-input", `commit ${commit} is not in the local object store ${objectsDir}`);
  if (first.type !== "commit") throw new PushError("bad-input", `${commit} is a ${first.type}, not a commit`);
  const stack: { oid: string; path: string }[] = [{ oid: commit, path: "" }];
  while (stack.length > 0) {
    const { oid, path } = stack.pop()!;
    if (seen.has(oid)) continue;
    seen.add(oid);
    const obj = read(oid);
    if (!obj) continue; // already on the server
    out.push({ type: obj.type, body: obj.body });
    if (obj.type === "commit") {
      const links = parseCommitLinks(obj.body);
      stack.push({ oid: links.tree, path: "" });
      for (const p of links.parents) stack.push({ oid: p, path: "" });
    } else if (obj.type === "tree") {
      for (const e of parseTreeBody(obj.body)) {
        const name = Buffer.from(e.name).toString("latin1");
        checkEntryName(name, path);
        if (e.mode === "160000") continue; // a gitlink names a commit of another repository
        stack.push({ oid: e.oid, path: path + name + "/" });
      }
    }
  }
  return out;
}

/** Names git itself refuses (fsck errors), reported before anything is sent. */
function checkEntryName(name: string, parent: string): void {
  if (name === "" || name === "." || name === ".." || name.toLowerCase() === ".git" || name.includes("/")) {
    throw new PushError("bad-input", `the commit contains a path git and Mega refuse: ${JSON.stringify(parent + name)}`);
  }
}

function normaliseBaseUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new PushError("bad-input", `base URL is not a URL: ${JSON.stringify(raw)}`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new PushError("bad-input", `base URL must be http(s): ${raw}`);
  return (u.origin + u.pathname).replace(/\/+$/, "");
}

/** `/project/foo` → `/project/foo.git`; `/` → `/.git` (Mega's root repository). */
export function repoUrlPath(path: string): string {
  const parts = path.split("/").filter((p) => p !== "");
  if (parts.some((p) => p === "." || p === "..")) throw new PushError("bad-input", `invalid monorepo path: ${JSON.stringify(path)}`);
  return "/" + parts.map(encodeURIComponent).join("/") + ".git";
}

export interface Advertisement {
  refs: Map<string, string>;
  caps: Set<string>;
}

/** Parses a smart-HTTP info/refs answer: `# service=…`, flush, `<id> <ref>\0<caps>`, `<id> <ref>`…, flush. */
export function parseAdvertisement(buf: Uint8Array, service: string): Advertisement {
  let pkts: Pkt[];
  try {
    pkts = readPkts(buf).pkts;
  } catch (err) {
    throw protocolError(`info/refs answer is not pkt-lines: ${(err as Error).message}`, buf);
  }
  let i = 0;
  if (pkts[0] && pktText(pkts[0]).startsWith("# service=")) {
    if (pktText(pkts[0]) !== `# service=${service}`) throw protocolError(`info/refs announced ${pktText(pkts[0])}, expected ${service}`, buf);
    i = 1;
    while (i < pkts.length && pkts[i] === null) i++;
  }
  const refs = new Map<string, string>();
  const caps = new Set<string>();
  for (let first = true; i < pkts.length && pkts[i] !== null; i++, first = false) {
    let line = pktText(pkts[i]!);
    if (first) {
      const nul = line.indexOf("\0");
      if (nul >= 0) {
        for (const c of line.slice(nul + 1).split(" ")) if (c) caps.add(c);
        line = line.slice(0, nul);
      }
    }
    const m = /^([0-9a-f]{40}) (.+)$/.exec(line);
    if (!m) throw protocolError(`malformed ref line ${JSON.stringify(line.slice(0, 100))}`, buf);
    if (m[2] !== "capabilities^{}") refs.set(m[2]!, m[1]!);
  }
  return { refs, caps };
}

export interface ReceiveReport {
  unpack: string;
  /** ref → null when `ok`, the reason when `ng`. */
  refs: Map<string, string | null>;
  /** Everything the server said, for the user. */
  text: string;
  fatal: string;
}

/** Parses receive-pack's answer: report-status, inside side-band framing when the server used it. */
export function parseReceiveResult(buf: Uint8Array): ReceiveReport {
  let pkts: Pkt[];
  let progress = "";
  let fatal = "";
  try {
    pkts = readPkts(buf).pkts;
    const firstBand = pkts[0]?.[0];
    if (pkts[0] && (firstBand === 1 || firstBand === 2 || firstBand === 3)) {
      const sb = demuxSideBand(pkts);
      progress = sb.progress;
      fatal = sb.error;
      pkts = sb.data.length > 0 ? readPkts(sb.data).pkts : [];
    }
  } catch (err) {
    if (err instanceof PktLineError) throw protocolError(`receive-pack answer is not pkt-lines: ${err.message}`, buf);
    throw err;
  }
  const lines = pkts.filter((p): p is Uint8Array => p !== null).map(pktText);
  const refs = new Map<string, string | null>();
  let unpack = "";
  for (const l of lines) {
    if (l.startsWith("unpack ")) unpack = l.slice(7);
    else if (l.startsWith("ok ")) refs.set(l.slice(3), null);
    else if (l.startsWith("ng ")) {
      const rest = l.slice(3);
      const sp = rest.indexOf(" ");
      refs.set(sp < 0 ? rest : rest.slice(0, sp), sp < 0 ? "rejected" : rest.slice(sp + 1));
    }
  }
  const text = [...lines, ...progress.split(/\r?\n|\r/).filter((l) => l.trim() !== "").map((l) => `remote: ${l}`), ...(fatal ? [`fatal: ${fatal.trim()}`] : [])].join("\n");
  return { unpack, refs, text, fatal };
}

/** Turns a report into success or a typed PushError. */
export function checkReport(r: ReceiveReport): void {
  if (r.fatal) throw new PushError("rejected", `Mega rejected the push: ${r.fatal.trim()}`, { serverReport: r.text });
  if (r.unpack === "") throw new PushError("protocol", "receive-pack answered without a report-status", { serverReport: r.text });
  if (r.unpack !== "ok") throw new PushError("rejected", `Mega could not store the pushed objects: ${r.unpack}`, { serverReport: r.text });
  if (!r.refs.has(MAIN)) throw new PushError("protocol", `the report does not mention ${MAIN}`, { serverReport: r.text });
  const reason = r.refs.get(MAIN);
  if (reason === null || reason === undefined) return;
  if (/non-fast-forward|fetch first|stale info/i.test(reason)) {
    throw new PushError("non-fast-forward", `Mega refused the push as not a fast-forward (${reason}): the mount's base is behind the server; nothing was lost locally`, { serverReport: r.text });
  }
  // A hook's own words (e.g. "only single commit support in each push") are in the remote: lines.
  const remote = r.text.split("\n").filter((l) => l.startsWith("remote: ")).map((l) => l.slice(8)).join("; ");
  throw new PushError("rejected", `Mega rejected the push: ${reason}${remote ? ` (${remote})` : ""}`, { serverReport: r.text });
}

function findClLink(refs: Map<string, string>, commit: string): string | null {
  for (const [name, id] of refs) if (id === commit && name.startsWith("refs/cl/")) return name.slice("refs/cl/".length);
  return null;
}

/** The body, read within the exchange's deadline; parsed afterwards so parse errors keep their PushError code. */
async function bytes(res: Response): Promise<Uint8Array> {
  return new Uint8Array(await res.arrayBuffer());
}

/** Runs one exchange, mapping transport failures to PushError codes. */
async function call<T>(hasToken: boolean, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof PushError) throw err;
    if (!(err instanceof RemoteError)) throw err;
    if (err.status === 401 || err.status === 403) {
      const hint = hasToken ? "the access token was refused; check mega_token / SCORPIO_MEGA_TOKEN" : "no access token was sent; set mega_token / SCORPIO_MEGA_TOKEN or pass --token";
      throw new PushError("unauthorized", `${err.message} (${hint})`, { status: err.status, cause: err });
    }
    switch (err.failure) {
      case "timeout":
      case "network":
      case "aborted":
        throw new PushError("network", `${err.message}; is Mega reachable? nothing was lost locally`, { cause: err });
      case "protocol":
        throw new PushError("protocol", err.message, { cause: err });
      default:
        throw new PushError("rejected", err.message, { status: err.status, cause: err });
    }
  }
}

function protocolError(message: string, buf: Uint8Array): PushError {
  return new PushError("protocol", message, { serverReport: new TextDecoder().decode(buf.subarray(0, 300)) });
}


/**
 * Helpers for the Antares tests: JSON calls against a running daemon, and waiting for a mount to
 * be Ready. All through HTTP; mounts are touched from this (test) process, served by the daemon child.
 */
export interface ApiResult {
  status: number;
  json: any;
  headers: Headers;
}

export function apiClient(base: string, token?: string) {
  return async function api(method: string, path: string, body?: unknown, raw?: { body?: string; contentType?: string }): Promise<ApiResult> {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    let payload: string | undefined;
    if (raw) {
      payload = raw.body;
      if (raw.contentType) headers["content-type"] = raw.contentType;
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      headers["content-type"] = "application/json";
    }
    const res = await fetch(base + path, { method, headers, body: payload, signal: AbortSignal.timeout(60_000) });
    const text = await res.text();
    let json: unknown = undefined;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = text;
    }
    return { status: res.status, json, headers: res.headers };
  };
}

export type Api = ReturnType<typeof apiClient>;

/** Polls /ready until it reports a state other than Provisioning/Mounted; returns the last body. */
export async function waitSettled(api: Api, prefix: string, id: string, ms = 30_000): Promise<any> {
  const until = Date.now() + ms;
  for (;;) {
    const r = await api("GET", `${prefix}/mounts/${id}/ready`);
    if (r.status !== 200) return r.json;
    const s = r.json.state;
    if (s !== "Provisioning" && s !== "Mounted") return r.json;
    if (Date.now() > until) throw new Error(`mount ${id} still ${JSON.stringify(s)}`);
    await Bun.sleep(50);
  }
}

/** `POST {prefix}/mounts`; throws with the answer unless it is 200. */
export async function createMount(api: Api, prefix: string, body: Record<string, unknown>): Promise<{ mount_id: string; mountpoint: string }> {
  const r = await api("POST", `${prefix}/mounts`, body);
  if (r.status !== 200) throw new Error(`create ${JSON.stringify(body)} → ${r.status} ${JSON.stringify(r.json)}`);
  return r.json as { mount_id: string; mountpoint: string };
}

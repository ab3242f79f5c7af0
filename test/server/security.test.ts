/**
 * Safe defaults of the HTTP API: browser-borne forgery (non-JSON bodies → 415, foreign Origin → 403),
 * the bind policy (non-loopback without a token is refused), secret redaction and log escaping.
 */
import { describe, expect, test } from "bun:test";
import { Elysia } from "elysia";
import { configureLogging, logger } from "../../src/util/log.ts";
import { createApp } from "../../src/server/app.ts";
import { checkBind, isLoopbackHost } from "../../src/server/bind-policy.ts";
import { minimalServices, type DaemonServices } from "../../src/server/services.ts";
import { redactConfig } from "../../src/config/index.ts";
import { checkClId, normalizeMountPath, taskIdOf } from "../../src/antares/index.ts";

async function appWithRecorder() {
  const calls: unknown[] = [];
  const base = await minimalServices({ config: {} as never, mode: "scorpio", configPath: "x", state: { works: [] } });
  const services: DaemonServices = {
    ...base,
    plugins: () => [new Elysia().post("/antares/mounts", ({ body }) => (calls.push(body), { mount_id: "m", mountpoint: "/m" }))],
  };
  return { app: createApp(services, { mode: "scorpio" }), calls };
}

describe("request forgery", () => {
  test("a form post or text/plain body is 415 and reaches no route", async () => {
    const { app, calls } = await appWithRecorder();
    for (const contentType of ["application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x"]) {
      const r = await app.handle(new Request("http://127.0.0.1:2725/antares/mounts", { method: "POST", body: "job_id=x&path=/", headers: { "content-type": contentType } }));
      expect(r.status).toBe(415);
      expect(((await r.json()) as { code: string }).code).toBe("UNSUPPORTED_MEDIA_TYPE");
    }
    // A body without any content type is refused too.
    const bare = await app.handle(new Request("http://127.0.0.1:2725/antares/mounts", { method: "POST", body: "{}", headers: { "content-type": "" } }));
    expect(bare.status).toBe(415);
    expect(calls).toEqual([]);
  });

  test("a JSON body from a same-origin or non-browser client is accepted", async () => {
    const { app, calls } = await appWithRecorder();
    const plain = await app.handle(new Request("http://127.0.0.1:2725/antares/mounts", { method: "POST", body: '{"path":"/"}', headers: { "content-type": "application/json; charset=utf-8" } }));
    expect(plain.status).toBe(200);
    const same = await app.handle(new Request("http://127.0.0.1:2725/antares/mounts", { method: "POST", body: '{"path":"/"}', headers: { "content-type": "application/json", origin: "http://127.0.0.1:2725" } }));
    expect(same.status).toBe(200);
    expect(calls.length).toBe(2);
  });

  test("a foreign Origin is 403, even for JSON and GET", async () => {
    const { app, calls } = await appWithRecorder();
    for (const origin of ["http://evil.example", "null", "http://127.0.0.1:8080"]) {
      const r = await app.handle(new Request("http://127.0.0.1:2725/antares/mounts", { method: "POST", body: '{"path":"/"}', headers: { "content-type": "application/json", origin } }));
      expect(r.status).toBe(403);
      expect(((await r.json()) as { code: string }).code).toBe("FORBIDDEN_ORIGIN");
      const g = await app.handle(new Request("http://127.0.0.1:2725/health", { headers: { origin } }));
      expect(g.status).toBe(403);
    }
    expect(calls).toEqual([]);
  });

  test("a DELETE without a body needs no content type", async () => {
    const { app } = await appWithRecorder();
    const r = await app.handle(new Request("http://127.0.0.1:2725/no/such", { method: "DELETE" }));
    expect(r.status).toBe(404);
  });
});

test("DNS rebinding: without a token a Host that is a DNS name is 403; IPs and localhost pass; a token lifts it", async () => {
  const { app } = await appWithRecorder();
  const r = await app.handle(new Request("http://evil.example:2725/health"));
  expect(r.status).toBe(403);
  expect(((await r.json()) as { code: string }).code).toBe("FORBIDDEN_HOST");
  for (const host of ["127.0.0.1:2725", "localhost:2725", "[::1]:2725", "10.1.2.3:2725"]) {
    expect((await app.handle(new Request(`http://${host}/health`))).status).toBe(200);
  }
  const base = await minimalServices({ config: {} as never, mode: "scorpio", configPath: "x", state: { works: [] } });
  const withToken = createApp({ ...base, httpToken: "t" }, { mode: "scorpio" });
  expect((await withToken.handle(new Request("http://build-host.example:2725/health"))).status).toBe(200);
});

describe("bind policy", () => {
  test("loopback addresses", () => {
    for (const h of ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"]) expect(isLoopbackHost(h)).toBe(true);
    for (const h of ["0.0.0.0", "::", "10.0.0.1", "192.168.1.2", "fe80::1"]) expect(isLoopbackHost(h)).toBe(false);
  });
  test("non-loopback without a token is refused unless opted in; a token allows it", () => {
    expect(checkBind("127.0.0.1", "", false)).toEqual({});
    expect(checkBind("0.0.0.0", "", false).error).toContain("--insecure-bind");
    expect(checkBind("0.0.0.0", "", true).warning).toContain("without a token");
    expect(checkBind("0.0.0.0", "s3cret", false)).toEqual({});
  });
});

test("redactConfig hides every secret key and keeps the rest", () => {
  const r = redactConfig({ http_token: "s3cret", base_url: "http://x" } as never);
  expect(r).toEqual({ http_token: "<redacted>", base_url: "http://x" });
  expect(redactConfig({ http_token: "" } as never)).toEqual({ http_token: "" });
});

describe("log injection", () => {
  test("control characters from request fields are escaped in text and JSON logs", () => {
    const lines: string[] = [];
    configureLogging({ sink: (l) => lines.push(l), json: false, directives: "info" });
    try {
      logger("t").info("job \x1b[31mred\x00", { job_id: "a\nFAKE  INFO line\x9b" });
      configureLogging({ json: true });
      logger("t").info("x\x7f", { job_id: "a\u2028b\x1b" });
    } finally {
      configureLogging({ json: false, sink: (l) => process.stderr.write(l + "\n") });
    }
    // eslint-disable-next-line no-control-regex
    for (const l of lines) expect(l).not.toMatch(/[\x00-\x1f\x7f-\x9f\u2028\u2029]/);
    expect(lines[0]).toContain("job \\x1b[31mred\\x00");
    const parsed = JSON.parse(lines[1]!) as { msg: string; job_id: string };
    expect(parsed).toMatchObject({ msg: "x\x7f", job_id: "a\u2028b\x1b" });
  });
});

test("ids that are not valid Unicode are refused (they would be saved changed)", () => {
  expect(() => taskIdOf({ job_id: "job-\ud800" })).toThrow(/lone surrogate/);
  expect(() => checkClId("cl\udc00")).toThrow(/lone surrogate/);
  expect(() => normalizeMountPath("/a\ud800")).toThrow(/lone surrogate/);
  expect(taskIdOf({ job_id: "job-😀" })).toBe("job-😀");
});

/**
 * The API documentation works offline (Swagger UI bundled, no CDN) and covers every route, with the bearer
 * scheme that `http_token` turns on.
 */
import { describe, expect, test } from "bun:test";
import { createApp } from "../../src/server/app.ts";
import { minimalServices } from "../../src/server/services.ts";
import { workspaceRoutes } from "../../src/server/workspace.ts";
import { antaresRoutes } from "../../src/server/routes/antares.ts";
import { legacyRoutes } from "../../src/server/routes/legacy/index.ts";

async function fullApp(token = "") {
  const base = await minimalServices({ config: {} as never, mode: "scorpio", configPath: "x", state: { works: [] } });
  // Route tables only: the handlers are never called here, so their services can be empty.
  const plugins = () => [workspaceRoutes({} as never), antaresRoutes({ mountCount: () => 0 } as never, { prefix: "/antares" }), legacyRoutes({} as never, {} as never)];
  return createApp({ ...base, httpToken: token, plugins }, { mode: "scorpio" });
}

const get = async (app: Awaited<ReturnType<typeof fullApp>>, path: string) => app.handle(new Request(`http://127.0.0.1:2725${path}`));

describe("/openapi", () => {
  test("the page loads its UI from the daemon itself, not a CDN", async () => {
    const app = await fullApp();
    const page = await (await get(app, "/openapi")).text();
    const refs = [...page.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThanOrEqual(2);
    for (const ref of refs) {
      expect(ref).toStartWith("/openapi/assets/");
      const asset = await get(app, ref);
      expect(asset.status).toBe(200);
      expect((await asset.text()).length).toBeGreaterThan(10_000);
    }
    expect(page).not.toMatch(/https?:\/\//);
  });

  test("every route is documented with a summary and a tag; the bearer scheme is declared; /health needs none", async () => {
    const spec = (await (await get(await fullApp(), "/openapi.json")).json()) as {
      paths: Record<string, Record<string, { summary?: string; tags?: string[]; security?: unknown[] }>>;
      components: { securitySchemes: Record<string, { type: string; scheme: string }> };
      security: unknown[];
    };
    const ops = Object.entries(spec.paths).flatMap(([path, methods]) => Object.entries(methods).map(([m, op]) => ({ route: `${m} ${path}`, op })));
    for (const required of ["get /health", "get /metrics", "get /api/v1/fuse", "get /api/v1/cache", "post /api/v1/cache/gc", "post /api/v1/prefetch", "post /antares/mounts"]) {
      expect(ops.map((o) => o.route)).toContain(required);
    }
    for (const { route, op } of ops) {
      expect({ route, summary: typeof op.summary === "string" && op.summary.length > 0 }).toEqual({ route, summary: true });
      expect({ route, tagged: (op.tags ?? []).length > 0 }).toEqual({ route, tagged: true });
    }
    expect(spec.components.securitySchemes.bearer).toMatchObject({ type: "http", scheme: "bearer" });
    expect(spec.security).toEqual([{ bearer: [] }]);
    expect(spec.paths["/health"]!.get!.security).toEqual([]);
  });

  test("the documentation needs no token (a browser cannot send one); the API still does", async () => {
    const app = await fullApp("s3cret");
    for (const path of ["/openapi", "/openapi.json", "/openapi/assets/swagger-ui.css"]) expect((await get(app, path)).status).toBe(200);
    expect((await get(app, "/metrics")).status).toBe(401);
    expect((await get(app, "/api/v1/fuse")).status).toBe(401);
  });
});

/**
 * @module devserver/push-auth — who is pushing. Mega maps an access token (`Authorization: Bearer <token>`,
 * or Basic with the token as password and any user name) to its owner; the owner decides which open CL a
 * push updates. Here tokens come from the server options (token → user name). A presented but unknown token
 * is always refused; no token is refused when auth is required, otherwise the pusher is "anonymous".
 */

export const ANONYMOUS = "anonymous";
/** The user of the single legacy `pushToken`. */
export const PUSH_TOKEN_USER = "mega";

export interface PushAuthOptions {
  /** token → user name. */
  tokens?: Record<string, string>;
  /** Legacy single token (its user is "mega"). */
  pushToken?: string;
  /** Refuse pushes without a token. Default: true when any token is configured, else false. */
  requireAuth?: boolean;
}

export class PushAuth {
  private readonly users = new Map<string, string>();
  readonly requireAuth: boolean;

  constructor(opts: PushAuthOptions) {
    for (const [token, user] of Object.entries(opts.tokens ?? {})) {
      if (token === "" || !/^[A-Za-z0-9._@-]{1,64}$/.test(user)) throw new Error(`invalid dev-server token entry for user ${JSON.stringify(user)}`);
      this.users.set(token, user);
    }
    if (opts.pushToken !== undefined && opts.pushToken !== "") this.users.set(opts.pushToken, PUSH_TOKEN_USER);
    this.requireAuth = opts.requireAuth ?? this.users.size > 0;
  }

  /** The pusher's user name, or a 401 response (Mega's plain-text `Login first`). */
  authenticate(request: Request): { user: string } | Response {
    const token = presentedToken(request.headers.get("authorization") ?? "");
    if (token === undefined) return this.requireAuth ? unauthorized() : { user: ANONYMOUS };
    const user = this.users.get(token);
    return user === undefined ? unauthorized() : { user };
  }
}

function presentedToken(h: string): string | undefined {
  if (/^bearer /i.test(h)) return h.slice(7).trim();
  if (/^basic /i.test(h)) {
    const dec = Buffer.from(h.slice(6).trim(), "base64").toString("utf8");
    return dec.slice(dec.indexOf(":") + 1);
  }
  return undefined;
}

function unauthorized(): Response {
  return new Response("Login first", {
    status: 401,
    headers: { "www-authenticate": 'Basic realm="Mega", Bearer realm="Mega"', "content-type": "text/plain; charset=utf-8" },
  });
}

/** Parses `user=token` (the CLI's `--token`). */
export function parseTokenSpec(spec: string): [token: string, user: string] {
  const eq = spec.indexOf("=");
  if (eq <= 0 || eq === spec.length - 1) throw new Error(`--token expects USER=TOKEN, got ${JSON.stringify(spec.replace(/=.*/, "=…"))}`);
  return [spec.slice(eq + 1), spec.slice(0, eq)];
}

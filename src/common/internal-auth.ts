// Authentication of HTTP calls between roles (Manager → AC, SD peer → SD, AC → SD): each
// request carries x-vigil-ts (unix ms) and x-vigil-sig = hex HMAC-SHA256(secret,
// "METHOD\npath?query\nts\nsha256hex(body)"). Requests older or newer than 5 minutes, or with a
// wrong signature, are refused with 401. The secret is shared by the deployment's roles
// (`vigil-server certs init` writes one to internal.secret).
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";

export const SKEW_MS = 5 * 60_000;
export const TS_HEADER = "x-vigil-ts";
export const SIG_HEADER = "x-vigil-sig";

function signature(secret: string, method: string, pathQuery: string, ts: string, body: Uint8Array | string): string {
  const bodyHash = createHash("sha256").update(body).digest("hex");
  return createHmac("sha256", secret).update(`${method.toUpperCase()}\n${pathQuery}\n${ts}\n${bodyHash}`).digest("hex");
}

/** Headers to add to an internal request. */
export function signRequest(secret: string, method: string, url: string, body: Uint8Array | string = "", now = Date.now()): Record<string, string> {
  const u = new URL(url);
  const ts = String(now);
  return { [TS_HEADER]: ts, [SIG_HEADER]: signature(secret, method, u.pathname + u.search, ts, body) };
}

/** fetch() with the request signed. */
export async function signedFetch(secret: string, url: string, init: { method?: string; body?: string; headers?: Record<string, string>; signal?: AbortSignal } = {}): Promise<Response> {
  const method = init.method ?? (init.body !== undefined ? "POST" : "GET");
  const headers = { ...(init.body !== undefined ? { "content-type": "application/json" } : {}), ...init.headers, ...signRequest(secret, method, url, init.body ?? "") };
  return fetch(url, { method, body: init.body, headers, signal: init.signal });
}

/** Check a request; returns an error message or undefined when it is authentic. */
export function verifyRequest(secret: string, method: string, url: string, headers: { get(name: string): string | null }, body: Uint8Array, now = Date.now()): string | undefined {
  const ts = headers.get(TS_HEADER);
  const sig = headers.get(SIG_HEADER);
  if (!ts || !sig) return `missing ${TS_HEADER}/${SIG_HEADER} headers (internal calls must be signed)`;
  const t = Number(ts);
  if (!Number.isFinite(t) || Math.abs(now - t) > SKEW_MS) return `${TS_HEADER} is more than 5 minutes off`;
  const u = new URL(url);
  const want = Buffer.from(signature(secret, method, u.pathname + u.search, ts, body), "hex");
  const got = Buffer.from(sig, "hex");
  if (got.length !== want.length || !timingSafeEqual(got, want)) return "bad signature";
  return undefined;
}

/** hono middleware: refuses unsigned or badly signed requests with 401 {code, msg}. */
export function internalAuth(opts: { secret: string; skip?: (path: string) => boolean; onReject?: (reason: string) => void }): MiddlewareHandler {
  return async function internalAuthMiddleware(c, next) {
    if (opts.skip?.(c.req.path)) return next();
    const body = new Uint8Array(await c.req.raw.clone().arrayBuffer());
    const err = verifyRequest(opts.secret, c.req.method, c.req.url, c.req.raw.headers, body);
    if (err) {
      opts.onReject?.(err);
      return c.json({ code: 401, msg: `unauthorized: ${err}` }, 401);
    }
    return next();
  };
}

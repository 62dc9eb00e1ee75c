// Typed API errors and the one error handler: every failure leaves the Manager as
// {code, msg} with a fitting HTTP status (code = the status); anything untyped is a 500.
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import type { ZodError } from "zod";
import type { Logger } from "../../../common/log.ts";
import { ConflictError } from "../repo/types.ts";

/** An error with the HTTP status it should produce and a message for the caller. */
export class ApiError extends HTTPException {
  constructor(status: ContentfulStatusCode, msg: string, readonly headers: Record<string, string> = {}) {
    super(status, { message: msg });
    this.name = "ApiError";
  }
}

export const badRequest = (msg: string) => new ApiError(400, msg);
export const notFound = (what: string) => new ApiError(404, `${what} not found`);

/** Zod issues as one readable line: "target.path: message; …". */
export function describeIssues(e: ZodError, target = "body"): string {
  return e.issues
    .map((i) => {
      const path = [target, ...i.path.map(String)].join(".");
      const keys = (i as { keys?: string[] }).keys;
      return i.code === "unrecognized_keys" && keys ? `${path}: unknown field(s) ${keys.join(", ")}` : `${path}: ${i.message}`;
    })
    .join("; ");
}

/** Where the first NUL character is in a value's strings or keys ("" = the value itself), else undefined. */
export function findNul(v: unknown, path = ""): string | undefined {
  if (typeof v === "string") return v.includes("\0") ? path : undefined;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const at = findNul(v[i], `${path}.${i}`);
      if (at !== undefined) return at;
    }
    return undefined;
  }
  if (v === null || typeof v !== "object") return undefined;
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return undefined; // a File of a multipart form: bytes, not text
  for (const [k, x] of Object.entries(v)) {
    if (k.includes("\0")) return `${path} (a key)`;
    const at = findNul(x, `${path}.${k}`);
    if (at !== undefined) return at;
  }
  return undefined;
}

export const nulMessage = (field: string) => `bad request: ${field}: must not contain NUL (\\u0000) characters`;

/**
 * @hono/zod-openapi defaultHook: a failed validation becomes a 400 naming what was wrong; so does
 * a NUL character in any string of a valid input (PostgreSQL refuses NUL in text, SQLite stores
 * it: both dialects must answer alike). Runs after the route's role check.
 */
export function validationHook(result: { success: boolean; target: string; error?: ZodError; data?: unknown }, _c: Context): void {
  const target = result.target === "json" ? "body" : result.target;
  if (!result.success && result.error) throw new ApiError(400, `bad request: ${describeIssues(result.error, target)}`);
  const at = result.success ? findNul(result.data) : undefined;
  if (at !== undefined) throw new ApiError(400, nulMessage(`${target}${at}`));
}

export function createErrorHandler(opts: { log: Logger }): ErrorHandler {
  return function managerErrorHandler(e, c) {
    if (e instanceof ApiError) return c.json({ code: e.status, msg: e.message }, e.status, e.headers);
    if (e instanceof ConflictError) return c.json({ code: 409, msg: e.message }, 409);
    if (e instanceof HTTPException) {
      // hono's own (body limit, malformed JSON from the validator)
      const msg = e.status === 413 ? "request body too large" : e.message || "bad request";
      return c.json({ code: e.status, msg }, e.status as ContentfulStatusCode);
    }
    opts.log.error("request failed", { method: c.req.method, path: c.req.path, error: e as Error });
    return c.json({ code: 500, msg: "internal error (see the Manager's log)" }, 500);
  };
}

export const notFoundHandler: NotFoundHandler = (c) => c.json({ code: 404, msg: `no route ${c.req.method} ${c.req.path}` }, 404);

// Zod schemas shared by the routes: the {code, msg, data} envelope, errors, paging, and the
// security schemes named in /openapi.json.
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";

export const ErrorSchema = z.object({ code: z.number().int(), msg: z.string() }).openapi("Error");

export function envelope<T extends z.ZodType>(data: T) {
  return z.object({ code: z.literal(0), msg: z.string(), data });
}

export const PageQuery = {
  page: z.coerce.number().int().min(1).max(1_000_000).default(1),
  size: z.coerce.number().int().min(1).max(1000).default(50),
};

/** A safe name: tags, usernames, component names (no spaces, quotes or control characters). */
export const zName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:@-]{0,63}$/, "must be 1-64 characters of letters, digits and . _ : @ - (starting with a letter or digit)");

export const SECURITY: Record<string, string[]>[] = [{ token: [] }, { bearer: [] }];

/** The error responses every authenticated route can give. */
export function errors(...extra: number[]) {
  const r: Record<number, { description: string; content: { "application/json": { schema: typeof ErrorSchema } } }> = {};
  const desc: Record<number, string> = {
    400: "bad input", 401: "no valid token", 403: "role too small", 404: "not found", 409: "conflict",
    413: "body too large", 429: "too many attempts", 501: "not available in this deployment", 502: "an AC or SD failed",
  };
  for (const s of [400, 401, 403, ...extra]) r[s] = { description: desc[s] ?? "error", content: { "application/json": { schema: ErrorSchema } } };
  return r;
}

export function json<T extends z.ZodType>(schema: T, description = "success") {
  return { 200: { description, content: { "application/json": { schema: envelope(schema) } } } };
}

/** A success reply (the response typing is the route definition's job; handlers stay plain). */
export function ok(c: Context, data: unknown): never {
  return c.json({ code: 0, msg: "success", data }, 200) as never;
}

// Request bodies and query strings of SD's HTTP API (DESIGN.md "SD HTTP"), validated with zod.
import { z } from "zod";

export const MAX_NAME_CHARS = 128;
export const MAX_EXTRA_BYTES = 4096;
/** Most operations one /registry/sync call may carry. */
export const MAX_SYNC_OPS = 10_000;

const name = z.string({ message: "name: expected a string" }).min(1, "name: must not be empty").max(MAX_NAME_CHARS, `name: at most ${MAX_NAME_CHARS} characters`)
  .regex(/^[A-Za-z0-9_.-]+$/, "name: only letters, digits, _ . - are allowed");
const ip = z.string({ message: "ip: expected a string" }).min(1, "ip: must not be empty").max(253, "ip: too long")
  .regex(/^[A-Za-z0-9.:%_-]+$/, "ip: expected an IP address or host name");
const port = z.number({ message: "port: expected a number" }).int("port: expected an integer").min(1, "port: expected 1-65535").max(65535, "port: expected 1-65535");
const weight = z.number({ message: "weight: expected a number" }).nonnegative("weight: must be ≥ 0");
const extra = z.record(z.string(), z.unknown(), { message: "extra: expected an object" })
  .refine((o) => JSON.stringify(o).length <= MAX_EXTRA_BYTES, `extra: at most ${MAX_EXTRA_BYTES} bytes of JSON`);

export const RegisterBody = z.object({ name, ip, port, weight: weight.default(0), extra: extra.default({}) });
export const EvictBody = z.object({ name, ip, port });

/** Peer replication: what one SD forwards to another (never forwarded again). */
export const SyncBody = z.object({
  register: z.array(RegisterBody).max(MAX_SYNC_OPS).default([]),
  evict: z.array(EvictBody).max(MAX_SYNC_OPS).default([]),
});
export type SyncBody = z.infer<typeof SyncBody>;

export const DetailQuery = z.object({
  name,
  count: z.string().regex(/^\d+$/, "count: expected a whole number ≥ 1").transform(Number).refine((n) => n >= 1, "count: expected a whole number ≥ 1").optional(),
});

/** The first problem of a failed parse, as one line. */
export function describe(err: z.ZodError): string {
  const i = err.issues[0];
  if (!i) return "invalid input";
  const path = i.path.join(".");
  if (i.code === "unrecognized_keys") return `unknown field(s) ${i.keys.join(", ")}`;
  return i.message.includes(":") || !path ? i.message : `${path}: ${i.message}`;
}

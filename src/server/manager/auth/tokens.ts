// Session tokens: 32 random bytes (base64url) handed to the client once; the repository keeps
// only their sha256. Read from the `token` header (Elkeid's clients) or Authorization: Bearer.
import { createHash, randomBytes } from "node:crypto";

export function newToken(): string {
  return randomBytes(32).toString("base64url");
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

export function tokenFrom(headers: { header(name: string): string | undefined }): string | undefined {
  const t = headers.header("token")?.trim();
  if (t) return t;
  const auth = headers.header("authorization");
  const m = auth ? /^Bearer\s+(\S+)\s*$/i.exec(auth) : null;
  return m?.[1];
}

// Password hashing (argon2id through Bun.password) and generated passwords for first start and
// the user CLI.
import { randomBytes } from "node:crypto";

export const MIN_PASSWORD = 8;
export const MAX_PASSWORD = 256;

export function hashPassword(password: string): Promise<string> {
  // OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane
  return Bun.password.hash(password, { algorithm: "argon2id", memoryCost: 19_456, timeCost: 2 });
}

export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  try {
    return await Bun.password.verify(password, hash);
  } catch {
    return false;
  }
}

let dummy: Promise<string> | undefined;
/** Spend the same time as a real check for an unknown user (no user enumeration by timing). */
export async function burnVerify(password: string): Promise<void> {
  dummy ??= hashPassword(randomBytes(16).toString("hex"));
  await verifyPassword(password, await dummy);
}

/** 24 characters from an unambiguous alphabet (~138 bits). */
export function generatePassword(): string {
  const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
  return [...randomBytes(24)].map((b) => alphabet[b % alphabet.length]).join("");
}

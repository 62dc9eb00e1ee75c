// First start: when there is no user at all, create `admin` with the configured password
// (config / VIGIL_ADMIN_PASSWORD) or a generated one that is logged exactly once.
import type { Logger } from "../../../common/log.ts";
import type { Repository } from "../repo/types.ts";
import { generatePassword, hashPassword, MIN_PASSWORD } from "./passwords.ts";
import { ConfigError } from "../../../common/errors.ts";

export async function ensureAdmin(opts: { repo: Repository; password?: string; log: Logger }): Promise<{ created: boolean; generated: boolean }> {
  if ((await opts.repo.countUsers()) > 0) return { created: false, generated: false };
  const given = opts.password ?? process.env.VIGIL_ADMIN_PASSWORD;
  if (given !== undefined && given.length < MIN_PASSWORD) throw new ConfigError("manager.admin_password", `must be at least ${MIN_PASSWORD} characters`);
  const password = given ?? generatePassword();
  await opts.repo.createUser({ username: "admin", role: "admin", passwordHash: await hashPassword(password) });
  await opts.repo.audit({ at: Date.now(), actor: "system", action: "user.create", target: "admin", detail: { role: "admin", first_start: true }, remoteAddr: "" });
  if (given === undefined) opts.log.warn("created the first user `admin` with a generated password (shown only this once; change it with `vigil-server user passwd admin`)", { username: "admin", password });
  else opts.log.info("created the first user `admin` with the configured password", { username: "admin" });
  return { created: true, generated: given === undefined };
}

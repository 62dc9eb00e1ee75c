// What every route module receives: the repository, the services, settings, and an audit helper.
import type { Context } from "hono";
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Logger } from "../../../common/log.ts";
import type { EventStore } from "../../store/index.ts";
import type { Repository } from "../repo/types.ts";
import type { ManagerEnv } from "./env.ts";
import type { ManagerSettings } from "../settings.ts";
import type { ManagerServices } from "../services/index.ts";

export interface RouteDeps {
  repo: Repository;
  events?: EventStore;
  log: Logger;
  settings: ManagerSettings;
  services: ManagerServices;
}

export type ManagerApp = OpenAPIHono<ManagerEnv>;

/** Record a change: who (the caller), what, on what, and from where. */
export async function audit(c: Context<ManagerEnv>, repo: Repository, action: string, target: string, detail: Record<string, unknown> = {}, actor?: string): Promise<void> {
  await repo.audit({ at: Date.now(), actor: actor ?? c.get("user")?.username ?? "anonymous", action, target, detail, remoteAddr: c.get("remoteAddr") ?? "" });
}

// The Manager's long-lived services, built once and shared by the routes and startManager.
import type { Logger } from "../../../common/log.ts";
import type { Repository } from "../repo/types.ts";
import type { AcClient } from "./ac-client.ts";
import { createDispatcher, type Dispatcher } from "./dispatch.ts";
import { createPolicyPush, type PolicyPush } from "./policy-push.ts";

export interface ManagerServices {
  acClient: AcClient;
  policyPush: PolicyPush;
  dispatcher: Dispatcher;
  /** SD base URLs for the cluster view */
  sdUrls: string[];
}

export function createServices(o: { repo: Repository; acClient: AcClient; log: Logger; publicUrl: () => string; sdUrls?: string[]; dispatchConcurrency?: number }): ManagerServices {
  const policyPush = createPolicyPush({ repo: o.repo, acClient: o.acClient, log: o.log.child("policy"), publicUrl: o.publicUrl });
  const dispatcher = createDispatcher({ repo: o.repo, acClient: o.acClient, policyPush, log: o.log.child("dispatch"), concurrency: o.dispatchConcurrency });
  return { acClient: o.acClient, policyPush, dispatcher, sdUrls: o.sdUrls ?? [] };
}

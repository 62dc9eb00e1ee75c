// Sends a task's sub-tasks to their agents through the AC's /command/, at most `concurrency`
// calls at a time. Accepted → "sent" (config sync: "succeeded", nothing answers it); agent not
// connected or AC failure → "failed". Status updates are written in chunks; a 5100 result that
// arrives first wins (setSubTasks only changes non-final sub-tasks). Stops when cancelled.
import type { Logger } from "../../../common/log.ts";
import type { Repository, Task } from "../repo/types.ts";
import type { AcClient, CommandJson } from "./ac-client.ts";
import type { PolicyPush } from "./policy-push.ts";

export interface DispatchTarget {
  agentId: string;
  token: string;
}

export interface Dispatcher {
  /** resolves when every sub-task has been tried */
  dispatch(task: Task, targets: DispatchTarget[]): Promise<void>;
  /** tasks still dispatching (stop() waits for them) */
  idle(): Promise<void>;
}

export interface DispatcherOptions {
  repo: Repository;
  acClient: AcClient;
  policyPush: PolicyPush;
  log: Logger;
  /** concurrent /command/ calls; default 64 */
  concurrency?: number;
  /** status writes per chunk; default 500 */
  chunk?: number;
}

export function createDispatcher(o: DispatcherOptions): Dispatcher {
  const concurrency = o.concurrency ?? 64;
  const chunk = o.chunk ?? 500;
  const running = new Set<Promise<void>>();

  const run = async (task: Task, targets: DispatchTarget[]) => {
    await o.repo.setTaskState(task.id, "dispatching", Date.now());
    const pending = new Map<string, { status: "sent" | "succeeded" | "failed"; msg: string; ids: string[] }>();
    const flush = async (force: boolean) => {
      for (const [key, g] of pending) {
        if (!force && g.ids.length < chunk) continue;
        pending.delete(key);
        await o.repo.setSubTasks(task.id, g.ids, g.status, g.msg, Date.now());
      }
    };
    const note = async (agentId: string, status: "sent" | "succeeded" | "failed", msg: string) => {
      const key = `${status}\n${msg}`;
      const g = pending.get(key) ?? { status, msg, ids: [] };
      g.ids.push(agentId);
      pending.set(key, g);
      if (g.ids.length >= chunk) await flush(false);
    };
    const command = async (t: DispatchTarget): Promise<CommandJson> =>
      task.kind === "config_sync"
        ? { agent_ctrl: 0, config: await o.policyPush.desiredFor(t.agentId) }
        : { agent_ctrl: 0, task: { data_type: task.dataType, object_name: task.objectName, data: task.data, token: t.token } };
    let next = 0;
    let cancelled = false;
    const worker = async () => {
      while (!cancelled && next < targets.length) {
        const t = targets[next++]!;
        if (next % 1000 === 0 && (await o.repo.getTask(task.id))?.state === "cancelled") {
          cancelled = true;
          break;
        }
        try {
          const r = await o.acClient.send(t.agentId, await command(t));
          if (r === "not_connected") await note(t.agentId, "failed", "agent not connected");
          else if (task.kind === "config_sync") await note(t.agentId, "succeeded", "desired components delivered");
          else await note(t.agentId, "sent", "");
        } catch (e) {
          await note(t.agentId, "failed", `dispatch failed: ${(e as Error).message}`);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, targets.length) }, worker));
    await flush(true);
    if ((await o.repo.getTask(task.id))?.state !== "cancelled") await o.repo.setTaskState(task.id, "dispatched", Date.now());
    o.log.info("task dispatched", { task: task.id, kind: task.kind, agents: targets.length, cancelled });
  };

  return {
    dispatch(task, targets) {
      const p = run(task, targets).catch((e) => o.log.error("dispatching a task failed", { task: task.id, error: e as Error }));
      running.add(p);
      void p.finally(() => running.delete(p));
      return p;
    },
    async idle() {
      await Promise.all([...running]);
    },
  };
}

// Sends a task's sub-tasks to their agents through the AC's /command/batch (AcClient.sendMany),
// in slices of `slice` sub-tasks, at most `concurrency` slices at a time. Accepted → "sent"
// (config sync: "succeeded", nothing answers it); agent not connected or AC failure → "failed".
// Status updates are written in chunks; a 5100 result that arrives first wins (setSubTasks only
// changes non-final sub-tasks). Stops when cancelled (checked before each slice).
import type { Logger } from "../../../common/log.ts";
import type { Repository, Task } from "../repo/types.ts";
import { mapLimit, type AcClient, type CommandJson, type SendEntry, type SendResult } from "./ac-client.ts";
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
  /** slices in flight, at most MAX_SLICES_IN_FLIGHT; default 4 */
  concurrency?: number;
  /** sub-tasks per sendMany call, and between checks for cancellation; default 1,000 */
  slice?: number;
  /** status writes per chunk; default 500 */
  chunk?: number;
}

/** commands built at once per slice (config_sync reads the repository for each) */
const BUILD_CONCURRENCY = 16;
/** more would only queue in the AC client (2 calls per AC) past their check for cancellation */
const MAX_SLICES_IN_FLIGHT = 8;

export function createDispatcher(o: DispatcherOptions): Dispatcher {
  const concurrency = Math.max(1, Math.min(o.concurrency ?? 4, MAX_SLICES_IN_FLIGHT));
  const slice = o.slice ?? 1_000;
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
    const slices = Array.from({ length: Math.ceil(targets.length / slice) }, (_, k) => targets.slice(k * slice, (k + 1) * slice));
    let next = 0;
    let cancelled = false;
    const worker = async () => {
      while (!cancelled && next < slices.length) {
        const first = next === 0;
        const part = slices[next++]!;
        if (!first && (await o.repo.getTask(task.id))?.state === "cancelled") {
          cancelled = true;
          break;
        }
        // a command that cannot be built fails its sub-task alone; a sendMany that throws, the slice
        const results: (SendResult | Error)[] = new Array(part.length);
        const built = await mapLimit(part, BUILD_CONCURRENCY, (t) => command(t).catch((e: Error) => e));
        const entries: SendEntry[] = [];
        const at: number[] = [];
        for (const [i, cmd] of built.entries()) {
          if (cmd instanceof Error) results[i] = cmd;
          else {
            entries.push({ agentId: part[i]!.agentId, cmd });
            at.push(i);
          }
        }
        try {
          for (const [k, r] of (await o.acClient.sendMany(entries)).entries()) results[at[k]!] = r;
        } catch (e) {
          for (const i of at) results[i] = e as Error;
        }
        for (const [i, r] of results.entries()) {
          const id = part[i]!.agentId;
          if (r instanceof Error) await note(id, "failed", `dispatch failed: ${r.message}`);
          else if (r === "not_connected") await note(id, "failed", "agent not connected");
          else if (task.kind === "config_sync") await note(id, "succeeded", "desired components delivered");
          else await note(id, "sent", "");
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, slices.length) }, worker));
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

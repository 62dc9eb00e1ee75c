// Commands from the AC (DESIGN.md "Control"): tasks for the agent itself (object_name
// "vigil-agent": 1050 upload a file, 1051 set metadata, 1060 restart), tasks for plugins (none
// yet: answered "no plugin <name>"), and the desired component list (logged, plugins come later).
// Every task is answered with a data_type 5100 record {token, status, msg}.
import { DataType, PRODUCT } from "../../common/wire.ts";
import type { grpc } from "../../common/proto.ts";
import type { Logger } from "../../common/log.ts";
import type { Counters } from "./counters.ts";

export type TaskStatus = "succeeded" | "failed";

export interface CommandContext {
  log: Logger;
  counters: Counters;
  /** queue a 5100 record */
  report(token: string, status: TaskStatus, msg: string): void;
  upload(token: string, path: string, bufSize: number | undefined): Promise<number>;
  setMetadata(v: { idc?: string; region?: string }): { idc: string; region: string };
  /** report first, then flush and exit for systemd to start the agent again */
  restart(token: string): void;
}

/** Task data is JSON; a missing or malformed object is an error naming the task. */
function taskJson(task: grpc.Task.$Properties, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(task.data || "{}");
  } catch (e) {
    throw new Error(`${what}: task data is not JSON: ${(e as Error).message}`);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error(`${what}: task data must be a JSON object`);
  return v as Record<string, unknown>;
}

export function handleCommand(cmd: grpc.Command, ctx: CommandContext): void {
  const task = cmd.task;
  if (task) return handleTask(task, ctx);
  if (cmd.configs && cmd.configs.length > 0) {
    ctx.log.info("desired component list received; plugins are not supported yet, ignored", {
      components: cmd.configs.map((c) => `${c.name}@${c.version}`).join(","),
    });
    return;
  }
  if (cmd.agentCtrl) ctx.log.info("agent_ctrl ignored", { agent_ctrl: cmd.agentCtrl });
}

function handleTask(task: grpc.Task.$Properties, ctx: CommandContext): void {
  const token = task.token ?? "";
  const fail = (msg: string) => {
    ctx.counters.inc("tasks_failed");
    ctx.log.warn("task failed", { token, data_type: task.dataType, msg });
    ctx.report(token, "failed", msg);
  };
  if (task.objectName !== PRODUCT) return fail(`no plugin ${task.objectName || "(empty object_name)"}`);
  ctx.log.info("task received", { token, data_type: task.dataType });
  try {
    switch (task.dataType) {
      case DataType.UploadFile: {
        const d = taskJson(task, "upload");
        if (typeof d.path !== "string" || d.path === "") throw new Error(`upload: "path" must be a non-empty string`);
        const buf = d.buf_size === undefined ? undefined : Number(d.buf_size);
        if (buf !== undefined && !(buf > 0)) throw new Error(`upload: "buf_size" must be a positive number, got ${JSON.stringify(d.buf_size)}`);
        ctx.upload(token, d.path, buf).then(
          (n) => ctx.report(token, "succeeded", `uploaded ${d.path} (${n} bytes)`),
          (e) => fail((e as Error).message),
        );
        return;
      }
      case DataType.SetMetadata: {
        const d = taskJson(task, "set metadata");
        for (const k of ["idc", "region"] as const) {
          if (d[k] !== undefined && typeof d[k] !== "string") throw new Error(`set metadata: "${k}" must be a string`);
        }
        if (d.idc === undefined && d.region === undefined) throw new Error(`set metadata: give "idc" and/or "region"`);
        const v = ctx.setMetadata({ idc: d.idc as string | undefined, region: d.region as string | undefined });
        ctx.report(token, "succeeded", `idc=${v.idc} region=${v.region}`);
        return;
      }
      case DataType.Restart:
        ctx.restart(token);
        return;
      default:
        return fail(`unknown agent task data_type ${task.dataType}`);
    }
  } catch (e) {
    ctx.counters.inc("commands_malformed");
    fail((e as Error).message);
  }
}

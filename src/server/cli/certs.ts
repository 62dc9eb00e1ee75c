// `vigil-server certs init`: the CLI around certsInit (src/server/certs/init.ts).
import { parseArgs } from "node:util";
import { certsInit } from "../certs/init.ts";
import { UsageError } from "../../common/errors.ts";
import { CERTS_HELP } from "./help.ts";

export async function runCerts(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === "--help" || sub === "-h" || sub === "help") {
    process.stdout.write(CERTS_HELP);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== "init") throw new UsageError(`certs: unknown sub-command "${sub}" (expected: init)`);
  let values;
  try {
    ({ values } = parseArgs({ args: rest, options: { out: { type: "string" }, "server-hosts": { type: "string" }, "agent-name": { type: "string" }, days: { type: "string" }, force: { type: "boolean" }, help: { type: "boolean", short: "h" } }, strict: true }));
  } catch (e) {
    throw new UsageError(`certs init: ${(e as Error).message}`);
  }
  if (values.help) {
    process.stdout.write(CERTS_HELP);
    return 0;
  }
  if (!values.out) throw new UsageError("certs init: --out DIR is required");
  const days = values.days !== undefined ? Number(values.days) : undefined;
  if (days !== undefined && (!Number.isInteger(days) || days < 1)) throw new UsageError(`--days must be a whole number of days ≥ 1, not "${values.days}"`);
  const files = await certsInit({ out: values.out, serverHosts: (values["server-hosts"] ?? "").split(",").map((s) => s.trim()).filter(Boolean), agentName: values["agent-name"], days, force: values.force });
  for (const f of files) process.stdout.write(`${f}\n`);
  return 0;
}

// vigil-server: one binary, several roles (sd, ac, manager, hub) chosen by --role; with no
// --role every role runs in one process. Sub-commands: certs, events.
import { parseArgs } from "node:util";
import { certsInit } from "./certs/init.ts";
import { UsageError, ConfigError } from "../common/errors.ts";

declare const VIGIL_VERSION: string;
const VERSION = typeof VIGIL_VERSION !== "undefined" ? VIGIL_VERSION : "dev";

const HELP = `vigil-server ${VERSION}: Vigil's server

Usage:
  vigil-server certs init --out DIR --server-hosts HOST,...   create a CA, server and agent certificates
`;

async function certs(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== "init") throw new UsageError(`certs: unknown sub-command "${sub ?? ""}" (expected: init)`);
  const { values } = parseArgs({ args: rest, options: { out: { type: "string" }, "server-hosts": { type: "string" }, "agent-name": { type: "string" }, days: { type: "string" }, force: { type: "boolean" } }, strict: true });
  if (!values.out) throw new UsageError("certs init: --out DIR is required");
  const days = values.days !== undefined ? Number(values.days) : undefined;
  if (days !== undefined && (!Number.isInteger(days) || days < 1)) throw new UsageError(`--days must be a whole number of days ≥ 1, not "${values.days}"`);
  const files = await certsInit({ out: values.out, serverHosts: (values["server-hosts"] ?? "").split(",").map((s) => s.trim()).filter(Boolean), agentName: values["agent-name"], days, force: values.force });
  for (const f of files) process.stdout.write(`${f}\n`);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case "certs":
      return certs(rest);
    case "version":
    case "--version":
      process.stdout.write(`${VERSION}\n`);
      return 0;
    default:
      process.stdout.write(HELP);
      return cmd === undefined || cmd === "help" || cmd === "--help" ? 0 : 2;
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  if (e instanceof UsageError || e instanceof ConfigError || (e as NodeJS.ErrnoException).code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    process.stderr.write(`vigil-server: ${(e as Error).message}\n`);
    process.exitCode = 2;
  } else throw e;
}

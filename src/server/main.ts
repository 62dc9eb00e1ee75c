// vigil-server: one binary, several roles (sd, ac, manager, hub) chosen by --role; with no
// --role every role runs in one process. Sub-commands: certs, events, user, version.
import { ConfigError, UsageError } from "../common/errors.ts";
import { runCerts } from "./cli/certs.ts";
import { runServer } from "./cli/run.ts";
import { EVENTS_HELP, MAIN_HELP } from "./cli/help.ts";
import { runEventsQuery } from "./store/query-cli.ts";
import { runUserCommand } from "./cli/user.ts";
import { loadServerConfig } from "./config.ts";
import { openRepository } from "./manager/repo/index.ts";
import { createLogger } from "../common/log.ts";

declare const VIGIL_VERSION: string;
const VERSION = typeof VIGIL_VERSION !== "undefined" ? VIGIL_VERSION : "dev";

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case "certs":
      return runCerts(rest);
    case "events":
      if (rest[0] === "query") return runEventsQuery(rest.slice(1));
      process.stdout.write(EVENTS_HELP);
      return rest[0] === "--help" || rest[0] === "-h" ? 0 : 2;
    case "user":
      return runUserCommand(rest, {
        // the database the server would use: its config file and environment, then these flags
        openRepository: ({ url, dataDir, config }) => {
          const cfg = loadServerConfig({ file: config ?? (process.env.VIGIL_CONFIG || undefined), flags: {} });
          return openRepository({ url: url ?? cfg.database.url, dataDir: dataDir ?? cfg.data_dir, log: createLogger({ component: "vigil-server/user" }) });
        },
      });
    case "version":
    case "--version":
      process.stdout.write(`${VERSION}\n`);
      return 0;
    case "help":
      process.stdout.write(MAIN_HELP(VERSION));
      return 0;
    default:
      if (cmd !== undefined && !cmd.startsWith("-")) throw new UsageError(`unknown command "${cmd}" (expected certs, events, user, version, or options; see --help)`);
      return runServer(argv, VERSION);
  }
}

let code: number;
try {
  code = await main(process.argv.slice(2));
} catch (e) {
  if (e instanceof UsageError || e instanceof ConfigError) {
    process.stderr.write(`vigil-server: ${(e as Error).message}\n`);
    code = 2;
  } else {
    const debug = process.env.VIGIL_LOG_LEVEL === "debug";
    process.stderr.write(`vigil-server: start-up failed: ${debug ? ((e as Error).stack ?? e) : (e as Error).message ?? e}\n`);
    code = 1;
  }
}
// every role has stopped: do not wait for stray handles (gRPC channels, timers)
process.exit(code);

// `vigil-agent run` (also the default command): parse settings, start the daemon, stop on
// SIGTERM/SIGINT, and exit with the daemon's code (RESTART_EXIT_CODE after a restart task).
import { ConfigError, UsageError } from "../../common/errors.ts";
import { PreflightError } from "../collector/preflight.ts";
import { parseRunConfig, RUN_HELP } from "./config.ts";
import { startDaemon } from "./index.ts";

export async function runDaemon(argv: string[], version: string): Promise<number> {
  let cfg;
  try {
    cfg = parseRunConfig(argv);
  } catch (e) {
    if (e instanceof UsageError || e instanceof ConfigError) {
      process.stderr.write(`vigil-agent run: ${e.message}\nRun "vigil-agent run --help" for the settings.\n`);
      return 2;
    }
    throw e;
  }
  if (cfg === "help") {
    process.stdout.write(RUN_HELP);
    return 0;
  }
  let daemon;
  try {
    daemon = startDaemon({ config: cfg, version });
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`vigil-agent run: ${e.message}\n`);
      return 2;
    }
    if (e instanceof PreflightError) {
      process.stderr.write(`vigil-agent run: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  const onSignal = () => void daemon.stop(0);
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  return daemon.done;
}

// vigil-agent: the host agent. Sub-commands: run (the daemon, also the default with no
// sub-command), trace (standalone event printer), version, help.
import { runTrace } from "./trace.ts";
import { runDaemon } from "./daemon/run.ts";

const VERSION = process.env.VIGIL_VERSION_OVERRIDE ?? (typeof VIGIL_VERSION !== "undefined" ? VIGIL_VERSION : "dev");
declare const VIGIL_VERSION: string;

const HELP = `vigil-agent ${VERSION}: Vigil's host agent (eBPF collector)

Usage: vigil-agent [<command>] [options]

Commands:
  run        the daemon: stream events and heartbeats to an AC (the default; see
             "vigil-agent run --help")
  trace      print kernel events without a server (see "vigil-agent trace --help")
  version    print the version
  help       this text
`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case "run":
      return runDaemon(rest, VERSION);
    case "trace":
      return runTrace(rest);
    case "version":
    case "--version":
      process.stdout.write(`${VERSION}\n`);
      return 0;
    case undefined:
      return runDaemon([], VERSION);
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(HELP);
      return 0;
    default:
      if (cmd.startsWith("--")) return runDaemon(argv, VERSION); // `vigil-agent --config FILE`
      process.stderr.write(`vigil-agent: unknown command "${cmd}"\n${HELP}`);
      return 2;
  }
}

process.exitCode = await main(process.argv.slice(2));
// Workers and FFI handles must not keep a finished command alive.
process.exit(process.exitCode);

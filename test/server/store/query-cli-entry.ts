// Runs `vigil-server events query` (runEventsQuery) as its own process, for the CLI tests.
import { runEventsQuery } from "../../../src/server/store/query-cli.ts";

process.exitCode = await runEventsQuery(process.argv.slice(2));

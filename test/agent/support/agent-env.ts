// Helpers for the agent's daemon tests: a certificate directory from `certs init`, a daemon
// config for tests (no collector, short intervals), and a logger whose lines a test can read.
import { join } from "node:path";
import { certsInit } from "../../../src/server/certs/init.ts";
import { AgentConfigSchema, type AgentConfig } from "../../../src/agent/daemon/config.ts";
import { createLogger, type Logger } from "../../../src/common/log.ts";
import { parseEventSelection } from "../../../src/agent/collector/catalog.ts";

export async function makeCerts(dir: string, hosts = ["localhost", "127.0.0.1"]): Promise<string> {
  const out = join(dir, "certs");
  await certsInit({ out, serverHosts: hosts });
  return out;
}

export function testConfig(o: { certs: string; dataDir: string; ac?: string[]; sd?: string[]; events?: string } & Record<string, unknown>): AgentConfig {
  const { events = "none", dataDir, ...rest } = o;
  const cfg = AgentConfigSchema.parse({
    heartbeat_interval: "60s", batch_interval: "20ms", reconnect_min: "100ms", reconnect_max: "500ms",
    ...rest, certs: o.certs, data_dir: dataDir, events,
  });
  return { ...cfg, eventSpecs: events === "none" ? null : parseEventSelection(events) };
}

export function captureLog(): { log: Logger; lines: string[]; text(): string } {
  const lines: string[] = [];
  const log = createLogger({ component: "agent", level: "debug", format: "text", write: (l) => { lines.push(l); if (process.env.VIGIL_TEST_LOG) process.stderr.write(l); } });
  return { log, lines, text: () => lines.join("") };
}

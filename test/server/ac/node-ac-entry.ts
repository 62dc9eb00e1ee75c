// Interop entry, bundled for Node.js by node-interop.test.ts: opens an event store and starts
// the AC with the same code the Bun server runs. Args: CERT_DIR DATA_DIR SECRET. Prints
// {"grpcPort","httpPort","runtime","accel"} on stdout once serving, stops cleanly on SIGTERM.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { openEventStore } from "../../../src/server/store/index.ts";
import { startAc } from "../../../src/server/ac/index.ts";
import { createLogger } from "../../../src/common/log.ts";
import { accelStatus } from "../../../src/common/accel.ts";

const [certDir, dataDir, secret] = process.argv.slice(2);
const log = createLogger({ component: "node-ac", level: "warn" });
const store = await openEventStore({ dir: join(dataDir, "events"), retentionMs: 86_400_000, maxBytes: 1 << 30, log });
const ac = await startAc({
  listen: "127.0.0.1", grpcPort: 0, httpPort: 0, secret, sink: store, log,
  certs: { ca: readFileSync(join(certDir, "ca.crt")), cert: readFileSync(join(certDir, "server.crt")), key: readFileSync(join(certDir, "server.key")) },
});
process.stdout.write(JSON.stringify({ grpcPort: ac.grpcPort, httpPort: ac.httpPort, runtime: typeof (globalThis as any).Bun === "undefined" ? `node ${process.version}` : "bun", accel: accelStatus() }) + "\n");
process.once("SIGTERM", async () => {
  await ac.stop();
  await store.close();
  process.exit(0);
});

// Interop with Node.js: the same AC code bundled for Node serves a Bun client (acks come back),
// and a bundled Node grpc-js client streams to the Bun AC and gets its acks and a command.
import { test, expect, describe, beforeAll, afterAll } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir, waitFor, run, bun } from "../../harness.ts";
import { certs, client, openStream, packaged, startFixture, SECRET } from "./fixture.ts";
import { scanEvents } from "../../../src/server/store/query.ts";
import { DataType } from "../../../src/common/wire.ts";

const hasNode = Bun.which("node") !== null;
let dir: ReturnType<typeof tempDir>;
let certDir: string;

/** Bundle entry for Node into a directory of its own (the bundle carries an asset: the native
 * library, which Node never loads) and return the bundle's path. */
async function bundle(entry: string, out: string): Promise<string> {
  const r = await run([bun, "build", "--target=node", "--outdir", out, "--entry-naming", "[name].mjs", join(import.meta.dir, entry)]);
  if (r.code !== 0) throw new Error(`bundling ${entry} failed:\n${r.stderr}`);
  return join(out, entry.replace(/\.ts$/, ".mjs"));
}

beforeAll(async () => {
  dir = tempDir();
  certDir = join(dir.path, "certs");
  mkdirSync(certDir);
  const c = await certs();
  for (const [n, b] of [["ca.crt", c.ca], ["server.crt", c.serverCert], ["server.key", c.serverKey], ["agent.crt", c.agentCert], ["agent.key", c.agentKey]] as const) writeFileSync(join(certDir, n), b);
});
afterAll(() => dir[Symbol.dispose]());

describe.skipIf(!hasNode)("Node.js interop", () => {
  test("the AC bundled for Node serves a Bun client; records land in the store", async () => {
    const out = await bundle("node-ac-entry.ts", join(dir.path, "node-ac"));
    const dataDir = join(dir.path, "node-data");
    const p = Bun.spawn(["node", out, certDir, dataDir, SECRET], { stdout: "pipe", stderr: "pipe" });
    try {
      const reader = p.stdout.getReader();
      const { value } = await reader.read();
      const info = JSON.parse(new TextDecoder().decode(value).split("\n")[0]);
      expect(info.runtime).toStartWith("node ");
      expect(info.accel).toStartWith("JavaScript: not running on Bun"); // CRC-32C and snappy fall back
      const c = await certs();
      const cl = client(info.grpcPort, { cert: c.agentCert, key: c.agentKey }, c.ca, "gzip");
      const s = openStream(cl);
      for (let i = 1; i <= 10; i++) s.call.write(packaged({ agentId: "bun-to-node", seq: i, n: 2, first: (i - 1) * 2 }));
      expect(await waitFor(() => s.acks.length === 10, 20_000)).toBe(true);
      expect(s.acks).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      s.call.end();
      expect((await s.status).code).toBe(0);
      cl.close();
      expect(await (await fetch(`http://127.0.0.1:${info.httpPort}/ping`)).text()).toBe("PONG");
      // read the Node process's store from this (Bun) process while it is still open
      const ns: string[] = [];
      scanEvents(join(dataDir, "events"), { agentId: "bun-to-node" }, (e) => void ns.push(e.fields.n));
      expect(ns).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
    } finally {
      p.kill("SIGTERM");
      expect(await p.exited).toBe(0);
    }
  }, 60_000);

  test("a Node grpc-js client streams to the Bun AC and gets acks and a command back", async () => {
    const out = await bundle("node-client-entry.ts", join(dir.path, "node-client"));
    await using f = await startFixture(join(dir.path, "bun-ac"));
    const p = Bun.spawn(["node", out, String(f.ac.grpcPort), certDir, "node-agent", "5"], { stdout: "pipe", stderr: "pipe" });
    expect(await waitFor(() => f.ac.connections() === 1, 20_000)).toBe(true);
    expect(f.ac.sendCommand("node-agent", { task: { dataType: DataType.Restart, objectName: "vigil-agent", token: "restart-1" } })).toBe(true);
    const [stdout, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
    expect(code).toBe(0);
    const sum = JSON.parse(stdout);
    expect(sum.result).toBe("ok");
    expect(sum.runtime).toStartWith("node ");
    expect(sum.acks).toEqual([1, 2, 3, 4, 5]);
    expect(sum.command).toEqual({ token: "restart-1", dataType: DataType.Restart });
    expect((await f.store.query({ agentId: "node-agent" })).map((e) => e.fields.n)).toEqual(["1", "2", "3", "4", "5"]);
  }, 60_000);
});

// The AC accepts only agents with a client certificate from the deployment's CA: none, a
// foreign CA's, an expired one are refused, and the good agent gets its batches acknowledged
// only after they are durable in the store.
import { test, expect, describe, beforeAll, afterAll } from "bun:test";
import { tempDir, waitFor } from "../../harness.ts";
import { startFixture, client, openStream, packaged, type AcFixture } from "./fixture.ts";

let dir: ReturnType<typeof tempDir>;
let f: AcFixture;
beforeAll(async () => {
  dir = tempDir();
  f = await startFixture(dir.path);
});
afterAll(async () => {
  await f.stop();
  dir[Symbol.dispose]();
});

describe("AC mutual TLS", () => {
  test("a good agent streams, gets acks in order, and the records are durable before each ack", async () => {
    const cl = client(f.ac.grpcPort, { cert: f.certs.agentCert, key: f.certs.agentKey }, f.certs.ca);
    const s = openStream(cl);
    const seen: number[] = [];
    // an ack must never arrive before its records are readable from the store
    s.call.on("data", async (cmd: any) => {
      if (!cmd.ackSeq) return;
      const evs = await f.store.query({ agentId: "agent-mtls", limit: 100_000 });
      seen.push(evs.length);
    });
    for (let i = 1; i <= 20; i++) s.call.write(packaged({ agentId: "agent-mtls", seq: i, n: 3, first: (i - 1) * 3 }));
    expect(await waitFor(() => s.acks.length === 20, 15_000)).toBe(true);
    expect(s.acks).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    await waitFor(() => seen.length === 20);
    for (let i = 0; i < 20; i++) expect(seen[i]).toBeGreaterThanOrEqual((i + 1) * 3);
    expect(f.ac.connections()).toBe(1);
    s.call.end();
    const st = await s.status;
    expect(st.code).toBe(0);
    await waitFor(() => f.ac.connections() === 0);
    const evs = await f.store.query({ agentId: "agent-mtls", limit: 1000 });
    expect(evs.map((e) => Number(e.fields.n))).toEqual(Array.from({ length: 60 }, (_, i) => i));
    cl.close();
  }, 30_000);

  for (const [name, pick] of [
    ["no client certificate", () => null],
    ["a certificate from another CA", () => ({ cert: f.certs.foreignCert, key: f.certs.foreignKey })],
    ["an expired certificate", () => ({ cert: f.certs.expiredCert, key: f.certs.expiredKey })],
  ] as const) {
    test(`refused: ${name}`, async () => {
      const before = f.ac.rejects().bad_cert ?? 0;
      const cl = client(f.ac.grpcPort, pick(), f.certs.ca);
      const s = openStream(cl);
      s.call.write(packaged({ agentId: "intruder", seq: 1 }));
      const st = await s.status;
      expect(st.code).toBe(14); // UNAVAILABLE: the connection never came up
      expect(s.acks).toEqual([]);
      expect((await f.store.query({ agentId: "intruder" })).length).toBe(0);
      expect(await waitFor(() => (f.ac.rejects().bad_cert ?? 0) > before, 5_000)).toBe(true);
      cl.close();
    }, 20_000);
  }
});

// Delivery guarantees at the AC: a batch the sink refuses is never acknowledged and the stream
// ends with UNAVAILABLE (the agent replays from its spool); Elkeid agents (seq 0) get no acks;
// FileExt/Upload stores files and refuses bad tokens.
import { test, expect, describe } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir, waitFor } from "../../harness.ts";
import { certs, client, openStream, packaged, FileExtClient, SECRET } from "./fixture.ts";
import { quietLog as log } from "../store/batches.ts";
import { openEventStore } from "../../../src/server/store/index.ts";
import { startAc } from "../../../src/server/ac/index.ts";
import type { AgentBatch, Sink } from "../../../src/server/sink.ts";

/** A sink that fails every write while `failing` is set, else forwards to the real store. */
function flakySink(inner: Sink): Sink & { failing: boolean } {
  const s = {
    name: "flaky",
    failing: false,
    write: (b: AgentBatch) => (s.failing ? Promise.reject(new Error("disk on fire")) : inner.write(b)),
    close: () => inner.close(),
  };
  return s;
}

async function setup(dir: string, ackIntervalMs = 0) {
  const c = await certs();
  const store = await openEventStore({ dir: join(dir, "events"), retentionMs: 86_400_000, maxBytes: 1 << 30, log });
  const sink = flakySink(store);
  const ac = await startAc({ listen: "127.0.0.1", grpcPort: 0, httpPort: 0, certs: { ca: c.ca, cert: c.serverCert, key: c.serverKey }, secret: SECRET, sink, log, uploadDir: join(dir, "uploads"), ackIntervalMs });
  const cred = { cert: c.agentCert, key: c.agentKey };
  return { c, store, sink, ac, cred, async stop() { await ac.stop(); await store.close(); } };
}

describe("AC delivery", () => {
  test("a sink failure means no ack and UNAVAILABLE; the replay after reconnecting is stored and acked", async () => {
    using d = tempDir();
    const x = await setup(d.path);
    const cl = client(x.ac.grpcPort, x.cred, x.c.ca);
    const s = openStream(cl);
    s.call.write(packaged({ agentId: "spool", seq: 1, n: 2, first: 0 }));
    expect(await waitFor(() => s.acks.length === 1)).toBe(true);
    x.sink.failing = true;
    s.call.write(packaged({ agentId: "spool", seq: 2, n: 2, first: 2 }));
    s.call.write(packaged({ agentId: "spool", seq: 3, n: 2, first: 4 }));
    const st = await s.status;
    expect(st.code).toBe(14); // UNAVAILABLE
    expect(s.acks).toEqual([1]);
    expect(x.ac.rejects().sink_error).toBe(1);
    // the agent reconnects and replays 2 and 3 from its spool
    x.sink.failing = false;
    const r = openStream(cl);
    r.call.write(packaged({ agentId: "spool", seq: 2, n: 2, first: 2 }));
    r.call.write(packaged({ agentId: "spool", seq: 3, n: 2, first: 4 }));
    expect(await waitFor(() => r.acks.length === 2)).toBe(true);
    expect(r.acks).toEqual([2, 3]);
    r.call.end();
    await r.status;
    const ns = (await x.store.query({ agentId: "spool" })).map((e) => e.fields.n);
    expect(ns).toEqual(["0", "1", "2", "3", "4", "5"]);
    cl.close();
    await x.stop();
  }, 30_000);

  test("with ackIntervalMs, acks are cumulative, fewer than batches, and never ahead of the store", async () => {
    using d = tempDir();
    const x = await setup(d.path, 300);
    const cl = client(x.ac.grpcPort, x.cred, x.c.ca);
    const s = openStream(cl);
    const storedAtAck: number[] = [];
    s.call.on("data", () => storedAtAck.push(x.store.stats().recordsWritten));
    for (let i = 1; i <= 20; i++) s.call.write(packaged({ agentId: "coalesced", seq: i, n: 2, first: (i - 1) * 2 }));
    expect(await waitFor(() => s.acks.at(-1) === 20, 10_000)).toBe(true);
    expect(s.acks.length).toBeLessThan(20);
    for (let i = 1; i < s.acks.length; i++) expect(s.acks[i]).toBeGreaterThan(s.acks[i - 1]);
    s.acks.forEach((a, i) => expect(storedAtAck[i]).toBeGreaterThanOrEqual(a * 2));
    // a sink failure: what was durable before it is still acknowledged, the failed batch is not
    x.sink.failing = true;
    s.call.write(packaged({ agentId: "coalesced", seq: 21, n: 2, first: 40 }));
    expect((await s.status).code).toBe(14);
    expect(s.acks.at(-1)).toBe(20);
    cl.close();
    await x.stop();
  }, 30_000);

  test("a stream whose later batches omit agent_id is stored under the agent of its first batch", async () => {
    using d = tempDir();
    const x = await setup(d.path);
    const cl = client(x.ac.grpcPort, x.cred, x.c.ca);
    const s = openStream(cl);
    s.call.write(packaged({ agentId: "named-once", seq: 1, n: 1, first: 0 }));
    s.call.write({ ...packaged({ seq: 2, n: 2, first: 1 }), agentId: "" });
    expect(await waitFor(() => s.acks.length === 2)).toBe(true);
    s.call.end();
    await s.status;
    const evs = await x.store.query({ agentId: "named-once" });
    expect(evs.map((e) => e.fields.n)).toEqual(["0", "1", "2"]);
    expect(evs.every((e) => e.hostname === "h1")).toBe(true);
    cl.close();
    await x.stop();
  }, 20_000);

  test("Elkeid agents (seq 0) are stored and get no acks", async () => {
    using d = tempDir();
    const x = await setup(d.path);
    const cl = client(x.ac.grpcPort, x.cred, x.c.ca);
    const s = openStream(cl);
    for (let i = 0; i < 5; i++) s.call.write(packaged({ agentId: "elkeid", seq: 0, n: 1, first: i }));
    expect(await waitFor(() => x.store.stats().recordsWritten === 5)).toBe(true);
    s.call.end();
    expect((await s.status).code).toBe(0);
    expect(s.commands).toEqual([]);
    cl.close();
    await x.stop();
  }, 20_000);

  test("FileExt/Upload stores the file under its token; a bad token gets FAILED", async () => {
    using d = tempDir();
    const x = await setup(d.path);
    const cl = client(x.ac.grpcPort, x.cred, x.c.ca, "identity", FileExtClient);
    const upload = (chunks: { token: string; data: Buffer }[]) => new Promise<number>((resolve, reject) => {
      const call = (cl as any).Upload((err: Error | null, res: { status: number }) => (err ? reject(err) : resolve(res.status)));
      for (const c of chunks) call.write(c);
      call.end();
    });
    const body = Buffer.alloc(300_000, 7);
    expect(await upload([{ token: "task-42", data: body.subarray(0, 100_000) }, { token: "task-42", data: body.subarray(100_000) }])).toBe(0);
    expect(readFileSync(join(d.path, "uploads", "task-42")).equals(body)).toBe(true);
    expect(await upload([{ token: "../../etc/passwd", data: Buffer.from("x") }])).toBe(1);
    expect(existsSync(join(d.path, "etc"))).toBe(false);
    expect(x.ac.rejects().bad_upload).toBe(1);
    cl.close();
    await x.stop();
  }, 20_000);
});

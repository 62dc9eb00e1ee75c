// The daemon's transport against a real mutual-TLS gRPC server (test/agent/support/mini-ac.ts):
// acks empty the spool, the window bounds what is unacknowledged, a killed and restarted AC
// gets every batch (counted by seq and by record), SD is asked first, bad certificates are
// refused and the log says why.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { startDaemon } from "../../src/agent/daemon/index.ts";
import { backoffDelay } from "../../src/agent/daemon/transport.ts";
import { createCa, issueLeaf } from "../../src/server/certs/issue.ts";
import { DataType, PRODUCT } from "../../src/common/wire.ts";
import { tempDir, waitFor, root, bun } from "../harness.ts";
import { startMiniAc, type ReceivedBatch } from "./support/mini-ac.ts";
import { captureLog, makeCerts, testConfig } from "./support/agent-env.ts";

const dir = tempDir("vigil-agent-transport-");
afterAll(() => dir[Symbol.dispose]());
const certs = await makeCerts(dir.path);
let n = 0;
const dataDir = () => join(dir.path, `data-${++n}`);

describe("transport", () => {
  test("batches reach the AC with the agent's header, acks empty the spool", async () => {
    const ac = await startMiniAc({ certsDir: certs });
    const { log } = captureLog();
    const d = startDaemon({ config: testConfig({ certs, dataDir: dataDir(), ac: [ac.address], agent_id: "test-agent-1" }), version: "9.9.9", log });
    try {
      for (let i = 0; i < 500; i++) d.batcher.add(7000, Math.floor(Date.now() / 1000), { n: String(i) });
      expect(await waitFor(() => ac.records(7000).length === 500 && d.spool.depth === 0, 20_000)).toBe(true);
      const b = ac.batches.find((x) => x.records.some((r) => r.dataType === 7000))!;
      expect(b.agentId).toBe("test-agent-1");
      expect(b.product).toBe(PRODUCT);
      expect(b.version).toBe("9.9.9");
      expect(b.seq).toBeGreaterThan(0);
      expect(ac.records(7000).map((r) => Number(r.fields.n))).toEqual(Array.from({ length: 500 }, (_, i) => i));
      const seqs = ac.batches.map((x) => x.seq);
      expect(seqs).toEqual([...seqs].sort((a, c) => a - c));
      // the heartbeat at start-up arrived too
      expect(ac.records(DataType.AgentHeartbeat).length).toBeGreaterThanOrEqual(1);
      expect(d.counters.get("batches_acked")).toBe(d.counters.get("batches_spooled"));
    } finally {
      await d.stop();
      await ac.stop();
    }
  });

  test("without acks, at most a window of batches is in flight and the rest stays spooled", async () => {
    const ac = await startMiniAc({ certsDir: certs, ack: false });
    const { log } = captureLog();
    const d = startDaemon({ config: testConfig({ certs, dataDir: dataDir(), ac: [ac.address], window: 4 }), version: "t", log });
    try {
      for (let i = 0; i < 20; i++) {
        d.batcher.add(7000, 0, { n: String(i) });
        d.batcher.flush();
      }
      expect(await waitFor(() => ac.batches.length >= 4, 10_000)).toBe(true);
      await Bun.sleep(300);
      expect(ac.batches.length).toBe(4);
      expect(d.spool.depth).toBeGreaterThanOrEqual(20);
      ac.setAck(true);
      ac.send({ ackSeq: ac.batches[3].seq }); // acks free the window: the rest flows
      expect(await waitFor(() => d.spool.depth === 0, 10_000)).toBe(true);
      expect(ac.records(7000).map((r) => Number(r.fields.n))).toEqual(Array.from({ length: 20 }, (_, i) => i));
    } finally {
      await d.stop();
      await ac.stop();
    }
  });

  test("an AC killed mid-stream and restarted gets every batch: none missing by seq or by record", async () => {
    const out = join(dir.path, "received.jsonl");
    const startAc = async (port = 0) => {
      const p = Bun.spawn([bun, join(root, "test/agent/support/mini-ac.ts"), "--certs", certs, "--port", String(port), "--out", out], { stdout: "pipe", stderr: "inherit" });
      const reader = p.stdout.getReader();
      let text = "";
      while (!/listening \d+/.test(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`mini AC exited: ${text}`);
        text += new TextDecoder().decode(value);
      }
      reader.releaseLock();
      return { p, port: Number(/listening (\d+)/.exec(text)![1]) };
    };
    let ac = await startAc();
    const { log, text } = captureLog();
    const d = startDaemon({ config: testConfig({ certs, dataDir: dataDir(), ac: [`127.0.0.1:${ac.port}`] }), version: "t", log });
    let produced = 0;
    const producer = setInterval(() => {
      for (let i = 0; i < 20; i++) d.batcher.add(7000, 0, { n: String(produced++) });
    }, 5);
    try {
      expect(await waitFor(() => existsSync(out) && readFileSync(out, "utf8").split("\n").length > 20, 20_000)).toBe(true);
      ac.p.kill("SIGKILL");
      await ac.p.exited;
      await Bun.sleep(500); // the stream breaks while records keep coming
      ac = await startAc(ac.port);
      await Bun.sleep(500);
      clearInterval(producer);
      const last = d.batcher.flush();
      expect(await d.transport.flushed(last, 30_000)).toBe(true);
      const batches = readFileSync(out, "utf8").trim().split("\n").map((l) => JSON.parse(l) as ReceivedBatch);
      const seen = new Set<number>();
      for (const b of batches) for (const r of b.records) if (r.dataType === 7000) seen.add(Number(r.fields.n));
      const missing = Array.from({ length: produced }, (_, i) => i).filter((i) => !seen.has(i));
      expect(missing).toEqual([]);
      const seqs = new Set(batches.map((b) => b.seq));
      const maxSeq = Math.max(...seqs);
      expect(Array.from({ length: maxSeq }, (_, i) => i + 1).filter((s) => !seqs.has(s))).toEqual([]);
      expect(text()).toContain("connection to AC lost");
      expect(d.counters.get("send_errors") + d.counters.get("connect_failures")).toBeGreaterThan(0);
    } finally {
      clearInterval(producer);
      await d.stop();
      ac.p.kill("SIGKILL");
    }
  }, 60_000);

  test("the AC comes from SD (lowest weight first); an SD that fails falls back to --ac", async () => {
    const busy = await startMiniAc({ certsDir: certs });
    const idle = await startMiniAc({ certsDir: certs });
    const sd = Bun.serve({
      hostname: "127.0.0.1", port: 0,
      fetch: (req) => new URL(req.url).searchParams.get("name") === "hids_svr_grpc"
        ? Response.json({ code: 0, msg: "ok", data: [{ name: "hids_svr_grpc", ip: "127.0.0.1", port: busy.port, weight: 50 }, { name: "hids_svr_grpc", ip: "127.0.0.1", port: idle.port, weight: 3 }] })
        : Response.json({ code: 1, msg: "unknown", data: [] }),
    });
    const { log } = captureLog();
    const d = startDaemon({ config: testConfig({ certs, dataDir: dataDir(), sd: [`http://127.0.0.1:${sd.port}`] }), version: "t", log });
    try {
      expect(await waitFor(() => idle.records(DataType.AgentHeartbeat).length > 0, 10_000)).toBe(true);
      expect(busy.batches.length).toBe(0);
    } finally {
      await d.stop();
      sd.stop(true);
    }
    // SD refuses (HTTP 500): the configured address is used, and the failure is counted
    const bad = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("no", { status: 500 }) });
    const cap = captureLog();
    const d2 = startDaemon({ config: testConfig({ certs, dataDir: dataDir(), sd: [`http://127.0.0.1:${bad.port}`], ac: [busy.address] }), version: "t", log: cap.log });
    try {
      expect(await waitFor(() => busy.records(DataType.AgentHeartbeat).length > 0, 10_000)).toBe(true);
      expect(d2.counters.get("sd_failures")).toBeGreaterThan(0);
      expect(cap.text()).toContain("service discovery failed");
    } finally {
      await d2.stop();
      bad.stop(true);
      await busy.stop();
      await idle.stop();
    }
  });

  const refused = async (serverPem: { cert: Buffer; key: Buffer } | undefined, acCerts: string) => {
    const ac = await startMiniAc({ certsDir: acCerts, serverPem });
    const cap = captureLog();
    const d = startDaemon({ config: testConfig({ certs, dataDir: dataDir(), ac: [ac.address] }), version: "t", log: cap.log });
    try {
      expect(await waitFor(() => d.counters.get("connect_failures") + d.counters.get("send_errors") >= 2, 15_000)).toBe(true);
      expect(ac.batches.length).toBe(0);
      expect(d.spool.depth).toBeGreaterThan(0); // the heartbeat waits in the spool
      expect(d.spool.ackedSeq).toBe(0);
      return cap.text();
    } finally {
      await d.stop();
      await ac.stop();
    }
  };

  test("an AC with a certificate from another CA is refused, and the log says TLS", async () => {
    const foreign = await makeCerts(join(dir.path, "foreign"));
    const log = await refused(undefined, foreign);
    expect(log).toContain("TLS refused");
  });

  test("an AC certificate for another host name is refused", async () => {
    const { loadCa } = await import("../../src/server/certs/issue.ts");
    const ca = await loadCa(readFileSync(join(certs, "ca.crt"), "utf8"), readFileSync(join(certs, "ca.key"), "utf8"));
    const other = await issueLeaf(ca, { commonName: "elsewhere.example", hosts: ["elsewhere.example"], usage: "server" });
    const log = await refused({ cert: Buffer.from(other.certPem), key: Buffer.from(other.keyPem) }, certs);
    expect(log).toMatch(/cannot connect to AC|connection to AC lost/);
    expect(log).toMatch(/TLS refused|altnames|hostname|certificate/i);
  });

  test("an expired AC certificate is refused", async () => {
    const { loadCa } = await import("../../src/server/certs/issue.ts");
    const ca = await loadCa(readFileSync(join(certs, "ca.crt"), "utf8"), readFileSync(join(certs, "ca.key"), "utf8"));
    const old = await issueLeaf(ca, { commonName: "localhost", hosts: ["localhost", "127.0.0.1"], usage: "server", notBefore: new Date(Date.now() - 10 * 86400e3), notAfter: new Date(Date.now() - 86400e3) });
    const log = await refused({ cert: Buffer.from(old.certPem), key: Buffer.from(old.keyPem) }, certs);
    expect(log).toContain("TLS refused");
  });

  test("an AC that refuses the agent's certificate (another CA) is retried and the log says why", async () => {
    const foreign = await makeCerts(join(dir.path, "foreign-client"));
    const mixed = join(dir.path, "mixed-certs");
    const { mkdirSync, copyFileSync } = await import("node:fs");
    mkdirSync(mixed, { recursive: true });
    copyFileSync(join(certs, "ca.crt"), join(mixed, "ca.crt")); // trusts the AC ...
    for (const f of ["agent.crt", "agent.key"]) copyFileSync(join(foreign, f), join(mixed, f)); // ... but is not trusted
    const ac = await startMiniAc({ certsDir: certs });
    const cap = captureLog();
    const d = startDaemon({ config: testConfig({ certs: mixed, dataDir: dataDir(), ac: [ac.address] }), version: "t", log: cap.log });
    try {
      expect(await waitFor(() => d.counters.get("connect_failures") + d.counters.get("send_errors") >= 2, 15_000)).toBe(true);
      expect(ac.batches.length).toBe(0);
      expect(d.spool.ackedSeq).toBe(0);
      expect(cap.text()).toMatch(/may refuse this agent.s certificate|TLS refused/);
    } finally {
      await d.stop();
      await ac.stop();
    }
  });

  test("reconnection delays grow exponentially with jitter, within bounds", () => {
    const samples = Array.from({ length: 200 }, () => backoffDelay(3, 1000, 60_000));
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(4000);
    expect(Math.max(...samples)).toBeLessThanOrEqual(8000);
    expect(new Set(samples).size).toBeGreaterThan(50); // spread, not one instant for a whole fleet
    expect(backoffDelay(40, 1000, 60_000, () => 1)).toBe(60_000);
    expect(backoffDelay(0, 1000, 60_000, () => 0)).toBe(500);
  });
});

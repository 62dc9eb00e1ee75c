// Hostile input on the AC's gRPC port: truncated and oversized frames, protobuf that does not
// parse, decompression bombs, a first message without an agent id, streams and connections
// that never send. Each is refused and counted while a good agent keeps getting acks.
import { test, expect, describe, beforeAll, afterAll } from "bun:test";
import * as net from "node:net";
import * as tls from "node:tls";
import { gzipSync } from "node:zlib";
import { tempDir, waitFor } from "../../harness.ts";
import { startFixture, client, openStream, packaged, type AcFixture, type Stream } from "./fixture.ts";
import { rawCall, grpcFrame } from "./raw-h2.ts";
import { grpc } from "../../../src/common/proto.ts";
import { encodeFramed } from "../../../src/common/snappy-framed.ts";
import { MAX_MESSAGE_BYTES } from "../../../src/common/wire.ts";
import type * as grpcjs from "@grpc/grpc-js";

const TIMEOUT_MS = 1_000;
let dir: ReturnType<typeof tempDir>;
let f: AcFixture;
let good: { cl: grpcjs.Client; s: Stream; seq: number; timer: ReturnType<typeof setInterval> };

beforeAll(async () => {
  dir = tempDir();
  f = await startFixture(dir.path, { firstMessageTimeoutMs: TIMEOUT_MS, idleTimeoutMs: TIMEOUT_MS, handshakeTimeoutMs: TIMEOUT_MS });
  // a good agent streams through the whole suite
  const cl = client(f.ac.grpcPort, { cert: f.certs.agentCert, key: f.certs.agentKey }, f.certs.ca);
  const s = openStream(cl);
  good = { cl, s, seq: 0, timer: setInterval(() => s.call.write(packaged({ agentId: "good", seq: ++good.seq, n: 1 })), 20) };
});
afterAll(async () => {
  clearInterval(good.timer);
  good.s.call.end();
  good.cl.close();
  await f.stop();
  dir[Symbol.dispose]();
});

const agentTls = () => ({ ca: f.certs.ca, cert: f.certs.agentCert, key: f.certs.agentKey });
const rejects = (r: string) => f.ac.rejects()[r] ?? 0;
/** the good agent got new acks since the call */
async function goodStillServed(): Promise<void> {
  const n = good.s.acks.length;
  expect(await waitFor(() => good.s.acks.length > n + 3, 10_000)).toBe(true);
  expect(good.s.error).toBeUndefined();
}

describe("AC hostile input", () => {
  test("a frame cut off at end of stream is refused and counted", async () => {
    const before = rejects("truncated");
    const call = rawCall(f.ac.grpcPort, agentTls());
    const pb = grpc.PackagedData.encode(packaged({ agentId: "trunc", seq: 1 })).finish();
    call.write(grpcFrame(pb).subarray(0, 12));
    call.end();
    const st = await call.done;
    expect(st.status).toBe(13);
    call.close();
    expect(await waitFor(() => rejects("truncated") === before + 1, 5_000)).toBe(true);
    await goodStillServed();
  }, 20_000);

  test("protobuf that does not parse is refused and counted; random bytes never crash the AC", async () => {
    const before = rejects("malformed");
    const call = rawCall(f.ac.grpcPort, agentTls());
    call.write(grpcFrame(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]))); // length past the end
    expect((await call.done).status).toBe(13);
    call.close();
    expect(rejects("malformed")).toBe(before + 1);
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) >>> 16) & 0xff;
    for (let i = 0; i < 20; i++) {
      const c = rawCall(f.ac.grpcPort, agentTls());
      c.write(grpcFrame(Buffer.from(Array.from({ length: 1 + (i * 37) % 300 }, rnd))));
      c.end();
      await c.done;
      c.close();
    }
    await goodStillServed();
  }, 30_000);

  test("a frame that declares more than 10 MiB is refused before it is read", async () => {
    const before = rejects("oversized");
    const call = rawCall(f.ac.grpcPort, agentTls());
    call.write(grpcFrame(Buffer.alloc(16), false, MAX_MESSAGE_BYTES + 1));
    expect((await call.done).status).toBe(8); // RESOURCE_EXHAUSTED
    call.close();
    expect(await waitFor(() => rejects("oversized") === before + 1, 5_000)).toBe(true);
    await goodStillServed();
  }, 20_000);

  test("an 11 MiB message from grpc-js is refused", async () => {
    const cl = client(f.ac.grpcPort, { cert: f.certs.agentCert, key: f.certs.agentKey }, f.certs.ca);
    const s = openStream(cl);
    s.call.write(packaged({ agentId: "big", seq: 1, n: 1, pad: "b".repeat(11 << 20) }));
    expect((await s.status).code).toBe(8);
    cl.close();
    expect((await f.store.query({ agentId: "big" })).length).toBe(0);
  }, 30_000);

  for (const [name, encoding, bomb] of [
    ["gzip", "gzip", () => gzipSync(Buffer.alloc(MAX_MESSAGE_BYTES + 1024))],
    ["snappy", "snappy", () => encodeFramed(Buffer.alloc(MAX_MESSAGE_BYTES + 1024))],
  ] as const) {
    test(`a ${name} bomb that inflates past 10 MiB is refused`, async () => {
      const before = rejects("oversized");
      const call = rawCall(f.ac.grpcPort, agentTls(), { encoding });
      call.write(grpcFrame(bomb(), true));
      expect((await call.done).status).toBe(8);
      call.close();
      expect(await waitFor(() => rejects("oversized") === before + 1, 5_000)).toBe(true);
      await goodStillServed();
    }, 30_000);
  }

  test("a first message without agent_id is refused with INVALID_ARGUMENT", async () => {
    const before = rejects("no_agent_id");
    const cl = client(f.ac.grpcPort, { cert: f.certs.agentCert, key: f.certs.agentKey }, f.certs.ca);
    const s = openStream(cl);
    s.call.write(packaged({ agentId: "", seq: 1 }));
    expect((await s.status).code).toBe(3);
    cl.close();
    expect(rejects("no_agent_id")).toBe(before + 1);
  }, 20_000);

  test("a stream that never names its agent is closed after the first-message deadline", async () => {
    const before = rejects("first_message_timeout");
    const cl = client(f.ac.grpcPort, { cert: f.certs.agentCert, key: f.certs.agentKey }, f.certs.ca);
    const s = openStream(cl);
    expect((await s.status).code).toBe(4); // DEADLINE_EXCEEDED
    cl.close();
    expect(rejects("first_message_timeout")).toBe(before + 1);
  }, 20_000);

  test("a flood of TCP and TLS connections that never send is closed, and the good agent is served meanwhile", async () => {
    const N = 100;
    const closed = { tcp: 0, tls: 0 };
    const sockets: net.Socket[] = [];
    for (let i = 0; i < N; i++) {
      const s = net.connect(f.ac.grpcPort, "127.0.0.1");
      s.on("error", () => {});
      s.on("data", () => {}); // read, so the server's close is seen
      s.on("close", () => closed.tcp++);
      sockets.push(s);
    }
    // TLS done with a valid certificate, then silence: not even the HTTP/2 preface
    for (let i = 0; i < 20; i++) {
      const s = tls.connect({ port: f.ac.grpcPort, host: "127.0.0.1", servername: "localhost", ca: f.certs.ca, cert: f.certs.agentCert, key: f.certs.agentKey, ALPNProtocols: ["h2"] });
      s.on("error", () => {});
      s.on("data", () => {});
      s.on("close", () => closed.tls++);
      sockets.push(s);
    }
    await goodStillServed();
    const ok = await waitFor(() => closed.tcp === N && closed.tls === 20, 20_000);
    for (const s of sockets) s.destroy();
    expect(closed).toEqual({ tcp: N, tls: 20 });
    expect(ok).toBe(true);
    expect(rejects("idle_connection")).toBeGreaterThanOrEqual(1);
    await goodStillServed();
  }, 40_000);

  test("the good agent's batches were all acknowledged in order", () => {
    const acks = good.s.acks;
    expect(acks.length).toBeGreaterThan(10);
    expect(acks).toEqual(Array.from({ length: acks.length }, (_, i) => i + 1));
  });
});

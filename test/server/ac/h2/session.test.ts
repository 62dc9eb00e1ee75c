// The AC's own HTTP/2 server (src/server/ac/h2/session.ts, grpc.ts, listen.ts) at the frame
// level: a raw client (raw-tls.ts) talks to a real AC over mutual TLS and checks the server's
// exact reaction to good and bad frames: GOAWAY with RFC 9113's error code (and the "protocol"
// reject counted), RST_STREAM codes, gRPC trailers, flow control in both directions, stream
// limits, idle and handshake timeouts. A well-behaved grpc-js agent streams through the whole
// suite and must still be served at the end.
import { test, expect, describe, beforeAll, afterAll } from "bun:test";
import * as net from "node:net";
import { tempDir, waitFor } from "../../../harness.ts";
import { startFixture, client, openStream, packaged, type AcFixture, type Stream } from "../fixture.ts";
import { grpc } from "../../../../src/common/proto.ts";
import { MAX_MESSAGE_BYTES } from "../../../../src/common/wire.ts";
import type { Sink } from "../../../../src/server/sink.ts";
import { encodeHeaders } from "../../../../src/server/ac/h2/hpack.ts";
import type * as grpcjs from "@grpc/grpc-js";
import { RawH2, T, E, F, S, encodeFrame, grpcFrame, grpcRequest, parseSettings, DEFAULT_MAX_FRAME } from "./raw-tls.ts";

let dir: ReturnType<typeof tempDir>;
let f: AcFixture;
let good: { cl: grpcjs.Client; s: Stream; seq: number; timer: ReturnType<typeof setInterval> };
const open: RawH2[] = [];

beforeAll(async () => {
  dir = tempDir();
  f = await startFixture(dir.path);
  const cl = client(f.ac.grpcPort, { cert: f.certs.agentCert, key: f.certs.agentKey }, f.certs.ca);
  const s = openStream(cl);
  good = { cl, s, seq: 0, timer: setInterval(() => s.call.write(packaged({ agentId: "good", seq: ++good.seq, n: 1 })), 20) };
  expect(await waitFor(() => good.s.acks.length > 0, 10_000)).toBe(true);
});
afterAll(async () => {
  for (const c of open) c.close();
  clearInterval(good.timer);
  good.s.call.end();
  good.cl.close();
  await f.stop();
  dir[Symbol.dispose]();
});

const creds = () => ({ ca: f.certs.ca, cert: f.certs.agentCert, key: f.certs.agentKey });
const rejects = (fx: AcFixture, r: string) => fx.ac.rejects()[r] ?? 0;
const TRANSFER = "/grpc.Transfer/Transfer";

/** a connected raw client that has sent the preface and SETTINGS and seen the server's */
async function connect(fx: AcFixture = f, settings: [number, number][] = []): Promise<RawH2> {
  const c = await RawH2.connect(fx.ac.grpcPort, { ca: fx.certs.ca, cert: fx.certs.agentCert, key: fx.certs.agentKey });
  open.push(c);
  c.start(settings);
  await c.waitFrame((x) => x.type === T.SETTINGS && (x.flags & F.ACK) !== 0, "SETTINGS ACK");
  return c;
}

function batch(agentId: string, seq: number, o: { n?: number; pad?: string } = {}): Buffer {
  return grpcFrame(grpc.PackagedData.encode(packaged({ agentId, seq, n: o.n ?? 1, pad: o.pad })).finish());
}

function commands(c: RawH2, stream: number): grpc.Command[] {
  return c.messages(stream).map((m) => grpc.Command.decode(m));
}

async function waitAck(c: RawH2, stream: number, seq: number, ms = 10_000): Promise<void> {
  const ok = await waitFor(() => commands(c, stream).some((x) => Number(x.ackSeq) === seq) || c.closed, ms);
  if (!ok || !commands(c, stream).some((x) => Number(x.ackSeq) === seq)) throw new Error(`no ack ${seq} on stream ${stream}; got: ${c.summary()}`);
}

/** a connection error: GOAWAY with the code, the socket closed, and one "protocol" reject counted */
async function expectConnectionError(c: RawH2, code: number, protocolBefore: number, fx: AcFixture = f): Promise<{ lastStream: number; code: number; debug: string }> {
  const g = await c.waitGoaway(`code ${code}`);
  expect(g.code).toBe(code);
  expect(await c.waitClosed(10_000)).toBe(true);
  expect(await waitFor(() => rejects(fx, "protocol") === protocolBefore + 1, 5_000)).toBe(true);
  expect(rejects(fx, "protocol")).toBe(protocolBefore + 1);
  return g;
}

/** the store holds n events of the agent (within a deadline) */
async function stored(agentId: string, n: number, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if ((await f.store.query({ agentId })).length === n) return true;
    await Bun.sleep(20);
  }
  return (await f.store.query({ agentId })).length === n;
}

/** the good grpc-js agent got new acks since the call */
async function goodStillServed(): Promise<void> {
  const n = good.s.acks.length;
  expect(await waitFor(() => good.s.acks.length > n + 3, 10_000)).toBe(true);
  expect(good.s.error).toBeUndefined();
}

describe("AC HTTP/2 session, raw frames", () => {
  test("happy path by hand: SETTINGS both ways, a Transfer stream, an ack, then trailers with grpc-status 0", async () => {
    const c = await RawH2.connect(f.ac.grpcPort, creds());
    open.push(c);
    c.start();
    const settings = await c.waitFrame((x) => x.type === T.SETTINGS && !(x.flags & F.ACK), "server SETTINGS");
    expect(c.frames[0]).toBe(settings); // the server's first frame
    const st = parseSettings(settings);
    expect(st.get(S.MAX_CONCURRENT_STREAMS)).toBe(100);
    expect(st.get(S.INITIAL_WINDOW_SIZE)).toBeGreaterThanOrEqual(65_535);
    await c.waitFrame((x) => x.type === T.SETTINGS && (x.flags & F.ACK) !== 0, "SETTINGS ACK of ours");

    const agentsBefore = f.ac.connections();
    c.headers(1, grpcRequest(TRANSFER));
    c.data(1, batch("by-hand", 1, { n: 2 }));
    const resp = await c.waitFrame((x) => x.type === T.HEADERS && x.stream === 1, "response HEADERS");
    expect(resp.headers!.get(":status")).toBe("200");
    expect(resp.headers!.get("content-type")).toStartWith("application/grpc");
    expect(resp.flags & F.END_STREAM).toBe(0);
    await waitAck(c, 1, 1);
    expect(commands(c, 1).map((x) => Number(x.ackSeq))).toEqual([1]);
    expect(f.ac.connections()).toBe(agentsBefore + 1);
    expect((await f.store.query({ agentId: "by-hand" })).length).toBe(2);

    const from = c.frames.length;
    c.data(1, Buffer.alloc(0), true); // END_STREAM from the client
    const trailers = await c.waitFrame((x) => x.type === T.HEADERS && x.stream === 1, "trailers", 10_000, from);
    expect(trailers.headers!.get("grpc-status")).toBe("0");
    expect(trailers.flags & F.END_STREAM).toBe(F.END_STREAM);
    expect(await waitFor(() => f.ac.connections() === agentsBefore, 5_000)).toBe(true);
    await c.sync();
    expect(c.goaway()).toBeUndefined();
    expect(c.on(1, T.RST_STREAM)).toEqual([]);
    c.close();
  }, 30_000);

  test("a flood of PINGs without any request is ended with GOAWAY ENHANCE_YOUR_CALM", async () => {
    const before = rejects(f, "protocol");
    const c = await connect();
    const burst = Buffer.concat(Array.from({ length: 12_000 }, () => encodeFrame(T.PING, 0, 0, Buffer.alloc(8))));
    c.write(burst);
    const g = await expectConnectionError(c, E.ENHANCE_YOUR_CALM, before);
    expect(g.debug).toContain("PING");
    c.close();
  }, 30_000);

  test("PING gets a PING ACK with the same 8 bytes", async () => {
    const c = await connect();
    const opaque = Buffer.from([0x76, 0x69, 0x67, 0x69, 0x6c, 0x01, 0xfe, 0x00]);
    const from = c.frames.length;
    c.ping(opaque);
    const ack = await c.waitFrame((x) => x.type === T.PING, "PING ACK", 10_000, from);
    expect(ack.flags & F.ACK).toBe(F.ACK);
    expect(ack.stream).toBe(0);
    expect(ack.payload.equals(opaque)).toBe(true);
    // a PING ACK from the client is not answered
    c.send(T.PING, F.ACK, 0, opaque);
    await c.sync();
    expect(c.frames.slice(from).filter((x) => x.type === T.PING && x.payload.equals(opaque)).length).toBe(1);
    expect(c.goaway()).toBeUndefined();
    c.close();
  }, 20_000);

  test("a connection that does not start with the client preface is closed", async () => {
    const before = rejects(f, "protocol");
    const c = await RawH2.connect(f.ac.grpcPort, creds());
    open.push(c);
    c.write(Buffer.from("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    expect(await c.waitClosed(10_000)).toBe(true);
    const g = c.goaway();
    if (g) expect(g.code).toBe(E.PROTOCOL_ERROR);
    expect(await waitFor(() => rejects(f, "protocol") === before + 1, 5_000)).toBe(true);
  }, 20_000);

  test("a frame of 16,384 bytes is accepted; one of 16,385 gets GOAWAY FRAME_SIZE_ERROR", async () => {
    const before = rejects(f, "protocol");
    const c = await connect();
    c.headers(1, grpcRequest(TRANSFER));
    // part of a (declared 1 MiB) message: exactly the largest allowed frame
    c.send(T.DATA, 0, 1, grpcFrame(Buffer.alloc(DEFAULT_MAX_FRAME - 5), 1 << 20));
    await c.sync();
    expect(c.goaway()).toBeUndefined();
    expect(c.on(1, T.RST_STREAM)).toEqual([]);
    c.send(T.DATA, 0, 1, Buffer.alloc(DEFAULT_MAX_FRAME + 1));
    const g = await expectConnectionError(c, E.FRAME_SIZE_ERROR, before);
    expect(g.lastStream).toBe(1);
    await goodStillServed();
  }, 30_000);

  test("a frame header that declares more than 16,384 bytes is refused before its payload arrives", async () => {
    const before = rejects(f, "protocol");
    const c = await connect();
    c.write(encodeFrame(T.PING, 0, 0, Buffer.alloc(0), 1 << 20)); // the header only
    await expectConnectionError(c, E.FRAME_SIZE_ERROR, before);
  }, 20_000);

  test("a header block split into HEADERS + CONTINUATION frames is served", async () => {
    const c = await connect();
    const block = encodeHeaders(grpcRequest(TRANSFER, { "user-agent": "raw-h2 " + "x".repeat(200) }));
    const a = block.subarray(0, 10), b = block.subarray(10, 40), rest = block.subarray(40);
    c.send(T.HEADERS, 0, 1, a);
    c.send(T.CONTINUATION, 0, 1, b);
    c.send(T.CONTINUATION, F.END_HEADERS, 1, rest);
    c.data(1, batch("continued", 1));
    await waitAck(c, 1, 1);
    expect(c.goaway()).toBeUndefined();
    c.rst(1, E.CANCEL);
    c.close();
  }, 20_000);

  test("a header block interrupted by another frame gets GOAWAY PROTOCOL_ERROR", async () => {
    const before = rejects(f, "protocol");
    const c = await connect();
    const block = encodeHeaders(grpcRequest(TRANSFER));
    c.send(T.HEADERS, 0, 1, block.subarray(0, 5)); // no END_HEADERS
    c.ping(Buffer.alloc(8)); // not a CONTINUATION
    await expectConnectionError(c, E.PROTOCOL_ERROR, before);
    expect(c.frames.some((x) => x.type === T.PING && (x.flags & F.ACK) !== 0)).toBe(false);

    // and a CONTINUATION of another stream interrupts it too
    const before2 = rejects(f, "protocol");
    const c2 = await connect();
    c2.send(T.HEADERS, 0, 1, block.subarray(0, 5));
    c2.send(T.CONTINUATION, F.END_HEADERS, 3, block.subarray(5));
    await expectConnectionError(c2, E.PROTOCOL_ERROR, before2);

    // and a CONTINUATION with no header block in progress
    const before3 = rejects(f, "protocol");
    const c3 = await connect();
    c3.send(T.CONTINUATION, F.END_HEADERS, 1, block);
    await expectConnectionError(c3, E.PROTOCOL_ERROR, before3);
    await goodStillServed();
  }, 30_000);

  test("a header block over twice SETTINGS_MAX_HEADER_LIST_SIZE gets GOAWAY ENHANCE_YOUR_CALM", async () => {
    const before = rejects(f, "protocol");
    const c = await connect();
    const block = encodeHeaders(grpcRequest(TRANSFER));
    c.send(T.HEADERS, 0, 1, block.subarray(0, 5));
    // 40 x 1,000 bytes of CONTINUATION, none with END_HEADERS (the server advertises 16,384)
    for (let i = 0; i < 40 && !c.closed; i++) c.send(T.CONTINUATION, 0, 1, Buffer.alloc(1000, 0x41));
    await expectConnectionError(c, E.ENHANCE_YOUR_CALM, before);
  }, 20_000);

  test("a flood of empty CONTINUATION frames is cut off (the header block bound counts frames, not just bytes)", async () => {
    const before = rejects(f, "protocol");
    const c = await connect();
    c.send(T.HEADERS, 0, 1, encodeHeaders(grpcRequest(TRANSFER)).subarray(0, 5));
    // 200,000 CONTINUATION frames without payload or END_HEADERS: 1.8 MB that never completes
    // a header block; each one held costs the server memory, so the server must stop it
    const burst = Buffer.concat(Array.from({ length: 10_000 }, () => encodeFrame(T.CONTINUATION, 0, 1)));
    for (let i = 0; i < 20 && !c.closed; i++) {
      c.write(burst);
      await Bun.sleep(1);
    }
    const g = await c.waitGoaway("CONTINUATION flood", 10_000);
    expect([E.ENHANCE_YOUR_CALM, E.PROTOCOL_ERROR] as number[]).toContain(g.code);
    expect(await c.waitClosed(10_000)).toBe(true);
    expect(await waitFor(() => rejects(f, "protocol") === before + 1, 5_000)).toBe(true);
    await goodStillServed();
  }, 30_000);

  test("a garbage header block (an index beyond both tables) gets GOAWAY COMPRESSION_ERROR", async () => {
    const before = rejects(f, "protocol");
    const c = await connect();
    c.send(T.HEADERS, F.END_HEADERS, 1, Buffer.from([0x80 | 70]));
    await expectConnectionError(c, E.COMPRESSION_ERROR, before);
    await goodStillServed();
  }, 20_000);

  test("a 4 MiB message (4x the stream window) arrives intact through the server's WINDOW_UPDATEs and is acked", async () => {
    const c = await connect();
    const window = c.peerInitialWindow;
    const pad = "p".repeat(4 << 20);
    const msg = batch("big-4m", 1, { pad });
    expect(msg.length).toBeGreaterThan(4 * window);
    c.headers(1, grpcRequest(TRANSFER));
    await c.sendFlowControlled(1, msg);
    await waitAck(c, 1, 1, 20_000);
    // it could only get through on credit
    expect(c.credited.get(1) ?? 0).toBeGreaterThanOrEqual(msg.length - window);
    expect(c.goaway()).toBeUndefined();
    expect(c.on(1, T.RST_STREAM)).toEqual([]);
    const got = await f.store.query({ agentId: "big-4m" });
    expect(got.length).toBe(1);
    expect(got[0].fields.pad).toBe(pad);
    c.close();
    await goodStillServed();
  }, 60_000);

  test("an even stream id gets GOAWAY PROTOCOL_ERROR", async () => {
    const before = rejects(f, "protocol");
    const c = await connect();
    c.headers(2, grpcRequest(TRANSFER));
    const g = await expectConnectionError(c, E.PROTOCOL_ERROR, before);
    expect(g.lastStream).toBe(0);
  }, 20_000);

  test("a decreasing stream id gets GOAWAY PROTOCOL_ERROR", async () => {
    const before = rejects(f, "protocol");
    const c = await connect();
    c.headers(5, grpcRequest(TRANSFER));
    c.data(5, batch("stream-5", 1));
    await waitAck(c, 5, 1);
    c.headers(3, grpcRequest(TRANSFER)); // never used, but lower than 5
    const g = await expectConnectionError(c, E.PROTOCOL_ERROR, before);
    expect(g.lastStream).toBe(5);
    // the same id twice is no better
    const before2 = rejects(f, "protocol");
    const c2 = await connect();
    c2.headers(1, grpcRequest(TRANSFER), { endStream: true });
    await c2.waitFrame((x) => x.type === T.HEADERS && x.stream === 1 && (x.flags & F.END_STREAM) !== 0, "the answer to stream 1");
    c2.headers(1, grpcRequest(TRANSFER));
    await c2.waitGoaway("reused stream id");
    expect(await c2.waitClosed()).toBe(true);
    expect(await waitFor(() => rejects(f, "protocol") === before2 + 1, 5_000)).toBe(true);
    await goodStillServed();
  }, 30_000);

  test("the 101st concurrent stream gets RST_STREAM REFUSED_STREAM; the first 100 keep working", async () => {
    const c = await connect();
    const ids = Array.from({ length: 100 }, (_, i) => 2 * i + 1); // 1..199
    for (const id of ids) c.headers(id, grpcRequest(TRANSFER));
    c.headers(201, grpcRequest(TRANSFER));
    const rst = await c.waitFrame((x) => x.type === T.RST_STREAM, "RST_STREAM");
    expect(rst.stream).toBe(201);
    expect(rst.payload.readUInt32BE(0)).toBe(E.REFUSED_STREAM);
    await c.sync();
    expect(c.frames.filter((x) => x.type === T.RST_STREAM).map((x) => x.stream)).toEqual([201]);
    expect(c.goaway()).toBeUndefined();
    // the first, the last and one in the middle are served
    for (const id of [1, 99, 199]) c.data(id, batch(`many-${id}`, 1));
    for (const id of [1, 99, 199]) await waitAck(c, id, 1);
    // a client reset frees a slot: the next stream is accepted
    c.rst(1, E.CANCEL);
    c.headers(203, grpcRequest(TRANSFER));
    c.data(203, batch("many-203", 1));
    await waitAck(c, 203, 1);
    expect(c.rstCode(203)).toBeUndefined();
    expect(c.goaway()).toBeUndefined();
    c.close();
    await goodStillServed();
  }, 30_000);

  test("RST_STREAM from the client: the AC forgets the agent and the connection serves a new stream", async () => {
    const c = await connect();
    const agentsBefore = f.ac.connections();
    c.headers(1, grpcRequest(TRANSFER));
    c.data(1, batch("reset-me", 1));
    await waitAck(c, 1, 1);
    expect(f.ac.connections()).toBe(agentsBefore + 1);
    c.rst(1, E.CANCEL);
    expect(await waitFor(() => f.ac.connections() === agentsBefore, 5_000)).toBe(true);
    c.headers(3, grpcRequest(TRANSFER));
    c.data(3, batch("reset-me-again", 1));
    await waitAck(c, 3, 1);
    expect(f.ac.connections()).toBe(agentsBefore + 1);
    expect(c.goaway()).toBeUndefined();
    expect(c.on(3, T.RST_STREAM)).toEqual([]);
    c.close();
    expect(await waitFor(() => f.ac.connections() === agentsBefore, 5_000)).toBe(true);
  }, 20_000);

  test("unknown :path -> grpc-status 12; non-POST -> 405; a content-type not application/grpc* -> 415", async () => {
    const before = rejects(f, "protocol");
    const c = await connect();
    c.headers(1, grpcRequest("/grpc.Nope/Nope"));
    c.headers(3, grpcRequest(TRANSFER, { ":method": "GET" }));
    c.headers(5, grpcRequest(TRANSFER, { "content-type": "application/json" }));
    c.headers(7, grpcRequest(TRANSFER, { "content-type": "application/grpc+proto" }));
    const h = async (id: number) => (await c.waitFrame((x) => x.type === T.HEADERS && x.stream === id, `HEADERS on ${id}`));
    const unknown = await h(1);
    expect(unknown.flags & F.END_STREAM).toBe(F.END_STREAM); // trailers-only
    expect(unknown.headers!.get(":status")).toBe("200");
    expect(unknown.headers!.get("grpc-status")).toBe("12");
    const get = await h(3);
    expect(get.headers!.get(":status")).toBe("405");
    expect(get.flags & F.END_STREAM).toBe(F.END_STREAM);
    const text = await h(5);
    expect(text.headers!.get(":status")).toBe("415");
    expect(text.flags & F.END_STREAM).toBe(F.END_STREAM);
    // application/grpc+proto is a gRPC content-type: served
    c.data(7, batch("grpc-proto", 1));
    await waitAck(c, 7, 1);
    expect(c.goaway()).toBeUndefined();
    expect(rejects(f, "protocol")).toBe(before);
    c.close();
  }, 20_000);

  test("frames the client had in flight on a stream the server reset are discarded, not a connection error", async () => {
    const before = rejects(f, "protocol");
    const c = await connect();
    c.headers(1, grpcRequest("/grpc.Nope/Nope")); // answered with grpc-status 12, then RST_STREAM(NO_ERROR)
    const rst = await c.waitFrame((x) => x.type === T.RST_STREAM && x.stream === 1, "RST_STREAM of stream 1");
    expect(rst.payload.readUInt32BE(0)).toBe(E.NO_ERROR);
    // what the client sent before it saw the reset: DATA, then trailers ending the stream
    // (RFC 9113 5.1, "closed": frames received after sending RST_STREAM are processed minimally
    // and discarded; HPACK state is still updated)
    c.data(1, batch("in-flight", 1));
    c.headers(1, [["x-trailer", "1"]], { endStream: true });
    await c.sync();
    expect(c.goaway()).toBeUndefined();
    expect(c.closed).toBe(false);
    expect(rejects(f, "protocol")).toBe(before);
    c.headers(3, grpcRequest(TRANSFER));
    c.data(3, batch("after-reset", 1));
    await waitAck(c, 3, 1);
    c.close();
  }, 20_000);

  test("server-side flow control: with the client's INITIAL_WINDOW_SIZE 0 the ack waits for WINDOW_UPDATE", async () => {
    const c = await connect(f, [[S.INITIAL_WINDOW_SIZE, 0]]);
    c.headers(1, grpcRequest(TRANSFER));
    c.data(1, batch("window-0", 1));
    const resp = await c.waitFrame((x) => x.type === T.HEADERS && x.stream === 1, "response HEADERS");
    expect(resp.headers!.get(":status")).toBe("200");
    // the batch is durable (the store has it), so the ack is written, but it must wait for our window
    expect(await stored("window-0", 1)).toBe(true);
    await c.sync();
    await Bun.sleep(200);
    await c.sync();
    expect(c.on(1, T.DATA)).toEqual([]);
    // 2 bytes of window: exactly 2 bytes of the 5-byte prefix + Command come
    c.windowUpdate(1, 2);
    const first = await c.waitFrame((x) => x.type === T.DATA && x.stream === 1, "2 bytes of DATA");
    expect(first.payload.length).toBe(2);
    await c.sync();
    expect(c.on(1, T.DATA).length).toBe(1);
    // the rest
    c.windowUpdate(1, 1000);
    await waitAck(c, 1, 1);
    expect(commands(c, 1).map((x) => Number(x.ackSeq))).toEqual([1]);
    expect(c.goaway()).toBeUndefined();
    c.close();
  }, 30_000);

  test("the good agent's batches were all acknowledged in order", async () => {
    await goodStillServed();
    const acks = good.s.acks;
    expect(acks.length).toBeGreaterThan(10);
    expect(acks).toEqual(Array.from({ length: acks.length }, (_, i) => i + 1));
  }, 30_000);
});

describe("AC HTTP/2 receive flow control, with the call paused", () => {
  test("DATA past the stream window while the call is paused gets RST_STREAM FLOW_CONTROL_ERROR, not a crash", async () => {
    // a sink that never makes anything durable, and one batch in flight: the call pauses after
    // the first batch, so the server stops crediting the stream and its window is the bound
    const held: Sink = { name: "held", write: () => new Promise<void>(() => {}), close: async () => {} };
    using d = tempDir();
    await using fx = await startFixture(d.path, { sink: held, maxInflightBatches: 1 });
    const c = await connect(fx);
    const window = c.peerInitialWindow;
    c.headers(1, grpcRequest(TRANSFER));
    c.data(1, batch("paused", 1));
    await c.sync();
    expect(fx.ac.connections()).toBe(1);
    // a message declaring the largest allowed size, then DATA exactly up to the window
    const fill = c.window(1);
    expect(fill).toBeLessThan(window);
    const chunk = Buffer.alloc(fill);
    grpcFrame(Buffer.alloc(0), MAX_MESSAGE_BYTES).copy(chunk, 0);
    c.data(1, chunk);
    await c.sync();
    expect(c.window(1)).toBe(0);
    expect(c.credited.get(1) ?? 0).toBe(0); // a paused call is not credited
    expect(c.on(1, T.RST_STREAM)).toEqual([]);
    expect(c.goaway()).toBeUndefined();
    // one byte more than the server granted
    const before = rejects(fx, "protocol");
    c.data(1, Buffer.alloc(1));
    const reaction = await c.waitFrame((x) => (x.type === T.RST_STREAM && x.stream === 1) || x.type === T.GOAWAY, "RST_STREAM or GOAWAY");
    if (reaction.type === T.RST_STREAM) {
      expect(reaction.payload.readUInt32BE(0)).toBe(E.FLOW_CONTROL_ERROR);
      // a stream error: the connection lives on, the agent is forgotten
      await c.sync();
      expect(c.goaway()).toBeUndefined();
      expect(rejects(fx, "protocol")).toBe(before);
      expect(await waitFor(() => fx.ac.connections() === 0, 5_000)).toBe(true);
    } else {
      expect(reaction.payload.readUInt32BE(4)).toBe(E.FLOW_CONTROL_ERROR);
      expect(await waitFor(() => rejects(fx, "protocol") === before + 1, 5_000)).toBe(true);
    }
    c.close();
    await goodStillServed();
  }, 30_000);
});

describe("AC HTTP/2 connection timeouts", () => {
  let d2: ReturnType<typeof tempDir>;
  let short: AcFixture;
  beforeAll(async () => {
    d2 = tempDir();
    short = await startFixture(d2.path, { idleTimeoutMs: 500, handshakeTimeoutMs: 1000 });
  });
  afterAll(async () => {
    await short.stop();
    d2[Symbol.dispose]();
  });

  test("a connection that opens no stream gets GOAWAY NO_ERROR and is counted as idle; one with a stream stays", async () => {
    const before = rejects(short, "idle_connection");
    const busy = await connect(short);
    busy.headers(1, grpcRequest(TRANSFER));
    busy.data(1, batch("busy", 1));
    await waitAck(busy, 1, 1);
    const c = await connect(short);
    const g = await c.waitGoaway("idle", 5_000);
    expect(g.code).toBe(E.NO_ERROR);
    expect(await c.waitClosed(5_000)).toBe(true);
    expect(await waitFor(() => rejects(short, "idle_connection") === before + 1, 5_000)).toBe(true);
    // the connection with an open stream is not idle
    await Bun.sleep(1_000);
    await busy.sync();
    expect(busy.goaway()).toBeUndefined();
    expect(busy.closed).toBe(false);
    expect(rejects(short, "idle_connection")).toBe(before + 1);
    busy.close();
  }, 30_000);

  test("a client that never completes TLS is dropped after the handshake timeout", async () => {
    const before = rejects(short, "bad_cert");
    const s = net.connect(short.ac.grpcPort, "127.0.0.1");
    let closed = false;
    s.on("error", () => {});
    s.on("data", () => {});
    s.on("close", () => (closed = true));
    await new Promise<void>((resolve) => s.once("connect", () => resolve()));
    // Bun's socket timeouts are coarse (whole seconds, checked every few): allow many
    expect(await waitFor(() => closed, 15_000)).toBe(true);
    // counted once: one connection, one refusal
    expect(await waitFor(() => rejects(short, "bad_cert") > before, 5_000)).toBe(true);
    await Bun.sleep(200);
    expect(rejects(short, "bad_cert")).toBe(before + 1);
    s.destroy();
    await goodStillServed();
  }, 30_000);
});

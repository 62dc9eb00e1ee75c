// A raw HTTP/2 client over mutual TLS, for protocol-level tests of the AC's own HTTP/2 server
// (src/server/ac/h2/session.ts): it writes exactly the frames a test asks for, right or wrong,
// parses what the server sends as it arrives (9-byte frame header, then payload), decodes the
// server's header blocks with HPACK, and keeps account of the flow-control windows the server
// grants so a test can send exactly up to (or past) them. The constants are RFC 9113's own,
// written out here rather than imported from the server under test.
import * as tls from "node:tls";
import { HpackDecoder, encodeHeaders } from "../../../../src/server/ac/h2/hpack.ts";
import { waitFor } from "../../../harness.ts";

export const T = { DATA: 0, HEADERS: 1, PRIORITY: 2, RST_STREAM: 3, SETTINGS: 4, PUSH_PROMISE: 5, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8, CONTINUATION: 9 } as const;
export const E = { NO_ERROR: 0, PROTOCOL_ERROR: 1, INTERNAL_ERROR: 2, FLOW_CONTROL_ERROR: 3, SETTINGS_TIMEOUT: 4, STREAM_CLOSED: 5, FRAME_SIZE_ERROR: 6, REFUSED_STREAM: 7, CANCEL: 8, COMPRESSION_ERROR: 9, CONNECT_ERROR: 10, ENHANCE_YOUR_CALM: 11 } as const;
export const F = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 } as const;
export const S = { HEADER_TABLE_SIZE: 1, ENABLE_PUSH: 2, MAX_CONCURRENT_STREAMS: 3, INITIAL_WINDOW_SIZE: 4, MAX_FRAME_SIZE: 5, MAX_HEADER_LIST_SIZE: 6 } as const;
export const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
/** RFC 9113 default SETTINGS_MAX_FRAME_SIZE and initial window */
export const DEFAULT_MAX_FRAME = 16_384;
export const DEFAULT_WINDOW = 65_535;

const TYPE_NAMES = Object.fromEntries(Object.entries(T).map(([k, v]) => [v, k]));

export interface Frame {
  type: number;
  flags: number;
  stream: number;
  payload: Buffer;
  /** HEADERS only: the decoded header block (with its CONTINUATION frames) */
  headers?: Map<string, string>;
}

export function describeFrame(f: Frame): string {
  let extra = "";
  if (f.type === T.GOAWAY && f.payload.length >= 8) extra = ` code=${f.payload.readUInt32BE(4)} last=${f.payload.readUInt32BE(0) & 0x7fffffff} "${f.payload.subarray(8).toString()}"`;
  else if (f.type === T.RST_STREAM && f.payload.length === 4) extra = ` code=${f.payload.readUInt32BE(0)}`;
  else if (f.type === T.WINDOW_UPDATE && f.payload.length === 4) extra = ` inc=${f.payload.readUInt32BE(0)}`;
  else if (f.headers) extra = ` ${JSON.stringify([...f.headers])}`;
  return `${TYPE_NAMES[f.type] ?? `type${f.type}`}(stream=${f.stream} flags=0x${f.flags.toString(16)} len=${f.payload.length}${extra})`;
}

/** One frame's bytes; declaredLength lets a test lie about the length in the header. */
export function encodeFrame(type: number, flags: number, stream: number, payload: Uint8Array = Buffer.alloc(0), declaredLength = payload.length): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(declaredLength, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(stream >>> 0, 5);
  return Buffer.concat([h, payload]);
}

/** A SETTINGS payload from [id, value] pairs. */
export function settingsPayload(pairs: [number, number][]): Buffer {
  const b = Buffer.alloc(6 * pairs.length);
  pairs.forEach(([id, v], i) => {
    b.writeUInt16BE(id, 6 * i);
    b.writeUInt32BE(v >>> 0, 6 * i + 2);
  });
  return b;
}

/** The [id, value] pairs of a SETTINGS frame. */
export function parseSettings(f: Frame): Map<number, number> {
  const m = new Map<number, number>();
  for (let i = 0; i + 6 <= f.payload.length; i += 6) m.set(f.payload.readUInt16BE(i), f.payload.readUInt32BE(i + 2));
  return m;
}

export function parseGoaway(f: Frame): { lastStream: number; code: number; debug: string } {
  return { lastStream: f.payload.readUInt32BE(0) & 0x7fffffff, code: f.payload.readUInt32BE(4), debug: f.payload.subarray(8).toString() };
}

export function grpcFrame(msg: Uint8Array, declaredLength = msg.length): Buffer {
  const h = Buffer.alloc(5);
  h.writeUInt32BE(declaredLength, 1);
  return Buffer.concat([h, msg]);
}

/** Request headers of a gRPC call, in the order grpc-js sends them (pseudo-headers first). */
export function grpcRequest(path = "/grpc.Transfer/Transfer", over: Record<string, string> = {}): [string, string][] {
  const base: Record<string, string> = { ":method": "POST", ":scheme": "https", ":path": path, ":authority": "localhost", "content-type": "application/grpc", te: "trailers", ...over };
  return Object.entries(base);
}

export interface Creds {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

export class RawH2 {
  readonly frames: Frame[] = [];
  /** the socket closed (either side) */
  closed = false;
  /** the server ended its side (EOF) */
  ended = false;
  error: Error | undefined;
  /** reply to the server's SETTINGS with an ACK, as a well-behaved client does */
  autoAck = true;
  /** what the server lets us send: the connection window and the streams' windows */
  connWindow = DEFAULT_WINDOW;
  peerInitialWindow = DEFAULT_WINDOW;
  /** WINDOW_UPDATE increments the server sent, per stream (0: the connection) */
  readonly credited = new Map<number, number>();
  /** DATA payload bytes we sent, per stream (0: all streams) */
  readonly sent = new Map<number, number>();
  private buf: Buffer = Buffer.alloc(0);
  private readonly hpack = new HpackDecoder();
  private block: { frame: Frame; parts: Buffer[] } | undefined;

  private constructor(readonly socket: tls.TLSSocket) {
    socket.on("data", (d: Buffer) => this.onData(d));
    socket.on("end", () => (this.ended = true));
    socket.on("close", () => (this.closed = true));
    socket.on("error", (e) => (this.error = e));
  }

  static connect(port: number, creds: Creds): Promise<RawH2> {
    return new Promise((resolve, reject) => {
      const s = tls.connect({ port, host: "127.0.0.1", servername: "localhost", ca: creds.ca, cert: creds.cert, key: creds.key, ALPNProtocols: ["h2"] });
      const fail = (e: Error) => reject(e);
      s.once("error", fail);
      s.once("secureConnect", () => {
        s.off("error", fail);
        if (s.alpnProtocol !== "h2") {
          s.destroy();
          return reject(new Error(`ALPN negotiated ${String(s.alpnProtocol)}, not h2`));
        }
        resolve(new RawH2(s));
      });
    });
  }

  // ---- input ----

  private onData(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    while (this.buf.length >= 9) {
      const len = this.buf.readUIntBE(0, 3);
      if (this.buf.length < 9 + len) break;
      const f: Frame = { type: this.buf[3], flags: this.buf[4], stream: this.buf.readUInt32BE(5) & 0x7fffffff, payload: Buffer.from(this.buf.subarray(9, 9 + len)) };
      this.buf = this.buf.subarray(9 + len);
      this.onFrame(f);
    }
  }

  private onFrame(f: Frame): void {
    this.frames.push(f);
    if (f.type === T.SETTINGS && !(f.flags & F.ACK)) {
      const iw = parseSettings(f).get(S.INITIAL_WINDOW_SIZE);
      if (iw !== undefined) this.peerInitialWindow = iw;
      if (this.autoAck && !this.closed) this.send(T.SETTINGS, F.ACK, 0);
    } else if (f.type === T.WINDOW_UPDATE && f.payload.length === 4) {
      const inc = f.payload.readUInt32BE(0) & 0x7fffffff;
      this.credited.set(f.stream, (this.credited.get(f.stream) ?? 0) + inc);
      if (f.stream === 0) this.connWindow += inc;
    } else if (f.type === T.HEADERS) {
      let body = f.payload;
      if (f.flags & F.PADDED) body = body.subarray(1, body.length - body[0]);
      if (f.flags & F.PRIORITY) body = body.subarray(5);
      this.block = { frame: f, parts: [body] };
      if (f.flags & F.END_HEADERS) this.endBlock();
    } else if (f.type === T.CONTINUATION && this.block) {
      this.block.parts.push(f.payload);
      if (f.flags & F.END_HEADERS) this.endBlock();
    }
  }

  private endBlock(): void {
    const { frame, parts } = this.block!;
    this.block = undefined;
    frame.headers = new Map(this.hpack.decode(Buffer.concat(parts)));
  }

  // ---- output ----

  write(b: Uint8Array): void {
    if (!this.closed) this.socket.write(b);
  }

  send(type: number, flags: number, stream: number, payload: Uint8Array = Buffer.alloc(0)): void {
    this.write(encodeFrame(type, flags, stream, payload));
  }

  /** the client preface and our SETTINGS */
  start(settings: [number, number][] = []): void {
    this.write(Buffer.concat([PREFACE, encodeFrame(T.SETTINGS, 0, 0, settingsPayload(settings))]));
  }

  headers(stream: number, fields: [string, string][], o: { endStream?: boolean; endHeaders?: boolean } = {}): void {
    this.send(T.HEADERS, (o.endHeaders === false ? 0 : F.END_HEADERS) | (o.endStream ? F.END_STREAM : 0), stream, encodeHeaders(fields));
  }

  /** DATA in frames of at most 16,384 bytes (no flow-control check: see sendFlowControlled) */
  data(stream: number, payload: Uint8Array, endStream = false): void {
    let o = 0;
    do {
      const n = Math.min(DEFAULT_MAX_FRAME, payload.length - o);
      const last = o + n >= payload.length;
      this.send(T.DATA, last && endStream ? F.END_STREAM : 0, stream, payload.subarray(o, o + n));
      this.count(stream, n);
      o += n;
    } while (o < payload.length);
  }

  private count(stream: number, n: number): void {
    this.sent.set(stream, (this.sent.get(stream) ?? 0) + n);
    this.sent.set(0, (this.sent.get(0) ?? 0) + n);
  }

  /** what the server's windows let us send on a stream now */
  window(stream: number): number {
    const streamWin = this.peerInitialWindow + (this.credited.get(stream) ?? 0) - (this.sent.get(stream) ?? 0);
    return Math.min(streamWin, this.connWindow - (this.sent.get(0) ?? 0));
  }

  /** DATA as a well-behaved client sends it: never past the server's windows, waiting for WINDOW_UPDATE */
  async sendFlowControlled(stream: number, payload: Uint8Array, endStream = false, stallMs = 10_000): Promise<void> {
    let o = 0;
    while (o < payload.length) {
      if (this.window(stream) <= 0 && !(await waitFor(() => this.window(stream) > 0 || this.closed, stallMs, 5))) {
        throw new Error(`no WINDOW_UPDATE for stream ${stream} within ${stallMs} ms (sent ${o} of ${payload.length}); frames: ${this.summary()}`);
      }
      if (this.closed) throw new Error(`the connection closed after ${o} of ${payload.length} bytes; frames: ${this.summary()}`);
      const n = Math.min(DEFAULT_MAX_FRAME, this.window(stream), payload.length - o);
      this.send(T.DATA, endStream && o + n === payload.length ? F.END_STREAM : 0, stream, payload.subarray(o, o + n));
      this.count(stream, n);
      o += n;
      // let the socket drain and WINDOW_UPDATEs in
      if (o % (16 * DEFAULT_MAX_FRAME) === 0) await Bun.sleep(0);
    }
  }

  ping(opaque: Uint8Array): void {
    this.send(T.PING, 0, 0, opaque);
  }

  rst(stream: number, code: number): void {
    const p = Buffer.alloc(4);
    p.writeUInt32BE(code, 0);
    this.send(T.RST_STREAM, 0, stream, p);
  }

  windowUpdate(stream: number, inc: number): void {
    const p = Buffer.alloc(4);
    p.writeUInt32BE(inc, 0);
    this.send(T.WINDOW_UPDATE, 0, stream, p);
  }

  // ---- waiting ----

  summary(from = 0): string {
    return this.frames.slice(from).map(describeFrame).join(", ") + (this.closed ? " [closed]" : "");
  }

  /** the first frame (from index `from`) that matches, waiting for it up to ms */
  async waitFrame(pred: (f: Frame) => boolean, what: string, ms = 10_000, from = 0): Promise<Frame> {
    let found: Frame | undefined;
    await waitFor(() => (found = this.frames.slice(from).find(pred)) !== undefined || this.closed, ms);
    found ??= this.frames.slice(from).find(pred);
    if (!found) throw new Error(`no ${what} within ${ms} ms; got: ${this.summary()}`);
    return found;
  }

  /** a PING round trip: every frame sent before it has been processed by the server */
  async sync(ms = 10_000): Promise<void> {
    const opaque = Buffer.from(Array.from({ length: 8 }, () => Math.floor(Math.random() * 256)));
    const from = this.frames.length;
    this.ping(opaque);
    await this.waitFrame((f) => f.type === T.PING && (f.flags & F.ACK) !== 0 && f.payload.equals(opaque), "PING ACK", ms, from);
  }

  goaway(): { lastStream: number; code: number; debug: string } | undefined {
    const f = this.frames.find((x) => x.type === T.GOAWAY);
    return f ? parseGoaway(f) : undefined;
  }

  async waitGoaway(what: string, ms = 10_000): Promise<{ lastStream: number; code: number; debug: string }> {
    return parseGoaway(await this.waitFrame((f) => f.type === T.GOAWAY, `GOAWAY (${what})`, ms));
  }

  waitClosed(ms = 10_000): Promise<boolean> {
    return waitFor(() => this.closed, ms);
  }

  /** frames on one stream */
  on(stream: number, type?: number): Frame[] {
    return this.frames.filter((f) => f.stream === stream && (type === undefined || f.type === type));
  }

  /** the gRPC messages in a stream's DATA so far (complete ones) */
  messages(stream: number): Buffer[] {
    let b = Buffer.concat(this.on(stream, T.DATA).map((f) => f.payload));
    const out: Buffer[] = [];
    while (b.length >= 5 && b.length >= 5 + b.readUInt32BE(1)) {
      const n = b.readUInt32BE(1);
      out.push(b.subarray(5, 5 + n));
      b = b.subarray(5 + n);
    }
    return out;
  }

  rstCode(stream: number): number | undefined {
    const f = this.on(stream, T.RST_STREAM)[0];
    return f ? f.payload.readUInt32BE(0) : undefined;
  }

  close(): void {
    this.socket.destroy();
  }
}

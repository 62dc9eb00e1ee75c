// gRPC over our HTTP/2 sessions (grpc/doc/PROTOCOL-HTTP2.md), server side: length-prefixed
// messages, grpc-encoding identity/gzip/deflate and Elkeid's "snappy" (snappy framing format),
// trailers with grpc-status and a percent-encoded grpc-message, and the connection upkeep a
// long-lived agent stream needs (keepalive PINGs, idle and silent connections closed). It
// replaces @grpc/grpc-js on the AC's port: grpc-js on Bun cost ~50-70 µs per message, which
// capped the AC at a few thousand agents on this machine (see issue 3's notes).
// What it serves is a table of methods; each call is a ServerCall, an EventEmitter with
// "data" (a decoded request), "end" (the client half-closed) and "cancelled" (reset, lost, or
// ended by a refused message), plus write(), end(code, details), pause() and resume().
import { EventEmitter } from "node:events";
import { gunzipSync, inflateSync } from "node:zlib";
import type { PeerCertificate } from "node:tls";
import { decodeFramed } from "../../../common/snappy-framed.ts";
import { listenTls, type TlsListener, type Wire } from "./listen.ts";
import { DEFAULT_LIMITS, ErrorCode, H2Session, type H2Stream, type StreamListener } from "./session.ts";

export const Status = { OK: 0, CANCELLED: 1, UNKNOWN: 2, INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, RESOURCE_EXHAUSTED: 8, ABORTED: 10, UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14 } as const;

const ENCODINGS = ["identity", "deflate", "gzip", "snappy"];
const ACCEPT_ENCODING = ENCODINGS.join(",");
const RESPONSE_HEADERS: [string, string][] = [[":status", "200"], ["content-type", "application/grpc+proto"], ["grpc-accept-encoding", ACCEPT_ENCODING]];

export interface GrpcMethod {
  path: string;
  /** false: one response message then status (client streaming); true: a response stream */
  responseStream: boolean;
  /** memo: a slot the decoder may keep per-stream state in (the same object for each message of a call) */
  decode(b: Buffer, memo: DecodeMemo): unknown;
  encode(m: any): Uint8Array;
  handler(call: ServerCall): void;
}

/** Per-call state a method's decoder keeps between messages (packaged.ts: the identity strings). */
export interface DecodeMemo {
  decodeMemo?: unknown;
}

export interface CallObserver {
  onDecompressError(encoding: string, reason: string): void;
  onOversized(): void;
  onTruncated(): void;
}

/** grpc-message: percent-encoding of every byte outside 0x20-0x7e, and of "%" */
export function encodeGrpcMessage(s: string): string {
  if (/^[\x20-\x24\x26-\x7e]*$/.test(s)) return s;
  let out = "";
  for (const b of Buffer.from(s, "utf8")) out += b >= 0x20 && b <= 0x7e && b !== 0x25 ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  return out;
}

/** the trailer fields of a gRPC status (grpc-message only when there is one) */
function statusFields(code: number, details: string): [string, string][] {
  const f: [string, string][] = [["grpc-status", String(code)]];
  if (details) f.push(["grpc-message", encodeGrpcMessage(details)]);
  return f;
}

export class ServerCall extends EventEmitter implements StreamListener, DecodeMemo {
  readonly peer: string;
  cancelled = false;
  decodeMemo?: unknown;
  private done = false;
  private paused = false;
  /** bytes received while paused, credited to the peer on resume */
  private held = 0;
  private chunks: Uint8Array[] = [];
  private queued = 0;
  private remoteEnded = false;
  private endEmitted = false;

  constructor(
    private readonly stream: H2Stream,
    private readonly method: GrpcMethod,
    private readonly encoding: string,
    private readonly maxMessageBytes: number,
    private readonly observer: CallObserver | undefined,
    private readonly wire: Wire,
  ) {
    super();
    this.peer = wire.remote;
  }

  peerCertificate(): PeerCertificate | undefined {
    return this.wire.peerCertificate();
  }

  /** one response message */
  write(m: unknown): void {
    if (this.done) return;
    if (!this.stream.headersSent) this.stream.respond(RESPONSE_HEADERS);
    const body = this.method.encode(m);
    const f = Buffer.allocUnsafe(5 + body.length);
    f[0] = 0;
    f.writeUInt32BE(body.length, 1);
    f.set(body, 5);
    this.stream.write(f);
  }

  /** finish with a status: trailers (or a trailers-only response), then stop the client sending */
  end(code: number = Status.OK, details = ""): void {
    if (this.done) return;
    this.done = true;
    const status = statusFields(code, details);
    if (!this.stream.headersSent) this.stream.respond([...RESPONSE_HEADERS, ...status], true);
    else this.stream.trailers(status);
    // the client may still be sending: RST_STREAM(NO_ERROR) tells it the call is over
    if (!this.stream.remoteClosed && !this.stream.blocked) this.stream.reset(ErrorCode.NO_ERROR);
    this.chunks = [];
    this.queued = 0;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.held) {
      this.stream.consumed(this.held);
      this.held = 0;
    }
    this.pump();
  }

  // ---- StreamListener ----

  onData(chunk: Uint8Array): void {
    if (this.done) return this.stream.consumed(chunk.length);
    if (this.paused) this.held += chunk.length;
    else this.stream.consumed(chunk.length);
    this.chunks.push(chunk);
    this.queued += chunk.length;
    this.pump();
  }

  onEnd(): void {
    this.remoteEnded = true;
    this.pump();
  }

  onReset(_why: string): void {
    if (this.done) return;
    this.done = true;
    this.cancelled = true;
    this.chunks = [];
    this.emit("cancelled");
  }

  // ---- messages ----

  private take(n: number): Buffer {
    const first = this.chunks[0];
    let out: Buffer;
    if (first.length >= n) {
      out = Buffer.from(first.buffer, first.byteOffset, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let o = 0;
      while (o < n) {
        const c = this.chunks[0];
        const k = Math.min(c.length, n - o);
        out.set(k === c.length ? c : c.subarray(0, k), o);
        o += k;
        if (k === c.length) this.chunks.shift();
        else this.chunks[0] = c.subarray(k);
      }
    }
    this.queued -= n;
    return out;
  }

  private peekHeader(): [number, number] {
    const h = this.queued >= 5 && this.chunks[0].length >= 5 ? this.chunks[0] : this.take5();
    return [h[0], ((h[1] << 24) | (h[2] << 16) | (h[3] << 8) | h[4]) >>> 0];
  }

  /** the 5-byte prefix straddles chunks: join them (rare) */
  private take5(): Uint8Array {
    const all = Buffer.concat(this.chunks);
    this.chunks = [all];
    return all;
  }

  private pump(): void {
    while (!this.done && !this.paused && this.queued >= 5) {
      const [flag, len] = this.peekHeader();
      if (len > this.maxMessageBytes) {
        this.observer?.onOversized();
        return this.refuse(Status.RESOURCE_EXHAUSTED, `Received message larger than max (${len} vs. ${this.maxMessageBytes})`);
      }
      if (this.queued < 5 + len) break;
      this.take(5);
      const body = len ? this.take(len) : Buffer.alloc(0);
      let msg: Buffer;
      if (flag === 0) msg = body;
      else if (flag === 1) {
        const m = this.decompress(body);
        if (!m) return;
        msg = m;
      } else return this.refuse(Status.INTERNAL, `Message has an invalid compressed flag ${flag}`);
      let req: unknown;
      try {
        req = this.method.decode(msg, this);
      } catch (e) {
        return this.refuse(Status.INTERNAL, `Failed to parse request: ${(e as Error).message}`);
      }
      this.emit("data", req);
    }
    if (this.done || this.paused || !this.remoteEnded || this.endEmitted) return;
    if (this.queued > 0) {
      this.observer?.onTruncated();
      return this.refuse(Status.INTERNAL, "stream ended in the middle of a message (truncated frame)");
    }
    this.endEmitted = true;
    this.emit("end");
  }

  private decompress(body: Buffer): Buffer | undefined {
    const enc = this.encoding;
    const max = this.maxMessageBytes;
    try {
      if (enc === "snappy") return decodeFramed(body, max);
      if (enc === "gzip") return gunzipSync(body, { maxOutputLength: max });
      if (enc === "deflate") return inflateSync(body, { maxOutputLength: max });
    } catch (e) {
      const reason = (e as Error).message;
      if (/exceeds \d+ bytes|larger than|ERR_BUFFER_TOO_LARGE|maxOutputLength/i.test(`${reason} ${(e as NodeJS.ErrnoException).code ?? ""}`)) {
        this.observer?.onOversized();
        this.refuse(Status.RESOURCE_EXHAUSTED, `Received message that decompresses to a size larger than ${max}`);
        return undefined;
      }
      this.observer?.onDecompressError(enc, reason);
      this.refuse(Status.INTERNAL, `Failed to decompress message: ${reason}`);
      return undefined;
    }
    this.observer?.onDecompressError(enc, "the compressed flag is set but the stream's encoding is identity");
    this.refuse(Status.INTERNAL, `a compressed message on a stream with grpc-encoding "${enc}"`);
    return undefined;
  }

  /** end the call for a bad message; the handler hears "cancelled" */
  private refuse(code: number, details: string): void {
    this.end(code, details);
    this.cancelled = true;
    this.emit("cancelled");
  }
}

export interface GrpcServerOptions {
  hostname: string;
  port: number;
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
  methods: GrpcMethod[];
  maxMessageBytes: number;
  handshakeTimeoutMs: number;
  /** a connection without streams for this long is closed (GOAWAY) */
  idleMs: number;
  /** PING a connection silent this long; drop it if the PING is not answered in keepaliveTimeoutMs */
  keepaliveMs: number;
  keepaliveTimeoutMs: number;
  observer?: CallObserver;
  onTlsError(reason: string): void;
  /** a connection closed for idleness that never opened a stream */
  onSilentSession(): void;
  onProtocolError?(reason: string): void;
}

export interface GrpcServer {
  readonly port: number;
  /** HTTP/2 connections (after TLS) */
  sessions(): number;
  /** stop listening, GOAWAY every connection, resolve once they are closed */
  shutdown(): Promise<void>;
  /** drop every connection now */
  forceShutdown(): void;
}

export async function startGrpcServer(o: GrpcServerOptions): Promise<GrpcServer> {
  const methods = new Map(o.methods.map((m) => [m.path, m]));
  const sessions = new Set<H2Session>();
  let onEmpty: (() => void) | undefined;

  const onStream = (wire: Wire) => (stream: H2Stream, h: Map<string, string>): StreamListener | undefined => {
    /** answer with headers only, and tell a client still sending that the request is over */
    const answer = (fields: [string, string][]) => {
      stream.respond(fields, true);
      if (!stream.remoteClosed) stream.reset(ErrorCode.NO_ERROR);
      return undefined;
    };
    const refuse = (status: number, message: string) => answer([...RESPONSE_HEADERS, ...statusFields(status, message)]);
    if (h.get(":method") !== "POST") return answer([[":status", "405"]]);
    if (!(h.get("content-type") ?? "").startsWith("application/grpc")) return answer([[":status", "415"]]);
    const path = h.get(":path") ?? "";
    const m = methods.get(path);
    if (!m) return refuse(Status.UNIMPLEMENTED, `Method not found: ${path.slice(0, 200)}`);
    const enc = h.get("grpc-encoding") ?? "identity";
    if (!ENCODINGS.includes(enc)) return refuse(Status.UNIMPLEMENTED, `grpc-encoding "${enc.slice(0, 64)}" is not supported`);
    const call = new ServerCall(stream, m, enc, o.maxMessageBytes, o.observer, wire);
    m.handler(call);
    return call;
  };

  const listener: TlsListener = await listenTls({
    hostname: o.hostname, port: o.port, ca: o.ca, cert: o.cert, key: o.key, handshakeTimeoutMs: o.handshakeTimeoutMs, onTlsError: o.onTlsError,
    accept(wire) {
      const session: H2Session = new H2Session(wire, {
        onStream: onStream(wire),
        onProtocolError: o.onProtocolError,
        onClose: () => {
          sessions.delete(session);
          if (sessions.size === 0) onEmpty?.();
        },
      }, DEFAULT_LIMITS);
      sessions.add(session);
      return { onData: (c) => session.onData(c), onClose: () => session.onClosed() };
    },
  });

  // one sweep for every connection: idle, silent and keepalive checks
  const sweepMs = Math.max(50, Math.min(1000, Math.floor(Math.min(o.idleMs, o.keepaliveMs, o.keepaliveTimeoutMs) / 4)));
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const s of sessions) {
      if (s.streams.size === 0 && now - s.idleSince >= o.idleMs) {
        if (!s.everHadStream) o.onSilentSession();
        s.goaway(ErrorCode.NO_ERROR, "idle connection");
      } else if (s.pingOutstandingSince && now - s.pingOutstandingSince >= o.keepaliveTimeoutMs) {
        s.goaway(ErrorCode.NO_ERROR, "keepalive PING not answered");
        s.wire.destroy();
      } else if (!s.pingOutstandingSince && now - s.lastReceived >= o.keepaliveMs) {
        s.ping();
        s.wire.flush();
      }
    }
  }, sweepMs);
  sweep.unref?.();

  return {
    port: listener.port,
    sessions: () => sessions.size,
    shutdown() {
      listener.stop();
      clearInterval(sweep);
      if (sessions.size === 0) return Promise.resolve();
      return new Promise<void>((resolve) => {
        onEmpty = resolve;
        for (const s of [...sessions]) s.drain("the server is shutting down");
      });
    },
    forceShutdown() {
      listener.stop();
      clearInterval(sweep);
      for (const s of [...sessions]) {
        s.goaway(ErrorCode.NO_ERROR, "the server is shutting down");
        s.wire.destroy();
      }
    },
  };
}

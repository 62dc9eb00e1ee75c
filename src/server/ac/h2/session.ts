// One server-side HTTP/2 connection (RFC 9113), just what gRPC needs: the preface and SETTINGS,
// HEADERS/CONTINUATION through HPACK, DATA with flow control both ways, PING, RST_STREAM,
// WINDOW_UPDATE, GOAWAY. No server push, no priorities (PRIORITY is read and ignored), no
// HTTP/1.1 upgrade. Receive windows are large and credited back in bulk (a WINDOW_UPDATE per
// half window, not per frame); a stream that stops consuming (its call is paused) stops being
// credited, so the peer's window is what bounds what it can make us hold.
// Protocol errors end the connection with GOAWAY and the RFC's error code; errors confined to
// a stream reset that stream. What arrives is parsed as it comes: no frame is buffered whole
// except a header block.
import { HpackDecoder, HpackError, encodeHeaders } from "./hpack.ts";
import type { Wire } from "./listen.ts";

export const FrameType = { DATA: 0, HEADERS: 1, PRIORITY: 2, RST_STREAM: 3, SETTINGS: 4, PUSH_PROMISE: 5, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8, CONTINUATION: 9 } as const;
export const ErrorCode = { NO_ERROR: 0, PROTOCOL_ERROR: 1, INTERNAL_ERROR: 2, FLOW_CONTROL_ERROR: 3, STREAM_CLOSED: 5, FRAME_SIZE_ERROR: 6, REFUSED_STREAM: 7, CANCEL: 8, COMPRESSION_ERROR: 9, ENHANCE_YOUR_CALM: 11 } as const;
const END_STREAM = 0x1, ACK = 0x1, END_HEADERS = 0x4, PADDED = 0x8, PRIORITY = 0x20;
const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
const SETTINGS = { HEADER_TABLE_SIZE: 1, ENABLE_PUSH: 2, MAX_CONCURRENT_STREAMS: 3, INITIAL_WINDOW_SIZE: 4, MAX_FRAME_SIZE: 5, MAX_HEADER_LIST_SIZE: 6 } as const;
const DEFAULT_WINDOW = 65_535;
const MAX_WINDOW = 2 ** 31 - 1;
/** frames we accept: the RFC's default SETTINGS_MAX_FRAME_SIZE (we do not raise it) */
const MAX_FRAME = 16_384;
/** control frames in a row (no HEADERS or DATA between) before the connection counts as a flood */
const MAX_CONTROL_FRAMES = 10_000;

export interface SessionLimits {
  /** per-stream receive window we advertise (SETTINGS_INITIAL_WINDOW_SIZE) */
  streamWindow: number;
  /** connection receive window */
  connWindow: number;
  maxConcurrentStreams: number;
  maxHeaderListSize: number;
}

export const DEFAULT_LIMITS: SessionLimits = { streamWindow: 1 << 20, connWindow: 4 << 20, maxConcurrentStreams: 100, maxHeaderListSize: 16_384 };

/** What the owner of a stream hears. */
export interface StreamListener {
  /** a DATA payload; call stream.consumed(n) once n of its bytes are processed */
  onData(chunk: Uint8Array): void;
  /** the peer half-closed (END_STREAM) */
  onEnd(): void;
  /** the stream is gone without a clean end: RST_STREAM from the peer, or the connection closed */
  onReset(why: string): void;
}

export interface SessionHooks {
  /** a new stream's request headers; return its listener, or undefined after answering it yourself */
  onStream(stream: H2Stream, headers: Map<string, string>): StreamListener | undefined;
  /** the connection broke the protocol (for counting and logs); the session has already sent GOAWAY */
  onProtocolError?(reason: string): void;
  onClose?(): void;
}

export class H2Stream {
  listener: StreamListener | undefined;
  remoteClosed = false;
  localClosed = false;
  headersSent = false;
  /** receive window left for the peer */
  recvWindow: number;
  /** consumed bytes not yet credited back */
  private uncredited = 0;
  sendWindow: number;
  /** DATA payloads waiting for send window, and the trailers that follow them */
  private pending: Uint8Array[] = [];
  private pendingTrailers: Uint8Array | undefined;

  constructor(readonly session: H2Session, readonly id: number, recvWindow: number, sendWindow: number) {
    this.recvWindow = recvWindow;
    this.sendWindow = sendWindow;
  }

  get closed(): boolean {
    return this.localClosed && this.remoteClosed;
  }

  /** n bytes of received DATA are processed: credit them back (in bulk) */
  consumed(n: number): void {
    if (this.remoteClosed) return;
    this.uncredited += n;
    if (this.uncredited >= this.session.limits.streamWindow / 2) {
      this.session.windowUpdate(this.id, this.uncredited);
      this.recvWindow += this.uncredited;
      this.uncredited = 0;
    }
  }

  /** response headers (once) */
  respond(fields: [string, string][], endStream = false): void {
    if (this.localClosed || this.headersSent) return;
    this.headersSent = true;
    this.session.sendHeaders(this.id, encodeHeaders(fields), endStream);
    if (endStream) this.closeLocal();
  }

  /** DATA, split by the peer's frame size and held while the flow-control windows are shut */
  write(payload: Uint8Array): void {
    if (this.localClosed || this.pendingTrailers) return;
    this.pending.push(payload);
    this.flush();
  }

  /** trailers with END_STREAM, after any DATA still waiting for window */
  trailers(fields: [string, string][]): void {
    if (this.localClosed || this.pendingTrailers) return;
    this.pendingTrailers = encodeHeaders(fields);
    this.flush();
  }

  /** RST_STREAM, and forget the stream */
  reset(code: number): void {
    if (this.closed) return;
    this.localClosed = this.remoteClosed = true;
    this.pending = [];
    this.pendingTrailers = undefined;
    this.session.sendRst(this.id, code);
    this.session.resetByUs(this.id);
    this.session.forget(this);
  }

  /** send what the windows allow */
  flush(): void {
    const s = this.session;
    while (this.pending.length) {
      const p = this.pending[0];
      const n = Math.min(p.length, this.sendWindow, s.sendWindow, s.peerMaxFrame);
      if (n <= 0 && p.length > 0) return;
      s.sendData(this.id, n === p.length ? p : p.subarray(0, n), false);
      this.sendWindow -= n;
      s.sendWindow -= n;
      if (n === p.length) this.pending.shift();
      else this.pending[0] = p.subarray(n);
    }
    if (this.pendingTrailers) {
      const t = this.pendingTrailers;
      this.pendingTrailers = undefined;
      s.sendHeaders(this.id, t, true);
      this.closeLocal();
    }
  }

  get blocked(): boolean {
    return this.pending.length > 0 || this.pendingTrailers !== undefined;
  }

  private closeLocal(): void {
    this.localClosed = true;
    if (this.remoteClosed) this.session.forget(this);
  }

  /** the peer's END_STREAM */
  endRemote(): void {
    this.remoteClosed = true;
    if (this.localClosed) this.session.forget(this);
  }
}

const enum Phase {
  Preface,
  Frames,
  Closed,
}

export class H2Session {
  readonly streams = new Map<number, H2Stream>();
  sendWindow = DEFAULT_WINDOW;
  peerMaxFrame = 16_384;
  private peerInitialWindow = DEFAULT_WINDOW;
  private recvWindow: number;
  private uncredited = 0;
  private readonly hpack: HpackDecoder;
  private phase = Phase.Preface;
  private buf: Uint8Array = new Uint8Array(0);
  private lastPeerStream = 0;
  /** a header block in progress (HEADERS without END_HEADERS, then CONTINUATION) */
  private block: { stream: number; flags: number; parts: Uint8Array[]; bytes: number } | undefined;
  private goingAway = false;
  /** streams we reset lately: frames the client already had in flight for them are discarded (RFC 9113 5.1) */
  private readonly ourResets = new Set<number>();
  /** PING, SETTINGS and RST_STREAM frames since the last HEADERS or DATA (flood guard) */
  private controlFrames = 0;
  /** ms timestamps for the owner's idle and keepalive checks */
  lastReceived = Date.now();
  idleSince = Date.now();
  everHadStream = false;
  pingOutstandingSince = 0;

  constructor(readonly wire: Wire, readonly hooks: SessionHooks, readonly limits: SessionLimits = DEFAULT_LIMITS) {
    this.recvWindow = limits.connWindow;
    this.hpack = new HpackDecoder({ maxHeaderListSize: limits.maxHeaderListSize });
    // our SETTINGS go first, with the connection window raised past its 65,535 default
    const st = Buffer.alloc(18);
    st.writeUInt16BE(SETTINGS.MAX_CONCURRENT_STREAMS, 0);
    st.writeUInt32BE(limits.maxConcurrentStreams, 2);
    st.writeUInt16BE(SETTINGS.INITIAL_WINDOW_SIZE, 6);
    st.writeUInt32BE(limits.streamWindow, 8);
    st.writeUInt16BE(SETTINGS.MAX_HEADER_LIST_SIZE, 12);
    st.writeUInt32BE(limits.maxHeaderListSize, 14);
    this.frame(FrameType.SETTINGS, 0, 0, st);
    if (limits.connWindow > DEFAULT_WINDOW) this.windowUpdate(0, limits.connWindow - DEFAULT_WINDOW);
  }

  get closed(): boolean {
    return this.phase === Phase.Closed;
  }

  // ---- input ----

  onData(chunk: Uint8Array): void {
    if (this.phase === Phase.Closed) return;
    this.lastReceived = Date.now();
    this.pingOutstandingSince = 0;
    let b = chunk;
    if (this.buf.length) {
      const joined = new Uint8Array(this.buf.length + chunk.length);
      joined.set(this.buf, 0);
      joined.set(chunk, this.buf.length);
      b = joined;
    }
    let off = 0;
    if (this.phase === Phase.Preface) {
      const n = Math.min(b.length, PREFACE.length);
      for (let i = 0; i < n; i++) {
        if (b[i] !== PREFACE[i]) return this.fail(ErrorCode.PROTOCOL_ERROR, "the connection did not start with the HTTP/2 client preface");
      }
      if (b.length < PREFACE.length) {
        this.buf = b.slice();
        return;
      }
      off = PREFACE.length;
      this.phase = Phase.Frames;
    }
    while (this.phase === Phase.Frames && b.length - off >= 9) {
      const len = (b[off] << 16) | (b[off + 1] << 8) | b[off + 2];
      if (len > MAX_FRAME) return this.fail(ErrorCode.FRAME_SIZE_ERROR, `a frame of ${len} bytes is over the ${MAX_FRAME}-byte limit`);
      if (b.length - off < 9 + len) break;
      const type = b[off + 3], flags = b[off + 4];
      const id = ((b[off + 5] & 0x7f) << 24) | (b[off + 6] << 16) | (b[off + 7] << 8) | b[off + 8];
      const payload = b.subarray(off + 9, off + 9 + len);
      off += 9 + len;
      this.onFrame(type, flags, id, payload);
    }
    if ((this.phase as Phase) === Phase.Closed) return;
    // keep the unparsed tail as a copy: chunks are not held beyond their frame
    this.buf = off === b.length ? new Uint8Array(0) : b.slice(off);
  }

  private onFrame(type: number, flags: number, id: number, p: Uint8Array): void {
    if (this.block && (type !== FrameType.CONTINUATION || id !== this.block.stream)) {
      return this.fail(ErrorCode.PROTOCOL_ERROR, "a header block was interrupted by another frame");
    }
    if (type === FrameType.DATA || type === FrameType.HEADERS) this.controlFrames = 0;
    else if ((type === FrameType.PING || type === FrameType.SETTINGS || type === FrameType.RST_STREAM) && ++this.controlFrames > MAX_CONTROL_FRAMES) {
      return this.fail(ErrorCode.ENHANCE_YOUR_CALM, `over ${MAX_CONTROL_FRAMES} PING/SETTINGS/RST_STREAM frames without a request or data`);
    }
    switch (type) {
      case FrameType.DATA: return this.onDataFrame(flags, id, p);
      case FrameType.HEADERS: return this.onHeadersFrame(flags, id, p);
      case FrameType.CONTINUATION: return this.onContinuation(flags, id, p);
      case FrameType.PRIORITY:
        if (id === 0) return this.fail(ErrorCode.PROTOCOL_ERROR, "PRIORITY on stream 0");
        if (p.length !== 5) return this.streamError(id, ErrorCode.FRAME_SIZE_ERROR);
        return;
      case FrameType.RST_STREAM: return this.onRst(id, p);
      case FrameType.SETTINGS: return this.onSettings(flags, id, p);
      case FrameType.PUSH_PROMISE: return this.fail(ErrorCode.PROTOCOL_ERROR, "a client sent PUSH_PROMISE");
      case FrameType.PING: return this.onPing(flags, id, p);
      case FrameType.GOAWAY: return this.onGoaway(id, p);
      case FrameType.WINDOW_UPDATE: return this.onWindowUpdate(id, p);
      default: return; // unknown frame types are ignored (RFC 9113 4.1)
    }
  }

  private unpad(flags: number, p: Uint8Array, what: string): Uint8Array | undefined {
    if (!(flags & PADDED)) return p;
    if (p.length < 1 || p[0] >= p.length) {
      this.fail(ErrorCode.PROTOCOL_ERROR, `${what} padding is longer than the frame`);
      return undefined;
    }
    return p.subarray(1, p.length - p[0]);
  }

  private onDataFrame(flags: number, id: number, p: Uint8Array): void {
    if (id === 0) return this.fail(ErrorCode.PROTOCOL_ERROR, "DATA on stream 0");
    // flow control counts the whole frame, padding included
    this.recvWindow -= p.length;
    if (this.recvWindow < 0) return this.fail(ErrorCode.FLOW_CONTROL_ERROR, "the client sent more DATA than the connection window allows");
    this.creditConn(p.length);
    const s = this.streams.get(id);
    if (!s) {
      if (id > this.lastPeerStream) return this.fail(ErrorCode.PROTOCOL_ERROR, `DATA on stream ${id}, which was never opened`);
      return this.sendRst(id, ErrorCode.STREAM_CLOSED);
    }
    if (s.remoteClosed) return this.streamError(id, ErrorCode.STREAM_CLOSED);
    s.recvWindow -= p.length;
    if (s.recvWindow < 0) return this.streamError(id, ErrorCode.FLOW_CONTROL_ERROR);
    const data = this.unpad(flags, p, "DATA");
    if (!data) return;
    // padding is credited at once; the data when the stream's owner has processed it
    if (data.length < p.length) s.consumed(p.length - data.length);
    if (data.length) s.listener?.onData(data);
    if (flags & END_STREAM && this.streams.get(id) === s) {
      s.endRemote();
      s.listener?.onEnd();
    }
  }

  private onHeadersFrame(flags: number, id: number, p: Uint8Array): void {
    if (id === 0) return this.fail(ErrorCode.PROTOCOL_ERROR, "HEADERS on stream 0");
    let body = this.unpad(flags, p, "HEADERS");
    if (!body) return;
    if (flags & PRIORITY) {
      if (body.length < 5) return this.fail(ErrorCode.FRAME_SIZE_ERROR, "HEADERS too short for its priority fields");
      body = body.subarray(5);
    }
    this.block = { stream: id, flags, parts: [body], bytes: body.length };
    if (flags & END_HEADERS) this.endBlock();
  }

  private onContinuation(flags: number, id: number, p: Uint8Array): void {
    const blk = this.block;
    if (!blk) return this.fail(ErrorCode.PROTOCOL_ERROR, "CONTINUATION without a header block in progress");
    blk.parts.push(p);
    blk.bytes += 9 + p.length; // frame headers count: a flood of empty CONTINUATIONs is a known attack
    if (blk.bytes > this.limits.maxHeaderListSize * 2) return this.fail(ErrorCode.ENHANCE_YOUR_CALM, `a header block over ${this.limits.maxHeaderListSize * 2} bytes`);
    if (flags & END_HEADERS) this.endBlock();
  }

  private endBlock(): void {
    const blk = this.block!;
    this.block = undefined;
    const raw = blk.parts.length === 1 ? blk.parts[0] : Buffer.concat(blk.parts);
    let fields: [string, string][];
    try {
      fields = this.hpack.decode(raw);
    } catch (e) {
      if (e instanceof HpackError) return this.fail(ErrorCode.COMPRESSION_ERROR, e.message);
      throw e;
    }
    const id = blk.stream;
    const endStream = (blk.flags & END_STREAM) !== 0;
    if (this.ourResets.has(id)) return; // decoded (HPACK state) and discarded
    const existing = this.streams.get(id);
    if (existing) {
      // trailers: the only second header block a request may have, and it ends the stream
      if (existing.remoteClosed) return this.streamError(id, ErrorCode.STREAM_CLOSED);
      if (!endStream) return this.streamError(id, ErrorCode.PROTOCOL_ERROR);
      existing.endRemote();
      existing.listener?.onEnd();
      return;
    }
    if (id % 2 === 0 || id <= this.lastPeerStream) return this.fail(ErrorCode.PROTOCOL_ERROR, `HEADERS opening stream ${id} (client streams are odd and increasing)`);
    this.lastPeerStream = id;
    if (this.goingAway) return this.sendRst(id, ErrorCode.REFUSED_STREAM);
    if (this.streams.size >= this.limits.maxConcurrentStreams) return this.sendRst(id, ErrorCode.REFUSED_STREAM);
    const headers = new Map<string, string>();
    for (const [k, v] of fields) {
      if (k !== k.toLowerCase()) return this.streamError(id, ErrorCode.PROTOCOL_ERROR);
      const prev = headers.get(k);
      headers.set(k, prev === undefined ? v : `${prev},${v}`);
    }
    const s = new H2Stream(this, id, this.limits.streamWindow, this.peerInitialWindow);
    this.streams.set(id, s);
    this.everHadStream = true;
    if (endStream) s.remoteClosed = true;
    s.listener = this.hooks.onStream(s, headers);
    if (endStream && this.streams.get(id) === s) s.listener?.onEnd();
  }

  private onRst(id: number, p: Uint8Array): void {
    if (id === 0) return this.fail(ErrorCode.PROTOCOL_ERROR, "RST_STREAM on stream 0");
    if (p.length !== 4) return this.fail(ErrorCode.FRAME_SIZE_ERROR, "RST_STREAM is not 4 bytes");
    if (id > this.lastPeerStream) return this.fail(ErrorCode.PROTOCOL_ERROR, `RST_STREAM of stream ${id}, which was never opened`);
    const s = this.streams.get(id);
    if (!s) return;
    s.localClosed = s.remoteClosed = true;
    this.forget(s);
    const code = (p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
    s.listener?.onReset(`the client reset the stream (code ${code >>> 0})`);
  }

  private onSettings(flags: number, id: number, p: Uint8Array): void {
    if (id !== 0) return this.fail(ErrorCode.PROTOCOL_ERROR, "SETTINGS on a stream");
    if (flags & ACK) {
      if (p.length) return this.fail(ErrorCode.FRAME_SIZE_ERROR, "SETTINGS ACK with a payload");
      return;
    }
    if (p.length % 6) return this.fail(ErrorCode.FRAME_SIZE_ERROR, "SETTINGS payload is not a multiple of 6 bytes");
    for (let i = 0; i < p.length; i += 6) {
      const key = (p[i] << 8) | p[i + 1];
      const v = ((p[i + 2] << 24) | (p[i + 3] << 16) | (p[i + 4] << 8) | p[i + 5]) >>> 0;
      if (key === SETTINGS.ENABLE_PUSH && v > 1) return this.fail(ErrorCode.PROTOCOL_ERROR, "SETTINGS_ENABLE_PUSH is not 0 or 1");
      if (key === SETTINGS.INITIAL_WINDOW_SIZE) {
        if (v > MAX_WINDOW) return this.fail(ErrorCode.FLOW_CONTROL_ERROR, "SETTINGS_INITIAL_WINDOW_SIZE over 2^31-1");
        const delta = v - this.peerInitialWindow;
        this.peerInitialWindow = v;
        for (const s of this.streams.values()) {
          s.sendWindow += delta;
          if (s.sendWindow > MAX_WINDOW) return this.fail(ErrorCode.FLOW_CONTROL_ERROR, "a stream's send window went over 2^31-1");
        }
      }
      if (key === SETTINGS.MAX_FRAME_SIZE) {
        if (v < 16_384 || v > 16_777_215) return this.fail(ErrorCode.PROTOCOL_ERROR, `SETTINGS_MAX_FRAME_SIZE ${v} is out of range`);
        this.peerMaxFrame = v;
      }
    }
    this.frame(FrameType.SETTINGS, ACK, 0, EMPTY);
    for (const s of this.streams.values()) if (s.blocked) s.flush();
  }

  private onPing(flags: number, id: number, p: Uint8Array): void {
    if (id !== 0) return this.fail(ErrorCode.PROTOCOL_ERROR, "PING on a stream");
    if (p.length !== 8) return this.fail(ErrorCode.FRAME_SIZE_ERROR, "PING is not 8 bytes");
    if (flags & ACK) return;
    this.frame(FrameType.PING, ACK, 0, p.slice());
  }

  private onGoaway(id: number, p: Uint8Array): void {
    if (id !== 0) return this.fail(ErrorCode.PROTOCOL_ERROR, "GOAWAY on a stream");
    if (p.length < 8) return this.fail(ErrorCode.FRAME_SIZE_ERROR, "GOAWAY shorter than 8 bytes");
    this.goingAway = true;
    if (this.streams.size === 0) this.close();
  }

  private onWindowUpdate(id: number, p: Uint8Array): void {
    if (p.length !== 4) return this.fail(ErrorCode.FRAME_SIZE_ERROR, "WINDOW_UPDATE is not 4 bytes");
    const inc = ((p[0] & 0x7f) << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
    if (id === 0) {
      if (inc === 0) return this.fail(ErrorCode.PROTOCOL_ERROR, "WINDOW_UPDATE of 0 on the connection");
      this.sendWindow += inc;
      if (this.sendWindow > MAX_WINDOW) return this.fail(ErrorCode.FLOW_CONTROL_ERROR, "the connection send window went over 2^31-1");
      for (const s of this.streams.values()) if (s.blocked) s.flush();
      return;
    }
    const s = this.streams.get(id);
    if (!s) {
      if (id > this.lastPeerStream) return this.fail(ErrorCode.PROTOCOL_ERROR, `WINDOW_UPDATE for stream ${id}, which was never opened`);
      return;
    }
    if (inc === 0) return this.streamError(id, ErrorCode.PROTOCOL_ERROR);
    s.sendWindow += inc;
    if (s.sendWindow > MAX_WINDOW) return this.streamError(id, ErrorCode.FLOW_CONTROL_ERROR);
    if (s.blocked) s.flush();
  }

  private creditConn(n: number): void {
    this.uncredited += n;
    if (this.uncredited >= this.limits.connWindow / 2) {
      this.windowUpdate(0, this.uncredited);
      this.recvWindow += this.uncredited;
      this.uncredited = 0;
    }
  }

  private streamError(id: number, code: number): void {
    const s = this.streams.get(id);
    if (s) {
      s.reset(code);
      s.listener?.onReset(`stream error ${code}`);
    } else this.sendRst(id, code);
  }

  // ---- output ----

  private frame(type: number, flags: number, id: number, payload: Uint8Array): void {
    if (this.phase === Phase.Closed) return;
    const h = Buffer.allocUnsafe(9);
    h[0] = (payload.length >>> 16) & 0xff;
    h[1] = (payload.length >>> 8) & 0xff;
    h[2] = payload.length & 0xff;
    h[3] = type;
    h[4] = flags;
    h.writeUInt32BE(id, 5);
    this.wire.write(h);
    if (payload.length) this.wire.write(payload);
  }

  sendHeaders(id: number, block: Uint8Array, endStream: boolean): void {
    // our header blocks are small; split into CONTINUATION only if the peer's frame size demands
    const max = this.peerMaxFrame;
    if (block.length <= max) return this.frame(FrameType.HEADERS, END_HEADERS | (endStream ? END_STREAM : 0), id, block);
    this.frame(FrameType.HEADERS, endStream ? END_STREAM : 0, id, block.subarray(0, max));
    for (let o = max; o < block.length; o += max) {
      this.frame(FrameType.CONTINUATION, o + max >= block.length ? END_HEADERS : 0, id, block.subarray(o, o + max));
    }
  }

  sendData(id: number, payload: Uint8Array, endStream: boolean): void {
    this.frame(FrameType.DATA, endStream ? END_STREAM : 0, id, payload);
  }

  sendRst(id: number, code: number): void {
    const p = Buffer.allocUnsafe(4);
    p.writeUInt32BE(code, 0);
    this.frame(FrameType.RST_STREAM, 0, id, p);
  }

  windowUpdate(id: number, inc: number): void {
    const p = Buffer.allocUnsafe(4);
    p.writeUInt32BE(inc, 0);
    this.frame(FrameType.WINDOW_UPDATE, 0, id, p);
  }

  ping(): void {
    this.pingOutstandingSince = Date.now();
    this.frame(FrameType.PING, 0, 0, Buffer.alloc(8));
  }

  resetByUs(id: number): void {
    this.ourResets.add(id);
    if (this.ourResets.size > 256) this.ourResets.delete(this.ourResets.values().next().value!);
  }

  /** a stream is done both ways */
  forget(s: H2Stream): void {
    if (this.streams.get(s.id) !== s) return;
    this.streams.delete(s.id);
    if (this.streams.size === 0) {
      this.idleSince = Date.now();
      if (this.goingAway) this.close();
    }
  }

  /** GOAWAY with a code, then close; every open stream hears onReset */
  goaway(code: number, debug: string): void {
    if (this.phase === Phase.Closed) return;
    this.sendGoaway(code, debug);
    this.close(debug);
  }

  private sendGoaway(code: number, debug: string): void {
    const d = Buffer.from(debug.slice(0, 256));
    const p = Buffer.allocUnsafe(8 + d.length);
    p.writeUInt32BE(this.lastPeerStream, 0);
    p.writeUInt32BE(code, 4);
    d.copy(p, 8);
    this.frame(FrameType.GOAWAY, 0, 0, p);
  }

  /** GOAWAY(NO_ERROR): no new streams; the connection closes once the open ones end */
  drain(debug: string): void {
    if (this.phase === Phase.Closed || this.goingAway) return;
    this.goingAway = true;
    if (this.streams.size === 0) return this.goaway(ErrorCode.NO_ERROR, debug);
    this.sendGoaway(ErrorCode.NO_ERROR, debug);
    this.wire.flush();
  }

  private fail(code: number, reason: string): void {
    if (this.phase === Phase.Closed) return;
    this.hooks.onProtocolError?.(reason);
    this.goaway(code, reason);
  }

  /** end the connection (flushing what is queued) */
  close(why = "the connection closed"): void {
    if (this.phase === Phase.Closed) return;
    this.phase = Phase.Closed;
    this.wire.end();
    this.teardown(why);
  }

  /** the socket is gone */
  onClosed(): void {
    if (this.phase !== Phase.Closed) {
      this.phase = Phase.Closed;
      this.teardown("the connection closed");
    }
  }

  private teardown(why: string): void {
    const open = [...this.streams.values()];
    this.streams.clear();
    for (const s of open) {
      s.localClosed = s.remoteClosed = true;
      s.listener?.onReset(why);
    }
    this.hooks.onClose?.();
  }
}

const EMPTY = new Uint8Array(0);

// The AC's TLS listener for its lean HTTP/2 server: mutual TLS (the client certificate must
// chain to our CA), ALPN "h2" only, and a Wire per accepted connection that queues writes and
// flushes them in one socket write. Under Bun it is Bun.listen (native sockets: no stream
// objects per connection); under Node.js it is node:tls with the same behaviour, so the AC
// runs on either with the same code (issue 3's interop point).
import type { PeerCertificate } from "node:tls";

export interface Wire {
  /** peer address "ip:port" */
  readonly remote: string;
  /** queue bytes; they go out on the next flush (at the end of the current data callback or microtask) */
  write(b: Uint8Array): void;
  /** send what is queued now */
  flush(): void;
  /** flush, then close the write side (the peer sees EOF) and drop the connection */
  end(): void;
  /** drop the connection now, unsent bytes included */
  destroy(): void;
  peerCertificate(): PeerCertificate | undefined;
}

export interface Conn {
  onData(chunk: Uint8Array): void;
  /** the socket is gone (peer closed, error, destroy) */
  onClose(): void;
}

export interface TlsListenOptions {
  hostname: string;
  port: number;
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
  /** a connection that has not completed its TLS handshake by then is dropped (and reported);
   * on Bun in whole seconds, and its socket timer fires up to a few seconds late */
  handshakeTimeoutMs: number;
  /** a handshake or certificate check failed: the reason, as the TLS library words it */
  onTlsError(reason: string): void;
  /** a verified connection that negotiated h2 */
  accept(wire: Wire): Conn;
}

export interface TlsListener {
  readonly port: number;
  /** sockets open, handshaking ones included */
  sockets(): number;
  /** close the listening socket; open connections stay until their owners end them */
  stop(): void;
}

export async function listenTls(o: TlsListenOptions): Promise<TlsListener> {
  return typeof Bun !== "undefined" ? listenBun(o) : listenNode(o);
}

const ALPN_H2 = "h2";
const noAlpn = (got: unknown) => `the client did not negotiate HTTP/2 by ALPN (got ${got ? `"${got}"` : "none"}); gRPC needs h2`;

// ---- Bun.listen ----

interface BunState {
  /** the failure was reported already (terminate() after a timeout fires handshake(false) too) */
  reported?: boolean;
  conn?: Conn;
  wire?: BunWire;
}

class BunWire implements Wire {
  private out: Uint8Array[] = [];
  private outBytes = 0;
  /** bytes the kernel did not take; sent on drain before anything newer */
  private backlog: Uint8Array | undefined;
  private scheduled = false;
  private closing = false;
  closed = false;

  constructor(private readonly s: import("bun").Socket<BunState>, readonly remote: string) {}

  write(b: Uint8Array): void {
    if (this.closed || this.closing) return;
    this.out.push(b);
    this.outBytes += b.length;
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  flush(): void {
    this.scheduled = false;
    if (this.closed || this.outBytes === 0) return;
    const chunk = this.out.length === 1 ? this.out[0] : Buffer.concat(this.out, this.outBytes);
    this.out = [];
    this.outBytes = 0;
    if (this.backlog) {
      this.backlog = Buffer.concat([this.backlog, chunk]);
      if (this.backlog.length > BunWire.MAX_BACKLOG) this.destroy();
      return;
    }
    this.send(chunk);
  }

  private send(chunk: Uint8Array): void {
    const n = this.s.write(chunk);
    if (n < 0) return; // closed under us: close() follows
    if (n < chunk.length) this.backlog = chunk.subarray(n);
  }

  /** a peer that stops reading while we keep writing is dropped past this many unsent bytes */
  static readonly MAX_BACKLOG = 16 << 20;

  drain(): void {
    const b = this.backlog;
    if (!b) return;
    this.backlog = undefined;
    this.send(b);
    if (!this.backlog && this.closing) this.s.end();
  }

  end(): void {
    if (this.closed || this.closing) return;
    this.flush();
    this.closing = true;
    if (!this.backlog) this.s.end();
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.s.terminate();
  }

  peerCertificate(): PeerCertificate | undefined {
    try {
      return this.s.getPeerCertificate() ?? undefined;
    } catch {
      return undefined;
    }
  }
}

function listenBun(o: TlsListenOptions): TlsListener {
  let open = 0;
  const server = Bun.listen<BunState>({
    hostname: o.hostname,
    port: o.port,
    tls: { ca: o.ca, cert: o.cert, key: o.key, requestCert: true, rejectUnauthorized: true, ALPNProtocols: Buffer.from([2, 0x68, 0x32]) /* wire format: length-prefixed "h2" */ },
    socket: {
      open(s) {
        open++;
        s.data = {};
        s.timeout(Math.max(1, Math.ceil(o.handshakeTimeoutMs / 1000)));
      },
      timeout(s) {
        if (!s.data.conn) o.onTlsError(`no TLS handshake within ${o.handshakeTimeoutMs} ms`);
        s.data.reported = true;
        s.terminate();
      },
      handshake(s, success, authError) {
        if (!success || authError) {
          if (!s.data.reported) o.onTlsError(authError?.message ?? "TLS handshake failed");
          s.data.reported = true;
          s.terminate();
          return;
        }
        if (s.alpnProtocol !== ALPN_H2) {
          o.onTlsError(noAlpn(s.alpnProtocol));
          s.terminate();
          return;
        }
        s.timeout(0);
        s.setNoDelay(true);
        const wire = new BunWire(s, `${s.remoteAddress}:${s.remotePort}`);
        s.data.wire = wire;
        s.data.conn = o.accept(wire);
      },
      data(s, chunk) {
        const c = s.data.conn;
        if (!c) return;
        c.onData(chunk);
        s.data.wire?.flush();
      },
      drain(s) {
        s.data.wire?.drain();
      },
      close(s) {
        open--;
        if (s.data.wire) s.data.wire.closed = true;
        const c = s.data.conn;
        s.data.conn = undefined;
        c?.onClose();
      },
      error(s, err) {
        if (!s.data.conn && !s.data.reported) o.onTlsError(err?.message ?? String(err));
      },
    },
  });
  return { port: server.port, sockets: () => open, stop: () => server.stop(false) };
}

// ---- node:tls ----

async function listenNode(o: TlsListenOptions): Promise<TlsListener> {
  const tls = await import("node:tls");
  let open = 0;
  const server = tls.createServer({ ca: o.ca, cert: o.cert, key: o.key, requestCert: true, rejectUnauthorized: true, ALPNProtocols: [ALPN_H2], handshakeTimeout: o.handshakeTimeoutMs }, (s) => {
    if (s.alpnProtocol !== ALPN_H2) {
      o.onTlsError(noAlpn(s.alpnProtocol));
      s.destroy();
      return;
    }
    s.setNoDelay(true);
    open++;
    let out: Uint8Array[] = [];
    let scheduled = false;
    let closed = false;
    const wire: Wire = {
      remote: `${s.remoteAddress}:${s.remotePort}`,
      write(b) {
        if (closed) return;
        out.push(b);
        if (!scheduled) {
          scheduled = true;
          queueMicrotask(() => wire.flush());
        }
      },
      flush() {
        scheduled = false;
        if (closed || out.length === 0) return;
        const chunk = out.length === 1 ? out[0] : Buffer.concat(out);
        out = [];
        s.write(chunk);
      },
      end() {
        wire.flush();
        closed = true;
        s.end();
      },
      destroy() {
        closed = true;
        s.destroy();
      },
      peerCertificate: () => s.getPeerCertificate() ?? undefined,
    };
    const conn = o.accept(wire);
    s.on("data", (chunk: Buffer) => {
      conn.onData(chunk);
      wire.flush();
    });
    s.on("error", () => {});
    s.on("close", () => {
      open--;
      closed = true;
      conn.onClose();
    });
  });
  server.on("tlsClientError", (err: Error) => o.onTlsError(err.message));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.hostname, () => resolve());
  });
  const addr = server.address();
  return { port: typeof addr === "object" && addr ? addr.port : o.port, sockets: () => open, stop: () => void server.close() };
}

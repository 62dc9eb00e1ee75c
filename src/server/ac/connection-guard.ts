// Guards the AC's gRPC port against connections that cost without sending: counts failed TLS
// handshakes (no client certificate, another CA, expired, garbage; the handshake itself is
// bounded by handshakeTimeout) and destroys HTTP/2 sessions that open no stream within idleMs
// (grpc-js's max_connection_idle_ms does too, gracefully and uncounted). grpc-js keeps its http2 servers private (Server.http2Servers); attached
// reports whether the guard found them, so a grpc-js change shows in the start-up log.
import type { Server } from "@grpc/grpc-js";

interface Emitter {
  on(ev: string, f: (...a: any[]) => void): void;
  once(ev: string, f: (...a: any[]) => void): void;
}
interface Session extends Emitter {
  destroy(): void;
  destroyed?: boolean;
}

export interface GuardOptions {
  idleMs: number;
  onTlsError(reason: string): void;
  onSilentSession(): void;
}

export function guardConnections(server: Server, o: GuardOptions): { attached: boolean; stop(): void } {
  const servers = (server as unknown as { http2Servers?: Map<Emitter, unknown> }).http2Servers;
  if (!(servers instanceof Map) || servers.size === 0) return { attached: false, stop() {} };
  const timers = new Set<ReturnType<typeof setTimeout>>();
  for (const s of servers.keys()) {
    s.on("tlsClientError", (err: Error) => o.onTlsError(err?.message ?? String(err)));
    s.on("session", (session: Session) => {
      let streams = 0;
      session.on("stream", () => streams++);
      const t = setTimeout(() => {
        timers.delete(t);
        if (streams === 0) {
          o.onSilentSession();
          session.destroy();
        }
      }, o.idleMs);
      t.unref?.();
      timers.add(t);
      session.once("close", () => {
        clearTimeout(t);
        timers.delete(t);
      });
    });
  }
  return {
    attached: true,
    stop() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
  };
}

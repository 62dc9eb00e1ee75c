// Serves a hono app on Bun (Bun.serve) or on Node.js (@hono/node-server), so the HTTP roles
// run unchanged under both runtimes (the AC's Node interop test relies on it).
import type { Hono } from "hono";

export interface HttpServer {
  port: number;
  close(): Promise<void>;
}

export async function serveHttp(app: Hono<any>, opts: { port: number; hostname: string; maxBodyBytes?: number }): Promise<HttpServer> {
  if (typeof Bun !== "undefined") {
    const s = Bun.serve({ fetch: app.fetch, port: opts.port, hostname: opts.hostname, maxRequestBodySize: opts.maxBodyBytes ?? 16 << 20 });
    return { port: s.port ?? opts.port, close: async () => { await s.stop(true); } };
  }
  const { serve } = await import("@hono/node-server");
  return await new Promise<HttpServer>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: opts.port, hostname: opts.hostname }, (info) => {
      resolve({
        port: info.port,
        close: () => new Promise<void>((r) => { (s as any).closeAllConnections?.(); s.close(() => r()); }),
      });
    });
    s.once("error", reject);
  });
}

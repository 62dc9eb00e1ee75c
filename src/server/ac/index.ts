// The AC (agent center) role: grpc.Transfer + grpc.FileExt over mutual TLS for agents, an HTTP
// API for the Manager, Prometheus metrics, and registration with SD. Each batch goes to the
// sink and is acknowledged after it is durable; then it goes to onBatch (in process) and, when
// managerUrls are set, to the feed of a Manager elsewhere (manager-feed.ts). The sink belongs to
// the caller (stop() does not close it). Runs on Bun and on Node.js. gRPC is served by our own
// lean HTTP/2 server (h2/): on Bun, grpc-js's server cost 50-70 µs per message.
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { grpc } from "../../common/proto.ts";
import { TransferService, FileExtService } from "../../common/grpc-services.ts";
import { MAX_MESSAGE_BYTES } from "../../common/wire.ts";
import { serveHttp } from "../../common/http-serve.ts";
import type { Logger } from "../../common/log.ts";
import { accelStatus } from "../../common/accel.ts";
import type { BatchListener, Sink } from "../sink.ts";
import type { RoleHandle } from "../role.ts";
import { startGrpcServer, Status, type DecodeMemo, type GrpcMethod, type GrpcServer } from "./h2/grpc.ts";
import { AcMetrics, RejectReason } from "./metrics.ts";
import { Connections } from "./connections.ts";
import { transferHandler } from "./transfer.ts";
import { uploadHandler } from "./upload.ts";
import { createAcHttpApi } from "./http-api.ts";
import { startSdRegistration } from "./sd-register.ts";
import { scanPackagedData } from "./packaged.ts";
import { AckBatcher } from "./ack-batcher.ts";
import { startManagerFeed, type ManagerFeed } from "./manager-feed.ts";

export interface AcOptions {
  /** bind address for gRPC and HTTP ("127.0.0.1", "0.0.0.0", "::") */
  listen: string;
  /** 6751 by default; 0 = any free port */
  grpcPort: number;
  /** 6752 by default; 0 = any */
  httpPort: number;
  /** loadCerts(dir, "server") */
  certs: { ca: Buffer; cert: Buffer; key: Buffer };
  /** internal HMAC secret for the HTTP API */
  secret: string;
  sink: Sink;
  /** SD base URLs ("http://127.0.0.1:8088"); registered with every registerIntervalMs */
  sdUrls?: string[];
  /** IP registered with SD (default: listen, or 127.0.0.1 when listen is 0.0.0.0/::) */
  advertiseHost?: string;
  registerIntervalMs?: number;
  /** called after each durable write */
  onBatch?: BatchListener;
  /**
   * Manager base URLs ("http://10.0.0.5:6701") when the Manager runs in another process: after
   * each durable write its heartbeats and task results are forwarded to one of them
   */
  managerUrls?: string[];
  log: Logger;
  /** where FileExt uploads go; default <sink dir>/../uploads, else <tmp>/vigil-uploads */
  uploadDir?: string;
  /** largest accepted upload; default 1 GiB */
  uploadMaxBytes?: number;
  /** a stream that names no agent within this long is closed; default 30 s */
  firstMessageTimeoutMs?: number;
  /** a connection without any stream is closed after this long; default 60 s */
  idleTimeoutMs?: number;
  /** a TLS handshake must finish within this long; default 30 s (10 s dropped handshakes queued during a reconnect storm) */
  handshakeTimeoutMs?: number;
  /** per stream, pause reading while this many batches await the sink; default 64 */
  maxInflightBatches?: number;
  /**
   * acknowledge at most once per this many ms per stream (ack_seq is cumulative); 0 (default)
   * acks every batch as soon as it is durable. The server CLI uses DEFAULT_ACK_INTERVAL_MS.
   */
  ackIntervalMs?: number;
}

/**
 * What `vigil-server` uses for AcOptions.ackIntervalMs: one ack per agent every 2 s instead of
 * one per batch. Each ack is a TLS write on both ends (at 10,000 agents, half of the AC's
 * socket writes); the agent's window of 64 unacked batches is 6.4 s at its 100 ms batches.
 */
export const DEFAULT_ACK_INTERVAL_MS = 2000;

export interface AcHandle extends RoleHandle {
  grpcPort: number;
  httpPort: number;
  connections(): number;
  sendCommand(agentId: string, cmd: grpc.Command.$Properties): boolean;
  /** rejects so far by reason (the same numbers as /metrics) */
  rejects(): Record<string, number>;
  readonly metrics: AcMetrics;
}

const SHUTDOWN_GRACE_MS = 2_000;

function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

function defaultAdvertise(listen: string): string {
  return listen === "0.0.0.0" || listen === "::" || listen === "" ? "127.0.0.1" : listen;
}

/** Wrap a deserializer so protobuf that does not parse is counted. */
function counting<T>(deserialize: (b: Buffer, memo: DecodeMemo) => T, metrics: AcMetrics, log: Logger, what: string): (b: Buffer, memo: DecodeMemo) => T {
  return function deserializeCounted(b: Buffer, memo: DecodeMemo): T {
    try {
      return deserialize(b, memo);
    } catch (e) {
      metrics.reject(RejectReason.Malformed);
      log.warn("refused a message that is not valid protobuf", { message: what, bytes: b.length, error: e as Error });
      throw e;
    }
  };
}

export async function startAc(o: AcOptions): Promise<AcHandle> {
  const log = o.log;
  const metrics = new AcMetrics();
  metrics.startLoopProbe();
  const conns = new Connections();
  const observer = {
    onDecompressError: (encoding: string, reason: string) => {
      metrics.reject(RejectReason.Decompression);
      log.warn("refused a message that does not decompress", { encoding, reason });
    },
    onTruncated: () => {
      metrics.reject(RejectReason.Truncated);
      log.warn("refused a stream that ended in the middle of a message");
    },
    onOversized: () => {
      metrics.reject(RejectReason.Oversized);
      log.warn("refused a message over the size limit", { limit_bytes: MAX_MESSAGE_BYTES });
    },
  };

  const acks = new AckBatcher(o.ackIntervalMs ?? 0);
  // started once the gRPC port is known (its address goes along); no batch arrives before that
  let feed: ManagerFeed | undefined;
  const inProcess = o.onBatch;
  const onBatch: BatchListener | undefined = o.managerUrls?.length
    ? (b) => {
        feed?.add(b);
        inProcess?.(b);
      }
    : inProcess;
  const sinkDir = (o.sink as { dir?: unknown }).dir;
  const uploadDir = o.uploadDir ?? (typeof sinkDir === "string" ? join(dirname(sinkDir), "uploads") : join(tmpdir(), "vigil-uploads"));
  // PackagedData is scanned, not decoded: records stay bytes until the store writes them
  const methods: GrpcMethod[] = [
    {
      path: TransferService.Transfer.path, responseStream: true,
      decode: counting(scanPackagedData, metrics, log, "PackagedData"), encode: TransferService.Transfer.responseSerialize,
      handler: transferHandler({ sink: o.sink, conns, metrics, log, acks, onBatch, firstMessageTimeoutMs: o.firstMessageTimeoutMs ?? 30_000, maxInflightBatches: o.maxInflightBatches ?? 64 }),
    },
    {
      path: FileExtService.Upload.path, responseStream: false,
      decode: counting(FileExtService.Upload.requestDeserialize, metrics, log, "FileUploadRequest"), encode: FileExtService.Upload.responseSerialize,
      handler: uploadHandler({ dir: uploadDir, maxBytes: o.uploadMaxBytes ?? 1 << 30, metrics, log }),
    },
  ];

  const idleMs = o.idleTimeoutMs ?? 60_000;
  let server: GrpcServer;
  try {
    server = await startGrpcServer({
      hostname: o.listen, port: o.grpcPort, ca: o.certs.ca, cert: o.certs.cert, key: o.certs.key, methods, observer,
      maxMessageBytes: MAX_MESSAGE_BYTES, handshakeTimeoutMs: o.handshakeTimeoutMs ?? 30_000, idleMs, keepaliveMs: 60_000, keepaliveTimeoutMs: 20_000,
      onTlsError: (reason) => {
        metrics.tlsErrors.inc();
        metrics.reject(RejectReason.BadCert);
        log.debug("TLS handshake refused", { reason });
      },
      onSilentSession: () => {
        metrics.reject(RejectReason.IdleConnection);
        log.debug("closed a connection that opened no stream", { idle_ms: idleMs });
      },
      onProtocolError: (reason) => {
        metrics.reject(RejectReason.Protocol);
        log.warn("closed a connection that broke the HTTP/2 protocol", { reason });
      },
    });
  } catch (e) {
    throw new Error(`AC cannot listen for gRPC on ${hostPort(o.listen, o.grpcPort)}: ${(e as Error).message}`);
  }
  const grpcPort = server.port;

  const sendCommand = (agentId: string, cmd: grpc.Command.$Properties): boolean => {
    const c = conns.get(agentId);
    if (!c) return false;
    c.send(cmd);
    return true;
  };
  let http;
  try {
    http = await serveHttp(createAcHttpApi({ secret: o.secret, conns, metrics, sendCommand }), { port: o.httpPort, hostname: o.listen });
  } catch (e) {
    server.forceShutdown();
    throw new Error(`AC cannot listen for HTTP on ${hostPort(o.listen, o.httpPort)}: ${(e as Error).message}`);
  }
  if (o.managerUrls?.length) {
    feed = startManagerFeed({ urls: o.managerUrls, secret: o.secret, metrics, log: log.child("manager-feed"), acAddr: `${o.advertiseHost ?? defaultAdvertise(o.listen)}:${grpcPort}` });
  }
  const sd = o.sdUrls?.length
    ? startSdRegistration({ sdUrls: o.sdUrls, secret: o.secret, ip: o.advertiseHost ?? defaultAdvertise(o.listen), grpcPort, httpPort: http.port, intervalMs: o.registerIntervalMs ?? 30_000, weight: () => conns.size, metrics, log })
    : undefined;
  log.info("AC serving", { grpc: hostPort(o.listen, grpcPort), http: hostPort(o.listen, http.port), sink: o.sink.name, sd: o.sdUrls?.join(",") ?? "", manager: o.managerUrls?.join(",") ?? "", crc_snappy: accelStatus() });

  let stopping: Promise<void> | undefined;
  return {
    name: "ac",
    grpcPort,
    httpPort: http.port,
    metrics,
    connections: () => conns.size,
    sendCommand,
    rejects: () => metrics.rejectsByReason(),
    stop() {
      stopping ??= (async () => {
        await sd?.stop();
        acks.stop();
        for (const c of conns.all()) c.close(Status.UNAVAILABLE, "the AC is shutting down; reconnect");
        let t: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([server.shutdown(), new Promise<void>((resolve) => (t = setTimeout(resolve, SHUTDOWN_GRACE_MS)))]);
        clearTimeout(t);
        server.forceShutdown();
        await feed?.stop(); // no batch arrives any more: deliver what is queued
        metrics.stopLoopProbe();
        await http.close();
        log.info("AC stopped");
      })();
      return stopping;
    },
  };
}

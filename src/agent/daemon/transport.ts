// The agent's link to an AC: one mutual-TLS grpc.Transfer stream at a time. Sends spooled
// batches in seq order with a bounded window of unacknowledged ones, removes them from the spool
// when the AC acks (Command.ack_seq), replays from the last ack after every reconnect, and
// reconnects with exponential backoff and jitter, logging why each attempt failed.
import * as grpcjs from "@grpc/grpc-js";
import { checkServerIdentity, type PeerCertificate } from "node:tls";
import { isIP } from "node:net";
import { grpc } from "../../common/proto.ts";
import { MAX_MESSAGE_BYTES, Method } from "../../common/wire.ts";
import { discover, hostOf, type Endpoint } from "./discovery.ts";
import type { PemPair } from "../../common/tls.ts";
import type { Logger } from "../../common/log.ts";
import type { Spool } from "./spool.ts";
import type { Counters } from "./counters.ts";

export const DEFAULT_WINDOW = 64;
export const DEFAULT_WINDOW_BYTES = 32 << 20;
export const DEFAULT_BACKOFF_MIN_MS = 1000;
export const DEFAULT_BACKOFF_MAX_MS = 60_000;
/** A session that lasted this long counts as healthy: the backoff starts over. */
const HEALTHY_SESSION_MS = 30_000;

export interface TransportOptions {
  sd: readonly string[];
  ac: readonly string[];
  certs: PemPair;
  /** TLS name to expect in the AC's certificate when it differs from the address */
  serverName?: string;
  spool: Spool;
  counters: Counters;
  log: Logger;
  /** the header-only PackagedData (seq 0) that opens every stream: the first message names the agent */
  hello: () => Uint8Array;
  onCommand: (cmd: grpc.Command) => void;
  window?: number;
  windowBytes?: number;
  backoffMinMs?: number;
  backoffMaxMs?: number;
}

export interface UploadTarget {
  address: string;
  credentials: grpcjs.ChannelCredentials;
  options: grpcjs.ChannelOptions;
}

export interface TransportStats {
  connected: string;
  connects: number;
  txBytes: number;
  rxBytes: number;
  txBatches: number;
  rxCommands: number;
  inflight: number;
}

export interface TransportHandle {
  /** a batch was spooled: send it if the window allows */
  kick(): void;
  /** resolves true once every batch up to `seq` is acknowledged, false after `ms` */
  flushed(seq: number, ms: number): Promise<boolean>;
  /** where FileExt uploads go: the AC of the live stream, else the first candidate */
  uploadTarget(): UploadTarget | undefined;
  stats(): TransportStats;
  stop(): Promise<void>;
}

/** The channel options every agent connection uses. */
export function channelOptions(serverName?: string): grpcjs.ChannelOptions {
  return {
    "grpc.max_send_message_length": MAX_MESSAGE_BYTES,
    "grpc.max_receive_message_length": MAX_MESSAGE_BYTES,
    "grpc.keepalive_time_ms": 30_000,
    "grpc.keepalive_timeout_ms": 10_000,
    "grpc.enable_retries": 0,
    ...(serverName ? { "grpc.ssl_target_name_override": serverName, "grpc.default_authority": serverName } : {}),
  };
}

/**
 * The TLS name sent as SNI in place of an IP address: Bun's TLS refuses an IP as servername, so
 * an AC reached by IP gets this name on the wire while its certificate is still checked against
 * the IP (checkServerIdentity below).
 */
export const IP_SNI_PLACEHOLDER = "vigil-ac.invalid";

/** Credentials and channel options to reach `address`, verifying the AC's certificate for it. */
export function connectionFor(address: string, certs: PemPair, serverName?: string): { credentials: grpcjs.ChannelCredentials; options: grpcjs.ChannelOptions } {
  const host = hostOf(address);
  if (serverName || !isIP(host)) {
    return { credentials: grpcjs.credentials.createSsl(certs.ca, certs.key, certs.cert), options: channelOptions(serverName) };
  }
  const credentials = grpcjs.credentials.createSsl(certs.ca, certs.key, certs.cert, {
    checkServerIdentity: (_sni: string, cert: PeerCertificate) => checkServerIdentity(host, cert),
  });
  return { credentials, options: channelOptions(IP_SNI_PLACEHOLDER) };
}

/** A short human explanation of a failed stream, naming TLS refusals as such. */
export function explain(err: unknown): { code: string; reason: string } {
  const e = err as Partial<grpcjs.ServiceError>;
  const code = typeof e.code === "number" ? (grpcjs.status[e.code] ?? String(e.code)) : "ERROR";
  const details = String(e.details ?? e.message ?? err).replace(/\.? Resolution note: ?$/, "");
  let reason = details;
  if (/Last error: Failed to connect \(/.test(details)) {
    // grpc-js says no more when TCP connected but the TLS session was closed by the peer
    reason = `${details}: the AC closed the TLS session; it may refuse this agent's certificate (is agent.crt from the AC's CA, and still valid?)`;
  } else if (/certificate|cert_|self[- ]signed|unable to (get|verify)|x509|verify failed|CERT|alert|handshake|ssl|tls/i.test(details)) {
    reason = `TLS refused (certificate not accepted, check --certs and the AC's CA): ${details}`;
  }
  return { code, reason };
}

export function backoffDelay(attempt: number, minMs: number, maxMs: number, rand = Math.random): number {
  const cap = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
  return Math.round(cap / 2 + rand() * (cap / 2)); // "equal jitter": spreads a fleet's reconnections
}

const toBuffer = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

export function startTransport(o: TransportOptions): TransportHandle {
  const window = o.window ?? DEFAULT_WINDOW;
  const windowBytes = o.windowBytes ?? DEFAULT_WINDOW_BYTES;
  const minMs = o.backoffMinMs ?? DEFAULT_BACKOFF_MIN_MS;
  const maxMs = o.backoffMaxMs ?? DEFAULT_BACKOFF_MAX_MS;
  const st = { connected: "", connects: 0, txBytes: 0, rxBytes: 0, txBatches: 0, rxCommands: 0, inflight: 0 };
  let stopped = false;
  let lastCandidate: string | undefined;
  let pump: () => void = () => {};
  let endSession: () => void = () => {};
  let wake: () => void = () => {};
  const flushWaiters = new Set<{ seq: number; resolve: (ok: boolean) => void }>();

  const onAck = (seq: number) => {
    o.spool.ack(seq);
    for (const w of flushWaiters) if (o.spool.ackedSeq >= w.seq) { flushWaiters.delete(w); w.resolve(true); }
  };

  /** One stream to one AC; resolves when it ends, saying whether it was ever healthy. */
  const session = (ep: Endpoint): Promise<{ healthy: boolean }> => new Promise((resolve) => {
    const started = Date.now();
    const { credentials, options } = connectionFor(ep.address, o.certs, o.serverName);
    const client = new grpcjs.Client(ep.address, credentials, options);
    const call = client.makeBidiStreamRequest(Method.Transfer, (b: Buffer) => b, (b: Buffer) => {
      st.rxBytes += b.length;
      return grpc.Command.decode(b);
    });
    const sent: { seq: number; len: number }[] = [];
    let sentBytes = 0;
    let cursor = o.spool.ackedSeq;
    let blocked = false;
    let acked = false;
    let ready = false;
    let done = false;

    const finish = (err?: unknown) => {
      if (done) return;
      done = true;
      pump = () => {};
      endSession = () => {};
      st.connected = "";
      st.inflight = 0;
      const healthy = acked || Date.now() - started >= HEALTHY_SESSION_MS;
      if (!stopped) {
        const { code, reason } = explain(err ?? { code: grpcjs.status.UNAVAILABLE, details: "the AC ended the stream" });
        if (ready) {
          o.counters.inc("send_errors");
          o.log.warn("connection to AC lost", { address: ep.address, code, reason, unacked: sent.length });
        } else {
          o.counters.inc("connect_failures");
          o.log.warn("cannot connect to AC", { address: ep.address, via: ep.via, code, reason });
        }
      }
      try { call.cancel(); } catch {}
      client.close();
      resolve({ healthy });
    };

    const markReady = () => {
      if (ready || done) return;
      ready = true;
      st.connects++;
      st.connected = ep.address;
      o.log.info("connected to AC", { address: ep.address, via: ep.via, replaying: o.spool.depth });
    };

    const watch = () => { // "connected" once the TLS handshake is done (the channel is READY)
      if (done) return;
      const ch = client.getChannel();
      const now = ch.getConnectivityState(true);
      if (now === grpcjs.connectivityState.READY) return markReady();
      if (now !== grpcjs.connectivityState.SHUTDOWN) ch.watchConnectivityState(now, Date.now() + 3_600_000, watch);
    };
    watch();

    pump = () => {
      if (blocked || done) return;
      while (sent.length < window && sentBytes < windowBytes) {
        const [e] = o.spool.after(cursor, 1);
        if (!e) break;
        const data = o.spool.payload(e);
        if (!data) { // unreadable: counted by the spool as a read error and a drop
          o.spool.discard(e);
          continue;
        }
        cursor = e.seq;
        sent.push({ seq: e.seq, len: data.length });
        sentBytes += data.length;
        st.inflight = sent.length;
        st.txBytes += data.length;
        st.txBatches++;
        o.counters.inc("batches_sent");
        if (!call.write(toBuffer(data))) {
          blocked = true;
          call.once("drain", () => { blocked = false; pump(); });
          break;
        }
      }
    };
    endSession = () => finish();

    call.on("data", (cmd: grpc.Command) => {
      markReady();
      st.rxCommands++;
      const ack = Number(cmd.ackSeq ?? 0);
      if (ack > 0) {
        acked = true;
        let n = 0;
        while (sent.length > 0 && sent[0].seq <= ack) { sentBytes -= sent.shift()!.len; n++; }
        o.counters.inc("batches_acked", n);
        st.inflight = sent.length;
        if (ack > cursor) cursor = ack;
        onAck(ack);
      }
      if (cmd.task || (cmd.configs && cmd.configs.length > 0) || cmd.agentCtrl) {
        o.counters.inc("commands_received");
        try {
          o.onCommand(cmd);
        } catch (e) {
          o.log.error("command handler failed", { error: e as Error });
        }
      }
      pump();
    });
    call.on("error", (e) => finish(e));
    call.on("end", () => finish());
    call.write(toBuffer(o.hello()));
    pump();
  });

  const loop = async () => {
    let attempt = 0;
    while (!stopped) {
      const eps = await discover({ sd: o.sd, ac: o.ac, log: o.log, counters: o.counters });
      if (eps.length === 0) o.log.error("no AC address: SD returned none and no --ac is configured");
      for (const ep of eps) {
        if (stopped) break;
        lastCandidate = ep.address;
        const r = await session(ep);
        if (r.healthy) {
          attempt = 0;
          break; // ask SD again: the least-loaded AC may have changed
        }
      }
      if (stopped) break;
      const delay = backoffDelay(attempt++, minMs, maxMs);
      o.log.debug("reconnecting", { in_ms: delay });
      await new Promise<void>((r) => {
        const t = setTimeout(r, delay);
        wake = () => { clearTimeout(t); r(); };
      });
    }
  };
  const running = loop();

  return {
    kick: () => pump(),
    flushed(seq, ms) {
      if (o.spool.ackedSeq >= seq) return Promise.resolve(true);
      return new Promise((resolve) => {
        const w = { seq, resolve };
        flushWaiters.add(w);
        setTimeout(() => { if (flushWaiters.delete(w)) resolve(false); }, ms);
      });
    },
    uploadTarget() {
      const address = st.connected || lastCandidate;
      return address ? { address, ...connectionFor(address, o.certs, o.serverName) } : undefined;
    },
    stats: () => ({ ...st }),
    async stop() {
      stopped = true;
      endSession();
      wake();
      await running;
      for (const w of flushWaiters) w.resolve(false);
      flushWaiters.clear();
    },
  };
}

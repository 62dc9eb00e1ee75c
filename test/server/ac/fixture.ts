// Test fixture for the AC: a throw-away CA with server and agent certificates (plus a foreign
// CA and an expired agent certificate), an event store, a started AC, and a grpc-js agent client.
import * as grpcjs from "@grpc/grpc-js";
import { createCa, issueLeaf } from "../../../src/server/certs/issue.ts";
import { TransferService, FileExtService } from "../../../src/common/grpc-services.ts";
import { openEventStore, type EventStore } from "../../../src/server/store/index.ts";
import { startAc, type AcHandle, type AcOptions } from "../../../src/server/ac/index.ts";
import { encodePayload, type grpc } from "../../../src/common/proto.ts";
import { MAX_MESSAGE_BYTES } from "../../../src/common/wire.ts";
import { quietLog } from "../store/batches.ts";
import { join } from "node:path";

export interface CertSet {
  ca: Buffer;
  serverCert: Buffer;
  serverKey: Buffer;
  agentCert: Buffer;
  agentKey: Buffer;
  foreignCert: Buffer;
  foreignKey: Buffer;
  expiredCert: Buffer;
  expiredKey: Buffer;
}

let cached: Promise<CertSet> | undefined;
export function certs(): Promise<CertSet> {
  cached ??= (async () => {
    const ca = await createCa("Test CA");
    const foreignCa = await createCa("Foreign CA");
    const server = await issueLeaf(ca, { commonName: "localhost", hosts: ["localhost", "127.0.0.1", "::1"], usage: "server" });
    const agent = await issueLeaf(ca, { commonName: "agent-cert", usage: "client" });
    const foreign = await issueLeaf(foreignCa, { commonName: "intruder", usage: "client" });
    const expired = await issueLeaf(ca, { commonName: "old-agent", usage: "client", notBefore: new Date(Date.now() - 10 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) });
    const b = (s: string) => Buffer.from(s);
    return {
      ca: b(ca.certPem), serverCert: b(server.certPem), serverKey: b(server.keyPem),
      agentCert: b(agent.certPem), agentKey: b(agent.keyPem),
      foreignCert: b(foreign.certPem), foreignKey: b(foreign.keyPem),
      expiredCert: b(expired.certPem), expiredKey: b(expired.keyPem),
    };
  })();
  return cached;
}

export const SECRET = "test-secret-0123456789";

export interface AcFixture {
  ac: AcHandle;
  store: EventStore;
  certs: CertSet;
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function startFixture(dir: string, over: Partial<AcOptions> = {}): Promise<AcFixture> {
  const c = await certs();
  const store = await openEventStore({ dir: join(dir, "events"), retentionMs: 86_400_000, maxBytes: 1 << 30, log: quietLog });
  const ac = await startAc({
    listen: "127.0.0.1", grpcPort: 0, httpPort: 0, certs: { ca: c.ca, cert: c.serverCert, key: c.serverKey },
    secret: SECRET, sink: store, log: quietLog, ...over,
  });
  const stop = async () => {
    await ac.stop();
    await store.close();
  };
  return { ac, store, certs: c, stop, [Symbol.asyncDispose]: stop };
}

export const TransferClient = grpcjs.makeGenericClientConstructor(TransferService, "Transfer");
export const FileExtClient = grpcjs.makeGenericClientConstructor(FileExtService, "FileExt");

export type Compression = "identity" | "gzip" | "deflate";
const ALGO: Record<Compression, number> = { identity: 0, deflate: 1, gzip: 2 };

export function client(port: number, cred: { cert: Buffer; key: Buffer } | null, ca: Buffer, compression: Compression = "identity", Ctor = TransferClient): grpcjs.Client {
  const creds = cred ? grpcjs.credentials.createSsl(ca, cred.key, cred.cert) : grpcjs.credentials.createSsl(ca);
  return new Ctor(`127.0.0.1:${port}`, creds, {
    // Bun's tls refuses an IP address as SNI servername: name the server by its DNS SAN
    "grpc.ssl_target_name_override": "localhost",
    "grpc.default_compression_algorithm": ALGO[compression],
    "grpc.max_receive_message_length": MAX_MESSAGE_BYTES,
    "grpc.max_send_message_length": 64 << 20,
  });
}

export function packaged(o: { agentId?: string; seq?: number; n?: number; first?: number; dataType?: number; pad?: string } = {}): grpc.PackagedData.$Properties {
  const n = o.n ?? 2;
  return {
    agentId: o.agentId ?? "agent-1", hostname: "h1", version: "1.0.0", product: "vigil-agent", intranetIpv4: ["10.1.1.1"],
    seq: o.seq ?? 0,
    records: Array.from({ length: n }, (_, i) => ({ dataType: o.dataType ?? 59, timestamp: 1_700_000_000, data: encodePayload({ n: String((o.first ?? 0) + i), ...(o.pad ? { pad: o.pad } : {}) }) })),
  };
}

export interface Stream {
  call: grpcjs.ClientDuplexStream<grpc.PackagedData.$Properties, grpc.Command>;
  commands: grpc.Command[];
  acks: number[];
  status: Promise<grpcjs.StatusObject>;
  error?: grpcjs.ServiceError;
}

/** Open a Transfer stream and collect what the server sends. */
export function openStream(cl: grpcjs.Client): Stream {
  const call = (cl as any).Transfer() as Stream["call"];
  const s: Stream = { call, commands: [], acks: [], status: undefined as any };
  s.status = new Promise((resolve) => {
    call.on("status", resolve);
  });
  call.on("data", (cmd: grpc.Command) => {
    s.commands.push(cmd);
    if (cmd.ackSeq) s.acks.push(Number(cmd.ackSeq));
  });
  call.on("error", (e: grpcjs.ServiceError) => {
    s.error = e;
  });
  return s;
}

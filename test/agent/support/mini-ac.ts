// A minimal AC for the agent's tests: grpc.Transfer + grpc.FileExt over real mutual TLS. It
// records every PackagedData (decoded), acknowledges batches with seq > 0 (unless told not to),
// stores uploads and can push commands. Run as a script it appends each batch as a JSON line to
// --out (synchronously, then acks: "durable, then acknowledged") so a test can SIGKILL it.
import * as grpcjs from "@grpc/grpc-js";
import { appendFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { decodePayload, grpc } from "../../../src/common/proto.ts";
import { TransferService, FileExtService } from "../../../src/common/grpc-services.ts";
import { loadCerts } from "../../../src/common/tls.ts";
import { MAX_MESSAGE_BYTES } from "../../../src/common/wire.ts";

export interface ReceivedRecord {
  dataType: number;
  timestamp: number;
  fields: Record<string, string>;
}

export interface ReceivedBatch {
  seq: number;
  agentId: string;
  hostname: string;
  product: string;
  version: string;
  intranetIpv4: string[];
  records: ReceivedRecord[];
}

export interface MiniAcOptions {
  certsDir: string;
  /** server certificate and key to present instead of certsDir's (bad-certificate tests) */
  serverPem?: { cert: Buffer; key: Buffer };
  host?: string;
  port?: number;
  ack?: boolean;
  onBatch?: (b: ReceivedBatch) => void;
}

export interface MiniAc {
  port: number;
  address: string;
  batches: ReceivedBatch[];
  records(dataType?: number): ReceivedRecord[];
  uploads: Map<string, Buffer>;
  streams(): number;
  /** send to every open stream; returns how many got it */
  send(cmd: grpc.Command.$Properties): number;
  setAck(on: boolean): void;
  stop(): Promise<void>;
}

export function decodeBatch(pd: grpc.PackagedData): ReceivedBatch {
  return {
    seq: Number(pd.seq ?? 0), agentId: pd.agentId, hostname: pd.hostname, product: pd.product, version: pd.version,
    intranetIpv4: pd.intranetIpv4 ?? [],
    records: (pd.records ?? []).map((r) => ({ dataType: r.dataType ?? 0, timestamp: Number(r.timestamp ?? 0), fields: decodePayload(r.data ?? new Uint8Array()) })),
  };
}

export async function startMiniAc(o: MiniAcOptions): Promise<MiniAc> {
  const pem = loadCerts(o.certsDir, "server");
  const server = new grpcjs.Server({ "grpc.max_receive_message_length": MAX_MESSAGE_BYTES, "grpc.max_send_message_length": MAX_MESSAGE_BYTES });
  const batches: ReceivedBatch[] = [];
  const uploads = new Map<string, Buffer>();
  const calls = new Set<grpcjs.ServerDuplexStream<grpc.PackagedData, grpc.Command.$Properties>>();
  let ack = o.ack ?? true;
  server.addService(TransferService, {
    Transfer: (call: grpcjs.ServerDuplexStream<grpc.PackagedData, grpc.Command.$Properties>) => {
      calls.add(call);
      call.on("data", (pd: grpc.PackagedData) => {
        const b = decodeBatch(pd);
        if (b.seq > 0 || b.records.length > 0) batches.push(b);
        o.onBatch?.(b);
        if (ack && b.seq > 0) call.write({ ackSeq: b.seq });
      });
      const done = () => { calls.delete(call); };
      call.on("end", () => { done(); call.end(); });
      call.on("error", done);
      call.on("close", done);
    },
  });
  server.addService(FileExtService, {
    Upload: (call: grpcjs.ServerReadableStream<grpc.FileUploadRequest, grpc.FileUploadResponse>, cb: grpcjs.sendUnaryData<grpc.FileUploadResponse.$Properties>) => {
      const parts: Buffer[] = [];
      let token = "";
      call.on("data", (r: grpc.FileUploadRequest) => { token = r.token; parts.push(Buffer.from(r.data)); });
      call.on("end", () => { uploads.set(token, Buffer.concat(parts)); cb(null, { status: grpc.FileUploadResponse.StatusCode.SUCCESS }); });
      call.on("error", () => {});
    },
  });
  const host = o.host ?? "127.0.0.1";
  const creds = grpcjs.ServerCredentials.createSsl(pem.ca, [{ private_key: o.serverPem?.key ?? pem.key, cert_chain: o.serverPem?.cert ?? pem.cert }], true);
  const port = await new Promise<number>((res, rej) => server.bindAsync(`${host}:${o.port ?? 0}`, creds, (e, p) => (e ? rej(e) : res(p))));
  return {
    port, address: `${host}:${port}`, batches, uploads,
    records: (dt) => batches.flatMap((b) => b.records).filter((r) => dt === undefined || r.dataType === dt),
    streams: () => calls.size,
    send(cmd) {
      for (const c of calls) c.write(cmd);
      return calls.size;
    },
    setAck(on) { ack = on; },
    stop: () => new Promise<void>((r) => {
      for (const c of calls) c.end();
      server.tryShutdown(() => r());
      setTimeout(() => { server.forceShutdown(); r(); }, 1000);
    }),
  };
}

// Script mode: bun mini-ac.ts --certs DIR --port N --out FILE (prints "listening PORT")
if (import.meta.main) {
  const { values: v } = parseArgs({ options: { certs: { type: "string" }, port: { type: "string", default: "0" }, out: { type: "string" } } });
  const ac = await startMiniAc({
    certsDir: v.certs!, port: Number(v.port),
    onBatch: (b) => { if (b.seq > 0) appendFileSync(v.out!, JSON.stringify(b) + "\n"); },
  });
  process.stdout.write(`listening ${ac.port}\n`);
}

// Quick interop check of build/agent-sim: a grpc-js mutual-TLS Transfer server (gzip, none)
// and a raw node:http2 TLS server that decodes the snappy framing itself (grpc-js cannot),
// each acknowledging every batch and sending one "bench:" task. Exits non-zero on a mismatch.
// Usage: node_modules/.bin/bun scripts/bench/agent-sim/check.ts   (after go build)
//        AGENT_SIM_ARGS="-transport raw" ... to check another transport
import * as grpcjs from "@grpc/grpc-js";
import http2 from "node:http2";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { certsInit } from "../../../src/server/certs/init.ts";
import { TransferService } from "../../../src/common/grpc-services.ts";
import { grpc, decodePayload } from "../../../src/common/proto.ts";
import { decodeFramed } from "../../../src/common/snappy-framed.ts";

const root = join(import.meta.dir, "../../..");
const sim = join(root, "build/agent-sim");
const dir = mkdtempSync(join(tmpdir(), "agent-sim-check-"));
const AGENTS = 3;
const EXTRA = (process.env.AGENT_SIM_ARGS ?? "").split(" ").filter(Boolean);
let failures = 0;

function check(what: string, ok: boolean, detail: unknown): void {
  process.stdout.write(`${ok ? "ok  " : "FAIL"} ${what}${ok ? "" : ` (${JSON.stringify(detail)})`}\n`);
  if (!ok) failures++;
}

interface Seen { agents: Set<string>; records: number; firstDataTypes: number[]; seqFields: number; products: Set<string> }
const newSeen = (): Seen => ({ agents: new Set(), records: 0, firstDataTypes: [], seqFields: 0, products: new Set() });

function observe(seen: Seen, pd: grpc.PackagedData, first: boolean): void {
  seen.agents.add(pd.agentId);
  seen.products.add(pd.product);
  seen.records += pd.records.length;
  if (first) seen.firstDataTypes.push(pd.records[0]?.dataType ?? -1);
  for (const r of pd.records) if (decodePayload(r.data ?? new Uint8Array()).seq !== undefined) seen.seqFields++;
}

const benchCommand = () => ({ task: { dataType: 1050, objectName: "vigil-agent", token: `bench:${BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6))}` } }) as grpc.Command;

async function runSim(port: number, compress: string): Promise<any> {
  const p = Bun.spawn([sim, "-ac", `localhost:${port}`, "-ca", join(dir, "ca.crt"), "-cert", join(dir, "agent.crt"), "-key", join(dir, "agent.key"),
    "-agents", String(AGENTS), "-rate", "20", "-duration", "2s", "-compress", compress, "-seq", "-records-field-seq", "-id-prefix", `chk-${compress}`, ...EXTRA], { stdout: "pipe", stderr: "inherit" });
  const out = await new Response(p.stdout).text();
  await p.exited;
  return JSON.parse(out);
}

function verify(compress: string, r: any, seen: Seen): void {
  check(`${compress}: ${AGENTS} agents connected`, r.connected_peak === AGENTS && r.connect_errors === 0, r);
  check(`${compress}: every record reached the server`, r.records_sent > 0 && seen.records === r.records_sent, { sent: r.records_sent, seen: seen.records });
  check(`${compress}: every batch acked`, r.batches_acked === r.batches_sent && r.records_acked === r.records_sent, r);
  check(`${compress}: heartbeat first`, seen.firstDataTypes.length === AGENTS && seen.firstDataTypes.every((t) => t === 1000), seen.firstDataTypes);
  check(`${compress}: seq field in every non-heartbeat record`, seen.seqFields === r.records_sent - r.heartbeats_sent, { seqFields: seen.seqFields });
  check(`${compress}: commands received with latency`, r.commands_received === AGENTS && r.cmd_latency_ms.count === AGENTS && r.cmd_latency_ms.max < 5000, r.cmd_latency_ms);
  check(`${compress}: agent ids and product`, seen.agents.size === AGENTS && seen.products.has("vigil-agent"), [...seen.agents]);
}

await certsInit({ out: dir, serverHosts: ["localhost", "127.0.0.1"] });
const ca = readFileSync(join(dir, "ca.crt")), cert = readFileSync(join(dir, "server.crt")), key = readFileSync(join(dir, "server.key"));

// 1. grpc-js (gzip, none)
let seen = newSeen();
const server = new grpcjs.Server();
server.addService(TransferService, {
  Transfer(call: grpcjs.ServerDuplexStream<grpc.PackagedData, grpc.Command>) {
    let first = true;
    call.on("data", (pd: grpc.PackagedData) => {
      observe(seen, pd, first);
      if (first) call.write(benchCommand());
      first = false;
      call.write(({ ackSeq: pd.seq }) as grpc.Command);
    });
    call.on("end", () => call.end());
    call.on("error", () => {});
  },
});
const port = await new Promise<number>((res, rej) => server.bindAsync("127.0.0.1:0", grpcjs.ServerCredentials.createSsl(ca, [{ private_key: key, cert_chain: cert }], true), (e, p) => (e ? rej(e) : res(p))));
for (const compress of ["gzip", "none"]) {
  seen = newSeen();
  const r = await runSim(port, compress);
  verify(compress, r, seen);
}
server.forceShutdown();

// 2. snappy through a raw HTTP/2 server: gRPC framing and the snappy framing format by hand
seen = newSeen();
let snappyFlags = 0;
const h2 = http2.createSecureServer({ ca, cert, key, requestCert: true, rejectUnauthorized: true, allowHTTP1: false });
h2.on("stream", (stream: http2.ServerHttp2Stream, headers) => {
  const enc = String(headers["grpc-encoding"] ?? "");
  stream.respond({ ":status": 200, "content-type": "application/grpc+proto" }, { waitForTrailers: true });
  stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
  let buf = Buffer.alloc(0);
  let first = true;
  const send = (c: grpc.Command) => {
    const body = Buffer.from(grpc.Command.encode(c).finish());
    const hdr = Buffer.alloc(5);
    hdr.writeUInt32BE(body.length, 1);
    stream.write(Buffer.concat([hdr, body]));
  };
  stream.on("data", (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 5 && buf.length >= 5 + buf.readUInt32BE(1)) {
      const flag = buf[0], len = buf.readUInt32BE(1);
      let msg: Uint8Array = buf.subarray(5, 5 + len);
      buf = buf.subarray(5 + len);
      if (flag === 1) {
        if (enc !== "snappy") throw new Error(`compressed message with grpc-encoding ${enc}`);
        snappyFlags++;
        msg = decodeFramed(msg, 10 << 20);
      }
      const pd = grpc.PackagedData.decode(msg);
      observe(seen, pd, first);
      if (first) send(benchCommand());
      first = false;
      send(({ ackSeq: pd.seq }) as grpc.Command);
    }
  });
  stream.on("end", () => stream.end());
  stream.on("error", () => {});
});
await new Promise<void>((res) => h2.listen(0, "127.0.0.1", () => res()));
const r = await runSim((h2.address() as any).port, "snappy");
verify("snappy", r, seen);
check("snappy: messages carried the compressed flag and snappy framing", snappyFlags === r.batches_sent, { snappyFlags, batches: r.batches_sent });
// 3. a client certificate from another CA is refused by the same server
const other = join(dir, "other");
await certsInit({ out: other, serverHosts: ["localhost"] });
const bad = Bun.spawn([sim, "-ac", `localhost:${(h2.address() as any).port}`, "-ca", join(dir, "ca.crt"), "-cert", join(other, "agent.crt"), "-key", join(other, "agent.key"),
  "-duration", "2s", "-connect-timeout", "1s", "-seq", "-drain", "0s", ...EXTRA], { stdout: "pipe", stderr: "ignore" });
const badReport = JSON.parse(await new Response(bad.stdout).text());
check("foreign client certificate: refused, nothing acked", badReport.connect_errors + badReport.stream_errors > 0 && badReport.records_acked === 0, badReport);
h2.close();
rmSync(dir, { recursive: true, force: true });
process.stdout.write(`${failures === 0 ? "agent-sim check: all passed" : `agent-sim check: ${failures} failed`}\n`);
process.exit(failures === 0 ? 0 : 1);

// A bare grpc-js mTLS Transfer server for `scripts/bench/ac --baseline` (issue 3): what the
// framework alone costs under the same simulated agents, without the AC's logic. It keeps
// grpc-js (or, with BENCH_BASELINE_TRANSPORT=h2, the AC's own HTTP/2 stack), the snappy hook (the
// simulator sends snappy) and the PackagedData scan (for seq),
// acks at the AC's interval without any store (nothing is durable!), and serves just enough HTTP
// for the benchmark: GET /conn/count, GET /metrics (event-loop lag), POST /command/ (no auth).
// Takes the vigil-server flags the benchmark passes (--certs, --listen; the rest is ignored) and
// prints the same "vigil-server ready" JSON line on stderr.
import * as grpcjs from "@grpc/grpc-js";
import { parseArgs } from "node:util";
import { TransferService } from "../../src/common/grpc-services.ts";
import { loadCerts } from "../../src/common/tls.ts";
import { MAX_MESSAGE_BYTES } from "../../src/common/wire.ts";
import { installGrpcHooks } from "./grpc-js-snappy.ts";
import { scanPackagedData, type ScannedPackagedData } from "../../src/server/ac/packaged.ts";
import { AckBatcher } from "../../src/server/ac/ack-batcher.ts";
import { DEFAULT_ACK_INTERVAL_MS } from "../../src/server/ac/index.ts";
import type { grpc } from "../../src/common/proto.ts";
import { startGrpcServer, type ServerCall } from "../../src/server/ac/h2/grpc.ts";

const { values: o } = parseArgs({ args: process.argv.slice(2), options: { certs: { type: "string" }, listen: { type: "string", default: "127.0.0.1" } }, strict: false });
const certs = loadCerts(String(o.certs), "server");
/** BENCH_BASELINE_TRANSPORT=h2: the same bare server on the AC's own HTTP/2 stack (src/server/ac/h2) */
const transport = process.env.BENCH_BASELINE_TRANSPORT === "h2" ? "h2" : "grpc-js";
interface Call { write(c: grpc.Command.$Properties): void }
const streams = new Map<string, Call>();
const acks = new AckBatcher(DEFAULT_ACK_INTERVAL_MS);
/** The bare Transfer of either transport: name the stream, ack every seq (batched), no store. */
function bareTransfer(call: Call & { end(): void; on(ev: string, f: (...a: any[]) => void): unknown }): void {
  let id = "";
  let ended = false;
  const target = { sendAck: (seq: number) => { if (!ended) call.write({ ackSeq: seq }); } };
  call.on("data", (pd: ScannedPackagedData) => {
    if (!id && pd.agentId) streams.set((id = pd.agentId), call);
    if (pd.seq > 0) acks.durable(target, pd.seq);
  });
  const gone = () => { ended = true; acks.drop(target); if (streams.get(id) === call) streams.delete(id); };
  call.on("end", () => { acks.flush(target); gone(); call.end(); });
  call.on("cancelled", gone);
  call.on("error", () => {});
}
let stopServer = () => {};
let grpcPort: number;
if (transport === "h2") {
  const s = await startGrpcServer({
    hostname: String(o.listen), port: 0, ca: certs.ca, cert: certs.cert, key: certs.key, maxMessageBytes: MAX_MESSAGE_BYTES,
    handshakeTimeoutMs: 30_000, idleMs: 60_000, keepaliveMs: 60_000, keepaliveTimeoutMs: 20_000, onTlsError() {}, onSilentSession() {},
    methods: [{
      path: TransferService.Transfer.path, responseStream: true, decode: scanPackagedData, encode: TransferService.Transfer.responseSerialize,
      handler: (call: ServerCall) => bareTransfer(call),
    }],
  });
  grpcPort = s.port;
  stopServer = () => s.forceShutdown();
} else {
installGrpcHooks();
const server = new grpcjs.Server({ "grpc.max_receive_message_length": MAX_MESSAGE_BYTES, "grpc.keepalive_time_ms": 60_000 });
server.addService({ Transfer: { ...TransferService.Transfer, requestDeserialize: scanPackagedData } }, {
  Transfer: (call: grpcjs.ServerDuplexStream<ScannedPackagedData, grpc.Command.$Properties>) => bareTransfer(call),
});
grpcPort = await new Promise<number>((resolve, reject) =>
  server.bindAsync(`${o.listen}:0`, grpcjs.ServerCredentials.createSsl(certs.ca, [{ private_key: certs.key, cert_chain: certs.cert }], true), (e, p) => (e ? reject(e) : resolve(p))));
stopServer = () => server.forceShutdown();
}

let lagMax = 0;
let last = performance.now();
setInterval(() => { const now = performance.now(); lagMax = Math.max(lagMax, now - last - 100); last = now; }, 100);
const http = Bun.serve({
  hostname: String(o.listen), port: 0,
  async fetch(req) {
    const u = new URL(req.url);
    if (u.pathname === "/conn/count") return Response.json({ code: 0, msg: "success", data: streams.size });
    if (u.pathname === "/metrics") { const m = lagMax / 1000; lagMax = 0; return new Response(`vigil_ac_event_loop_lag_max_seconds ${m}\n`); }
    if (u.pathname.startsWith("/command")) {
      const b = (await req.json()) as { agent_id: string; command: { agent_ctrl: number; task?: { data_type: number; object_name: string; data: string; token: string } } };
      const call = streams.get(b.agent_id);
      if (!call) return Response.json({ code: 1, msg: "not connected" }, { status: 404 });
      const t = b.command.task;
      call.write({ agentCtrl: b.command.agent_ctrl, task: t ? { dataType: t.data_type, objectName: t.object_name, data: t.data, token: t.token } : undefined });
      return Response.json({ code: 0, msg: "success" });
    }
    return new Response("no route", { status: 404 });
  },
});
process.stderr.write(JSON.stringify({ msg: "vigil-server ready", roles: `baseline-${transport}`, sd_port: 0, ac_grpc_port: grpcPort, ac_http_port: http.port }) + "\n");
process.on("SIGTERM", () => { acks.stop(); stopServer(); http.stop(true); process.exit(0); });

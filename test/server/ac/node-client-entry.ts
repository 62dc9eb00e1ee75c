// Interop entry, bundled for Node.js by node-interop.test.ts: a grpc-js agent client that
// streams BATCHES batches with seq to an AC, collects acks and waits for one command.
// Args: PORT CERT_DIR AGENT_ID BATCHES. Prints a JSON summary on stdout.
import * as grpcjs from "@grpc/grpc-js";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { TransferService } from "../../../src/common/grpc-services.ts";
import { encodePayload } from "../../../src/common/proto.ts";

const [port, certDir, agentId, batchesArg] = process.argv.slice(2);
const batches = Number(batchesArg);
const Client = grpcjs.makeGenericClientConstructor(TransferService, "Transfer");
const cl = new Client(`127.0.0.1:${port}`, grpcjs.credentials.createSsl(readFileSync(join(certDir, "ca.crt")), readFileSync(join(certDir, "agent.key")), readFileSync(join(certDir, "agent.crt"))), { "grpc.ssl_target_name_override": "localhost", "grpc.default_compression_algorithm": 2 });
const call = (cl as any).Transfer();
const acks: number[] = [];
let command: unknown;
const deadline = setTimeout(() => finish("timeout"), 20_000);
function finish(result: string) {
  clearTimeout(deadline);
  process.stdout.write(JSON.stringify({ result, acks, command, runtime: `node ${process.version}` }) + "\n");
  call.end();
  cl.close();
  setTimeout(() => process.exit(0), 100);
}
call.on("data", (cmd: any) => {
  if (cmd.ackSeq) acks.push(Number(cmd.ackSeq));
  if (cmd.task) command = { token: cmd.task.token, dataType: cmd.task.dataType };
  if (acks.length === batches && command) finish("ok");
});
call.on("error", (e: Error) => finish(`error: ${e.message}`));
for (let i = 1; i <= batches; i++) {
  call.write({ agentId, hostname: "node-host", product: "vigil-agent", seq: i, records: [{ dataType: 59, timestamp: 1_700_000_000, data: encodePayload({ n: String(i) }) }] });
}

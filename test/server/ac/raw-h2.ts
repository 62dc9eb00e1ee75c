// A raw HTTP/2 gRPC client (node:http2) for tests that need bytes grpc-js would never send:
// snappy-framed messages, truncated or oversized frames, random protobuf.
import * as http2 from "node:http2";
import { grpc } from "../../../src/common/proto.ts";
import { Method } from "../../../src/common/wire.ts";

export function grpcFrame(msg: Uint8Array, compressed = false, declaredLength = msg.length): Buffer {
  const h = Buffer.alloc(5);
  h[0] = compressed ? 1 : 0;
  h.writeUInt32BE(declaredLength, 1);
  return Buffer.concat([h, msg]);
}

export interface RawCall {
  write(b: Uint8Array): void;
  end(): void;
  /** Commands decoded from the response */
  commands: grpc.Command[];
  /** resolves with grpc-status (number) and grpc-message once the server ends the call */
  done: Promise<{ status: number; message: string }>;
  close(): void;
}

export function rawCall(port: number, tls: { ca: Buffer; cert: Buffer; key: Buffer }, o: { encoding?: string; path?: string } = {}): RawCall {
  const session = http2.connect(`https://localhost:${port}`, { ca: tls.ca, cert: tls.cert, key: tls.key, servername: "localhost" });
  session.on("error", () => {});
  const headers: http2.OutgoingHttpHeaders = {
    ":method": "POST", ":path": o.path ?? Method.Transfer, "content-type": "application/grpc", te: "trailers",
  };
  if (o.encoding) headers["grpc-encoding"] = o.encoding;
  const req = session.request(headers);
  const commands: grpc.Command[] = [];
  let buf = Buffer.alloc(0);
  let finish!: (v: { status: number; message: string }) => void;
  // a trailers-only response carries grpc-status in its headers
  req.on("response", (h) => {
    if (h["grpc-status"] !== undefined) finish({ status: Number(h["grpc-status"]), message: decodeURIComponent(String(h["grpc-message"] ?? "")) });
  });
  req.on("data", (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 5 && buf.length >= 5 + buf.readUInt32BE(1)) {
      const n = buf.readUInt32BE(1);
      commands.push(grpc.Command.decode(buf.subarray(5, 5 + n)));
      buf = buf.subarray(5 + n);
    }
  });
  const done = new Promise<{ status: number; message: string }>((resolve) => {
    finish = resolve;
    req.on("trailers", (t) => resolve({ status: Number(t["grpc-status"]), message: decodeURIComponent(String(t["grpc-message"] ?? "")) }));
    req.on("close", () => resolve({ status: -1, message: "stream closed without a status" }));
    req.on("error", () => {});
  });
  return {
    write: (b) => req.write(b),
    end: () => req.end(),
    commands,
    done,
    close: () => {
      req.close();
      session.close();
      session.destroy();
    },
  };
}

// Task 1050: send a local file to the AC through grpc.FileExt/Upload, as a client stream of
// FileUploadRequest{token, data} chunks of buf_size bytes (DESIGN.md "Control").
import * as grpcjs from "@grpc/grpc-js";
import { open } from "node:fs/promises";
import { grpc } from "../../common/proto.ts";
import { Method } from "../../common/wire.ts";
import type { UploadTarget } from "./transport.ts";

export const DEFAULT_UPLOAD_CHUNK = 64 << 10;
export const MIN_UPLOAD_CHUNK = 1 << 10;
export const MAX_UPLOAD_CHUNK = 4 << 20;
const UPLOAD_DEADLINE_MS = 10 * 60_000;

/** Upload `path`; resolves with the bytes sent, rejects with a message naming what failed. */
export async function uploadFile(target: UploadTarget, token: string, path: string, bufSize = DEFAULT_UPLOAD_CHUNK): Promise<number> {
  if (!path.startsWith("/")) throw new Error(`path must be absolute, got "${path}"`);
  const chunk = Math.min(MAX_UPLOAD_CHUNK, Math.max(MIN_UPLOAD_CHUNK, Math.floor(bufSize) || DEFAULT_UPLOAD_CHUNK));
  const fh = await open(path, "r").catch((e: NodeJS.ErrnoException) => {
    throw new Error(`cannot open ${path}: ${e.code ?? e.message}`);
  });
  const client = new grpcjs.Client(target.address, target.credentials, target.options);
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new Error(`${path} is not a regular file`);
    let sent = 0;
    const result = new Promise<grpc.FileUploadResponse>((resolve, reject) => {
      const call = client.makeClientStreamRequest(
        Method.Upload,
        (m: grpc.FileUploadRequest.$Properties) => Buffer.from(grpc.FileUploadRequest.encode(m).finish()),
        (b: Buffer) => grpc.FileUploadResponse.decode(b),
        { deadline: Date.now() + UPLOAD_DEADLINE_MS },
        (err, res) => (err ? reject(new Error(`upload to ${target.address} failed: ${err.details || err.message}`)) : resolve(res!)),
      );
      (async () => {
        const buf = Buffer.allocUnsafe(chunk);
        for (;;) {
          const { bytesRead } = await fh.read(buf, 0, chunk, sent);
          if (bytesRead === 0) break;
          sent += bytesRead;
          if (!call.write({ token, data: Buffer.from(buf.subarray(0, bytesRead)) })) {
            await new Promise((r) => call.once("drain", r));
          }
        }
        if (sent === 0) call.write({ token, data: Buffer.alloc(0) }); // an empty file still names its token
        call.end();
      })().catch((e) => {
        call.cancel();
        reject(new Error(`reading ${path} failed: ${(e as Error).message}`));
      });
    });
    const res = await result;
    if (res.status !== grpc.FileUploadResponse.StatusCode.SUCCESS) throw new Error(`the AC refused the upload of ${path} (status FAILED)`);
    return sent;
  } finally {
    await fh.close();
    client.close();
  }
}

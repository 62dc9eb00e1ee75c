// grpc.FileExt/Upload: an agent streams a file for task 1050 as FileUploadRequest{token, data}
// chunks; the AC writes it to <uploadDir>/<token> (via a .part file renamed at the end) and
// answers SUCCESS, or FAILED for a bad token, a size over the limit or a write error.
import type { ServerCall } from "./h2/grpc.ts";
import { createWriteStream, mkdirSync, renameSync, unlinkSync, type WriteStream } from "node:fs";
import { join } from "node:path";
import { grpc } from "../../common/proto.ts";
import type { Logger } from "../../common/log.ts";
import { type AcMetrics, RejectReason } from "./metrics.ts";

const TOKEN_RE = /^[A-Za-z0-9_.-]{1,128}$/;

export interface UploadContext {
  dir: string;
  maxBytes: number;
  metrics: AcMetrics;
  log: Logger;
}

export function uploadHandler(ctx: UploadContext) {
  return function upload(call: ServerCall): void {
    const cb = (_err: null, res: grpc.FileUploadResponse.$Properties) => {
      call.write(res);
      call.end();
    };
    let token: string | undefined;
    let out: WriteStream | undefined;
    let part = "";
    let size = 0;
    let failed = false;
    const fail = (why: string) => {
      if (failed) return;
      failed = true;
      ctx.metrics.uploads.inc({ result: "failed" });
      ctx.metrics.reject(RejectReason.BadUpload);
      ctx.log.warn("upload refused", { token, peer: call.peer, reason: why });
      out?.destroy();
      if (part) try { unlinkSync(part); } catch {}
      cb(null, { status: grpc.FileUploadResponse.StatusCode.FAILED });
    };
    call.on("data", (req: grpc.FileUploadRequest) => {
      if (failed) return;
      if (token === undefined) {
        if (!TOKEN_RE.test(req.token) || req.token === "." || req.token === "..") return fail(`bad token "${req.token.slice(0, 64)}"`);
        token = req.token;
        mkdirSync(ctx.dir, { recursive: true });
        part = join(ctx.dir, `${token}.part`);
        out = createWriteStream(part);
        out.on("error", (e) => fail(`write failed: ${e.message}`));
      } else if (req.token && req.token !== token) return fail("token changed within one upload");
      size += req.data.length;
      if (size > ctx.maxBytes) return fail(`upload exceeds ${ctx.maxBytes} bytes`);
      if (req.data.length && !out!.write(req.data)) {
        call.pause();
        out!.once("drain", () => call.resume());
      }
    });
    call.on("end", () => {
      if (failed) return;
      if (!out || token === undefined) return fail("empty upload");
      const t = token;
      out.end(() => {
        if (failed) return;
        try {
          renameSync(part, join(ctx.dir, t));
        } catch (e) {
          return fail(`rename failed: ${(e as Error).message}`);
        }
        ctx.metrics.uploads.inc({ result: "success" });
        ctx.log.info("upload stored", { token: t, bytes: size, file: join(ctx.dir, t) });
        cb(null, { status: grpc.FileUploadResponse.StatusCode.SUCCESS });
      });
    });
    call.on("cancelled", () => {
      if (!failed && out) {
        failed = true;
        out.destroy();
        try { unlinkSync(part); } catch {}
      }
    });
  };
}

// For the benchmark's --baseline only (a bare grpc-js server; the AC itself serves gRPC with
// src/server/ac/h2/). Deliberate extension of @grpc/grpc-js's server (1.14): it decompresses only identity,
// deflate and gzip, and has no public hook for another codec, but Elkeid agents send
// grpc-encoding "snappy" (snappy framing format). We wrap
// BaseServerInterceptingCall.prototype.decompressMessage (build/src/server-interceptors.js) to
// decode "snappy" with decodeFramed and delegate every other encoding, and wrap sendStatus to
// observe the statuses grpc-js sends on its own (RESOURCE_EXHAUSTED for oversized messages).
// Observers are found per server through the handler's deserialize function, so several ACs in
// one process count separately. verifyGrpcHooks() fails start-up loudly if the internals moved.
import { status } from "@grpc/grpc-js";
// @ts-ignore internal module of grpc-js (no "exports" map, so the path resolves on Bun and Node)
import * as interceptors from "@grpc/grpc-js/build/src/server-interceptors.js";
import { decodeFramed, encodeFramed } from "../../src/common/snappy-framed.ts";

export const SNAPPY = "snappy";

export interface CallObserver {
  /** a message could not be decompressed (encoding, reason) */
  onDecompressError(encoding: string, reason: string): void;
  /** grpc-js refused a message over the size limit */
  onOversized(): void;
  /** the client half-closed in the middle of a length-prefixed message */
  onTruncated(): void;
}

/** ReadState.NO_DATA of grpc-js's build/src/stream-decoder.js: no message half-read */
const STREAM_DECODER_NO_DATA = 0;
const observers = new WeakMap<object, CallObserver>();
const HOOKED = Symbol.for("vigil.grpc-js.snappy-hook");

/** Route the hook's reports for calls whose handler uses this deserialize function. */
export function observeCalls(deserialize: object, obs: CallObserver): void {
  observers.set(deserialize, obs);
}

interface CallLike {
  handler?: { deserialize?: object };
  maxReceiveMessageSize: number;
}

function observerOf(call: CallLike): CallObserver | undefined {
  const d = call.handler?.deserialize;
  return d ? observers.get(d) : undefined;
}

function internals(): { proto: any; version: string } {
  const proto = (interceptors as any).BaseServerInterceptingCall?.prototype;
  const version = "1.14";
  if (!proto || typeof proto.decompressMessage !== "function" || typeof proto.sendStatus !== "function" || typeof proto.decompressAndMaybePush !== "function" || typeof proto.handleEndEvent !== "function") {
    throw new Error(`@grpc/grpc-js internals changed: BaseServerInterceptingCall.prototype.decompressMessage/sendStatus not found; update src/server/ac/grpc-hooks.ts (written for grpc-js ${version})`);
  }
  if (!String(proto.decompressAndMaybePush).includes("this.decompressMessage(")) {
    throw new Error("@grpc/grpc-js internals changed: decompressAndMaybePush no longer calls decompressMessage; update src/server/ac/grpc-hooks.ts");
  }
  return { proto, version };
}

/** Install the hooks once per process (idempotent). */
export function installGrpcHooks(): void {
  const { proto } = internals();
  if (proto[HOOKED]) return;
  const origDecompress = proto.decompressMessage;
  proto.decompressMessage = function (this: CallLike, message: Buffer, encoding: string): Buffer | Promise<Buffer> {
    if (encoding === SNAPPY) {
      const max = this.maxReceiveMessageSize === -1 ? Infinity : this.maxReceiveMessageSize;
      try {
        return decodeFramed(message.subarray(5), max);
      } catch (e) {
        const reason = (e as Error).message;
        if (/exceeds \d+ bytes/.test(reason)) {
          // counted as oversized by the sendStatus hook
          return Promise.reject({ code: status.RESOURCE_EXHAUSTED, details: `Received message that decompresses to a size larger than ${max}` });
        }
        observerOf(this)?.onDecompressError(SNAPPY, reason);
        return Promise.reject({ code: status.INTERNAL, details: `Failed to decompress message: ${reason}` });
      }
    }
    const r = origDecompress.call(this, message, encoding);
    if (r && typeof r.then === "function") {
      return (r as Promise<Buffer>).catch((err: { code?: number; details?: string }) => {
        if (err?.code !== status.RESOURCE_EXHAUSTED) observerOf(this)?.onDecompressError(encoding, err?.details ?? String(err));
        throw err;
      });
    }
    return r;
  };
  const origSendStatus = proto.sendStatus;
  proto.sendStatus = function (this: CallLike & { vigilStatusSeen?: boolean }, st: { code: number }) {
    // oversized messages (on the wire or once decompressed) are refused inside grpc-js
    if (st?.code === status.RESOURCE_EXHAUSTED && !this.vigilStatusSeen) {
      this.vigilStatusSeen = true;
      observerOf(this)?.onOversized();
    }
    return origSendStatus.call(this, st);
  };
  const origEnd = proto.handleEndEvent;
  // grpc-js drops a partial message at end of stream silently; refuse and count it instead
  proto.handleEndEvent = function (this: CallLike & { decoder?: { readState?: number }; sendStatus(s: unknown): void }) {
    const state = this.decoder?.readState;
    if (typeof state === "number" && state !== STREAM_DECODER_NO_DATA) {
      observerOf(this)?.onTruncated();
      this.sendStatus({ code: status.INTERNAL, details: "stream ended in the middle of a message (truncated frame)" });
      return;
    }
    return origEnd.call(this);
  };
  proto[HOOKED] = true;
  verifyGrpcHooks();
}

/** Prove the hook is live: decode a snappy-framed message through the patched prototype. */
export function verifyGrpcHooks(): void {
  const { proto } = internals();
  const framed = encodeFramed(Buffer.from("vigil"));
  const msg = Buffer.concat([Buffer.from([1, 0, 0, 0, 0]), framed]);
  msg.writeUInt32BE(framed.length, 1);
  let out: unknown;
  try {
    out = proto.decompressMessage.call({ maxReceiveMessageSize: 1024 }, msg, SNAPPY);
  } catch (e) {
    out = e;
  }
  if (!Buffer.isBuffer(out) || out.toString() !== "vigil") {
    throw new Error("the grpc-js snappy hook is not in place (decompressMessage did not decode a snappy frame); see src/server/ac/grpc-hooks.ts");
  }
}

// Native fast paths for CRC-32C and snappy block decoding, and a few-threaded native loop for
// the agent's detach (src/common/native/accel.c, built by
// scripts/build into build/lib and embedded), through bun:ffi. On the AC they take ~7 µs off
// each ~3 KB Elkeid batch (CRC twice and one block). crc32c.ts and snappy-block.ts call them
// and keep their JavaScript versions as the fallback, used when this returns null: under
// Node.js (no bun:ffi), with VIGIL_NO_NATIVE=1, or when the library cannot be loaded (the
// reason is in accelStatus()). Both give the same results (test/common/crc32c.test.ts,
// test/common/snappy-block.test.ts).
import accelPath from "../../build/lib/libvigil-accel.so" with { type: "file" };
import { memfdLibrary, type Ffi } from "./native-lib.ts";

export interface Accel {
  /** CRC-32C of b continuing prev (crc32c.ts's crc32c(b, prev)); b must not be empty */
  crc32c(prev: number, b: Uint8Array, n: number): number;
  /** decode the tagged elements src[start, n) (a block after its preamble, not empty) into all
   * of dst; returns dst.length or a negative SnappyCode */
  snappyBlock(src: Uint8Array, start: number, n: number, dst: Uint8Array, len: number): number;
  /** fn(items[i]) for each of the n pointers at items (a BigUint64Array's address), from up to
   * `threads` native threads, the caller's among them; fn is a native function's address
   * (bun:ffi's symbol.ptr) taking one pointer-sized argument. Returns when every call has
   * returned, with the number of threads used. */
  eachParallel(fn: number, items: Uint8Array | BigUint64Array, n: number, threads: number): number;
}

/** vigil_snappy_block's error codes */
export const SnappyCode: Record<number, string> = {
  [-1]: "truncated literal length",
  [-2]: "literal runs past the input or the output",
  [-3]: "truncated copy",
  [-4]: "copy offset is outside the output so far",
  [-5]: "copy runs past the stated length",
  [-6]: "block decodes to fewer bytes than its preamble says",
};

let loaded: Accel | null | undefined;
let status = "not loaded yet";

function load(): Accel | null {
  if (!process.versions.bun) {
    status = "JavaScript: not running on Bun (no bun:ffi)";
    return null;
  }
  if (process.env.VIGIL_NO_NATIVE === "1") {
    status = "JavaScript: VIGIL_NO_NATIVE=1";
    return null;
  }
  try {
    // required here, not imported: this module is also bundled for Node.js
    const ffi = require("bun:ffi") as Ffi;
    const lib = ffi.dlopen(memfdLibrary(ffi, accelPath, "vigil-accel.so"), {
      vigil_crc32c: { args: ["u32", "ptr", "u32"], returns: "u32" },
      vigil_snappy_block: { args: ["ptr", "u32", "u32", "ptr", "u32"], returns: "i32" },
      vigil_each_parallel: { args: ["ptr", "ptr", "i32", "i32"], returns: "i32" },
    }).symbols;
    status = "native (libvigil-accel)";
    return {
      crc32c: lib.vigil_crc32c as unknown as Accel["crc32c"],
      snappyBlock: lib.vigil_snappy_block as unknown as Accel["snappyBlock"],
      eachParallel: lib.vigil_each_parallel as unknown as Accel["eachParallel"],
    };
  } catch (e) {
    status = `JavaScript: the native library did not load (${(e as Error).message})`;
    return null;
  }
}

/** The native functions, or null when the JavaScript versions are in use. */
export function accel(): Accel | null {
  if (loaded === undefined) loaded = load();
  return loaded;
}

/** Which implementation is in use, and why (for logs and metrics). */
export function accelStatus(): string {
  accel();
  return status;
}

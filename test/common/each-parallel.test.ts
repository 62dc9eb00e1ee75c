// accel().eachParallel: every item gets exactly one call, and the calls really run side by side
// (the agent's detach relies on it to overlap the kernel's grace-period waits).
import { test, expect } from "bun:test";
import { dlopen, ptr, type Pointer } from "bun:ffi";
import { closeSync, fstatSync, openSync } from "node:fs";
import { join } from "node:path";
import { accel } from "../../src/common/accel.ts";

const libc = dlopen("libc.so.6", {
  close: { args: ["i32"], returns: "i32" },
  sem_init: { args: ["ptr", "i32", "u32"], returns: "i32" },
  sem_post: { args: ["ptr"], returns: "i32" },
  sem_getvalue: { args: ["ptr", "ptr"], returns: "i32" },
}).symbols;
const fnPtr = (f: unknown) => (f as { ptr: number }).ptr;
const closePtr = fnPtr(libc.close);

const isOpen = (fd: number) => { try { fstatSync(fd); return true; } catch { return false; } };

test("calls fn exactly once per item, from 1, 2 and 16 threads", () => {
  const native = accel();
  expect(native).not.toBeNull();
  // sem_post on 500 semaphores: afterwards each one's value is the number of calls it got
  const SEM_WORDS = 4; // sem_t is 32 bytes on x86-64 glibc
  for (const threads of [1, 2, 16]) {
    const sems = new BigUint64Array(500 * SEM_WORDS);
    const base = BigInt(ptr(sems));
    const items = new BigUint64Array(500).map((_, i) => base + BigInt(i * SEM_WORDS * 8));
    for (const at of items) expect(libc.sem_init(Number(at) as unknown as Pointer, 0, 0)).toBe(0);
    expect(native!.eachParallel(fnPtr(libc.sem_post), items, items.length, threads)).toBe(threads);
    const value = new Int32Array(1);
    const counts = Array.from(items, (at) => {
      libc.sem_getvalue(Number(at) as unknown as Pointer, ptr(value));
      return value[0];
    });
    expect(counts.filter((c) => c !== 1)).toEqual([]);
  }
});

test("threads are capped by the item count and at 16; no items, no call", () => {
  const native = accel()!;
  const fds = [openSync("/dev/null", "r"), openSync("/dev/null", "r")];
  expect(native.eachParallel(closePtr, new BigUint64Array(fds.map(BigInt)), 2, 8)).toBe(2);
  expect(fds.filter(isOpen)).toEqual([]);
  const many = Array.from({ length: 40 }, () => openSync("/dev/null", "r"));
  expect(native.eachParallel(closePtr, new BigUint64Array(many.map(BigInt)), many.length, 64)).toBe(16);
  expect(many.filter(isOpen)).toEqual([]);
  const keep = openSync("/dev/null", "r");
  expect(native.eachParallel(closePtr, new BigUint64Array([BigInt(keep)]), 0, 4)).toBe(1);
  expect(isOpen(keep)).toBe(true);
  closeSync(keep);
});

test("the calls overlap: two calls that each wait for the other both return", async () => {
  // pthread_barrier_wait on one barrier for 2: it returns only once both calls are inside it,
  // so a sequential loop would hang. Run in a child so that a hang is a failed test, not a
  // stuck suite.
  const child = Bun.spawn([process.execPath, join(import.meta.dir, "../fixtures/each-parallel-barrier.ts")], {
    stdout: "pipe", stderr: "pipe",
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  const code = await child.exited;
  clearTimeout(timer);
  const out = await new Response(child.stdout).text();
  expect({ code, out: out.trim() }).toEqual({ code: 0, out: "both returned" });
}, 30_000);


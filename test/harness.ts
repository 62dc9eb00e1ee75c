// Shared test harness: capability flags so privileged suites say what they need instead of
// failing mysteriously, disposable temp dirs, and helpers to collect events from a live
// collector.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const root = join(import.meta.dir, "..");
export const isRoot = process.getuid?.() === 0;
export const hasBtf = existsSync("/sys/kernel/btf/vmlinux");
export const bpfObject = join(root, "build/bpf/vigil.bpf.o");
export const hasBpfObject = existsSync(bpfObject);
/** Real BPF suites need root, BTF and a built object (scripts/build). */
export const canLoadBpf = isRoot && hasBtf && hasBpfObject;
export const agentBinary = join(root, "dist/vigil-agent");
export const hasAgentBinary = existsSync(agentBinary);
export const bun = process.execPath;

export function tempDir(prefix = "vigil-test-"): { path: string; [Symbol.dispose](): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, [Symbol.dispose]: () => rmSync(path, { recursive: true, force: true }) };
}

/** Poll until cond() is true or the deadline passes (a correctness wait, not a speed test). */
export async function waitFor(cond: () => boolean, ms = 10_000, step = 20): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await Bun.sleep(step);
  }
  return cond();
}

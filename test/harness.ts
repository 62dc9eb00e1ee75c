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

// ---- live collection helpers for BPF suites ----
import { readFileSync, statSync } from "node:fs";
import { Collector } from "../src/agent/collector/index.ts";
import { Decoder, type DecodedEvent } from "../src/agent/collector/decode.ts";
import { BY_NAME } from "../src/agent/collector/catalog.ts";
import { bootToUnixOffsetNs } from "../src/agent/collector/libbpf.ts";
import type { Enricher } from "../src/agent/collector/enrich/index.ts";

/** The BPF object under test: $VIGIL_BPF_OBJECT (a partial build) or build/bpf/vigil.bpf.o. */
export function bpfObjectBytes(): Uint8Array {
  return new Uint8Array(readFileSync(process.env.VIGIL_BPF_OBJECT ?? bpfObject));
}

/** Compile test/fixtures/<name>.c into build/fixtures/<name> when missing or stale; return its path. */
export function fixture(name: string): string {
  const src = join(root, "test/fixtures", `${name}.c`);
  const out = join(root, "build/fixtures", name);
  let stale = true;
  try {
    stale = statSync(out).mtimeMs < statSync(src).mtimeMs;
  } catch {}
  if (stale) {
    Bun.spawnSync(["mkdir", "-p", join(root, "build/fixtures")]);
    const r = Bun.spawnSync(["gcc", "-O1", "-Wall", "-o", out, src, "-lpthread"], { stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`compiling ${src} failed:\n${r.stderr}`);
  }
  return out;
}

export interface Collection {
  events: DecodedEvent[];
  /** Events of one process (tgid), optionally of one event name. */
  of(tgid: number, name?: string): DecodedEvent[];
  /** Wait until pred matches some event; returns it (or undefined after ms). */
  waitFor(pred: (e: DecodedEvent) => boolean, ms?: number): Promise<DecodedEvent | undefined>;
  collector: Collector;
  decoder: Decoder;
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Start a live collector for the named events; the test process itself is excluded. */
export function collect(names: string[], opts: { ringSize?: number; enricher?: Enricher; rateLimitPerSec?: number; exeAllow?: string[]; object?: Uint8Array } = {}): Collection {
  const specs = names.map((n) => {
    const s = BY_NAME.get(n);
    if (!s) throw new Error(`unknown event ${n}`);
    return s;
  });
  const decoder = new Decoder({ bootToUnixNs: bootToUnixOffsetNs(), enricher: opts.enricher });
  const events: DecodedEvent[] = [];
  const collector = new Collector({
    events: specs,
    ringSize: opts.ringSize ?? 8 << 20,
    agentTgid: process.pid,
    rateLimitPerSec: opts.rateLimitPerSec,
    exeAllow: opts.exeAllow,
    object: opts.object ?? bpfObjectBytes(),
    onBatch: (buf) => decoder.forEach(buf, (rec, spec) => { events.push(decoder.decode(rec, spec)); }),
  });
  collector.start();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await collector.stop();
  };
  return {
    events, collector, decoder, stop,
    [Symbol.asyncDispose]: stop,
    of: (tgid, name) => events.filter((e) => e.fields.tgid === String(tgid) && (!name || e.event === name)),
    async waitFor(pred, ms = 10_000) {
      let found: DecodedEvent | undefined;
      await waitFor(() => (found = events.find(pred)) !== undefined, ms);
      return found;
    },
  };
}

/** Run a command to completion; returns its pid and exit code. */
export async function run(cmd: string[], opts: { env?: Record<string, string>; cwd?: string } = {}): Promise<{ pid: number; code: number; stdout: string; stderr: string }> {
  const p = Bun.spawn(cmd, { env: { ...process.env, ...opts.env }, cwd: opts.cwd, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { pid: p.pid, code, stdout, stderr };
}

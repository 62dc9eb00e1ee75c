// Stopping detaches every program: no link or perf event is left behind in the process, and
// the kernel no longer runs the programs. detach() destroys the links from two native threads
// (src/common/accel.ts eachParallel); this proves none is skipped or destroyed twice.
import { test, expect, describe } from "bun:test";
import { readdirSync, readlinkSync } from "node:fs";
import { canLoadBpf } from "../harness.ts";
import { Collector } from "../../src/agent/collector/index.ts";
import { Decoder } from "../../src/agent/collector/decode.ts";
import { parseEventSelection, programsFor } from "../../src/agent/collector/catalog.ts";
import { libc } from "../../src/agent/collector/libbpf.ts";
import { BpfCollector, BpfLoadError } from "../../src/agent/collector/loader.ts";
import { CANARY_WHENCE } from "../../src/agent/collector/layouts.ts";

/** This process's open fds by kind: bpf links and perf events. */
function fdKinds(): { links: number; perf: number } {
  let links = 0, perf = 0;
  for (const fd of readdirSync("/proc/self/fd")) {
    let target = "";
    try { target = readlinkSync(`/proc/self/fd/${fd}`); } catch { continue; }
    if (target === "anon_inode:bpf_link") links++;
    else if (target === "anon_inode:[perf_event]") perf++;
  }
  return { links, perf };
}

describe.skipIf(!canLoadBpf)("detach", () => {
  test("stop destroys every link and perf event, and the programs stop running", async () => {
    const events = parseEventSelection("file,canary");
    const programs = programsFor(events).size;
    expect(programs).toBeGreaterThan(20); // enough links for both detach threads to share
    const before = fdKinds();
    let canaries = 0;
    const decoder = new Decoder({ bootToUnixNs: 0n });
    const c = new Collector({
      events, ringSize: 1 << 20, agentTgid: process.pid,
      onBatch: (buf) => decoder.forEach(buf, (_rec, spec) => { if (spec.name === "canary") canaries++; }),
    });
    c.start();
    const attached = fdKinds();
    // one link per program; syscall tracepoints hold a perf event each as well
    expect(attached.links - before.links).toBe(programs);
    expect(attached.perf - before.perf).toBeGreaterThan(0);
    libc().lseek(-1, 1n, CANARY_WHENCE);
    await c.stop();
    expect(canaries).toBe(1);
    expect(fdKinds()).toEqual(before);
    // detached: the kernel runs nothing of ours on the canary's syscall any more
    const out = Bun.spawnSync(["bpftool", "link", "show", "--json"]);
    if (out.exitCode === 0) {
      const mine = (JSON.parse(out.stdout.toString()) as Array<{ pids?: Array<{ pid: number }> }>)
        .filter((l) => l.pids?.some((p) => p.pid === process.pid));
      expect(mine).toEqual([]);
    }
  }, 120_000);

  test("a shared program's attach point that fails names the program and tracepoint, and leaves nothing attached", () => {
    const before = fdKinds();
    const bpf = new BpfCollector({
      // the first attach succeeds, the second names a tracepoint this kernel does not have
      programs: new Set(["vigil_path1_exit@syscalls/sys_exit_unlink", "vigil_path1_exit@syscalls/sys_exit_vigil_nosuch"]),
      enabled: [605], ringSize: 1 << 16, agentTgid: process.pid,
    });
    let err: unknown;
    try {
      bpf.load();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BpfLoadError);
    expect((err as Error).message).toContain("failed to attach vigil_path1_exit (tracepoint/syscalls/sys_exit_vigil_nosuch)");
    expect(bpf.attached).toEqual([]);
    expect(fdKinds()).toEqual(before);
  }, 60_000);
});

// The event selection: "default" depends on the running kernel where an event's only hook
// would cost every syscall (module_load without module support).
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { EVENTS, inDefault, parseEventSelection, programsFor } from "../../src/agent/collector/catalog.ts";
import { attachPoint, BpfLoadError } from "../../src/agent/collector/loader.ts";
import type { EventSpec } from "../../src/agent/collector/events/types.ts";

const names = (l: EventSpec[]) => l.map((e) => e.name);

describe("event selection", () => {
  test("default: the defaultOn events, module_load only where the kernel has modules", () => {
    const def = names(parseEventSelection("default"));
    expect(def).toContain("execve");
    expect(def).not.toContain("read"); // high volume: off
    const modules = existsSync("/proc/modules");
    expect(def.includes("module_load")).toBe(modules);
    // Asked for by name, by family or with "all", it is selected either way, with its hooks.
    for (const sel of ["module_load", "default,module_load", "process", "all"]) {
      const chosen = parseEventSelection(sel);
      expect(names(chosen)).toContain("module_load");
      expect([...programsFor(chosen)].some((p) => p.includes("vigil_module_raw_exit"))).toBe(true);
    }
    expect(names(parseEventSelection("all,-module_load"))).not.toContain("module_load");
  });

  test("defaultWhen is consulted only for defaultOn events", () => {
    const base = EVENTS.find((e) => e.name === "execve")!;
    let asked = 0;
    const when = (v: boolean) => () => (asked++, v);
    expect(inDefault({ ...base, defaultOn: true, defaultWhen: when(true) })).toBe(true);
    expect(inDefault({ ...base, defaultOn: true, defaultWhen: when(false) })).toBe(false);
    expect(inDefault({ ...base, defaultOn: false, defaultWhen: when(true) })).toBe(false);
    expect(asked).toBe(2);
    expect(inDefault({ ...base, defaultOn: true })).toBe(true);
  });

  test("entry programs only where the call must be seen before it runs; every other syscall event is exit-only", () => {
    const entries = [...programsFor(parseEventSelection("all"))]
      .flatMap((p) => p.split(/[|+]/))
      .filter((p) => p.endsWith("_enter"))
      .map((p) => p.replace(/^vigil_/, "").replace(/_enter$/, ""));
    expect([...new Set(entries)].sort()).toEqual([
      "close", // the file behind the fd (gone after the call)
      "cred_execve", "cred_execveat", // the ids an exec starts from (604)
      "exit", "exit_group", // they never return
      "finit_module", "init_module", // module_load where the kernel has module tracepoints
      "recvfrom", "recvmmsg", "recvmsg", "sendmmsg", "sendmsg", "sendto", // buffers and addresses as passed
      "setgid", "setregid", "setresgid", "setresuid", "setreuid", "setuid", // the ids before the change
    ]);
  });

  test("shared programs name real tracepoints; a malformed attach point is refused by name", () => {
    // "prog@category/name": every named tracepoint exists on this kernel, except inside an
    // alternative ("a|b"), where the loader picks the first that exists.
    const shared = new Map<string, Set<string>>();
    for (const e of EVENTS) {
      for (const entry of e.programs) {
        const alternative = entry.includes("|");
        for (const p of entry.split(/[|+]/)) {
          const { program, tracepoint } = attachPoint(p);
          if (!tracepoint) continue;
          const tp = `${tracepoint.category}/${tracepoint.name}`;
          if (!alternative) expect({ entry: p, exists: existsSync(`/sys/kernel/tracing/events/${tp}`) }).toEqual({ entry: p, exists: true });
          shared.set(program, (shared.get(program) ?? new Set()).add(tp));
        }
      }
    }
    // unlinkat serves unlink and rmdir: one attach point, listed by both events
    expect(shared.get("vigil_path1_exit")?.has("syscalls/sys_exit_unlinkat")).toBe(true);
    expect(shared.get("vigil_conn_exit")?.size).toBe(4);
    for (const bad of ["vigil_path1_exit@sys_exit_unlink", "vigil_path1_exit@syscalls/", "vigil_path1_exit@a/b/c"]) {
      expect(() => attachPoint(bad)).toThrow(BpfLoadError);
      expect(() => attachPoint(bad)).toThrow(`bad attach point "${bad}"`);
    }
  });
});

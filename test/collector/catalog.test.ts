// The event selection: "default" depends on the running kernel where an event's only hook
// would cost every syscall (module_load without module support).
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { EVENTS, inDefault, parseEventSelection, programsFor } from "../../src/agent/collector/catalog.ts";
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
});

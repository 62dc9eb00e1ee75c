// The two sides of the event contract cannot drift: reads the BTF of the built BPF object and
// compares every struct size, member offset and size, enum value and program name with the
// TypeScript tables (layouts.ts, events/*.ts). Runs without root.
import { test, expect, describe } from "bun:test";
import { hasBpfObject, bpfObject } from "../harness.ts";
import { EVENTS } from "../../src/agent/collector/catalog.ts";
import { HDR, CONFIG, SOCKADDR, STR, VE_MAX, CANARY_WHENCE } from "../../src/agent/collector/layouts.ts";
import type { FieldKind } from "../../src/agent/collector/events/types.ts";

interface BtfType {
  id: number; kind: string; name?: string; size?: number; type_id?: number;
  members?: { name: string; type_id: number; bits_offset: number }[];
  vars?: { type_id: number; offset: number; size: number }[];
  values?: { name: string; val: number }[];
  nr_elems?: number;
}

const objectPath = process.env.VIGIL_BPF_OBJECT ?? bpfObject;
const partial = !!process.env.VIGIL_BPF_OBJECT;

function loadBtf(): Map<number, BtfType> {
  const r = Bun.spawnSync(["bpftool", "btf", "dump", "file", objectPath, "-j"]);
  if (r.exitCode !== 0) throw new Error(`bpftool btf dump failed: ${r.stderr}`);
  const types: BtfType[] = JSON.parse(r.stdout.toString()).types;
  return new Map(types.map((t) => [t.id, t]));
}

describe.skipIf(!hasBpfObject && !process.env.VIGIL_BPF_OBJECT)("BTF layout of the built object matches the TypeScript mirror", () => {
  const btf = loadBtf();
  const all = [...btf.values()];
  const struct = (name: string) => all.find((t) => t.kind === "STRUCT" && t.name === name);
  const sizeOf = (id: number): number => {
    let t = btf.get(id)!;
    while (["TYPEDEF", "CONST", "VOLATILE", "RESTRICT"].includes(t.kind)) t = btf.get(t.type_id!)!;
    if (t.kind === "ARRAY") return (t as any).nr_elems * sizeOf((t as any).type_id);
    if (t.kind === "PTR") return 8;
    return t.size!;
  };
  /** Offset and size of a (possibly dotted) member path. */
  const member = (s: BtfType, path: string): { off: number; size: number } | undefined => {
    let off = 0;
    let cur: BtfType | undefined = s;
    let size = 0;
    for (const part of path.split(".")) {
      const m = cur?.members?.find((x) => x.name === part);
      if (!m) return undefined;
      off += m.bits_offset / 8;
      size = sizeOf(m.type_id);
      let t: BtfType = btf.get(m.type_id)!;
      while (t.kind === "TYPEDEF" || t.kind === "CONST" || t.kind === "VOLATILE") t = btf.get(t.type_id!)!;
      cur = t;
    }
    return { off, size };
  };
  const KIND_SIZE: Record<FieldKind, number> = {
    u8: 1, u16: 2, u32: 4, i32: 4, u64: 8, i64: 8, octal: 4, hex: 8, hex32: 4, str: STR.SIZE,
    sa_ip: SOCKADDR.SIZE, sa_port: SOCKADDR.SIZE, sa_family: SOCKADDR.SIZE,
  };

  test("struct vigil_hdr", () => {
    const h = struct("vigil_hdr")!;
    expect(h).toBeDefined();
    expect(h.size).toBe(HDR.SIZE);
    for (const [name, off] of Object.entries(HDR)) {
      if (name === "SIZE") continue;
      expect({ name, off: member(h, name)?.off }).toEqual({ name, off });
    }
  });

  test("struct vigil_config is .rodata's only variable, at offset 0", () => {
    const c = struct("vigil_config")!;
    expect(c.size).toBe(CONFIG.SIZE);
    expect(member(c, "agent_tgid")?.off).toBe(CONFIG.agent_tgid);
    expect(member(c, "rate_limit_per_sec")?.off).toBe(CONFIG.rate_limit_per_sec);
    expect(member(c, "exe_allow_on")?.off).toBe(CONFIG.exe_allow_on);
    expect(member(c, "wake_bytes")?.off).toBe(CONFIG.wake_bytes);
    const rodata = all.find((t) => t.kind === "DATASEC" && t.name === ".rodata")!;
    const vars = rodata.vars!.map((v) => ({ name: btf.get(v.type_id)!.name, offset: v.offset }));
    expect(vars).toEqual([{ name: "vigil_cfg", offset: 0 }]);
  });

  test("struct vigil_sockaddr and vigil_str", () => {
    const sa = struct("vigil_sockaddr")!;
    expect(sa.size).toBe(SOCKADDR.SIZE);
    expect(member(sa, "family")?.off).toBe(SOCKADDR.family);
    expect(member(sa, "port")?.off).toBe(SOCKADDR.port);
    expect(member(sa, "addr")?.off).toBe(SOCKADDR.addr);
    const s = struct("vigil_str")!;
    expect(s.size).toBe(STR.SIZE);
    expect(member(s, "len")?.off).toBe(STR.len);
  });

  test("enum vigil_event_type matches every spec's data_type", () => {
    const e = all.find((t) => t.kind === "ENUM" && t.name === "vigil_event_type")!;
    expect(e).toBeDefined();
    const vals = new Map(e.values!.map((v) => [v.name, v.val]));
    expect(vals.get("VE_MAX")).toBe(VE_MAX);
    expect(vals.get("VE_CANARY")).toBe(999);
    const dts = new Set(vals.values());
    for (const spec of EVENTS) expect({ event: spec.name, known: dts.has(spec.dt) }).toEqual({ event: spec.name, known: true });
    expect(CANARY_WHENCE).toBe(4729);
  });

  const progs = new Set(all.filter((t) => t.kind === "FUNC").map((t) => t.name));
  for (const spec of EVENTS) {
    const s = struct(spec.struct);
    // "a+b|c+d" lists alternative program groups: every one must be in the object
    // ("prog@cat/tracepoint" attaches a shared program there)
    const progNames = [...new Set(spec.programs.flatMap((p) => p.split(/[|+]/)).map((p) => p.split("@")[0]!))];
    const present = s !== undefined && progNames.every((p) => progs.has(p));
    test.skipIf(partial && !present)(`${spec.name} (${spec.struct})`, () => {
      expect(s).toBeDefined();
      expect({ struct: spec.struct, size: s!.size }).toEqual({ struct: spec.struct, size: spec.size });
      expect(member(s!, "hdr")).toEqual({ off: 0, size: HDR.SIZE });
      for (const p of progNames) expect({ program: p, inObject: progs.has(p) }).toEqual({ program: p, inObject: true });
      const names = new Set<string>();
      for (const f of spec.fields) {
        expect(names.has(f.name)).toBe(false);
        names.add(f.name);
        const m = member(s!, f.member ?? f.name);
        expect({ field: f.name, off: m?.off, size: m?.size }).toEqual({ field: f.name, off: f.off, size: f.size });
        expect({ field: f.name, kindSize: KIND_SIZE[f.kind] }).toEqual({ field: f.name, kindSize: f.size });
      }
    });
  }
});

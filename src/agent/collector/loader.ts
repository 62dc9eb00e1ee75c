// Opens the embedded BPF object, writes its configuration, chooses which programs load,
// loads, attaches, and tears down in reverse order. Every step has one check and one message.
import { ptr, JSCallback, FFIType, type Pointer } from "bun:ffi";
import { existsSync, readFileSync, statSync } from "node:fs";
import bpfObjectPath from "../../../build/bpf/vigil.bpf.o" with { type: "file" };
import { libbpf, libc, errno, errnoName, strerror } from "./libbpf.ts";
import { CONFIG, MAPS, VE_MAX } from "./layouts.ts";
import { kernelDev } from "./enrich/exe-path-cache.ts";
import { accel } from "../../common/accel.ts";

export class BpfLoadError extends Error {}

/** A native pointer as bun:ffi returns it. */
type NativePtr = Pointer | bigint;

/** Threads that destroy links at detach (see detach()). */
const DETACH_THREADS = 2;

export interface LoadOptions {
  /** Programs to attach, as the catalogue names them: `name` (at its own section),
   * `name@category/tracepoint` (at that tracepoint: one program shared by several hooks),
   * or `a+b|c` alternatives (the first group whose hooks exist). Others are not loaded. */
  programs: Set<string>;
  /** data_types to switch on in the `enabled` map. */
  enabled: number[];
  /** Ring buffer bytes (power of two, at least one page). */
  ringSize: number;
  /** The agent's tgid, whose events the kernel skips (0 = none). */
  agentTgid: number;
  /** Per-exe events/s, 0 = unlimited. */
  rateLimitPerSec?: number;
  /** Executables whose events are dropped in the kernel. */
  exeAllow?: string[];
  /** Receives libbpf's own messages (warnings and the verifier log). */
  onLog?: (level: number, msg: string) => void;
}

export interface AttachedProgram {
  name: string;
  section: string;
  fd: number;
}

/** A catalogue entry split into the program and the tracepoint it names (`prog@cat/name`),
 * or no tracepoint: the program's own section. */
export function attachPoint(entry: string): { program: string; tracepoint?: { category: string; name: string } } {
  const at = entry.indexOf("@");
  if (at < 0) return { program: entry };
  const [category, name, ...rest] = entry.slice(at + 1).split("/");
  if (!category || !name || rest.length) throw new BpfLoadError(`bad attach point "${entry}" (want program@category/tracepoint)`);
  return { program: entry.slice(0, at), tracepoint: { category, name } };
}

/** libbpf print levels. */
const LIBBPF_WARN = 0;

let printCallback: JSCallback | undefined;
const logSinks = new Set<(level: number, msg: string) => void>();
function installPrint(): void {
  if (printCallback) return;
  const buf = new Uint8Array(1 << 20); // the verifier log arrives as one message
  printCallback = new JSCallback(
    (level: number, fmt: Pointer, args: Pointer) => {
      const n = libc().vsnprintf(ptr(buf), buf.length, fmt, args);
      const msg = new TextDecoder().decode(buf.subarray(0, Math.max(0, Math.min(n, buf.length - 1))));
      for (const sink of logSinks) sink(level, msg);
      return 0;
    },
    { args: [FFIType.i32, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
  );
  libbpf().libbpf_set_print(printCallback.ptr);
}

export function embeddedObject(): Uint8Array {
  return new Uint8Array(readFileSync(bpfObjectPath));
}

function cstr(s: string): Buffer {
  return Buffer.from(`${s}\0`);
}

export class BpfCollector {
  private obj: NativePtr | null = null;
  private links: NativePtr[] = [];
  private objBytes: Uint8Array | null = null;
  readonly attached: AttachedProgram[] = [];
  private mapFds = new Map<string, number>();
  readonly ncpus: number;
  private readonly log: string[] = [];
  private readonly sink = (level: number, msg: string) => {
    if (process.env.VIGIL_LIBBPF_LOG) require("node:fs").appendFileSync(process.env.VIGIL_LIBBPF_LOG, msg);
    if (this.log.length < 2000) this.log.push(...msg.trimEnd().split("\n").slice(-60));
    this.opts.onLog?.(level, msg);
  };

  constructor(private readonly opts: LoadOptions) {
    this.ncpus = libbpf().libbpf_num_possible_cpus();
  }

  /** Open, configure, load and attach. Throws BpfLoadError naming the failed step. */
  load(objectBytes: Uint8Array = embeddedObject()): void {
    const lib = libbpf();
    installPrint();
    logSinks.add(this.sink);
    try {
      this.objBytes = objectBytes;
      const obj = lib.bpf_object__open_mem(ptr(objectBytes), objectBytes.byteLength, null);
      if (!obj || lib.libbpf_get_error(obj) !== 0n) {
        throw new BpfLoadError(`failed to open the BPF object: ${errnoName(errno())} ${this.lastLog()}`);
      }
      this.obj = obj;
      this.configure();
      this.chooseProgramsAndLoad();
      this.fillMaps();
      this.attachAll();
    } catch (e) {
      this.close();
      throw e;
    } finally {
      logSinks.delete(this.sink);
    }
  }

  private lastLog(lines = 30): string {
    const tail = this.log.slice(-lines).join("\n");
    return tail ? `\nlibbpf said:\n${tail}` : "";
  }

  private configure(): void {
    const lib = libbpf();
    const rodata = lib.bpf_object__find_map_by_name(this.obj, cstr(".rodata"));
    if (!rodata) throw new BpfLoadError("BPF object has no .rodata (vigil_cfg missing)");
    const sizeOut = new BigUint64Array(1);
    const init = lib.bpf_map__initial_value(rodata, ptr(sizeOut));
    if (!init || Number(sizeOut[0]) < CONFIG.SIZE) {
      throw new BpfLoadError(`.rodata is ${sizeOut[0]} bytes, expected at least ${CONFIG.SIZE}`);
    }
    const { toArrayBuffer } = require("bun:ffi") as typeof import("bun:ffi");
    const view = new DataView(toArrayBuffer(init, 0, CONFIG.SIZE));
    view.setUint32(CONFIG.agent_tgid, this.opts.agentTgid >>> 0, true);
    view.setUint32(CONFIG.rate_limit_per_sec, (this.opts.rateLimitPerSec ?? 0) >>> 0, true);
    view.setUint32(CONFIG.exe_allow_on, (this.opts.exeAllow?.length ?? 0) > 0 ? 1 : 0, true);
    // The ring size is checked below; records wake the reader once an eighth is waiting.
    view.setUint32(CONFIG.wake_bytes, Math.floor(this.opts.ringSize / 8) >>> 0, true);

    const ring = lib.bpf_object__find_map_by_name(this.obj, cstr(MAPS.events));
    if (!ring) throw new BpfLoadError(`BPF object has no map "${MAPS.events}"`);
    const size = this.opts.ringSize;
    if (size < 4096 || (size & (size - 1)) !== 0) {
      throw new BpfLoadError(`ring size ${size} must be a power of two of at least 4096 bytes`);
    }
    const rc = lib.bpf_map__set_max_entries(ring, size);
    if (rc !== 0) throw new BpfLoadError(`failed to set ring size ${size}: ${errnoName(rc)}`);
  }

  /** Which variant each alternative program group resolved to (reported as the hook mode). */
  readonly hookChoices = new Map<string, string>();

  /**
   * Expand "a+b|c+d" entries (alternative groups, best first) to the first group whose hooks
   * exist on this kernel: a `tracepoint/CAT/NAME` section needs its tracefs event; other kinds
   * (tp_btf, raw_tp) are taken as available.
   */
  private resolveAlternatives(wanted: Set<string>, sections: Map<string, string>): Set<string> {
    const out = new Set<string>();
    for (const entry of wanted) {
      if (!entry.includes("|")) {
        out.add(entry);
        continue;
      }
      const groups = entry.split("|").map((g) => g.split("+"));
      const usable = groups.find((g) => g.every((p) => {
        const { program, tracepoint } = attachPoint(p);
        const sec = sections.get(program);
        if (!sec) return false;
        if (tracepoint) return existsSync(`/sys/kernel/tracing/events/${tracepoint.category}/${tracepoint.name}`);
        const m = /^tracepoint\/([^/]+)\/(.+)$/.exec(sec);
        return !m || existsSync(`/sys/kernel/tracing/events/${m[1]}/${m[2]}`);
      }));
      if (!usable) throw new BpfLoadError(`no usable hook for ${entry} on this kernel`);
      for (const p of usable) out.add(p);
      this.hookChoices.set(entry, usable.join("+"));
    }
    return out;
  }

  private chooseProgramsAndLoad(): void {
    const lib = libbpf();
    const sections = new Map<string, string>();
    let prog: NativePtr | null = null;
    while ((prog = lib.bpf_object__next_program(this.obj, prog))) {
      sections.set(String(lib.bpf_program__name(prog)), String(lib.bpf_program__section_name(prog)));
    }
    // program → where to attach it (undefined: its own section), in catalogue order
    this.points.clear();
    for (const entry of this.resolveAlternatives(this.opts.programs, sections)) {
      const { program, tracepoint } = attachPoint(entry);
      const list = this.points.get(program) ?? [];
      const key = tracepoint && `${tracepoint.category}/${tracepoint.name}`;
      if (!list.some((t) => (t && `${t.category}/${t.name}`) === key)) list.push(tracepoint);
      this.points.set(program, list);
    }
    const wanted = new Set(this.points.keys());
    const found = new Set<string>();
    prog = null;
    while ((prog = lib.bpf_object__next_program(this.obj, prog))) {
      const name = String(lib.bpf_program__name(prog));
      found.add(name);
      lib.bpf_program__set_autoload(prog, wanted.has(name));
    }
    const missing = [...wanted].filter((p) => !found.has(p));
    if (missing.length) {
      throw new BpfLoadError(`BPF object lacks programs: ${missing.join(", ")} (rebuild with scripts/build)`);
    }
    const rc = lib.bpf_object__load(this.obj);
    if (rc !== 0) {
      // The verifier gives up with EAGAIN when a signal is pending (libbpf retries a few
      // times): a sampling profiler (bun --cpu-prof) or a signal storm does that on every try.
      const why = Math.abs(rc) === 11
        ? "; the verifier stops when signals keep arriving during the load (a sampling profiler such as bun --cpu-prof, or a signal storm): load without them"
        : "";
      throw new BpfLoadError(`failed to load BPF programs: ${errnoName(rc)} (${strerror(Math.abs(rc))})${why}${this.lastLog()}`);
    }
  }

  /** Where each loaded program attaches (undefined: its own section). */
  private readonly points = new Map<string, Array<{ category: string; name: string } | undefined>>();

  private attachAll(): void {
    const lib = libbpf();
    let prog: NativePtr | null = null;
    while ((prog = lib.bpf_object__next_program(this.obj, prog))) {
      if (!lib.bpf_program__autoload(prog)) continue;
      const name = String(lib.bpf_program__name(prog));
      for (const tp of this.points.get(name) ?? [undefined]) {
        const section = tp ? `tracepoint/${tp.category}/${tp.name}` : String(lib.bpf_program__section_name(prog));
        const link = tp ? lib.bpf_program__attach_tracepoint(prog, cstr(tp.category), cstr(tp.name)) : lib.bpf_program__attach(prog);
        if (!link || lib.libbpf_get_error(link) !== 0n) {
          const code = errno();
          throw new BpfLoadError(`failed to attach ${name} (${section}): ${errnoName(code)}${this.lastLog(5)}`);
        }
        this.links.push(link);
        this.attached.push({ name, section, fd: lib.bpf_program__fd(prog) });
      }
    }
  }

  private fillMaps(): void {
    const on = new Uint8Array([1]);
    const key = new Uint32Array(1);
    const fd = this.mapFd(MAPS.enabled);
    for (const dt of this.opts.enabled) {
      if (dt < 0 || dt >= VE_MAX) throw new BpfLoadError(`data_type ${dt} out of range`);
      key[0] = dt;
      const rc = libbpf().bpf_map_update_elem(fd, ptr(key), ptr(on), 0n);
      if (rc !== 0) throw new BpfLoadError(`failed to enable data_type ${dt}: ${errnoName(rc)}`);
    }
    for (const path of this.opts.exeAllow ?? []) this.allowExe(path);
  }

  /** Add an executable to the in-kernel allow list (its events are never reported). The list
   * is only consulted when it was non-empty at load (LoadOptions.exeAllow). */
  allowExe(path: string): void {
    let st;
    try {
      st = statSync(path, { bigint: true });
    } catch (e) {
      throw new BpfLoadError(`exe allow list: cannot stat ${path}: ${(e as Error).message}`);
    }
    const key = new DataView(new ArrayBuffer(16));
    key.setBigUint64(0, st.ino, true);
    key.setUint32(8, kernelDev(st.dev), true);
    const rc = libbpf().bpf_map_update_elem(this.mapFd(MAPS.exeAllow), ptr(key), ptr(new Uint8Array([1])), 0n);
    if (rc !== 0) throw new BpfLoadError(`exe allow list: failed to add ${path}: ${errnoName(rc)}`);
  }

  /** Switch one event on or off while running. */
  setEnabled(dt: number, on: boolean): void {
    const key = new Uint32Array([dt]);
    libbpf().bpf_map_update_elem(this.mapFd(MAPS.enabled), ptr(key), ptr(new Uint8Array([on ? 1 : 0])), 0n);
  }

  mapFd(name: string): number {
    const cached = this.mapFds.get(name);
    if (cached !== undefined) return cached;
    if (!this.obj) throw new BpfLoadError("BPF object is not open");
    const map = libbpf().bpf_object__find_map_by_name(this.obj, cstr(name));
    if (!map) throw new BpfLoadError(`BPF object has no map "${name}"`);
    const fd = libbpf().bpf_map__fd(map);
    if (fd < 0) throw new BpfLoadError(`map "${name}" has no fd (not loaded)`);
    this.mapFds.set(name, fd);
    return fd;
  }

  /** Sum a per-CPU u64 array map over CPUs: returns data_type → count for non-zero entries. */
  perCpuCounts(name: string): Map<number, number> {
    const fd = this.mapFd(name);
    const out = new Map<number, number>();
    const key = new Uint32Array(1);
    const val = new BigUint64Array(this.ncpus);
    for (let dt = 0; dt < VE_MAX; dt++) {
      key[0] = dt;
      if (libbpf().bpf_map_lookup_elem(fd, ptr(key), ptr(val)) !== 0) continue;
      let sum = 0n;
      for (const v of val) sum += v;
      if (sum > 0n) out.set(dt, Number(sum));
    }
    return out;
  }

  drops(): Map<number, number> {
    return this.perCpuCounts(MAPS.drops);
  }

  rateLimited(): Map<number, number> {
    return this.perCpuCounts(MAPS.limited);
  }

  /** Detach every program; maps stay readable until close(). */
  detach(): void {
    const lib = libbpf();
    // Destroying a syscall tracepoint's link closes its perf event, and the kernel then waits
    // for two RCU grace periods (~70 ms) before the close returns: ~70 links took 5 s one
    // after another. Two native threads overlap the waits (2.0 s; more do not go lower on
    // 6.18, measured with 70 perf events). Without the native library, one after another.
    const native = this.links.length > 1 ? accel() : null;
    if (native) {
      const items = new BigUint64Array(this.links.map((l) => BigInt(l)));
      native.eachParallel((lib.bpf_link__destroy as unknown as { ptr: number }).ptr, items, items.length, DETACH_THREADS);
      this.links.length = 0;
    }
    while (this.links.length) lib.bpf_link__destroy(this.links.pop()!);
    this.attached.length = 0;
  }

  /** Tear down in reverse order: links, then the object (maps and programs). */
  close(): void {
    const lib = libbpf();
    this.detach();
    if (this.obj) lib.bpf_object__close(this.obj);
    this.obj = null;
    this.mapFds.clear();
    this.objBytes = null;
  }
}

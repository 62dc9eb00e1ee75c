// Container id from a process's cgroup path (docker, containerd/CRI, cri-o, podman) and the
// pod name from its environment; cached per cgroup id, verified against the cgroup v2 tree, or
// on cgroup-v1 and hybrid hosts per memory-controller cgroup id, verified against that tree.
import { readFileSync, readdirSync, statSync } from "node:fs";

export interface ContainerInfo {
  /** 64 lowercase hex digits, or "" outside a container. */
  readonly id: string;
  /** Kubernetes pod name from the environment, or "". */
  readonly pod: string;
}

export const NO_CONTAINER: ContainerInfo = Object.freeze({ id: "", pod: "" });

/** The least time between two walks of the memory cgroup tree for an id it did not have. */
const MEMCG_RESCAN_MS = 1000;

/**
 * One cgroup path component naming a container:
 *   docker-<id>.scope          docker, systemd cgroup driver
 *   cri-containerd-<id>.scope  containerd CRI (Kubernetes), systemd driver
 *   crio-<id>.scope            cri-o (crio-conmon-<id>.scope is its monitor: not matched)
 *   libpod-<id>.scope          podman (libpod-conmon-<id>.scope likewise); libpod-<id> cgroupfs
 *   <id>                       cgroupfs drivers: /docker/<id>, /kubepods/…/pod<uid>/<id>,
 *                              containerd /<namespace>/<id>, ECS /ecs/<task>/<id>
 */
const COMPONENT = /^(?:(?:docker|cri-containerd|crio|libpod)-)?([0-9a-f]{64})(?:\.scope)?$/;

/** The container id in one cgroup path; the innermost wins (docker-in-docker, kind). */
export function containerIdFromPath(path: string): string {
  let end = path.length;
  while (end > 0) {
    const start = path.lastIndexOf("/", end - 1) + 1;
    // A component is at least 64 characters long before anything is matched.
    if (end - start >= 64) {
      const m = COMPONENT.exec(path.slice(start, end));
      if (m) return m[1];
    }
    end = start - 1;
  }
  return "";
}

/** The path of one "hierarchy:controllers:path" line of /proc/<pid>/cgroup, or undefined. */
function cgroupLinePath(line: string): string | undefined {
  const a = line.indexOf(":");
  const b = a < 0 ? -1 : line.indexOf(":", a + 1);
  if (b < 0 || !/^\d+$/.test(line.slice(0, a))) return undefined;
  const path = line.slice(b + 1);
  return path.startsWith("/") ? path : undefined;
}

/** The container id in /proc/<pid>/cgroup text (first line that names one), or "". */
export function containerIdFromCgroup(text: string): string {
  for (const line of text.split("\n")) {
    const path = cgroupLinePath(line);
    if (path === undefined) continue;
    const id = containerIdFromPath(path);
    if (id) return id;
  }
  return "";
}

/** The cgroup v2 path ("0::<path>" line), or undefined on a v1-only host. */
export function unifiedCgroupPath(text: string): string | undefined {
  for (const line of text.split("\n")) if (line.startsWith("0::")) return cgroupLinePath(line);
  return undefined;
}

const POD_KEYS = ["POD_NAME=", "MY_POD_NAME=", "KUBERNETES_POD_NAME="];

/**
 * The pod name from /proc/<pid>/environ text (NUL-separated): POD_NAME (the downward-API
 * convention), MY_POD_NAME (also read by Elkeid) or KUBERNETES_POD_NAME, whichever comes
 * first; "" if none.
 */
export function podNameFromEnviron(env: string): string {
  for (const kv of env.split("\0")) {
    for (const k of POD_KEYS) if (kv.startsWith(k)) return kv.slice(k.length);
  }
  return "";
}

/** The memory controller's path ("N:…memory…:<path>" line, v1 or hybrid hosts), or undefined. */
export function memcgPath(text: string): string | undefined {
  for (const line of text.split("\n")) {
    const a = line.indexOf(":");
    const b = a < 0 ? -1 : line.indexOf(":", a + 1);
    if (b < 0 || !line.slice(a + 1, b).split(",").includes("memory")) continue;
    return cgroupLinePath(line);
  }
  return undefined;
}

/** Where the v1 memory controller's hierarchy is mounted at its root, from mountinfo text. */
export function memcgMount(mountinfo: string): string | undefined {
  return rootMountOf(mountinfo, "cgroup", "memory");
}

/** Where cgroup v2 is mounted, from mountinfo text (undefined if not mounted at its root). */
export function cgroup2Mount(mountinfo: string): string | undefined {
  return rootMountOf(mountinfo, "cgroup2");
}

/** The mount point of the first fstype mount (with super option superOpt, if given) that
 * mounts its file system's root, from mountinfo text. */
function rootMountOf(mountinfo: string, fstype: string, superOpt?: string): string | undefined {
  for (const line of mountinfo.split("\n")) {
    const sep = line.indexOf(" - ");
    if (sep < 0 || !line.startsWith(`${fstype} `, sep + 3)) continue;
    if (superOpt !== undefined && !(line.slice(sep + 3).split(" ")[2] ?? "").split(",").includes(superOpt)) continue;
    const f = line.slice(0, sep).split(" ");
    if (f[3] === "/" && f[4]) return f[4].replace(/\\040/g, " ");
  }
  return undefined;
}

export interface ContainersOptions {
  procRoot?: string;
  /** cgroup v2 mount point; default: found in <procRoot>/self/mountinfo. */
  cgroupRoot?: string;
  /** cgroup v1 memory hierarchy mount point; default: found in <procRoot>/self/mountinfo. */
  memcgRoot?: string;
  /** Most cgroup ids and containers remembered (default 16384 each). */
  maxEntries?: number;
}

export class Containers {
  private readonly byCgroup = new Map<bigint, ContainerInfo>();
  /** memory-controller cgroup id → container, where that id is proven to be the v1 cgroup's. */
  private readonly byMemcg = new Map<bigint, ContainerInfo>();
  /** container id → its info: the environ is read once per container. */
  private readonly byId = new Map<string, ContainerInfo>();
  private readonly procRoot: string;
  private readonly maxEntries: number;
  private cgroupRoot: string | undefined | null; // null: not looked up yet
  private memcgRoot: string | undefined | null;

  constructor(opts: ContainersOptions = {}) {
    this.procRoot = opts.procRoot ?? "/proc";
    this.cgroupRoot = opts.cgroupRoot ?? null;
    this.memcgRoot = opts.memcgRoot ?? null;
    this.maxEntries = opts.maxEntries ?? 16384;
    if (!Number.isInteger(this.maxEntries) || this.maxEntries < 1) {
      throw new RangeError(`containers: maxEntries must be a positive integer, got ${opts.maxEntries}`);
    }
  }

  /**
   * The container of process tgid whose event carried cgroupId. Cached per cgroup id only when
   * that id is provably the process's own cgroup (the inode of its v2 directory): on v1-only
   * or hybrid hosts where it sits in the v2 root, every process shares one id.
   */
  lookup(tgid: number, cgroupId: bigint, memcgId = 0n): ContainerInfo {
    if (cgroupId) {
      const hit = this.byCgroup.get(cgroupId);
      if (hit) return hit;
    }
    if (memcgId) {
      const hit = this.byMemcg.get(memcgId) ?? this.fromMemcgTree(memcgId);
      if (hit) return hit;
    }
    let text: string;
    try {
      text = readFileSync(`${this.procRoot}/${tgid}/cgroup`, "utf8");
    } catch {
      return NO_CONTAINER; // gone: do not cache a guess
    }
    const id = containerIdFromCgroup(text);
    const info = id ? this.container(id, tgid) : NO_CONTAINER;
    if (cgroupId && this.isCgroupOf(cgroupId, text)) {
      remember(this.byCgroup, cgroupId, info, this.maxEntries);
    } else if (memcgId && this.isMemcgOf(memcgId, text)) {
      remember(this.byMemcg, memcgId, info, this.maxEntries);
    }
    return info;
  }

  /**
   * The answer the memory cgroup's own directory gives, without the process (which in an exec
   * storm is gone before its event is decoded): the tree maps the kernel's memcg id to its
   * path. A path naming no container is the answer; one naming a container is only when its
   * pod name is already known (that needs a live process's environ). The root is shared by
   * unrelated processes and answers nothing.
   */
  private fromMemcgTree(memcgId: bigint): ContainerInfo | undefined {
    const path = this.memcgPathOf(memcgId);
    if (path === undefined || path === "/") return undefined;
    const id = containerIdFromPath(path);
    const info = id ? this.byId.get(id) : NO_CONTAINER;
    if (info) remember(this.byMemcg, memcgId, info, this.maxEntries);
    return info;
  }

  /** The path of memory cgroup memcgId, from a walk of the v1 memory tree (again for an id not
   * in the last walk, at most once per MEMCG_RESCAN_MS: cgroups come with new containers). */
  private memcgPathOf(memcgId: bigint): string | undefined {
    const known = this.memcgPaths.get(memcgId);
    if (known !== undefined) return known;
    const now = performance.now();
    if (now - this.memcgScanAt < MEMCG_RESCAN_MS) return undefined;
    this.memcgScanAt = now;
    if (this.memcgRoot === null) this.memcgRoot = this.mountOf(memcgMount);
    if (this.memcgRoot === undefined) return undefined;
    this.memcgPaths.clear();
    const walk = (rel: string): void => {
      let entries;
      try {
        entries = readdirSync(this.memcgRoot + rel, { withFileTypes: true });
      } catch {
        return; // removed meanwhile
      }
      for (const e of entries) {
        if (!e.isDirectory() || this.memcgPaths.size >= this.maxEntries) continue;
        const sub = rel === "/" ? `/${e.name}` : `${rel}/${e.name}`;
        try {
          this.memcgPaths.set(statSync(this.memcgRoot + sub, { bigint: true }).ino, sub);
        } catch {
          continue;
        }
        walk(sub);
      }
    };
    walk("/");
    return this.memcgPaths.get(memcgId);
  }
  private readonly memcgPaths = new Map<bigint, string>();
  private memcgScanAt = -Infinity;

  private container(id: string, tgid: number): ContainerInfo {
    const hit = this.byId.get(id);
    if (hit) return hit;
    let env: string;
    try {
      env = readFileSync(`${this.procRoot}/${tgid}/environ`, "latin1");
    } catch {
      return { id, pod: "" }; // try the environ again with the next process
    }
    const info: ContainerInfo = Object.freeze({ id, pod: podNameFromEnviron(env) });
    remember(this.byId, id, info, this.maxEntries);
    return info;
  }

  /**
   * Is memcgId the inode of the v1 memory-controller directory this cgroup text names (not the
   * root, which unrelated processes share)? Containers get their own memory cgroup.
   */
  private isMemcgOf(memcgId: bigint, text: string): boolean {
    if (this.memcgRoot === null) this.memcgRoot = this.mountOf(memcgMount);
    return isDirInode(this.memcgRoot, memcgPath(text), memcgId);
  }

  /** Is cgroupId the inode of the v2 directory this cgroup text names (not the root)? */
  private isCgroupOf(cgroupId: bigint, text: string): boolean {
    if (this.cgroupRoot === null) this.cgroupRoot = this.mountOf(cgroup2Mount);
    return isDirInode(this.cgroupRoot, unifiedCgroupPath(text), cgroupId);
  }

  private mountOf(find: (mountinfo: string) => string | undefined): string | undefined {
    try {
      return find(readFileSync(`${this.procRoot}/self/mountinfo`, "utf8"));
    } catch {
      return undefined;
    }
  }
}

/** map.set(key, value), the map emptied first when it already holds max entries. */
function remember<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  if (map.size >= max) map.clear();
  map.set(key, value);
}

/** Is root + path (a cgroup directory other than the hierarchy's root) the inode ino? */
function isDirInode(root: string | undefined, path: string | undefined, ino: bigint): boolean {
  if (root === undefined || !path || path === "/") return false;
  try {
    return statSync(root + path, { bigint: true }).ino === ino;
  } catch {
    return false; // the cgroup was removed meanwhile
  }
}

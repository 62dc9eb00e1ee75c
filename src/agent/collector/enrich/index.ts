// The enricher: adds to each event what user space knows (exe, argv, username, exe hash,
// pid_tree, container id, pod name), from caches fed by the process events themselves.
import { ProcessCache } from "./process-cache.ts";
import { UserNames } from "./usernames.ts";
import { ExeHasher } from "./exe-hash.ts";
import { Containers } from "./container.ts";

export interface EventIdentity {
  pid: number;
  tgid: number;
  ppid: number;
  uid: number;
  exeIno: number;
  exeDev: number;
  cgroupId: bigint;
  comm: string;
}

export interface Enrichment {
  exe: string;
  argv: string;
  username: string;
  exe_hash: string;
  pid_tree: string;
  container_id: string;
  pod_name: string;
}

export interface EnricherOptions {
  procRoot?: string;
  passwd?: string;
  /** Hash executables (sha256 of the first 32 MiB, cached): on by default. */
  hashes?: boolean;
}

export class Enricher {
  readonly procs: ProcessCache;
  private readonly users: UserNames;
  private readonly hasher = new ExeHasher();
  private readonly containers: Containers;

  constructor(private readonly opts: EnricherOptions = {}) {
    this.procs = new ProcessCache({ procRoot: opts.procRoot });
    this.users = new UserNames(opts.passwd);
    this.containers = new Containers(opts.procRoot);
  }

  onExec(tgid: number, ppid: number, exe: string, argv: string, comm: string): void {
    this.procs.onExec(tgid, ppid, exe, argv, comm);
  }

  onFork(parent: number, child: number, comm: string): void {
    this.procs.onFork(parent, child, comm);
  }

  onExit(tgid: number): void {
    this.procs.onExit(tgid);
  }

  common(id: EventIdentity): Enrichment {
    const p = this.procs.get(id.tgid);
    let exeHash = "";
    let pidTree = "";
    if (p) {
      pidTree = p.pidTree ??= this.procs.pidTree(id.tgid);
      if (this.opts.hashes !== false) exeHash = p.exeHash ??= this.hasher.hash(p.exe);
    }
    const c = id.cgroupId ? this.containers.lookup(id.tgid, id.cgroupId) : { id: "", pod: "" };
    return {
      exe: p?.exe ?? "",
      argv: p?.argv ?? "",
      username: this.users.name(id.uid),
      exe_hash: exeHash,
      pid_tree: pidTree,
      container_id: c.id,
      pod_name: c.pod,
    };
  }
}

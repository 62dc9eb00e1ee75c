// Container id from a process's cgroup path (docker, containerd/CRI, cri-o, podman), and the
// pod name from its environment, cached per cgroup id.
import { readFileSync } from "node:fs";

const PATTERNS = [
  /docker-([0-9a-f]{64})\.scope/,
  /cri-containerd-([0-9a-f]{64})\.scope/,
  /crio-([0-9a-f]{64})\.scope/,
  /libpod-([0-9a-f]{64})\.scope/,
  /\/docker\/([0-9a-f]{64})/,
  /\/kubepods[^\s]*\/([0-9a-f]{64})/,
  /\/containerd\/[^/]*\/([0-9a-f]{64})/,
];

/** The container id in one /proc/<pid>/cgroup text, or "". */
export function containerIdFromCgroup(text: string): string {
  for (const line of text.split("\n")) {
    const path = line.split(":").slice(2).join(":");
    for (const re of PATTERNS) {
      const m = re.exec(path);
      if (m) return m[1];
    }
  }
  return "";
}

/** POD_NAME (Kubernetes downward API convention) from /proc/<pid>/environ text, or "". */
export function podNameFromEnviron(env: string): string {
  for (const kv of env.split("\0")) {
    if (kv.startsWith("POD_NAME=")) return kv.slice(9);
    if (kv.startsWith("KUBERNETES_POD_NAME=")) return kv.slice(20);
  }
  return "";
}

export class Containers {
  private readonly byCgroup = new Map<bigint, { id: string; pod: string }>();

  constructor(private readonly procRoot = "/proc") {}

  lookup(tgid: number, cgroupId: bigint): { id: string; pod: string } {
    const hit = this.byCgroup.get(cgroupId);
    if (hit) return hit;
    let id = "";
    let pod = "";
    try {
      id = containerIdFromCgroup(readFileSync(`${this.procRoot}/${tgid}/cgroup`, "utf8"));
      if (id) pod = podNameFromEnviron(readFileSync(`${this.procRoot}/${tgid}/environ`, "latin1"));
    } catch {
      return { id: "", pod: "" }; // gone: do not cache a guess
    }
    const v = { id, pod };
    if (this.byCgroup.size > 16384) this.byCgroup.clear();
    this.byCgroup.set(cgroupId, v);
    return v;
  }
}

// Who this agent is on the wire (PackagedData's header fields): a stable agent id derived from
// the machine (Elkeid's way: a name-based UUID of /etc/machine-id and the DMI product uuid),
// else generated once and kept in the data dir; the host's addresses split into intranet
// (private ranges) and extranet; hostname, version, product.
import { createHash, randomUUID } from "node:crypto";
import { existsSync, readFileSync, writeFileSync, renameSync } from "node:fs";
import { hostname as osHostname, networkInterfaces } from "node:os";
import { join } from "node:path";
import { PRODUCT } from "../../common/wire.ts";
import type { AgentIdentity } from "../../common/agent-identity.ts";

export const ID_FILE = "agent-id";
export const MACHINE_SOURCES = ["/etc/machine-id", "/sys/class/dmi/id/product_uuid"] as const;
/** DMI product uuids that many machines share (firmware placeholders): never an identity. */
const PLACEHOLDER_UUIDS = new Set(["03000200-0400-0500-0006-000700080009", "00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff"]);
const UUID_NS_OID = "6ba7b812-9dad-11d1-80b4-00c04fd430c8";

/** The agent's identity as it puts it into every PackagedData. */
export type Identity = AgentIdentity;

function readTrim(path: string): string {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return "";
  }
}

/** RFC 4122 version-5 UUID of `name` in namespace `ns`. */
export function uuidV5(ns: string, name: string): string {
  const h = createHash("sha1").update(Buffer.from(ns.replace(/-/g, ""), "hex")).update(name).digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString("hex");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

export interface AgentIdOptions {
  dataDir: string;
  override?: string;
  /** files to derive the id from (tests pass their own) */
  sources?: readonly string[];
}

/** The agent id and where it came from ("config", "machine", "generated", "data-dir"). */
export function agentId(o: AgentIdOptions): { id: string; source: string } {
  if (o.override) return { id: o.override, source: "config" };
  const parts = (o.sources ?? MACHINE_SOURCES).map(readTrim).map((s) => s.toLowerCase())
    .filter((s) => s.length >= 8 && !PLACEHOLDER_UUIDS.has(s));
  if (parts.length > 0) return { id: uuidV5(UUID_NS_OID, parts.join("")), source: "machine" };
  const file = join(o.dataDir, ID_FILE);
  const kept = readTrim(file);
  if (/^[0-9a-f-]{36}$/.test(kept)) return { id: kept, source: "data-dir" };
  const id = randomUUID();
  writeFileSync(`${file}.tmp`, id + "\n");
  renameSync(`${file}.tmp`, file);
  return { id, source: "generated" };
}

/** Private, loopback, link-local, CGNAT and unique-local ranges count as intranet. */
export function isPrivateIp(ip: string): boolean {
  if (ip.includes(":")) {
    const l = ip.toLowerCase();
    if (l.startsWith("::ffff:")) return isPrivateIp(l.slice(7));
    return l === "::1" || l === "::" || /^f[cd]/.test(l) || /^fe[89ab]/.test(l);
  }
  const p = ip.split(".").map(Number);
  if (p.length !== 4 || p.some((n) => !Number.isInteger(n) || n < 0 || n > 255)) return false;
  const [a, b] = p;
  return a === 10 || a === 127 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) ||
    (a === 169 && b === 254) || (a === 100 && b >= 64 && b <= 127) || a === 0;
}

/** The host's addresses by kind; loopback is left out (it says nothing about the host). */
export function hostAddresses(ifaces = networkInterfaces()): Pick<Identity, "intranetIpv4" | "extranetIpv4" | "intranetIpv6" | "extranetIpv6"> {
  const r = { intranetIpv4: [] as string[], extranetIpv4: [] as string[], intranetIpv6: [] as string[], extranetIpv6: [] as string[] };
  for (const list of Object.values(ifaces)) {
    for (const a of list ?? []) {
      if (a.internal) continue;
      const v6 = a.family === "IPv6";
      const priv = isPrivateIp(a.address);
      const arr = v6 ? (priv ? r.intranetIpv6 : r.extranetIpv6) : (priv ? r.intranetIpv4 : r.extranetIpv4);
      if (!arr.includes(a.address)) arr.push(a.address);
    }
  }
  return r;
}

export function buildIdentity(o: AgentIdOptions & { version: string }): Identity & { idSource: string } {
  const { id, source } = agentId(o);
  return { agentId: id, idSource: source, hostname: osHostname(), version: o.version, product: PRODUCT, ...hostAddresses() };
}

export function hasMachineId(): boolean {
  return MACHINE_SOURCES.some((p) => existsSync(p) && readTrim(p).length >= 8);
}

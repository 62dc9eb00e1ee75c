// `vigil-server certs init`: writes a new CA, a server certificate for the given hosts, an
// agent client certificate and the internal-call secret into one directory (keys mode 0600).
// Refuses to overwrite an existing CA unless --force, so a fleet's CA is never lost by accident.
import { existsSync, mkdirSync, writeFileSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { createCa, issueLeaf } from "./issue.ts";
import { CERT_FILES } from "../../common/tls.ts";
import { UsageError } from "../../common/errors.ts";

export const SECRET_FILE = "internal.secret";

export interface InitOptions {
  out: string;
  serverHosts: string[];
  agentName?: string;
  days?: number;
  force?: boolean;
}

export async function certsInit(o: InitOptions): Promise<string[]> {
  if (o.serverHosts.length === 0) throw new UsageError("--server-hosts needs at least one host name or IP");
  for (const h of o.serverHosts) if (!/^[A-Za-z0-9.:*-]+$/.test(h)) throw new UsageError(`--server-hosts: "${h}" is not a host name or IP address`);
  if (existsSync(join(o.out, CERT_FILES.ca)) && !o.force) throw new UsageError(`${join(o.out, CERT_FILES.ca)} exists; use --force to replace the CA (every agent will need new certificates)`);
  mkdirSync(o.out, { recursive: true, mode: 0o700 });
  const ca = await createCa();
  const server = await issueLeaf(ca, { commonName: o.serverHosts[0], hosts: o.serverHosts, usage: "server", days: o.days });
  const agent = await issueLeaf(ca, { commonName: o.agentName ?? "vigil-agent", usage: "client", days: o.days });
  const files: [string, string, number][] = [
    [CERT_FILES.ca, ca.certPem, 0o644],
    ["ca.key", ca.keyPem, 0o600],
    [CERT_FILES.serverCert, server.certPem, 0o644],
    [CERT_FILES.serverKey, server.keyPem, 0o600],
    [CERT_FILES.agentCert, agent.certPem, 0o644],
    [CERT_FILES.agentKey, agent.keyPem, 0o600],
    [SECRET_FILE, randomBytes(32).toString("hex") + "\n", 0o600],
  ];
  for (const [name, text, mode] of files) {
    const p = join(o.out, name);
    writeFileSync(p, text, { mode });
    chmodSync(p, mode);
  }
  return files.map(([n]) => join(o.out, n));
}

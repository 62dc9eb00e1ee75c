// Start-up checks and all-in-one conveniences of `vigil-server`, done before any port opens:
// the data directory, the certificate directory (created with certsInit on first start when
// --certs is not given) and the internal secret (config, else <certs>/internal.secret).
import { accessSync, constants, existsSync, mkdirSync, readFileSync } from "node:fs";
import { hostname, networkInterfaces } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../../common/errors.ts";
import { CERT_FILES, loadCerts, type PemPair } from "../../common/tls.ts";
import type { Logger } from "../../common/log.ts";
import { certsInit, SECRET_FILE } from "../certs/init.ts";
import type { ServerConfig } from "../config.ts";

export const MIN_SECRET_CHARS = 16;

export function ensureDataDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o750 });
    accessSync(dir, constants.W_OK);
  } catch (e) {
    throw new ConfigError("data_dir", `cannot use ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Names for the all-in-one server certificate: loopback, this host's name and its addresses. */
export function defaultServerHosts(): string[] {
  const hosts = ["localhost", "127.0.0.1", "::1", hostname()];
  for (const addrs of Object.values(networkInterfaces())) for (const a of addrs ?? []) if (!a.internal && !a.address.includes("%")) hosts.push(a.address);
  return [...new Set(hosts)].filter((h) => /^[A-Za-z0-9.:*-]+$/.test(h));
}

export interface Prepared {
  certsDir: string;
  /** the AC's CA, certificate and key (when the AC runs) */
  serverCerts?: PemPair;
  secret: string;
}

export async function prepare(cfg: ServerConfig, o: { needServerCerts: boolean; log: Logger; notice: (line: string) => void }): Promise<Prepared> {
  ensureDataDir(cfg.data_dir);
  const certsDir = cfg.certs ?? join(cfg.data_dir, "certs");
  if (cfg.certs === undefined && !existsSync(join(certsDir, CERT_FILES.ca))) {
    const hosts = defaultServerHosts();
    await certsInit({ out: certsDir, serverHosts: hosts });
    o.log.info("created a CA and certificates (first start)", { dir: certsDir, server_hosts: hosts.join(",") });
    o.notice(`vigil-server: created certificates in ${certsDir}; agents need ${join(certsDir, CERT_FILES.ca)}, ${join(certsDir, CERT_FILES.agentCert)} and ${join(certsDir, CERT_FILES.agentKey)} (vigil-agent run --certs DIR with those three files)\n`);
  }
  const serverCerts = o.needServerCerts ? loadCerts(certsDir, "server", "certs") : undefined;
  let secret = cfg.internal_secret;
  if (secret === undefined) {
    const file = join(certsDir, SECRET_FILE);
    try {
      secret = readFileSync(file, "utf8").trim();
    } catch (e) {
      throw new ConfigError("internal_secret", `not set, and ${file} cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message} (set VIGIL_INTERNAL_SECRET or run "vigil-server certs init --out ${certsDir}")`);
    }
    if (secret.length < MIN_SECRET_CHARS) throw new ConfigError("internal_secret", `${file} holds fewer than ${MIN_SECRET_CHARS} characters`);
  }
  return { certsDir, serverCerts, secret };
}

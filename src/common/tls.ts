// Loads a certificate directory written by `vigil-server certs init` (ca.crt, server.crt,
// server.key, agent.crt, agent.key) with errors that name the missing or unreadable file.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "./errors.ts";

export const CERT_FILES = { ca: "ca.crt", serverCert: "server.crt", serverKey: "server.key", agentCert: "agent.crt", agentKey: "agent.key" } as const;

export interface PemPair {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

function readPem(dir: string, file: string, setting: string): Buffer {
  const p = join(dir, file);
  let b: Buffer;
  try {
    b = readFileSync(p);
  } catch (e) {
    throw new ConfigError(setting, `cannot read ${p}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message} (create the directory with "vigil-server certs init --out ${dir}")`);
  }
  if (!b.includes("-----BEGIN ")) throw new ConfigError(setting, `${p} is not a PEM file`);
  return b;
}

/** The CA and this side's certificate and key: role "server" (AC) or "agent". */
export function loadCerts(dir: string, role: "server" | "agent", setting = "--certs"): PemPair {
  const ca = readPem(dir, CERT_FILES.ca, setting);
  return role === "server"
    ? { ca, cert: readPem(dir, CERT_FILES.serverCert, setting), key: readPem(dir, CERT_FILES.serverKey, setting) }
    : { ca, cert: readPem(dir, CERT_FILES.agentCert, setting), key: readPem(dir, CERT_FILES.agentKey, setting) };
}

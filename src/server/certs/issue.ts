// X.509 for the deployment's own CA (@peculiar/x509 over WebCrypto; no openssl): a CA, server
// certificates with DNS/IP subject alternative names, and agent client certificates. ECDSA
// P-256 keys, PKCS#8 PEM. Used by `vigil-server certs` and by tests that need a foreign CA or
// an expired certificate.
import "reflect-metadata"; // @peculiar/x509 (through tsyringe) needs the Reflect metadata API
import * as x509 from "@peculiar/x509";
import { isIP } from "node:net";
import { webcrypto, randomBytes, createPrivateKey } from "node:crypto";

const crypto = webcrypto as unknown as Crypto;
x509.cryptoProvider.set(crypto);

const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const DAY = 86_400_000;

export interface Issued {
  certPem: string;
  keyPem: string;
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
}

/** PKCS#8 DER → PEM, by node:crypto (no hand-written PEM framing). */
function pemKey(der: ArrayBuffer): string {
  return createPrivateKey({ key: Buffer.from(der), format: "der", type: "pkcs8" }).export({ format: "pem", type: "pkcs8" }).toString();
}

function serial(): string {
  const b = randomBytes(16);
  b[0] &= 0x7f; // positive
  return b.toString("hex");
}

async function finish(cert: x509.X509Certificate, keys: CryptoKeyPair): Promise<Issued> {
  return { cert, keys, certPem: cert.toString("pem") + "\n", keyPem: pemKey(await crypto.subtle.exportKey("pkcs8", keys.privateKey)) };
}

export interface Validity {
  notBefore?: Date;
  notAfter?: Date;
  days?: number;
}

function window(v: Validity, defDays: number): { notBefore: Date; notAfter: Date } {
  const notBefore = v.notBefore ?? new Date(Date.now() - 5 * 60_000); // tolerate small clock skew
  return { notBefore, notAfter: v.notAfter ?? new Date(notBefore.getTime() + (v.days ?? defDays) * DAY) };
}

export async function createCa(name = "Vigil CA", v: Validity = {}): Promise<Issued> {
  const keys = (await crypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${name}, O=Vigil`,
    ...window(v, 3650),
    keys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return finish(cert, keys);
}

/** Re-load a CA from PEM (to issue more certificates later). */
export async function loadCa(certPem: string, keyPem: string): Promise<Issued> {
  const cert = new x509.X509Certificate(certPem);
  const der = createPrivateKey(keyPem).export({ format: "der", type: "pkcs8" });
  const privateKey = await crypto.subtle.importKey("pkcs8", der, ALG, true, ["sign"]);
  const publicKey = await cert.publicKey.export(ALG, ["verify"]);
  return { cert, certPem, keyPem, keys: { privateKey, publicKey } };
}

export interface LeafOptions extends Validity {
  commonName: string;
  /** DNS names and IP addresses (server certificates) */
  hosts?: string[];
  usage: "server" | "client";
}

export async function issueLeaf(ca: Issued, o: LeafOptions): Promise<Issued> {
  const keys = (await crypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as CryptoKeyPair;
  const sans = (o.hosts ?? []).map((h) => (isIP(h) ? { type: "ip" as const, value: h } : { type: "dns" as const, value: h }));
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
    new x509.ExtendedKeyUsageExtension([o.usage === "server" ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
    await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
  ];
  if (sans.length) extensions.push(new x509.SubjectAlternativeNameExtension(sans));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${o.commonName}, O=Vigil`,
    issuer: ca.cert.subject,
    ...window(o, 825),
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    signingAlgorithm: ALG,
    extensions,
  });
  return finish(cert, keys);
}

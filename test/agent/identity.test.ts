// The agent's identity: a stable id from the machine (or generated once and kept), the host's
// addresses split into intranet and extranet.
import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { agentId, buildIdentity, hostAddresses, isPrivateIp, uuidV5, hasMachineId } from "../../src/agent/daemon/identity.ts";
import { tempDir } from "../harness.ts";

describe("identity", () => {
  test("the id is derived from the machine files and stable", () => {
    using d = tempDir();
    const mid = join(d.path, "machine-id");
    writeFileSync(mid, "0123456789abcdef0123456789abcdef\n");
    const a = agentId({ dataDir: d.path, sources: [mid] });
    const b = agentId({ dataDir: d.path, sources: [mid] });
    expect(a.source).toBe("machine");
    expect(a.id).toBe(b.id);
    expect(a.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    writeFileSync(mid, "fedcba9876543210fedcba9876543210\n");
    expect(agentId({ dataDir: d.path, sources: [mid] }).id).not.toBe(a.id);
    // RFC 4122 test vector (python: uuid.uuid5(uuid.NAMESPACE_DNS, "python.org"))
    expect(uuidV5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "python.org")).toBe("886313e1-3b8a-5372-9b90-0c9aee199e5d");
  });

  test("without machine files an id is generated once and kept in the data dir; an override wins", () => {
    using d = tempDir();
    const none = [join(d.path, "absent")];
    const a = agentId({ dataDir: d.path, sources: none });
    expect(a.source).toBe("generated");
    expect(readFileSync(join(d.path, "agent-id"), "utf8").trim()).toBe(a.id);
    const b = agentId({ dataDir: d.path, sources: none });
    expect(b).toEqual({ id: a.id, source: "data-dir" });
    expect(agentId({ dataDir: d.path, sources: none, override: "my-host-1" })).toEqual({ id: "my-host-1", source: "config" });
    // a firmware placeholder uuid is not an identity
    const dmi = join(d.path, "product_uuid");
    writeFileSync(dmi, "03000200-0400-0500-0006-000700080009\n");
    expect(agentId({ dataDir: d.path, sources: [dmi] }).source).toBe("data-dir");
  });

  test("this machine's identity", () => {
    using d = tempDir();
    const id = buildIdentity({ dataDir: d.path, version: "1.2.3" });
    expect(id.product).toBe("vigil-agent");
    expect(id.version).toBe("1.2.3");
    expect(id.hostname.length).toBeGreaterThan(0);
    if (hasMachineId()) expect(id.idSource).toBe("machine");
    expect(buildIdentity({ dataDir: d.path, version: "x" }).agentId).toBe(id.agentId);
  });

  test("private ranges are intranet, the rest extranet; loopback is left out", () => {
    for (const ip of ["10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "100.64.0.1", "169.254.1.1", "fd00::1", "fe80::1", "::ffff:10.0.0.1"]) expect(isPrivateIp(ip)).toBe(true);
    for (const ip of ["8.8.8.8", "172.32.0.1", "193.168.1.1", "2001:4860::8888", "100.128.0.1"]) expect(isPrivateIp(ip)).toBe(false);
    const a = hostAddresses({
      lo: [{ address: "127.0.0.1", family: "IPv4", internal: true, netmask: "", mac: "", cidr: null }],
      eth0: [
        { address: "10.0.0.5", family: "IPv4", internal: false, netmask: "", mac: "", cidr: null },
        { address: "203.0.113.9", family: "IPv4", internal: false, netmask: "", mac: "", cidr: null },
        { address: "fe80::1", family: "IPv6", internal: false, netmask: "", mac: "", cidr: null, scopeid: 2 },
        { address: "2001:db8::5", family: "IPv6", internal: false, netmask: "", mac: "", cidr: null, scopeid: 0 },
      ],
    });
    expect(a).toEqual({ intranetIpv4: ["10.0.0.5"], extranetIpv4: ["203.0.113.9"], intranetIpv6: ["fe80::1"], extranetIpv6: ["2001:db8::5"] });
  });
});

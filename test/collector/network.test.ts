// Network family against the real kernel, on loopback only: IPv4 and IPv6 TCP, AF_UNIX,
// refused connections, and a DNS answer from a DNS server this test runs on 127.0.0.1:53.
import { test, expect, describe } from "bun:test";
import { canLoadBpf, collect, fixture, run } from "../harness.ts";

const trig = () => fixture("trig-net");
const kv = (s: string) => Object.fromEntries(s.trim().split("\n").map((l) => l.split("="))) as Record<string, string>;

describe.skipIf(!canLoadBpf)("network events", () => {
  test("connect (IPv4, and refused), getpeername, sendto on a connected socket", async () => {
    const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {}, open() {} } });
    const c = collect(["connect", "getpeername", "sendto"]);
    let r!: Awaited<ReturnType<typeof run>>;
    try {
      r = await run([trig(), "tcp4", String(server.port)]);
      await c.waitFor((e) => e.fields.tgid === String(r.pid) && e.event === "connect" && e.fields.res === "-111");
    } finally {
      await c.stop();
      server.stop(true);
    }
    const o = kv(r.stdout);
    const [ok, refused] = c.of(r.pid, "connect");
    expect(ok.fields).toMatchObject({ res: "0", sa_family: "2", dip: "127.0.0.1", dport: String(server.port), sip: "127.0.0.1", sport: o.sport });
    expect(refused.fields).toMatchObject({ res: "-111", dip: "127.0.0.1", dport: "1" });
    const [peer] = c.of(r.pid, "getpeername");
    expect(peer.fields).toMatchObject({ res: "0", dip: "127.0.0.1", dport: String(server.port), sport: o.sport });
    const sends = c.of(r.pid, "sendto");
    expect(sends.map((e) => [e.fields.res, e.fields.dip, e.fields.dport])).toEqual([["4", "127.0.0.1", String(server.port)]]);
  });

  test("bind, accept and recvfrom over IPv6 loopback", async () => {
    const c = collect(["bind", "accept", "recvfrom"]);
    const srv = Bun.spawn([trig(), "tcp6-server"], { stdout: "pipe" });
    let out = "";
    try {
      const reader = srv.stdout.getReader();
      while (!out.includes("port=")) out += new TextDecoder().decode((await reader.read()).value);
      const port = Number(/port=(\d+)/.exec(out)![1]);
      const sock = await Bun.connect({ hostname: "::1", port, socket: { data() {}, open(s) { s.write("hi"); } } });
      await c.waitFor((e) => e.fields.tgid === String(srv.pid) && e.event === "recvfrom");
      sock.end();
      await srv.exited;
      const [bind] = c.of(srv.pid, "bind");
      expect(bind.fields).toMatchObject({ res: "0", sa_family: "10", sip: "::1", sport: "0" });
      const [acc] = c.of(srv.pid, "accept");
      expect(acc.fields).toMatchObject({ sa_family: "10", sip: "::1", sport: String(port), dip: "::1" });
      expect(Number(acc.fields.res)).toBeGreaterThan(2);
      const [rcv] = c.of(srv.pid, "recvfrom");
      expect(rcv.fields).toMatchObject({ res: "2", sport: String(port), dip: "::1", fd: acc.fields.res });
    } finally {
      srv.kill();
      await c.stop();
    }
  });

  test("socketpair and an AF_UNIX connect that fails", async () => {
    const c = collect(["socketpair", "connect"]);
    let r!: Awaited<ReturnType<typeof run>>;
    try {
      r = await run([trig(), "unix"]);
      await c.waitFor((e) => e.fields.tgid === String(r.pid) && e.event === "connect");
    } finally {
      await c.stop();
    }
    const o = kv(r.stdout);
    const [sp] = c.of(r.pid, "socketpair");
    expect(sp.fields).toMatchObject({ res: "0", domain: "1", type: "1", fd0: o.fd0, fd1: o.fd1 });
    const [cu] = c.of(r.pid, "connect");
    expect(cu.fields).toMatchObject({ res: "-2", sa_family: "1", dip: "/nonexistent/vig" }); // 16 bytes of sun_path
  });

  test("dns: a real query answered NXDOMAIN by a server on 127.0.0.1:53", async () => {
    const server = await Bun.udpSocket({
      hostname: "127.0.0.1", port: 53,
      socket: {
        data(sock, buf, port, addr) {
          const q = new Uint8Array(buf);
          const resp = new Uint8Array(q);
          resp[2] = 0x81; // QR=1, opcode 0, RD=1
          resp[3] = 0x83; // RA=1, rcode 3 (NXDOMAIN)
          sock.send(resp, port, addr);
        },
      },
    });
    const c = collect(["dns"]);
    let r!: Awaited<ReturnType<typeof run>>;
    try {
      r = await run([trig(), "dns", "127.0.0.1", "no-such-host.vigil.test"]);
      expect(kv(r.stdout).recvfrom).not.toBe(undefined);
      await c.waitFor((e) => e.fields.tgid === String(r.pid));
    } finally {
      await c.stop();
      server.close();
    }
    const [d] = c.of(r.pid, "dns");
    expect(d.fields).toMatchObject({ query: "no-such-host.vigil.test", qtype: "1", opcode: "0", rcode: "3", dip: "127.0.0.1", dport: "53", sa_family: "2" });
    // recvfrom itself was not selected: nothing else is reported
    expect(c.of(r.pid).map((e) => e.event)).toEqual(["dns"]);
  });
});

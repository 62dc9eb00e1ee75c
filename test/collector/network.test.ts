// Network family against the real kernel, on loopback and in a network namespace of the test's
// own: IPv4 and IPv6 TCP and UDP, AF_UNIX (paths and abstract names), every syscall variant,
// failing calls, and DNS answers from a DNS server this test runs on 127.0.0.1:53 / [::1]:53.
import { test, expect, describe, beforeAll, afterAll } from "bun:test";
import { canLoadBpf, collect, fixture, run, tempDir, type Collection } from "../harness.ts";
import { parseDnsQuestion, unixName } from "../../src/agent/collector/events/network.ts";

const trig = () => fixture("trig-net");
const kv = (s: string) => Object.fromEntries(s.trim().split("\n").map((l) => l.split("="))) as Record<string, string>;

/** Wait until the process has reported at least counts[name] events of each name. */
async function until(c: Collection, pid: number, counts: Record<string, number>): Promise<void> {
  await c.waitFor(() => Object.entries(counts).every(([n, k]) => c.of(pid, n).length >= k));
}

describe("network decoding helpers", () => {
  test("DNS question: labels, type, and cut or compressed names", () => {
    const q = new Uint8Array([3, 0x77, 0x77, 0x77, 1, 0x61, 0, 0, 28, 0, 1]);
    expect(parseDnsQuestion(q)).toEqual({ name: "www.a", qtype: 28 });
    expect(parseDnsQuestion(new Uint8Array([3, 0x77, 0x77]))).toEqual({ name: "", qtype: 0 });
    expect(parseDnsQuestion(new Uint8Array([1, 0x61, 0xc0, 12]))).toEqual({ name: "a", qtype: 0 });
  });
  test("AF_UNIX names: paths end at the NUL, abstract names start with @", () => {
    expect(unixName(new TextEncoder().encode("/run/x.sock\0\0garbage"))).toBe("/run/x.sock");
    expect(unixName(new Uint8Array([0, 0x61, 0x62]))).toBe("@ab");
    expect(unixName(new Uint8Array(0))).toBe("");
  });
});

describe.skipIf(!canLoadBpf)("network events", () => {
  test("connect over IPv4 (ok, refused, in progress), getpeername (ok, ENOTCONN), send on a connected socket", async () => {
    const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {}, open() {} } });
    const port = String(server.port);
    await using c = collect(["connect", "getpeername", "sendto"]);
    const r = await run([trig(), "tcp4", port]);
    await until(c, r.pid, { connect: 4, getpeername: 2, sendto: 1 });
    server.stop(true);
    const o = kv(r.stdout);
    expect(o).toMatchObject({ connect: "0", refused: "-111", nonblocking: "-115", getpeername_fail: "-107" });

    const [ok, refused, , inProgress] = c.of(r.pid, "connect"); // the third fills a listener's queue
    expect(ok.fields).toMatchObject({
      pid: String(r.pid), res: "0", fd: o.fd, sa_family: "2", dip: "127.0.0.1", dport: port, sip: "127.0.0.1", sport: o.sport,
    });
    expect(refused.fields).toMatchObject({ res: "-111", fd: o.unconnected_fd, sa_family: "2", dip: "127.0.0.1", dport: "1" });
    // EINPROGRESS: the local end was bound by the connect itself
    expect(inProgress.fields).toMatchObject({ res: "-115", sa_family: "2", dip: "127.0.0.1", dport: o.fullport, sip: "127.0.0.1", sport: o.nbport });

    const [peer, notConnected] = c.of(r.pid, "getpeername");
    expect(peer.fields).toMatchObject({ res: "0", fd: o.fd, sa_family: "2", dip: "127.0.0.1", dport: port, sip: "127.0.0.1", sport: o.sport });
    expect(notConnected.fields).toMatchObject({ res: "-107", fd: o.unconnected_fd, dip: "0.0.0.0", dport: "0" });

    const sends = c.of(r.pid, "sendto");
    expect(sends.map((e) => e.fields)).toMatchObject([{ res: "4", len: "4", vlen: "1", fd: o.fd, dip: "127.0.0.1", dport: port, sport: o.sport }]);
  });

  test("IPv6: bind, accept and accept4, every send/recv variant, and their failures", async () => {
    await using c = collect(["bind", "accept", "sendto", "recvfrom"]);
    const r = await run([trig(), "tcp6"]);
    await until(c, r.pid, { bind: 2, accept: 4, sendto: 3, recvfrom: 3 });
    const o = kv(r.stdout);
    expect(o).toMatchObject({ bind_fail: "-98", accept_fail: "-22", accept4_fail: "-11" });
    const ev = (name: string) => c.of(r.pid, name).map((e) => e.fields);

    expect(ev("bind")).toMatchObject([
      { res: "0", sa_family: "10", sip: "::1", sport: "0" },
      { res: "-98", sa_family: "10", sip: "::1", sport: o.port },
    ]);
    expect(ev("accept")).toMatchObject([
      // accept with an address buffer and accept4 without one: the peer from the new socket
      { res: o.accept, sa_family: "10", dip: "::1", dport: o.c1port, sip: "::1", sport: o.port },
      { res: o.accept4, sa_family: "10", dip: "::1", dport: o.c2port, sip: "::1", sport: o.port },
      { res: "-22" },
      { res: "-11", sa_family: "10", sip: "::1", sport: o.port }, // the listening socket's end
    ]);
    expect(ev("sendto")).toMatchObject([
      { res: "5", len: "5", vlen: "1", dip: "::1", dport: o.port, sport: o.c1port }, // sendmsg, two iovecs
      { res: "2", len: "2", vlen: "2", dip: "::1", dport: o.port, sport: o.c2port }, // sendmmsg: the first message's bytes
      { res: "3", len: "3", vlen: "1", fd: o.accept, dip: "::1", dport: o.c1port, sport: o.port }, // sendto
    ]);
    expect(ev("recvfrom")).toMatchObject([
      { res: "5", len: "64", vlen: "1", fd: o.accept, dip: "::1", dport: o.c1port, sport: o.port }, // recvmsg
      { res: "1", len: "64", vlen: "1", fd: o.accept4, dip: "::1", dport: o.c2port, sport: o.port }, // recvmmsg
      { res: "3", len: "64", vlen: "1", dip: "::1", dport: o.port, sport: o.c1port }, // recvfrom
    ]);
  });

  test("UDP over IPv6: explicit addresses both ways, failures, and no DNS event for other ports", async () => {
    await using c = collect(["sendto", "recvfrom", "dns"]);
    const r = await run([trig(), "udp6"]);
    await until(c, r.pid, { sendto: 3, recvfrom: 3 });
    const o = kv(r.stdout);
    expect(c.of(r.pid, "sendto").map((e) => e.fields)).toMatchObject([
      { res: "5", len: "5", fd: o.afd, sa_family: "10", dip: "::1", dport: o.bport, sip: "::1", sport: o.aport },
      { res: "3", len: "3", fd: o.bfd, sa_family: "10", dip: "::1", dport: o.aport, sport: o.bport }, // sendmsg's msg_name
      { res: "-89", len: "1", fd: o.afd, sport: o.aport }, // EDESTADDRREQ
    ]);
    expect(c.of(r.pid, "recvfrom").map((e) => e.fields)).toMatchObject([
      { res: "5", len: "64", fd: o.bfd, sa_family: "10", dip: "::1", dport: o.aport, sport: o.bport }, // the sender returned
      { res: "3", len: "64", fd: o.afd, dip: "::1", dport: o.bport, sport: o.aport }, // recvmsg's msg_name
      { res: "-11", fd: o.afd, dport: "0" }, // EAGAIN: no sender
    ]);
    expect(c.of(r.pid, "dns")).toEqual([]);
  });

  test("AF_UNIX: socketpair, bind, connect, accept, getpeername, abstract names, sendto, failures", async () => {
    using dir = tempDir();
    const srv = `${dir.path}/srv.sock`;
    await using c = collect(["socketpair", "bind", "connect", "accept", "getpeername", "sendto"]);
    const r = await run([trig(), "unix", dir.path]);
    await until(c, r.pid, { socketpair: 2, bind: 2, connect: 2, accept: 1, getpeername: 1, sendto: 1 });
    const o = kv(r.stdout);
    const ev = (name: string) => c.of(r.pid, name).map((e) => e.fields);
    const abs = `@vigil-abs-${r.pid}`;
    expect(ev("socketpair")).toMatchObject([
      { res: "0", domain: "1", type: "1", fd0: o.fd0, fd1: o.fd1 },
      { res: "-95", domain: "2", type: "1", fd0: "-1", fd1: "-1" },
    ]);
    expect(ev("bind")).toMatchObject([{ res: "0", sa_family: "1", sip: srv }, { res: "0", sa_family: "1", sip: abs }]);
    expect(ev("connect")).toMatchObject([
      { res: "0", sa_family: "1", dip: srv, sip: "" },
      { res: "-2", sa_family: "1", dip: `${dir.path}/missing.sock` },
    ]);
    // the accepted socket's own end is the listener's path; the unbound client has none
    expect(ev("accept")).toMatchObject([{ res: o.accept, sa_family: "1", sip: srv, dip: "" }]);
    expect(ev("getpeername")).toMatchObject([{ res: "0", sa_family: "1", dip: srv, sip: "" }]);
    expect(ev("sendto")).toMatchObject([{ res: "1", len: "1", sa_family: "1", dip: abs }]);
  });

  test("events not selected are not reported", async () => {
    using dir = tempDir();
    await using c = collect(["socketpair"]);
    const a = await run([trig(), "tcp6"]);
    const b = await run([trig(), "unix", dir.path]);
    await until(c, b.pid, { socketpair: 2 });
    expect(c.of(a.pid)).toEqual([]);
    expect(c.of(b.pid).map((e) => e.event)).toEqual(["socketpair", "socketpair"]);
  });

  describe("dns", () => {
    const ns = `vigil-net-${process.pid}`;
    let server: ReturnType<typeof Bun.spawn> | undefined;
    const inNs = (...args: string[]) => ["ip", "netns", "exec", ns, trig(), ...args];

    beforeAll(async () => {
      for (const cmd of [["ip", "netns", "add", ns], ["ip", "-n", ns, "link", "set", "lo", "up"]]) {
        const p = Bun.spawnSync(cmd, { stderr: "pipe" });
        if (p.exitCode !== 0) throw new Error(`${cmd.join(" ")}: ${p.stderr}`);
      }
      server = Bun.spawn(inNs("dns-server"), { stdout: "pipe", stderr: "inherit" });
      const reader = (server.stdout as ReadableStream<Uint8Array>).getReader();
      let out = "";
      while (!out.includes("ready=1")) {
        const { value, done } = await reader.read();
        if (done) throw new Error("the DNS server did not start");
        out += new TextDecoder().decode(value);
      }
      reader.releaseLock();
    });

    afterAll(async () => {
      server?.kill();
      await server?.exited;
      Bun.spawnSync(["ip", "netns", "del", ns]);
    });

    test("answers read with recvfrom, recvmsg, recvmmsg, read and readv, over IPv4 and IPv6: query, opcode, rcode", async () => {
      await using c = collect(["dns"]);
      const runs = [];
      const cases = [["127.0.0.1", "recvfrom"], ["127.0.0.1", "recvmsg"], ["127.0.0.1", "recvmmsg"], ["127.0.0.1", "read"], ["127.0.0.1", "readv"], ["::1", "recvfrom"], ["::1", "read"]];
      for (const [server, variant] of cases) {
        const name = `nx-${variant}.v${server.includes(":") ? 6 : 4}.vigil.test`;
        const r = await run(inNs("dns-query", server, name, variant));
        runs.push({ r, o: kv(r.stdout), name, server, variant });
      }
      for (const { r } of runs) await until(c, r.pid, { dns: 1 });
      for (const { r, o, name, server, variant } of runs) {
        // bytes received (header, name in wire form, type, class); recvmmsg returns the message count
        expect(o.recv).toBe(variant === "recvmmsg" ? "1" : String(12 + name.length + 2 + 4));
        const evs = c.of(r.pid, "dns");
        expect(evs.length).toBe(1);
        expect(evs[0].fields).toMatchObject({
          pid: String(r.pid), res: o.recv, query: name, qtype: "1", qr: "1", opcode: "0", rcode: "3", fd: o.fd,
          sa_family: server === "::1" ? "10" : "2", dip: server, dport: "53", sport: o.lport,
          // an unconnected socket's local address is the wildcard; a connected one's is chosen by the route
          sip: variant !== "recvfrom" ? server : server === "::1" ? "::" : "0.0.0.0",
        });
      }
      // the server's own receives (peer: the client's port) are not DNS answers
      expect(c.of(server!.pid, "dns")).toEqual([]);
    });

    test("opcode is the answer's (STATUS = 2)", async () => {
      await using c = collect(["dns"]);
      const r = await run(inNs("dns-query", "127.0.0.1", "status.vigil.test", "recvfrom", "2"));
      await until(c, r.pid, { dns: 1 });
      expect(c.of(r.pid, "dns")[0].fields).toMatchObject({ query: "status.vigil.test", opcode: "2", rcode: "3" });
    });

    test("glibc's resolver: res_query (send) and getaddrinfo (sendmmsg of A and AAAA), answers by recvfrom", async () => {
      await using c = collect(["dns"]);
      const r = await run(inNs("dns-glibc", "nx.glibc.vigil.test"));
      await until(c, r.pid, { dns: 3 });
      expect(c.of(r.pid, "dns").map((e) => [e.fields.query, e.fields.qtype, e.fields.rcode, e.fields.dip, e.fields.dport])).toEqual([
        ["nx.glibc.vigil.test", "1", "3", "127.0.0.1", "53"],
        ["nx.glibc.vigil.test", "1", "3", "127.0.0.1", "53"],
        ["nx.glibc.vigil.test", "28", "3", "127.0.0.1", "53"],
      ]);
    });

    test("dns and recvfrom selected together: one answer gives both events", async () => {
      await using c = collect(["dns", "recvfrom"]);
      const r = await run(inNs("dns-query", "127.0.0.1", "both.vigil.test", "recvfrom"));
      await until(c, r.pid, { dns: 1, recvfrom: 1 });
      const o = kv(r.stdout);
      expect(c.of(r.pid, "dns").map((e) => [e.fields.query, e.fields.rcode, e.fields.res])).toEqual([["both.vigil.test", "3", o.recv]]);
      expect(c.of(r.pid, "recvfrom").map((e) => e.fields)).toMatchObject([{ res: o.recv, len: "512", dip: "127.0.0.1", dport: "53", sport: o.lport }]);
    });

    test("dns not selected: no DNS event, while the same process's connect is reported", async () => {
      await using c = collect(["connect"]);
      const r = await run(inNs("dns-query", "127.0.0.1", "off.vigil.test", "recvmsg"));
      await until(c, r.pid, { connect: 1 });
      expect(c.of(r.pid).map((e) => [e.event, e.fields.dport])).toEqual([["connect", "53"]]);
    });
  });
});

// Repository hosts, on SQLite and PostgreSQL: heartbeats (1000 and 1001), filters, paging, tags, counts.
import { expect, test } from "bun:test";
import { eachDialect, heartbeat, HOSTILE } from "./fixture.ts";

eachDialect("hosts", (h) => {
  test("a heartbeat creates a host; later ones update it, first seen stays", async () => {
    await h.repo.recordHeartbeats([heartbeat({ at: 100, fields: { cpu: "1" } })]);
    expect(await h.repo.getHost("agent-1")).toEqual({
      agentId: "agent-1", hostname: "web-1", intranetIpv4: ["10.0.0.1"], extranetIpv4: [], intranetIpv6: [], extranetIpv6: [],
      version: "1.0.0", product: "vigil-agent", acAddr: "127.0.0.1:6751", firstSeenAt: 100, lastSeenAt: 100,
      facts: { cpu: "1" }, plugins: {}, tags: [],
    });
    await h.repo.recordHeartbeats([heartbeat({ at: 200, hostname: "web-1b", version: "1.1.0", extranetIpv6: ["2001:db8::1"], fields: { cpu: "2", mem: "3" } })]);
    const x = await h.repo.getHost("agent-1");
    expect(x).toMatchObject({ hostname: "web-1b", version: "1.1.0", extranetIpv6: ["2001:db8::1"], firstSeenAt: 100, lastSeenAt: 200, facts: { cpu: "2", mem: "3" } });
    expect(await h.repo.getHost("agent-2")).toBeUndefined();
  });

  test("plugin heartbeats (1001) merge into plugins[name] and keep the facts", async () => {
    await h.repo.recordHeartbeats([heartbeat({ at: 100, fields: { cpu: "1" } })]);
    await h.repo.recordHeartbeats([heartbeat({ at: 110, plugin: "collector", fields: { rss: "10", pversion: "1" } })]);
    await h.repo.recordHeartbeats([heartbeat({ at: 120, plugin: "journal", fields: { rss: "20" } })]);
    await h.repo.recordHeartbeats([heartbeat({ at: 130, plugin: "collector", fields: { rss: "11" } })]);
    const x = await h.repo.getHost("agent-1");
    expect(x?.facts).toEqual({ cpu: "1" });
    expect(x?.plugins).toEqual({ collector: { rss: "11" }, journal: { rss: "20" } });
    expect(x?.lastSeenAt).toBe(130);
  });

  test("one call with agent and plugin heartbeats of several hosts, one transaction", async () => {
    await h.repo.recordHeartbeats([
      heartbeat({ agentId: "a", at: 10, fields: { n: "1" } }),
      heartbeat({ agentId: "a", at: 11, plugin: "p", fields: { k: "v" } }),
      heartbeat({ agentId: "b", at: 12, plugin: "p", fields: { k: "w" } }),
      heartbeat({ agentId: "a", at: 13, fields: { n: "2" } }),
    ]);
    expect(await h.repo.getHost("a")).toMatchObject({ firstSeenAt: 10, lastSeenAt: 13, facts: { n: "2" }, plugins: { p: { k: "v" } } });
    expect(await h.repo.getHost("b")).toMatchObject({ facts: {}, plugins: { p: { k: "w" } } });
    await h.repo.recordHeartbeats([]);
    expect((await h.repo.countHosts(0)).total).toBe(2);
  });

  test("a heartbeat older than the last one does not move last seen back", async () => {
    await h.repo.recordHeartbeats([heartbeat({ at: 500 })]);
    await h.repo.recordHeartbeats([heartbeat({ at: 400 })]);
    expect(await h.repo.getHost("agent-1")).toMatchObject({ firstSeenAt: 400, lastSeenAt: 500 });
  });

  async function fleet() {
    await h.repo.recordHeartbeats([
      heartbeat({ agentId: "a1", hostname: "web-01", intranetIpv4: ["10.0.0.1"], version: "1.0.0", at: 1000 }),
      heartbeat({ agentId: "a2", hostname: "WEB-02", intranetIpv4: [], extranetIpv4: ["203.0.113.5"], version: "1.1.0", at: 2000 }),
      heartbeat({ agentId: "a3", hostname: "db-01", intranetIpv4: [], intranetIpv6: ["fd00::3"], version: "1.1.0", at: 3000 }),
      heartbeat({ agentId: "a4", hostname: "db_02%", extranetIpv6: ["2001:db8::4"], intranetIpv4: ["10.0.0.1"], version: "1.0.0", at: 500 }),
    ]);
    await h.repo.setTags("a1", ["prod", "web"]);
    await h.repo.setTags("a3", ["prod"]);
  }
  const ids = (r: { items: { agentId: string }[] }) => r.items.map((x) => x.agentId);
  const page = { page: 1, size: 50 };

  test("filters: hostname substring (case-insensitive, wildcards literal), ip, state, tag, version, ids", async () => {
    await fleet();
    // binary order (the test cluster runs with the C collation)
    expect(ids(await h.repo.listHosts({}, page, 0))).toEqual(["a2", "a3", "a4", "a1"]);
    expect(ids(await h.repo.listHosts({ hostname: "web" }, page, 0)).sort()).toEqual(["a1", "a2"]);
    expect(ids(await h.repo.listHosts({ hostname: "_" }, page, 0))).toEqual(["a4"]);
    expect(ids(await h.repo.listHosts({ hostname: "%" }, page, 0))).toEqual(["a4"]);
    expect(ids(await h.repo.listHosts({ hostname: "zzz" }, page, 0))).toEqual([]);
    expect(ids(await h.repo.listHosts({ ip: "10.0.0.1" }, page, 0)).sort()).toEqual(["a1", "a4"]);
    expect(ids(await h.repo.listHosts({ ip: "203.0.113.5" }, page, 0))).toEqual(["a2"]);
    expect(ids(await h.repo.listHosts({ ip: "fd00::3" }, page, 0))).toEqual(["a3"]);
    expect(ids(await h.repo.listHosts({ ip: "2001:db8::4" }, page, 0))).toEqual(["a4"]);
    expect(ids(await h.repo.listHosts({ ip: "10.0.0" }, page, 0))).toEqual([]);
    expect(ids(await h.repo.listHosts({ state: "online" }, page, 2000)).sort()).toEqual(["a2", "a3"]);
    expect(ids(await h.repo.listHosts({ state: "offline" }, page, 2000)).sort()).toEqual(["a1", "a4"]);
    expect(ids(await h.repo.listHosts({ tag: "prod" }, page, 0)).sort()).toEqual(["a1", "a3"]);
    expect(ids(await h.repo.listHosts({ tag: "web" }, page, 0))).toEqual(["a1"]);
    expect(ids(await h.repo.listHosts({ version: "1.1.0" }, page, 0)).sort()).toEqual(["a2", "a3"]);
    expect(ids(await h.repo.listHosts({ agentIds: ["a4", "a2", "zz"] }, page, 0)).sort()).toEqual(["a2", "a4"]);
    expect(ids(await h.repo.listHosts({ agentIds: [] }, page, 0))).toEqual([]);
    expect(ids(await h.repo.listHosts({ tag: "prod", version: "1.1.0", state: "online" }, page, 2000))).toEqual(["a3"]);
    expect(ids(await h.repo.listHosts({ ip: "10.0.0.1", state: "online" }, page, 2000))).toEqual([]);
    const r = await h.repo.listHosts({ tag: "prod" }, page, 0);
    expect(r.total).toBe(2);
    expect(r.items.find((x) => x.agentId === "a1")?.tags).toEqual(["prod", "web"]);
  });

  test("hostIds: every match, no paging", async () => {
    await fleet();
    expect(await h.repo.hostIds({}, 0)).toEqual(["a1", "a2", "a3", "a4"]);
    expect(await h.repo.hostIds({ tag: "prod" }, 0)).toEqual(["a1", "a3"]);
    expect(await h.repo.hostIds({ state: "online" }, 2500)).toEqual(["a3"]);
  });

  test("paging: stable order by hostname, totals, size capped at 1000", async () => {
    const n = 1205;
    await h.repo.recordHeartbeats(Array.from({ length: n }, (_, i) => heartbeat({ agentId: `id-${i}`, hostname: `h-${String(i).padStart(5, "0")}`, intranetIpv4: [`10.1.${i >> 8}.${i & 255}`], at: i })));
    const p1 = await h.repo.listHosts({}, { page: 1, size: 10 }, 0);
    expect(p1.total).toBe(n);
    expect(p1.items.map((x) => x.hostname)).toEqual(Array.from({ length: 10 }, (_, i) => `h-${String(i).padStart(5, "0")}`));
    const p3 = await h.repo.listHosts({}, { page: 3, size: 10 }, 0);
    expect(p3.items[0].hostname).toBe("h-00020");
    const last = await h.repo.listHosts({}, { page: 121, size: 10 }, 0);
    expect(last.items.map((x) => x.hostname)).toEqual(["h-01200", "h-01201", "h-01202", "h-01203", "h-01204"]);
    expect(last.total).toBe(n);
    expect(await h.repo.listHosts({}, { page: 200, size: 10 }, 0)).toEqual({ total: n, items: [] });
    expect(await h.repo.listHosts({ hostname: "nothing-like-it" }, { page: 1, size: 10 }, 0)).toEqual({ total: 0, items: [] });
    expect((await h.repo.listHosts({ hostname: "h-0120" }, { page: 1, size: 10 }, 0)).total).toBe(5);
    const big = await h.repo.listHosts({}, { page: 1, size: 5000 }, 0);
    expect(big.items.length).toBe(1000);
    expect(big.total).toBe(n);
    expect((await h.repo.listHosts({ ip: "10.1.4.100" }, page, 0)).items.map((x) => x.agentId)).toEqual(["id-1124"]);
    expect(await h.repo.countHosts(1000)).toEqual({ total: n, online: n - 1000 });
  });

  test("an address change moves the host in the IP index", async () => {
    await h.repo.recordHeartbeats([heartbeat({ agentId: "a", intranetIpv4: ["10.0.0.1"], at: 1 })]);
    await h.repo.recordHeartbeats([heartbeat({ agentId: "a", intranetIpv4: ["10.0.0.2"], at: 2 })]);
    expect((await h.repo.listHosts({ ip: "10.0.0.1" }, page, 0)).total).toBe(0);
    expect((await h.repo.listHosts({ ip: "10.0.0.2" }, page, 0)).total).toBe(1);
  });

  test("tags: set replaces, add and remove count pairs, unknown hosts ignored", async () => {
    await fleet();
    expect(await h.repo.setTags("a1", ["x", "y", "x"])).toBe(true);
    expect((await h.repo.getHost("a1"))?.tags).toEqual(["x", "y"]);
    expect(await h.repo.setTags("ghost", ["x"])).toBe(false);
    expect(await h.repo.addTags(["a1", "a2", "ghost"], ["y", "z"])).toBe(3); // a1+z, a2+y, a2+z
    expect(await h.repo.addTags(["a1", "a2"], ["y", "z"])).toBe(0);
    expect((await h.repo.getHost("a2"))?.tags).toEqual(["y", "z"]);
    expect(await h.repo.removeTags(["a1", "a2"], ["y"])).toBe(2);
    expect(await h.repo.removeTags(["a1", "a2"], ["y"])).toBe(0);
    expect((await h.repo.getHost("a1"))?.tags).toEqual(["x", "z"]);
    expect(await h.repo.setTags("a1", [])).toBe(true);
    expect((await h.repo.getHost("a1"))?.tags).toEqual([]);
    expect(await h.repo.hostIds({ tag: "z" }, 0)).toEqual(["a2"]);
    expect(await h.repo.addTags([], ["q"])).toBe(0);
    expect(await h.repo.addTags(["a1"], [])).toBe(0);
  });

  test("count online and total", async () => {
    expect(await h.repo.countHosts(0)).toEqual({ total: 0, online: 0 });
    await fleet();
    expect(await h.repo.countHosts(2000)).toEqual({ total: 4, online: 2 });
  });

  test("injection strings in host fields, filters and tags are stored verbatim and harmless", async () => {
    await h.repo.recordHeartbeats(HOSTILE.map((s, i) => heartbeat({ agentId: s, hostname: s, version: s, intranetIpv4: [s], at: i, fields: { [s]: s }, plugin: i % 2 ? s : undefined })));
    for (const s of HOSTILE) {
      const x = await h.repo.getHost(s);
      expect(x?.hostname).toBe(s);
      expect(await h.repo.setTags(s, [s])).toBe(true);
      expect((await h.repo.listHosts({ hostname: s, ip: s, tag: s, version: s }, page, 0)).items.map((i) => i.agentId)).toEqual([s]);
    }
    expect((await h.repo.countHosts(0)).total).toBe(HOSTILE.length);
  });
});

// The SD role over real HTTP: signed register/evict/sync, open reads ordered by weight,
// expiry after the TTL, replication to peers (not re-forwarded), bad input and counters.
import { afterAll, describe, expect, test } from "bun:test";
import { startSd, type SdHandle } from "../../../src/server/sd/index.ts";
import { signedFetch } from "../../../src/common/internal-auth.ts";
import { createLogger } from "../../../src/common/log.ts";

const SECRET = "test-secret-0123456789";
const log = createLogger({ component: "sd-test", level: "error" });
const started: SdHandle[] = [];

async function sd(opts: { peers?: string[]; ttlMs?: number; secret?: string } = {}): Promise<{ h: SdHandle; url: string }> {
  const h = await startSd({ listen: "127.0.0.1", port: 0, secret: opts.secret ?? SECRET, peers: opts.peers ?? [], ttlMs: opts.ttlMs, log });
  started.push(h);
  return { h, url: `http://127.0.0.1:${h.port}` };
}
afterAll(async () => { for (const h of started.reverse()) await h.stop(); });

const post = (url: string, path: string, body: unknown, secret = SECRET) => signedFetch(secret, url + path, { body: typeof body === "string" ? body : JSON.stringify(body) });
const get = async (url: string, path: string) => { const r = await fetch(url + path); return { status: r.status, body: await r.json() as any }; };
const entry = (port: number, weight: number, name = "hids_svr_grpc") => ({ name, ip: "127.0.0.1", port, weight, extra: { version: "test" } });

describe("sd", () => {
  test("register, detail least weight first, count, list, summary, evict", async () => {
    const { url } = await sd();
    for (const [port, w] of [[7001, 30], [7002, 5], [7003, 12]]) {
      const r = await post(url, "/registry/register", entry(port, w));
      expect(r.status).toBe(200);
      expect((await r.json() as any).code).toBe(0);
    }
    await post(url, "/registry/register", entry(7101, 0, "hids_svr_http"));
    const d = await get(url, "/registry/detail?name=hids_svr_grpc");
    expect(d.body.code).toBe(0);
    expect(d.body.data.map((e: any) => e.port)).toEqual([7002, 7003, 7001]);
    expect(d.body.data[0]).toMatchObject({ name: "hids_svr_grpc", ip: "127.0.0.1", weight: 5, extra: { version: "test" } });
    expect((await get(url, "/registry/detail?name=hids_svr_grpc&count=1")).body.data.map((e: any) => e.port)).toEqual([7002]);
    expect((await get(url, "/registry/detail?name=nothing")).body.data).toEqual([]);
    expect((await get(url, "/registry/list")).body.data.length).toBe(4);
    expect((await get(url, "/registry/summary")).body.data).toEqual({ hids_svr_grpc: { count: 3, weight: 47 }, hids_svr_http: { count: 1, weight: 0 } });
    // renewal updates the weight and keeps one entry per ip:port
    await post(url, "/registry/register", entry(7001, 1));
    expect((await get(url, "/registry/detail?name=hids_svr_grpc")).body.data.map((e: any) => e.port)).toEqual([7001, 7002, 7003]);
    const ev = await post(url, "/registry/evict", { name: "hids_svr_grpc", ip: "127.0.0.1", port: 7002 });
    expect((await ev.json() as any).data).toEqual({ evicted: true });
    expect((await get(url, "/registry/detail?name=hids_svr_grpc")).body.data.map((e: any) => e.port)).toEqual([7001, 7003]);
    expect((await get(url, "/ping")).body.code).toBe(0);
  });

  test("register, evict and sync must be signed; reads are open", async () => {
    const { url } = await sd();
    for (const path of ["/registry/register", "/registry/evict", "/registry/sync"]) {
      const unsigned = await fetch(url + path, { method: "POST", body: JSON.stringify(entry(7001, 1)), headers: { "content-type": "application/json" } });
      expect(unsigned.status).toBe(401);
      const wrong = await post(url, path, entry(7001, 1), "another-secret");
      expect(wrong.status).toBe(401);
    }
    expect((await get(url, "/registry/detail?name=hids_svr_grpc")).body.data).toEqual([]);
    const metrics = await (await fetch(url + "/metrics")).text();
    expect(metrics).toMatch(/vigil_sd_rejects_total\{reason="unauthorized"\} 6/);
  });

  test("bad input gets a 400 naming the field, and is counted", async () => {
    const { url } = await sd();
    const cases: [unknown, RegExp][] = [
      ["{not json", /not valid JSON/],
      [{ ip: "127.0.0.1", port: 1 }, /name/],
      [{ name: "", ip: "127.0.0.1", port: 1 }, /name/],
      [{ name: "bad name!", ip: "127.0.0.1", port: 1 }, /name/],
      [{ name: "x", ip: "127.0.0.1", port: 0 }, /port/],
      [{ name: "x", ip: "127.0.0.1", port: 70000 }, /port/],
      [{ name: "x", ip: "127.0.0.1", port: "6751" }, /port/],
      [{ name: "x", ip: "", port: 1 }, /ip/],
      [{ name: "x", ip: "1.2.3.4; rm", port: 1 }, /ip/],
      [{ name: "x", ip: "1.2.3.4", port: 1, weight: -1 }, /weight/],
      [{ name: "x", ip: "1.2.3.4", port: 1, extra: "no" }, /extra/],
      [{ name: "x", ip: "1.2.3.4", port: 1, extra: { big: "y".repeat(5000) } }, /extra/],
      [[1, 2], /expected/],
    ];
    for (const [body, msg] of cases) {
      const r = await post(url, "/registry/register", body);
      expect(r.status).toBe(400);
      const j = await r.json() as any;
      expect(j.code).toBe(400);
      expect(j.msg).toMatch(msg);
    }
    expect((await post(url, "/registry/sync", { register: [{ name: "x" }] })).status).toBe(400);
    expect((await get(url, "/registry/detail")).status).toBe(400);
    expect((await get(url, "/registry/detail")).body.msg).toMatch(/name/);
    for (const c of ["0", "abc", "-1", "1.5"]) {
      const r = await get(url, `/registry/detail?name=x&count=${c}`);
      expect(r.status).toBe(400);
      expect(r.body.msg).toMatch(/count/);
    }
    expect((await get(url, "/nothing")).status).toBe(404);
    expect((await get(url, "/registry/list")).body.data).toEqual([]);
    const metrics = await (await fetch(url + "/metrics")).text();
    expect(metrics).toMatch(/vigil_sd_rejects_total\{reason="invalid"\} 20/);
  });

  test("an entry expires ttl after its last renewal; renewals keep it", async () => {
    const ttlMs = 600;
    const { url } = await sd({ ttlMs });
    await post(url, "/registry/register", entry(7001, 1));
    await post(url, "/registry/register", entry(7002, 1));
    // keep 7002 alive with renewals at a sixth of the TTL, let 7001 lapse
    const until = Date.now() + ttlMs * 3;
    let gone7001 = false;
    while (Date.now() < until) {
      await post(url, "/registry/register", entry(7002, 2));
      const ports = (await get(url, "/registry/detail?name=hids_svr_grpc")).body.data.map((e: any) => e.port);
      expect(ports).toContain(7002);
      if (!ports.includes(7001)) gone7001 = true;
      await Bun.sleep(ttlMs / 6);
    }
    expect(gone7001).toBe(true);
    const metrics = await (await fetch(url + "/metrics")).text();
    expect(metrics).toMatch(/vigil_sd_evictions_total\{reason="expired"\} 1/);
    expect(metrics).toMatch(/vigil_sd_entries\{name="hids_svr_grpc"\} 1/);
  });

  test("registrations and evictions replicate to peers; sync calls are not re-forwarded", async () => {
    const c = await sd();
    const b = await sd({ peers: [c.url] });
    const a = await sd({ peers: [b.url] });
    await post(a.url, "/registry/register", entry(7001, 3));
    let onB: any[] = [];
    expect(await pollUntil(async () => (onB = (await get(b.url, "/registry/detail?name=hids_svr_grpc")).body.data).length === 1)).toBe(true);
    expect(onB[0]).toMatchObject({ ip: "127.0.0.1", port: 7001, weight: 3 });
    // B got it by sync: it must not pass it on to C
    await Bun.sleep(600);
    expect((await get(c.url, "/registry/list")).body.data).toEqual([]);
    // a client registration on B does reach C
    await post(b.url, "/registry/register", entry(7002, 1));
    expect(await pollUntil(async () => (await get(c.url, "/registry/list")).body.data.length === 1)).toBe(true);
    await post(a.url, "/registry/evict", { name: "hids_svr_grpc", ip: "127.0.0.1", port: 7001 });
    expect(await pollUntil(async () => (await get(b.url, "/registry/detail?name=hids_svr_grpc")).body.data.every((e: any) => e.port !== 7001))).toBe(true);
    const metrics = await (await fetch(a.url + "/metrics")).text();
    expect(metrics).toMatch(/vigil_sd_sync_sent_total\{peer="http:\/\/127.0.0.1:\d+",result="ok"\} [1-9]/);
  });

  test("a peer that is down is counted, and the SD keeps serving", async () => {
    const dead = await sd();
    const deadUrl = dead.url;
    await dead.h.stop();
    started.splice(started.indexOf(dead.h), 1);
    const a = await sd({ peers: [deadUrl] });
    expect((await post(a.url, "/registry/register", entry(7001, 1))).status).toBe(200);
    expect(await pollUntil(async () => /vigil_sd_sync_sent_total\{[^}]*result="error"\} [1-9]/.test(await (await fetch(a.url + "/metrics")).text()))).toBe(true);
    expect((await get(a.url, "/registry/detail?name=hids_svr_grpc")).body.data.length).toBe(1);
  });

  test("start-up refuses an empty secret and a port in use", async () => {
    await expect(startSd({ listen: "127.0.0.1", port: 0, secret: "", peers: [], log })).rejects.toThrow(/secret/);
    const a = await sd();
    await expect(startSd({ listen: "127.0.0.1", port: a.h.port, secret: SECRET, peers: [], log })).rejects.toThrow(/cannot listen/);
  });
});

async function pollUntil(cond: () => Promise<boolean>, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return true;
    await Bun.sleep(50);
  }
  return cond();
}

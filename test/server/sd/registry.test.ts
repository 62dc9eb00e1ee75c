// SD's registry with a controlled clock: expiry exactly ttl after the last renewal, ordering,
// count, eviction, summary.
import { expect, test } from "bun:test";
import { Registry } from "../../../src/server/sd/registry.ts";

const e = (port: number, weight: number, name = "hids_svr_grpc") => ({ name, ip: "10.0.0.1", port, weight, extra: {} });

test("expiry is ttl after the last renewal, whatever the sweep does", () => {
  let now = 1_000_000;
  const r = new Registry(105_000, () => now);
  r.register(e(1, 0));
  now += 104_999;
  expect(r.detail("hids_svr_grpc").length).toBe(1);
  const first = r.detail("hids_svr_grpc")[0].create_at;
  r.register(e(1, 4)); // renewal
  now += 104_999;
  expect(r.detail("hids_svr_grpc")).toMatchObject([{ port: 1, weight: 4, create_at: first }]);
  now += 1;
  expect(r.detail("hids_svr_grpc")).toEqual([]);
  expect(r.list()).toEqual([]);
  expect(r.sweep().map((x) => x.port)).toEqual([1]);
  expect(r.sweep()).toEqual([]);
  // after expiry a new registration starts a new life
  r.register(e(1, 0));
  expect(r.detail("hids_svr_grpc")[0].create_at).toBe(now);
});

test("detail orders by weight and honours count; summary and evict", () => {
  const r = new Registry();
  r.register(e(1, 9));
  r.register(e(2, 1));
  r.register(e(3, 5));
  r.register(e(4, 0, "hids_svr_http"));
  expect(r.detail("hids_svr_grpc").map((x) => x.port)).toEqual([2, 3, 1]);
  expect(r.detail("hids_svr_grpc", 2).map((x) => x.port)).toEqual([2, 3]);
  expect(r.summary()).toEqual({ hids_svr_grpc: { count: 3, weight: 15 }, hids_svr_http: { count: 1, weight: 0 } });
  expect(r.evict({ name: "hids_svr_grpc", ip: "10.0.0.1", port: 2 })).toBe(true);
  expect(r.evict({ name: "hids_svr_grpc", ip: "10.0.0.1", port: 2 })).toBe(false);
  expect(r.evict({ name: "nothing", ip: "10.0.0.1", port: 2 })).toBe(false);
  expect(r.detail("hids_svr_grpc").map((x) => x.port)).toEqual([3, 1]);
});

test("equal weights come back in varying order (load spreads across ACs)", () => {
  const r = new Registry();
  for (let p = 1; p <= 4; p++) r.register(e(p, 0));
  const firsts = new Set<number>();
  for (let i = 0; i < 200; i++) firsts.add(r.detail("hids_svr_grpc")[0].port);
  expect(firsts.size).toBeGreaterThan(1);
});

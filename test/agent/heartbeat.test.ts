// The agent heartbeat (1000): Elkeid's fields read from this machine's /proc and /sys, plus
// Vigil's counters (spool, drops, transport), sent at start and every interval.
import { describe, expect, test } from "bun:test";
import { cpus, release } from "node:os";
import { join } from "node:path";
import { HeartbeatBuilder } from "../../src/agent/daemon/heartbeat.ts";
import { defaultGateway, dnsServers, loadAvg, selfStat } from "../../src/agent/daemon/host-facts.ts";
import { Counters, COUNTERS } from "../../src/agent/daemon/counters.ts";
import { Spool } from "../../src/agent/daemon/spool.ts";
import { startDaemon } from "../../src/agent/daemon/index.ts";
import { DataType } from "../../src/common/wire.ts";
import { tempDir, waitFor } from "../harness.ts";
import { startMiniAc } from "./support/mini-ac.ts";
import { captureLog, makeCerts, testConfig } from "./support/agent-env.ts";

const ELKEID_FIELDS = ["kernel_version", "arch", "platform", "platform_family", "platform_version", "state", "state_detail", "idc", "region", "net_mode", "rx_speed", "tx_speed", "cpu", "rss", "read_speed", "write_speed", "pid", "nfd", "start_time", "tx_tps", "rx_tps", "du", "nproc", "total_mem", "load_1", "load_5", "load_15", "running_procs", "total_procs", "host_serial", "host_id", "host_model", "host_vendor", "dns", "gateway", "cpu_name", "boot_time", "cpu_usage", "mem_usage"];

const stats = () => ({ connected: "", connects: 0, txBytes: 0, rxBytes: 0, txBatches: 0, rxCommands: 0, inflight: 0 });

describe("heartbeat", () => {
  test("carries every Elkeid field with this machine's values, and Vigil's counters", () => {
    using d = tempDir();
    const spool = Spool.open({ dir: join(d.path, "spool"), maxBytes: 1 << 20 });
    const counters = new Counters();
    counters.inc("send_errors", 3);
    const b = new HeartbeatBuilder({
      counters, spool, transport: stats, metadata: () => ({ idc: "dc1", region: "r1" }), state: () => ({ state: "running", detail: "" }),
      dataDir: d.path, agentIdSource: "machine",
    });
    Bun.spawnSync(["sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done"]); // some host CPU time between samples
    const f = b.fields();
    for (const k of ELKEID_FIELDS) expect(f).toHaveProperty(k);
    expect(f.kernel_version).toBe(release());
    expect(f.arch).toBe("x86_64");
    expect(Number(f.nproc)).toBe(cpus().length);
    expect(Number(f.pid)).toBe(process.pid);
    expect(Number(f.rss)).toBeGreaterThan(1 << 20);
    expect(Number(f.total_mem)).toBeGreaterThan(64 << 20);
    expect(Number(f.nfd)).toBeGreaterThan(2);
    const boot = Number(f.boot_time);
    expect(boot).toBeGreaterThan(1_000_000_000);
    expect(Number(f.start_time)).toBeGreaterThanOrEqual(boot);
    expect(Number(f.start_time)).toBeLessThanOrEqual(Date.now() / 1000 + 1);
    expect(Number(f.mem_usage)).toBeGreaterThan(0);
    expect(Number(f.mem_usage)).toBeLessThan(1);
    expect(Number(f.cpu_usage)).toBeGreaterThanOrEqual(0);
    expect(Number(f.cpu_usage)).toBeLessThanOrEqual(1);
    expect(Number(f.total_procs)).toBeGreaterThan(0);
    expect(f.cpu_name.length).toBeGreaterThan(0);
    expect(f.platform.length).toBeGreaterThan(0);
    expect([f.idc, f.region]).toEqual(["dc1", "r1"]);
    // Vigil's own
    for (const c of COUNTERS) expect(f).toHaveProperty(c);
    expect(f.send_errors).toBe("3");
    for (const k of ["spool_depth", "spool_bytes", "spool_dropped_batches", "spool_dropped_records", "spool_write_errors", "events", "event_drops", "hook_mode"]) expect(f).toHaveProperty(k);
    expect(f.hook_mode).toBe("none");
    expect(Object.values(f).every((v) => typeof v === "string")).toBe(true);
    spool.close();
  });

  test("parsers of /proc formats", () => {
    expect(loadAvg("0.52 0.58 0.59 2/389 12345\n")).toEqual({ load_1: "0.52", load_5: "0.58", load_15: "0.59", running_procs: "2", total_procs: "389" });
    expect(defaultGateway("Iface\tDestination\tGateway\tFlags\neth0\t00000000\t0101A8C0\t0003\neth0\t0001A8C0\t00000000\t0001\n")).toBe("192.168.1.1");
    expect(dnsServers("# x\nnameserver 1.1.1.1\nnameserver 9.9.9.9\nsearch lan\n")).toBe("1.1.1.1,9.9.9.9");
    expect(selfStat().rss).toBeGreaterThan(0);
  });

  test("sent at start and every interval, with spool figures that move", async () => {
    using d = tempDir();
    const certs = await makeCerts(d.path);
    const ac = await startMiniAc({ certsDir: certs });
    const dm = startDaemon({ config: testConfig({ certs, dataDir: join(d.path, "data"), ac: [ac.address], heartbeat_interval: "200ms" }), version: "t", log: captureLog().log });
    try {
      expect(await waitFor(() => ac.records(DataType.AgentHeartbeat).length >= 3, 15_000)).toBe(true);
      const hb = ac.records(DataType.AgentHeartbeat);
      expect(hb[0].fields.state).toBe("running");
      expect(Number(hb[hb.length - 1].fields.batches_acked)).toBeGreaterThan(0);
      expect(hb[hb.length - 1].fields.connected_ac).toBe(ac.address);
      expect(hb[0].timestamp).toBeGreaterThan(Date.now() / 1000 - 60);
    } finally {
      await dm.stop();
      await ac.stop();
    }
  });
});

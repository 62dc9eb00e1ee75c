// The AC accepts Elkeid's gRPC compressions: snappy (framing format, through the grpc-js hook)
// from a raw HTTP/2 client and from the Go simulated Elkeid agent (golang/snappy), gzip and
// deflate from grpc-js, and none; a corrupt snappy stream is refused and counted.
import { test, expect, describe, beforeAll, afterAll } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir, waitFor, root, run } from "../../harness.ts";
import { startFixture, client, openStream, packaged, type AcFixture } from "./fixture.ts";
import { rawCall, grpcFrame } from "./raw-h2.ts";
import { grpc } from "../../../src/common/proto.ts";
import { encodeFramed } from "../../../src/common/snappy-framed.ts";

const agentSim = join(root, "build/agent-sim");
let dir: ReturnType<typeof tempDir>;
let f: AcFixture;
beforeAll(async () => {
  dir = tempDir();
  f = await startFixture(dir.path);
});
afterAll(async () => {
  await f.stop();
  dir[Symbol.dispose]();
});

const agentTls = () => ({ ca: f.certs.ca, cert: f.certs.agentCert, key: f.certs.agentKey });

describe("AC compression", () => {
  test("a grpc-encoding the AC does not know is refused with UNIMPLEMENTED", async () => {
    const call = rawCall(f.ac.grpcPort, agentTls(), { encoding: "brotli" });
    call.write(grpcFrame(Buffer.from([1, 2, 3]), true));
    const st = await call.done;
    expect(st.status).toBe(12);
    expect(st.message).toContain("brotli");
    call.close();
  });

  test("snappy-framed messages from a raw HTTP/2 client are decoded and acked", async () => {
    const call = rawCall(f.ac.grpcPort, agentTls(), { encoding: "snappy" });
    for (let i = 1; i <= 3; i++) {
      const pb = grpc.PackagedData.encode(packaged({ agentId: "raw-snappy", seq: i, n: 4, first: (i - 1) * 4, pad: "z".repeat(70_000) })).finish();
      call.write(grpcFrame(encodeFramed(pb), true)); // > 64 KiB: several snappy chunks
    }
    expect(await waitFor(() => call.commands.length === 3, 15_000)).toBe(true);
    expect(call.commands.map((c) => Number(c.ackSeq))).toEqual([1, 2, 3]);
    call.end();
    expect((await call.done).status).toBe(0);
    call.close();
    const evs = await f.store.query({ agentId: "raw-snappy" });
    expect(evs.map((e) => e.fields.n)).toEqual(Array.from({ length: 12 }, (_, i) => String(i)));
    expect(evs[0].fields.pad.length).toBe(70_000);
  }, 30_000);

  test("a corrupt snappy stream is refused and counted; the AC keeps serving", async () => {
    const before = f.ac.rejects().decompression ?? 0;
    const framed = encodeFramed(grpc.PackagedData.encode(packaged({ agentId: "bad-snappy", seq: 1 })).finish());
    framed[framed.length - 1] ^= 0xff; // checksum mismatch
    const call = rawCall(f.ac.grpcPort, agentTls(), { encoding: "snappy" });
    call.write(grpcFrame(framed, true));
    const st = await call.done;
    expect(st.status).toBe(13); // INTERNAL
    expect(st.message).toMatch(/decompress/i);
    call.close();
    expect(f.ac.rejects().decompression).toBe(before + 1);
    expect((await f.store.query({ agentId: "bad-snappy" })).length).toBe(0);
  }, 20_000);

  for (const comp of ["gzip", "deflate", "identity"] as const) {
    test(`grpc-js client with ${comp}`, async () => {
      const cl = client(f.ac.grpcPort, { cert: f.certs.agentCert, key: f.certs.agentKey }, f.certs.ca, comp);
      const s = openStream(cl);
      for (let i = 1; i <= 5; i++) s.call.write(packaged({ agentId: `js-${comp}`, seq: i, n: 2, pad: "a".repeat(2000) }));
      expect(await waitFor(() => s.acks.length === 5, 15_000)).toBe(true);
      s.call.end();
      expect((await s.status).code).toBe(0);
      expect((await f.store.query({ agentId: `js-${comp}` })).length).toBe(10);
      cl.close();
    }, 30_000);
  }

  for (const comp of ["snappy", "gzip", "none"] as const) {
    test.skipIf(!existsSync(agentSim))(`Go simulated Elkeid agent (golang/snappy, grpc-go) with ${comp}`, async () => {
      const certDir = join(dir.path, "go-certs");
      if (!existsSync(certDir)) {
        require("node:fs").mkdirSync(certDir);
        writeFileSync(join(certDir, "ca.crt"), f.certs.ca);
        writeFileSync(join(certDir, "agent.crt"), f.certs.agentCert);
        writeFileSync(join(certDir, "agent.key"), f.certs.agentKey);
      }
      const prefix = `go-${comp}`;
      const r = await run([agentSim, "-ac", `127.0.0.1:${f.ac.grpcPort}`, "-server-name", "localhost", "-ca", join(certDir, "ca.crt"), "-cert", join(certDir, "agent.crt"), "-key", join(certDir, "agent.key"),
        "-agents", "3", "-rate", "50", "-duration", "2s", "-compress", comp, "-seq=true", "-id-prefix", prefix]);
      expect(r.code).toBe(0);
      const sum = JSON.parse(r.stdout);
      expect(sum.connect_errors).toBe(0);
      expect(sum.records_sent).toBeGreaterThan(0);
      expect(sum.records_acked).toBe(sum.records_sent);
      let stored = 0;
      for (let i = 0; i < 3; i++) stored += (await f.store.query({ agentId: `${prefix}-${i}`, limit: 1e6 })).length;
      if (stored === 0) for (let i = 1; i <= 3; i++) stored += (await f.store.query({ agentId: `${prefix}-${i}`, limit: 1e6 })).length;
      expect(stored).toBeGreaterThanOrEqual(sum.records_sent);
    }, 60_000);
  }
});

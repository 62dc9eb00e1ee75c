// The decoder on hand-built records (no kernel): the per-thread header memo must never hand
// one record's common fields to another, strings decode as UTF-8 whatever the fast path, and
// counts survive. Layouts come from layouts.ts (checked against BTF by btf-layout.test.ts).
import { describe, expect, test } from "bun:test";
import { Decoder } from "../../src/agent/collector/decode.ts";
import { RING_DISCARD, RING_HDR } from "../../src/agent/collector/ring-protocol.ts";
import { BY_NAME } from "../../src/agent/collector/catalog.ts";
import { HDR } from "../../src/agent/collector/layouts.ts";
import { envValueIn } from "../../src/agent/collector/events/process.ts";

const open = BY_NAME.get("open")!;
const fileOff = open.fields.find((f) => f.name === "file")!.off;

interface Hdr { pid: number; tgid?: number; uid?: number; comm?: string; nodename?: string; sid?: number }

/** One open record: header, the fixed part, then the path in the tail; 8-byte aligned. */
function openRecord(h: Hdr, path: Uint8Array): Uint8Array {
  const size = Math.ceil((open.size + path.length + 1) / 8) * 8;
  const b = new Uint8Array(size);
  const v = new DataView(b.buffer);
  v.setUint16(HDR.type, open.dt, true);
  v.setUint16(HDR.size, size, true);
  v.setUint32(HDR.pid, h.pid, true);
  v.setUint32(HDR.tgid, h.tgid ?? h.pid, true);
  v.setUint32(HDR.uid, h.uid ?? 0, true);
  v.setUint32(HDR.sid, h.sid ?? 1, true);
  b.set(new TextEncoder().encode(h.comm ?? "cat"), HDR.comm);
  b.set(new TextEncoder().encode(h.nodename ?? "host-a"), HDR.nodename);
  v.setUint16(fileOff, open.size, true);
  v.setUint16(fileOff + 2, path.length, true);
  b.set(path, open.size);
  return b;
}

/** A batch as the ring reader hands it over: each record behind its 8-byte bpf_ringbuf_hdr
 * (len, with `flags` ORed in: 1 << 30 = discarded). */
function batch(recs: Uint8Array[], flags: number[] = []): ArrayBuffer {
  const out = new Uint8Array(recs.reduce((a, r) => a + RING_HDR + r.length, 0));
  const v = new DataView(out.buffer);
  let o = 0;
  recs.forEach((r, i) => {
    v.setUint32(o, (r.length | (flags[i] ?? 0)) >>> 0, true);
    out.set(r, o + RING_HDR);
    o += RING_HDR + r.length;
  });
  return out.buffer;
}

function decodeAll(d: Decoder, buf: ArrayBuffer): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  d.forEach(buf, (rec, spec) => out.push(d.fields(rec, spec)));
  return out;
}

const enc = (s: string) => new TextEncoder().encode(s);

describe("decoder", () => {
  test("one thread's changing header is decoded anew each time it changes", () => {
    const d = new Decoder({ bootToUnixNs: 0n });
    const recs = [
      openRecord({ pid: 100, comm: "bash", uid: 0 }, enc("/etc/a")),
      openRecord({ pid: 100, comm: "bash", uid: 0 }, enc("/etc/b")),
      openRecord({ pid: 100, comm: "sudo", uid: 0 }, enc("/etc/c")), // comm changed (exec)
      openRecord({ pid: 100, comm: "sudo", uid: 1000 }, enc("/etc/d")), // uid changed
      openRecord({ pid: 100 + 512, comm: "other", uid: 7 }, enc("/x")), // same memo slot
      openRecord({ pid: 100, comm: "sudo", uid: 1000, nodename: "host-b" }, enc("/y")),
      openRecord({ pid: 100, comm: "sudo", uid: 1000, nodename: "host-b" }, enc("/y")),
      // new threads: the last host name is reused only while its bytes are the same
      openRecord({ pid: 200, comm: "t", uid: 0, nodename: "host-b" }, enc("/z")),
      openRecord({ pid: 201, comm: "t", uid: 0, nodename: "host-a" }, enc("/z")),
      openRecord({ pid: 202, comm: "t", uid: 0, nodename: "x".repeat(63) + "b" }, enc("/z")),
      openRecord({ pid: 203, comm: "t", uid: 0, nodename: "x".repeat(63) + "c" }, enc("/z")),
    ];
    const f = decodeAll(d, batch(recs));
    expect(f.map((x) => [x.pid, x.comm, x.uid, x.nodename, x.file])).toEqual([
      ["100", "bash", "0", "host-a", "/etc/a"],
      ["100", "bash", "0", "host-a", "/etc/b"],
      ["100", "sudo", "0", "host-a", "/etc/c"],
      ["100", "sudo", "1000", "host-a", "/etc/d"],
      ["612", "other", "7", "host-a", "/x"],
      ["100", "sudo", "1000", "host-b", "/y"],
      ["100", "sudo", "1000", "host-b", "/y"],
      ["200", "t", "0", "host-b", "/z"],
      ["201", "t", "0", "host-a", "/z"],
      ["202", "t", "0", "x".repeat(63) + "b", "/z"],
      ["203", "t", "0", "x".repeat(63) + "c", "/z"],
    ]);
    // a field written by one event never leaks into the next one's object
    f[0].comm = "changed";
    expect(f[1].comm).toBe("bash");
    expect(d.stats.decoded.get(open.dt)).toBe(11);
    expect(d.stats.malformed).toBe(0);
  });

  test("a 16-byte comm with no NUL and a full nodename are kept whole", () => {
    const d = new Decoder({ bootToUnixNs: 0n });
    const comm = "abcdefghijklmnop";
    const node = "n".repeat(64);
    const [f] = decodeAll(d, batch([openRecord({ pid: 5, comm, nodename: node }, enc("/"))]));
    expect(f.comm).toBe(comm);
    expect(f.nodename).toBe(node);
  });

  test("paths decode as UTF-8; invalid bytes become U+FFFD, like TextDecoder", () => {
    const d = new Decoder({ bootToUnixNs: 0n });
    const bad = new Uint8Array([0x2f, 0x61, 0xff, 0x62, 0xc3]); // "/a", invalid, "b", cut sequence
    const f = decodeAll(d, batch([
      openRecord({ pid: 1 }, enc("/tmp/naïve-文件")),
      openRecord({ pid: 1 }, bad),
      openRecord({ pid: 1, comm: "ç" }, enc("/plain")),
    ]));
    expect(f[0].file).toBe("/tmp/naïve-文件");
    expect(f[1].file).toBe(new TextDecoder().decode(bad));
    expect(f[2].comm).toBe("ç");
    expect(f[2].file).toBe("/plain");
  });

  test("records outside a batch (a view at an odd offset) decode without the memo", () => {
    const d = new Decoder({ bootToUnixNs: 0n });
    const rec = openRecord({ pid: 9, comm: "odd" }, enc("/odd"));
    const ab = new ArrayBuffer(rec.length + 3);
    new Uint8Array(ab).set(rec, 3);
    const f = d.fields(new DataView(ab, 3, rec.length), open);
    expect([f.pid, f.comm, f.file]).toEqual(["9", "odd", "/odd"]);
  });

  test("two batches in turn: the second's strings come from its own bytes", () => {
    const d = new Decoder({ bootToUnixNs: 0n });
    const a = decodeAll(d, batch([openRecord({ pid: 3, comm: "one" }, enc("/first"))]));
    const b = decodeAll(d, batch([openRecord({ pid: 3, comm: "two" }, enc("/second"))]));
    expect([a[0].comm, a[0].file, b[0].comm, b[0].file]).toEqual(["one", "/first", "two", "/second"]);
  });

  test("a record whose size disagrees with the ring is counted and skipped; a discarded one is skipped", () => {
    const d = new Decoder({ bootToUnixNs: 0n });
    const good = openRecord({ pid: 4 }, enc("/ok"));
    const broken = openRecord({ pid: 4 }, enc("/broken"));
    new DataView(broken.buffer).setUint16(HDR.size, 13, true);
    const gone = openRecord({ pid: 4 }, enc("/discarded"));
    const f = decodeAll(d, batch([good, broken, gone, good], [0, 0, RING_DISCARD, 0]));
    expect(f.map((x) => x.file)).toEqual(["/ok", "/ok"]);
    expect(d.stats.malformed).toBe(1);
    expect(d.stats.decoded.get(open.dt)).toBe(2);
  });

  test("a batch cut inside a record stops there and counts it; what came before is kept", () => {
    const d = new Decoder({ bootToUnixNs: 0n });
    const whole = batch([openRecord({ pid: 4 }, enc("/first")), openRecord({ pid: 4 }, enc("/second"))]);
    const cut = whole.slice(0, whole.byteLength - 16);
    const f = decodeAll(d, cut);
    expect(f.map((x) => x.file)).toEqual(["/first"]);
    expect(d.stats.malformed).toBe(1);
  });
});

describe("execve's environment search (envValueIn)", () => {
  const key = enc("LD_PRELOAD=");
  const block = (...vars: string[]) => enc(vars.join("\0"));
  test("finds a variable first, in the middle or last, and only at a variable's start", () => {
    expect(envValueIn(block("LD_PRELOAD=/a.so", "B=2"), key)).toBe("/a.so");
    expect(envValueIn(block("A=1", "LD_PRELOAD=/b.so", "B=2"), key)).toBe("/b.so");
    expect(envValueIn(block("A=1", "LD_PRELOAD=/c.so"), key)).toBe("/c.so"); // no trailing NUL (cut)
    expect(envValueIn(block("XLD_PRELOAD=/no", "A=LD_PRELOAD=/no"), key)).toBe("");
    expect(envValueIn(block("LD_PRELOAD", "LD_PRELOADX=/no"), key)).toBe("");
    expect(envValueIn(block("LD_PRELOAD="), key)).toBe("");
    expect(envValueIn(new Uint8Array(0), key)).toBe("");
    expect(envValueIn(block("A=1", "LD_PRELOAD=/lib/é.so", ""), key)).toBe("/lib/é.so");
  });
});

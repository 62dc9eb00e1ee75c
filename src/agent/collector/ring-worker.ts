// The ring reader, run in a Worker: maps the BPF ring buffer's pages, waits with poll(2), and
// drains at most `cap` records per turn into one transferable ArrayBuffer, so neither a storm
// nor a slow consumer can stall an event loop. Replaces libbpf 1.1's unbounded
// ring_buffer__consume. Protocol: ring-reader.ts.
import { ptr, toArrayBuffer } from "bun:ffi";
import { libc, errno, strerror } from "./libc.ts";
import type { WorkerIn, WorkerOut } from "./ring-protocol.ts";

declare const self: Worker;

const BUSY = 0x80000000;
const DISCARD = 0x40000000;
const HDR = 8; // struct bpf_ringbuf_hdr: u32 len, u32 pg_off

let stopping = false;
let credits = 0;

function post(msg: WorkerOut, transfer?: Transferable[]): void {
  self.postMessage(msg, transfer ?? []);
}

function start(fd: number, size: number, cap: number, maxCredits: number, pollMs: number): void {
  const c = libc();
  const page = c.getpagesize();
  const cons = c.mmap(null, page, 3 /* RW */, 1 /* MAP_SHARED */, fd, 0);
  const prodLen = page + 2 * size;
  const prod = c.mmap(null, prodLen, 1 /* R */, 1, fd, page);
  if (!cons || Number(cons) === -1 || !prod || Number(prod) === -1) {
    post({ type: "error", message: `failed to mmap the ring buffer (fd ${fd}): ${strerror(errno())}` });
    return;
  }
  const consPos = new BigUint64Array(toArrayBuffer(cons, 0, 8));
  const prodPos = new BigUint64Array(toArrayBuffer(prod, 0, 8));
  const data = new DataView(toArrayBuffer(prod, page, 2 * size));
  const bytes = new Uint8Array(data.buffer, data.byteOffset, 2 * size);
  const mask = size - 1;
  const pfd = new Int32Array([fd, 1 /* POLLIN */]); // struct pollfd {int fd; short events, revents}
  credits = maxCredits;

  let records = 0;
  let batches = 0;

  const turn = () => {
    const consumer = Atomics.load(consPos, 0);
    const producer = Atomics.load(prodPos, 0);
    if (stopping && consumer === producer) {
      // Drained what the kernel had produced when asked to stop.
      c.munmap(cons, page);
      c.munmap(prod, prodLen);
      post({ type: "stopped", records, batches });
      return;
    }
    if (consumer === producer) {
      // Nothing pending: block in poll (bounded), then yield to messages.
      pfd[1] = 1;
      c.poll(ptr(pfd), 1, pollMs);
      setTimeout(turn, 0);
      return;
    }
    if (credits <= 0 && !stopping) {
      // The consumer is behind: stop draining; the kernel counts what it cannot keep.
      setTimeout(turn, 1);
      return;
    }
    // First pass: find how many bytes of complete records to take.
    let pos = consumer;
    let n = 0;
    let payload = 0;
    while (pos < producer && n < cap) {
      const off = Number(pos & BigInt(mask));
      const len = data.getUint32(off, true);
      if (len & BUSY) break;
      const body = len & ~(BUSY | DISCARD);
      if (!(len & DISCARD)) {
        payload += (body + 7) & ~7;
        n++;
      }
      pos += BigInt((body + HDR + 7) & ~7);
    }
    if (pos === consumer) {
      // The next record is still being written (BUSY).
      setTimeout(turn, 0);
      return;
    }
    const out = new Uint8Array(payload);
    let w = 0;
    let p = consumer;
    while (p < pos) {
      const off = Number(p & BigInt(mask));
      const len = data.getUint32(off, true);
      const body = len & ~(BUSY | DISCARD);
      if (!(len & DISCARD)) {
        out.set(bytes.subarray(off + HDR, off + HDR + body), w);
        w += (body + 7) & ~7;
      }
      p += BigInt((body + HDR + 7) & ~7);
    }
    Atomics.store(consPos, 0, pos);
    records += n;
    batches++;
    credits--;
    if (n > 0) post({ type: "batch", buf: out.buffer, records: n }, [out.buffer]);
    else credits++;
    setTimeout(turn, 0);
  };
  turn();
}

self.onmessage = (ev: MessageEvent<WorkerIn>) => {
  const m = ev.data;
  if (m.type === "start") start(m.fd, m.size, m.cap, m.credits, m.pollMs);
  else if (m.type === "credit") credits += m.n;
  else if (m.type === "stop") stopping = true;
};

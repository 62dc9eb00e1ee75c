// The ring reader, run in a Worker: maps the BPF ring buffer's pages, waits with poll(2), and
// drains at most `cap` records per turn into one transferable ArrayBuffer, so neither a storm
// nor a slow consumer can stall an event loop. Replaces libbpf 1.1's unbounded
// ring_buffer__consume. Protocol: ring-reader.ts.
import { ptr, toArrayBuffer } from "bun:ffi";
import { libc, errno, strerror } from "./libc.ts";
import { RING_BUSY as BUSY, RING_DISCARD as DISCARD, RING_HDR as HDR } from "./ring-protocol.ts";
import type { WorkerIn, WorkerOut } from "./ring-protocol.ts";

declare const self: Worker;
/** The largest ring record (MAX_RECORD in bpf/lib/common.h) with its header: a batch stops
 * before one could overflow its chunk. */
const MAX_SPAN_STEP = 16384 + HDR;

let stopping = false;
let credits = 0;
/** Batch buffers handed back by the main thread, reused: a fresh ~100 KB buffer per batch cost
 * page faults and GC unmapping, ~0.2 us of kernel time per record. */
const CHUNK = 256 << 10;
const pool: ArrayBuffer[] = [];
/** Records that make a batch worth handing over at once, and how long a smaller one waits for
 * more (bounded latency: the ring wakes the reader only once an eighth of it is waiting). */
const FULL_BATCH = 512;
const GATHER_MS = 20;
/** While records trickle, a batch is taken at most this often (unless enough bytes are waiting
 * to make it full): each batch costs both threads their messages, and at a few hundred events
 * per second, 50 batches a second were most of the idle agent's CPU. The poll timeout bounds
 * the latency of the first record after a quiet spell the same way. */
const TRICKLE_MS = 100;
/** After this long with an empty ring, poll with the idle timeout. */
const QUIET_MS = 1000;

function post(msg: WorkerOut, transfer?: Transferable[]): void {
  self.postMessage(msg, transfer ?? []);
}

function start(fd: number, size: number, cap: number, maxCredits: number, pollMs: number, idlePollMs: number, wakeFd: number): void {
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
  const ring = Buffer.from(data.buffer, data.byteOffset, 2 * size);
  const mask = size - 1;
  // struct pollfd {int fd; short events, revents}: the ring, then the stop eventfd
  const pfd = new Int32Array([fd, 1 /* POLLIN */, wakeFd, 1]);
  const nfds = wakeFd >= 0 ? 2 : 1;
  const drainBuf = new BigUint64Array(1);
  /** When a record was last taken (or the reader started). */
  let lastTaken = performance.now();
  /** The main thread signalled the eventfd (only stop() does). */
  let woken = false;
  credits = maxCredits;

  let records = 0;
  let batches = 0;
  /** The last batch taken was small (records are trickling in). */
  let lastSmall = false;
  const fullBytes = Math.min(CHUNK / 2, size / 8);

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
      // Nothing pending: block in poll (bounded; longer once quiet for a second, ended at once
      // by the stop eventfd), then yield to messages.
      if (woken) {
        setTimeout(turn, 1); // the stop message is on its way: do not block again before it
        return;
      }
      pfd[1] = 1;
      pfd[3] = 1;
      const quiet = performance.now() - lastTaken >= QUIET_MS;
      c.poll(ptr(pfd), nfds, quiet ? idlePollMs : pollMs);
      if (nfds === 2 && pfd[3] >>> 16) {
        c.read(wakeFd, ptr(drainBuf), 8); // reset the eventfd
        woken = true;
      }
      setTimeout(turn, 0);
      return;
    }
    if (lastSmall && !stopping && Number(producer - consumer) < fullBytes && performance.now() - lastTaken < TRICKLE_MS) {
      setTimeout(turn, GATHER_MS); // still trickling: let more gather first
      return;
    }
    if (credits <= 0 && !stopping) {
      // The consumer is behind: stop draining; the kernel counts what it cannot keep.
      setTimeout(turn, 1);
      return;
    }
    // Positions as Numbers within a turn (exact below 2^53 bytes, centuries of ring traffic):
    // BigInt arithmetic per record cost more than the copy.
    const start = Number(consumer);
    const end = Number(producer);
    // Find how many bytes of complete records to take.
    const startOff = start % size; // offsets then advance as int32s (ring sizes stay below 2^32)
    let at = start;
    let off = startOff;
    let n = 0;
    while (at < end && n < cap && at - start <= CHUNK - MAX_SPAN_STEP) {
      const len = data.getUint32(off, true);
      if (len & BUSY) break;
      const body = len & ~(BUSY | DISCARD);
      if (!(len & DISCARD)) n++;
      const step = (body + HDR + 7) & ~7;
      at += step;
      off = (off + step) & mask;
    }
    if (at === start) {
      // The next record is still being written (BUSY).
      setTimeout(turn, 0);
      return;
    }
    // The span as the kernel wrote it, ring headers included, in one copy (the decoder reads
    // the framing: decode.ts forEach). The data pages are mapped twice in a row, so a span
    // that wraps is contiguous here.
    const chunk = pool.pop() ?? new ArrayBuffer(CHUNK);
    const bytes = at - start;
    ring.copy(new Uint8Array(chunk), 0, startOff, startOff + bytes);
    const pos = BigInt(at);
    Atomics.store(consPos, 0, pos);
    records += n;
    batches++;
    lastTaken = performance.now();
    credits--;
    if (n > 0) post({ type: "batch", buf: chunk, bytes, records: n }, [chunk]);
    else {
      credits++;
      pool.push(chunk);
    }
    // A small batch means records are trickling in: let them gather for a while rather than
    // hand over one or two at a time (a batch costs both threads ~30 us in messages, which at
    // a few thousand events/s was most of the agent's CPU). A full batch goes on at once.
    // (A small ring: an eighth of it waiting also counts as full, as it does for the kernel's
    // wakeup, so a 20 ms wait never risks overflowing it; the trickle check above looks at
    // the bytes waiting every 20 ms for the same reason.)
    const full = n >= FULL_BATCH || bytes >= fullBytes;
    lastSmall = !full;
    setTimeout(turn, stopping || full ? 0 : GATHER_MS);
  };
  turn();
}

self.onmessage = (ev: MessageEvent<WorkerIn>) => {
  const m = ev.data;
  if (m.type === "start") start(m.fd, m.size, m.cap, m.credits, m.pollMs, m.idlePollMs, m.wakeFd);
  else if (m.type === "credit") {
    credits += m.n;
    if (m.buf && m.buf.byteLength === CHUNK) pool.push(m.buf);
  }
  else if (m.type === "stop") stopping = true;
};

// The ring reader, run in a Worker: maps the BPF ring buffer's pages, waits with epoll(7), and
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
/** Records that make a batch worth handing over at once. */
const FULL_BATCH = 512;
/** While records trickle, a batch is taken at most this often (unless enough bytes are waiting
 * to make it full): each batch costs both threads a wakeup (~0.3 ms of CPU each in Bun) and
 * their messages. At 100 ms, any trickle at all (10 events/s as much as 150/s) kept an
 * otherwise idle agent at ~1.2% of a CPU. A trickled event therefore waits up to 250 ms; a
 * storm is read at once (full batches, and the kernel's wakeup at an eighth of the ring). */
const TRICKLE_MS = 250;
/** After this long with an empty ring, poll with the idle timeout. */
const QUIET_MS = 1000;
const EPOLLIN = 1;
const EPOLLET = 1 << 31;
const EPOLL_CTL_ADD = 1;
const EPOLL_CLOEXEC = 0o2000000;
/** struct epoll_event is packed on x86-64: u32 events, u64 data. */
const EPOLL_EVENT = 12;

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
  // Waits are epoll_wait on the ring (edge-triggered) and the stop eventfd. Edge-triggered:
  // records below the kernel's wakeup threshold do not wake it (BPF_RB_NO_WAKEUP), so a wait
  // ends only at its timeout, when the programs ask for a wakeup (each time the bytes waiting
  // cross an eighth of the ring: record_submit in bpf/lib/common.h) or at stop. A trickle of
  // records therefore costs one wakeup per TRICKLE_MS, not one per 20 ms check of the bytes
  // waiting (which was most of an otherwise idle agent's CPU with ~150 events/s arriving).
  const ep = c.epoll_create1(EPOLL_CLOEXEC);
  const evBuf = new Uint8Array(EPOLL_EVENT * 2);
  const evView = new DataView(evBuf.buffer);
  const watch = (wfd: number, events: number, tag: number): boolean => {
    evView.setUint32(0, events >>> 0, true);
    evView.setBigUint64(4, BigInt(tag), true);
    return c.epoll_ctl(ep, EPOLL_CTL_ADD, wfd, ptr(evBuf)) === 0;
  };
  if (ep < 0 || !watch(fd, EPOLLIN | EPOLLET, 0) || (wakeFd >= 0 && !watch(wakeFd, EPOLLIN, 1))) {
    const why = strerror(errno());
    if (ep >= 0) c.close(ep);
    c.munmap(cons, page);
    c.munmap(prod, prodLen);
    post({ type: "error", message: `failed to set up epoll on the ring buffer (fd ${fd}): ${why}` });
    return;
  }
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
  /** Block until a ring wakeup, the stop eventfd, or ms (the Worker's messages wait too: only
   * stop needs to be prompt, and it comes with the eventfd). */
  const wait = (ms: number) => {
    const n = c.epoll_wait(ep, ptr(evBuf), 2, Math.max(0, Math.ceil(ms)));
    for (let i = 0; i < n; i++) {
      if (evView.getUint32(i * EPOLL_EVENT + 4, true) === 1) {
        c.read(wakeFd, ptr(drainBuf), 8); // reset the eventfd
        woken = true;
      }
    }
  };

  const turn = () => {
    const consumer = Atomics.load(consPos, 0);
    const producer = Atomics.load(prodPos, 0);
    if (stopping && consumer === producer) {
      // Drained what the kernel had produced when asked to stop.
      c.munmap(cons, page);
      c.munmap(prod, prodLen);
      c.close(ep);
      post({ type: "stopped", records, batches });
      return;
    }
    if (consumer === producer) {
      // Nothing pending: block in epoll_wait (bounded; longer once quiet for a second, ended at once
      // by the stop eventfd), then yield to messages.
      if (woken) {
        setTimeout(turn, 1); // the stop message is on its way: do not block again before it
        return;
      }
      const idleFor = performance.now() - lastTaken;
      // trickling: nothing is taken before the next batch is due anyway
      wait(idleFor >= QUIET_MS ? idlePollMs : lastSmall ? Math.max(pollMs, TRICKLE_MS - idleFor) : pollMs);
      setTimeout(turn, 0);
      return;
    }
    const since = performance.now() - lastTaken;
    if (lastSmall && !stopping && !woken && Number(producer - consumer) < fullBytes && since < TRICKLE_MS) {
      // still trickling: let more gather until the batch is due (or the kernel asks)
      wait(TRICKLE_MS - since);
      setTimeout(turn, 0);
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
    // A small batch means records are trickling in: the next one is taken TRICKLE_MS after
    // this one (the trickle wait above) rather than one or two records at a time (a batch
    // costs both threads ~30 us in messages, which at a few thousand events/s was most of the
    // agent's CPU). A full batch goes on at once. (A small ring: an eighth of it waiting also
    // counts as full; the kernel's wakeup at that point ends the trickle wait.)
    const full = n >= FULL_BATCH || bytes >= fullBytes;
    lastSmall = !full;
    setTimeout(turn, 0);
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

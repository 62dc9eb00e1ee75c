// The collector benchmark (issue 2): throughput and loss at paced rates and at full burst,
// workload slowdown against bare and auditd, per-program kernel cost from the kernel's BPF
// run-time statistics, the idle agent, and the binary's size. Prints one JSON document on
// stdout (or --json FILE) and a table on stderr, each figure beside its target.
//
// Usage: scripts/bench/collector [--quick] [--rates 50000,100000,200000,400000,burst]
//        [--skip-auditd] [--json FILE] [--agent PATH] [--threads N] [--mix OPEN,CONNECT,EXEC]
//        scripts/bench/collector --cleanup     (undo what a killed run left behind)
//
// Needs root, a built dist/vigil-agent (scripts/build), gcc, bpftool and (unless
// --skip-auditd) Debian's auditd. Everything it changes (agent and load processes, audit
// rules and state, auditd, kernel.bpf_stats_enabled) is recorded in build/bench/state.json and
// undone on exit, on SIGINT/SIGTERM and on the next run if the process was killed.
import { parseArgs } from "node:util";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, renameSync, statSync, writeFileSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { availableParallelism, cpus } from "node:os";
import type { Subprocess } from "bun";

const root = join(import.meta.dir, "../..");
const benchDir = join(root, "build/bench");
const stateFile = join(benchDir, "state.json");
const loadgenSrc = join(import.meta.dir, "loadgen.c");
const loadgenBin = join(benchDir, "loadgen");
const openTarget = join(benchDir, "open-target");
const CLK_TCK = 100;

// ---------------------------------------------------------------------------------------
// options

const { values: opt } = parseArgs({
  args: process.argv.slice(2),
  options: {
    quick: { type: "boolean", default: false },
    rates: { type: "string" },
    "skip-auditd": { type: "boolean", default: false },
    "cold-storms": { type: "boolean", default: false },
    json: { type: "string" },
    agent: { type: "string", default: join(root, "dist/vigil-agent") },
    threads: { type: "string", default: "4" },
    mix: { type: "string", default: "9895,100,5" },
    cleanup: { type: "boolean", default: false },
    "allow-foreign-bpf": { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
  strict: true,
});

if (opt.help) {
  process.stdout.write(`Usage: scripts/bench/collector [--quick] [--rates LIST] [--skip-auditd] [--cold-storms] [--json FILE]
                               [--agent PATH] [--threads N] [--mix OPEN,CONNECT,EXEC] [--allow-foreign-bpf]
       scripts/bench/collector --cleanup

  --quick        short windows and counts (about a minute; for smoke tests)
  --rates LIST   paced rates in events/s, "burst" for no pacing
                 (default 50000,100000,200000,400000,burst; with --quick 100000,burst)
  --skip-auditd  leave out the auditd comparison
  --cold-storms  time each storm right after the agent starts (default: untimed storms of the
                 same kind first, 3 open and 8 exec, so the agent is measured warm with its JIT
                 compiler idle, as a running agent is)
  --json FILE    write the JSON document to FILE instead of stdout
  --agent PATH   the agent binary (default dist/vigil-agent)
  --threads N    load generator threads (default 4)
  --mix O,C,E    open/connect/exec parts per 10000 of the mixed load (default 9895,100,5)
  --cleanup      only undo what an interrupted run left behind (build/bench/state.json)
  --allow-foreign-bpf
                 run even though other processes hold BPF programs on tracepoints or kprobes
                 (by default the bench refuses: its "bare" runs would not be bare)
`);
  process.exit(0);
}

const QUICK = opt.quick!;
const P = QUICK
  ? { rounds: 1, loadSecs: 2, warmMs: 500, bgSecs: 1, openCount: 100_000, execCount: 400, fsCount: 1000, warmStorms: 1, execWarmStorms: 1, pairs: 1, execPairs: 1, auditdPairs: 1, auditdExecPairs: 1, settleMs: 500, idleSecs: 5, idleWarmMs: 1500, budgetSecs: 150 }
  : { rounds: 2, loadSecs: 8, warmMs: 1000, bgSecs: 3, openCount: 300_000, execCount: 1500, fsCount: 10_000, warmStorms: 3, execWarmStorms: 8, pairs: 5, execPairs: 9, auditdPairs: 3, auditdExecPairs: 5, settleMs: 1000, idleSecs: 20, idleWarmMs: 3000, budgetSecs: 660 };
const THREADS = Number(opt.threads);
if (!Number.isInteger(THREADS) || THREADS < 1 || THREADS > 64) die("--threads wants an integer from 1 to 64");
const MIX = opt.mix!.split(",").map(Number);
if (MIX.length !== 3 || MIX.some((n) => !Number.isInteger(n) || n < 0) || MIX[0] + MIX[1] + MIX[2] !== 10000) {
  die("--mix wants three integers OPEN,CONNECT,EXEC summing to 10000");
}
const RATES: number[] = (opt.rates ?? (QUICK ? "100000,burst" : "50000,100000,200000,400000,burst")).split(",").map((s) => {
  const t = s.trim().toLowerCase();
  if (t === "burst" || t === "0") return 0;
  const n = Number(t.replace(/k$/, "000"));
  if (!Number.isFinite(n) || n <= 0) die(`--rates: bad rate "${s}"`);
  return n;
});
const AGENT_SRC = resolve(opt.agent!);
/** The binary under test: a copy taken at start, so a rebuild during the run changes nothing. */
const AGENT = join(benchDir, "vigil-agent");

function die(msg: string): never {
  process.stderr.write(`bench: ${msg}\n`);
  process.exit(2);
}
function log(msg: string): void {
  process.stderr.write(`bench: ${msg}\n`);
}

// ---------------------------------------------------------------------------------------
// state and cleanup

interface State {
  bpfStatsOrig?: string;
  audit?: { enabledOrig: string; rules: string[]; backlogOrig?: string; waitOrig?: string };
  auditdPid?: { pid: number; start: string };
  /** Children by pid and start time (/proc/PID/stat field 22), so a reused pid is never hit. */
  pids: Array<{ pid: number; start: string }>;
}
const state: State = { pids: [] };
function saveState(): void {
  mkdirSync(benchDir, { recursive: true });
  writeFileSync(stateFile, JSON.stringify(state));
}

function run(cmd: string[], timeoutMs = 30_000): { code: number; out: string; err: string } {
  const r = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe", timeout: timeoutMs });
  return { code: r.exitCode ?? -1, out: r.stdout.toString(), err: r.stderr.toString() };
}

function startTime(pid: number): string {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, "utf8");
    return st.slice(st.lastIndexOf(")") + 2).split(" ")[19] ?? "";
  } catch {
    return "";
  }
}
/** The same process is still there (not a zombie, not a reused pid). */
function alive(p: { pid: number; start: string }): boolean {
  try {
    const st = readFileSync(`/proc/${p.pid}/stat`, "utf8");
    const f = st.slice(st.lastIndexOf(")") + 2).split(" ");
    return f[0] !== "Z" && f[19] === p.start;
  } catch {
    return false;
  }
}
function signal(p: { pid: number; start: string }, sig: NodeJS.Signals): boolean {
  if (!alive(p)) return false;
  try {
    process.kill(p.pid, sig);
    return true;
  } catch {
    return false;
  }
}

/** Undo everything recorded in s. Synchronous so it can run from a signal handler. */
function cleanupSync(s: State): string[] {
  const done: string[] = [];
  for (const p of s.pids) if (signal(p, "SIGTERM")) done.push(`terminated ${p.pid}`);
  for (let i = 0; i < 30 && s.pids.some(alive); i++) Bun.sleepSync(100);
  for (const p of s.pids) signal(p, "SIGKILL");
  s.pids = [];
  if (s.audit) {
    run(["auditctl", "-D"]);
    run(["auditctl", "-e", "0"]);
    // A host that did not audit (disabled, no rules) gets a never,task rule: once audit has
    // been enabled in a boot, every task created later carries an audit context and takes the
    // slow syscall path unless a task rule says never (see PITFALLS: auditd). A host that
    // audits gets its rules back exactly: never,task would stop them for every new task.
    const audited = s.audit.enabledOrig !== "0" || s.audit.rules.length > 0;
    if (!audited) run(["auditctl", "-a", "never,task"]);
    if (s.audit.backlogOrig) run(["auditctl", "-b", s.audit.backlogOrig]);
    if (s.audit.waitOrig) run(["auditctl", "--backlog_wait_time", s.audit.waitOrig]);
    const failed = s.audit.rules.filter((r) => run(["auditctl", ...r.split(/\s+/)]).code !== 0);
    if (s.audit.enabledOrig !== "0") run(["auditctl", "-e", s.audit.enabledOrig]);
    done.push(audited
      ? `audit rules and enabled flag restored (${s.audit.rules.length} rules${failed.length ? `; could not restore: ${failed.join(" | ")}` : ""})`
      : "audit rules deleted, audit disabled, never,task rule added (the host had no audit rules)");
    s.audit = undefined;
  }
  if (s.auditdPid) {
    if (signal(s.auditdPid, "SIGTERM")) {
      for (let i = 0; i < 50 && alive(s.auditdPid); i++) Bun.sleepSync(100);
      signal(s.auditdPid, "SIGKILL");
      done.push(`stopped auditd ${s.auditdPid.pid}`);
    }
    s.auditdPid = undefined;
  }
  if (s.bpfStatsOrig !== undefined) {
    try {
      writeFileSync("/proc/sys/kernel/bpf_stats_enabled", s.bpfStatsOrig);
      done.push(`kernel.bpf_stats_enabled = ${s.bpfStatsOrig}`);
    } catch {}
    s.bpfStatsOrig = undefined;
  }
  try { rmSync(stateFile, { force: true }); } catch {}
  return done;
}

function recoverStale(): void {
  if (!existsSync(stateFile)) return;
  let s: State;
  try {
    s = JSON.parse(readFileSync(stateFile, "utf8"));
  } catch {
    rmSync(stateFile, { force: true });
    return;
  }
  const done = cleanupSync(s);
  log(`cleaned up after an interrupted run${done.length ? ": " + done.join("; ") : ""}`);
}

if (opt.cleanup) {
  recoverStale();
  process.exit(0);
}

let cleaning = false;
function cleanupAndExit(code: number, why: string): never {
  if (!cleaning) {
    cleaning = true;
    log(`${why}: cleaning up`);
    const done = cleanupSync(state);
    if (done.length) log(done.join("; "));
  }
  process.exit(code);
}
process.on("SIGINT", () => cleanupAndExit(130, "interrupted"));
process.on("SIGTERM", () => cleanupAndExit(143, "terminated"));
process.on("SIGHUP", () => cleanupAndExit(129, "hang-up"));

// ---------------------------------------------------------------------------------------
// processes

const sleep = (ms: number) => Bun.sleep(ms);
const now = () => performance.now() / 1000;

function track(pid: number): void {
  state.pids.push({ pid, start: startTime(pid) });
  saveState();
}
function untrack(pid: number): void {
  state.pids = state.pids.filter((p) => p.pid !== pid);
  saveState();
}

/** utime + stime in seconds from a /proc stat file (a process: all its threads; a task: one). */
function statCpuSecs(statPath: string): number {
  const s = readFileSync(statPath, "utf8");
  const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}
function cpuSecs(pid: number): number {
  return statCpuSecs(`/proc/${pid}/stat`);
}
/** CPU seconds of a process's JIT compiler threads (JSC names them "JITWorker"). */
function jitSecs(pid: number): number {
  let t = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      if (!readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").startsWith("JIT")) continue;
      t += statCpuSecs(`/proc/${pid}/task/${tid}/stat`);
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return t;
}
/** Busy and total jiffies of all CPUs (/proc/stat). */
function hostCpu(): { busy: number; total: number } {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - f[3] - f[4], total }; // minus idle and iowait
}
function memMiB(pid: number): { rss: number; hwm: number } {
  const s = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, "m").exec(s)?.[1] ?? NaN);
  return { rss: kb("VmRSS") / 1024, hwm: kb("VmHWM") / 1024 };
}

interface Summary {
  byType: Record<string, { dt: number; events: number; drops: number; limited: number }>;
  total: number;
  drops: number;
  filtered: number;
  unknown: number;
  malformed: number;
}

function parseSummary(text: string): Summary | undefined {
  const i = text.indexOf("event            dt");
  if (i < 0) return undefined;
  const s: Summary = { byType: {}, total: 0, drops: 0, filtered: 0, unknown: 0, malformed: 0 };
  for (const line of text.slice(i).split("\n").slice(1)) {
    let m = /^(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$/.exec(line);
    if (m) {
      s.byType[m[1]] = { dt: +m[2], events: +m[3], drops: +m[4], limited: +m[5] };
      continue;
    }
    m = /^total\s+(\d+)\s+(\d+)/.exec(line);
    if (m) {
      s.total = +m[1];
      s.drops = +m[2];
      continue;
    }
    m = /filtered in user space: (\d+); unknown records: (\d+); malformed: (\d+)/.exec(line);
    if (m) [s.filtered, s.unknown, s.malformed] = [+m[1], +m[2], +m[3]];
  }
  return s;
}

interface Agent {
  proc: Subprocess<"ignore", "ignore", "pipe">;
  pid: number;
  err: () => string;
  reader: Promise<void>;
  events: string;
}

async function startAgent(events: string, maxSecs: number, extra: string[] = []): Promise<Agent> {
  const proc = Bun.spawn([AGENT, "trace", "--events", events, "--format", "null", "--duration", String(Math.ceil(maxSecs)), ...extra], {
    stdin: "ignore", stdout: "ignore", stderr: "pipe",
  });
  track(proc.pid);
  let buf = "";
  const dec = new TextDecoder();
  const reader = (async () => {
    for await (const chunk of proc.stderr) buf += dec.decode(chunk, { stream: true });
  })();
  const a: Agent = { proc, pid: proc.pid, err: () => buf, reader, events };
  const deadline = Date.now() + 30_000;
  while (!/programs attached/.test(buf)) {
    if (proc.exitCode !== null || proc.signalCode !== null || Date.now() > deadline) {
      try { proc.kill("SIGKILL"); } catch {}
      await proc.exited;
      untrack(proc.pid);
      throw new Error(`agent did not start (--events ${events}): ${buf.trim() || "no output"}`);
    }
    await sleep(20);
  }
  return a;
}

/**
 * SIGINT, then wait for the summary (its last line) and for the exit. drainSecs: SIGINT to
 * summary, i.e. the time to switch events off and drain the ring; exitSecs: SIGINT to exit
 * (detaching a syscall tracepoint waits for RCU grace periods, ~2 s for the default set).
 */
async function stopAgent(a: Agent): Promise<{ summary: Summary; drainSecs: number; exitSecs: number; stderr: string }> {
  const t = now();
  try { a.proc.kill("SIGINT"); } catch {}
  const killer = setTimeout(() => { try { a.proc.kill("SIGKILL"); } catch {} }, 60_000);
  let drainSecs = NaN;
  while (a.proc.exitCode === null && a.proc.signalCode === null) {
    if (Number.isNaN(drainSecs) && /filtered in user space: .*\n/.test(a.err())) drainSecs = now() - t;
    await Promise.race([a.proc.exited, sleep(10)]);
  }
  clearTimeout(killer);
  const exitSecs = now() - t;
  await a.reader;
  if (Number.isNaN(drainSecs)) drainSecs = exitSecs;
  untrack(a.pid);
  const summary = parseSummary(a.err());
  if (!summary) throw new Error(`agent printed no summary (exit ${a.proc.exitCode}): ${a.err().trim().slice(-2000)}`);
  return { summary, drainSecs, exitSecs, stderr: a.err() };
}

async function loadgen(args: string[], timeoutSecs: number): Promise<Record<string, number | string | number[]>> {
  const proc = Bun.spawn([loadgenBin, ...args], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  track(proc.pid);
  const killer = setTimeout(() => { try { proc.kill("SIGKILL"); } catch {} }, timeoutSecs * 1000);
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  await proc.exited;
  clearTimeout(killer);
  untrack(proc.pid);
  const line = out.trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(line);
  } catch {
    throw new Error(`loadgen ${args.join(" ")} failed (exit ${proc.exitCode}): ${err.trim() || out.trim()}`);
  }
}

// ---------------------------------------------------------------------------------------
// BPF statistics

interface ProgStat { id: number; name: string; run_time_ns: number; run_cnt: number }

/**
 * The agent's own programs: their ids from the agent's bpf-prog file descriptors
 * (/proc/PID/fdinfo: prog_id, run_time_ns, run_cnt), their names from `bpftool prog show -j`
 * (this bpftool reports no owner pids). Other Vigil agents on the host are not counted.
 */
function bpfProgs(ownerPid: number): ProgStat[] {
  const mine = new Map<number, { ns: number; cnt: number }>();
  let fds: string[] = [];
  try {
    fds = readdirSync(`/proc/${ownerPid}/fd`);
  } catch {
    return [];
  }
  for (const fd of fds) {
    try {
      if (!readlinkSync(`/proc/${ownerPid}/fd/${fd}`).includes("bpf-prog")) continue;
      const info = readFileSync(`/proc/${ownerPid}/fdinfo/${fd}`, "utf8");
      const num = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, "m").exec(info)?.[1] ?? NaN);
      const id = num("prog_id");
      if (Number.isFinite(id)) mine.set(id, { ns: num("run_time_ns"), cnt: num("run_cnt") });
    } catch {}
  }
  if (mine.size === 0) return [];
  const names = new Map<number, string>();
  const r = run(["bpftool", "prog", "show", "-j"]);
  try {
    for (const p of JSON.parse(r.out) as Array<{ id: number; name?: string }>) if (p.name) names.set(p.id, p.name);
  } catch {}
  return [...mine]
    .map(([id, t]) => ({ id, name: names.get(id) ?? `id${id}`, run_time_ns: t.ns || 0, run_cnt: t.cnt || 0 }))
    .filter((p) => p.name.startsWith("vigil_"));
}

/** Per phase and program name: summed run time and count over every agent run. */
type ProgSum = { ns: number; cnt: number };
const progTotals = new Map<string, Map<string, ProgSum>>();
/** Add t to m's sum for program n. */
function addSum(m: Map<string, ProgSum>, n: string, t: ProgSum): void {
  const a = m.get(n) ?? { ns: 0, cnt: 0 };
  a.ns += t.ns;
  a.cnt += t.cnt;
  m.set(n, a);
}
/** Per phase: the host's busy share (%) over each agent run counted in it (its maximum decides
 * whether the phase counts as saturated). */
const phaseBusy = new Map<string, number[]>();
/** A phase whose host CPU stayed below this is "unsaturated": the kernel targets are judged on
 * those runs, the cost of a program rather than of a starved machine. (Before the ring's
 * wakeups were rationed, saturated runs cost 1.8x the quiet ones; now the two agree within
 * noise for openat, and rare events such as connect cost more at paced rates, caches cold.) */
const SATURATED_PCT = 80;
const busyPct = (h0: { busy: number; total: number }, h1: { busy: number; total: number }) =>
  r2(((h1.busy - h0.busy) / Math.max(1, h1.total - h0.total)) * 100);
function recordProgs(phase: string, agentPid: number, hostBusyPct: number): void {
  const progs = bpfProgs(agentPid);
  phaseBusy.set(phase, [...(phaseBusy.get(phase) ?? []), hostBusyPct]);
  const m = progTotals.get(phase) ?? new Map();
  progTotals.set(phase, m);
  for (const p of progs) addSum(m, p.name, { ns: p.run_time_ns, cnt: p.run_cnt });
}

// ---------------------------------------------------------------------------------------
// helpers

const median = (xs: number[]): number => {
  const s = [...xs].filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const r2 = (x: number) => Math.round(x * 100) / 100;
const r3 = (x: number) => Math.round(x * 1000) / 1000;
const fmtRate = (n: number) => (n === 0 ? "burst" : n >= 1000 ? `${n / 1000}k` : String(n));
const fmtK = (n: number) => (Number.isFinite(n) ? (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(0)) : "—");
const mark = (ok: boolean | undefined) => (ok === undefined ? "  —  " : ok ? " PASS" : " FAIL");

const started = now();
const remaining = () => P.budgetSecs - (now() - started);
const watchdog = setTimeout(() => cleanupAndExit(3, `time budget of ${P.budgetSecs} s exceeded`), P.budgetSecs * 1000 + 60_000);

/** Processes holding BPF programs on tracepoints, kprobes or uprobes (`bpftool perf`), at the
 * start, before any agent of ours: a forgotten agent, or another tracer, runs its programs on
 * the bare runs' syscalls too. (A leftover agent once halved the bare open storm's speed and
 * made the run report 1.07x.) tp_btf/raw_tp links are not listed by this bpftool with a pid. */
function foreignTracers(): Array<{ pid: number; cmd: string; n: number }> {
  const r = run(["bpftool", "perf", "-j"]);
  if (r.code !== 0) return [];
  let rows: Array<{ pid?: number }>;
  try {
    rows = JSON.parse(r.out || "[]");
  } catch {
    return [];
  }
  const by = new Map<number, number>();
  for (const x of rows) if (typeof x.pid === "number" && x.pid !== process.pid) by.set(x.pid, (by.get(x.pid) ?? 0) + 1);
  return [...by].map(([pid, n]) => {
    let cmd = "?";
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ").slice(0, 120);
    } catch {}
    return { pid, cmd, n };
  });
}
const fmtTracer = (t: { pid: number; cmd: string; n: number }) => `pid ${t.pid} (${t.cmd}) with ${t.n} attached`;

// ---------------------------------------------------------------------------------------
// the phases

interface Catalog { name: string; dt: number; family: string; programs: string[] }
let catalog: Catalog[] = [];

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) die("must run as root (BPF, audit, sysctl)");
  if (!existsSync(AGENT_SRC)) die(`${AGENT_SRC} is missing: run scripts/build`);
  recoverStale();
  const foreign = foreignTracers();
  if (foreign.length && !opt["allow-foreign-bpf"]) {
    die(`other processes hold BPF programs on tracepoints or kprobes, so the "bare" runs would not be bare and every figure would be off: ${foreign.map(fmtTracer).join("; ")}. Stop them, or pass --allow-foreign-bpf to measure anyway (noted in the output)`);
  }
  mkdirSync(benchDir, { recursive: true });
  // Build the load generator when missing or stale.
  if (!existsSync(loadgenBin) || statSync(loadgenBin).mtimeMs < statSync(loadgenSrc).mtimeMs) {
    const r = run(["gcc", "-O2", "-Wall", "-o", loadgenBin, loadgenSrc, "-lpthread"]);
    if (r.code !== 0) die(`gcc loadgen.c failed:\n${r.err}`);
  }
  writeFileSync(openTarget, "vigil bench open target\n");
  copyFileSync(AGENT_SRC, `${AGENT}.tmp`);
  chmodSync(`${AGENT}.tmp`, 0o755);
  renameSync(`${AGENT}.tmp`, AGENT); // a rename works even while an old copy is running
  const sha256 = new Bun.CryptoHasher("sha256").update(readFileSync(AGENT)).digest("hex");

  // What the agent offers: `trace --help` lists "  dt  name  family  on|off  summary".
  const help = run([AGENT, "trace", "--help"]);
  const offered = new Map<string, { dt: number; family: string; defaultOn: boolean }>();
  for (const m of help.out.matchAll(/^\s+(\d+)\s+(\S+)\s+(\S+)\s+(on|off)\s/gm)) {
    offered.set(m[2], { dt: +m[1], family: m[3], defaultOn: m[4] === "on" });
  }
  defaultOn = new Set([...offered].filter(([, v]) => v.defaultOn).map(([k]) => k));
  if (offered.size === 0) die(`could not read the event list from "${AGENT_SRC} trace --help": ${help.err.trim()}`);
  try {
    // The catalogue of the tree the agent was built from (dist/vigil-agent → ../src), else ours.
    const beside = join(dirname(AGENT_SRC), "../src/agent/collector/catalog.ts");
    const mod = await import(existsSync(beside) ? beside : join(root, "src/agent/collector/catalog.ts"));
    // A programs entry may list alternatives: "a+b|c+d" (the first set that loads is used),
    // and name a tracepoint of a shared program: "prog@syscalls/sys_exit_x".
    catalog = (mod.EVENTS as Catalog[]).map((e) => ({
      name: e.name, dt: e.dt, family: e.family,
      programs: [...new Set(e.programs.flatMap((p) => p.split(/[|+]/)).map((p) => p.split("@")[0]!.trim()).filter(Boolean))],
    }));
  } catch (e) {
    log(`source catalogue not importable (${(e as Error).message.split("\n")[0]}); program families guessed from names`);
  }

  offeredNames = new Set(offered.keys());
  const mixed = offered.has("open");
  const loadEvents = mixed ? ["default", ...["open", "connect", "execve"].filter((n) => offered.has(n))].join(",") : "canary";
  const missing = ["open", "connect", "execve"].filter((n) => !offered.has(n));
  const notes: string[] = [];
  if (foreign.length) notes.push(`FOREIGN TRACERS (--allow-foreign-bpf): ${foreign.map(fmtTracer).join("; ")}; the bare runs pay their programs too`);
  if (!mixed) notes.push("CANARY-ONLY LOAD: the agent has no open event yet, so throughput is measured with lseek(-1, seq, 4729) canary events, not the mixed open/exec/connect load");
  else if (missing.length) notes.push(`mixed load, but the agent has no ${missing.join("/")} event yet: those operations still run, unmeasured`);

  // How busy the host was before we started (other users of a shared machine).
  const hb0 = hostCpu();
  await sleep(1000);
  const hb1 = hostCpu();
  const busyBefore = r2(((hb1.busy - hb0.busy) / Math.max(1, hb1.total - hb0.total)) * 100);
  if (busyBefore > 15) notes.push(`the host was already ${busyBefore}% busy before the bench started (load average ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}): other work shares the CPUs, figures are noisier than usual`);
  const binSize = statSync(AGENT).size;
  const doc: Record<string, unknown> = {
    bench: "collector",
    quick: QUICK,
    date: new Date().toISOString(),
    host: { kernel: run(["uname", "-r"]).out.trim(), cpus: cpus().length, busy_pct_before: busyBefore, loadavg_before: readFileSync("/proc/loadavg", "utf8").trim() },
    agent: {
      path: AGENT_SRC, sha256, version: run([AGENT, "version"]).out.trim(), built: statSync(AGENT_SRC).mtime.toISOString(),
      tree: run(["git", "-C", dirname(AGENT_SRC), "describe", "--always", "--dirty"]).out.trim() || undefined,
      events_offered: [...offered.keys()],
    },
    binary: { size_bytes: binSize, size_mib: r2(binSize / 1048576) },
    load: {
      mode: mixed ? "mixed" : "canary-only",
      agent_events: loadEvents,
      threads: THREADS,
      mix_per_10000: mixed ? { open: MIX[0], connect: MIX[1], exec: MIX[2] } : { canary: 10000 },
      description: mixed
        ? `openat+close of one file ${MIX[0] / 100}%, TCP connect to a loopback listener (SO_LINGER 0, accepted by a loadgen thread) ${MIX[1] / 100}%, posix_spawn(/bin/true) ${MIX[2] / 100}%; ${THREADS} threads paced with clock_nanosleep on 1 ms ticks`
        : `lseek(-1, seq, 4729) (the canary); ${THREADS} threads paced with clock_nanosleep on 1 ms ticks`,
    },
    notes,
  };

  // kernel.bpf_stats_enabled on for the whole run.
  state.bpfStatsOrig = readFileSync("/proc/sys/kernel/bpf_stats_enabled", "utf8").trim();
  saveState();
  writeFileSync("/proc/sys/kernel/bpf_stats_enabled", "1");

  // Idle first: a fresh agent before any load; it also gives the background event rate and
  // the agent's stop time without load (detaching every program takes a while).
  const idleR = await idle();
  doc.idle = idleR;
  doc.throughput = await throughput(loadEvents, mixed, notes, idleR);
  doc.slowdown = await slowdown(offered, notes);
  doc.fsops = await fsops(notes);
  doc.kernel_cost = kernelCost();
  doc.targets = targets(doc);
  doc.elapsed_s = r2(now() - started);

  printTable(doc);
  const json = JSON.stringify(doc, null, 2) + "\n";
  if (opt.json) writeFileSync(opt.json, json);
  else process.stdout.write(json);
}

// ---- 1. throughput and loss -----------------------------------------------------------

interface TpConfig { label: string; load: "mix" | "canary"; rate: number; enrich: boolean; events: string; diagnostic: boolean; threads: number }
interface TpRun {
  round: number; label: string; load: "mix" | "canary"; target_rate: number | "burst"; enrich: boolean; diagnostic: boolean;
  generated: Record<string, number>; generated_total: number; load_secs: number; achieved_rate: number; load_limited: boolean;
  delivered_total: number; delivered_rate: number; delivered_by_type: Record<string, number>;
  coverage: Record<string, number>; drops: number; drops_by_type: Record<string, number>;
  agent_cpu_pct: number; host_cpu_pct: number; rss_mib: number; hwm_mib: number; stop_s: number; drain_s: number; ok: boolean;
}

async function throughput(events: string, mixed: boolean, notes: string[], idleR: IdleResult) {
  const configs: TpConfig[] = RATES.map((rate) => ({ label: fmtRate(rate), load: mixed ? "mix" : "canary", rate, enrich: true, events, diagnostic: false, threads: THREADS }));
  if (!QUICK && mixed && RATES.includes(0)) {
    // Diagnostics: where the limit is. The mixed burst without enrichment; and the agent's own
    // capacity: the cheapest event (the canary) from one load thread, so that the load takes
    // one CPU and the agent has the other.
    configs.push({ label: "burst noenrich", load: "mix", rate: 0, enrich: false, events, diagnostic: true, threads: THREADS });
    configs.push({ label: "burst canary 1thr", load: "canary", rate: 0, enrich: true, events: "canary", diagnostic: true, threads: 1 });
  }
  log(`throughput: agent --events ${events}; ${mixed ? "mixed" : "CANARY-ONLY"} load, ${configs.map((c) => c.label).join(", ")}; ${P.rounds} round(s) of ${P.loadSecs} s`);
  // Background (events/s with no load) and the stop time without load: from the idle run when
  // it watched the same events, else from a short run of this set.
  let bgRate = idleR.events_per_s, stopBase = idleR.stop_s;
  const same = [...offeredNames].every((n) => selects(events, n) === selects("default", n));
  if (!same) {
    const bgA = await startAgent(events, P.bgSecs + 60);
    await sleep(P.bgSecs * 1000);
    const t = now();
    const bg = await stopAgent(bgA);
    bgRate = bg.summary.total / (now() - t + P.bgSecs);
    stopBase = bg.drainSecs;
  }
  notes.push(`background with no load: ${bgRate.toFixed(0)} events/s of the measured set from other processes (counted in "delivered"); the agent takes ${stopBase.toFixed(2)} s from SIGINT to its summary with no load, ${idleR.exit_s} s to exit (detaching)`);

  // The load alone, at full burst with no agent: what the 2 CPUs can do for the load itself,
  // and so how much CPU per event is left for Vigil at the target rate.
  let bare: { ops_per_s: number; host_cpu_pct: number; load_cpu_us_per_op: number; vigil_budget_us_per_event_at_300k: number } | undefined;
  if (mixed && RATES.includes(0)) {
    const h0 = hostCpu();
    const lg = await loadgen(["mix", "--rate", "0", "--duration", String(P.loadSecs), "--threads", String(THREADS), "--mix", MIX.join(","), "--file", openTarget], P.loadSecs + 30);
    const h1 = hostCpu();
    const busy = busyPct(h0, h1) / 100;
    const ncpu = availableParallelism();
    const rate = +lg.ops / +lg.elapsed_s;
    const perOp = (busy * ncpu * 1e6) / rate;
    bare = {
      ops_per_s: Math.round(rate), host_cpu_pct: r2(busy * 100), load_cpu_us_per_op: r2(perOp),
      vigil_budget_us_per_event_at_300k: r2((ncpu * 1e6) / 300_000 - perOp),
    };
    log(`  load alone (no agent), burst: ${fmtK(bare.ops_per_s)} ops/s, host cpu ${bare.host_cpu_pct}%, ${bare.load_cpu_us_per_op} us of CPU per op`);
    notes.push(`throughput: the load alone (no agent) runs ${fmtK(bare.ops_per_s)} ops/s at full burst using ${bare.load_cpu_us_per_op} us of CPU per op; at 300k events/s on ${ncpu} CPUs that leaves ${bare.vigil_budget_us_per_event_at_300k} us per event for everything Vigil does (kernel programs, tracepoint overhead, ring, decoding)`);
  }

  const runs: TpRun[] = [];
  for (let round = 1; round <= P.rounds; round++) {
    for (const c of configs) {
      if (remaining() < (QUICK ? 50 : 200)) {
        notes.push(`throughput round ${round} cut short by the time budget`);
        break;
      }
      const agent = await startAgent(c.events, P.loadSecs + 60, c.enrich ? [] : ["--no-enrich"]);
      await sleep(P.warmMs);
      const h0 = hostCpu(), c0 = cpuSecs(agent.pid), t0 = now();
      const lg = await loadgen([c.load, "--rate", String(c.rate), "--duration", String(P.loadSecs),
        "--threads", String(c.threads), "--mix", MIX.join(","), "--file", openTarget], P.loadSecs + 30);
      const c1 = cpuSecs(agent.pid), t1 = now(), h1 = hostCpu();
      const mem = memMiB(agent.pid);
      if (!c.diagnostic) recordProgs(`throughput ${c.label}`, agent.pid, busyPct(h0, h1)); // the load window
      const { summary, drainSecs } = await stopAgent(agent);
      const generated: Record<string, number> = c.load === "mix"
        ? { open: +lg.open, connect: +lg.connect, accept: +lg.accepted, execve: +lg.exec }
        : { canary: +lg.canary };
      const genTotal = Object.values(generated).reduce((x, y) => x + y, 0);
      const byType: Record<string, number> = {}, dropsBy: Record<string, number> = {}, coverage: Record<string, number> = {};
      for (const [k, v] of Object.entries(summary.byType)) {
        byType[k] = v.events;
        if (v.drops) dropsBy[k] = v.drops;
      }
      for (const [k, g] of Object.entries(generated)) if (selects(c.events, k) && g > 0) coverage[k] = r3((byType[k] ?? 0) / g);
      const loadSecs = +lg.elapsed_s;
      const achieved = +lg.ops / loadSecs;
      const r: TpRun = {
        round, label: c.label, load: c.load, target_rate: c.rate || "burst", enrich: c.enrich, diagnostic: c.diagnostic,
        generated, generated_total: genTotal, load_secs: r3(loadSecs), achieved_rate: Math.round(achieved),
        load_limited: c.rate > 0 && achieved < 0.95 * c.rate,
        delivered_total: summary.total, delivered_rate: Math.round(summary.total / loadSecs), delivered_by_type: byType,
        coverage, drops: summary.drops, drops_by_type: dropsBy,
        agent_cpu_pct: r2(((c1 - c0) / (t1 - t0)) * 100),
        host_cpu_pct: busyPct(h0, h1), rss_mib: r2(mem.rss), hwm_mib: r2(mem.hwm),
        stop_s: r2(drainSecs), drain_s: r2(Math.max(0, drainSecs - stopBase)),
        ok: summary.drops === 0 && Object.values(coverage).every((x) => x >= 0.999),
      };
      runs.push(r);
      log(`  ${c.label.padEnd(18)}: generated ${fmtK(r.achieved_rate)}/s, delivered ${fmtK(r.delivered_rate)}/s, drops ${r.drops}, agent cpu ${r.agent_cpu_pct}%, host cpu ${r.host_cpu_pct}%, rss ${r.rss_mib} MiB, drain ${r.drain_s} s`);
    }
  }
  if (runs.length && runs.every((r) => r.delivered_total === 0)) {
    notes.push("THE AGENT DELIVERED NO EVENTS in any throughput run although the load ran: the collector (ring reader) is not working in this binary");
  }
  if (runs.some((r) => r.load_limited)) {
    notes.push("throughput: at some paced rates the load generator could not reach the target on this machine (generated < 95% of target; marked \"load-limited\"): the 2 CPUs are shared by the load, the kernel programs and the agent");
  }
  // One row per configuration: medians of rates and CPU, sums of drops, maxima of memory.
  const rows = configs.map((c) => {
    const rs = runs.filter((r) => r.label === c.label);
    return {
      label: c.label, load: c.load, target_rate: c.rate || "burst", enrich: c.enrich, diagnostic: c.diagnostic, runs: rs.length,
      achieved_rate: Math.round(median(rs.map((r) => r.achieved_rate))),
      load_limited: rs.some((r) => r.load_limited),
      delivered_rate: Math.round(median(rs.map((r) => r.delivered_rate))),
      min_coverage: r3(Math.min(...rs.flatMap((r) => Object.values(r.coverage)))),
      drops: rs.reduce((x, r) => x + r.drops, 0),
      agent_cpu_pct: r2(median(rs.map((r) => r.agent_cpu_pct))),
      host_cpu_pct: r2(median(rs.map((r) => r.host_cpu_pct))),
      rss_mib: r2(Math.max(...rs.map((r) => r.rss_mib))),
      hwm_mib: r2(Math.max(...rs.map((r) => r.hwm_mib))),
      drain_s: r2(Math.max(...rs.map((r) => r.drain_s))),
      ok: rs.length > 0 && rs.every((r) => r.ok),
    };
  }).filter((r) => r.runs > 0);
  return { agent_events: events, background_rate: Math.round(bgRate), stop_without_load_s: r2(stopBase), load_alone: bare, rows, runs };
}

let offeredNames = new Set<string>();
/** The events a --events list selects, from the names `trace --help` offered. */
let defaultOn = new Set<string>();
function selects(events: string, n: string): boolean {
  const parts = events.split(",");
  return offeredNames.has(n) && (parts.includes(n) || (parts.includes("default") && defaultOn.has(n)));
}

// ---- 2. workload slowdown -------------------------------------------------------------

interface StormResult {
  storm: string; count: number; vigil_events: string; vigil_note?: string;
  pairs: Array<{ bare_s: number; vigil_s: number; ratio: number; vigil_jit_s: number; vigil_seen?: number; vigil_drops?: number }>;
  bare_s: number; vigil_s: number; vigil_ratio: number;
  auditd?: {
    pairs: Array<{ bare_s: number; auditd_s: number; ratio: number; settle_s: number }>; bare_s: number; auditd_s: number;
    // ratio: auditd's median against the first phase's bare median (no audit at all, the host
    // Vigil was measured on); ratio_in_phase: against the never,task runs of the auditd phase
    // (auditd's daemon running, audit enabled), kept to show the drift between the phases.
    ratio: number; ratio_in_phase: number; rule: string;
  };
  vigil_added_fraction_of_auditd?: number;
}

/** Run fn with kernel.bpf_stats_enabled off: the statistics cost every program run two clock
 * reads (the open storm ran 3-8% slower with them on, measured alternately), which a host
 * running Vigil does not pay. The timed storms run without them; the storms' per-program
 * costs come from their untimed warm-up storms. */
async function withoutBpfStats<T>(fn: () => Promise<T>): Promise<T> {
  writeFileSync("/proc/sys/kernel/bpf_stats_enabled", "0");
  try {
    return await fn();
  } finally {
    writeFileSync("/proc/sys/kernel/bpf_stats_enabled", "1");
  }
}

async function storm(kind: "openstorm" | "execstorm", count: number): Promise<number> {
  const r = await loadgen([kind, String(count), "--file", openTarget], 120);
  if (+r.fails) throw new Error(`${kind}: ${r.fails} failures (errno ${r.errno})`);
  return +r.elapsed_s;
}

async function slowdown(offered: Map<string, { dt: number; family: string; defaultOn: boolean }>, notes: string[]) {
  const plan: Array<{ kind: "openstorm" | "execstorm"; name: string; count: number; pairs: number; warm: number; auditdPairs: number; events: string; event: string; syscall: string; note?: string }> = [
    {
      kind: "openstorm", name: "open/close storm", count: P.openCount, pairs: P.pairs, warm: P.warmStorms, auditdPairs: P.auditdPairs, event: "open", syscall: "openat",
      events: offered.has("open") ? "default,open" : "default",
      note: offered.has("open") ? undefined : "the agent has no open event yet: Vigil watched only its default set",
    },
    {
      kind: "execstorm", name: "exec storm", count: P.execCount, pairs: P.execPairs, warm: P.execWarmStorms, auditdPairs: P.auditdExecPairs, event: "execve", syscall: "execve", events: "default",
      note: offered.has("execve") ? (offered.get("execve")!.defaultOn ? undefined : "execve is not in the default set") : "the agent has no execve event yet: Vigil watched only its default set",
    },
  ];
  const results: StormResult[] = [];
  log(`slowdown: alternating bare/Vigil pairs (${plan.map((p) => `${p.pairs} of the ${p.name}`).join(", ")}; ${opt["cold-storms"] ? "timed right after the agent starts" : `each Vigil run after untimed warm-up storms: ${plan.map((p) => `${p.warm} of the ${p.name}`).join(", ")}`}), then ${opt["skip-auditd"] ? "no auditd (--skip-auditd)" : `auditd pairs last (${plan.map((p) => `${p.auditdPairs} of the ${p.name}`).join(", ")})`}`);
  // Warm the page cache and the binaries once.
  await storm("openstorm", 1000);
  await storm("execstorm", 20);
  for (const p of plan) {
    const res: StormResult = { storm: p.name, count: p.count, vigil_events: p.events, vigil_note: p.note, pairs: [], bare_s: NaN, vigil_s: NaN, vigil_ratio: NaN };
    if (p.note) notes.push(`${p.name}: ${p.note}`);
    for (let i = 0; i < p.pairs; i++) {
      const withVigil = async () => {
        const a = await startAgent(p.events, 120);
        await sleep(P.settleMs);
        const h0 = hostCpu(); // the storms' window: the settling second would dilute it
        // A freshly started agent spends its first seconds compiling its hot paths (JIT) and
        // filling its caches; an agent on a host has long done that. Untimed storms first. The
        // JIT threads' CPU per 1,500-spawn exec storm, measured twice: 60-70 ms in the first,
        // 0-10 ms in the next three, 20-50 ms again in the 5th-7th (tier-up), 0 from the 9th on;
        // an open storm (1.2M events) settles within its first.
        if (!opt["cold-storms"]) for (let w = 0; w < p.warm; w++) await storm(p.kind, p.count);
        const j0 = jitSecs(a.pid);
        const t = await withoutBpfStats(() => storm(p.kind, p.count));
        const jit = jitSecs(a.pid) - j0;
        recordProgs(`storm ${p.kind}`, a.pid, busyPct(h0, hostCpu()));
        const { summary } = await stopAgent(a);
        return { t, jit, seen: summary.byType[p.event]?.events, drops: summary.drops };
      };
      let bare: number, v: { t: number; jit: number; seen?: number; drops: number };
      if (i % 2 === 0) {
        bare = await storm(p.kind, p.count);
        v = await withVigil();
      } else {
        v = await withVigil();
        bare = await storm(p.kind, p.count);
      }
      res.pairs.push({ bare_s: r3(bare), vigil_s: r3(v.t), ratio: r3(v.t / bare), vigil_jit_s: r3(v.jit), vigil_seen: v.seen, vigil_drops: v.drops });
      log(`  ${p.name} pair ${i + 1}: bare ${bare.toFixed(3)} s, Vigil ${v.t.toFixed(3)} s (×${(v.t / bare).toFixed(3)}; ${v.seen ?? 0} ${p.event} events seen, ${v.drops} drops; agent JIT ${(v.jit * 1000).toFixed(0)} ms)`);
    }
    if (!p.note) {
      const short = res.pairs.filter((x) => (x.vigil_seen ?? 0) < p.count || (x.vigil_drops ?? 0) > 0);
      if (short.length) notes.push(`${p.name}: in ${short.length} of ${res.pairs.length} Vigil runs the agent reported fewer ${p.event} events than the storm made, or drops (${short.map((x) => `${x.vigil_seen ?? 0} seen, ${x.vigil_drops} drops`).join("; ")})`);
    }
    res.bare_s = r3(median(res.pairs.map((x) => x.bare_s)));
    res.vigil_s = r3(median(res.pairs.map((x) => x.vigil_s)));
    res.vigil_ratio = r3(median(res.pairs.map((x) => x.ratio)));
    results.push(res);
  }

  let auditdInfo: Record<string, unknown> = { skipped: true };
  if (!opt["skip-auditd"]) {
    auditdInfo = await auditdPhase(plan, results, notes);
  }
  return {
    vigil_warm: !opt["cold-storms"],
    order: (opt["cold-storms"] ? "Vigil timed right after the agent starts (--cold-storms). " : `each Vigil run times its storm after untimed storms of the same kind (${P.warmStorms} open, ${P.execWarmStorms} exec: the agent warm, its JIT compiler idle, as on a host that has run it for a while; --cold-storms times the first one). `) + "all bare/Vigil pairs first (each pair alternates which goes first), auditd pairs last: once audit is enabled in a boot, new tasks keep a slower syscall path, so no bare run of the first phase comes after audit was enabled. In the auditd phase the bare run of each pair uses `auditctl -a never,task` (fast path for new tasks) instead of the watch rule, and every timed run waits until auditd has written the previous run's records (audit backlog 0, auditd idle for 300 ms). auditd× = auditd's median over the first phase's bare median (the same no-audit baseline as Vigil×, the daemon's own CPU included as the agent's is); (in phase) = median of auditd over the auditd phase's never,task runs. kernel.bpf_stats_enabled is off while a Vigil run's storm is timed (two clock reads per program run that a host does not pay); the storms' per-program costs come from their warm-up storms (none with --cold-storms).",
    storms: results,
    auditd: auditdInfo,
  };
}

async function auditdPhase(
  plan: Array<{ kind: "openstorm" | "execstorm"; name: string; count: number; auditdPairs: number; syscall: string }>,
  results: StormResult[], notes: string[],
): Promise<Record<string, unknown>> {
  const st = run(["auditctl", "-s"]);
  if (st.code !== 0) {
    notes.push(`auditd comparison skipped: auditctl -s failed (${st.err.trim()})`);
    return { skipped: true, reason: st.err.trim() };
  }
  const field = (k: string) => new RegExp(`^${k} (\\S+)`, "m").exec(st.out)?.[1];
  const rulesNow = run(["auditctl", "-l"]).out.trim();
  state.audit = {
    enabledOrig: field("enabled") ?? "0",
    rules: rulesNow === "No rules" || rulesNow === "" ? [] : rulesNow.split("\n"),
    backlogOrig: field("backlog_limit"), waitOrig: field("backlog_wait_time"),
  };
  saveState();
  let daemon = "already running";
  if (!field("pid") || field("pid") === "0") {
    // Start Debian's auditd in the foreground as our child (-n: no fork).
    const proc = Bun.spawn(["auditd", "-n"], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
    state.auditdPid = { pid: proc.pid, start: startTime(proc.pid) };
    saveState();
    let ok = false;
    for (let i = 0; i < 50 && !ok; i++) {
      await sleep(100);
      ok = /^pid [1-9]/m.test(run(["auditctl", "-s"]).out);
    }
    daemon = ok ? `started (auditd -n, pid ${proc.pid})` : "failed to start: records go to the kernel log";
    if (!ok) notes.push("auditd did not register with the kernel; audit records went to the kernel log instead");
  }
  // Debian's default rules file settings.
  run(["auditctl", "-b", "8192"]);
  run(["auditctl", "--backlog_wait_time", "60000"]);
  run(["auditctl", "-D"]);
  run(["auditctl", "-e", "1"]);
  log(`auditd: ${daemon}; audit enabled`);
  const daemonPid = +(/^pid (\d+)/m.exec(run(["auditctl", "-s"]).out)?.[1] ?? 0);
  for (const p of plan) {
    const res = results.find((r) => r.storm === p.name)!;
    const rule = `-a always,exit -F arch=b64 -S ${p.syscall}`;
    const pairs: Array<{ bare_s: number; auditd_s: number; ratio: number; settle_s: number }> = [];
    let settled = 0;
    // A watched open storm leaves auditd ~1.2M records to write after the storm itself has
    // returned; a run started then shares the CPUs with that backlog (measured: the next
    // never,task exec storm took 1.29x the first phase's bare runs, 1.07x once auditd was idle).
    // Every timed run here starts with auditd caught up.
    const timed = async () => {
      settled = await auditQuiet(daemonPid);
      return storm(p.kind, p.count);
    };
    const watched = async () => {
      run(["auditctl", "-D"]);
      run(["auditctl", ...rule.split(" ")]);
      const t = await timed();
      run(["auditctl", "-D"]);
      return t;
    };
    const bare = async () => {
      run(["auditctl", "-D"]);
      run(["auditctl", "-a", "never,task"]);
      const t = await timed();
      run(["auditctl", "-D"]);
      return t;
    };
    for (let i = 0; i < p.auditdPairs; i++) {
      let b: number, a: number, wait = 0;
      if (i % 2 === 0) { b = await bare(); wait += settled; a = await watched(); wait += settled; } else { a = await watched(); wait += settled; b = await bare(); wait += settled; }
      pairs.push({ bare_s: r3(b), auditd_s: r3(a), ratio: r3(a / res.bare_s), settle_s: r3(wait) });
      log(`  ${p.name} auditd pair ${i + 1}: bare (never,task) ${b.toFixed(3)} s, auditd ${a.toFixed(3)} s (×${(a / res.bare_s).toFixed(3)} of the first phase's bare, ×${(a / b).toFixed(3)} of this pair's; waited ${wait.toFixed(1)} s for auditd to catch up)`);
    }
    const auditdS = median(pairs.map((x) => x.auditd_s));
    res.auditd = {
      rule, pairs,
      bare_s: r3(median(pairs.map((x) => x.bare_s))), auditd_s: r3(auditdS),
      ratio: r3(auditdS / res.bare_s),
      ratio_in_phase: r3(median(pairs.map((x) => x.auditd_s / x.bare_s))),
    };
    res.vigil_added_fraction_of_auditd = res.auditd.ratio > 1 ? r3((res.vigil_ratio - 1) / (res.auditd.ratio - 1)) : NaN;
    notes.push(`${p.name}: bare runs of the auditd phase (auditd running and caught up, audit enabled, never,task) took ${r3(res.auditd.bare_s / res.bare_s)}× the bare runs of the first phase; auditd × is against the first phase's bare runs (no audit at all, the baseline Vigil's × uses), ×${res.auditd.ratio_in_phase.toFixed(3)} against the auditd phase's own never,task runs`);
  }
  const lost = /^lost (\d+)/m.exec(run(["auditctl", "-s"]).out)?.[1];
  // Clean up now (also done on exit): rules, enabled flag, never,task, the daemon.
  const done = cleanupSync({ pids: [], audit: state.audit, auditdPid: state.auditdPid });
  state.audit = undefined;
  state.auditdPid = undefined;
  saveState();
  log(`auditd: ${done.join("; ")}`);
  return { daemon, backlog_limit: 8192, backlog_wait_time: 60000, lost_records: lost ? +lost : undefined, cleanup: done };
}

// Wait until the kernel's audit backlog is empty and auditd has used no CPU for 300 ms (at
// most 60 s); returns the seconds waited.
async function auditQuiet(pid: number): Promise<number> {
  const t0 = performance.now();
  const ticks = () => {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, "utf8");
      const rest = f.slice(f.lastIndexOf(")") + 2).split(" ");
      return +rest[11] + +rest[12]; // utime + stime
    } catch { return -1; }
  };
  let quiet = 0;
  let last = ticks();
  while (performance.now() - t0 < 60_000) {
    await sleep(100);
    const backlog = +(/^backlog (\d+)/m.exec(run(["auditctl", "-s"]).out)?.[1] ?? 0);
    const now = ticks();
    quiet = backlog === 0 && now === last ? quiet + 1 : 0;
    last = now;
    if (quiet >= 3 || pid <= 0) break;
  }
  return (performance.now() - t0) / 1000;
}

// ---- 4. idle ------------------------------------------------------------------------------

interface IdleResult {
  seconds: number; cpu_pct: number; rss_mib: number; hwm_mib: number; events_seen: number; events_per_s: number; stop_s: number; exit_s: number;
  /** The events seen by type: where the background came from. */
  events_by_type: Record<string, number>;
}

// ---- 3b. runs for the other file and network programs -----------------------------------
// The mixed load and the storms run openat, connect, accept4 and the exec path; the other
// file/network programs in the default set (mkdir, rename, link, bind, socketpair, ...) would
// get only the harness's own few calls, too few (and too cold) for a figure. One loop of each
// such call, with Vigil's default set watching, gives each program its runs in a phase of its
// own (one thread: unsaturated on 2 CPUs).
async function fsops(notes: string[]) {
  const dir = join(benchDir, "fsops");
  rmSync(dir, { recursive: true, force: true });
  const a = await startAgent("default", 120);
  try {
    await sleep(P.settleMs);
    await loadgen(["fsops", String(Math.max(1, Math.floor(P.fsCount / 10))), "--dir", dir], 60); // warm
    const h0 = hostCpu();
    const r = await loadgen(["fsops", String(P.fsCount), "--dir", dir], 300);
    const busy = busyPct(h0, hostCpu());
    recordProgs("fsops", a.pid, busy);
    if (+r.fails) notes.push(`fsops: ${r.fails} calls failed (first errno ${r.errno})`);
    log(`fsops: ${P.fsCount} × (mkdir, rmdir, ftruncate, truncate, chmod, rename ×2, link, symlink, unlink ×3, mknod, socketpair, bind, chdir) in ${(+r.elapsed_s).toFixed(2)} s with Vigil --events default; host ${busy}% busy`);
    return { count: P.fsCount, elapsed_s: r3(+r.elapsed_s), fails: +r.fails, host_busy_pct: busy, vigil_events: "default" };
  } finally {
    await stopAgent(a);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function idle(): Promise<IdleResult> {
  log(`idle: agent --events default, ${P.idleSecs} s without load`);
  const a = await startAgent("default", P.idleSecs + 60);
  const ta = now(), h0 = hostCpu();
  await sleep(P.idleWarmMs);
  const c0 = cpuSecs(a.pid), t0 = now();
  await sleep(P.idleSecs * 1000);
  const c1 = cpuSecs(a.pid), t1 = now();
  const mem = memMiB(a.pid);
  recordProgs("idle", a.pid, busyPct(h0, hostCpu()));
  const { summary, drainSecs, exitSecs } = await stopAgent(a);
  // "Idle" means no load from this bench: other processes on the host still make events.
  return {
    seconds: r2(t1 - t0), cpu_pct: r2(((c1 - c0) / (t1 - t0)) * 100), rss_mib: r2(mem.rss), hwm_mib: r2(mem.hwm),
    events_seen: summary.total, events_per_s: r2(summary.total / (t1 - ta)), stop_s: r2(drainSecs), exit_s: r2(exitSecs),
    events_by_type: Object.fromEntries(Object.entries(summary.byType).map(([k, v]) => [k, v.events]).filter(([, n]) => +n > 0)),
  };
}

// ---- 3. per-program kernel cost ------------------------------------------------------------

const ELKEID = [
  { hook: "execve", avg_ns: 15200, event: "execve", dt: 59 },
  { hook: "connect", avg_ns: 750, event: "connect", dt: 42 },
  { hook: "bind", avg_ns: 2260, event: "bind", dt: 49 },
  { hook: "file create", avg_ns: 1550, event: "", dt: 602 },
];

function progEvents(name: string): Catalog[] {
  // bpftool may show the kernel's 15-character name: match by prefix.
  return catalog.filter((e) => e.programs.some((p) => p === name || (name.length === 15 && p.startsWith(name))));
}
function progTarget(name: string): { class: string; target_ns?: number } {
  const evs = progEvents(name);
  if (evs.length) {
    if (evs.some((e) => e.name === "execve" || e.dt === 59)) return { class: "exec", target_ns: 3000 };
    if (evs.some((e) => e.family === "file" || e.family === "network")) return { class: evs.find((e) => e.family === "file" || e.family === "network")!.family, target_ns: 1000 };
    return { class: evs[0].family };
  }
  if (/exec/.test(name)) return { class: "exec", target_ns: 3000 };
  if (/open|creat|unlink|renam|link|mkdir|rmdir|chmod|trunc|stat|read|write|close|dup|chdir|file|path/.test(name)) return { class: "file", target_ns: 1000 };
  if (/conn|accept|bind|sock|send|recv|dns|net|peer/.test(name)) return { class: "network", target_ns: 1000 };
  if (/canary/.test(name)) return { class: "vigil" };
  return { class: "other" };
}

const avgOf = (t: ProgSum) => (t.cnt ? Math.round(t.ns / t.cnt) : NaN);

function kernelCost() {
  const phases: Record<string, { host_busy_pct_max: number; saturated: boolean; programs: Array<{ program: string; run_cnt: number; run_time_ns: number; avg_ns: number }> }> = {};
  const sums = { all: new Map<string, ProgSum>(), unsaturated: new Map<string, ProgSum>(), saturated: new Map<string, ProgSum>() };
  for (const [phase, m] of progTotals) {
    const busy = Math.max(...(phaseBusy.get(phase) ?? [100]));
    const saturated = busy >= SATURATED_PCT;
    phases[phase] = {
      host_busy_pct_max: busy, saturated,
      programs: [...m].sort().map(([n, t]) => ({ program: n, run_cnt: t.cnt, run_time_ns: t.ns, avg_ns: avgOf(t) })),
    };
    for (const [n, t] of m) {
      addSum(sums.all, n, t);
      addSum(saturated ? sums.saturated : sums.unsaturated, n, t);
    }
  }
  const programs = [...sums.all].sort(([a], [b]) => a.localeCompare(b)).map(([n, t]) => {
    const tg = progTarget(n);
    const evs = progEvents(n).map((e) => e.name);
    const un = sums.unsaturated.get(n) ?? { ns: 0, cnt: 0 }, sat = sums.saturated.get(n) ?? { ns: 0, cnt: 0 };
    // Judged on the unsaturated runs when there are enough of them (1,000), else on all.
    const basis = un.cnt >= 1000 ? "unsaturated" : "all";
    const judged = basis === "unsaturated" ? avgOf(un) : avgOf(t);
    return {
      program: n, events: evs, class: tg.class, run_cnt: t.cnt, run_time_ns: t.ns, avg_ns: avgOf(t),
      unsaturated: { run_cnt: un.cnt, avg_ns: avgOf(un) }, saturated: { run_cnt: sat.cnt, avg_ns: avgOf(sat) },
      judged_on: basis, judged_avg_ns: judged,
      target_ns: tg.target_ns, pass: tg.target_ns === undefined || t.cnt === 0 ? undefined : judged <= tg.target_ns,
    };
  });
  // Per event: the kernel cost of one syscall of its busiest variant. Programs are grouped by
  // syscall (the name without _enter/_exit/_success); cost = the group's total run time / the
  // group's largest run count (an enter and its exit run once each per call).
  const perEventOf = (m: Map<string, ProgSum>) => catalog
    .map((e) => {
      const groups = new Map<string, { ns: number; cnt: number; progs: string[] }>();
      for (const p of programs.filter((x) => x.events.includes(e.name) && (m.get(x.program)?.cnt ?? 0) > 0)) {
        const t = m.get(p.program)!;
        const stem = p.program.replace(/_(enter|exit|success)$/, "");
        const g = groups.get(stem) ?? { ns: 0, cnt: 0, progs: [] };
        g.ns += t.ns;
        g.cnt = Math.max(g.cnt, t.cnt);
        g.progs.push(p.program);
        groups.set(stem, g);
      }
      const best = [...groups.values()].sort((a, b) => b.cnt - a.cnt)[0];
      return best && { event: e.name, dt: e.dt, programs: best.progs, calls: best.cnt, ns_per_call: Math.round(best.ns / best.cnt) };
    })
    .filter((e): e is NonNullable<typeof e> => !!e);
  const perEvent = perEventOf(sums.all), perEventUnsat = perEventOf(sums.unsaturated);
  const elkeid = ELKEID.map((k) => {
    const ev = catalog.find((e) => e.dt === k.dt);
    const mine = perEvent.find((e) => e.dt === k.dt), un = perEventUnsat.find((e) => e.dt === k.dt);
    return {
      hook: k.hook, elkeid_avg_ns: k.avg_ns, vigil_event: ev?.name ?? null, vigil_avg_ns: mine?.ns_per_call ?? null,
      vigil_unsaturated_avg_ns: un && un.calls >= 1000 ? un.ns_per_call : null, vigil_programs: mine?.programs ?? [],
    };
  });
  // Where the kernel time went: programs by total run time.
  const totalNs = programs.reduce((a, p) => a + p.run_time_ns, 0);
  const topTime = [...programs].sort((a, b) => b.run_time_ns - a.run_time_ns).slice(0, 5)
    .map((p) => ({ program: p.program, run_cnt: p.run_cnt, total_ms: Math.round(p.run_time_ns / 1e6), share: r3(p.run_time_ns / Math.max(1, totalNs)) }));
  return {
    top_time: topTime,
    source: "kernel.bpf_stats_enabled=1; run_time_ns/run_cnt of the vigil_* programs held by this bench's agents (/proc/PID/fdinfo, names from bpftool prog show -j), summed over all agent runs",
    saturation: `a phase (one throughput rate, one storm kind) is saturated when the host's CPUs were ${SATURATED_PCT}% busy or more over an agent run counted in it; targets are judged on the unsaturated phases' runs where a program has 1,000 of them, else on all runs`,
    programs, per_event: perEvent, per_event_unsaturated: perEventUnsat, elkeid_published: elkeid, by_phase: phases,
  };
}

// ---- targets and table ---------------------------------------------------------------------

interface Target { name: string; target: string; value: string; pass?: boolean }

function targets(doc: Record<string, unknown>): Target[] {
  const t: Target[] = [];
  const tp = doc.throughput as { rows: Array<{ diagnostic: boolean; delivered_rate: number; drops: number; ok: boolean }> };
  const clean = tp.rows.filter((r) => !r.diagnostic && r.drops === 0);
  const best = Math.max(0, ...clean.map((r) => r.delivered_rate));
  const mode = (doc.load as { mode: string }).mode;
  t.push({ name: `throughput, delivered decoded with 0 drops (${mode} load)`, target: "≥ 300k events/s", value: `${fmtK(best)}/s`, pass: best >= 300_000 });
  const cap = (doc.throughput as { rows: Array<{ label: string; delivered_rate: number; drops: number }> }).rows.find((r) => r.label === "burst canary 1thr");
  if (cap) t.push({ name: "  (diagnostic) agent capacity: canary burst, 1 load thread", target: "info", value: `${fmtK(cap.delivered_rate)}/s, ${cap.drops} drops` });
  const sd = doc.slowdown as { storms: StormResult[] };
  for (const s of sd.storms) {
    const lim = s.storm.startsWith("open") ? 1.25 : 1.1;
    t.push({ name: `${s.storm}, Vigil × bare`, target: `≤ ${lim.toFixed(2)}×`, value: `${s.vigil_ratio.toFixed(3)}×${s.vigil_note ? " (see notes)" : ""}`, pass: s.vigil_ratio <= lim });
    if (s.auditd) {
      const f = s.vigil_added_fraction_of_auditd ?? NaN;
      t.push({ name: `${s.storm}, Vigil's added time / auditd's (auditd ×${s.auditd.ratio.toFixed(3)} of bare)`, target: "≤ 0.33", value: Number.isFinite(f) ? f.toFixed(3) : "—", pass: Number.isFinite(f) ? f <= 1 / 3 : undefined });
    }
  }
  const kc = doc.kernel_cost as ReturnType<typeof kernelCost>;
  // Programs with at least 1000 runs (fewer is too noisy to judge).
  for (const p of kc.programs.filter((x) => x.target_ns !== undefined && x.pass !== undefined && x.run_cnt >= 1000)) {
    const basis = p.judged_on === "unsaturated" ? "" : ", all runs";
    t.push({ name: `kernel cost ${p.program} (${p.class}${basis})`, target: `≤ ${(p.target_ns! / 1000).toFixed(0)} µs/run`, value: `${(p.judged_avg_ns / 1000).toFixed(3)} µs`, pass: p.pass });
  }
  const idleR = doc.idle as { cpu_pct: number; rss_mib: number };
  t.push({ name: "idle agent CPU", target: "≤ 1%", value: `${idleR.cpu_pct.toFixed(2)}%`, pass: idleR.cpu_pct <= 1 });
  t.push({ name: "idle agent RSS", target: "≤ 80 MiB", value: `${idleR.rss_mib.toFixed(1)} MiB`, pass: idleR.rss_mib <= 80 });
  const bin = doc.binary as { size_mib: number };
  t.push({ name: "binary size (dist/vigil-agent)", target: "report", value: `${bin.size_mib.toFixed(1)} MiB` });
  return t;
}

function printTable(doc: Record<string, unknown>): void {
  const o: string[] = [];
  const load = doc.load as { mode: string; agent_events: string; description: string };
  o.push("", `Vigil collector benchmark${QUICK ? " (--quick)" : ""}: ${(doc.host as { cpus: number }).cpus} CPUs, kernel ${(doc.host as { kernel: string }).kernel}, agent ${(doc.agent as { version: string }).version}`);
  o.push(`load: ${load.mode.toUpperCase()} — ${load.description}; agent --events ${load.agent_events}`);
  const tp = doc.throughput as { background_rate: number; rows: Array<Record<string, number | string | boolean>> };
  o.push("", "1. Throughput and loss (medians over rounds; drops summed)",
    "   target              generated/s   delivered/s  coverage     drops   agent CPU  host CPU   RSS MiB   HWM MiB   drain s",
  );
  for (const r of tp.rows) {
    const label = `${r.label}${r.diagnostic ? "*" : ""}`;
    o.push(`   ${label.padEnd(19)} ${fmtK(+r.achieved_rate).padStart(11)} ${fmtK(+r.delivered_rate).padStart(13)} ${String(r.min_coverage).padStart(9)} ${String(r.drops).padStart(9)} ${(`${r.agent_cpu_pct}%`).padStart(11)} ${(`${r.host_cpu_pct}%`).padStart(9)} ${String(r.rss_mib).padStart(9)} ${String(r.hwm_mib).padStart(9)} ${String(r.drain_s).padStart(9)}  ${r.ok ? "ok" : "LOSS"}${r.load_limited ? " load-limited" : ""}`);
  }
  o.push(`   (coverage = delivered / generated, the lowest over the generated types; background ${tp.background_rate} events/s;`,
    "    agent CPU = agent CPU time / load time, % of one CPU; host CPU = busy share of all CPUs (100% = saturated);",
    `    drain = SIGINT-to-summary time beyond the ${(doc.throughput as { stop_without_load_s: number }).stop_without_load_s} s it takes without load (> 1 s: the agent was behind);`,
    "    * = diagnostic, not counted for the target)");
  const alone = (doc.throughput as { load_alone?: { ops_per_s: number; host_cpu_pct: number; load_cpu_us_per_op: number; vigil_budget_us_per_event_at_300k: number } }).load_alone;
  if (alone) {
    o.push(`   load alone (no agent), burst: ${fmtK(alone.ops_per_s)} ops/s, host CPU ${alone.host_cpu_pct}%, ${alone.load_cpu_us_per_op} µs of CPU per op:`,
      `   300k events/s would leave Vigil ${alone.vigil_budget_us_per_event_at_300k} µs of CPU per event for kernel programs, tracepoints, ring and decoding`);
  }
  const sd = doc.slowdown as { storms: StormResult[]; order: string };
  o.push("", "2. Workload slowdown (median seconds; Vigil× = median of pairwise ratios, auditd× = auditd median / bare median)",
    "   storm                count    bare s   Vigil s  Vigil×    auditd-phase bare s  auditd s  auditd×  (in phase)  Vigil/auditd added");
  for (const s of sd.storms) {
    o.push(`   ${s.storm.padEnd(18)} ${String(s.count).padStart(7)} ${s.bare_s.toFixed(3).padStart(9)} ${s.vigil_s.toFixed(3).padStart(9)} ${s.vigil_ratio.toFixed(3).padStart(8)}` +
      (s.auditd ? `    ${s.auditd.bare_s.toFixed(3).padStart(19)} ${s.auditd.auditd_s.toFixed(3).padStart(9)} ${s.auditd.ratio.toFixed(3).padStart(8)} ${(s.auditd.ratio_in_phase ?? NaN).toFixed(3).padStart(11)}  ${Number.isFinite(s.vigil_added_fraction_of_auditd ?? NaN) ? s.vigil_added_fraction_of_auditd!.toFixed(3) : "—"}` : "    (auditd skipped)") +
      `   [Vigil --events ${s.vigil_events}]`);
  }
  o.push(`   order: ${sd.order}`);
  const kc = doc.kernel_cost as ReturnType<typeof kernelCost>;
  const ns = (x: number) => (Number.isFinite(x) ? String(x) : "—");
  o.push("", `3. Kernel cost per program run (bpf_stats; avg ns over the runs of unsaturated phases (host CPU < ${SATURATED_PCT}%: paced rates, storms),`,
    "   saturated ones, and all; the target is judged on the unsaturated runs when there are 1,000 of them, else on all (*))",
    "   program                        class      runs   unsat ns  (runs)        sat ns    all ns   target");
  for (const p of kc.programs.filter((x) => x.run_cnt >= 100)) {
    o.push(`   ${p.program.padEnd(30)} ${p.class.padEnd(8)} ${String(p.run_cnt).padStart(8)} ${ns(p.unsaturated.avg_ns).padStart(10)} ${`(${p.unsaturated.run_cnt})`.padStart(9)} ${ns(p.saturated.avg_ns).padStart(12)} ${ns(p.avg_ns).padStart(9)}   ${p.target_ns ? `≤ ${p.target_ns}` : "—"}${p.pass === undefined ? "" : `${p.judged_on === "all" ? "*" : ""}${p.pass ? "  PASS" : "  FAIL"}`}`);
  }
  o.push("   phases: " + Object.entries(kc.by_phase).map(([k, v]) => `${k} ${v.saturated ? "saturated" : "unsaturated"} (host ≤ ${v.host_busy_pct_max}%)`).join("; "));
  const few = kc.programs.filter((x) => x.run_cnt > 0 && x.run_cnt < 100).length, unused = kc.programs.filter((x) => x.run_cnt === 0).length;
  if (few || unused) o.push(`   (not shown: ${few} programs that ran fewer than 100 times, ${unused} that never ran; all are in the JSON)`);
  o.push("   Elkeid's published per-hook averages beside Vigil's (per call: enter + exit of the busiest syscall variant):");
  for (const e of kc.elkeid_published) {
    const un = e.vigil_unsaturated_avg_ns === null ? "" : `, unsaturated ${(e.vigil_unsaturated_avg_ns / 1000).toFixed(3)} µs`;
    o.push(`     ${e.hook.padEnd(12)} Elkeid ${(e.elkeid_avg_ns / 1000).toFixed(2).padStart(6)} µs   Vigil ${e.vigil_avg_ns === null ? `— (${e.vigil_event ? "not exercised" : "no such event yet"})` : `${(e.vigil_avg_ns / 1000).toFixed(3)} µs all runs${un} (${e.vigil_event}: ${e.vigil_programs.join(" + ")})`}`);
  }
  const id = doc.idle as IdleResult;
  o.push("   Kernel time by program, all runs (top 5): " + kc.top_time.map((p) => `${p.program} ${p.total_ms} ms (${Math.round(p.share * 100)}%, ${fmtK(p.run_cnt)} runs)`).join("; "));
  o.push("", `4. Idle agent (--events default, ${id.seconds} s, no bench load; measured first): CPU ${id.cpu_pct}%, RSS ${id.rss_mib} MiB (peak ${id.hwm_mib} MiB); ${id.events_seen} events from other processes (~${Math.round(id.events_per_s)}/s: ${Object.entries(id.events_by_type ?? {}).map(([k, n]) => `${k} ${n}`).join(", ")}); stop: summary after ${id.stop_s} s, exit after ${id.exit_s} s`);
  o.push(`5. Binary: ${(doc.binary as { size_mib: number }).size_mib} MiB`);
  o.push("", "Targets (issue 2):");
  for (const t of doc.targets as Target[]) o.push(`  ${mark(t.pass)}  ${t.name.padEnd(62)} ${t.value.padStart(16)}   target ${t.target}`);
  const notes = doc.notes as string[];
  if (notes.length) o.push("", "Notes:", ...notes.map((n) => `  - ${n}`));
  o.push(`(${doc.elapsed_s} s)`, "");
  process.stderr.write(o.join("\n"));
}

// ---------------------------------------------------------------------------------------

try {
  await main();
  clearTimeout(watchdog);
  cleanupSync(state);
  process.exit(0);
} catch (e) {
  process.stderr.write(`bench: ${(e as Error).stack ?? e}\n`);
  cleanupAndExit(1, "failed");
}

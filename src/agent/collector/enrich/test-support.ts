// Helpers shared by this folder's tests: real child processes that clean up after themselves,
// correctness waits (never speed assumptions) and disposable temp dirs. Not used by the agent.
import { mkdtempSync, readFileSync, readlinkSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const isRoot = process.getuid?.() === 0;
export const sleepBin = realpathSync(Bun.which("sleep") ?? "/bin/sleep");

/** Poll until cond() holds or ms pass: a wait for something to happen, not a speed test. */
export async function waitFor(cond: () => boolean, ms = 20_000, step = 10): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await Bun.sleep(step);
  }
  return cond();
}

export function tempDir(prefix = "vigil-enrich-"): { path: string; [Symbol.dispose](): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, [Symbol.dispose]: () => rmSync(path, { recursive: true, force: true }) };
}

export function exeOf(pid: number): string {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return "";
  }
}

export function parentOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return -1;
  }
}

/**
 * Is pid sleep, past its exec and asleep in nanosleep? The exe link changes early in execve,
 * before argv and environ are in place; state S (interruptible sleep) only comes once sleep
 * has started and called nanosleep.
 */
export function isSleeping(pid: number): boolean {
  if (exeOf(pid) !== sleepBin) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) === "S";
  } catch {
    return false;
  }
}

/** Wait until pid is sleep, asleep (see isSleeping). */
export async function waitForSleep(pid: number): Promise<void> {
  const ok = await waitFor(() => isSleeping(pid));
  if (!ok) throw new Error(`process ${pid} never became a sleeping ${sleepBin}`);
}

export interface Child {
  pid: number;
  proc: Bun.Subprocess;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Spawn argv (which must end up exec'ing sleep) and wait until it has. */
export async function spawnSleeper(argv: string[], env?: Record<string, string>, stdin: "ignore" | number = "ignore"): Promise<Child> {
  const proc = Bun.spawn(argv, { env: env ? { ...process.env, ...env } : undefined, stdin, stdout: "ignore", stderr: "ignore" });
  try {
    await waitForSleep(proc.pid);
  } catch (e) {
    proc.kill();
    throw e;
  }
  return {
    pid: proc.pid,
    proc,
    async [Symbol.asyncDispose]() {
      proc.kill();
      await proc.exited;
    },
  };
}

export interface ShTree {
  shPid: number;
  sleepPid: number;
  [Symbol.asyncDispose](): Promise<void>;
}

/** sh -c with a sleep child: `sh` stays alive as the parent, sleep's pid is printed by sh. */
export async function spawnShWithSleep(seconds = 30): Promise<ShTree> {
  const sh = Bun.spawn(["/bin/sh", "-c", `sleep ${seconds} & echo $!; wait`], { stdin: "ignore", stdout: "pipe", stderr: "ignore" });
  const reader = sh.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const sleepPid = Number(text.trim());
  const dispose = async () => {
    // Only while it is still sh's child: a reaped pid may already belong to someone else.
    if (parentOf(sleepPid) === sh.pid) {
      try {
        process.kill(sleepPid);
      } catch {}
    }
    sh.kill();
    await sh.exited;
  };
  if (!(sleepPid > 0)) {
    await dispose();
    throw new Error(`sh did not print the sleep pid (got ${JSON.stringify(text)})`);
  }
  await waitForSleep(sleepPid);
  return { shPid: sh.pid, sleepPid, [Symbol.asyncDispose]: dispose };
}

const setpriv = Bun.which("setpriv");
/** Can asNobody() run (as root, with util-linux setpriv)? Non-root tests need no help. */
export const canDropToNobody = isRoot && setpriv !== null;

/**
 * Run `bun -e code` as uid/gid 65534 (nobody), so permission checks apply even when the
 * suite runs as root; returns its stdout, trimmed. Files it reads must be reachable by nobody.
 */
export function asNobody(code: string): string {
  const r = Bun.spawnSync(
    [setpriv!, "--reuid=65534", "--regid=65534", "--clear-groups", "env", "HOME=/tmp", "BUN_RUNTIME_TRANSPILER_CACHE_PATH=0", process.execPath, "-e", code],
    { stdout: "pipe", stderr: "pipe" },
  );
  if (r.exitCode !== 0) throw new Error(`as nobody: exit ${r.exitCode}: ${r.stderr.toString()}`);
  return r.stdout.toString().trim();
}

/** A clock that only moves when told to. */
export function fakeClock(start = 1_000_000): { now: () => number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

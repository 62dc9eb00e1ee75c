// execExtras on real processes: LD_PRELOAD, SSH_CONNECTION, a TCP socket (IPv4 and IPv6) as
// stdin, a pty, files and pipes; plus the parsers on samples and processes that are gone.
import { describe, expect, test } from "bun:test";
import { openSync, closeSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import type { Socket } from "bun";
import { envValue, execExtras, findSocketInTable, procNetAddress, ttyName } from "./exec-extras.ts";
import { isSleeping, spawnSleeper, tempDir, waitFor, waitForSleep } from "./test-support.ts";

const bash = Bun.which("bash");
const script = Bun.which("script");

/** A path of a shared library this very process has mapped (harmless to preload: libc). */
function loadedLibc(): string | undefined {
  const m = /\s(\/\S*\/libc\.so\.6)$/m.exec(readFileSync("/proc/self/maps", "utf8"));
  return m?.[1];
}

function hasIpv6Loopback(): boolean {
  try {
    return readFileSync("/proc/net/if_inet6", "utf8").includes("00000000000000000000000000000001");
  } catch {
    return false;
  }
}

/** Listen on host, let bash connect its stdin there and exec sleep; return both ends. */
async function sleeperWithSocketStdin(host: string) {
  const accepted: Socket<undefined>[] = [];
  const server = Bun.listen({ hostname: host, port: 0, socket: { open: (s) => void accepted.push(s), data() {} } });
  const child = await spawnSleeper([bash!, "-c", `exec 0<>/dev/tcp/${host}/${server.port}; exec sleep 30`]);
  await waitFor(() => accepted.length > 0);
  return {
    child,
    port: server.port,
    peerPort: accepted[0]!.remotePort,
    async [Symbol.asyncDispose]() {
      await child[Symbol.asyncDispose]();
      server.stop(true);
    },
  };
}

describe("execExtras on real processes", () => {
  test("LD_PRELOAD (an existing, harmless library: libc) and SSH_CONNECTION", async () => {
    const lib = loadedLibc();
    expect(lib).toBeDefined();
    await using child = await spawnSleeper(["sleep", "30"], { LD_PRELOAD: lib!, SSH_CONNECTION: "10.1.2.3 5555 10.1.2.4 22" });
    const x = execExtras(child.pid);
    expect(x.ld_preload).toBe(lib!);
    expect(x.ssh).toBe("10.1.2.3 5555 10.1.2.4 22");
    // No socket on stdin/stdout: the peer fields are empty.
    expect(x).toMatchObject({ sa_family: "", sip: "", sport: "", dip: "", dport: "" });
  });

  test("no LD_PRELOAD, no SSH_CONNECTION: empty", async () => {
    const env = { ...process.env };
    delete env.LD_PRELOAD;
    delete env.SSH_CONNECTION;
    const p = Bun.spawn(["sleep", "30"], { env, stdin: "ignore", stdout: "ignore" });
    try {
      await waitForSleep(p.pid);
      const x = execExtras(p.pid);
      expect(x.ld_preload).toBe("");
      expect(x.ssh).toBe("");
    } finally {
      p.kill();
      await p.exited;
    }
  });

  test.skipIf(!bash)("stdin is a TCP socket over 127.0.0.1 to our listener", async () => {
    await using s = await sleeperWithSocketStdin("127.0.0.1");
    const x = execExtras(s.child.pid);
    expect(x.stdin).toMatch(/^socket:\[\d+\]$/);
    expect(x.stdin).toBe(readlinkSync(`/proc/${s.child.pid}/fd/0`));
    expect(x).toMatchObject({ sa_family: "2", sip: "127.0.0.1", sport: String(s.peerPort), dip: "127.0.0.1", dport: String(s.port) });
  });

  test.skipIf(!bash || !hasIpv6Loopback())("stdin is a TCP socket over ::1", async () => {
    await using s = await sleeperWithSocketStdin("::1");
    const x = execExtras(s.child.pid);
    expect(x).toMatchObject({ sa_family: "10", sip: "::1", sport: String(s.peerPort), dip: "::1", dport: String(s.port) });
  });

  test("stdout to a file and stdin from a pipe: their paths, no peer", async () => {
    using d = tempDir();
    const out = join(d.path, "out.log");
    const fd = openSync(out, "w");
    const p = Bun.spawn(["sleep", "30"], { stdin: "pipe", stdout: fd, stderr: "ignore" });
    closeSync(fd);
    try {
      await waitForSleep(p.pid);
      const x = execExtras(p.pid);
      expect(x.stdout).toBe(out);
      expect(x.stdin).toMatch(/^(pipe|socket):\[\d+\]$/); // Bun's "pipe" may be a socketpair
      expect(x.sa_family).toBe("");
      expect(x.tty).toBe("");
    } finally {
      p.kill();
      await p.exited;
    }
  });

  test.skipIf(!script)("a controlling terminal (script(1) gives sleep a pty)", async () => {
    const p = Bun.spawn([script!, "-qfc", "sleep 30", "/dev/null"], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
    let sleepPid = 0;
    try {
      await waitFor(() => {
        try {
          // script's child (a shell, or sleep itself) ends up running sleep on the pty.
          for (const t of readFileSync(`/proc/${p.pid}/task/${p.pid}/children`, "utf8").trim().split(" ")) {
            const kids = [Number(t), ...readFileSync(`/proc/${t}/task/${t}/children`, "utf8").trim().split(" ").filter(Boolean).map(Number)];
            for (const k of kids) if (isSleeping(k)) sleepPid = k;
          }
        } catch {}
        return sleepPid > 0;
      });
      expect(sleepPid).toBeGreaterThan(0);
      const x = execExtras(sleepPid);
      const link = readlinkSync(`/proc/${sleepPid}/fd/0`); // "/dev/pts/N"
      expect(link).toMatch(/^\/dev\/pts\/\d+$/);
      expect(x.tty).toBe(`pts${link.slice("/dev/pts/".length)}`);
      expect(x.stdin).toBe(link);
    } finally {
      if (sleepPid > 0) process.kill(sleepPid); // script then exits on its own
      else p.kill();
      await p.exited;
    }
  });

  test("a pid that does not exist, or nonsense: all empty, no exception", async () => {
    const empty = { tty: "", stdin: "", stdout: "", ld_preload: "", ssh: "", sa_family: "", sip: "", sport: "", dip: "", dport: "" };
    expect(execExtras(2 ** 30)).toEqual(empty);
    expect(execExtras(-1)).toEqual(empty);
    expect(execExtras(Number.NaN)).toEqual(empty);
    const p = Bun.spawn(["true"]);
    await p.exited;
    expect(execExtras(p.pid)).toEqual(empty);
    expect(execExtras(1, { procRoot: "/nonexistent" })).toEqual(empty);
  });
});

describe("exec extras parsers", () => {
  test("tty names as the kernel gives them", () => {
    expect(ttyName(0)).toBe("");
    expect(ttyName(-1)).toBe("");
    expect(ttyName((136 << 8) | 3)).toBe("pts3");
    expect(ttyName((137 << 8) | 44)).toBe("pts300");
    expect(ttyName((136 << 8) | 0xff | (0x100 << 12))).toBe("pts511"); // minor 511 spills past 8 bits
    expect(ttyName((4 << 8) | 1)).toBe("tty1");
    expect(ttyName((4 << 8) | 64)).toBe("ttyS0");
    expect(ttyName((5 << 8) | 1)).toBe("console");
    expect(ttyName((229 << 8) | 0)).toBe("hvc0");
    expect(ttyName((180 << 8) | 0)).toBe(""); // unknown driver
  });

  test("/proc/net addresses (this host is little-endian or not: both follow os.endianness)", () => {
    const le = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
    if (le) {
      expect(procNetAddress("0100007F:1F90")).toEqual(["127.0.0.1", "8080"]);
      expect(procNetAddress("00000000000000000000000001000000:0016")).toEqual(["::1", "22"]);
      expect(procNetAddress("0000000000000000FFFF00000100007F:0050")).toEqual(["::ffff:127.0.0.1", "80"]);
      expect(procNetAddress("B80D0120000000000000000001000000:01BB")).toEqual(["2001:db8::1", "443"]);
    }
    expect(procNetAddress("")).toBeUndefined();
    expect(procNetAddress("zz:zz")).toBeUndefined();
    expect(procNetAddress("0100007F")).toBeUndefined();
    expect(procNetAddress("0100007F00:0050")).toBeUndefined();
  });

  test("finding a socket by inode in a /proc/net/tcp table", () => {
    const table = [
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
      "   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0",
      "   1: 0100007F:C2DE 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  4242        0 777 1 0000000000000000 20 4 30 10 -1",
    ].join("\n");
    const le = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
    if (le) expect(findSocketInTable(table, "777", 2)).toEqual({ sa_family: "2", sip: "127.0.0.1", sport: "49886", dip: "127.0.0.1", dport: "8080" });
    // 4242 appears as a uid on line 1 and as the inode on line 0: the inode column decides.
    expect(findSocketInTable(table, "4242", 2)?.sport).toBe("22");
    expect(findSocketInTable(table, "9999", 2)).toBeUndefined();
    expect(findSocketInTable("garbage 777 garbage\n", "777", 2)).toBeUndefined();
  });

  test("environment values", () => {
    expect(envValue("A=1\0LD_PRELOAD=/x.so\0B=2", "LD_PRELOAD")).toBe("/x.so");
    expect(envValue("LD_PRELOAD=/first.so\0", "LD_PRELOAD")).toBe("/first.so");
    expect(envValue("XLD_PRELOAD=/no\0", "LD_PRELOAD")).toBe("");
    expect(envValue("LD_PRELOAD=", "LD_PRELOAD")).toBe("");
    expect(envValue("", "LD_PRELOAD")).toBe("");
  });
});

// Process family against the real kernel: every event triggered from a child program, decoded
// fields checked (pids, argv, cwd, results for success and failure).
import { test, expect, describe } from "bun:test";
import { readFileSync, realpathSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cgroup2Mount, memcgMount, memcgPath, unifiedCgroupPath } from "../../src/agent/collector/enrich/container.ts";
import { canLoadBpf, collect, fixture, run, tempDir } from "../harness.ts";
import { Enricher } from "../../src/agent/collector/enrich/index.ts";

const trig = () => fixture("trig-process");

/** An enricher that records the process-family hooks it is given. */
class SpyEnricher extends Enricher {
  calls: string[] = [];
  constructor() {
    super({ hashes: false });
  }
  images = new Map<number, { size: bigint; mtimeNs: bigint; memcgId: bigint } | undefined>();
  override onExec(tgid: number, ppid: number, exe: string, argv: string, comm: string, exeDev?: number, exeIno?: number,
    image?: { size: bigint; mtimeNs: bigint; memcgId: bigint }): void {
    this.calls.push(`exec ${tgid} ${exe}`);
    this.images.set(tgid, image);
    super.onExec(tgid, ppid, exe, argv, comm, exeDev, exeIno, image);
  }
  override onFork(parent: number, child: number, comm: string): void {
    this.calls.push(`fork ${parent} ${child}`);
    super.onFork(parent, child, comm);
  }
  override onExit(tgid: number): void {
    this.calls.push(`exit ${tgid}`);
    super.onExit(tgid);
  }
}

describe.skipIf(!canLoadBpf)("process events", () => {
  test("execve: argv, filename, exe, cwd, stdout pipe, result, enrichment", async () => {
    using d = tempDir();
    const c = collect(["execve"], { enricher: new Enricher() });
    let r!: Awaited<ReturnType<typeof run>>;
    try {
      r = await run(["/bin/echo", "a b", 'c"d', "ünï"], { cwd: d.path, env: { LD_PRELOAD: "/nonexistent/vigil-preload.so", SSH_CONNECTION: "10.1.2.3 5555 10.1.2.4 22" } });
      await c.waitFor((e) => e.fields.tgid === String(r.pid));
    } finally {
      await c.stop();
    }
    const [e] = c.of(r.pid, "execve");
    expect(e.data_type).toBe(59);
    expect(e.fields.res).toBe("0");
    expect(e.fields.argv).toBe('/bin/echo a b c"d ünï');
    expect(e.fields.filename).toBe("/bin/echo");
    expect(e.fields.exe).toBe(realpathSync("/bin/echo"));
    expect(e.fields.run_path).toBe(realpathSync(d.path));
    expect(e.fields.stdout).toMatch(/^(pipe|socket):\[\d+\]$/); // Bun pipes are socketpairs
    expect(e.fields.uid).toBe("0");
    expect(e.fields.username).toBe("root");
    expect(e.fields.ppid).toBe(String(process.pid));
    expect(e.fields.pid_tree.startsWith(`${r.pid}.echo<${process.pid}.`)).toBe(true);
    expect(e.fields.exe_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(e.fields.ld_preload).toBe("/nonexistent/vigil-preload.so");
    expect(e.fields.ssh).toBe("10.1.2.3 5555 10.1.2.4 22");
    expect(e.fields.env).toBeUndefined();
  });

  test("execve: ld_preload and ssh are the first LD_PRELOAD and SSH_CONNECTION entries, whatever surrounds them", async () => {
    using d = tempDir();
    const script = join(d.path, "script.sh");
    writeFileSync(script, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    const many = Array.from({ length: 200 }, (_, i) => `V${String(i).padStart(3, "0")}=x`);
    const cases: Record<string, { prog: string; env: string[]; ld: string; ssh: string }> = {
      decoys: {
        prog: "/bin/true",
        env: ["A=1", "XLD_PRELOAD=/decoy", "FOO=LD_PRELOAD=/decoy2", "LD_PRELOA=/short", "LD_PRELOAD=/first.so",
          "SSH_CONNECTION=10.0.0.1 1 10.0.0.2 22", "LD_PRELOAD=/second.so", "SSH_CONNECTION=second", "Z=2"],
        ld: "/first.so", ssh: "10.0.0.1 1 10.0.0.2 22",
      },
      // 200 entries first, then the keys as the last entries of the block
      "many before, last entry": {
        prog: "/bin/true", env: [...many, "SSH_CONNECTION=s", "LD_PRELOAD=/last.so"],
        ld: "/last.so", ssh: "s",
      },
      "empty values": { prog: "/bin/true", env: ["LD_PRELOAD=", "SSH_CONNECTION="], ld: "", ssh: "" },
      "no environment": { prog: "/bin/true", env: [], ld: "", ssh: "" },
      "none of the keys": { prog: "/bin/true", env: many, ld: "", ssh: "" },
      // a script: the kernel rewrites argv (interpreter, script) and the stack behind it
      script: { prog: script, env: ["B=1", "LD_PRELOAD=/via-script.so"], ld: "/via-script.so", ssh: "" },
    };
    const c = collect(["execve"]);
    const got: Record<string, unknown> = {};
    try {
      for (const [name, k] of Object.entries(cases)) {
        const r = await run([trig(), "exec-env", k.prog, ...k.env]);
        expect(r.code).toBe(0);
        const e = await c.waitFor((e) => e.fields.tgid === String(r.pid) && e.fields.filename === k.prog);
        got[name] = { ld: e?.fields.ld_preload, ssh: e?.fields.ssh };
      }
    } finally {
      await c.stop();
    }
    const want = Object.fromEntries(Object.entries(cases).map(([n, k]) => [n, { ld: k.ld, ssh: k.ssh }]));
    expect(got).toEqual(want);
  });

  test("execve with a TCP socket as stdin reports the peer", async () => {
    const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {}, open() {} } });
    const c = collect(["execve"]);
    let r!: Awaited<ReturnType<typeof run>>;
    try {
      r = await run(["/bin/bash", "-c", `exec 0</dev/tcp/127.0.0.1/${server.port}; exec /bin/true`]);
      expect(r.code).toBe(0);
      await c.waitFor((e) => e.fields.tgid === String(r.pid) && e.fields.filename === "/bin/true");
    } finally {
      await c.stop();
      server.stop(true);
    }
    const e = c.of(r.pid, "execve").find((x) => x.fields.filename === "/bin/true")!;
    expect(e.fields.stdin).toMatch(/^socket:\[\d+\]$/);
    expect(e.fields.stdout).toMatch(/^socket:\[\d+\]$/); // a Bun pipe (socketpair), not a stale path
    expect(e.fields.sa_family).toBe("2");
    expect(e.fields.dip).toBe("127.0.0.1");
    expect(e.fields.dport).toBe(String(server.port));
    expect(e.fields.sip).toBe("127.0.0.1");
    expect(Number(e.fields.sport)).toBeGreaterThan(0);
  });

  test("execve of a missing file: res -2 (ENOENT) and the filename", async () => {
    const c = collect(["execve"]);
    let r!: Awaited<ReturnType<typeof run>>;
    try {
      r = await run([trig(), "exec-missing"]);
      expect(r.stdout.trim()).toBe("-2");
      await c.waitFor((e) => e.fields.tgid === String(r.pid) && e.fields.res !== "0");
    } finally {
      await c.stop();
    }
    const e = c.of(r.pid, "execve").find((x) => x.fields.res !== "0")!;
    expect(e.fields.res).toBe("-2");
    expect(e.fields.filename).toBe("/nonexistent/vigil-missing");
  });

  test("fork, vfork and clone(CLONE_THREAD): child ids and flags", async () => {
    const c = collect(["fork", "clone", "exit"]);
    let f!: Awaited<ReturnType<typeof run>>, t!: Awaited<ReturnType<typeof run>>;
    try {
      f = await run([trig(), "fork"]);
      t = await run([trig(), "clone-thread"]);
      await c.waitFor((e) => e.fields.tgid === String(t.pid) && e.event === "clone");
      await Bun.sleep(100);
    } finally {
      await c.stop();
    }
    const [child, vchild] = f.stdout.trim().split(" ");
    const forks = c.of(f.pid, "fork");
    expect(forks.map((e) => e.fields.res).sort()).toEqual([child, vchild].sort());
    expect(forks.find((e) => e.fields.res === child)!.fields.flags).toBe("0x11");
    expect(forks.find((e) => e.fields.res === vchild)!.fields.flags).toBe("0x4111");
    const th = c.of(t.pid, "clone").find((e) => e.fields.res === t.stdout.trim())!;
    expect(th).toBeDefined();
    expect(BigInt(th.fields.flags) & 0x10000n).toBe(0x10000n);
    // the thread's return from its start function is exit(0), reported with the thread's id
    const ex = c.events.find((e) => e.event === "exit" && e.fields.pid === t.stdout.trim())!;
    expect(ex.fields.tgid).toBe(String(t.pid));
    expect(ex.fields.code).toBe("0");
  });

  test("exit_group carries the exit code; setsid its new session id", async () => {
    const c = collect(["exit_group", "setsid"]);
    let e!: Awaited<ReturnType<typeof run>>, s!: Awaited<ReturnType<typeof run>>;
    try {
      e = await run([trig(), "exit-group"]);
      expect(e.code).toBe(42);
      s = await run([trig(), "setsid"]);
      await c.waitFor((x) => x.event === "setsid" && x.fields.tgid === s.stdout.split(" ")[0]);
    } finally {
      await c.stop();
    }
    expect(c.of(e.pid, "exit_group").map((x) => x.fields.code)).toEqual(["42"]);
    const [child, sid] = s.stdout.trim().split(" ");
    expect(c.of(Number(child), "setsid").map((x) => x.fields.res)).toEqual([sid]);
    expect(sid).toBe(child);
  });

  test("prctl: PR_SET_NAME only", async () => {
    const c = collect(["prctl"]);
    let r!: Awaited<ReturnType<typeof run>>;
    try {
      r = await run([trig(), "prctl"]);
      await c.waitFor((e) => e.fields.tgid === String(r.pid));
      await Bun.sleep(100);
    } finally {
      await c.stop();
    }
    const ev = c.of(r.pid, "prctl");
    expect(ev.length).toBe(1); // PR_GET_NAME is filtered in the kernel
    expect(ev[0].fields.option).toBe("15");
    expect(ev[0].fields.new_name).toBe("vigil-renamed");
    expect(ev[0].fields.res).toBe("0");
  });

  test("kill, tkill, tgkill: targets, signals, ESRCH", async () => {
    const c = collect(["kill", "tkill"]);
    let r!: Awaited<ReturnType<typeof run>>;
    try {
      r = await run([trig(), "kill"]);
      await c.waitFor((e) => e.fields.tgid === String(r.pid) && e.event === "tkill" && e.fields.res === "0");
      await Bun.sleep(100);
    } finally {
      await c.stop();
    }
    const [child] = r.stdout.trim().split(" ");
    const kills = c.of(r.pid, "kill").map((e) => [e.fields.target_pid, e.fields.sig, e.fields.res]);
    expect(kills).toEqual([[child, "15", "0"], ["999999", "0", "-3"]]);
    const tk = c.of(r.pid, "tkill").map((e) => [e.fields.target_pid, e.fields.sig, e.fields.res]);
    expect(tk).toEqual([[String(r.pid), "0", "0"], [String(r.pid), "0", "0"]]);
  });

  test("ptrace POKEDATA against a traced child", async () => {
    const c = collect(["ptrace"]);
    let r!: Awaited<ReturnType<typeof run>>;
    try {
      r = await run([trig(), "ptrace"]);
      await c.waitFor((e) => e.fields.tgid === String(r.pid) && e.fields.ptrace_request === "5");
    } finally {
      await c.stop();
    }
    const [child, addr, rc] = r.stdout.trim().split(" ");
    const poke = c.of(r.pid, "ptrace").find((e) => e.fields.ptrace_request === "5")!;
    expect(poke.fields.target_pid).toBe(child);
    expect(poke.fields.addr).toBe(addr);
    expect(poke.fields.data).toBe("0x4142434445464748");
    expect(poke.fields.res).toBe(rc);
    // the child's PTRACE_TRACEME (request 0) is reported too
    expect(c.events.some((e) => e.fields.tgid === child && e.fields.ptrace_request === "0")).toBe(true);
  });

  test("an event that is not selected is not reported", async () => {
    const c = collect(["execve"]);
    let r!: Awaited<ReturnType<typeof run>>;
    try {
      r = await run([trig(), "kill"]);
      await c.waitFor((e) => e.fields.tgid === String(r.pid));
      await Bun.sleep(100);
    } finally {
      await c.stop();
    }
    expect(c.of(r.pid).map((e) => e.event)).toEqual(["execve"]);
  });

  test("execveat: a failure (ENOENT under a directory fd) and a success both are execve", async () => {
    const c = collect(["execve"]);
    let r!: Awaited<ReturnType<typeof run>>;
    try {
      r = await run([trig(), "execveat"]);
      expect(r.code).toBe(0); // the process ended as /bin/true
      await c.waitFor((e) => e.fields.tgid === String(r.pid) && e.fields.argv === "true via execveat");
    } finally {
      await c.stop();
    }
    const [dir, rc] = r.stdout.trim().split(" ");
    expect(rc).toBe("-2");
    const ev = c.of(r.pid, "execve");
    const failed = ev.find((e) => e.fields.res === "-2")!;
    expect(failed.fields.filename).toBe("vigil-missing"); // as passed, relative to the fd
    expect(failed.fields.argv).toBe("vigil-missing");
    const ok = ev.find((e) => e.fields.argv === "true via execveat")!;
    expect(ok.fields.res).toBe("0");
    expect(ok.fields.filename).toBe(`/dev/fd/${dir}/true`);
    expect(ok.fields.exe_path).toBe(realpathSync("/bin/true"));
  });

  test("execve on a terminal: tty is the terminal's name, stdin/stdout its path", async () => {
    const c = collect(["execve"]);
    let r!: Awaited<ReturnType<typeof run>>;
    try {
      // script(1) runs the command on a new pty that is its controlling terminal
      r = await run(["script", "-qec", "/bin/true vigil-on-tty", "/dev/null"]);
      await c.waitFor((e) => e.fields.argv === "/bin/true vigil-on-tty");
    } finally {
      await c.stop();
    }
    const e = c.events.find((x) => x.fields.argv === "/bin/true vigil-on-tty")!;
    expect(e.fields.tty).toMatch(/^pts\d+$/);
    expect(e.fields.stdin).toBe(`/dev/pts/${e.fields.tty.slice(3)}`);
    expect(e.fields.stdout).toBe(e.fields.stdin);
    expect(e.fields.sa_family).toBe("");
  });

  test("execve carries the image's size and mtime and the memory cgroup: the keys of the hash and container caches", async () => {
    const spy = new SpyEnricher();
    const c = collect(["execve"], { enricher: spy });
    let r!: Awaited<ReturnType<typeof run>>;
    try {
      r = await run(["/bin/true"]);
      await c.waitFor((e) => e.fields.tgid === String(r.pid));
    } finally {
      await c.stop();
    }
    const img = spy.images.get(r.pid)!;
    const st = statSync(realpathSync("/bin/true"), { bigint: true });
    expect(img.size).toBe(st.size);
    expect(img.mtimeNs).toBe(st.mtimeNs);
    // The child ran in this process's cgroups: its memory cgroup is the directory whose inode
    // is the id, in the v1 memory hierarchy where there is one, else in cgroup v2.
    const text = readFileSync("/proc/self/cgroup", "utf8");
    const mounts = readFileSync("/proc/self/mountinfo", "utf8");
    const v1 = memcgMount(mounts), v2 = cgroup2Mount(mounts);
    const dir = v1 ? v1 + memcgPath(text) : v2 ? v2 + unifiedCgroupPath(text) : undefined;
    if (dir) expect(img.memcgId).toBe(statSync(dir, { bigint: true }).ino);
    else expect(img.memcgId).toBeGreaterThan(0n);
  });

  test("clone3 is clone; new processes reach the enricher, new threads do not", async () => {
    const spy = new SpyEnricher();
    const c = collect(["fork", "clone"], { enricher: spy });
    let c3!: Awaited<ReturnType<typeof run>>, f!: Awaited<ReturnType<typeof run>>, t!: Awaited<ReturnType<typeof run>>;
    try {
      c3 = await run([trig(), "clone3"]);
      f = await run([trig(), "fork"]);
      t = await run([trig(), "clone-thread"]);
      await c.waitFor((e) => e.fields.tgid === String(t.pid) && e.event === "clone");
      await Bun.sleep(100);
    } finally {
      await c.stop();
    }
    const child3 = c3.stdout.trim();
    const ev = c.of(c3.pid, "clone").find((e) => e.fields.res === child3)!;
    expect(ev.data_type).toBe(56);
    expect(ev.fields.flags).toBe("0x0"); // clone3 carries the exit signal apart from the flags
    const [child, vchild] = f.stdout.trim().split(" ");
    expect(spy.calls).toContain(`fork ${c3.pid} ${child3}`);
    expect(spy.calls).toContain(`fork ${f.pid} ${child}`);
    expect(spy.calls).toContain(`fork ${f.pid} ${vchild}`);
    expect(spy.calls.filter((x) => x.startsWith(`fork ${t.pid} `))).toEqual([]); // CLONE_THREAD
  });

  test("exit: a thread's exit is not the end of its process, the last thread's is", async () => {
    const spy = new SpyEnricher();
    const c = collect(["exit", "exit_group"], { enricher: spy });
    let r!: Awaited<ReturnType<typeof run>>, g!: Awaited<ReturnType<typeof run>>;
    try {
      r = await run([trig(), "exit-thread"]);
      expect(r.code).toBe(5);
      g = await run([trig(), "exit-group"]);
      await c.waitFor((e) => e.fields.tgid === String(g.pid) && e.event === "exit_group");
      await c.waitFor((e) => e.fields.pid === String(r.pid) && e.event === "exit");
    } finally {
      await c.stop();
    }
    const exits = c.of(r.pid, "exit");
    const thread = exits.find((e) => e.fields.pid !== String(r.pid))!;
    expect(thread.data_type).toBe(60);
    expect(thread.fields.code).toBe("3");
    expect(thread.fields.last_thread).toBeUndefined(); // internal, not an output field
    const main = exits.find((e) => e.fields.pid === String(r.pid))!;
    expect(main.fields.code).toBe("5");
    expect(c.of(r.pid, "exit_group")).toEqual([]);
    expect(spy.calls.filter((x) => x === `exit ${r.pid}`)).toHaveLength(1);
    expect(spy.calls.filter((x) => x === `exit ${g.pid}`)).toHaveLength(1);
  });
});

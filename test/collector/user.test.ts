// Credential family against the real kernel: set*id calls from a root trigger that drops to
// nobody (65534) and raises back, a real setuid-root program, and privilege escalation.
import { test, expect, describe } from "bun:test";
import { copyFileSync, chmodSync, chownSync } from "node:fs";
import { join } from "node:path";
import { ptr } from "bun:ffi";
import { canLoadBpf, collect, fixture, run, tempDir } from "../harness.ts";
import { libbpf } from "../../src/agent/collector/libbpf.ts";

const trig = () => fixture("trig-cred");

describe.skipIf(!canLoadBpf)("user (credential) events", () => {
  test("set*id calls with ids before/after, EPERM, and 604 when raised back to root", async () => {
    const names = ["setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "cred_root", "priv_esc"];
    const c = collect(names);
    let r!: Awaited<ReturnType<typeof run>>;
    try {
      r = await run([trig(), "drop-and-raise"]);
      expect(r.code).toBe(0);
      await c.waitFor((e) => e.fields.tgid === String(r.pid) && e.event === "setuid" && e.fields.uid === "0");
      await Bun.sleep(100);
    } finally {
      await c.stop();
    }
    const f = (name: string) => c.of(r.pid, name).map((e) => e.fields);
    expect(f("setresgid")[0]).toMatchObject({ rgid: "65534", egid: "65534", sgid: "0", old_gid: "0", new_gid: "65534", new_egid: "65534", res: "0" });
    expect(f("setregid")[0]).toMatchObject({ rgid: "-1", egid: "0", old_egid: "65534", new_egid: "0", res: "0" });
    expect(f("setgid")[0]).toMatchObject({ gid: "0", res: "0" });
    expect(f("setresuid")[0]).toMatchObject({ ruid: "65534", euid: "65534", suid: "0", old_uid: "0", old_euid: "0", new_uid: "65534", new_euid: "65534" });
    const setuids = f("setuid");
    expect(setuids.map((x) => [x.uid, x.res, x.old_uid, x.new_uid])).toEqual([["12345", "-1", "65534", "65534"], ["0", "0", "65534", "0"]]);
    expect(f("setreuid")[0]).toMatchObject({ ruid: "-1", euid: "0", old_euid: "65534", new_euid: "0" });
    // raised twice: the effective uid by setreuid (113), then the real uid by setuid (105)
    expect(f("cred_root").map((x) => [x.syscall, x.old_uid, x.old_euid])).toEqual([["113", "65534", "65534"], ["105", "65534", "0"]]);
    expect(f("priv_esc")).toEqual([]); // a legitimate path is not an escalation
  });

  test("exec of a setuid-root program by nobody: 604 with syscall 59", async () => {
    using d = tempDir();
    chmodSync(d.path, 0o755);
    const prog = join(d.path, "suid-prog");
    copyFileSync(trig(), prog);
    chownSync(prog, 0, 0);
    chmodSync(prog, 0o4755);
    const c = collect(["cred_root", "priv_esc"]);
    let r!: Awaited<ReturnType<typeof run>>;
    try {
      r = await run([trig(), "exec-as", "65534", prog]);
      expect(r.stdout.trim()).toBe("uid=65534 euid=0");
      await c.waitFor((e) => e.fields.tgid === String(r.pid) && e.event === "cred_root");
      await Bun.sleep(100);
    } finally {
      await c.stop();
    }
    const ev = c.of(r.pid, "cred_root").map((e) => e.fields);
    expect(ev.map((x) => [x.syscall, x.old_uid, x.old_euid])).toEqual([["59", "65534", "65534"]]);
    expect(c.of(r.pid, "priv_esc")).toEqual([]);
  });

  test("priv_esc: root that the agent never saw being granted (record rewritten as an exploit would leave it)", async () => {
    const c = collect(["priv_esc"]);
    const p = Bun.spawn([trig(), "wait-exec"], { stdin: "pipe", stdout: "pipe" });
    try {
      const reader = p.stdout.getReader();
      let out = "";
      while (!out.includes("\n")) out += new TextDecoder().decode((await reader.read()).value);
      const pid = Number(/pid=(\d+)/.exec(out)![1]);
      expect(pid).toBe(p.pid);
      // The kernel learned at fork that this process is root. Make it believe the process was
      // uid 1000 — exactly the state a kernel exploit that silently swapped creds would produce.
      const key = new Uint32Array([pid]);
      const val = new Uint32Array([1000, 1000]);
      expect(libbpf().bpf_map_update_elem(c.collector.bpf.mapFd("cred_known"), ptr(key), ptr(val), 0n)).toBe(0);
      p.stdin.write("go\n");
      p.stdin.end();
      expect(await p.exited).toBe(0);
      const e = await c.waitFor((x) => x.fields.tgid === String(pid));
      expect(e?.event).toBe("priv_esc");
      expect(e!.fields).toMatchObject({ p_pid: String(process.pid), syscall: "59", c_cred: "0|0|0|0|0|0|0|0" });
      expect(e!.fields.p_cred.split("|").length).toBe(8);
    } finally {
      p.kill();
      await c.stop();
    }
  });
});

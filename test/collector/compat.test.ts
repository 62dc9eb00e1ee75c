// The BPF object for kernels before 6.17 (no untrusted-memory loads: names, fd-table slots and
// sockets through helper calls) built with -DVIGIL_COMPAT_PRE_6_17 and run on this kernel: it
// must load and report the same paths and sockets as the default object. This machine has no
// older kernel; this is how the fallback branch gets verified and exercised here.
import { beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { canLoadBpf, collect, root, run, tempDir } from "../harness.ts";

const out = join(root, "build/bpf-compat");
let object: Uint8Array;

describe.skipIf(!canLoadBpf)("the pre-6.17 object (helper-call fallbacks)", () => {
  beforeAll(() => {
    const r = Bun.spawnSync([process.execPath, join(root, "scripts/build.ts"), "--bpf-only", "--out", "build/bpf-compat", "--define", "VIGIL_COMPAT_PRE_6_17"], { cwd: root, stderr: "pipe", stdout: "pipe" });
    if (r.exitCode !== 0) throw new Error(`building the compat object failed:\n${r.stderr}`);
    object = new Uint8Array(readFileSync(join(out, "vigil.bpf.o")));
  });

  test("it is a different object: the define reached clang", () => {
    const normal = readFileSync(join(root, "build/bpf/vigil.bpf.o"));
    expect(Buffer.from(object).equals(normal)).toBe(false);
  });

  test("open paths (names of every length), exec paths and a TCP connect's ends are whole", async () => {
    using d = tempDir();
    const names = ["a", "bcdefgh", "ijklmnop", "naïve-文件", "n".repeat(255)];
    const dir = `${realpathSync(d.path)}/${names.join("/")}`;
    mkdirSync(dir, { recursive: true });
    const file = `${dir}/f`;
    await Bun.write(file, "x");
    const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {}, open() {} } });
    await using c = collect(["open", "execve", "connect"], { object });
    const cat = await run(["cat", file]);
    expect(cat.code).toBe(0);
    const bash = await run(["bash", "-c", `exec 3<>/dev/tcp/127.0.0.1/${server.port}`], { cwd: dir });
    await c.waitFor((e) => e.fields.tgid === String(cat.pid) && e.fields.file === file);
    // AF_INET: bash may first try nscd's unix socket (a getpwuid when the environment is bare).
    const inet = (e: { event: string; fields: Record<string, string> }) => e.event === "connect" && e.fields.sa_family === "2";
    await c.waitFor((e) => e.fields.tgid === String(bash.pid) && inet(e));
    server.stop(true);
    try {
      expect(c.of(cat.pid, "open").some((e) => e.fields.file === file)).toBe(true);
      const exec = c.of(cat.pid, "execve")[0];
      expect(exec?.fields.exe_path).toBe(realpathSync(Bun.which("cat")!));
      const conn = c.of(bash.pid, "connect").find(inet);
      expect([conn?.fields.dip, conn?.fields.dport, conn?.fields.sip, conn?.fields.res]).toEqual(["127.0.0.1", String(server.port), "127.0.0.1", "0"]);
      expect(Number(conn?.fields.sport)).toBeGreaterThan(0);
      expect(c.of(bash.pid, "execve")[0]?.fields.run_path).toBe(dir);
    } catch (e) {
      // What these two processes were seen doing: the assertion alone does not say.
      const seen = [cat.pid, bash.pid].flatMap((p) => c.of(p)).filter((ev) => ev.event !== "open" || ev.fields.file?.startsWith(d.path)).map((ev) => `${ev.event} ${JSON.stringify(ev.fields)}`);
      console.error(`collected for cat ${cat.pid} and bash ${bash.pid} (dir ${dir}):\n${seen.join("\n")}`);
      throw e;
    }
  });
});

// UserNames: the real /etc/passwd, reloads on change (at most once a second), bad input.
import { describe, expect, test } from "bun:test";
import { chmodSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { UserNames, parsePasswd } from "./usernames.ts";
import { asNobody, canDropToNobody, fakeClock, isRoot, tempDir } from "./test-support.ts";

function passwdName0(): string {
  return readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.split(":")[2] === "0")?.split(":")[0] ?? "";
}

describe("UserNames", () => {
  test("every user of the real /etc/passwd, and this process's own uid as id(1) names it", () => {
    const u = new UserNames();
    const lines = readFileSync("/etc/passwd", "utf8").split("\n").filter((l) => l && !l.startsWith("#"));
    expect(lines.length).toBeGreaterThan(0);
    const seen = new Set<string>();
    for (const line of lines) {
      const [name, , uid] = line.split(":");
      if (seen.has(uid)) continue; // first line wins
      seen.add(uid);
      expect(u.name(Number(uid))).toBe(name);
    }
    const uid = process.getuid!();
    const id = Bun.spawnSync(["id", "-un"], { stdout: "pipe" });
    expect(u.name(uid)).toBe(id.stdout.toString().trim());
  });

  test("an unknown uid is empty", () => {
    const u = new UserNames();
    expect(u.name(4_000_000_000)).toBe("");
    expect(u.name(-1)).toBe("");
  });

  test("the file is re-read when it changes, checked at most once a second", () => {
    using d = tempDir();
    const f = join(d.path, "passwd");
    writeFileSync(f, "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n");
    utimesSync(f, 1000, 1000);
    const clock = fakeClock();
    const u = new UserNames({ path: f, now: clock.now });
    expect(u.name(1000)).toBe("alice");
    writeFileSync(f, "root:x:0:0::/root:/bin/sh\nbob:x:1000:1000::/home/bob:/bin/sh\ngarbage line\n:x:5:5\nc:x:notanumber:1\n");
    utimesSync(f, 2000, 2000);
    clock.advance(999);
    expect(u.name(1000)).toBe("alice"); // not checked yet
    clock.advance(1);
    expect(u.name(1000)).toBe("bob");
    expect(u.name(5)).toBe("");
  });

  test("a file that disappears keeps the last good table; a missing one gives empty names", () => {
    using d = tempDir();
    const f = join(d.path, "passwd");
    writeFileSync(f, "alice:x:1000:1000::/:/bin/sh\n");
    const clock = fakeClock();
    const u = new UserNames({ path: f, now: clock.now });
    expect(u.name(1000)).toBe("alice");
    d[Symbol.dispose]();
    clock.advance(1000);
    expect(u.name(1000)).toBe("alice");
    expect(new UserNames({ path: join(d.path, "missing") }).name(0)).toBe("");
  });

  test.skipIf(isRoot && !canDropToNobody)("an unreadable file gives empty names (checked as nobody when root)", () => {
    using d = tempDir();
    chmodSync(d.path, 0o755);
    const f = join(d.path, "passwd");
    writeFileSync(f, "alice:x:1000:1000::/:/bin/sh\n");
    chmodSync(f, 0);
    const code = (path: string) =>
      `import { UserNames } from ${JSON.stringify(join(import.meta.dir, "usernames.ts"))}; console.log(JSON.stringify(new UserNames({ path: ${JSON.stringify(path)} }).name(0)))`;
    if (!isRoot) expect(new UserNames({ path: f }).name(1000)).toBe("");
    else {
      expect(asNobody(code(f))).toBe('""');
      expect(asNobody(code("/etc/passwd"))).toBe(JSON.stringify(passwdName0()));
    }
  });

  test("parsePasswd: first entry wins, NIS markers and garbage skipped", () => {
    const m = parsePasswd("a:x:1:1::/:/bin/sh\nb:x:1:1::/:/bin/sh\n+nis::::::\n#c:x:2:2\n\n\0\0:::\nd:x:99999999999:1\n");
    expect([...m]).toEqual([[1, "a"]]);
  });
});

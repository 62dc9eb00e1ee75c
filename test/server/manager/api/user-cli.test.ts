// `vigil-server user add|passwd|del|list` against a real SQLite repository.
import { describe, expect, test } from "bun:test";
import { runUserCommand } from "../../../../src/server/cli/user.ts";
import { UsageError } from "../../../../src/common/errors.ts";
import { openRepository } from "../../../../src/server/manager/repo/index.ts";
import { verifyPassword } from "../../../../src/server/manager/auth/passwords.ts";
import { tempDir } from "../../../harness.ts";
import { quietLog } from "../support/fixture.ts";

describe("user CLI", () => {
  test("add with a generated password, passwd from stdin, list, del", async () => {
    using d = tempDir();
    const open = () => openRepository({ dataDir: d.path, log: quietLog });
    let out = "";
    const deps = { openRepository: open, out: (s: string) => (out += s), readStdin: async () => "stdin-password-1\n" };
    expect(await runUserCommand(["add", "carol", "--role", "operator"], deps)).toBe(0);
    const pw = /shown only once\): (\S+)/.exec(out)![1]!;
    let repo = await open();
    const carol = (await repo.getUserByName("carol"))!;
    expect(carol.role).toBe("operator");
    expect(await verifyPassword(pw, carol.passwordHash)).toBe(true);
    await repo.close();

    out = "";
    expect(await runUserCommand(["passwd", "carol", "--password-stdin"], deps)).toBe(0);
    expect(out).not.toContain("stdin-password-1");
    repo = await open();
    expect(await verifyPassword("stdin-password-1", (await repo.getUserByName("carol"))!.passwordHash)).toBe(true);
    await repo.close();

    out = "";
    expect(await runUserCommand(["list"], deps)).toBe(0);
    expect(out).toBe("carol\toperator\n");
    expect(await runUserCommand(["del", "carol"], deps)).toBe(0);
    repo = await open();
    expect(await repo.countUsers()).toBe(0);
    expect((await repo.listAudit({ actor: "cli" }, { page: 1, size: 10 })).total).toBe(3);
    await repo.close();
  });

  test("bad usage is a UsageError", async () => {
    using d = tempDir();
    const deps = { openRepository: () => openRepository({ dataDir: d.path, log: quietLog }), out: () => {}, readStdin: async () => "short\n" };
    await expect(runUserCommand(["add", "bad name"], deps)).rejects.toBeInstanceOf(UsageError);
    await expect(runUserCommand(["add", "dave", "--role", "root"], deps)).rejects.toBeInstanceOf(UsageError);
    await expect(runUserCommand(["add", "dave", "--password-stdin"], deps)).rejects.toThrow(/at least|characters/);
    await expect(runUserCommand(["del", "nobody"], deps)).rejects.toThrow(/no user nobody/);
    await expect(runUserCommand(["frobnicate"], deps)).rejects.toBeInstanceOf(UsageError);
  });
});

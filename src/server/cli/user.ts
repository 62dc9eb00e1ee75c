// `vigil-server user add|passwd|del|list`: manage the Manager's users from the shell (argv is
// what follows "user"). Passwords come from --password-stdin (the first line) or are generated
// and printed once. The caller supplies openRepository (it knows the config: database.url,
// data_dir); --config, --data-dir and --database-url given here are passed to it.
import { parseArgs } from "node:util";
import { UsageError } from "../../common/errors.ts";
import { USER_ROLES, type Repository, type UserRole } from "../manager/repo/types.ts";
import { generatePassword, hashPassword, MAX_PASSWORD, MIN_PASSWORD } from "../manager/auth/passwords.ts";

export const USER_HELP = `Usage: vigil-server user <command> [options]

Commands:
  add <name> [--role admin|operator|viewer]   create a user (default role: viewer)
  passwd <name>                               set a new password (logs the user out)
  del <name>                                  delete a user (logs the user out)
  list                                        list users and roles

Options:
  --password-stdin        read the password from the first line of stdin
                          (otherwise one is generated and printed once)
  --data-dir DIR          the server's data directory (default from the config)
  --database-url URL      database.url (default from the config)
  --config FILE           the server's configuration file
`;

export interface UserCommandDeps {
  /** open the Manager's database as the server would (config file, env), with these overrides */
  openRepository(o: { url?: string; dataDir?: string; config?: string }): Promise<Repository>;
  /** default: process.stdin */
  readStdin?: () => Promise<string>;
  /** default: process.stdout */
  out?: (s: string) => void;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,63}$/;

async function stdinText(): Promise<string> {
  return await Bun.stdin.text();
}

export async function runUserCommand(argv: string[], deps: UserCommandDeps): Promise<number> {
  const out = deps.out ?? ((s: string) => process.stdout.write(s));
  let parsed;
  try {
    parsed = parseArgs({
      args: argv, allowPositionals: true, strict: true,
      options: { role: { type: "string" }, "password-stdin": { type: "boolean" }, "data-dir": { type: "string" }, "database-url": { type: "string" }, config: { type: "string" }, help: { type: "boolean", short: "h" } },
    });
  } catch (e) {
    throw new UsageError(`user: ${(e as Error).message}`);
  }
  const { values, positionals } = parsed;
  const [cmd, name, ...extra] = positionals;
  if (values.help || cmd === undefined || cmd === "help") {
    out(USER_HELP);
    return cmd === undefined && !values.help ? 2 : 0;
  }
  if (!["add", "passwd", "del", "list"].includes(cmd)) throw new UsageError(`user: unknown command "${cmd}" (expected add, passwd, del or list)`);
  if (cmd !== "list" && (name === undefined || !NAME.test(name))) throw new UsageError(`user ${cmd}: give a user name (1-64 letters, digits, . _ : @ -)`);
  if (extra.length) throw new UsageError(`user ${cmd}: unexpected argument "${extra[0]}"`);
  const role = (values.role ?? "viewer") as UserRole;
  if (values.role !== undefined && (cmd !== "add" || !USER_ROLES.includes(role))) {
    throw new UsageError(cmd === "add" ? `--role must be one of ${USER_ROLES.join(", ")}, not "${values.role}"` : `--role is only for user add`);
  }
  const password = async (): Promise<{ value: string; generated: boolean }> => {
    if (!values["password-stdin"]) return { value: generatePassword(), generated: true };
    const value = (await (deps.readStdin ?? stdinText)()).split(/\r?\n/)[0] ?? "";
    if (value.length < MIN_PASSWORD || value.length > MAX_PASSWORD) throw new UsageError(`the password must be ${MIN_PASSWORD}-${MAX_PASSWORD} characters`);
    return { value, generated: false };
  };

  const repo = await deps.openRepository({ url: values["database-url"], dataDir: values["data-dir"], config: values.config });
  const audit = (action: string, target: string, detail: Record<string, unknown> = {}) =>
    repo.audit({ at: Date.now(), actor: "cli", action, target, detail, remoteAddr: "" });
  try {
    if (cmd === "list") {
      for (const u of await repo.listUsers()) out(`${u.username}\t${u.role}\n`);
      return 0;
    }
    const existing = await repo.getUserByName(name!);
    if (cmd === "add") {
      if (existing) throw new UsageError(`user add: ${name} already exists (use user passwd to change the password)`);
      const pw = await password();
      await repo.createUser({ username: name!, role, passwordHash: await hashPassword(pw.value) });
      await audit("user.create", name!, { role });
      out(pw.generated ? `created ${name} (${role}); password (shown only once): ${pw.value}\n` : `created ${name} (${role})\n`);
      return 0;
    }
    if (!existing) throw new UsageError(`user ${cmd}: no user ${name}`);
    if (cmd === "passwd") {
      const pw = await password();
      await repo.updateUser(existing.id, { passwordHash: await hashPassword(pw.value) });
      await repo.revokeUserSessions(existing.id, Date.now());
      await audit("user.update", name!, { password_changed: true });
      out(pw.generated ? `new password for ${name} (shown only once): ${pw.value}\n` : `password of ${name} changed\n`);
      return 0;
    }
    await repo.deleteUser(existing.id);
    await audit("user.delete", name!);
    out(`deleted ${name}\n`);
    return 0;
  } finally {
    await repo.close();
  }
}

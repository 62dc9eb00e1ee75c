// Error types shared by both binaries: a bad setting or argument names what was wrong and
// stops start-up before any port is opened or hook attached.

/** A configuration value or command-line argument is invalid. `setting` names it. */
export class ConfigError extends Error {
  constructor(readonly setting: string, message: string) {
    super(`${setting}: ${message}`);
    this.name = "ConfigError";
  }
}

/** A command-line usage error (exit code 2). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

// The one lifecycle shape of every server role: start(...) returns a handle once the role is
// serving; stop() shuts it down (reverse order of start) and resolves when it is gone.

export interface RoleHandle {
  readonly name: string;
  stop(): Promise<void>;
}

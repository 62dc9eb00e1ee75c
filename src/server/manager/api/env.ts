// The hono environment of the Manager's routes: who is calling (set by auth/middleware.ts) and
// from where (set by the remote-address middleware in api/app.ts).
import type { User } from "../repo/types.ts";

export interface ManagerEnv {
  Variables: {
    user: User;
    /** sha256 hex of the caller's token */
    tokenHash: string;
    remoteAddr: string;
  };
}

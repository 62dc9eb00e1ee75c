// Marks overdue sub-tasks timed_out (repository.expireSubTasks) every intervalMs.
import type { Logger } from "../../../common/log.ts";
import type { Repository } from "../repo/types.ts";

export function startTaskExpiry(o: { repo: Repository; log: Logger; intervalMs?: number }): { stop(): void; runOnce(): Promise<number> } {
  let busy = false;
  const runOnce = async () => {
    if (busy) return 0;
    busy = true;
    try {
      const n = await o.repo.expireSubTasks(Date.now());
      if (n) o.log.info("sub-tasks timed out", { count: n });
      return n;
    } catch (e) {
      o.log.error("expiring sub-tasks failed", { error: e as Error });
      return 0;
    } finally {
      busy = false;
    }
  };
  const t = setInterval(() => void runOnce(), o.intervalMs ?? 5_000);
  t.unref?.();
  return { stop: () => clearInterval(t), runOnce };
}

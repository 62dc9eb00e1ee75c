// Login rate limiting: failures are counted per key ("user:<name>", "addr:<ip>") in a sliding
// window; past the limit a key is refused until its oldest counted failure leaves the window.
export interface LoginLimiterOptions {
  /** failures allowed per window; default 5 */
  maxFailures?: number;
  /** default 5 minutes */
  windowMs?: number;
  now?: () => number;
}

export interface LoginLimiter {
  /** seconds to wait if any key is over the limit, else 0 */
  retryAfter(keys: string[]): number;
  fail(keys: string[]): void;
  reset(keys: string[]): void;
}

export function createLoginLimiter(opts: LoginLimiterOptions = {}): LoginLimiter {
  const max = opts.maxFailures ?? 5;
  const windowMs = opts.windowMs ?? 5 * 60_000;
  const now = opts.now ?? Date.now;
  const failures = new Map<string, number[]>();
  const live = (key: string, t: number): number[] => {
    const list = (failures.get(key) ?? []).filter((x) => x > t - windowMs);
    if (list.length) failures.set(key, list);
    else failures.delete(key);
    return list;
  };
  return {
    retryAfter(keys) {
      const t = now();
      let wait = 0;
      for (const k of keys) {
        const list = live(k, t);
        if (list.length >= max) wait = Math.max(wait, Math.ceil((list[list.length - max]! + windowMs - t) / 1000));
      }
      return Math.max(wait, 0);
    },
    fail(keys) {
      const t = now();
      for (const k of keys) failures.set(k, [...live(k, t), t]);
      if (failures.size > 100_000) for (const k of [...failures.keys()].slice(0, 50_000)) failures.delete(k);
    },
    reset(keys) {
      for (const k of keys) failures.delete(k);
    },
  };
}

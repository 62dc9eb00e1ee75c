// The Manager's settings with their defaults (the server's config maps onto these).
export interface ManagerSettings {
  /** no heartbeat for this long = offline; default 3 min */
  offlineAfterMs: number;
  /** session lifetime; default 12 h */
  tokenTtlMs: number;
  /** failed logins allowed per user and per address per window; default 5 per 5 min */
  loginMaxFailures: number;
  loginWindowMs: number;
  /** largest JSON body; default 1 MiB */
  bodyLimitBytes: number;
  /** largest component upload; default 256 MiB */
  componentMaxBytes: number;
  /** where component files go: <dataDir>/components */
  dataDir: string;
  /** base URL agents download components from, e.g. http://10.0.0.1:6701 */
  publicUrl: string;
}

export function managerSettings(o: Partial<ManagerSettings> & { dataDir: string }): ManagerSettings {
  return {
    offlineAfterMs: 3 * 60_000,
    tokenTtlMs: 12 * 3_600_000,
    loginMaxFailures: 5,
    loginWindowMs: 5 * 60_000,
    bodyLimitBytes: 1 << 20,
    componentMaxBytes: 256 << 20,
    publicUrl: "http://127.0.0.1:6701",
    ...o,
  };
}

// TypeScript mirror of the fixed layouts in bpf/events.h and bpf/lib/common.h (struct
// vigil_hdr, struct vigil_config, struct vigil_sockaddr). test/collector/btf-layout.test.ts
// compares every offset here, and every EventSpec's fields, with the BTF of the built object.

/** struct vigil_hdr: byte offsets. */
export const HDR = {
  type: 0, size: 2, cpu: 4, ts: 8, cgroup_id: 16,
  pid: 24, tgid: 28, ppid: 32, pgid: 36, sid: 40, uid: 44, euid: 48, gid: 52,
  sessionid: 56, pid_ns: 60, exe_ino: 64, exe_dev: 68, comm: 72, nodename: 88,
  SIZE: 152,
} as const;

/** struct vigil_config, the only variable (vigil_cfg) in .rodata, at offset 0. */
export const CONFIG = { agent_tgid: 0, rate_limit_per_sec: 4, exe_allow_on: 8, wake_bytes: 12, SIZE: 16 } as const;

/** struct vigil_sockaddr. */
export const SOCKADDR = { family: 0, port: 2, addr: 8, SIZE: 24 } as const;

/** struct vigil_str. */
export const STR = { off: 0, len: 2, SIZE: 4 } as const;

/** Map names the loader relies on (bpf/lib/common.h). */
export const MAPS = {
  events: "events", drops: "drops", limited: "limited", enabled: "enabled",
  exeAllow: "exe_allow", exeRate: "exe_rate", inflight: "inflight",
} as const;

/** VE_MAX in bpf/events.h: size of the per-type arrays. */
export const VE_MAX = 1024;
/** VIGIL_CANARY_WHENCE in bpf/events.h. */
export const CANARY_WHENCE = 4729;

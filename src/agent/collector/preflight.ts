// Checks run before anything is attached, each failing with a message that names the problem:
// root, BTF, tracefs (mounted here if missing), and an output file that can be written.
import { existsSync, openSync } from "node:fs";
import { dirname } from "node:path";

export class PreflightError extends Error {}

export const TRACEFS = "/sys/kernel/tracing";

export function checkRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new PreflightError("vigil-agent must run as root to load BPF programs (uid is " + process.getuid?.() + ")");
  }
}

export function checkBtf(path = "/sys/kernel/btf/vmlinux"): void {
  if (!existsSync(path)) {
    throw new PreflightError(`this kernel has no BTF (${path} is missing): Vigil needs a kernel built with CONFIG_DEBUG_INFO_BTF=y (5.8 or newer)`);
  }
}

/** Tracepoint programs attach through tracefs: mount it when it is missing. */
export function ensureTracefs(): void {
  // The mount table can list a tracefs that is hidden (another mount on top, or a private mount
  // namespace): what counts is whether the events directory is reachable.
  if (existsSync(`${TRACEFS}/events`)) return;
  const r = Bun.spawnSync(["mount", "-t", "tracefs", "tracefs", TRACEFS], { stderr: "pipe" });
  if (r.exitCode !== 0 || !existsSync(`${TRACEFS}/events`)) {
    throw new PreflightError(`tracefs is not mounted at ${TRACEFS} and mounting it failed: ${r.stderr.toString().trim() || `exit ${r.exitCode}`}`);
  }
}

/** Open (create/truncate) the output file now, so a bad path fails before any hook is attached. */
export function openOutput(path: string): number {
  try {
    return openSync(path, "w", 0o640);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new PreflightError(`cannot write output file ${path}: ${err.code ?? err.message}` + (existsSync(dirname(path)) ? "" : ` (directory ${dirname(path)} does not exist)`));
  }
}


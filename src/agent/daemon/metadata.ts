// The agent's operator-set metadata (task 1051: idc, region), kept in <data-dir>/metadata.json
// so it survives restarts and shows in every heartbeat.
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const METADATA_FILE = "metadata.json";

export interface Metadata {
  idc: string;
  region: string;
}

export class MetadataStore {
  private value: Metadata = { idc: "", region: "" };
  private readonly path: string;

  constructor(dataDir: string) {
    this.path = join(dataDir, METADATA_FILE);
    try {
      const v = JSON.parse(readFileSync(this.path, "utf8"));
      this.value = { idc: typeof v.idc === "string" ? v.idc : "", region: typeof v.region === "string" ? v.region : "" };
    } catch {} // absent or unreadable: empty metadata (the next 1051 rewrites it)
  }

  get(): Metadata {
    return { ...this.value };
  }

  /** Persist and apply; throws naming the file if it cannot be written. */
  set(v: Partial<Metadata>): Metadata {
    const next = { idc: v.idc ?? this.value.idc, region: v.region ?? this.value.region };
    try {
      writeFileSync(`${this.path}.tmp`, JSON.stringify(next) + "\n");
      renameSync(`${this.path}.tmp`, this.path);
    } catch (e) {
      throw new Error(`cannot write ${this.path}: ${(e as Error).message}`);
    }
    this.value = next;
    return this.get();
  }
}

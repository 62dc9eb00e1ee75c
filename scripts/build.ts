// Builds Vigil: BPF objects (one per bpf/*.bpf.c, linked into build/bpf/vigil.bpf.o), the
// embedded libraries (build/lib), then the self-contained executables in dist/.
// Usage: bun scripts/build.ts [--bpf-only] [--skip-bpf]
import { $ } from "bun";
import { mkdirSync, readdirSync, copyFileSync, statSync, existsSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
const args = new Set(process.argv.slice(2));
const pkg = await Bun.file(join(root, "package.json")).json();
const version: string = process.env.VIGIL_VERSION ?? pkg.version;

function step(msg: string): void {
  process.stderr.write(`build: ${msg}\n`);
}

export async function buildBpf(): Promise<string> {
  const out = join(root, "build/bpf");
  mkdirSync(out, { recursive: true });
  const sources = readdirSync(join(root, "bpf")).filter((f) => f.endsWith(".bpf.c")).sort();
  if (sources.length === 0) throw new Error("no bpf/*.bpf.c sources");
  const objs: string[] = [];
  for (const src of sources) {
    const obj = join(out, src.replace(/\.bpf\.c$/, ".o"));
    step(`clang ${src}`);
    await $`clang -g -O2 -Wall -Wno-unused-function -target bpf -D__TARGET_ARCH_x86 -I${join(root, "bpf")} -c ${join(root, "bpf", src)} -o ${obj}`;
    objs.push(obj);
  }
  const linked = join(out, "vigil.bpf.o");
  step(`bpftool gen object (${objs.length} objects)`);
  await $`bpftool gen object ${linked} ${objs}`;
  return linked;
}

const LIBDIR = "/usr/lib/x86_64-linux-gnu";
export function copyLibs(): void {
  const out = join(root, "build/lib");
  mkdirSync(out, { recursive: true });
  for (const lib of ["libz.so.1", "libelf.so.1", "libbpf.so.1"]) {
    const src = join(LIBDIR, lib);
    if (!existsSync(src)) throw new Error(`${src} is missing: run scripts/setup (libbpf-dev, libelf-dev, zlib1g-dev)`);
    copyFileSync(src, join(out, lib));
  }
}

async function compile(entry: string, extra: string[], outfile: string): Promise<void> {
  step(`compile ${outfile}`);
  const res = await Bun.build({
    entrypoints: [join(root, entry), ...extra.map((e) => join(root, e))],
    compile: { outfile: join(root, outfile), autoloadDotenv: false, autoloadBunfig: false },
    define: { VIGIL_VERSION: JSON.stringify(version) },
    minify: { syntax: true, whitespace: true, identifiers: false },
    sourcemap: "none",
  });
  if (!res.success) {
    for (const l of res.logs) console.error(l);
    throw new Error(`compiling ${entry} failed`);
  }
  step(`${outfile}: ${(statSync(join(root, outfile)).size / 1048576).toFixed(1)} MiB`);
}

if (import.meta.main) {
  if (!args.has("--skip-bpf")) {
    await buildBpf();
    copyLibs();
  }
  if (!args.has("--bpf-only")) {
    mkdirSync(join(root, "dist"), { recursive: true });
    await compile("src/agent/main.ts", ["src/agent/collector/ring-worker.ts"], "dist/vigil-agent");
  }
}

// Files embedded with `import x from "…" with { type: "file" }` resolve to a path string
// (in a compiled binary, a /$bunfs/ path readable with node:fs).
declare module "*.so.1" {
  const path: string;
  export default path;
}
declare module "*.bpf.o" {
  const path: string;
  export default path;
}
declare module "*.so" {
  const path: string;
  export default path;
}

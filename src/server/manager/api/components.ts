// Components (versions of the agent or of a plugin): multipart upload (admin; sha256 computed,
// size limited), list (viewer), delete (admin), and the download that agents fetch.
//
// Downloads need no token: agents hold no Manager credentials. Integrity comes from the sha256
// in the desired-component Command, which reaches the agent over the AC's mutual TLS, and the
// agent runs nothing whose sha256 differs (DESIGN.md "Security"). The URL names a random
// component id, so components cannot be enumerated; their contents are not secret.
import { createRoute, z } from "@hono/zod-openapi";
import { stream } from "hono/streaming";
import { createReadStream, existsSync } from "node:fs";
import { requireRole } from "../auth/middleware.ts";
import type { Component } from "../repo/types.ts";
import { audit, type ManagerApp, type RouteDeps } from "./deps.ts";
import { ApiError, notFound } from "./errors.ts";
import { errors, json, ok, SECURITY, zName } from "./schemas.ts";
import { createComponentFiles } from "../services/component-files.ts";
import { downloadUrl } from "../services/policy-push.ts";

export const UPLOAD_PATH = "/api/v1/components";
const DOWNLOAD = /^\/api\/v1\/components\/[^/]+\/download$/;
export const isDownloadPath = (p: string) => DOWNLOAD.test(p);

const zVersion = z.string().regex(/^[0-9A-Za-z][0-9A-Za-z.+_~-]{0,63}$/, "must be 1-64 characters of letters, digits and . + _ ~ -");
const zFile = z.custom<File>((v) => v instanceof File, "must be a file").openapi({ type: "string", format: "binary" });
const Upload = z.strictObject({ name: zName, type: z.enum(["agent", "plugin"]), version: zVersion, file: zFile }).openapi("ComponentUpload");
export const ComponentView = z.object({
  id: z.string(), name: z.string(), type: z.enum(["agent", "plugin"]), version: z.string(), sha256: z.string(), size: z.number(),
  download_url: z.string(), created_by: z.string(), created_at: z.number(),
}).openapi("Component");
const IdParam = z.object({ id: z.string().min(1).max(128) });

const upload = createRoute({
  method: "post", path: UPLOAD_PATH, tags: ["components"], summary: "Upload a version of the agent or of a plugin", security: SECURITY, middleware: [requireRole("admin")],
  request: { body: { content: { "multipart/form-data": { schema: Upload } }, required: true } }, responses: { ...json(ComponentView), ...errors(409, 413) },
});
const list = createRoute({
  method: "get", path: "/api/v1/components", tags: ["components"], summary: "List components", security: SECURITY, middleware: [requireRole("viewer")],
  request: { query: z.strictObject({ name: zName.optional(), type: z.enum(["agent", "plugin"]).optional() }) }, responses: { ...json(z.array(ComponentView)), ...errors() },
});
const download = createRoute({
  method: "get", path: "/api/v1/components/{id}/download", tags: ["components"], summary: "The component's file (no token; verify its sha256)",
  request: { params: IdParam }, responses: { 200: { description: "the file; x-sha256 names its digest" }, ...errors(404) },
});
const del = createRoute({
  method: "delete", path: "/api/v1/components/{id}", tags: ["components"], summary: "Delete a component no policy uses", security: SECURITY, middleware: [requireRole("admin")],
  request: { params: IdParam }, responses: { ...json(z.null()), ...errors(404, 409) },
});

export function componentRoutes(app: ManagerApp, d: RouteDeps): void {
  const files = createComponentFiles({ dataDir: d.settings.dataDir });
  const view = (x: Component) => ({ id: x.id, name: x.name, type: x.type, version: x.version, sha256: x.sha256, size: x.size, download_url: downloadUrl(d.settings.publicUrl, x), created_by: x.createdBy, created_at: x.createdAt });
  app.openapi(upload, async (c) => {
    const b = c.req.valid("form");
    if (b.file.size > d.settings.componentMaxBytes) throw new ApiError(413, `the file is too large (at most ${d.settings.componentMaxBytes} bytes)`);
    if (b.file.size === 0) throw new ApiError(400, "bad request: form.file: the file is empty");
    if ((await d.repo.listComponents({ name: b.name })).some((x) => x.version === b.version)) throw new ApiError(409, `component ${b.name} ${b.version} already exists`);
    const bytes = new Uint8Array(await b.file.arrayBuffer());
    const { sha256, path } = files.put(bytes);
    const comp = await d.repo.createComponent({ name: b.name, type: b.type, version: b.version, sha256, size: bytes.length, path, createdBy: c.get("user").username });
    await audit(c, d.repo, "component.upload", comp.id, { name: comp.name, type: comp.type, version: comp.version, sha256, size: comp.size });
    return ok(c, view(comp));
  });
  app.openapi(list, async (c) => ok(c, (await d.repo.listComponents(c.req.valid("query"))).map(view)));
  app.openapi(download, async (c) => {
    const { id } = c.req.valid("param");
    const comp = await d.repo.getComponent(id);
    if (!comp || !existsSync(comp.path)) throw notFound(`component ${id}`);
    c.header("content-type", "application/octet-stream");
    c.header("content-length", String(comp.size));
    c.header("x-sha256", comp.sha256);
    c.header("content-disposition", `attachment; filename="${comp.name}-${comp.version}"`);
    return stream(c, async (s) => {
      for await (const chunk of createReadStream(comp.path)) await s.write(chunk as Uint8Array);
    }) as never;
  });
  app.openapi(del, async (c) => {
    const { id } = c.req.valid("param");
    const comp = await d.repo.getComponent(id);
    if (!comp) throw notFound(`component ${id}`);
    const users = (await d.repo.listPolicies()).filter((p) => p.components.includes(id)).map((p) => p.scope);
    if (users.length) throw new ApiError(409, `component ${id} is in the policies ${users.join(", ")}; change them first`);
    await d.repo.deleteComponent(id);
    if (!(await d.repo.listComponents()).some((x) => x.path === comp.path)) files.remove(comp.path);
    await audit(c, d.repo, "component.delete", id, { name: comp.name, version: comp.version });
    return ok(c, null);
  });
}

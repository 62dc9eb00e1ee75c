// Bad input on every route that takes a body, path parameters or query parameters (issue 4): as a
// caller with enough role, malformed JSON, wrong types for each field, unknown fields, oversized
// bodies, out-of-range or invalid path and query parameters and injection strings are refused
// with a 4xx {code, msg} naming the field, and nothing in the repository changes (checked after
// every case). Where an injection string is valid input (a password, a hostname filter, task
// data, an event field value…) it is data: 200, stored or matched verbatim, the database intact.
// Both dialects.
import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { UserRole } from "../../../../src/server/manager/repo/types.ts";
import { openEventStore, type EventStore } from "../../../../src/server/store/index.ts";
import { makeBatch } from "../../store/batches.ts";
import { eachDialect } from "../support/dialects.ts";
import { heartbeat, managerFixture, PASSWORD, quietLog, type Fixture } from "../support/fixture.ts";
import { MIN_ROLE } from "../support/route-roles.ts";

const SQL = "'; DROP TABLE users; --";
const SQL_OR = "' OR '1'='1";
const XSS = "<script>alert(1)</script>";
const TRAVERSAL = "../../etc/passwd";
const LONG = "a".repeat(4096);
const INJECTIONS = [SQL, SQL_OR, XSS, TRAVERSAL, LONG];
/** A host whose agent id and hostname are themselves injection strings (agents report anything). */
const EVIL_HOST = "'; DROP TABLE hosts; --";

const BODY_LIMIT = 32 * 1024;
const COMPONENT_MAX = 1024;
const enc = encodeURIComponent;

/** The role each route needs (null = no token), from the table routes.test.ts checks. */
const ROLE: Record<string, UserRole | null> = Object.fromEntries(Object.entries(MIN_ROLE).map(([k, r]) => [k, r === "public" ? null : r]));

type Kind = "malformed" | "type" | "unknown" | "oversized" | "param" | "query" | "injection";

interface Case {
  route: string;
  kind: Kind;
  path: string;
  body?: unknown;
  raw?: BodyInit | (() => BodyInit);
  headers?: Record<string, string>;
  status: number;
  /** what the message must contain: the field, or what was wrong */
  msg: string | RegExp;
}

/** Everything the API can change, as one comparable value. */
async function state(f: Fixture): Promise<unknown> {
  const r = f.repo;
  const tasks = await r.listTasks({ page: 1, size: 1000 });
  const comps = join(f.dir, "components");
  return {
    users: (await r.listUsers()).map((u) => [u.id, u.username, u.role, u.passwordHash, u.updatedAt]),
    hosts: (await r.listHosts({}, { page: 1, size: 1000 }, 0)).items.map((h) => [h.agentId, h.hostname, h.tags, h.lastSeenAt]),
    tasks,
    subtasks: await Promise.all(tasks.items.map((t) => r.listSubTasks(t.id, { page: 1, size: 1000 }))),
    policies: await r.listPolicies(),
    components: await r.listComponents(),
    files: existsSync(comps) ? readdirSync(comps).sort() : [],
    audit: (await r.listAudit({}, { page: 1, size: 1000 })).total,
  };
}

/** Values of another JSON type than v (and null), for the wrong-type cases. */
function wrongTypes(v: unknown): unknown[] {
  if (typeof v === "string") return [12345, true, ["x"], { x: "y" }, null];
  if (typeof v === "number") return [String(v), true, [v], { x: v }, null, 1.5];
  if (typeof v === "boolean") return ["true", 1, null];
  if (Array.isArray(v)) return ["x", 1, { 0: v[0] }, null, [12345], [null]];
  return ["x", 1, [v], null];
}

function form(o: Record<string, string | File>): FormData {
  const f = new FormData();
  for (const [k, v] of Object.entries(o)) f.append(k, v);
  return f;
}

/** A body of about n bytes sent as a stream (no content-length: the limit must count). */
function streamOf(n: number): () => ReadableStream<Uint8Array> {
  return () => {
    let left = n;
    return new ReadableStream({
      pull(ctl) {
        if (left <= 0) return ctl.close();
        const k = Math.min(left, 8192);
        left -= k;
        ctl.enqueue(new TextEncoder().encode(`{"a":"${"x".repeat(Math.max(0, k - 8))}",`.slice(0, k)));
      },
    });
  };
}

interface BodyRoute {
  route: string;
  path: string;
  valid: Record<string, unknown>;
  /** per field: wrong values instead of the generated ones */
  types?: Record<string, unknown[]>;
  /** per field: injection strings (or values holding them) that must be refused, and what the message names */
  refuse?: [field: string, value: unknown, msg?: string][];
}

/** The refused cases for a JSON-body route. */
function bodyCases(b: BodyRoute): Case[] {
  const out: Case[] = [];
  const json = { "content-type": "application/json" };
  for (const raw of ["{not json", "", '{"a":', "{'a': 1}", "[1,2", "undefined"]) out.push({ route: b.route, kind: "malformed", path: b.path, raw, headers: json, status: 400, msg: /json/i });
  for (const body of [[1, 2], "str", 42, null, true]) out.push({ route: b.route, kind: "malformed", path: b.path, body, status: 400, msg: "body: " });
  out.push({ route: b.route, kind: "malformed", path: b.path, raw: JSON.stringify(b.valid), headers: { "content-type": "text/plain" }, status: 415, msg: /media type/i });
  out.push({ route: b.route, kind: "malformed", path: b.path, raw: JSON.stringify(b.valid), status: 415, msg: /media type/i });
  for (const [k, v] of Object.entries(b.valid)) {
    for (const w of b.types?.[k] ?? wrongTypes(v)) out.push({ route: b.route, kind: "type", path: b.path, body: { ...b.valid, [k]: w }, status: 400, msg: `body.${k}` });
  }
  out.push({ route: b.route, kind: "unknown", path: b.path, body: { ...b.valid, evil: 1 }, status: 400, msg: "unknown field(s) evil" });
  out.push({ route: b.route, kind: "unknown", path: b.path, raw: `{"__proto__":{"admin":true},${JSON.stringify(b.valid).slice(1)}`, headers: json, status: 400, msg: "unknown field(s) __proto__" });
  out.push({ route: b.route, kind: "unknown", path: b.path, body: { ...b.valid, constructor: { prototype: { x: 1 } } }, status: 400, msg: "unknown field(s) constructor" });
  out.push({ route: b.route, kind: "oversized", path: b.path, body: { ...b.valid, pad: "x".repeat(BODY_LIMIT * 2) }, status: 413, msg: "too large" });
  out.push({ route: b.route, kind: "oversized", path: b.path, raw: streamOf(BODY_LIMIT * 3), headers: json, status: 413, msg: "too large" });
  for (const [k, v, msg] of b.refuse ?? []) out.push({ route: b.route, kind: "injection", path: b.path, body: { ...b.valid, [k]: v }, status: 400, msg: msg ?? `body.${k}` });
  return out;
}

/** Path-parameter cases: too long → 400 naming it; injection ids are data that names nothing → 404. */
function idCases(route: string, pathOf: (id: string) => string, body?: unknown): Case[] {
  const out: Case[] = [{ route, kind: "param", path: pathOf("x".repeat(129)), body, status: 400, msg: "param.id" }];
  for (const id of [SQL, SQL_OR, XSS, TRAVERSAL, "%E0%A4%A", "x".repeat(128)]) {
    const path = pathOf(id === "%E0%A4%A" ? id : enc(id));
    out.push({ route, kind: id.length === 128 ? "param" : "injection", path, body, status: 404, msg: "not found" });
  }
  // an unencoded traversal leaves the route (the URL is normalised): no route, not a file
  out.push({ route, kind: "injection", path: pathOf("../../../../etc/passwd"), body, status: 404, msg: "no route" });
  return out;
}

function queryCases(route: string, base: string, bad: [query: string, msg: string][]): Case[] {
  return [
    ...bad.map(([q, msg]): Case => ({ route, kind: q.includes("evil") ? "unknown" : "query", path: `${base}?${q}`, status: 400, msg })),
  ];
}

interface Seed { viewerId: string; taskId: string; compId: string }

async function seed(f: Fixture): Promise<Seed> {
  await f.repo.recordHeartbeats([heartbeat("h1"), heartbeat("h2"), heartbeat(EVIL_HOST, { hostname: EVIL_HOST })]);
  await f.repo.addTags(["h1"], ["prod"]);
  const up = await f.call("POST", "/api/v1/components", { token: f.tokens.admin, raw: form({ name: "scanner", type: "plugin", version: "1.0", file: new File(["plugin"], "p") }) });
  expect(up.status).toBe(200);
  const compId = up.body.data.id as string;
  expect((await f.call("PUT", "/api/v1/policies/all", { token: f.tokens.admin, body: { components: [compId] } })).status).toBe(200);
  const t = await f.call("POST", "/api/v1/tasks", { token: f.tokens.operator, body: { kind: "config_sync", target: { agent_ids: ["h1"] } } });
  expect(t.status).toBe(200);
  await f.app.services.dispatcher.idle();
  const viewerId = (await f.repo.getUserByName("viewer1"))!.id;
  return { viewerId, taskId: t.body.data.task.id, compId };
}

function allCases(s: Seed): Case[] {
  const cases: Case[] = [];
  const tooMany = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i));

  // ---- JSON bodies
  cases.push(...bodyCases({
    route: "POST /api/v1/user/login", path: "/api/v1/user/login", valid: { username: "viewer1", password: PASSWORD },
    refuse: [["username", LONG], ["password", LONG], ["username", ""]],
  }));
  cases.push(...bodyCases({
    route: "POST /api/v1/users", path: "/api/v1/users", valid: { username: "alice", password: "alice-password-1", role: "viewer" },
    types: { password: [12345678901, true, ["alice-password-1"], { x: "y" }, null] },
    refuse: [
      ...INJECTIONS.map((v): [string, unknown] => ["username", v]), ["username", "alice bob"], ["username", "admin1\n"],
      ["password", LONG], ["password", "short"], ["role", SQL], ["role", "root"], ["role", "Admin"],
    ],
  }));
  cases.push(...bodyCases({
    route: "PATCH /api/v1/users/{id}", path: `/api/v1/users/${s.viewerId}`, valid: { password: "new-password-1", role: "operator" },
    types: { password: [12345678901, true, ["new-password-1"], { x: "y" }, null] },
    refuse: [["role", SQL], ["role", XSS], ["role", "superuser"], ["password", LONG], ["password", ""]],
  }));
  cases.push({ route: "PATCH /api/v1/users/{id}", kind: "type", path: `/api/v1/users/${s.viewerId}`, body: {}, status: 400, msg: "give password and/or role" });
  cases.push(...bodyCases({
    route: "PUT /api/v1/hosts/{id}/tags", path: "/api/v1/hosts/h1/tags", valid: { tags: ["web"] },
    refuse: [
      ...INJECTIONS.map((v): [string, unknown, string] => ["tags", ["ok", v], "body.tags.1"]),
      ["tags", tooMany(65, (i) => `t${i}`)], ["tags", ["a b"], "body.tags.0"],
    ],
  }));
  cases.push(...bodyCases({
    route: "POST /api/v1/hosts/tags", path: "/api/v1/hosts/tags", valid: { agent_ids: ["h1"], add: ["web"], remove: ["prod"] },
    refuse: [
      ...INJECTIONS.map((v): [string, unknown, string] => ["add", [v], "body.add.0"]),
      ...INJECTIONS.map((v): [string, unknown, string] => ["remove", ["ok", v], "body.remove.1"]),
      ["agent_ids", [LONG], "body.agent_ids.0"], ["agent_ids", [], "body.agent_ids"], ["agent_ids", [""], "body.agent_ids.0"],
    ],
  }));
  cases.push({ route: "POST /api/v1/hosts/tags", kind: "type", path: "/api/v1/hosts/tags", body: { agent_ids: ["h1"] }, status: 400, msg: "give add and/or remove" });
  const plugin = { kind: "plugin", data_type: 2000, object_name: "scanner", data: "x", target: { agent_ids: ["h1"] }, timeout: 60 };
  cases.push(...bodyCases({
    route: "POST /api/v1/tasks", path: "/api/v1/tasks", valid: plugin,
    types: { data: [12345, true, ["x"], null] },
    refuse: [
      ...INJECTIONS.map((v): [string, unknown] => ["object_name", v]),
      ["kind", SQL], ["kind", "shell"], ["data_type", -1], ["data_type", 1e12], ["timeout", 0], ["timeout", 1e20],
      ...INJECTIONS.map((v): [string, unknown, string] => ["target", { tag: v }, "body.target"]),
      ["target", { agent_ids: [SQL, "h1"] }, "body.target.agent_ids: unknown host(s) '; DROP TABLE users; --"],
      ["target", { agent_ids: [XSS] }, "unknown host(s) <script>"],
      ["target", { agent_ids: [LONG] }, "body.target"],
      ["target", { tag: "nobody-has-this" }, "body.target: no host matches"],
      ["target", { all: false }, "body.target"], ["target", { all: true, tag: "prod" }, "body.target"], ["target", {}, "body.target"],
      ["target", { all: true, evil: 1 }, "body.target"],
    ],
  }));
  // kind-specific rules
  for (const [body, msg] of [
    [{ ...plugin, data_type: undefined }, "body.data_type"],
    [{ ...plugin, object_name: undefined }, "body.object_name"],
    [{ ...plugin, object_name: "vigil-agent" }, "body.object_name"],
    [{ kind: "agent_ctrl", data_type: 2000, target: { all: true } }, "body.data_type"],
    [{ kind: "agent_ctrl", data_type: 1060, object_name: "scanner", target: { all: true } }, "body.object_name"],
    [{ kind: "config_sync", data: SQL, target: { all: true } }, "body.kind: config_sync takes no"],
    [{ kind: "plugin", data_type: 2000, object_name: "scanner" }, "body.target"],
  ] as const) cases.push({ route: "POST /api/v1/tasks", kind: "type", path: "/api/v1/tasks", body: JSON.parse(JSON.stringify(body)), status: 400, msg });
  cases.push(...bodyCases({
    route: "PUT /api/v1/policies/{scope}", path: "/api/v1/policies/all", valid: { components: [s.compId] },
    refuse: [
      ...INJECTIONS.slice(0, 4).map((v): [string, unknown, string] => ["components", [v], `body.components: unknown component ${v}`]),
      ["components", [LONG], "body.components.0"], ["components", [""], "body.components.0"], ["components", tooMany(257, (i) => `c${i}`), "body.components"],
    ],
  }));

  // ---- the multipart upload
  const upload = "POST /api/v1/components";
  const good = () => ({ name: "scanner", type: "plugin", version: "2.0", file: new File(["v2"], "p") }) as Record<string, string | File>;
  const formCase = (kind: Kind, o: Record<string, string | File>, status: number, msg: string | RegExp): Case => ({ route: upload, kind, path: "/api/v1/components", raw: () => form(o), status, msg });
  cases.push({ route: upload, kind: "malformed", path: "/api/v1/components", body: { name: "scanner", type: "plugin", version: "2.0", file: "x" }, status: 415, msg: /media type/i });
  cases.push({ route: upload, kind: "malformed", path: "/api/v1/components", raw: "garbage", headers: { "content-type": "multipart/form-data; boundary=xyz" }, status: 400, msg: /formdata/i });
  cases.push({ route: upload, kind: "malformed", path: "/api/v1/components", raw: "garbage", headers: { "content-type": "multipart/form-data" }, status: 400, msg: /formdata/i });
  for (const k of ["name", "type", "version"]) cases.push(formCase("type", { ...good(), [k]: new File(["x"], "x") }, 400, `form.${k}`));
  for (const k of ["name", "type", "version", "file"]) {
    const o = good();
    delete o[k];
    cases.push(formCase("type", o, 400, `form.${k}`));
  }
  cases.push(formCase("type", { ...good(), file: "not a file" }, 400, "form.file"));
  cases.push(formCase("type", { ...good(), type: "rootkit" }, 400, "form.type"));
  cases.push(formCase("type", { ...good(), file: new File([], "empty") }, 400, "form.file"));
  cases.push({ route: upload, kind: "type", path: "/api/v1/components", raw: () => { const f = form(good()); f.append("name", "again"); return f; }, status: 400, msg: "form.name" });
  cases.push(formCase("unknown", { ...good(), evil: "1" }, 400, "unknown field(s) evil"));
  cases.push(formCase("oversized", { ...good(), file: new File([new Uint8Array(COMPONENT_MAX + 1)], "big") }, 413, "too large"));
  cases.push(formCase("oversized", { ...good(), file: new File([new Uint8Array(COMPONENT_MAX + 128 * 1024)], "huge") }, 413, "too large"));
  for (const v of INJECTIONS) {
    cases.push(formCase("injection", { ...good(), name: v }, 400, "form.name"));
    cases.push(formCase("injection", { ...good(), version: v }, 400, "form.version"));
  }
  cases.push(formCase("injection", { ...good(), version: "1; rm -rf /" }, 400, "form.version"));
  cases.push(formCase("injection", { ...good(), type: SQL }, 400, "form.type"));

  // ---- path parameters
  cases.push(...idCases("PATCH /api/v1/users/{id}", (id) => `/api/v1/users/${id}`, { role: "operator" }));
  cases.push(...idCases("DELETE /api/v1/users/{id}", (id) => `/api/v1/users/${id}`));
  cases.push(...idCases("GET /api/v1/hosts/{id}", (id) => `/api/v1/hosts/${id}`));
  cases.push(...idCases("PUT /api/v1/hosts/{id}/tags", (id) => `/api/v1/hosts/${id}/tags`, { tags: ["web"] }));
  cases.push(...idCases("GET /api/v1/tasks/{id}", (id) => `/api/v1/tasks/${id}`));
  cases.push(...idCases("GET /api/v1/tasks/{id}/subtasks", (id) => `/api/v1/tasks/${id}/subtasks`));
  cases.push(...idCases("POST /api/v1/tasks/{id}/cancel", (id) => `/api/v1/tasks/${id}/cancel`));
  cases.push(...idCases("GET /api/v1/components/{id}/download", (id) => `/api/v1/components/${id}/download`));
  cases.push(...idCases("DELETE /api/v1/components/{id}", (id) => `/api/v1/components/${id}`));
  for (const [m, body] of [["PUT", { components: [s.compId] }], ["GET", undefined], ["DELETE", undefined]] as const) {
    const route = `${m} /api/v1/policies/{scope}`;
    for (const scope of ["bogus", "ALL", "tag:", "tag:a b", `tag:${"a".repeat(65)}`, "all:x", "tag:x/y"]) cases.push({ route, kind: "param", path: `/api/v1/policies/${enc(scope)}`, body, status: 400, msg: "param.scope" });
    for (const v of INJECTIONS) {
      cases.push({ route, kind: "injection", path: `/api/v1/policies/${enc(v)}`, body, status: 400, msg: "param.scope" });
      cases.push({ route, kind: "injection", path: `/api/v1/policies/${enc(`tag:${v}`)}`, body, status: 400, msg: "param.scope" });
    }
    if (m !== "PUT") cases.push({ route, kind: "param", path: "/api/v1/policies/tag:nobody", status: 404, msg: "policy tag:nobody not found" });
  }

  // ---- query parameters
  const paging: [string, string][] = [
    ["page=0", "query.page"], ["page=-1", "query.page"], ["page=1.5", "query.page"], ["page=abc", "query.page"], ["page=1000001", "query.page"],
    ["size=0", "query.size"], ["size=1001", "query.size"], ["size=abc", "query.size"], ["size=1e400", "query.size"], ["size=", "query.size"],
    [`size=${enc(SQL)}`, "query.size"], ["evil=1", "evil"], [`${enc(SQL)}=1`, "unknown field(s)"],
  ];
  cases.push(...queryCases("GET /api/v1/hosts", "/api/v1/hosts", [
    ...paging, ["state=bogus", "query.state"], [`state=${enc(SQL)}`, "query.state"], ["hostname=a&hostname=b", "query.hostname"],
    [`hostname=${LONG}`, "query.hostname"], [`ip=${LONG}`, "query.ip"], [`version=${LONG}`, "query.version"],
    ...INJECTIONS.map((v): [string, string] => [`tag=${enc(v)}`, "query.tag"]),
  ]));
  cases.push(...queryCases("GET /api/v1/tasks", "/api/v1/tasks", paging));
  cases.push(...queryCases("GET /api/v1/tasks/{id}/subtasks", `/api/v1/tasks/${s.taskId}/subtasks`, [
    ...paging, ["status=bogus", "query.status"], [`status=${enc(SQL)}`, "query.status"], [`status=${enc(XSS)}`, "query.status"],
  ]));
  cases.push(...queryCases("GET /api/v1/components", "/api/v1/components", [
    ["type=bogus", "query.type"], [`type=${enc(SQL)}`, "query.type"], ["evil=1", "evil"],
    ...INJECTIONS.map((v): [string, string] => [`name=${enc(v)}`, "query.name"]),
  ]));
  cases.push(...queryCases("GET /api/v1/events", "/api/v1/events", [
    ["data_type=-1", "query.data_type"], ["data_type=abc", "query.data_type"], ["data_type=1.5", "query.data_type"], ["data_type=1000001", "query.data_type"],
    ["since=abc", "query.since"], [`since=${enc(SQL)}`, "query.since"], [`until=${enc(XSS)}`, "query.until"], [`since=${"1".repeat(41)}`, "query.since"],
    ["limit=0", "query.limit"], ["limit=10001", "query.limit"], ["limit=abc", "query.limit"],
    [`agent_id=${LONG}`, "query.agent_id"], ["agent_id=", "query.agent_id"],
    ["evil=1", "query.evil: unknown parameter"], ["field.a%20b=1", "query.field.a b: unknown parameter"], [`field.${"a".repeat(65)}=1`, "unknown parameter"],
    [`${enc(SQL)}=1`, "unknown parameter"], ["field.=1", "query.field.: unknown parameter"],
  ]));
  cases.push(...queryCases("GET /api/v1/audit", "/api/v1/audit", [
    ...paging, ["since=-1", "query.since"], ["since=abc", "query.since"], ["until=1.5", "query.until"], ["since=99999999999999999999999", "query.since"],
    [`actor=${LONG}`, "query.actor"], [`action=${LONG}`, "query.action"], ["actor=a&actor=b", "query.actor"],
  ]));
  return cases;
}

async function openStore(): Promise<{ store: EventStore; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "vigil-bad-input-events-"));
  const store = await openEventStore({ dir, retentionMs: 86_400_000, maxBytes: 1 << 30, log: quietLog });
  return { store, close: async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); } };
}

const fixtureOf = async (url: string | undefined, events?: EventStore) =>
  managerFixture({ url, events, config: { bodyLimitBytes: BODY_LIMIT, componentMaxBytes: COMPONENT_MAX } });

describe("the bad-input table", () => {
  test("covers every route that takes a body, path parameters or query parameters, for each kind of bad input", async () => {
    await using f = await fixtureOf(undefined);
    const s = await seed(f);
    const doc = (await f.call("GET", "/openapi.json")).body;
    const byRoute = new Map<string, Set<Kind>>();
    for (const c of allCases(s)) {
      if (!byRoute.has(c.route)) byRoute.set(c.route, new Set());
      byRoute.get(c.route)!.add(c.kind);
    }
    const missing: string[] = [];
    for (const [p, ops] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
      for (const [m, op] of Object.entries(ops)) {
        const key = `${m.toUpperCase()} ${p}`;
        const params = (op.parameters ?? []) as { in: string }[];
        const need: Kind[] = [];
        if (op.requestBody) need.push("malformed", "type", "unknown", "oversized", "injection");
        if (params.some((x) => x.in === "path")) need.push("param", "injection");
        if (params.some((x) => x.in === "query")) need.push("query", "unknown");
        if (need.length && !(key in ROLE)) missing.push(`${key}: no role in ROLE`);
        for (const k of need) if (!byRoute.get(key)?.has(k)) missing.push(`${key}: no ${k} case`);
      }
    }
    expect(missing).toEqual([]);
  });
});

eachDialect("bad input on every route", (url) => {
  test("refused: 4xx {code, msg} naming the field, never 500; nothing changes", async () => {
    const ev = await openStore();
    try {
      await using f = await fixtureOf(await url(), ev.store);
      const s = await seed(f);
      const cases = allCases(s);
      const before = await state(f);
      const wrong: string[] = [];
      for (const c of cases) {
        const raw = typeof c.raw === "function" ? c.raw() : c.raw;
        const token = ROLE[c.route] ? f.tokens[ROLE[c.route]!] : null;
        const r = await f.call(c.route.split(" ")[0]!, c.path, { token, body: c.body, raw, headers: c.headers });
        const label = `${c.route} [${c.kind}] ${c.path.slice(0, 120)} ${c.body === undefined ? "" : JSON.stringify(c.body)?.slice(0, 160)}`;
        const okMsg = typeof r.body?.msg === "string" && (typeof c.msg === "string" ? r.body.msg.includes(c.msg) : c.msg.test(r.body.msg));
        const shape = r.body && typeof r.body === "object" && Object.keys(r.body).sort().join() === "code,msg" && r.body.code === r.status;
        const ctype = r.res.headers.get("content-type") ?? "";
        if (r.status !== c.status || !okMsg || !shape || !ctype.startsWith("application/json")) wrong.push(`${label} → ${r.status} ${ctype} ${JSON.stringify(r.body).slice(0, 300)} (wanted ${c.status} with ${c.msg})`);
        if (r.status >= 500) wrong.push(`${label} → a 5xx`);
        const after = await state(f);
        if (!Bun.deepEquals(after, before)) {
          wrong.push(`${label} changed the repository`);
          break;
        }
      }
      expect(wrong).toEqual([]);
      expect(cases.length).toBeGreaterThan(400);
      // the fixture's inputs without the fault are fine (the cases fail for the reason given)
      expect((await f.call("PUT", "/api/v1/hosts/h1/tags", { token: f.tokens.operator, body: { tags: ["web"] } })).status).toBe(200);
      expect((await f.call("PATCH", `/api/v1/users/${s.viewerId}`, { token: f.tokens.admin, body: { role: "operator" } })).status).toBe(200);
    } finally {
      await ev.close();
    }
  }, 120_000);

  test("deeply nested and big JSON under the default 1 MiB limit: 400 naming the field, never a stack overflow; nothing changes", async () => {
    await using f = await managerFixture({ url: await url() });
    const s = await seed(f);
    const arrays = (n: number) => `${"[".repeat(n)}${"]".repeat(n)}`;
    const objects = (n: number) => `${'{"a":'.repeat(n)}1${"}".repeat(n)}`;
    const with_ = (valid: object, k: string, deep: string) => `{${JSON.stringify(valid).slice(1, -1)}${Object.keys(valid).length ? "," : ""}"${k}":${deep}}`;
    const plugin = { kind: "plugin", data_type: 2000, object_name: "scanner", target: { all: true } };
    const routes: [string, string, object, string][] = [
      ["POST", "/api/v1/user/login", { username: "viewer1" }, "password"],
      ["POST", "/api/v1/users", { username: "alice", role: "viewer" }, "password"],
      ["PATCH", `/api/v1/users/${s.viewerId}`, { role: "operator" }, "password"],
      ["PUT", "/api/v1/hosts/h1/tags", {}, "tags"],
      ["POST", "/api/v1/hosts/tags", { add: ["web"] }, "agent_ids"],
      ["POST", "/api/v1/tasks", plugin, "target"],
      ["PUT", "/api/v1/policies/all", {}, "components"],
    ];
    const cases: [string, string, string, string][] = [];
    for (const [m, p, valid, field] of routes) {
      for (const deep of [arrays(100_000), objects(100_000), arrays(1000)]) {
        cases.push([m, p, with_(valid, field, deep), `body.${field}`]);
        cases.push([m, p, with_({ ...valid, [field]: field === "password" ? "long-enough-1" : field === "target" ? { all: true } : ["h1"] }, "evil", deep), "unknown field(s) evil"]);
      }
    }
    for (const deep of [arrays(100_000), objects(100_000), arrays(33), objects(33), `{"a":"${"x".repeat(70_000)}"}`, `{"a":[${'"x",'.repeat(20_000)}"x"]}`]) {
      cases.push(["POST", "/api/v1/tasks", with_(plugin, "data", deep.startsWith("[") ? `{"a":${deep}}` : deep), "body.data"]);
    }
    const before = await state(f);
    const wrong: string[] = [];
    for (const [m, p, raw, msg] of cases) {
      const r = await f.call(m, p, { token: f.tokens.admin, raw, headers: { "content-type": "application/json" } });
      const label = `${m} ${p} ${raw.slice(0, 60)}… (${raw.length} bytes)`;
      if (r.status !== 400 || typeof r.body.msg !== "string" || !r.body.msg.includes(msg)) wrong.push(`${label} → ${r.status} ${JSON.stringify(r.body).slice(0, 200)} (wanted 400 with ${msg})`);
      if (!Bun.deepEquals(await state(f), before)) wrong.push(`${label} changed the repository`);
    }
    expect(wrong).toEqual([]);
    // the limits themselves are fine: 32 levels, 64 KiB of JSON
    const nest = (n: number): unknown => (n <= 1 ? { a: 1 } : { a: nest(n - 1) });
    for (const data of [nest(32), { a: "x".repeat(64 * 1024 - 16) }]) {
      const r = await f.call("POST", "/api/v1/tasks", { token: f.tokens.operator, body: { ...plugin, data } });
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body.data.task.data)).toEqual(data);
    }
    await f.app.services.dispatcher.idle();
  }, 60_000);

  test("injection strings that are valid input are data: 200, stored or matched verbatim, the database intact", async () => {
    const ev = await openStore();
    try {
      await using f = await fixtureOf(await url(), ev.store);
      const s = await seed(f);
      const names = async () => (await f.repo.listUsers()).map((u) => u.username).sort();
      const usersBefore = await names();
      const hostsBefore = (await f.repo.listHosts({}, { page: 1, size: 100 }, 0)).total;
      const nasty = `${SQL} ${XSS} ${TRAVERSAL} \\ % _ " \` $1 ?`;

      // a password with every injection string: stored (hashed), and it logs in
      const mk = await f.call("POST", "/api/v1/users", { token: f.tokens.admin, body: { username: "alice", password: nasty, role: "viewer" } });
      expect(mk.status).toBe(200);
      expect((await f.call("POST", "/api/v1/user/login", { body: { username: "alice", password: nasty } })).status).toBe(200);
      expect((await f.call("POST", "/api/v1/user/login", { body: { username: "alice", password: SQL_OR } })).status).toBe(401);
      expect(await names()).toEqual([...usersBefore, "alice"].sort());

      // a username that is an injection string: no such user (401), audited verbatim, found verbatim
      for (const u of [SQL, SQL_OR, XSS]) {
        const r = await f.call("POST", "/api/v1/user/login", { body: { username: u, password: SQL_OR } });
        expect(r.status).toBe(401);
        expect(r.body).toEqual({ code: 401, msg: "wrong username or password" });
      }
      const audit = await f.call("GET", `/api/v1/audit?actor=${enc(SQL)}&action=user.login_failed`, { token: f.tokens.admin });
      expect(audit.status).toBe(200);
      expect(audit.body.data.items.map((e: any) => [e.actor, e.target])).toEqual([[SQL, SQL]]);
      for (const [q, n] of [[`actor=${enc(SQL_OR)}`, 1], [`action=${enc(SQL)}`, 0], [`actor=${enc("%")}`, 0], [`actor=${enc("_lice")}`, 0]] as const) {
        const r = await f.call("GET", `/api/v1/audit?${q}`, { token: f.tokens.admin });
        expect(`${q} ${r.status} ${r.body.data.total}`).toBe(`${q} 200 ${n}`);
      }

      // host filters: matched as literal substrings (wildcards too), the hostile host found exactly
      const hosts = async (q: string) => {
        const r = await f.call("GET", `/api/v1/hosts?${q}`, { token: f.tokens.viewer });
        expect(`${q} → ${r.status}`).toBe(`${q} → 200`);
        return (r.body.data.items as { agent_id: string }[]).map((h) => h.agent_id);
      };
      expect(await hosts(`hostname=${enc(EVIL_HOST)}`)).toEqual([EVIL_HOST]);
      expect(await hosts(`hostname=${enc("'; DROP")}`)).toEqual([EVIL_HOST]);
      for (const v of [SQL_OR, XSS, TRAVERSAL, "%", "_", "\\", "host-h%", "host_h1"]) expect(await hosts(`hostname=${enc(v)}`)).toEqual([]);
      for (const v of [SQL, SQL_OR, XSS, TRAVERSAL, "%"]) {
        expect(await hosts(`ip=${enc(v)}`)).toEqual([]);
        expect(await hosts(`version=${enc(v)}`)).toEqual([]);
      }
      expect(await hosts("hostname=host-h")).toEqual(["h1", "h2"]);
      const one = await f.call("GET", `/api/v1/hosts/${enc(EVIL_HOST)}`, { token: f.tokens.viewer });
      expect(one.status).toBe(200);
      expect([one.body.data.agent_id, one.body.data.hostname]).toEqual([EVIL_HOST, EVIL_HOST]);

      // tagging the hostile host by its id: it is just an id
      const tag = await f.call("PUT", `/api/v1/hosts/${enc(EVIL_HOST)}/tags`, { token: f.tokens.operator, body: { tags: ["quarantine"] } });
      expect(tag.status).toBe(200);
      const bulk = await f.call("POST", "/api/v1/hosts/tags", { token: f.tokens.operator, body: { agent_ids: [EVIL_HOST, SQL_OR], add: ["web"] } });
      expect(bulk.status).toBe(200);
      expect(bulk.body.data.added).toBe(1);
      expect((await f.repo.getHost(EVIL_HOST))!.tags.sort()).toEqual(["quarantine", "web"]);
      expect(await hosts("tag=web")).toEqual([EVIL_HOST]);

      // task data: stored verbatim (string and JSON), targets the hostile host by id
      const task = await f.call("POST", "/api/v1/tasks", { token: f.tokens.operator, body: { kind: "plugin", data_type: 2000, object_name: "scanner", data: nasty, target: { agent_ids: [EVIL_HOST] } } });
      expect(task.status).toBe(200);
      expect(task.body.data.task.data).toBe(nasty);
      expect(task.body.data.task.target).toEqual({ agent_ids: [EVIL_HOST] });
      const obj = { path: TRAVERSAL, cmd: SQL, html: XSS, [SQL]: SQL_OR };
      const task2 = await f.call("POST", "/api/v1/tasks", { token: f.tokens.operator, body: { kind: "plugin", data_type: 2000, object_name: "scanner", data: obj, target: { tag: "quarantine" } } });
      expect(task2.status).toBe(200);
      await f.app.services.dispatcher.idle();
      expect((await f.repo.getTask(task.body.data.task.id))!.data).toBe(nasty);
      expect(JSON.parse((await f.repo.getTask(task2.body.data.task.id))!.data)).toEqual(obj);
      const sub = await f.call("GET", `/api/v1/tasks/${task.body.data.task.id}/subtasks`, { token: f.tokens.viewer });
      expect(sub.body.data.items.map((x: any) => x.agent_id)).toEqual([EVIL_HOST]);

      // events: injection strings as agent id and field values are matched exactly
      await ev.store.write(makeBatch({ agentId: EVIL_HOST, n: 1, fields: { exe: TRAVERSAL, argv: SQL, html: XSS } }));
      await ev.store.write(makeBatch({ agentId: "h1", n: 2 }));
      const events = async (q: string) => {
        const r = await f.call("GET", `/api/v1/events?${q}`, { token: f.tokens.viewer });
        expect(`${q} → ${r.status}`).toBe(`${q} → 200`);
        return (r.body.data.items as { agent_id: string; fields: Record<string, string> }[]);
      };
      expect((await events(`agent_id=${enc(EVIL_HOST)}`)).map((e) => e.fields.argv)).toEqual([SQL]);
      expect((await events(`field.exe=${enc(TRAVERSAL)}`)).map((e) => e.agent_id)).toEqual([EVIL_HOST]);
      expect((await events(`field.argv=${enc(SQL)}&field.html=${enc(XSS)}`)).length).toBe(1);
      for (const v of [SQL_OR, "%", "*", "../..", "/usr/bin/%"]) expect(await events(`field.exe=${enc(v)}`)).toEqual([]);
      expect((await events(`agent_id=${enc(SQL_OR)}`))).toEqual([]);

      // the database is intact: every user and host still there, the tables answer
      expect(await names()).toEqual([...usersBefore, "alice"].sort());
      expect((await f.repo.listHosts({}, { page: 1, size: 100 }, 0)).total).toBe(hostsBefore);
      expect((await f.repo.listTasks({ page: 1, size: 100 })).total).toBe(3);
      expect((await f.repo.listPolicies()).map((p) => p.components)).toEqual([[s.compId]]);
      expect((await f.repo.listComponents()).length).toBe(1);
      expect((await f.call("GET", "/api/v1/user/me", { token: f.tokens.admin })).status).toBe(200);
    } finally {
      await ev.close();
    }
  }, 60_000);
});

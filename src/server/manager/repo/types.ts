// The Manager's storage contract: domain types and the Repository interface that the HTTP
// routes use. Two implementations (repo/sqlite.ts, repo/postgres.ts, over the drizzle schemas in
// db/sqlite/ and db/pg/) must behave identically; test/server/manager/repo/*.test.ts runs the
// same cases against both. Times are unix milliseconds; ids are strings.
import type { AgentIdentity } from "../../../common/agent-identity.ts";

export type UserRole = "admin" | "operator" | "viewer";
export const USER_ROLES: readonly UserRole[] = ["admin", "operator", "viewer"];

export interface User {
  id: string;
  username: string;
  role: UserRole;
  passwordHash: string;
  createdAt: number;
  updatedAt: number;
}

export interface Session {
  /** sha256 hex of the bearer token (the token itself is never stored) */
  tokenHash: string;
  userId: string;
  createdAt: number;
  expiresAt: number;
  revokedAt: number | null;
  /** client address at login */
  remoteAddr: string;
}

/** A host as known from its heartbeats (1000) and plugin heartbeats (1001). */
export interface Host extends AgentIdentity {
  /** "ip:port" of the AC the agent is connected to (from the AC that saw the heartbeat) */
  acAddr: string;
  firstSeenAt: number;
  lastSeenAt: number;
  /** the latest agent heartbeat's fields (Elkeid's names + Vigil's counters) */
  facts: Record<string, string>;
  /** plugin name → the latest plugin heartbeat's fields */
  plugins: Record<string, Record<string, string>>;
  tags: string[];
}

/** online = a heartbeat within the offline threshold (the Manager's setting, default 3 min). */
export type HostState = "online" | "offline";

export interface HostFilter {
  /** substring of the hostname */
  hostname?: string;
  /** exact address in any of the four address lists */
  ip?: string;
  state?: HostState;
  tag?: string;
  version?: string;
  /** agent ids (exact) */
  agentIds?: string[];
}

export interface Page {
  /** 1-based */
  page: number;
  /** rows per page, at most 1000 */
  size: number;
}

export interface HostHeartbeat extends AgentIdentity {
  acAddr: string;
  at: number;
  /** set for a plugin heartbeat (1001): its name; its fields go to plugins[name] */
  plugin?: string;
  fields: Record<string, string>;
}

export type TaskKind = "agent_ctrl" | "plugin" | "config_sync";
export type TaskState = "created" | "dispatching" | "dispatched" | "cancelled";
export type SubTaskStatus = "created" | "sent" | "succeeded" | "failed" | "timed_out" | "cancelled";
export const FINAL_SUBTASK_STATES: readonly SubTaskStatus[] = ["succeeded", "failed", "timed_out", "cancelled"];

/** Which agents a task is for. */
export type TaskTarget = { all: true } | { agentIds: string[] } | { tag: string };

export interface Task {
  id: string;
  kind: TaskKind;
  /** agent_ctrl: 1050/1051/1060; plugin: the plugin's data_type */
  dataType: number;
  /** "vigil-agent" for agent control, else the plugin's name */
  objectName: string;
  /** the task's data (JSON text for agent tasks) */
  data: string;
  target: TaskTarget;
  state: TaskState;
  createdBy: string;
  createdAt: number;
  updatedAt: number;
  /** a sub-task not final after this many ms is timed_out */
  timeoutMs: number;
}

export interface SubTask {
  taskId: string;
  agentId: string;
  /** the token sent in Task.token; the 5100 result carries it back (unique) */
  token: string;
  status: SubTaskStatus;
  msg: string;
  updatedAt: number;
}

export type ComponentType = "agent" | "plugin";

export interface Component {
  id: string;
  name: string;
  type: ComponentType;
  version: string;
  sha256: string;
  size: number;
  /** where the Manager keeps the file (under its data dir) */
  path: string;
  createdBy: string;
  createdAt: number;
}

/** The desired component set for all hosts (scope "all") or for one tag ("tag:<name>"). */
export interface Policy {
  scope: string;
  /** component ids */
  components: string[];
  updatedBy: string;
  updatedAt: number;
}

export interface AuditEntry {
  id: string;
  at: number;
  /** username, or "system" */
  actor: string;
  /** e.g. "user.create", "task.create", "host.tag", "component.upload" */
  action: string;
  /** what was changed (an id or name) */
  target: string;
  detail: Record<string, unknown>;
  remoteAddr: string;
}

export interface AuditFilter {
  actor?: string;
  action?: string;
  since?: number;
  until?: number;
}

/** Thrown for a unique-constraint violation (duplicate username, component version…). */
export class ConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConflictError";
  }
}

/**
 * Every method is atomic. list* methods return one page and the total count of matching rows.
 * Implementations: sqlite (bun:sqlite through drizzle) and postgres (postgres-js through drizzle).
 */
export interface Repository {
  readonly dialect: "sqlite" | "postgres";

  // users and sessions
  createUser(u: Omit<User, "id" | "createdAt" | "updatedAt">): Promise<User>; // ConflictError on a taken username
  getUserByName(username: string): Promise<User | undefined>;
  getUser(id: string): Promise<User | undefined>;
  listUsers(): Promise<User[]>;
  updateUser(id: string, patch: Partial<Pick<User, "role" | "passwordHash">>): Promise<User | undefined>;
  deleteUser(id: string): Promise<boolean>; // also revokes its sessions
  countUsers(): Promise<number>;
  createSession(s: Omit<Session, "revokedAt">): Promise<void>;
  getSession(tokenHash: string): Promise<Session | undefined>;
  revokeSession(tokenHash: string, at: number): Promise<boolean>;
  revokeUserSessions(userId: string, at: number): Promise<number>;

  // hosts
  /** insert or update from heartbeats, in one transaction for the whole list */
  recordHeartbeats(hbs: HostHeartbeat[]): Promise<void>;
  getHost(agentId: string): Promise<Host | undefined>;
  /** onlineSince: lastSeenAt ≥ this means online (the caller computes it from the threshold) */
  listHosts(f: HostFilter, page: Page, onlineSince: number): Promise<{ total: number; items: Host[] }>;
  /** agent ids matching a filter, without paging (task targets) */
  hostIds(f: HostFilter, onlineSince: number): Promise<string[]>;
  setTags(agentId: string, tags: string[]): Promise<boolean>;
  addTags(agentIds: string[], tags: string[]): Promise<number>;
  removeTags(agentIds: string[], tags: string[]): Promise<number>;
  countHosts(onlineSince: number): Promise<{ total: number; online: number }>;

  // tasks
  createTask(t: Omit<Task, "id" | "createdAt" | "updatedAt">, agentIds: string[], tokenFor: (agentId: string) => string): Promise<{ task: Task; subtasks: number }>;
  getTask(id: string): Promise<Task | undefined>;
  listTasks(page: Page): Promise<{ total: number; items: Task[] }>;
  setTaskState(id: string, state: TaskState, at: number): Promise<boolean>;
  listSubTasks(taskId: string, page: Page, status?: SubTaskStatus): Promise<{ total: number; items: SubTask[] }>;
  /** status counts of one task's sub-tasks */
  subTaskSummary(taskId: string): Promise<Record<SubTaskStatus, number>>;
  /** set many sub-tasks of one task (e.g. "sent" after dispatch), only those not final */
  setSubTasks(taskId: string, agentIds: string[], status: SubTaskStatus, msg: string, at: number): Promise<number>;
  /** a 5100 result: by token; ignored (false) if unknown or already final */
  completeSubTask(token: string, status: "succeeded" | "failed", msg: string, at: number): Promise<boolean>;
  /** mark sub-tasks created/sent before `before` (per their task's timeoutMs) timed_out; returns how many */
  expireSubTasks(now: number): Promise<number>;
  /** cancel: the task and its non-final sub-tasks */
  cancelTask(id: string, at: number): Promise<boolean>;

  // components and policies
  createComponent(c: Omit<Component, "id" | "createdAt">): Promise<Component>; // ConflictError on (name, version)
  getComponent(id: string): Promise<Component | undefined>;
  listComponents(f?: { name?: string; type?: ComponentType }): Promise<Component[]>;
  deleteComponent(id: string): Promise<boolean>;
  setPolicy(p: Policy): Promise<void>;
  getPolicy(scope: string): Promise<Policy | undefined>;
  listPolicies(): Promise<Policy[]>;
  deletePolicy(scope: string): Promise<boolean>;

  // audit
  audit(e: Omit<AuditEntry, "id">): Promise<void>;
  listAudit(f: AuditFilter, page: Page): Promise<{ total: number; items: AuditEntry[] }>;

  // upkeep
  /**
   * Refresh the query planner's statistics of the growing tables now (ANALYZE). The
   * implementations also do it by themselves, in the background, after big growth
   * (repo/stats-upkeep.ts); this is for benchmarks, tests and bulk imports.
   */
  refreshStats(): Promise<void>;

  close(): Promise<void>;
}

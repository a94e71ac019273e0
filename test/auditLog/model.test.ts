/**
 * Model-based test of auditLog + authz together (issue 11, "make the suite
 * find the next ones"). fast-check generates command sequences — grants,
 * revokes and expiring grants, clock steps, admin writes under row rules,
 * out-of-band writes, reads, seals, retention runs, verifies — and runs them
 * in convex-test with Convex's transaction limits on, against a small
 * in-memory model. Then it tampers with the stored log once (edit, delete,
 * add, reorder, truncate, id swap, pre-seal delete/add) and checks:
 *
 * - no denied read or write ever succeeds, and no allowed one is refused;
 * - `verify` never reports a problem on an untampered log, reports every
 *   tamper, and points at the operations that were tampered with.
 *
 * CI runs a fixed seed; `npm run test:deep` (OPSKIT_DEEP=1) runs many more.
 */
import {
  anyApi,
  defineSchema,
  defineTable,
  internalMutationGeneric,
  mutationGeneric,
  queryGeneric,
  type DataModelFromSchemaDefinition,
  type MutationBuilder,
  type QueryBuilder,
} from "convex/server";
import { convexTest } from "convex-test";
import { ConvexError, v } from "convex/values";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { AuditLog } from "../../src/auditLog/client.js";
import type { ChainProblem } from "../../src/auditLog/client.js";
import { Authz, defineRules } from "../../src/authz/client.js";
import opskit, { registerAll } from "../../src/test.js";
import { components, FUNCTION_CLOCK_SLACK_MS } from "../helpers.js";
import * as self from "./model.test.js";

const DEEP = process.env.OPSKIT_DEEP === "1";
const RUNS = DEEP ? 2000 : 160;
// Taken at load, before the fake clock: deep runs explore a new seed each time
// (fast-check prints it with any counterexample).
const DEEP_SEED = Date.now();

const api = anyApi["model.test"];

// ---------------------------------------------------------------- the app

const schema = defineSchema({
  tasks: defineTable({ projectId: v.string(), title: v.string() }),
});
type DataModel = DataModelFromSchemaDefinition<typeof schema>;
const mutation = mutationGeneric as MutationBuilder<DataModel, "public">;
const internalMutation = internalMutationGeneric as MutationBuilder<
  DataModel,
  "internal"
>;
const query = queryGeneric as QueryBuilder<DataModel, "public">;

const scoped = (p: string) => ({ scope: `project:${p}` });
const authz = new Authz(components.authz, {
  roles: { lead: ["tasks.read", "tasks.write"], viewer: ["tasks.read"] },
  rules: defineRules<DataModel>({
    tasks: {
      read: (ctx, t) => ctx.authz.can("tasks.read", scoped(t.projectId)),
      insert: (ctx, t) => ctx.authz.can("tasks.write", scoped(t.projectId)),
      modify: async (ctx, b, a) =>
        b.projectId === a.projectId &&
        (await ctx.authz.can("tasks.write", scoped(b.projectId))),
      delete: (ctx, t) => ctx.authz.can("tasks.write", scoped(t.projectId)),
    },
  }),
});
const MAX_AGE_MS = 12_000;
const auditLog = new AuditLog<DataModel>(components.auditLog, {
  reason: { minLength: 3 },
  retention: { maxAgeMs: MAX_AGE_MS },
});
const adminMutation = auditLog.adminMutation(authz);
const userQuery = authz.query(query);

export const adminWrite = adminMutation({
  permission: "tasks.write",
  scope: ({ claimed }) => `project:${claimed}`,
  tables: ["tasks"],
  args: {
    claimed: v.string(),
    op: v.union(v.literal("insert"), v.literal("patch"), v.literal("delete")),
    taskId: v.optional(v.id("tasks")),
    into: v.optional(v.string()),
    title: v.string(),
  },
  returns: v.union(v.id("tasks"), v.null()),
  handler: async (ctx, { op, taskId, into, title }) => {
    if (op === "insert")
      return ctx.db.insert("tasks", { projectId: into!, title });
    if (op === "patch") await ctx.db.patch(taskId!, { title });
    else await ctx.db.delete(taskId!);
    return null;
  },
});
export const visibleTasks = userQuery({
  args: {},
  returns: v.array(v.string()),
  handler: async (ctx) =>
    (await ctx.db.query("tasks").collect()).map((t) => t._id as string),
});
export const revertOp = mutation({
  args: { operationId: v.string(), claimed: v.string() },
  returns: v.object({
    operationId: v.optional(v.string()),
    recreated: v.array(v.string()),
  }),
  handler: async (ctx, { operationId, claimed }) => {
    const r = await auditLog.revert(ctx, {
      operationId,
      reason: "model revert",
      authorizer: authz,
      permission: "tasks.write",
      scope: `project:${claimed}`,
    });
    return {
      operationId: r.operationId,
      recreated: r.recreated.map((x) => x.newDocId),
    };
  },
});
export const lastOperationId = query({
  args: {},
  returns: v.string(),
  handler: async (ctx) =>
    (
      await auditLog.listOperations(ctx, {
        paginationOpts: { numItems: 1, cursor: null },
      })
    ).page[0].operationId,
});
export const oobInsert = mutation({
  args: { projectId: v.string(), title: v.string() },
  returns: v.id("tasks"),
  handler: async (ctx, args) => ctx.db.insert("tasks", args),
});
export const oobPatch = mutation({
  args: { taskId: v.id("tasks"), title: v.string() },
  returns: v.null(),
  handler: async (ctx, { taskId, title }) => {
    await ctx.db.patch(taskId, { title });
    return null;
  },
});
export const task = query({
  args: { taskId: v.id("tasks") },
  returns: v.any(),
  handler: async (ctx, { taskId }) => ctx.db.get(taskId),
});
export const grant = mutation({
  args: {
    userId: v.string(),
    role: v.union(v.literal("lead"), v.literal("viewer")),
    scope: v.optional(v.string()),
    expiresAt: v.optional(v.number()),
  },
  returns: v.null(),
  handler: async (ctx, args) => {
    await authz.grant(ctx, args);
    return null;
  },
});
export const revoke = mutation({
  args: {
    userId: v.string(),
    role: v.union(v.literal("lead"), v.literal("viewer")),
    scope: v.string(),
  },
  returns: v.null(),
  handler: async (ctx, args) => {
    await authz.revoke(ctx, args);
    return null;
  },
});
export const seal = internalMutation({
  args: {},
  returns: v.null(),
  handler: async (ctx) => {
    for (let i = 0; i < 20; i++) if (!(await auditLog.seal(ctx)).more) break;
    return null;
  },
});
export const retention = internalMutation({
  args: {},
  returns: v.null(),
  handler: async (ctx) => {
    await auditLog.runRetention(ctx);
    return null;
  },
});
export const retentionRunning = query({
  args: {},
  returns: v.boolean(),
  handler: async (ctx) =>
    (await auditLog.retentionRuns(ctx, { limit: 5 })).some(
      (r) => r.status === "running",
    ),
});
/** Test-only: runs a tamper function installed in the component (./tamper.ts, ./modelTamper.ts). */
export const tamperCall = mutation({
  args: { module: v.string(), fn: v.string(), args: v.any() },
  returns: v.any(),
  handler: async (ctx, { module, fn, args }) =>
    ctx.runMutation(
      (components.auditLog as unknown as Record<string, Record<string, never>>)[
        module
      ][fn],
      args as never,
    ),
});
export const rawRows = query({
  args: { table: v.string() },
  returns: v.any(),
  handler: async (ctx, { table }) =>
    ctx.runQuery(
      (components.auditLog as unknown as Record<string, Record<string, never>>)
        .tamper.rows,
      { table } as never,
    ),
});
export const verify = query({
  args: {},
  returns: v.any(),
  handler: async (ctx) => auditLog.verify(ctx, {}),
});

// ---------------------------------------------------------------- harness

const ISSUER = "https://auth.example.com";
const uid = (u: string) => `${ISSUER}|${u}`;
const USERS = ["ann", "bob", "cyd"] as const;
const PROJECTS = ["A", "B"] as const;
const ROOT = "root";
const T0 = Date.UTC(2026, 5, 1);

function setup() {
  const t = convexTest({
    schema,
    modules: {
      "./model.test.ts": async () => self,
      "./_generated/api.ts": async () => ({}),
    },
    transactionLimits: true,
  });
  registerAll(t);
  t.registerComponent("auditLog", opskit.auditLog.schema, {
    ...opskit.auditLog.modules,
    "./auditLog/component/tamper.ts": () => import("./tamper.js"),
    "./auditLog/component/modelTamper.ts": () => import("./modelTamper.js"),
  });
  return t;
}
type T = ReturnType<typeof setup>;

/** Calls a tamper function of ./tamper.ts or ./modelTamper.ts inside the component. */
const tamperWith =
  (module: "tamper" | "modelTamper") =>
  (t: T, fn: string, args: Record<string, unknown>) =>
    t.mutation(api.tamperCall, { module, fn, args });
const tamper = tamperWith("tamper");
const forge = tamperWith("modelTamper");

async function outcome(p: Promise<unknown>): Promise<"ok" | string> {
  try {
    await p;
    return "ok";
  } catch (e) {
    if (e instanceof ConvexError)
      return (e.data as { code: string }).code ?? "ConvexError";
    throw e;
  }
}

/** Runs due scheduled work (seal continuations, retention batches) without moving the clock. */
async function drain(t: T) {
  for (let i = 0; i < 30; i++) {
    // Work scheduled "now" by a function whose clock led the fake clock (convex-test 0.0.71 runs
    // a function at the later of the fake clock and the last commit) is due up to 1 ms later.
    vi.advanceTimersByTime(i === 0 ? 0 : FUNCTION_CLOCK_SLACK_MS);
    await t.finishInProgressScheduledFunctions();
    if (!(await t.query(api.retentionRunning, {}))) return;
  }
  throw new Error("retention did not finish");
}

// ---------------------------------------------------------------- model

type Task = { id: string; project: string; title: string; live: boolean };
/** A task's state as a recorded entry holds it (null: did not exist). */
type State = { title: string } | null;
/** A recorded operation: one entry (or none), for reverts. */
type Op = {
  id: string;
  time: number;
  entry: {
    taskId: string;
    project: string;
    before: State;
    after: State;
  } | null;
  /** Deleted by retention. */
  gone: boolean;
};
type Model = {
  now: number;
  /** `${user}|${role}|${project}` → expiry (undefined: none). */
  grants: Map<string, number | undefined>;
  tasks: Task[];
  ops: Op[];
};
type Real = { t: T };

function holds(m: Model, user: string, role: string, project: string) {
  const key = `${user}|${role}|${project}`;
  if (!m.grants.has(key)) return false;
  const exp = m.grants.get(key);
  return exp === undefined || exp > m.now;
}
const canWrite = (m: Model, u: string, p: string) => holds(m, u, "lead", p);
const canRead = (m: Model, u: string, p: string) =>
  holds(m, u, "lead", p) || holds(m, u, "viewer", p);

type Cmd = fc.AsyncCommand<Model, Real>;

class GrantCmd implements Cmd {
  constructor(
    readonly user: string,
    readonly role: "lead" | "viewer",
    readonly project: string,
    readonly ttl: number | undefined,
  ) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const expiresAt = this.ttl === undefined ? undefined : m.now + this.ttl;
    await r.t.mutation(api.grant, {
      userId: uid(this.user),
      role: this.role,
      scope: `project:${this.project}`,
      ...(expiresAt !== undefined ? { expiresAt } : {}),
    });
    m.grants.set(`${this.user}|${this.role}|${this.project}`, expiresAt);
  }
  toString = () =>
    `grant(${this.user},${this.role},${this.project},ttl=${this.ttl})`;
}

class RevokeCmd implements Cmd {
  constructor(
    readonly user: string,
    readonly role: "lead" | "viewer",
    readonly project: string,
  ) {}
  check = () => true;
  async run(m: Model, r: Real) {
    await r.t.mutation(api.revoke, {
      userId: uid(this.user),
      role: this.role,
      scope: `project:${this.project}`,
    });
    m.grants.delete(`${this.user}|${this.role}|${this.project}`);
  }
  toString = () => `revoke(${this.user},${this.role},${this.project})`;
}

class ClockCmd implements Cmd {
  constructor(readonly ms: number) {}
  check = () => true;
  async run(m: Model) {
    m.now += this.ms;
    vi.setSystemTime(m.now);
  }
  toString = () => `clock(+${this.ms})`;
}

class OobInsertCmd implements Cmd {
  constructor(readonly project: string) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const id = await r.t.mutation(api.oobInsert, {
      projectId: this.project,
      title: "seed",
    });
    m.tasks.push({ id, project: this.project, title: "seed", live: true });
  }
  toString = () => `oobInsert(${this.project})`;
}

class OobPatchCmd implements Cmd {
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>) => m.tasks.some((t) => t.live);
  async run(m: Model, r: Real) {
    const live = m.tasks.filter((t) => t.live);
    const task = live[this.pick % live.length];
    await r.t.mutation(api.oobPatch, { taskId: task.id, title: "oob" });
    task.title = "oob";
  }
  toString = () => `oobPatch(#${this.pick})`;
}

class AdminWriteCmd implements Cmd {
  constructor(
    readonly user: string,
    readonly claimed: string,
    readonly op: "insert" | "patch" | "delete",
    readonly pick: number,
    readonly into: string,
  ) {}
  check = (m: Readonly<Model>) =>
    this.op === "insert" || m.tasks.some((t) => t.live);
  async run(m: Model, r: Real) {
    const live = m.tasks.filter((t) => t.live);
    const task =
      this.op === "insert" ? undefined : live[this.pick % live.length];
    const target = task?.project ?? this.into;
    const allowed =
      canWrite(m, this.user, this.claimed) && canWrite(m, this.user, target);
    const title = `by ${this.user} at ${m.now}`;
    let newId: string | null = null;
    const got = await outcome(
      r.t
        .withIdentity({ subject: this.user, issuer: ISSUER })
        .mutation(api.adminWrite, {
          claimed: this.claimed,
          op: this.op,
          ...(task ? { taskId: task.id } : { into: this.into }),
          title,
          reason: "model write",
        })
        .then((id) => {
          newId = id as string | null;
        }),
    );
    // The invariant: a denied write never succeeds, an allowed one is never refused.
    expect(got, `${this} (allowed=${allowed})`).toBe(
      allowed ? "ok" : "FORBIDDEN",
    );
    if (!allowed) {
      if (task)
        expect(await r.t.query(api.task, { taskId: task.id })).toMatchObject({
          title: task.title,
        });
      return;
    }
    const before: State = task ? { title: task.title } : null;
    if (this.op === "insert")
      m.tasks.push({ id: newId!, project: this.into, title, live: true });
    else if (this.op === "patch") task!.title = title;
    else task!.live = false;
    m.ops.push({
      id: await r.t.query(api.lastOperationId, {}),
      time: m.now,
      entry: {
        taskId: task?.id ?? newId!,
        project: target,
        before,
        after: this.op === "delete" ? null : { title },
      },
      gone: false,
    });
  }
  toString = () =>
    `admin(${this.user},claims ${this.claimed},${this.op},#${this.pick},into ${this.into})`;
}

class ReadCmd implements Cmd {
  constructor(readonly user: string) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const got = await r.t
      .withIdentity({ subject: this.user, issuer: ISSUER })
      .query(api.visibleTasks, {});
    const expected = m.tasks
      .filter((t) => t.live && canRead(m, this.user, t.project))
      .map((t) => t.id);
    // No denied read succeeds; no allowed row is hidden.
    expect([...got].sort(), String(this)).toEqual([...expected].sort());
  }
  toString = () => `read(${this.user})`;
}

class RevertCmd implements Cmd {
  constructor(
    readonly user: string,
    readonly claimed: string,
    readonly pick: number,
  ) {}
  check = (m: Readonly<Model>) => m.ops.length > 0;
  async run(m: Model, r: Real) {
    const op = m.ops[this.pick % m.ops.length];
    const e = op.entry;
    const task = e ? m.tasks.find((t) => t.id === e.taskId) : undefined;
    const current: State = task?.live ? { title: task.title } : null;
    const same = (a: State, b: State) =>
      a === null || b === null ? a === b : a.title === b.title;
    // What revert must answer, in the order it checks.
    let expected: string;
    if (!canWrite(m, this.user, this.claimed)) expected = "FORBIDDEN";
    else if (op.gone) expected = "NOT_FOUND";
    else if (!e) expected = "ok";
    else if (current !== null && !canRead(m, this.user, e.project))
      expected = "FORBIDDEN";
    else if (!same(e.after, current)) expected = "CONFLICT";
    else if (e.before === null && current === null) expected = "ok";
    else if (!canWrite(m, this.user, e.project)) expected = "FORBIDDEN";
    else expected = "ok";
    let result: { operationId?: string; recreated: string[] } | undefined;
    const got = await outcome(
      r.t
        .withIdentity({ subject: this.user, issuer: ISSUER })
        .mutation(api.revertOp, { operationId: op.id, claimed: this.claimed })
        .then((x) => {
          result = x;
        }),
    );
    expect(got, `${this} on ${JSON.stringify(op)} (now ${m.now})`).toBe(
      expected,
    );
    if (got !== "ok") return;
    let entry: Op["entry"] = null;
    if (e && !(e.before === null && current === null)) {
      if (e.before === null) {
        task!.live = false;
        entry = { ...e, before: current, after: null };
      } else if (current === null) {
        const id = result!.recreated[0];
        m.tasks.push({
          id,
          project: e.project,
          title: e.before.title,
          live: true,
        });
        entry = {
          taskId: id,
          project: e.project,
          before: null,
          after: e.before,
        };
      } else {
        task!.title = e.before.title;
        entry = { ...e, before: current, after: e.before };
      }
    }
    m.ops.push({ id: result!.operationId!, time: m.now, entry, gone: false });
  }
  toString = () =>
    `revert(${this.user},claims ${this.claimed},op#${this.pick})`;
}

class SealCmd implements Cmd {
  check = () => true;
  async run(_m: Model, r: Real) {
    await r.t.mutation(api.seal, {});
  }
  toString = () => "seal";
}

class RetentionCmd implements Cmd {
  check = () => true;
  async run(m: Model, r: Real) {
    await r.t.mutation(api.retention, {});
    await drain(r.t);
    for (const op of m.ops) if (op.time < m.now - MAX_AGE_MS) op.gone = true;
  }
  toString = () => "retention";
}

class VerifyCmd implements Cmd {
  check = () => true;
  async run(_m: Model, r: Real) {
    const result = await r.t.query(api.verify, {});
    // Never a false report on an untampered log.
    expect(result.problems, "verify on an untampered log").toEqual([]);
    expect(result.ok).toBe(true);
  }
  toString = () => "verify";
}

const user = fc.constantFrom(...USERS);
const project = fc.constantFrom(...PROJECTS);
const role = fc.constantFrom("lead" as const, "viewer" as const);
// Expiries sit 500 ms off the clock's 1000 ms grid, so no check ever lands
// within a millisecond of an expiry (convex-test 0.0.71 may run 1 ms ahead).
const ttl = fc.option(fc.constantFrom(1500, 3500, 7500), { nil: undefined });
const commands = fc.commands(
  [
    fc
      .tuple(user, role, project, ttl)
      .map(([u, r, p, x]) => new GrantCmd(u, r, p, x)),
    fc.tuple(user, role, project).map(([u, r, p]) => new RevokeCmd(u, r, p)),
    fc.constantFrom(1000, 2000, 5000).map((ms) => new ClockCmd(ms)),
    project.map((p) => new OobInsertCmd(p)),
    fc.nat(20).map((n) => new OobPatchCmd(n)),
    fc
      .tuple(
        user,
        project,
        fc.constantFrom("insert" as const, "patch" as const, "delete" as const),
        fc.nat(20),
        project,
      )
      .map(([u, c, op, n, into]) => new AdminWriteCmd(u, c, op, n, into)),
    fc
      .tuple(
        user,
        project,
        fc.constantFrom("insert" as const, "patch" as const, "delete" as const),
        fc.nat(20),
        project,
      )
      .map(([u, c, op, n, into]) => new AdminWriteCmd(u, c, op, n, into)),
    user.map((u) => new ReadCmd(u)),
    fc
      .tuple(user, project, fc.nat(40))
      .map(([u, c, n]) => new RevertCmd(u, c, n)),
    fc
      .tuple(user, project, fc.nat(40))
      .map(([u, c, n]) => new RevertCmd(u, c, n)),
    fc.constant(new SealCmd()),
    fc.constant(new RetentionCmd()),
    fc.constant(new VerifyCmd()),
  ],
  { maxCommands: 30, size: "max" },
);

/** Standing lead grants a run starts with, so admin writes are often allowed. */
const baseGrants = fc.subarray(
  USERS.flatMap((u) => PROJECTS.map((p) => [u, p] as const)),
  { minLength: 1 },
);

// ---------------------------------------------------------------- tampering

const SEALED_TAMPERS = [
  "editEntry",
  "editOperation",
  "deleteEntry",
  "deleteOperation",
  "addEntry",
  "reorder",
  "truncate",
] as const;
/** Tampering before a seal, and swapping two entries' ids (issue 11 item 3). */
const PENDING_AND_ID_TAMPERS = [
  "idSwap",
  "preSealDeleteLast",
  "preSealAdd",
  // A pending operation's own row edited, or passed off as a 0.1 row.
  "preSealEditOperation",
  "preSealDowngrade",
] as const;
const PRE_SEAL: readonly Tamper[] = [
  "preSealDeleteLast",
  "preSealAdd",
  "preSealEditOperation",
  "preSealDowngrade",
];
type Tamper =
  (typeof SEALED_TAMPERS)[number] | (typeof PENDING_AND_ID_TAMPERS)[number];
const TAMPERS: readonly Tamper[] = [
  ...SEALED_TAMPERS,
  ...PENDING_AND_ID_TAMPERS,
];

type OpRow = {
  _id: string;
  seq?: number;
  sealed: boolean;
  entryCount: number;
};
type EntryRow = { _id: string; operationId: string; index: number };

/**
 * Applies one tamper and returns the seqs a report may name (the tampered
 * operations, their successors, the head), or null when the log had nothing
 * this kind of tamper applies to.
 */
async function applyTamper(
  t: T,
  kind: Tamper,
  pick: number,
  pick2: number,
): Promise<Set<number> | null> {
  if (PRE_SEAL.includes(kind)) {
    // A fresh pending operation by a user who may write: tamper before sealing.
    await t.mutation(api.grant, { userId: uid(ROOT), role: "lead" });
    await t
      .withIdentity({ subject: ROOT, issuer: ISSUER })
      .mutation(api.adminWrite, {
        claimed: "A",
        op: "insert",
        into: "A",
        title: "pending",
        reason: "pending op",
      });
  }
  const ops = (await t.query(api.rawRows, {
    table: "operations",
  })) as OpRow[];
  const entries = (await t.query(api.rawRows, {
    table: "entries",
  })) as EntryRow[];
  const sealed = ops.filter((o) => o.sealed).sort((a, b) => a.seq! - b.seq!);
  const headSeq = sealed.length ? sealed[sealed.length - 1].seq! : 0;
  const entriesOf = (opId: string) =>
    entries
      .filter((e) => e.operationId === opId)
      .sort((a, b) => a.index - b.index);
  const near = (...seqs: number[]) =>
    new Set([...seqs, ...seqs.map((s) => s + 1), headSeq]);

  if (PRE_SEAL.includes(kind)) {
    const pending = ops.find((o) => !o.sealed)!;
    const es = entriesOf(pending._id);
    if (kind === "preSealEditOperation")
      await tamper(t, "patchOperation", {
        operationId: pending._id,
        patch: { reason: "nothing to see here" },
      });
    else if (kind === "preSealDowngrade")
      await tamper(t, "unsetOperationFields", {
        operationId: pending._id,
        fields: ["format", "entryHashes", "appendHash"],
      });
    else if (kind === "preSealDeleteLast")
      await tamper(t, "deleteEntry", {
        entryId: es[es.length - 1]._id,
      });
    else
      await forge(t, "forgeEntry", {
        entryId: es[0]._id,
        index: es.length,
      });
    await t.mutation(api.seal, {});
    const after = (
      (await t.query(api.rawRows, { table: "operations" })) as OpRow[]
    ).find((o) => o._id === pending._id)!;
    return near(after.seq ?? headSeq + 1);
  }

  const withEntries = sealed.filter((o) => entriesOf(o._id).length > 0);
  switch (kind) {
    case "editEntry": {
      if (!withEntries.length) return null;
      const op = withEntries[pick % withEntries.length];
      const es = entriesOf(op._id);
      await tamper(t, "patchEntry", {
        entryId: es[pick2 % es.length]._id,
        patch: { after: { title: "rewritten history" } },
      });
      return near(op.seq!);
    }
    case "editOperation": {
      if (!sealed.length) return null;
      const op = sealed[pick % sealed.length];
      await tamper(t, "patchOperation", {
        operationId: op._id,
        patch: { reason: "nothing to see here" },
      });
      return near(op.seq!);
    }
    case "deleteEntry": {
      if (!withEntries.length) return null;
      const op = withEntries[pick % withEntries.length];
      const es = entriesOf(op._id);
      await tamper(t, "deleteEntry", {
        entryId: es[pick2 % es.length]._id,
      });
      return near(op.seq!);
    }
    case "deleteOperation": {
      if (!sealed.length) return null;
      const op = sealed[pick % sealed.length];
      for (const e of entriesOf(op._id))
        await tamper(t, "deleteEntry", { entryId: e._id });
      await tamper(t, "deleteOperation", { operationId: op._id });
      return near(op.seq!);
    }
    case "addEntry": {
      if (!withEntries.length) return null;
      const op = withEntries[pick % withEntries.length];
      const es = entriesOf(op._id);
      await forge(t, "forgeEntry", {
        entryId: es[0]._id,
        index: es.length + (pick2 % 2),
      });
      return near(op.seq!);
    }
    case "reorder": {
      if (sealed.length < 2) return null;
      const i = pick % sealed.length;
      const j = (i + 1 + (pick2 % (sealed.length - 1))) % sealed.length;
      const [a, b] = [sealed[i], sealed[j]];
      await tamper(t, "patchOperation", {
        operationId: a._id,
        patch: { seq: b.seq },
      });
      await tamper(t, "patchOperation", {
        operationId: b._id,
        patch: { seq: a.seq },
      });
      return near(a.seq!, b.seq!);
    }
    case "truncate": {
      if (!sealed.length) return null;
      const k = 1 + (pick % sealed.length);
      const cut = sealed.slice(sealed.length - k);
      for (const op of cut) {
        for (const e of entriesOf(op._id))
          await tamper(t, "deleteEntry", { entryId: e._id });
        await tamper(t, "deleteOperation", { operationId: op._id });
      }
      return near(cut[0].seq!);
    }
    case "idSwap": {
      const sealedEntries = withEntries.flatMap((o) => entriesOf(o._id));
      if (sealedEntries.length < 2) return null;
      const a = sealedEntries[pick % sealedEntries.length];
      const rest = sealedEntries.filter((e) => e._id !== a._id);
      const b = rest[pick2 % rest.length];
      await forge(t, "swapEntries", { a: a._id, b: b._id });
      const seqOf = (e: EntryRow) =>
        sealed.find((o) => o._id === e.operationId)!.seq!;
      return near(seqOf(a), seqOf(b));
    }
    case "preSealDeleteLast":
    case "preSealAdd":
    case "preSealEditOperation":
    case "preSealDowngrade":
      // Handled above, before the seal.
      return null;
  }
}

// ---------------------------------------------------------------- the property

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(T0);
});
afterEach(() => {
  vi.useRealTimers();
});

describe("auditLog + authz, model-based", () => {
  test(
    `random admin/out-of-band writes, grants, expiry, seals, retention and one tamper (${RUNS} runs)`,
    async () => {
      await fc.assert(
        fc.asyncProperty(
          baseGrants,
          commands,
          fc.constantFrom(...TAMPERS),
          fc.nat(),
          fc.nat(),
          async (base, cmds, tamper, pick, pick2) => {
            vi.setSystemTime(T0);
            const t = setup();
            const model: Model = {
              now: T0,
              grants: new Map(),
              tasks: [],
              ops: [],
            };
            for (const [u, p] of base)
              await new GrantCmd(u, "lead", p, undefined).run(model, { t });
            await fc.asyncModelRun(() => ({ model, real: { t } }), cmds);
            // Two more operations by a global lead (outside the model's
            // users), so every tamper kind has sealed history to hit.
            await t.mutation(api.grant, { userId: uid(ROOT), role: "lead" });
            for (const into of PROJECTS)
              await t
                .withIdentity({ subject: ROOT, issuer: ISSUER })
                .mutation(api.adminWrite, {
                  claimed: into,
                  op: "insert",
                  into,
                  title: "root",
                  reason: "root write",
                });
            await t.mutation(api.seal, {});
            const clean = await t.query(api.verify, {});
            expect(clean.problems).toEqual([]);
            const allowed = await applyTamper(t, tamper, pick, pick2);
            if (allowed === null) return;
            const result = await t.query(api.verify, {});
            expect(result.ok, `${tamper} went unnoticed`).toBe(false);
            for (const p of result.problems as ChainProblem[])
              expect(
                allowed.has((p as { seq: number }).seq),
                `${tamper}: a report names seq ${(p as { seq: number }).seq}, not a tampered one (${[...allowed]})`,
              ).toBe(true);
          },
        ),
        { seed: DEEP ? DEEP_SEED : 42, numRuns: RUNS },
      );
    },
    DEEP ? 3_600_000 : 120_000,
  );
});

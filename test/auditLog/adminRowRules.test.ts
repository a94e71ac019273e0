/**
 * Row rules inside admin mutations (issue 11 item 1): with authz as the
 * authorizer, an admin mutation's handler reads and writes through the row
 * rules, recorded writes included; `rowRules: "bypass"` is the logged
 * break-glass exception. A multi-tenant app: tasks belong to projects, and a
 * project lead holds `tasks.write` for their own project only.
 */
import {
  anyApi,
  defineSchema,
  defineTable,
  mutationGeneric,
  queryGeneric,
  type DataModelFromSchemaDefinition,
  type MutationBuilder,
  type QueryBuilder,
} from "convex/server";
import { convexTest } from "convex-test";
import { ConvexError, v } from "convex/values";
import fc from "fast-check";
import { beforeEach, describe, expect, test, vi } from "vitest";
import { AuditLog } from "convex-opskit/auditLog";
import { Authz, defineRules } from "convex-opskit/authz";
import { registerAll } from "convex-opskit/test";
import { captureLogs, components, codeOf } from "../helpers.js";
import * as self from "./adminRowRules.test.js";

const api = anyApi["adminRowRules.test"];

const schema = defineSchema({
  tasks: defineTable({ projectId: v.string(), title: v.string() }).index(
    "by_project",
    ["projectId"],
  ),
  // No rules: fail-closed inside admin mutations as in authz's builders.
  notes: defineTable({ text: v.string() }),
});
type DataModel = DataModelFromSchemaDefinition<typeof schema>;
const mutation = mutationGeneric as MutationBuilder<DataModel, "public">;
const query = queryGeneric as QueryBuilder<DataModel, "public">;

const inProject = (p: string) => ({ scope: `project:${p}` });
const rules = defineRules<DataModel>({
  tasks: {
    read: (ctx, t) => ctx.authz.can("tasks.read", inProject(t.projectId)),
    insert: (ctx, t) => ctx.authz.can("tasks.write", inProject(t.projectId)),
    modify: async (ctx, before, after) =>
      before.projectId === after.projectId &&
      (await ctx.authz.can("tasks.write", inProject(before.projectId))),
    delete: (ctx, t) => ctx.authz.can("tasks.write", inProject(t.projectId)),
  },
});

export const authz = new Authz(components.authz, {
  roles: {
    lead: ["tasks.read", "tasks.write"],
    viewer: ["tasks.read"],
    oncall: ["tasks.breakGlass"],
  },
  rules,
});
const auditLog = new AuditLog<DataModel>(components.auditLog);
const adminMutation = auditLog.adminMutation(authz);

/* eslint-disable @typescript-eslint/no-explicit-any -- drives every call form of ctx.db */
/** One write to a task, in the call form asked for. */
export const writeTask = adminMutation({
  permission: "tasks.write",
  scope: ({ projectId }) => `project:${projectId}`,
  tables: ["tasks"],
  args: {
    projectId: v.string(),
    taskId: v.id("tasks"),
    op: v.union(v.literal("patch"), v.literal("replace"), v.literal("delete")),
    form: v.union(v.literal("id"), v.literal("table"), v.literal("tableApi")),
    title: v.string(),
    catchDenial: v.optional(v.boolean()),
  },
  returns: v.string(),
  handler: async (ctx, { taskId, op, form, title, catchDenial }) => {
    const db = ctx.db as any;
    const value =
      op === "patch" ? { title } : op === "replace" ? undefined : undefined;
    const run = async () => {
      if (op === "delete") {
        if (form === "id") return db.delete(taskId);
        if (form === "table") return db.delete("tasks", taskId);
        return db.table("tasks").delete(taskId);
      }
      const current = await ctx.db.get(taskId);
      const v2 =
        op === "patch" ? value : { projectId: current?.projectId ?? "", title };
      if (form === "id") return db[op](taskId, v2);
      if (form === "table") return db[op]("tasks", taskId, v2);
      return db.table("tasks")[op](taskId, v2);
    };
    try {
      await run();
      return "written";
    } catch (e) {
      // A handler that swallows the denial must leave no entry behind.
      if (catchDenial && e instanceof ConvexError) return "denied";
      throw e;
    }
  },
});
/* eslint-enable @typescript-eslint/no-explicit-any */

/** Inserts a task into the given project (the rule checks the new row's project). */
export const addTask = adminMutation({
  permission: "tasks.write",
  scope: ({ projectId }) => `project:${projectId}`,
  tables: ["tasks"],
  args: { projectId: v.string(), intoProject: v.string() },
  returns: v.id("tasks"),
  handler: async (ctx, { intoProject }) =>
    ctx.db.insert("tasks", { projectId: intoProject, title: "new" }),
});

/** Moves a task to another project: the modify rule forbids it. */
export const moveTask = adminMutation({
  permission: "tasks.write",
  scope: ({ projectId }) => `project:${projectId}`,
  tables: ["tasks"],
  args: { projectId: v.string(), taskId: v.id("tasks"), to: v.string() },
  returns: v.null(),
  handler: async (ctx, { taskId, to }) => {
    await ctx.db.patch("tasks", taskId, { projectId: to });
    return null;
  },
});

/** What an admin handler can see: get and query go through the read rule. */
export const peek = adminMutation({
  permission: "tasks.write",
  scope: ({ projectId }) => `project:${projectId}`,
  tables: ["tasks"],
  args: { projectId: v.string(), taskId: v.id("tasks") },
  returns: v.object({ got: v.boolean(), listed: v.number() }),
  handler: async (ctx, { taskId }) => ({
    got: (await ctx.db.get(taskId)) !== null,
    listed: (await ctx.db.query("tasks").collect()).length,
  }),
});

/** Revokes the caller's own lead grant, then writes: the rules see the revoke. */
export const demoteSelfThenWrite = adminMutation({
  permission: "tasks.write",
  scope: ({ projectId }) => `project:${projectId}`,
  tables: ["tasks"],
  args: { projectId: v.string(), taskId: v.id("tasks") },
  returns: v.null(),
  handler: async (ctx, { projectId, taskId }) => {
    await authz.revoke(ctx, {
      userId: ctx.audit.actor.actorId,
      role: "lead",
      scope: `project:${projectId}`,
    });
    await ctx.db.patch(taskId, { title: "after demotion" });
    return null;
  },
});

/** Documents read by authorization plus one guarded `get` (whose rule checks grants). */
export const readsForOneGet = adminMutation({
  permission: "tasks.write",
  scope: ({ projectId }) => `project:${projectId}`,
  tables: ["tasks"],
  args: { projectId: v.string(), taskId: v.id("tasks") },
  returns: v.number(),
  handler: async (ctx, { taskId }) =>
    (await ctx.db.get(taskId)) === null
      ? -1
      : (
          await (
            ctx as unknown as {
              meta: {
                getTransactionMetrics: () => Promise<{
                  documentsRead: { used: number };
                }>;
              };
            }
          ).meta.getTransactionMetrics()
        ).documentsRead.used,
});

/** Touches a table without rules. */
export const writeNote = adminMutation({
  permission: "tasks.write",
  scope: ({ projectId }) => `project:${projectId}`,
  tables: ["notes"],
  args: { projectId: v.string() },
  returns: v.null(),
  handler: async (ctx) => {
    await ctx.db.insert("notes", { text: "x" });
    return null;
  },
});

/** Break-glass: row rules bypassed on purpose, still scoped and recorded. */
export const breakGlassRename = adminMutation({
  permission: "tasks.breakGlass",
  rowRules: "bypass",
  tables: ["tasks"],
  args: { taskId: v.id("tasks"), title: v.string() },
  returns: v.null(),
  handler: async (ctx, { taskId, title }) => {
    await ctx.db.patch(taskId, { title });
    return null;
  },
});

/** A revert outside an admin mutation, authorized by authz: rules apply to it too. */
export const revertTask = mutation({
  args: { operationId: v.string(), projectId: v.string() },
  returns: v.number(),
  handler: async (ctx, { operationId, projectId }) =>
    (
      await auditLog.revert(ctx, {
        operationId,
        reason: "undo a change by request",
        authorizer: authz,
        permission: "tasks.write",
        scope: `project:${projectId}`,
      })
    ).revertedEntries,
});

export const seed = mutation({
  args: { projectId: v.string(), title: v.string() },
  returns: v.id("tasks"),
  handler: async (ctx, args) => ctx.db.insert("tasks", args),
});
export const grant = mutation({
  args: { userId: v.string(), role: v.string(), scope: v.optional(v.string()) },
  returns: v.null(),
  handler: async (ctx, args) => {
    await authz.grant(ctx, { ...args, role: args.role as "lead" });
    return null;
  },
});
export const task = query({
  args: { taskId: v.id("tasks") },
  returns: v.any(),
  handler: async (ctx, { taskId }) => ctx.db.get(taskId),
});
export const entries = query({
  args: {},
  returns: v.any(),
  handler: async (ctx) =>
    (
      await auditLog.list(ctx, {
        paginationOpts: { numItems: 100, cursor: null },
      })
    ).page,
});

const ISSUER = "https://auth.example.com";
/** The user id authz keys grants by: the identity's tokenIdentifier. */
const uid = (name: string) => `${ISSUER}|${name}`;
const reason = "OPS-42 fix a task title";

function setup() {
  const t = convexTest({
    schema,
    modules: {
      "./adminRowRules.test.ts": async () => self,
      "./_generated/api.ts": async () => ({}),
    },
    transactionLimits: true,
  });
  registerAll(t);
  const as = (name: string) =>
    t.withIdentity({ subject: name, issuer: ISSUER });
  return { t, as };
}

const logs = captureLogs();
beforeEach(() => {
  vi.useRealTimers();
});

describe("row rules apply inside admin mutations", () => {
  test("a lead of project A cannot patch a project Z task by passing scope A (nothing written or recorded)", async () => {
    const { t, as } = setup();
    const mine = await t.mutation(api.seed, { projectId: "A", title: "a" });
    const theirs = await t.mutation(api.seed, { projectId: "Z", title: "z" });
    await t.mutation(api.grant, {
      userId: uid("lead"),
      role: "lead",
      scope: "project:A",
    });
    const lead = as("lead");
    const call = (taskId: string) =>
      lead.mutation(api.writeTask, {
        projectId: "A",
        taskId,
        op: "patch",
        form: "id",
        title: "pwned",
        reason,
      });
    expect(await codeOf(call(theirs))).toBe("FORBIDDEN");
    expect(await t.query(api.task, { taskId: theirs })).toMatchObject({
      title: "z",
    });
    expect(await t.query(api.entries, {})).toEqual([]);
    expect(logs).toContainEqual(
      expect.objectContaining({
        event: "authz.deny",
        actorId: uid("lead"),
        table: "tasks",
        operation: "modify",
      }),
    );
    // The same call on the lead's own project is allowed and recorded.
    expect(await call(mine)).toBe("written");
    expect(await t.query(api.entries, {})).toEqual([
      expect.objectContaining({ docId: mine, kind: "patch" }),
    ]);
  });

  test("reads inside the handler go through the read rule", async () => {
    const { t, as } = setup();
    const mine = await t.mutation(api.seed, { projectId: "A", title: "a" });
    const theirs = await t.mutation(api.seed, { projectId: "Z", title: "z" });
    await t.mutation(api.grant, {
      userId: uid("lead"),
      role: "lead",
      scope: "project:A",
    });
    const peek = (taskId: string) =>
      as("lead").mutation(api.peek, { projectId: "A", taskId, reason });
    expect(await peek(theirs)).toEqual({ got: false, listed: 1 });
    expect(await peek(mine)).toEqual({ got: true, listed: 1 });
  });

  test("inserting into another project and moving a task out are denied", async () => {
    const { t, as } = setup();
    const mine = await t.mutation(api.seed, { projectId: "A", title: "a" });
    await t.mutation(api.grant, {
      userId: uid("lead"),
      role: "lead",
      scope: "project:A",
    });
    const lead = as("lead");
    expect(
      await codeOf(
        lead.mutation(api.addTask, {
          projectId: "A",
          intoProject: "Z",
          reason,
        }),
      ),
    ).toBe("FORBIDDEN");
    expect(
      await codeOf(
        lead.mutation(api.moveTask, {
          projectId: "A",
          taskId: mine,
          to: "Z",
          reason,
        }),
      ),
    ).toBe("FORBIDDEN");
    expect(await t.query(api.task, { taskId: mine })).toMatchObject({
      projectId: "A",
    });
    expect(await t.query(api.entries, {})).toEqual([]);
  });

  test("a denial the handler catches leaves no entry behind", async () => {
    const { t, as } = setup();
    const theirs = await t.mutation(api.seed, { projectId: "Z", title: "z" });
    await t.mutation(api.grant, {
      userId: uid("lead"),
      role: "lead",
      scope: "project:A",
    });
    expect(
      await as("lead").mutation(api.writeTask, {
        projectId: "A",
        taskId: theirs,
        op: "delete",
        form: "table",
        title: "",
        catchDenial: true,
        reason,
      }),
    ).toBe("denied");
    expect(await t.query(api.task, { taskId: theirs })).not.toBeNull();
    expect(await t.query(api.entries, {})).toEqual([
      // The operation is recorded with no entries: nothing changed.
    ]);
  });

  test("break-glass bypasses the rules, stays recorded, and is logged every call", async () => {
    const { t, as } = setup();
    const theirs = await t.mutation(api.seed, { projectId: "Z", title: "z" });
    await t.mutation(api.grant, { userId: uid("ops"), role: "oncall" });
    await as("ops").mutation(api.breakGlassRename, {
      taskId: theirs,
      title: "fixed",
      reason,
    });
    expect(await t.query(api.task, { taskId: theirs })).toMatchObject({
      title: "fixed",
    });
    expect(await t.query(api.entries, {})).toEqual([
      expect.objectContaining({ docId: theirs, actorId: uid("ops") }),
    ]);
    expect(logs).toContainEqual(
      expect.objectContaining({
        event: "auditLog.rowRulesBypassed",
        functionName: "adminRowRules.test:breakGlassRename",
        actorId: uid("ops"),
        actorKind: "user",
        tables: ["tasks"],
      }),
    );
    expect(logs).toContainEqual(
      expect.objectContaining({
        event: "auditLog.write",
        rowRules: "bypassed",
      }),
    );
  });

  test("grants revoked during the call apply to the call's later writes", async () => {
    const { t, as } = setup();
    const mine = await t.mutation(api.seed, { projectId: "A", title: "a" });
    await t.mutation(api.grant, {
      userId: uid("lead"),
      role: "lead",
      scope: "project:A",
    });
    expect(
      await codeOf(
        as("lead").mutation(api.demoteSelfThenWrite, {
          projectId: "A",
          taskId: mine,
          reason,
        }),
      ),
    ).toBe("FORBIDDEN");
    expect(await t.query(api.task, { taskId: mine })).toMatchObject({
      title: "a",
    });
  });

  test("authorization and the row-rule guard share one read of the caller's grants", async () => {
    const { t, as } = setup();
    await t.mutation(api.grant, {
      userId: uid("lead"),
      role: "lead",
      scope: "project:A",
    });
    const taskId = await t.mutation(api.seed, { projectId: "A", title: "a" });
    // One grant document (shared by authorize and the read rule) + the task.
    expect(
      await as("lead").mutation(api.readsForOneGet, {
        projectId: "A",
        taskId,
        reason,
      }),
    ).toBe(2);
  });

  test("a table without rules is refused inside admin mutations too", async () => {
    const { t, as } = setup();
    await t.mutation(api.grant, {
      userId: uid("lead"),
      role: "lead",
      scope: "project:A",
    });
    expect(
      await codeOf(
        as("lead").mutation(api.writeNote, { projectId: "A", reason }),
      ),
    ).toBe("FORBIDDEN");
    expect(await t.query(api.entries, {})).toEqual([]);
  });

  test("a bad rowRules value is refused at definition time", () => {
    expect(() =>
      adminMutation({
        permission: "tasks.write",
        // @ts-expect-error -- only "enforce" and "bypass" exist
        rowRules: "off",
        tables: ["tasks"],
        args: {},
        handler: async () => null,
      }),
    ).toThrow(/rowRules/);
  });

  test("a revert authorized by authz obeys the row rules too", async () => {
    const { t, as } = setup();
    const theirs = await t.mutation(api.seed, { projectId: "Z", title: "z" });
    await t.mutation(api.grant, {
      userId: uid("zed"),
      role: "lead",
      scope: "project:Z",
    });
    await t.mutation(api.grant, {
      userId: uid("lead"),
      role: "lead",
      scope: "project:A",
    });
    await as("zed").mutation(api.writeTask, {
      projectId: "Z",
      taskId: theirs,
      op: "patch",
      form: "id",
      title: "z2",
      reason,
    });
    const [entry] = await t.query(api.entries, {});
    // Lead of A, claiming scope A, reverting a project Z change: denied.
    expect(
      await codeOf(
        as("lead").mutation(api.revertTask, {
          operationId: entry.operationId,
          projectId: "A",
        }),
      ),
    ).toBe("FORBIDDEN");
    expect(await t.query(api.task, { taskId: theirs })).toMatchObject({
      title: "z2",
    });
    expect(
      await as("zed").mutation(api.revertTask, {
        operationId: entry.operationId,
        projectId: "Z",
      }),
    ).toBe(1);
    expect(await t.query(api.task, { taskId: theirs })).toMatchObject({
      title: "z",
    });
  });
});

describe("generated: every call form, every write, both projects", () => {
  test("an admin write succeeds exactly when the row rules allow it, and is recorded exactly then", async () => {
    const { t, as } = setup();
    await t.mutation(api.grant, {
      userId: uid("lead"),
      role: "lead",
      scope: "project:A",
    });
    await t.mutation(api.grant, {
      userId: uid("viewer"),
      role: "viewer",
      scope: "project:Z",
    });
    // viewer-of-Z also leads B, so it passes the function's permission for B.
    await t.mutation(api.grant, {
      userId: uid("viewer"),
      role: "lead",
      scope: "project:B",
    });
    let recorded = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("lead", "viewer"),
        fc.constantFrom("A", "B", "Z"),
        fc.constantFrom("A", "B", "Z"),
        fc.constantFrom("patch", "replace", "delete"),
        fc.constantFrom("id", "table", "tableApi"),
        async (who, claimed, actual, op, form) => {
          const taskId = await t.mutation(api.seed, {
            projectId: actual,
            title: "t",
          });
          const leads = who === "lead" ? ["A"] : ["B"];
          const passesPermission = leads.includes(claimed);
          const ruleAllows = leads.includes(actual);
          const outcome = await codeOf(
            as(who).mutation(api.writeTask, {
              projectId: claimed,
              taskId,
              op,
              form,
              title: "changed",
              reason,
            }),
          );
          expect(outcome).toBe(
            passesPermission && ruleAllows ? "ok" : "FORBIDDEN",
          );
          const doc = await t.query(api.task, { taskId });
          if (outcome !== "ok") expect(doc).toMatchObject({ title: "t" });
          else recorded++;
          const all = await t.query(api.entries, {});
          expect(all.length).toBe(recorded);
        },
      ),
      { seed: 42, numRuns: 40 },
    );
  });
});

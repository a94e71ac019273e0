/**
 * Independent attack on issue 11 item 1: row rules inside admin mutations
 * whose authorizer is a function. docs/auditLog.md tells apps to write
 * `auditLog.adminMutation((ctx) => authz.authorize(ctx, {}))` for a mutation
 * every signed-in user may call; the handler of such a mutation must still
 * read and write through authz's row rules (the widest audience needs them
 * most), and so must a standalone revert authorized by such a function.
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
import { describe, expect, test } from "vitest";
import { z } from "zod";
import { AuditLog } from "../../src/auditLog/client.js";
import { zAdminMutation } from "../../src/auditLog/zod.js";
import { Authz, defineRules } from "../../src/authz/client.js";
import { registerAll } from "../../src/test.js";
import { captureLogs, components } from "../helpers.js";
import * as self from "./adminAuthorizerRowRules.test.js";

const api = anyApi["adminAuthorizerRowRules.test"];

const schema = defineSchema({
  tasks: defineTable({ projectId: v.string(), title: v.string() }),
});
type DataModel = DataModelFromSchemaDefinition<typeof schema>;
const mutation = mutationGeneric as MutationBuilder<DataModel, "public">;
const query = queryGeneric as QueryBuilder<DataModel, "public">;

const inProject = (p: string) => ({ scope: `project:${p}` });
export const authz = new Authz(components.authz, {
  roles: { lead: ["tasks.read", "tasks.write"] },
  rules: defineRules<DataModel>({
    tasks: {
      read: (ctx, t) => ctx.authz.can("tasks.read", inProject(t.projectId)),
      insert: (ctx, t) => ctx.authz.can("tasks.write", inProject(t.projectId)),
      modify: async (ctx, before, after) =>
        before.projectId === after.projectId &&
        (await ctx.authz.can("tasks.write", inProject(before.projectId))),
      delete: (ctx, t) => ctx.authz.can("tasks.write", inProject(t.projectId)),
    },
  }),
});
const auditLog = new AuditLog<DataModel>(components.auditLog);

/** The documented form for "every signed-in user may call it". */
const anySignedIn = auditLog.adminMutation((ctx) => authz.authorize(ctx, {}));
/** A function authorizer that checks a permission itself. */
const custom = auditLog.adminMutation<"tasks.write">((ctx, request) =>
  authz.authorize(ctx, request),
);
const zAnySignedIn = zAdminMutation(auditLog, (ctx) =>
  authz.authorize(ctx, {}),
);

const write =
  (title: string) =>
  async (
    ctx: { db: { patch: (id: never, v: { title: string }) => Promise<void> } },
    { taskId }: { taskId: string },
  ) => {
    await ctx.db.patch(taskId as never, { title });
    return null;
  };

export const renameAnySignedIn = anySignedIn({
  tables: ["tasks"],
  args: { taskId: v.id("tasks"), projectId: v.string() },
  returns: v.null(),
  handler: write("renamed by any signed-in user"),
});
export const renameCustom = custom({
  permission: "tasks.write",
  scope: ({ projectId }) => `project:${projectId}`,
  tables: ["tasks"],
  args: { taskId: v.id("tasks"), projectId: v.string() },
  returns: v.null(),
  handler: write("renamed through a custom authorizer"),
});
export const renameZod = zAnySignedIn({
  tables: ["tasks"],
  args: { taskId: z.string(), projectId: z.string() },
  handler: write("renamed through zod"),
});
/** What the handler can see of a task. */
export const peekAnySignedIn = anySignedIn({
  tables: ["tasks"],
  args: { taskId: v.id("tasks") },
  returns: v.boolean(),
  handler: async (ctx, { taskId }) => (await ctx.db.get(taskId)) !== null,
});
/** A standalone revert authorized by a function wrapping authz. */
export const revertAnySignedIn = mutation({
  args: { operationId: v.string() },
  returns: v.number(),
  handler: async (ctx, { operationId }) =>
    (
      await auditLog.revert(ctx, {
        operationId,
        reason: "undo a change by request",
        authorizer: (c) => authz.authorize(c, {}),
      })
    ).revertedEntries,
});

export const seed = mutation({
  args: { projectId: v.string(), title: v.string() },
  returns: v.id("tasks"),
  handler: async (ctx, args) => ctx.db.insert("tasks", args),
});
export const grant = mutation({
  args: { userId: v.string(), scope: v.string() },
  returns: v.null(),
  handler: async (ctx, args) => {
    await authz.grant(ctx, { ...args, role: "lead" });
    return null;
  },
});
export const task = query({
  args: { taskId: v.id("tasks") },
  returns: v.any(),
  handler: async (ctx, { taskId }) => ctx.db.get(taskId),
});
export const entryCount = query({
  args: {},
  returns: v.number(),
  handler: async (ctx) =>
    (
      await auditLog.list(ctx, {
        paginationOpts: { numItems: 100, cursor: null },
      })
    ).page.length,
});
/** An out-of-band admin fix (recorded, rules bypassed), to have something to revert. */
export const adminRename = auditLog.adminMutation(async () => ({
  actorId: "system:fixer",
  actorKind: "system",
}))({
  tables: ["tasks"],
  args: { taskId: v.id("tasks"), title: v.string() },
  returns: v.string(),
  handler: async (ctx, { taskId, title }) => {
    await ctx.db.patch(taskId, { title });
    return "ok";
  },
});
export const lastOperation = query({
  args: {},
  returns: v.string(),
  handler: async (ctx) =>
    (
      await auditLog.listOperations(ctx, {
        paginationOpts: { numItems: 1, cursor: null },
      })
    ).page[0].operationId,
});

const ISSUER = "https://auth.example.com";
const uid = (name: string) => `${ISSUER}|${name}`;
const reason = "OPS-7 rename a task on request";

function setup() {
  const t = convexTest({
    schema,
    modules: {
      "./adminAuthorizerRowRules.test.ts": async () => self,
      "./_generated/api.ts": async () => ({}),
    },
    transactionLimits: true,
  });
  registerAll(t);
  return {
    t,
    as: (n: string) => t.withIdentity({ subject: n, issuer: ISSUER }),
  };
}

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => "ok",
    (e) => (e as ConvexError<{ code: string }>).data?.code ?? String(e),
  );

const logs = captureLogs();

describe("function authorizers that call authz keep row rules", () => {
  test("row rules are not bypassed by a function authorizer wrapping authz (property: writes succeed exactly when the rule allows)", async () => {
    const calls = ["renameAnySignedIn", "renameCustom", "renameZod"] as const;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...calls),
        fc.constantFrom("A", "Z"),
        fc.constantFrom("A", "Z"),
        async (fn, taskProject, leadProject) => {
          const { t, as } = setup();
          const taskId = await t.mutation(api.seed, {
            projectId: taskProject,
            title: "before",
          });
          await t.mutation(api.grant, {
            userId: uid("lead"),
            scope: `project:${leadProject}`,
          });
          // The caller names the lead's own project as the scope, whatever the task's.
          const code = await codeOf(
            as("lead").mutation(api[fn], {
              taskId,
              projectId: leadProject,
              reason,
            }),
          );
          const allowed = taskProject === leadProject;
          expect(code).toBe(allowed ? "ok" : "FORBIDDEN");
          const after = await t.query(api.task, { taskId });
          expect(after.title === "before").toBe(!allowed);
          expect(await t.query(api.entryCount, {})).toBe(allowed ? 1 : 0);
        },
      ),
      { seed: 42, numRuns: 24 },
    );
  });

  test("the handler of a function-authorized admin mutation cannot read rows the rules hide", async () => {
    const { t, as } = setup();
    const theirs = await t.mutation(api.seed, { projectId: "Z", title: "z" });
    await t.mutation(api.grant, { userId: uid("lead"), scope: "project:A" });
    expect(
      await as("lead").mutation(api.peekAnySignedIn, {
        taskId: theirs,
        reason,
      }),
    ).toBe(false);
  });

  test("a revert authorized by a function wrapping authz obeys the row rules", async () => {
    const { t, as } = setup();
    const theirs = await t.mutation(api.seed, { projectId: "Z", title: "z" });
    await t.mutation(api.adminRename, {
      taskId: theirs,
      title: "fixed",
      reason,
    });
    const operationId = await t.query(api.lastOperation, {});
    await t.mutation(api.grant, { userId: uid("lead"), scope: "project:A" });
    expect(
      await codeOf(as("lead").mutation(api.revertAnySignedIn, { operationId })),
    ).toBe("FORBIDDEN");
    expect(await t.query(api.task, { taskId: theirs })).toMatchObject({
      title: "fixed",
    });
    expect(logs).not.toContainEqual(
      expect.objectContaining({
        event: "auditLog.write",
        revertOf: expect.anything(),
      }),
    );
  });
});

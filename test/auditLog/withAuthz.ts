/**
 * The docs/auditLog.md examples, as a test app wired to the real Authz.
 * Imports differ (test paths, generic builders); calls and shapes match
 * the README blocks one for one.
 */
import {
  actionGeneric,
  cronJobs,
  defineSchema,
  defineTable,
  internalMutationGeneric,
  makeFunctionReference,
  mutationGeneric,
  paginationOptsValidator,
  queryGeneric,
  type ActionBuilder,
  type DataModelFromSchemaDefinition,
  type MutationBuilder,
  type QueryBuilder,
} from "convex/server";
import { ConvexError, v } from "convex/values";
import { Authz } from "convex-opskit/authz";
import { AuditLog } from "convex-opskit/auditLog";
import { components } from "../helpers.js";

const schema = defineSchema({
  users: defineTable({
    name: v.string(),
    email: v.string(),
    role: v.string(),
    passwordHash: v.optional(v.string()),
  }),
});
type DataModel = DataModelFromSchemaDefinition<typeof schema>;
const mutation = mutationGeneric as MutationBuilder<DataModel, "public">;
const internalMutation = internalMutationGeneric as MutationBuilder<
  DataModel,
  "internal"
>;
const query = queryGeneric as QueryBuilder<DataModel, "public">;
const action = actionGeneric as ActionBuilder<DataModel, "public">;
const internal = {
  auditJobs: {
    seal: makeFunctionReference<"mutation">("withAuthz:seal"),
    retention: makeFunctionReference<"mutation">("withAuthz:retention"),
  },
};

// README: "Set up"
export const authz = new Authz(components.authz, {
  roles: {
    support: ["users.manage"],
    auditor: ["audit.read"],
    admin: ["*"],
  },
  permissions: [
    "users.manage",
    "users.breakGlass",
    "audit.read",
    "audit.revert",
  ],
});

export const auditLog = new AuditLog<DataModel>(components.auditLog, {
  redact: { users: ["passwordHash"] },
  reason: {
    minLength: 10,
    pattern: /\b[A-Z]+-\d+\b/,
    patternHint: "a ticket id",
  },
  retention: { maxAgeMs: 365 * 24 * 60 * 60 * 1000 },
});

export const adminMutation = auditLog.adminMutation(authz);

// README: "Write an admin mutation"
export const setUserRole = adminMutation({
  permission: "users.manage",
  tables: ["users"],
  args: { userId: v.id("users"), role: v.string() },
  returns: v.null(),
  handler: async (ctx, { userId, role }) => {
    await ctx.db.patch(userId, { role });
    return null;
  },
});

// README: "Read the log"
export const userHistory = query({
  args: { userId: v.id("users"), paginationOpts: paginationOptsValidator },
  handler: async (ctx, { userId, paginationOpts }) => {
    await authz.authorize(ctx, { permission: "audit.read" });
    return auditLog.list(ctx, {
      table: "users",
      docId: userId,
      paginationOpts,
    });
  },
});

export const actionsBy = query({
  args: {
    actorId: v.string(),
    from: v.number(),
    to: v.number(),
    paginationOpts: paginationOptsValidator,
  },
  handler: async (ctx, args) => {
    await authz.authorize(ctx, { permission: "audit.read" });
    return auditLog.listOperations(ctx, args);
  },
});

export const adminChangesIn = query({
  args: {
    actorId: v.string(),
    from: v.number(),
    paginationOpts: paginationOptsValidator,
  },
  handler: async (ctx, { actorId, from, paginationOpts }) => {
    await authz.authorize(ctx, { permission: "audit.read" });
    return auditLog.list(ctx, {
      table: "users",
      actorId,
      from,
      paginationOpts,
    });
  },
});

export const userAsOf = query({
  args: { userId: v.id("users"), at: v.number() },
  handler: async (ctx, { userId, at }) => {
    await authz.authorize(ctx, { permission: "audit.read" });
    return auditLog.documentAt(ctx, { table: "users", docId: userId, at });
  },
});

// README: "Admin mutations and row rules"
export const forceRename = adminMutation({
  permission: "users.breakGlass",
  rowRules: "bypass",
  tables: ["users"],
  args: { userId: v.id("users"), name: v.string() },
  returns: v.null(),
  handler: async (ctx, { userId, name }) => {
    await ctx.db.patch(userId, { name });
    return null;
  },
});

// README: "Revert"
export const revertOperation = adminMutation({
  permission: "audit.revert",
  tables: ["users"],
  args: { operationId: v.string(), force: v.optional(v.boolean()) },
  handler: async (ctx, { operationId, force }) =>
    auditLog.revert(ctx, { operationId, force }),
});

export const rollback = mutation({
  args: { operationId: v.string(), reason: v.string() },
  handler: async (ctx, { operationId, reason }) =>
    auditLog.revert(ctx, {
      operationId,
      reason,
      authorizer: authz,
      permission: "audit.revert",
    }),
});

// README: "Seal, verify, trim"
export const seal = internalMutation({
  args: {},
  handler: async (ctx) => {
    await auditLog.seal(ctx);
  },
});

export const retention = internalMutation({
  args: {},
  handler: async (ctx) => {
    await auditLog.runRetention(ctx);
  },
});

export const verifyLog = action({
  args: { from: v.optional(v.number()), to: v.optional(v.number()) },
  handler: async (ctx, { from, to }) => {
    await authz.authorize(ctx, { permission: "audit.read" });
    const result = await auditLog.verify(ctx, { from, to });
    if (!result.ok)
      throw new ConvexError({ code: "TAMPERED", problems: result.problems });
    return { checked: result.checked, pendingSeal: result.pendingSeal };
  },
});

// README: "Production limits"
export const verifyAll = action({
  args: {},
  handler: async (ctx) => {
    await authz.authorize(ctx, { permission: "audit.read" });
    let result = await auditLog.verify(ctx);
    let checked = result.checked;
    let problems = result.problems.length;
    while (!result.isDone) {
      result = await auditLog.verify(ctx, {
        fromSeq: result.nextSeq,
        fromSnapshot: result.nextSnapshot,
      });
      checked += result.checked;
      problems += result.problems.length;
    }
    return { checked, problems };
  },
});

const crons = cronJobs();
crons.interval("seal audit log", { seconds: 30 }, internal.auditJobs.seal);
crons.daily(
  "audit retention",
  { hourUTC: 3, minuteUTC: 0 },
  internal.auditJobs.retention,
);
export default crons;
export { crons };

// README: "Find out-of-band changes"
export const reconcileUsers = query({
  args: { paginationOpts: paginationOptsValidator },
  handler: async (ctx, { paginationOpts }) => {
    await authz.authorize(ctx, { permission: "audit.read" });
    return auditLog.reconcile(ctx, { table: "users", paginationOpts });
  },
});

// README: "Without convex-opskit's authz"
export const opsMutation = auditLog.adminMutation(async (ctx) => {
  const identity = await ctx.auth.getUserIdentity();
  if (!identity?.email?.endsWith("@ops.example.com"))
    throw new ConvexError({ code: "FORBIDDEN", message: "ops staff only" });
  return { actorId: identity.subject, actorKind: "user" };
});

export const renameUser = opsMutation({
  tables: ["users"],
  args: { userId: v.id("users"), name: v.string() },
  returns: v.null(),
  handler: async (ctx, { userId, name }) => {
    await ctx.db.patch(userId, { name });
    return null;
  },
});

// Server-to-server callers with an authz service key (not in the README).
export const SUPPORT_TOOL_KEY = "support-tool-key-3b9d0c71";
const serviceAuthz = new Authz(components.authz, {
  roles: { support: ["users.manage"] },
  services: { supportTool: { key: SUPPORT_TOOL_KEY, roles: ["support"] } },
});
export const toolSetRole = auditLog.adminMutation(serviceAuthz)({
  permission: "users.manage",
  tables: ["users"],
  acceptServiceKey: true,
  args: { userId: v.id("users"), role: v.string() },
  returns: v.null(),
  handler: async (ctx, { userId, role }) => {
    await ctx.db.patch(userId, { role });
    return null;
  },
});

// Test-only helpers.
export const seedUser = mutation({
  args: { name: v.string() },
  returns: v.id("users"),
  handler: async (ctx, { name }) =>
    ctx.db.insert("users", { name, email: `${name}@x`, role: "member" }),
});
export const grant = mutation({
  args: { userId: v.string(), role: v.string(), scope: v.optional(v.string()) },
  returns: v.null(),
  handler: async (ctx, { userId, role, scope }) => {
    await authz.grant(ctx, { userId, role: role as "admin", scope });
    return null;
  },
});
/** A permission checked in a scope derived from the arguments. */
export const setTeamMemberRole = adminMutation({
  permission: "users.manage",
  scope: ({ teamId }) => `team:${teamId}`,
  tables: ["users"],
  args: { teamId: v.string(), userId: v.id("users"), role: v.string() },
  returns: v.null(),
  handler: async (ctx, { userId, role }) => {
    await ctx.db.patch(userId, { role });
    return null;
  },
});
export const getUser = query({
  args: { userId: v.id("users") },
  returns: v.any(),
  handler: async (ctx, { userId }) => ctx.db.get(userId),
});

export { schema };

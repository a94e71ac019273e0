/**
 * The test app for auditLog: a schema, an AuditLog, a fake authorizer and
 * the app functions the tests call. Each test file re-exports these so
 * convex-test can find them under `anyApi["<file>.test"]`.
 */
import {
  defineSchema,
  defineTable,
  internalMutationGeneric,
  mutationGeneric,
  paginationOptsValidator,
  queryGeneric,
  type DataModelFromSchemaDefinition,
  type GenericMutationCtx,
  type GenericQueryCtx,
} from "convex/server";
import { v } from "convex/values";
import { AuditLog, type AdminAuthorizer } from "convex-opskit/auditLog";
import { opskitError } from "../internal.js";
import { components } from "../helpers.js";

export const schema = defineSchema({
  users: defineTable({
    name: v.string(),
    email: v.string(),
    role: v.string(),
    passwordHash: v.optional(v.string()),
    profile: v.optional(
      v.object({ city: v.optional(v.string()), ssn: v.optional(v.string()) }),
    ),
  }),
  projects: defineTable({ name: v.string(), ownerId: v.optional(v.string()) }),
});
export type DataModel = DataModelFromSchemaDefinition<typeof schema>;
type MutationCtx = GenericMutationCtx<DataModel>;
type QueryCtx = GenericQueryCtx<DataModel>;
const mutation = mutationGeneric;
const internalMutation = internalMutationGeneric;
const query = queryGeneric;

export type Permission = "users.manage" | "projects.manage" | "audit.revert";

/**
 * A stand-in for authz with the same `authorize` contract: subject "admin"
 * has every permission, "support" only users.manage, anyone else none.
 */
export class FakeAuthz implements AdminAuthorizer<Permission> {
  async authorize(
    ctx: { auth: { getUserIdentity(): Promise<{ subject: string } | null> } },
    request: { permission?: Permission; scope?: string; functionName?: string },
  ) {
    const identity = await ctx.auth.getUserIdentity();
    if (!identity) throw opskitError("UNAUTHENTICATED", "sign in first");
    const roles =
      identity.subject === "admin"
        ? ["admin"]
        : identity.subject === "support"
          ? ["support"]
          : [];
    const allowed =
      roles.includes("admin") ||
      (roles.includes("support") && request.permission === "users.manage");
    if (request.permission !== undefined && !allowed)
      throw opskitError("FORBIDDEN", `missing ${request.permission}`, {
        permission: request.permission,
      });
    return {
      actorId: identity.subject,
      actorKind: "user" as const,
      roles,
    };
  }
}

export const auditLog = new AuditLog<DataModel>(components.auditLog, {
  redact: { users: ["passwordHash", "profile.ssn"] },
  redactArgs: ["password"],
  reason: {
    minLength: 8,
    pattern: /\b[A-Z]+-\d+\b/,
    patternHint: "a ticket id like SUP-123",
  },
  retention: { maxAgeMs: 30 * 24 * 60 * 60 * 1000 },
});
const adminMutation = auditLog.adminMutation(new FakeAuthz());

export const createUser = adminMutation({
  permission: "users.manage",
  tables: ["users"],
  args: {
    name: v.string(),
    email: v.string(),
    role: v.string(),
    password: v.optional(v.string()),
    ssn: v.optional(v.string()),
  },
  returns: v.id("users"),
  handler: async (ctx, { name, email, role, password, ssn }) =>
    ctx.db.insert("users", {
      name,
      email,
      role,
      ...(password ? { passwordHash: `hash:${password}` } : {}),
      ...(ssn ? { profile: { city: "Paris", ssn } } : {}),
    }),
});

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

export const renameUser = adminMutation({
  permission: "users.manage",
  tables: ["users"],
  args: { userId: v.id("users"), name: v.string() },
  returns: v.null(),
  handler: async (ctx, { userId, name }) => {
    await ctx.db.patch("users", userId, { name });
    return null;
  },
});

export const replaceUser = adminMutation({
  permission: "users.manage",
  tables: ["users"],
  args: { userId: v.id("users"), name: v.string(), email: v.string() },
  returns: v.null(),
  handler: async (ctx, { userId, name, email }) => {
    const current = await ctx.db.get(userId);
    await ctx.db.replace(userId, { name, email, role: current!.role });
    return null;
  },
});

export const deleteUser = adminMutation({
  permission: "users.manage",
  tables: ["users"],
  args: { userId: v.id("users"), explicit: v.boolean() },
  returns: v.null(),
  handler: async (ctx, { userId, explicit }) => {
    if (explicit) await ctx.db.delete("users", userId);
    else await ctx.db.delete(userId);
    return null;
  },
});

export const setPassword = adminMutation({
  permission: "users.manage",
  tables: ["users"],
  args: { userId: v.id("users"), password: v.string() },
  returns: v.null(),
  handler: async (ctx, { userId, password }) => {
    await ctx.db.patch(userId, { passwordHash: `hash:${password}` });
    return null;
  },
});

export const tableWriter = adminMutation({
  permission: "users.manage",
  tables: ["users"],
  args: { userId: v.id("users"), name: v.string() },
  returns: v.null(),
  handler: async (ctx, { userId, name }) => {
    const users = (
      ctx.db as unknown as {
        table(t: "users"): {
          patch(id: typeof userId, value: { name: string }): Promise<void>;
        };
      }
    ).table("users");
    await users.patch(userId, { name });
    return null;
  },
});

/** Declares only users, then writes a project (by id, or by insert). */
export const sneakyWrite = adminMutation({
  permission: "users.manage",
  tables: ["users"],
  args: {
    userId: v.id("users"),
    projectId: v.optional(v.id("projects")),
  },
  returns: v.null(),
  handler: async (ctx, { userId, projectId }) => {
    await ctx.db.patch(userId, { role: "owner" });
    if (projectId) await ctx.db.patch(projectId, { name: "taken" });
    else await ctx.db.insert("projects", { name: "sneaky" });
    return null;
  },
});

export const failAfterWrite = adminMutation({
  permission: "users.manage",
  tables: ["users"],
  args: { userId: v.id("users") },
  returns: v.null(),
  handler: async (ctx, { userId }) => {
    await ctx.db.patch(userId, { role: "ghost" });
    await ctx.db.insert("users", { name: "x", email: "x@x", role: "x" });
    throw opskitError("INVALID_ARGUMENT", "changed my mind");
  },
});

/** A write that fails schema validation, caught; then a good write. */
export const catchFailedWrite = adminMutation({
  permission: "users.manage",
  tables: ["users"],
  args: { bad: v.id("users"), good: v.id("users") },
  returns: v.null(),
  handler: async (ctx, { bad, good }) => {
    try {
      await ctx.db.patch(bad, { role: 5 as unknown as string });
    } catch {
      // The app decided to carry on without that change.
    }
    await ctx.db.patch(good, { role: "fixed" });
    return null;
  },
});

/** Several writes to several documents, including two to the same one. */
export const bulkEdit = adminMutation({
  permission: "users.manage",
  tables: ["users", "projects"],
  args: { userIds: v.array(v.id("users")), suffix: v.string() },
  returns: v.id("projects"),
  handler: async (ctx, { userIds, suffix }) => {
    for (const id of userIds) {
      const u = await ctx.db.get(id);
      await ctx.db.patch(id, { name: `${u!.name}${suffix}` });
      await ctx.db.patch(id, { role: `role${suffix}` });
    }
    const projectId = await ctx.db.insert("projects", { name: "p" });
    await ctx.db.patch(projectId, { name: `p${suffix}` });
    return projectId;
  },
});

export const revertOperation = adminMutation({
  permission: "audit.revert",
  tables: ["users", "projects"],
  args: {
    operationId: v.optional(v.string()),
    entryId: v.optional(v.string()),
    force: v.optional(v.boolean()),
  },
  returns: v.object({
    revertedEntries: v.number(),
    recreated: v.array(
      v.object({
        table: v.string(),
        oldDocId: v.string(),
        newDocId: v.string(),
      }),
    ),
  }),
  handler: async (ctx, { operationId, entryId, force }) => {
    const result = await auditLog.revert(
      ctx,
      entryId !== undefined
        ? { entryId, force }
        : { operationId: operationId!, force },
    );
    return {
      revertedEntries: result.revertedEntries,
      recreated: result.recreated,
    };
  },
});

/** Reverts, but may only write users. */
export const revertUsersOnly = adminMutation({
  permission: "audit.revert",
  tables: ["users"],
  args: { operationId: v.string() },
  returns: v.number(),
  handler: async (ctx, { operationId }) =>
    (await auditLog.revert(ctx, { operationId })).revertedEntries,
});

/** Works without our authz: any function returning the actor (requirement 12). */
const serviceAdmin = auditLog.adminMutation<"anything">(async (ctx) => {
  const identity = await ctx.auth.getUserIdentity();
  if (!identity) throw opskitError("UNAUTHENTICATED", "no identity");
  if (identity.subject.startsWith("svc:"))
    return { actorId: identity.subject, actorKind: "service" };
  throw opskitError("FORBIDDEN", "services only");
});
export const serviceRename = serviceAdmin({
  tables: ["users"],
  args: { userId: v.id("users"), name: v.string() },
  returns: v.null(),
  handler: async (ctx, { userId, name }) => {
    await ctx.db.patch(userId, { name });
    return null;
  },
});

/**
 * A system job reverting with a fixed actor and a reason: internal, so no
 * client can call it, and the actor is a constant, never an argument.
 */
export const systemRevert = internalMutation({
  args: {
    operationId: v.string(),
    reason: v.string(),
    force: v.optional(v.boolean()),
  },
  returns: v.any(),
  handler: async (ctx: MutationCtx, { operationId, reason, force }) =>
    auditLog.revert(ctx, {
      operationId,
      reason,
      force,
      actor: { actorId: "system:janitor", actorKind: "system" },
    }),
});

/** A plain mutation reverting as whoever the authorizer says the caller is. */
export const authorizedRevert = mutation({
  args: { operationId: v.string(), reason: v.string() },
  returns: v.any(),
  handler: async (ctx: MutationCtx, { operationId, reason }) =>
    auditLog.revert(ctx, {
      operationId,
      reason,
      authorizer: new FakeAuthz(),
      permission: "audit.revert",
    }),
});

/**
 * An admin mutation for users.manage that reverts: the authorizer passed to
 * revert is checked too, so only holders of audit.revert get through.
 */
export const revertAsUsersManager = adminMutation({
  permission: "users.manage",
  tables: ["users"],
  args: { operationId: v.string() },
  returns: v.number(),
  handler: async (ctx, { operationId }) =>
    (
      await auditLog.revert(ctx, {
        operationId,
        authorizer: new FakeAuthz(),
        permission: "audit.revert",
      })
    ).revertedEntries,
});

/** A scope function that resolves to no scope (a bug in the app). */
export const brokenScope = adminMutation({
  permission: "users.manage",
  scope: () => undefined as unknown as string,
  tables: ["users"],
  args: { userId: v.id("users") },
  returns: v.null(),
  handler: async (ctx, { userId }) => {
    await ctx.db.patch(userId, { role: "scoped" });
    return null;
  },
});

// Plain helpers for the tests.

/** The auth token of the calling request, as `ctx.meta` exposes it. */
export const requestAuthToken = mutation({
  args: {},
  returns: v.union(v.string(), v.null()),
  handler: async (ctx: MutationCtx) =>
    (await ctx.meta.getRequestMetadata()).authToken,
});

export const seedUser = mutation({
  args: { name: v.string(), role: v.optional(v.string()) },
  returns: v.id("users"),
  handler: async (ctx: MutationCtx, { name, role }) =>
    ctx.db.insert("users", {
      name,
      email: `${name}@example.com`,
      role: role ?? "member",
    }),
});
export const seedProject = mutation({
  args: { name: v.string() },
  returns: v.id("projects"),
  handler: async (ctx: MutationCtx, { name }) =>
    ctx.db.insert("projects", { name }),
});
/** A change made outside admin mutations, like a dashboard edit. */
export const outOfBand = mutation({
  args: { userId: v.id("users"), patch: v.any() },
  returns: v.null(),
  handler: async (ctx: MutationCtx, { userId, patch }) => {
    await ctx.db.patch(userId, patch);
    return null;
  },
});
export const getUser = query({
  args: { userId: v.id("users") },
  returns: v.any(),
  handler: async (ctx: QueryCtx, { userId }) => ctx.db.get(userId),
});
export const countDocs = query({
  args: {},
  returns: v.object({ users: v.number(), projects: v.number() }),
  handler: async (ctx: QueryCtx) => ({
    users: (await ctx.db.query("users").collect()).length,
    projects: (await ctx.db.query("projects").collect()).length,
  }),
});

export const list = query({
  args: { args: v.any() },
  returns: v.any(),
  handler: async (ctx: QueryCtx, { args }) => auditLog.list(ctx, args),
});
/** `list` plus how many documents and bytes it read (from transaction metrics). */
export const measuredList = query({
  args: { args: v.any() },
  returns: v.any(),
  handler: async (ctx: QueryCtx, { args }) => {
    const before = await ctx.meta.getTransactionMetrics();
    const result = await auditLog.list(ctx, args);
    const after = await ctx.meta.getTransactionMetrics();
    return {
      items: result.page.length,
      documentsRead: after.documentsRead.used - before.documentsRead.used,
    };
  },
});
export const listOperations = query({
  args: { args: v.any() },
  returns: v.any(),
  handler: async (ctx: QueryCtx, { args }) =>
    auditLog.listOperations(ctx, args),
});
export const getOperation = query({
  args: { operationId: v.string() },
  returns: v.any(),
  handler: async (ctx: QueryCtx, args) => auditLog.getOperation(ctx, args),
});
export const history = query({
  args: { docId: v.string(), paginationOpts: paginationOptsValidator },
  returns: v.any(),
  handler: async (ctx: QueryCtx, { docId, paginationOpts }) =>
    auditLog.history(ctx, { table: "users", docId, paginationOpts }),
});
export const documentAt = query({
  args: { docId: v.string(), at: v.number() },
  returns: v.any(),
  handler: async (ctx: QueryCtx, { docId, at }) =>
    auditLog.documentAt(ctx, { table: "users", docId, at }),
});
export const verify = query({
  args: { args: v.optional(v.any()) },
  returns: v.any(),
  handler: async (ctx: QueryCtx, { args }) => auditLog.verify(ctx, args ?? {}),
});
export const head = query({
  args: {},
  returns: v.any(),
  handler: async (ctx: QueryCtx) => auditLog.head(ctx),
});
export const seal = mutation({
  args: {},
  returns: v.any(),
  handler: async (ctx: MutationCtx) => auditLog.seal(ctx),
});
export const runRetention = mutation({
  args: {},
  returns: v.any(),
  handler: async (ctx: MutationCtx) => auditLog.runRetention(ctx),
});
export const retentionRuns = query({
  args: {},
  returns: v.any(),
  handler: async (ctx: QueryCtx) => auditLog.retentionRuns(ctx),
});
export const reconcile = query({
  args: { paginationOpts: paginationOptsValidator },
  returns: v.any(),
  handler: async (ctx: QueryCtx, { paginationOpts }) =>
    auditLog.reconcile(ctx, { table: "users", paginationOpts }),
});

export const reconcileRecorded = query({
  args: { cursor: v.union(v.string(), v.null()), limit: v.number() },
  returns: v.any(),
  handler: async (ctx: QueryCtx, { cursor, limit }) =>
    auditLog.reconcileRecorded(ctx, { table: "users", cursor, limit }),
});
export const reconcileRecordedPage = query({
  args: { paginationOpts: paginationOptsValidator },
  returns: v.any(),
  handler: async (ctx: QueryCtx, { paginationOpts }) =>
    auditLog.reconcileRecorded(ctx, { table: "users", paginationOpts }),
});
export const deleteOutOfBand = mutation({
  args: { userId: v.id("users") },
  returns: v.null(),
  handler: async (ctx: MutationCtx, { userId }) => {
    await ctx.db.delete(userId);
    return null;
  },
});

/** Calls the component's append directly, as a hostile or buggy caller could. */
export const appendRaw = mutation({
  args: { entries: v.number(), reason: v.string() },
  returns: v.string(),
  handler: async (ctx: MutationCtx, { entries, reason }) =>
    ctx.runMutation(components.auditLog.log.append, {
      operation: {
        actorId: "x",
        actorKind: "user",
        roles: [],
        functionName: "raw",
        reason,
        args: {},
        request: null,
        time: 0,
        tables: ["users"],
      },
      entries: Array.from({ length: entries }, (_, i) => ({
        table: "users",
        docId: `d${i}`,
        kind: "insert" as const,
        before: null,
        after: { i },
        changed: ["i"],
      })),
    }),
});

/** Calls a test-only function installed in the component (see tamper.ts). */
export const tamper = mutation({
  args: { fn: v.string(), args: v.any() },
  returns: v.any(),
  handler: async (ctx: MutationCtx, { fn, args }) =>
    ctx.runMutation(
      (components.auditLog as unknown as Record<string, Record<string, never>>)
        .tamper[fn],
      args as never,
    ),
});
/** Reads raw component rows (test-only), for assertions on storage. */
export const raw = query({
  args: { fn: v.string(), args: v.any() },
  returns: v.any(),
  handler: async (ctx: QueryCtx, { fn, args }) =>
    ctx.runQuery(
      (components.auditLog as unknown as Record<string, Record<string, never>>)
        .tamper[fn],
      args as never,
    ),
});

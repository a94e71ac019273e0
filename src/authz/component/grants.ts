import { paginator } from "convex-helpers/server/pagination";
import {
  paginationOptsValidator,
  paginationResultValidator,
} from "convex/server";
import { v } from "convex/values";
import {
  checkNumItems,
  checkPageCursor,
  opskitError,
  shown,
} from "../../shared/errors.js";
import {
  isValidScope,
  MAX_USER_ID_LENGTH,
  userIdProblem,
  type Grant,
} from "../shared/policy.js";
import {
  mutation,
  query,
  type MutationCtx,
  type QueryCtx,
} from "./_generated/server.js";
import { vGrant, vMember } from "../shared/validators.js";
import schema from "./schema.js";
import { deleteExpiredMembers, earliestExpiry, ensureSweep } from "./expiry.js";

/** Grants per user are kept in one document; this bounds its size. */
export const MAX_GRANTS_PER_USER = 500;

/** Stored scope for global grants (valid scopes always contain ":"). */
const GLOBAL = "";

/** The largest page `listMembers` serves. */
const MAX_MEMBERS_PAGE = 1000;

const grantArgs = {
  userId: v.string(),
  role: v.string(),
  scope: v.optional(v.string()),
};

function validate(args: { userId: string; role: string; scope?: string }) {
  const problem = userIdProblem(args.userId);
  if (problem !== null)
    throw opskitError(
      "INVALID_ARGUMENT",
      `userId must be 1 to ${MAX_USER_ID_LENGTH} characters without control characters; it ${problem}`,
      {
        userId: args.userId.slice(0, 64),
        length: args.userId.length,
        maxLength: MAX_USER_ID_LENGTH,
      },
    );
  if (args.role.length === 0 || args.role.length > 100)
    throw opskitError("INVALID_ARGUMENT", "role must be a non-empty name", {
      role: args.role.slice(0, 100),
    });
  if (args.scope !== undefined && !isValidScope(args.scope))
    throw opskitError(
      "INVALID_ARGUMENT",
      `scope must look like "kind:id" (e.g. "team:42"), got ${JSON.stringify(args.scope.slice(0, 64))}`,
      { scope: args.scope.slice(0, 256) },
    );
}

/**
 * The membership row of `userId` holding `role` in `scope` (a grant's scope:
 * absent = global, stored as `""`), or null. One indexed point read.
 */
export async function findMember(
  ctx: QueryCtx,
  scope: string | undefined,
  userId: string,
  role: string,
) {
  return await ctx.db
    .query("members")
    .withIndex("by_scope_user_role", (q) =>
      q
        .eq("scope", scope ?? GLOBAL)
        .eq("userId", userId)
        .eq("role", role),
    )
    .unique();
}

async function loadUser(ctx: MutationCtx, userId: string) {
  return await ctx.db
    .query("userGrants")
    .withIndex("by_userId", (q) => q.eq("userId", userId))
    .unique();
}

/** The user's grants (expired ones included; the client filters at its own `now`). */
export const getUserGrants = query({
  args: { userId: v.string() },
  returns: v.array(vGrant),
  handler: async (ctx, { userId }) => {
    const doc = await ctx.db
      .query("userGrants")
      .withIndex("by_userId", (q) => q.eq("userId", userId))
      .unique();
    return doc?.grants ?? [];
  },
});

/**
 * Grants a role, globally or for one scope, optionally until `expiresAt`.
 * Granting again replaces the expiry. Writes 2 documents (the user's grant
 * document and the scope membership row). `created` is false only when a
 * live (unexpired) grant of this role and scope existed.
 */
export const grantRole = mutation({
  args: { ...grantArgs, expiresAt: v.optional(v.number()) },
  returns: v.object({ created: v.boolean() }),
  handler: async (ctx, args) => {
    validate(args);
    const now = Date.now();
    if (
      args.expiresAt !== undefined &&
      (!Number.isFinite(args.expiresAt) || args.expiresAt <= now)
    )
      throw opskitError(
        "INVALID_ARGUMENT",
        "expiresAt must be a timestamp (ms) in the future",
        { expiresAt: args.expiresAt, now },
      );
    const grant: Grant = { role: args.role };
    if (args.scope !== undefined) grant.scope = args.scope;
    if (args.expiresAt !== undefined) grant.expiresAt = args.expiresAt;

    const doc = await loadUser(ctx, args.userId);
    // Expired grants are dropped whenever the document is rewritten anyway.
    const kept = (doc?.grants ?? []).filter(
      (g) =>
        !(g.role === args.role && g.scope === args.scope) &&
        (g.expiresAt === undefined || g.expiresAt > now),
    );
    // New unless a live grant of this role and scope existed: an expired one
    // waiting for its sweep, or another grant dropped as expired, is not it.
    const created = !(doc?.grants ?? []).some(
      (g) =>
        g.role === args.role &&
        g.scope === args.scope &&
        (g.expiresAt === undefined || g.expiresAt > now),
    );
    if (kept.length >= MAX_GRANTS_PER_USER)
      throw opskitError(
        "INVALID_ARGUMENT",
        `a user can hold at most ${MAX_GRANTS_PER_USER} grants`,
        { userId: args.userId },
      );
    const grants = [...kept, grant];
    // `nextExpiry` puts the document on the expiry sweep's index (expiry.ts).
    const nextExpiry = earliestExpiry(grants);
    if (doc) await ctx.db.patch("userGrants", doc._id, { grants, nextExpiry });
    else
      await ctx.db.insert("userGrants", {
        userId: args.userId,
        grants,
        ...(nextExpiry === undefined ? {} : { nextExpiry }),
      });
    // Expiry is a scheduled write, so live queries see it (expiry.ts).
    await deleteExpiredMembers(ctx, args.userId, doc?.grants ?? [], now);
    if (args.expiresAt !== undefined) await ensureSweep(ctx, args.expiresAt);

    const scope = args.scope ?? GLOBAL;
    const member = await findMember(ctx, args.scope, args.userId, args.role);
    const row: {
      scope: string;
      userId: string;
      role: string;
      expiresAt?: number;
    } = {
      scope,
      userId: args.userId,
      role: args.role,
    };
    if (args.expiresAt !== undefined) row.expiresAt = args.expiresAt;
    if (member) await ctx.db.replace("members", member._id, row);
    else await ctx.db.insert("members", row);
    return { created };
  },
});

/** Revokes one grant. Writes at most 2 documents; revoking nothing writes nothing. */
export const revokeRole = mutation({
  args: grantArgs,
  returns: v.object({ revoked: v.boolean() }),
  handler: async (ctx, args) => {
    validate(args);
    const now = Date.now();
    const doc = await loadUser(ctx, args.userId);
    let revoked = false;
    if (doc) {
      const grants = doc.grants.filter(
        (g) => !(g.role === args.role && g.scope === args.scope),
      );
      revoked = grants.length !== doc.grants.length;
      const live = grants.filter(
        (g) => g.expiresAt === undefined || g.expiresAt > now,
      );
      if (revoked) {
        if (live.length === 0) await ctx.db.delete("userGrants", doc._id);
        else
          await ctx.db.patch("userGrants", doc._id, {
            grants: live,
            nextExpiry: earliestExpiry(live),
          });
        await deleteExpiredMembers(ctx, args.userId, grants, now);
      }
    }
    const member = await findMember(ctx, args.scope, args.userId, args.role);
    if (member) {
      await ctx.db.delete("members", member._id);
      revoked = true;
    }
    return { revoked };
  },
});

/**
 * Members of a scope (or of the global scope when `scope` is omitted), one
 * row per (user, role), expired grants left out, paginated by user id.
 */
export const listMembers = query({
  args: {
    scope: v.optional(v.string()),
    paginationOpts: paginationOptsValidator,
  },
  returns: paginationResultValidator(vMember),
  handler: async (ctx, args) => {
    if (args.scope !== undefined && !isValidScope(args.scope))
      throw opskitError(
        "INVALID_ARGUMENT",
        `scope must look like "kind:id" (e.g. "team:42"); got ${shown(args.scope)}`,
        { scope: args.scope.slice(0, 256) },
      );
    checkNumItems(args.paginationOpts.numItems, { max: MAX_MEMBERS_PAGE });
    const now = Date.now();
    const scope = args.scope ?? GLOBAL;
    const members = paginator(ctx.db, schema)
      .query("members")
      .withIndex("by_scope_user_role", (q) => q.eq("scope", scope));
    // A cursor is one key of this index (or [] when done); anything else is forged.
    const keyLength = members.getIndexFields().length;
    checkPageCursor(
      args.paginationOpts.cursor,
      "paginationOpts.cursor",
      keyLength,
    );
    checkPageCursor(
      args.paginationOpts.endCursor,
      "paginationOpts.endCursor",
      keyLength,
    );
    const result = await members.paginate(args.paginationOpts);
    return {
      page: result.page
        .filter((m) => m.expiresAt === undefined || m.expiresAt > now)
        .map((m) => ({
          userId: m.userId,
          role: m.role,
          expiresAt: m.expiresAt,
        })),
      isDone: result.isDone,
      continueCursor: result.continueCursor,
    };
  },
});

/**
 * Return validators for what the authz client gives back, for apps that pass
 * those results through their own functions (`returns: vMembersPage`).
 * Pages are built on `paginationResultValidator` from `convex/server`.
 */
import { paginationResultValidator } from "convex/server";
import { v, type Infer } from "convex/values";

/** One grant as `listRoles` returns it: role, scope (absent = global), expiry. */
export const vGrant = v.object({
  role: v.string(),
  scope: v.optional(v.string()),
  expiresAt: v.optional(v.number()),
});

/** One member of a scope as `listMembers` returns it. */
export const vMember = v.object({
  userId: v.string(),
  role: v.string(),
  expiresAt: v.optional(v.number()),
});
/** One {@link vMember}. */
export type Member = Infer<typeof vMember>;

/** A page of `listMembers`. */
export const vMembersPage = paginationResultValidator(vMember);

/** What `authorize` returns. */
export const vAuthorization = v.object({
  actorId: v.string(),
  actorKind: v.union(v.literal("user"), v.literal("service")),
  roles: v.array(v.string()),
});

/** What `grant` returns. */
export const vGrantResult = v.object({ created: v.boolean() });

/** What `revoke` returns. */
export const vRevokeResult = v.object({ revoked: v.boolean() });

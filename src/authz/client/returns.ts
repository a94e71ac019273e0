/**
 * Return validators for what the authz client gives back, for apps that pass
 * those results through their own functions (`returns: vMembersPage`).
 * Pages are built on `paginationResultValidator` from `convex/server`.
 */
import { paginationResultValidator } from "convex/server";
import { v } from "convex/values";
import { vMember } from "../shared/validators.js";

export { vGrant, vMember, type Member } from "../shared/validators.js";

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

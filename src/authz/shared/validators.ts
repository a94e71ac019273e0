/**
 * Validators both sides of authz use: the component stores and returns
 * these shapes, the client re-exports them for apps that pass its results
 * through their own functions.
 */
import { v, type Infer } from "convex/values";

/** One grant: role, scope (absent = global), expiry (ms; absent = never). */
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

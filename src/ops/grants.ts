/**
 * Who may hand out which role from the console: pure rules over compiled
 * roles, no Convex context. A role can be granted or revoked only by someone
 * who already holds, in that scope, everything the role allows; `"*"` roles
 * are never handed out from the console.
 */
import {
  grantApplies,
  patternMatches,
  type CompiledRoles,
  type Grant,
} from "../authz/shared/policy.js";

/** The patterns a compiled role holds, as written in the roles config. */
export function rolePatterns(roles: CompiledRoles, role: string): string[] {
  const r = roles.get(role);
  if (!r) return [];
  if (r.all) return ["*"];
  return [...r.exact, ...r.prefixes.map((p) => `${p}*`)];
}

/** Whether pattern `outer` covers everything pattern `inner` covers. */
export function patternCovers(outer: string, inner: string): boolean {
  if (outer === "*") return true;
  if (inner === "*") return false;
  if (inner.endsWith(".*")) {
    if (!outer.endsWith(".*")) return false;
    return inner.startsWith(outer.slice(0, -1));
  }
  return patternMatches(outer, inner);
}

/**
 * Whether a holder of `grants` may grant or revoke `role` in `scope` at
 * `now`: the role is not `"*"`, exists, and each of its patterns is covered
 * by a pattern of a role the holder has there.
 */
export function mayAssign(
  roles: CompiledRoles,
  grants: readonly Grant[],
  role: string,
  scope: string | undefined,
  now: number,
): boolean {
  const target = roles.get(role);
  if (!target || target.all) return false;
  const held = grants
    .filter((g) => grantApplies(g, scope, now))
    .flatMap((g) => rolePatterns(roles, g.role));
  return rolePatterns(roles, role).every((p) =>
    held.some((h) => patternCovers(h, p)),
  );
}

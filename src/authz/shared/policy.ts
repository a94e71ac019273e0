/**
 * Pure policy evaluation for authz: permission names and wildcards, role
 * compilation, grant applicability, scope syntax and constant-time key
 * comparison. No Convex context here, so every rule is tested directly.
 */

import { definitionError } from "../../shared/definitions.js";

/** Roles as written in the config: role name → permissions (exact or wildcard). */
export type RolesConfig = Record<string, readonly string[]>;

/** A wildcard pattern: `"*"` (everything) or `"<prefix>.*"` (everything under a prefix). */
export type WildcardPattern = "*" | `${string}.*`;

/**
 * Every `prefix.*` pattern that covers permission `P`:
 * `"posts.comments.write"` → `"posts.*" | "posts.comments.*"`.
 */
export type PrefixPatterns<P extends string> =
  P extends `${infer Head}.${infer Tail}`
    ? `${Head}.*` | `${Head}.${PrefixPatterns<Tail>}`
    : never;

/** The wildcards a role may hold for a given set of permission names. */
export type WildcardsOf<P extends string> = "*" | PrefixPatterns<P>;

/** Permission names mentioned in the roles, wildcards excluded. */
export type PermissionsOf<R extends RolesConfig> = Exclude<
  R[keyof R][number],
  WildcardPattern
>;

/** One stored grant of a role to a user, global (no scope) or for one scope. */
export type Grant = {
  role: string;
  scope?: string;
  expiresAt?: number;
};

/** A role compiled for fast matching. */
type CompiledRole = { all: boolean; exact: Set<string>; prefixes: string[] };

/** Roles compiled once per Authz instance; evaluation is then O(grants). */
export type CompiledRoles = Map<string, CompiledRole>;

/** Whether `pattern` (exact, `"*"` or `"a.b.*"`) covers `permission`. */
export function patternMatches(pattern: string, permission: string): boolean {
  if (pattern === "*") return true;
  if (pattern.endsWith(".*"))
    return permission.startsWith(pattern.slice(0, -1));
  return pattern === permission;
}

/** Compiles the role config; rejects malformed permission patterns early. */
export function compileRoles(roles: RolesConfig): CompiledRoles {
  if (typeof roles !== "object" || roles === null || Array.isArray(roles))
    throw definitionError(
      "authz",
      "roles must be an object of role names to permission lists",
    );
  const out: CompiledRoles = new Map();
  for (const [role, permissions] of Object.entries(roles)) {
    if (!Array.isArray(permissions))
      throw definitionError(
        "authz",
        `role "${role}" must list its permissions`,
      );
    const compiled: CompiledRole = {
      all: false,
      exact: new Set(),
      prefixes: [],
    };
    for (const p of permissions) {
      if (typeof p !== "string" || !isPermissionPattern(p))
        throw definitionError(
          "authz",
          `role "${role}" has a malformed permission ${JSON.stringify(p)}; expected "name", "prefix.*" or "*"`,
        );
      if (p === "*") compiled.all = true;
      else if (p.endsWith(".*")) compiled.prefixes.push(p.slice(0, -1));
      else compiled.exact.add(p);
    }
    out.set(role, compiled);
  }
  return out;
}

const SEGMENT = "[A-Za-z0-9_-]+";
const PERMISSION_RE = new RegExp(`^${SEGMENT}(\\.${SEGMENT})*$`);
const PATTERN_RE = new RegExp(`^(\\*|${SEGMENT}(\\.${SEGMENT})*(\\.\\*)?)$`);

/** A concrete permission name: dot-separated segments, no wildcard. */
export function isPermissionName(p: string): boolean {
  return p.length <= 200 && PERMISSION_RE.test(p);
}

/** A permission name or wildcard pattern as allowed in a role. */
export function isPermissionPattern(p: string): boolean {
  return p.length <= 200 && PATTERN_RE.test(p);
}

/** Whether role `role` grants `permission` (false for roles not in the config). */
export function roleGrants(
  roles: CompiledRoles,
  role: string,
  permission: string,
): boolean {
  const r = roles.get(role);
  if (!r) return false;
  if (r.all || r.exact.has(permission)) return true;
  return r.prefixes.some((prefix) => permission.startsWith(prefix));
}

/**
 * Whether a grant counts for a request at `now` for `scope`: not expired, and
 * global or for exactly that scope. A scoped grant never satisfies a global
 * check, so a team editor is not an editor everywhere.
 */
export function grantApplies(
  grant: Grant,
  scope: string | undefined,
  now: number,
): boolean {
  if (grant.expiresAt !== undefined && grant.expiresAt <= now) return false;
  return grant.scope === undefined || grant.scope === scope;
}

/** Role names (deduplicated, sorted) that apply to `scope` at `now`. */
export function applicableRoles(
  grants: readonly Grant[],
  scope: string | undefined,
  now: number,
): string[] {
  const names = new Set<string>();
  for (const g of grants) if (grantApplies(g, scope, now)) names.add(g.role);
  return [...names].sort();
}

/** Whether any applicable grant's role covers `permission`. */
export function hasPermission(
  roles: CompiledRoles,
  grants: readonly Grant[],
  permission: string,
  scope: string | undefined,
  now: number,
): boolean {
  return grants.some(
    (g) => grantApplies(g, scope, now) && roleGrants(roles, g.role, permission),
  );
}

const SCOPE_RE =
  /^[A-Za-z][A-Za-z0-9_.-]{0,63}:[^\s\u0000-\u001f\u007f]{1,190}$/;

/**
 * Scopes look like `kind:id` (`team:42`, `org:acme/eu`): a kind starting with
 * a letter, a colon, then an id without whitespace or control characters.
 * The shape is enforced so a typo (`"team42"`, `" team:42"`) fails loudly
 * instead of silently matching nothing.
 */
export function isValidScope(scope: string): boolean {
  return typeof scope === "string" && SCOPE_RE.test(scope);
}

/**
 * Longest user id authz accepts, in characters (UTF-16 code units, as
 * `string.length` counts). Room for a `tokenIdentifier` (`"<issuer>|<subject>"`)
 * with a long issuer URL and a long subject.
 */
export const MAX_USER_ID_LENGTH = 1024;

/**
 * What is wrong with a user id, in words (`null` when it is fine): it must be
 * a string of 1 to {@link MAX_USER_ID_LENGTH} characters without control
 * characters.
 */
export function userIdProblem(userId: unknown): string | null {
  if (typeof userId !== "string") return `is a ${typeof userId}, not a string`;
  if (userId.length === 0) return "is empty";
  if (userId.length > MAX_USER_ID_LENGTH)
    return `is ${userId.length} characters long; the limit is ${MAX_USER_ID_LENGTH}`;
  const control = userId.search(/[\u0000-\u001f\u007f]/);
  if (control >= 0) return `contains a control character at index ${control}`;
  return null;
}

/** A user id as stored: 1 to {@link MAX_USER_ID_LENGTH} characters, no control characters. */
export function isValidUserId(userId: string): boolean {
  return userIdProblem(userId) === null;
}

/**
 * Compares two secrets in time that depends only on the presented key's
 * length, never on where the first differing character is, so an attacker
 * cannot guess a key one character at a time from response times.
 */
export function constantTimeEqual(
  presented: string,
  expected: string,
): boolean {
  const a = new TextEncoder().encode(presented);
  const b = new TextEncoder().encode(expected);
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length; i++)
    diff |= a[i] ^ (b[i % (b.length || 1)] ?? 0);
  return diff === 0 && b.length > 0;
}

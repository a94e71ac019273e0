/**
 * The checks of `new Authz(component, config)` beyond its roles: each
 * mistake (untyped code, a config built at runtime) is `INVALID_ARGUMENT`
 * naming what was expected and what arrived, when the module loads, rather
 * than a string read character by character or a TypeError at the first
 * request.
 */
import { definitionError, isRecord } from "../../shared/definitions.js";
import { shown } from "../../shared/errors.js";
import { type CompiledRoles, isPermissionName } from "../shared/policy.js";
import { checkRuleTables } from "./rowRules.js";

/** Throws `INVALID_ARGUMENT` at the first malformed option of `config` (roles already compiled). */
export function checkAuthzConfig(
  config: {
    permissions?: unknown;
    services?: unknown;
    getUserId?: unknown;
    rules?: unknown;
  },
  compiled: CompiledRoles,
): void {
  const { permissions, services, getUserId, rules } = config;
  if (permissions !== undefined && !Array.isArray(permissions))
    throw definitionError(
      "authz",
      `permissions must be an array of permission names; got ${shown(permissions)}`,
    );
  for (const p of (permissions ?? []) as unknown[])
    if (typeof p !== "string" || !isPermissionName(p))
      throw definitionError(
        "authz",
        `malformed permission name ${JSON.stringify(p)}`,
      );
  if (services !== undefined && !isRecord(services))
    throw definitionError(
      "authz",
      `services must be an object of service names to { key, roles }; got ${shown(services)}`,
    );
  for (const [name, service] of Object.entries(services ?? {})) {
    const roles = (service as { roles?: unknown } | null)?.roles;
    if (!Array.isArray(roles))
      throw definitionError("authz", `service "${name}" must list its roles`);
    for (const role of roles)
      if (!compiled.has(role))
        throw definitionError(
          "authz",
          `service "${name}" uses unknown role "${role}"`,
        );
  }
  if (getUserId !== undefined && typeof getUserId !== "function")
    throw definitionError(
      "authz",
      `getUserId must be a function of ctx returning the user id or null; got ${shown(getUserId)}`,
    );
  if (rules === undefined) return;
  const tables = isRecord(rules) ? rules.tables : undefined;
  if (!isRecord(tables))
    throw definitionError(
      "authz",
      `rules must be made by defineRules({ table: rules, ... }); got ${shown(rules)}`,
    );
  checkRuleTables(tables);
}

/**
 * What every section of `opsApi` shares, built once from its options (and
 * checked there: a permission no role grants, or no revert tables, is an
 * `INVALID_ARGUMENT` when the API is defined): the permission of each
 * section, the builders, and the argument checks.
 */
import {
  actionGeneric,
  getFunctionName,
  queryGeneric,
  type GenericDataModel,
  type TableNamesInDataModel,
} from "convex/server";
import { roleGrants, type CompiledRoles } from "../authz/shared/policy.js";
import type { MigrationFunctionReference } from "../migrations/client.js";
import type { RateLimiter } from "../rateLimiter/client.js";
import type { RateLimitConfig } from "../rateLimiter/shared/config.js";
import type { RunMutationCtx, RunQueryCtx } from "../shared/ctx.js";
import { checkNumItems, opskitError } from "../shared/errors.js";
import {
  DEFAULT_OPS_PERMISSIONS,
  OPS_MAX_PAGE_SIZE,
  type OpsApiOptions,
  type OpsSection,
} from "./options.js";

/** The app's `RateLimiter` with its names widened to `string` (checked by `limitName`). */
type LooseLimiter = {
  getValue: (
    ctx: RunQueryCtx,
    name: string,
    opts: { key?: string },
  ) => ReturnType<RateLimiter["getValue"]>;
  reset: (
    ctx: RunMutationCtx,
    name: string,
    opts: { key?: string },
  ) => Promise<void>;
};

/**
 * Refuses, with the coded error of every definition-time mistake, options
 * that are not an object or lack the `authz` and `auditLog` instances (the
 * checks after it read them).
 */
function checkOptionShapes(options: unknown): void {
  if (typeof options !== "object" || options === null)
    throw opskitError(
      "INVALID_ARGUMENT",
      `opsApi: takes { authz, auditLog, revertTables, ... }; got ${options === null ? "null" : typeof options}`,
    );
  const { authz, auditLog } = options as {
    authz?: { compiled?: unknown };
    auditLog?: { adminMutation?: unknown };
  };
  if (!(authz?.compiled instanceof Map))
    throw opskitError(
      "INVALID_ARGUMENT",
      "opsApi: options.authz must be an Authz instance (new Authz(...))",
    );
  if (typeof auditLog?.adminMutation !== "function")
    throw opskitError(
      "INVALID_ARGUMENT",
      "opsApi: options.auditLog must be an AuditLog instance (new AuditLog(...))",
    );
}

/** Builds the shared parts of {@link opsApi}'s sections (and checks `options`). */
export function opsDeps<
  DataModel extends GenericDataModel,
  Perm extends string,
>(options: OpsApiOptions<DataModel, Perm>) {
  checkOptionShapes(options);
  const { authz, auditLog } = options;
  const roles: CompiledRoles = authz.compiled;
  const perm = {
    ...DEFAULT_OPS_PERMISSIONS,
    ...options.permissions,
  } as Record<OpsSection, Perm>;
  for (const [section, p] of Object.entries(perm))
    if (![...roles.keys()].some((r) => roleGrants(roles, r, p)))
      throw opskitError(
        "INVALID_ARGUMENT",
        `opsApi: no role grants "${p}" (the ${section} permission); add it to a role or pass permissions.${section}`,
        { section, permission: p },
      );
  if (!Array.isArray(options.revertTables) || options.revertTables.length === 0)
    throw opskitError(
      "INVALID_ARGUMENT",
      "opsApi: revertTables must list the tables a revert may write",
    );
  const migrationRefs = new Map<string, MigrationFunctionReference>(
    (options.migrations?.list ?? []).map((ref) => [getFunctionName(ref), ref]),
  );
  const limits: Record<string, RateLimitConfig> =
    options.rateLimiter?.limits ?? {};

  const userQuery = authz.query(queryGeneric);
  const userAction = authz.action(actionGeneric);
  const admin = auditLog.adminMutation(authz);
  const componentTables = (name: string) =>
    [`component:${name}`] as unknown as TableNamesInDataModel<DataModel>[];

  const migrationsOrThrow = () => {
    if (!options.migrations)
      throw opskitError(
        "NOT_FOUND",
        "this app's opsApi has no migrations configured",
      );
    return options.migrations.instance;
  };
  const migrationRef = (name: string) => {
    const ref = migrationRefs.get(name);
    if (!ref)
      throw opskitError(
        "NOT_FOUND",
        `no migration ${JSON.stringify(name.slice(0, 100))}; expected one of: ${[...migrationRefs.keys()].join(", ") || "(none configured)"}`,
        { name: name.slice(0, 100) },
      );
    return ref;
  };
  const limitName = (name: string) => {
    if (!Object.hasOwn(limits, name))
      throw opskitError(
        "NOT_FOUND",
        `no rate limit ${JSON.stringify(name.slice(0, 100))}; expected one of: ${Object.keys(limits).join(", ") || "(none configured)"}`,
        { name: name.slice(0, 100) },
      );
    // Names were checked against the limiter's own config just above.
    return { limiter: options.rateLimiter as unknown as LooseLimiter, name };
  };
  const checkRange = (a: { from?: number; to?: number }) => {
    for (const k of ["from", "to"] as const)
      if (a[k] !== undefined && !Number.isFinite(a[k]))
        throw opskitError(
          "INVALID_ARGUMENT",
          `${k} must be a time in ms (a finite number); got ${a[k]}`,
        );
    if (a.from !== undefined && a.to !== undefined && a.from > a.to)
      throw opskitError(
        "INVALID_ARGUMENT",
        `the time range is empty: from (${a.from}) is after to (${a.to})`,
      );
  };
  const pageSize = (n: number) => {
    checkNumItems(n, { max: OPS_MAX_PAGE_SIZE });
    return n;
  };
  const validateTable = (table: string | undefined) => {
    if (table !== undefined && !options.revertTables.includes(table as never))
      throw opskitError(
        "INVALID_ARGUMENT",
        `unknown table ${JSON.stringify(table.slice(0, 100))}; expected one of: ${options.revertTables.join(", ")}`,
      );
  };
  return {
    options,
    authz,
    auditLog,
    roles,
    perm,
    migrationRefs,
    limits,
    userQuery,
    userAction,
    admin,
    componentTables,
    migrationsOrThrow,
    migrationRef,
    limitName,
    checkRange,
    pageSize,
    validateTable,
  };
}

/** What {@link opsDeps} returns: what every section of `opsApi` is built from. */
export type OpsDeps<
  DataModel extends GenericDataModel,
  Perm extends string,
> = ReturnType<typeof opsDeps<DataModel, Perm>>;

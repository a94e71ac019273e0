/**
 * `convex-opskit/ops`: the app-side admin API the console needs, in one call.
 *
 * ```ts
 * // convex/ops.ts
 * export const { opsConfig, auditTrail, ... } = opsApi({ authz, auditLog, ... });
 * ```
 *
 * Every function is built with the app's authz (a permission the app picks
 * per section) and every change is an audited admin mutation with a
 * required reason. The console components (`convex-opskit/react`) accept
 * exactly what this returns: `<OpsConsole api={api.ops} />`.
 */
import type {
  GenericDataModel,
  RegisteredAction,
  RegisteredMutation,
  RegisteredQuery,
} from "convex/server";
import type { Infer } from "convex/values";
import { auditSection } from "./audit.js";
import { configSection } from "./config.js";
import { opsDeps } from "./deps.js";
import { migrationsSection } from "./migrations.js";
import type { OpsApiOptions } from "./options.js";
import { rateLimitsSection } from "./rateLimits.js";
import { rolesSection } from "./roles.js";
import type { OpsApi, vTrailPage } from "./validators.js";

export { mayAssign, patternCovers } from "./grants.js";
export {
  OPS_FUNCTIONS,
  type MigrationRow,
  type OpsApi,
  type OpsConfig,
} from "./validators.js";
export {
  DEFAULT_OPS_PERMISSIONS,
  FIRST_READ_ROWS,
  MAX_PAGE_SIZE,
  OPS_MAX_PAGE_SIZE,
  MAX_SCAN_BYTES,
  MAX_SCAN_PAGES,
  MIN_ROW_ESTIMATE,
  type OpsApiOptions,
  type OpsSection,
} from "./options.js";

type Registered<F> = F extends OpsApi[keyof OpsApi]
  ? F["_type"] extends "query"
    ? RegisteredQuery<"public", F["_args"], Promise<F["_returnType"]>>
    : F["_type"] extends "mutation"
      ? RegisteredMutation<"public", F["_args"], Promise<F["_returnType"]>>
      : RegisteredAction<"public", F["_args"], Promise<F["_returnType"]>>
  : never;

/** What {@link opsApi} returns: export every member from one module. */
export type OpsFunctions = { [K in keyof OpsApi]: Registered<OpsApi[K]> };

/**
 * Builds the functions the admin console calls. Export all of them from one
 * module (`convex/ops.ts`) and pass `api.ops` to `<OpsConsole>`.
 *
 * - Reads (`auditTrail`, `auditOperations`, `auditOperation`, `auditVerify`)
 *   need `permissions.read`; filters combine freely, and each page reads at
 *   most {@link MAX_SCAN_PAGES} component pages and about
 *   {@link MAX_SCAN_BYTES} (it may come back short, never stuck: the cursor
 *   always advances).
 * - `auditRevert` (`permissions.revert`) restores documents of any table in
 *   `revertTables`, whatever permission the original change needed: give
 *   that permission only to people trusted with all of those tables, and
 *   use `afterRevert` to re-check what your own mutations check.
 * - Changes (`auditRevert`, `migrationRun`, `migrationControl`,
 *   `rateLimitReset`, `grantRole`, `revokeRole`) are admin mutations of
 *   `auditLog` with a required `reason`, recorded with who and why. Changes
 *   that only touch a component's state are recorded with the table marker
 *   `component:<name>`.
 * - `grantRole`/`revokeRole` refuse changes to one's own grants, roles
 *   holding `"*"`, and roles allowing more than the caller holds in that scope.
 *
 * @example
 * ```ts
 * import { opsApi } from "convex-opskit/ops";
 * export const { opsConfig, auditTrail, auditOperations, auditOperation, auditVerify,
 *   auditRevert, migrationsStatus, migrationReport, migrationRun, migrationControl,
 *   rateLimitValue, rateLimitReset, roleMembers, userGrants, grantRole, revokeRole,
 * } = opsApi({ authz, auditLog, revertTables: ["users", "posts"] });
 * ```
 */
export function opsApi<DataModel extends GenericDataModel, Perm extends string>(
  options: OpsApiOptions<DataModel, Perm>,
): OpsFunctions {
  const deps = opsDeps(options);
  const fns = {
    ...configSection(deps),
    ...auditSection(deps),
    ...migrationsSection(deps),
    ...rateLimitsSection(deps),
    ...rolesSection(deps),
  };
  return fns as unknown as OpsFunctions;
}

/** A page of {@link OpsApi.auditTrail}. */
export type TrailPage = Infer<typeof vTrailPage>;

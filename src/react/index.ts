/**
 * `convex-opskit/react`: the admin console (`<OpsConsole api={api.ops} />`
 * and each of its panels on its own) and the `useRateLimit` hook.
 * Pair the console with `opsApi` from `convex-opskit/ops` on the server.
 */
export { OpsConsole, type OpsConsoleProps, type OpsTab } from "./console.js";
export { AuditOperations, AuditTrail } from "./audit.js";
export { OperationDetail } from "./operation.js";
export { VerifyStatus } from "./verify.js";
export { EXPORT_LIMIT } from "./parts/ExportButtons.js";
export type { AuditFilters } from "./parts/FilterForm.js";
export { MigrationsPanel } from "./migrations.js";
export { RateLimitsPanel } from "./rateLimits.js";
export { RolesPanel } from "./roles.js";
export { ErrorBox, ReasonAction } from "./common.js";
export {
  describeError,
  fieldDiff,
  toCsv,
  toNdjson,
  type ErrorDescription,
  type FieldDiff,
} from "./format.js";
export { useOpsPages, useOpsQuery } from "./hooks.js";
export { opsConsoleCss } from "./styles.js";
export type { OpsApi } from "../ops/validators.js";
export {
  useRateLimit,
  statusAt,
  type GetRateLimitValueQuery,
  type GetServerTimeMutation,
  type RateLimitStatus,
  type UseRateLimitOptions,
} from "../rateLimiter/react.js";

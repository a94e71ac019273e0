/**
 * The internal modules tests reach into, in one place: everything a user
 * imports comes from the package name (`convex-opskit/...`, resolved to
 * `src/` by the `convex-opskit-source` condition in vitest.config.ts); the
 * cross-capability internals no entry point exports (error codes, document
 * limits, value comparison) are re-exported here, so their relative paths
 * are written once.
 */
export * from "../src/shared/errors.js";
export * from "../src/shared/limits.js";
export * from "../src/shared/values.js";
export { logEvent } from "../src/shared/log.js";
export {
  compileRoles,
  hasPermission,
  roleGrants,
} from "../src/authz/shared/policy.js";
export { collectPages } from "../src/react/format.js";

/**
 * The internal modules tests reach into, in one place: everything a user
 * imports comes from the package name (`convex-opskit/...`, resolved to
 * `src/` by the `convex-opskit-source` condition in vitest.config.ts); what
 * no entry point exports is re-exported here, so its relative path is
 * written once.
 */
export {
  ErrorCode,
  isOpskitError,
  opskitError,
  type OpskitErrorData,
} from "../src/shared/errors.js";

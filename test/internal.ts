/**
 * The internal modules tests reach into, in one place: everything a user
 * imports comes from the package name (`convex-opskit/...`, resolved to
 * `src/` by the `convex-opskit-source` condition in vitest.config.ts); what no
 * entry point exports (error codes, document limits, value comparison, each
 * capability's pure logic and bounds) is re-exported here, grouped by
 * capability, so their relative paths are written once. A test file imports
 * from `src/` only through this file (ESLint `no-restricted-imports` in
 * eslint.config.js). Default exports are re-exported under a named alias.
 */

// Cross-capability vocabulary (src/shared/).
export * from "../src/shared/errors.js";
export * from "../src/shared/limits.js";
export * from "../src/shared/values.js";
export { logEvent } from "../src/shared/log.js";
export { withoutSystemFields } from "../src/shared/documents.js";
export {
  functionNameOf,
  requestInfo,
  requireTransactionMetrics,
} from "../src/shared/meta.js";

// authz: role and permission logic, grant and expiry bounds.
export {
  applicableRoles,
  compileRoles,
  constantTimeEqual,
  grantApplies,
  hasPermission,
  isPermissionName,
  isPermissionPattern,
  isValidScope,
  isValidUserId,
  patternMatches,
  roleGrants,
} from "../src/authz/shared/policy.js";
export { MAX_GRANTS_PER_USER } from "../src/authz/component/grants.js";
export {
  BACKFILL_DOCUMENTS,
  EXPIRY_BATCH,
  EXPIRY_HORIZON_MS,
  EXPIRY_SCHEDULES_PER_TRANSACTION,
  EXPIRY_STALLED_MS,
} from "../src/authz/component/expiry.js";

// auditLog: diffs and redaction, snapshots, hashes, index choice; the
// component's schema and function builders (for test-only functions
// installed inside the component, test/auditLog/tamper.ts).
export {
  changedPaths,
  driftedPaths,
  redactDocument,
  redactKeys,
  restoreRedacted,
  sameVersion,
} from "../src/auditLog/client/diff.js";
export { netKind } from "../src/auditLog/client/capture.js";
export {
  MAX_CHANGED_BYTES,
  MAX_STORED_ARGS_BYTES,
  boundedChanged,
  decodeSnapshot,
  encodeSnapshot,
  fitsInline,
  splitUtf8,
  storableArgs,
  utf8Length,
} from "../src/auditLog/shared/snapshot.js";
export {
  canonicalJson,
  hashValue,
  sha256Bytes,
  sha256Hex,
} from "../src/auditLog/shared/hash.js";
export {
  ENTRY_INDEXES,
  OPERATION_INDEXES,
  indexFor,
} from "../src/auditLog/component/paging.js";
export { default as auditLogSchema } from "../src/auditLog/component/schema.js";
export {
  mutation as auditLogMutation,
  query as auditLogQuery,
} from "../src/auditLog/component/_generated/server.js";
export type { Id as AuditLogId } from "../src/auditLog/component/_generated/dataModel.js";

// migrations: journal, checksums, field diffs, batch sizing, progress; the
// component's schema.
export { splitJournalEntry } from "../src/migrations/client/journal.js";
export {
  definitionChecksum,
  hashText,
} from "../src/migrations/client/checksum.js";
export {
  addFieldCounts,
  changedFields,
  cloneValue,
  priorValues,
} from "../src/migrations/shared/diff.js";
export {
  MAX_FIELD_COUNTS,
  capFieldCounts,
} from "../src/migrations/component/engine.js";
export {
  CONVEX_LIMITS,
  DEFAULT_POLICY,
  halve,
  isLimitError,
  nextBatchSize,
} from "../src/migrations/component/batching.js";
export {
  cursorCreationTime,
  estimateProgress,
} from "../src/migrations/component/progress.js";
export { default as migrationsSchema } from "../src/migrations/component/schema.js";

// rateLimiter: the per-shard algorithms and their combination across shards,
// async drains, hot keys, sweeping; the component's crons.
export {
  available,
  consume,
  credit,
  fullAt,
  windowOrigin,
  windowStart,
  type ShardLimit,
  type ShardState,
} from "../src/rateLimiter/shared/algorithms.js";
export {
  allocate,
  refundShards,
  retryAfterFor,
  totalAvailable,
} from "../src/rateLimiter/shared/acrossShards.js";
export { shardLimit } from "../src/rateLimiter/shared/config.js";
export {
  DRAIN_BATCH,
  DRAIN_STALLED_MS,
} from "../src/rateLimiter/component/async.js";
export { isHot } from "../src/rateLimiter/component/hot.js";
export {
  SWEEP_MAX_DOCUMENTS,
  estimateBytes,
} from "../src/rateLimiter/component/sweep.js";
export { default as rateLimiterCrons } from "../src/rateLimiter/component/crons.js";

// The admin console (src/react/).
export { collectPages } from "../src/react/format.js";

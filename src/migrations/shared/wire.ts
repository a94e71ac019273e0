/**
 * Validators and types shared by the migrations component and its client:
 * the arguments every migration function accepts (a superset of
 * `@convex-dev/migrations`), what a batch reports back, and the status shape.
 */
import { type Infer, type ObjectType, v } from "convex/values";

/** How a run treats a document whose `migrateOne` throws or fails verification. */
export const vOnError = v.union(v.literal("stop"), v.literal("skip"));
/** `"stop"` fails the run at the first bad document; `"skip"` records it and goes on. */
export type OnError = Infer<typeof vOnError>;

/** A journal entry: the prior values of a document's changed fields. */
export const vJournalEntry = v.object({
  id: v.string(),
  prior: v.record(v.string(), v.any()),
  absent: v.array(v.string()),
});
/** One {@link vJournalEntry}. */
export type JournalEntry = Infer<typeof vJournalEntry>;

/** Arguments of the runner and of a migration called directly (CLI, dashboard). */
export const vRunnerArgs = {
  /** The migration, like `"migrations:setDefault"` (runner only). */
  fn: v.optional(v.string()),
  /** `null` restarts from the beginning; a cursor resumes there; unset resumes. */
  cursor: v.optional(v.union(v.string(), v.null())),
  /** Fixed batch size; unset sizes batches from measured usage. */
  batchSize: v.optional(v.number()),
  /** Walk the whole table without committing any write; store a report. */
  dryRun: v.optional(v.boolean()),
  /** Migrations to run after this one, in order. */
  next: v.optional(v.array(v.string())),
  /** Start over even if complete or running. */
  reset: v.optional(v.boolean()),
  /** Overrides the definition's `onError`. */
  onError: v.optional(vOnError),
  /** Overrides the definition's `journal`. */
  journal: v.optional(v.boolean()),
};
/** Arguments of {@link vRunnerArgs}. */
export type RunnerArgs = ObjectType<typeof vRunnerArgs>;

/**
 * Everything a migration function accepts: the runner arguments plus the
 * protocol the component uses (`oneBatchOnly` and `op`).
 */
export const vMigrationArgs = {
  ...vRunnerArgs,
  oneBatchOnly: v.optional(v.boolean()),
  op: v.optional(
    v.union(
      v.literal("describe"),
      v.literal("batch"),
      v.literal("retry"),
      v.literal("restore"),
    ),
  ),
  /** Documents to leave out of this batch (they failed in an earlier attempt). */
  skipIds: v.optional(v.array(v.string())),
  /** Documents to migrate (op `"retry"`). */
  ids: v.optional(v.array(v.string())),
  /** How many before/after samples the batch should return (dry run). */
  samples: v.optional(v.number()),
  /** Journal entries to restore (op `"restore"`). */
  entries: v.optional(v.array(vJournalEntry)),
  /**
   * The range identity (table and `customRange`) the run was started with;
   * a batch of a definition whose range differs refuses to run.
   */
  expectRange: v.optional(v.string()),
  /** Most bytes of journal one batch may return (the component writes them). */
  journalBytes: v.optional(v.number()),
};
/** Arguments of every migration function. */
export type MigrationArgs = ObjectType<typeof vMigrationArgs>;

/** Transaction usage of one batch, measured inside it. */
export const vBatchUsage = v.object({
  documentsRead: v.number(),
  documentsWritten: v.number(),
  bytesRead: v.number(),
  bytesWritten: v.number(),
  databaseQueries: v.optional(v.number()),
  /** Functions the batch scheduled (absent from older reports). */
  functionsScheduled: v.optional(v.number()),
  /** Bytes of arguments of the functions the batch scheduled. */
  scheduledFunctionArgsBytes: v.optional(v.number()),
  /** Wall time measured inside the batch: always 0 in production (frozen clock); reported, never used for sizing. */
  durationMs: v.number(),
});

/** A before/after pair kept by a dry run (`after` is null when the document would be deleted). */
export const vSample = v.object({
  id: v.string(),
  before: v.any(),
  after: v.union(v.any(), v.null()),
});

/** Per-field change counts. */
export const vFieldCounts = v.array(
  v.object({ field: v.string(), count: v.number() }),
);

/** A document that failed, with the reason. */
export const vDocFailure = v.object({ id: v.string(), message: v.string() });

/** What one batch (op `"batch"` or `"retry"`) reports to the component. */
export const vBatchResult = v.object({
  kind: v.literal("batch"),
  continueCursor: v.string(),
  isDone: v.boolean(),
  processed: v.number(),
  changed: v.number(),
  unchanged: v.number(),
  /** Documents that no longer exist (retry of deleted documents). */
  missing: v.number(),
  /** Ids that migrated without error (used to resolve earlier failures). */
  succeeded: v.array(v.string()),
  failures: v.array(vDocFailure),
  /** Failures past the ones listed (dry runs list at most 1,000 per batch). */
  moreFailures: v.optional(v.number()),
  fieldChanges: vFieldCounts,
  samples: v.array(vSample),
  journal: v.array(vJournalEntry),
  usage: vBatchUsage,
});
/** One {@link vBatchResult}. */
export type BatchResult = Infer<typeof vBatchResult>;

/** What op `"describe"` returns: the definition's identity and table span. */
export const vDescribeResult = v.object({
  kind: v.literal("describe"),
  table: v.string(),
  checksum: v.string(),
  onError: vOnError,
  journal: v.boolean(),
  batchSize: v.optional(v.number()),
  span: v.optional(v.object({ first: v.number(), last: v.number() })),
  /** Identity of the walked range: the table and the `customRange` code. */
  range: v.optional(v.string()),
});
/** One {@link vDescribeResult}. */
export type DescribeResult = Infer<typeof vDescribeResult>;

/** What op `"restore"` returns. */
export const vRestoreResult = v.object({
  kind: v.literal("restore"),
  restored: v.number(),
  missing: v.number(),
});
/** One {@link vRestoreResult}. */
export type RestoreResult = Infer<typeof vRestoreResult>;

/** Run states, those of `@convex-dev/migrations` plus `"paused"`. */
export const vRunState = v.union(
  v.literal("inProgress"),
  v.literal("success"),
  v.literal("failed"),
  v.literal("canceled"),
  v.literal("paused"),
  v.literal("unknown"),
);

/**
 * A migration's status: the fields of `@convex-dev/migrations`' status plus
 * accounting, progress and code identity.
 */
export const vMigrationStatus = v.object({
  name: v.string(),
  cursor: v.optional(v.union(v.string(), v.null())),
  /** Documents visited so far (same meaning as in `@convex-dev/migrations`). */
  processed: v.number(),
  isDone: v.boolean(),
  error: v.optional(v.string()),
  state: vRunState,
  latestStart: v.number(),
  latestEnd: v.optional(v.number()),
  batchSize: v.optional(v.number()),
  next: v.optional(v.array(v.string())),
  runId: v.optional(v.string()),
  dryRun: v.boolean(),
  changed: v.number(),
  unchanged: v.number(),
  /** Documents that failed (skipped or, for a dry run, would fail). */
  failed: v.number(),
  /** Failed documents not yet migrated by a later retry. */
  pendingFailures: v.number(),
  batches: v.number(),
  percent: v.optional(v.number()),
  docsPerSecond: v.optional(v.number()),
  etaMs: v.optional(v.number()),
  checksum: v.optional(v.string()),
  /** The definition changed since this run completed. */
  codeChanged: v.boolean(),
  warnings: v.array(v.string()),
});
/** One {@link vMigrationStatus}. */
export type MigrationStatus = Infer<typeof vMigrationStatus>;

/** A run with its full report: status plus field counts, samples and failures. */
export const vRunReport = v.object({
  status: vMigrationStatus,
  fieldChanges: vFieldCounts,
  samples: v.array(vSample),
  failures: v.array(
    v.object({
      id: v.string(),
      message: v.string(),
      resolved: v.boolean(),
      attempts: v.number(),
    }),
  ),
  journal: v.boolean(),
  rolledBack: v.boolean(),
  args: v.any(),
});
/** One {@link vRunReport}. */
export type RunReport = Infer<typeof vRunReport>;

/** Why a migration is listed as pending. */
export const vPendingReason = v.union(
  v.literal("neverRun"),
  v.literal("inProgress"),
  v.literal("paused"),
  v.literal("failed"),
  v.literal("canceled"),
  v.literal("incomplete"),
  v.literal("codeChanged"),
);

/** One entry of the pending list. */
export const vPendingMigration = v.object({
  name: v.string(),
  reason: vPendingReason,
  status: v.optional(vMigrationStatus),
});
/** One {@link vPendingMigration}. */
export type PendingMigration = Infer<typeof vPendingMigration>;

/** Error kinds a migration function throws to the component (internal protocol). */
export const PROTOCOL = {
  dryRun: "opskit.migrations.dryRun",
  /** The definition's table or range differs from the run's. */
  rangeChanged: "opskit.migrations.rangeChanged",
  /** The batch would exceed a budget the runner set (journal bytes). */
  limit: "opskit.migrations.limit",
} as const;

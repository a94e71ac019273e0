/**
 * Validators shared by the auditLog component and its client: the shape of
 * what an admin operation records, and of what the queries return.
 */
import { paginationResultValidator } from "convex/server";
import { v, type Infer, type Validator, type Value } from "convex/values";

/** The net effect of an admin operation on one document. */
export const vEntryKind = v.union(
  v.literal("insert"),
  v.literal("patch"),
  v.literal("replace"),
  v.literal("delete"),
);
/** One of `insert`, `patch`, `replace`, `delete`. */
export type EntryKind = Infer<typeof vEntryKind>;

/** Request metadata from `ctx.meta.getRequestMetadata()` (never the auth token). */
export const vRequest = v.object({
  ip: v.union(v.string(), v.null()),
  userAgent: v.union(v.string(), v.null()),
  requestId: v.string(),
  scheduledFunctionId: v.union(v.string(), v.null()),
});
/** Request metadata recorded with an operation. */
export type RequestInfo = Infer<typeof vRequest>;

/** Which operation (and optionally which entry) a revert undid. */
export const vRevertOf = v.object({
  operationId: v.string(),
  entryId: v.optional(v.string()),
});

/** Where a value stored across snapshot parts lives: its text's SHA-256, UTF-8 size and part count. */
export const vSnapshotRef = v.object({
  hash: v.string(),
  bytes: v.number(),
  parts: v.number(),
});
/** Which value of its owner a snapshot part belongs to. */
export const vSnapshotSide = v.union(
  v.literal("before"),
  v.literal("after"),
  v.literal("args"),
);

/**
 * The fields of one touched document, shared by what the client hands over
 * ({@link vEntryInput}), what the queries return ({@link vEntry}) and the
 * component's `entries` table.
 */
export const vEntryFields = {
  table: v.string(),
  docId: v.string(),
  kind: vEntryKind,
  before: v.union(v.any(), v.null()),
  after: v.union(v.any(), v.null()),
  changed: v.array(v.string()),
};

/** What the component records with each entry besides {@link vEntryFields}, its operation and index. */
export const vEntryRecordFields = {
  /** How many paths changed, when there were more than `changed` keeps (about 2 KiB of paths). */
  changedTotal: v.optional(v.number()),
  actorId: v.string(),
  functionName: v.string(),
  time: v.number(),
};

/** One touched document, as the client hands it to the component. */
export const vEntryInput = v.object(vEntryFields);
/** One touched document, as recorded. */
export type EntryInput = Infer<typeof vEntryInput>;

/** Everything recorded about one admin call, besides its entries. */
export const vOperationFields = {
  actorId: v.string(),
  actorKind: v.string(),
  roles: v.array(v.string()),
  functionName: v.string(),
  reason: v.string(),
  args: v.any(),
  request: v.union(vRequest, v.null()),
  time: v.number(),
  tables: v.array(v.string()),
  revertOf: v.optional(vRevertOf),
};

/** An operation as the queries return it. */
export const vOperation = v.object({
  operationId: v.string(),
  ...vOperationFields,
  entryCount: v.number(),
  /** Position in the hash chain; absent until the sealing step has run. */
  seq: v.optional(v.number()),
  hash: v.optional(v.string()),
});
/** An operation as the queries return it. */
export type Operation = Infer<typeof vOperation>;

/** An entry as the queries return it. */
export const vEntry = v.object({
  entryId: v.string(),
  operationId: v.string(),
  index: v.number(),
  ...vEntryFields,
  ...vEntryRecordFields,
});
/** An entry as the queries return it. */
export type Entry = Infer<typeof vEntry>;

/**
 * A document's last recorded version, as reconcile reads it: `after` is
 * loaded while the page's read budget allows; past it only `afterHash`
 * (SHA-256 of its canonical JSON) is, which is enough to tell whether the
 * live document still matches.
 */
export const vRecordedVersion = v.object({
  entryId: v.string(),
  kind: vEntryKind,
  after: v.union(v.any(), v.null()),
  afterHash: v.string(),
  afterLoaded: v.boolean(),
});
/** A document's last recorded version, as reconcile reads it. */
export type RecordedVersion = Infer<typeof vRecordedVersion>;

/**
 * A page of results, as Convex pagination returns it (`splitCursor` and
 * `pageStatus` when a refetch up to `endCursor` must be split):
 * `paginationResultValidator` from `convex/server`.
 */
export const vPage = <T extends Validator<Value, "required", string>>(
  item: T,
) => paginationResultValidator(item);

/** One problem `verify` found, and where. */
export const vChainProblem = v.object({
  kind: v.union(
    v.literal("missingOperation"),
    v.literal("brokenLink"),
    v.literal("operationEdited"),
    v.literal("entryEdited"),
    v.literal("entryMissing"),
    v.literal("entryAdded"),
    v.literal("headMismatch"),
  ),
  seq: v.number(),
  operationId: v.optional(v.string()),
  entryId: v.optional(v.string()),
  entryIndex: v.optional(v.number()),
  message: v.string(),
});
/** One problem `verify` found, and where. */
export type ChainProblem = Infer<typeof vChainProblem>;

/** One page of chain verification. */
export const vVerifyPage = v.object({
  checked: v.number(),
  problems: v.array(vChainProblem),
  /** The seq to continue from, when `isDone` is false. */
  nextSeq: v.number(),
  /** Where to resume inside operation `nextSeq` (its stored values already checked); pass it back as `fromSnapshot`. */
  nextSnapshot: v.number(),
  isDone: v.boolean(),
  /** Whether operations are waiting to be sealed (they are not covered yet). */
  pendingSeal: v.boolean(),
  firstSeq: v.union(v.number(), v.null()),
  lastSeq: v.union(v.number(), v.null()),
});

/** The fields of a retention run's row (the `retentionRuns` table) that callers see. */
export const vRetentionRunFields = {
  startedAt: v.number(),
  finishedAt: v.optional(v.number()),
  cutoff: v.number(),
  status: v.union(v.literal("running"), v.literal("done")),
  batches: v.number(),
  deletedOperations: v.number(),
  deletedEntries: v.number(),
  /** The last deleted operation's seq and hash: where the chain now starts. */
  anchorSeq: v.optional(v.number()),
  anchorHash: v.optional(v.string()),
};

/** A retention run, as recorded. */
export const vRetentionRun = v.object({
  runId: v.string(),
  ...vRetentionRunFields,
});
/** A retention run, as recorded. */
export type RetentionRun = Infer<typeof vRetentionRun>;

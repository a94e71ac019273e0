/**
 * The hash chain, as pure functions shared by the sealing step and `verify`.
 *
 * Each sealed operation's hash covers the previous operation's hash, its own
 * seq, every recorded field of the operation (actor, reason, args, time,
 * commit timestamp...) and the hash of each of its entries in order. Editing,
 * deleting or reordering any sealed operation or entry therefore changes a
 * hash that a later link, or the stored head, still remembers.
 *
 * The field lists of `operationContentHash` (format 1) and
 * `operationContentHashV2` (format 2) repeat on purpose: each is a frozen
 * hash format that stored chains were sealed with, so neither may change
 * when the other does.
 */
import type { Value } from "convex/values";
import { hashValue, sha256Hex } from "../shared/hash.js";

/** The `prevHash` of the first operation ever sealed. */
export const GENESIS_HASH = "0".repeat(64);

/** The fields of an operation the chain covers. */
export type ChainedOperation = {
  actorId: string;
  actorKind: string;
  roles: string[];
  functionName: string;
  reason: string;
  args: Value;
  request: Value;
  time: number;
  tables: string[];
  entryCount: number;
  revertOf?: { operationId: string; entryId?: string };
  commitTs: bigint;
};

/** The fields of an entry the chain covers. */
export type ChainedEntry = {
  operationId: string;
  index: number;
  table: string;
  docId: string;
  kind: string;
  before: Value;
  after: Value;
  changed: string[];
  actorId: string;
  functionName: string;
  time: number;
};

/** Hash of one entry's recorded content. */
export function entryHash(e: ChainedEntry): string {
  return hashValue({
    operationId: e.operationId,
    index: e.index,
    table: e.table,
    docId: e.docId,
    kind: e.kind,
    before: e.before,
    after: e.after,
    changed: e.changed,
    actorId: e.actorId,
    functionName: e.functionName,
    time: e.time,
  });
}

/** Hash of one operation's recorded content (without its entries). */
export function operationContentHash(
  operationId: string,
  op: ChainedOperation,
): string {
  return hashValue({
    operationId,
    actorId: op.actorId,
    actorKind: op.actorKind,
    roles: op.roles,
    functionName: op.functionName,
    reason: op.reason,
    args: op.args,
    request: op.request,
    time: op.time,
    tables: op.tables,
    entryCount: op.entryCount,
    revertOf: op.revertOf ?? null,
    commitTs: op.commitTs,
  });
}

/** The link hash of a sealed operation. */
export function linkHash(
  prevHash: string,
  seq: number,
  contentHash: string,
  entryHashes: readonly string[],
): string {
  return sha256Hex(
    [prevHash, String(seq), contentHash, ...entryHashes].join("\n"),
  );
}

/**
 * The hash format of operations appended by this version (absent on rows of
 * format 1). Format 2 binds each entry's `_id`, hashes before/after/args by
 * their content hash (so values stored across snapshot parts are covered
 * byte for byte without the sealer reading them), and fixes each entry's
 * hash at append time.
 */
export const HASH_FORMAT = 2;

/** The fields of an entry the format-2 chain covers; values by their content hash. */
export type ChainedEntryV2 = Omit<ChainedEntry, "before" | "after"> & {
  entryId: string;
  beforeHash: string;
  afterHash: string;
  changedTotal?: number;
};

/** Hash of one entry (format 2): its id, position, metadata and the hashes of its before and after. */
export function entryHashV2(e: ChainedEntryV2): string {
  return hashValue({
    format: HASH_FORMAT,
    entryId: e.entryId,
    operationId: e.operationId,
    index: e.index,
    table: e.table,
    docId: e.docId,
    kind: e.kind,
    beforeHash: e.beforeHash,
    afterHash: e.afterHash,
    changed: e.changed,
    changedTotal: e.changedTotal ?? null,
    actorId: e.actorId,
    functionName: e.functionName,
    time: e.time,
  });
}

/** Hash of one operation's recorded content (format 2): arguments by their content hash. */
export function operationContentHashV2(
  operationId: string,
  op: Omit<ChainedOperation, "args">,
  argsHash: string,
): string {
  return hashValue({
    format: HASH_FORMAT,
    operationId,
    actorId: op.actorId,
    actorKind: op.actorKind,
    roles: op.roles,
    functionName: op.functionName,
    reason: op.reason,
    argsHash,
    request: op.request,
    time: op.time,
    tables: op.tables,
    entryCount: op.entryCount,
    revertOf: op.revertOf ?? null,
    commitTs: op.commitTs,
  });
}

/** An operation row as append leaves it (format 2): what {@link appendHash} covers. */
export type AppendedOperation = Omit<ChainedOperation, "args" | "commitTs"> & {
  _id: string;
  args: Value;
  argsRef?: { hash: string };
  entryHashes?: readonly string[];
};

/**
 * Hash of an operation row as append recorded it (format 2): every recorded
 * field (arguments by their content hash), its entry count and its entries'
 * hashes. Stored with the row and checked by sealing and by `verify`, so an
 * operation edited while pending (its reason, actor, time, arguments, or
 * its count and entry hashes together) is reported like an edited entry.
 */
export function appendHash(op: AppendedOperation): string {
  return hashValue({
    format: HASH_FORMAT,
    stage: "append",
    operationId: op._id,
    actorId: op.actorId,
    actorKind: op.actorKind,
    roles: op.roles,
    functionName: op.functionName,
    reason: op.reason,
    argsHash: op.argsRef?.hash ?? hashValue(op.args),
    request: op.request,
    time: op.time,
    tables: op.tables,
    entryCount: op.entryCount,
    entryHashes: [...(op.entryHashes ?? [])],
    revertOf: op.revertOf ?? null,
  });
}

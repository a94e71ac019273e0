// Over ~400 lines, not yet split: the split along its seams is issue 13's
// (architecture) work, planned file by file and kept out of the hardening
// sessions so the attack fixes could land without a concurrent reshape.
/**
 * The app side of a migration: what the function made by `migrations.define`
 * does when the component calls it for one batch (op "batch"), for a list of
 * documents that failed before (op "retry"), to describe itself (op
 * "describe") or to restore journaled values (op "restore").
 */
import { paginator } from "convex-helpers/server/pagination";
import { validate } from "convex-helpers/validators";
import {
  defineSchema,
  defineTable,
  type DocumentByName,
  type GenericDataModel,
  type GenericDatabaseWriter,
  type GenericMutationCtx,
  type NamedTableInfo,
  type OrderedQuery,
  type QueryInitializer,
  type SchemaDefinition,
  type TableDefinition,
  type TableNamesInDataModel,
} from "convex/server";
import {
  ConvexError,
  type GenericId,
  getConvexSize,
  type Validator,
  type Value,
} from "convex/values";
import { checkPageCursor, opskitError, shown } from "../shared/errors.js";
import { transactionMetrics } from "./meta.js";
import {
  type BatchResult,
  type DescribeResult,
  type JournalEntry,
  MAX_ARRAY_LENGTH,
  type MigrationArgs,
  type OnError,
  PROTOCOL,
  type RestoreResult,
} from "./shared.js";
import {
  addFieldCounts,
  changedFields,
  cloneValue,
  type DocFields,
  priorValues,
} from "./diff.js";

/** A document of `TableName` as `migrateOne` receives it. */
export type MigrationDoc<
  DataModel extends GenericDataModel,
  TableName extends TableNamesInDataModel<DataModel>,
> = DocumentByName<DataModel, TableName> & { _id: GenericId<TableName> };

/**
 * What a document must satisfy after migrating for the run to count as
 * complete: a predicate (`true` passes; `false` or a message fails) or a
 * Convex validator (extra fields allowed).
 */
export type Verification<Doc> =
  ((doc: Doc) => boolean | string) | Validator<unknown, "required", string>;

/** A migration definition: the options of `@convex-dev/migrations` plus opskit's. */
export type MigrationDefinition<
  DataModel extends GenericDataModel,
  TableName extends TableNamesInDataModel<DataModel>,
> = {
  /** The table to walk. */
  table: TableName;
  /**
   * Migrates one document: write with `ctx.db`, or return a patch object.
   * Throwing fails the document (see `onError`). A failed document's writes
   * (to any document, the scheduler or a component) are never committed;
   * later documents of its batch do not see what it wrote through this
   * `ctx`, in a real run or a dry run.
   */
  migrateOne: (
    ctx: GenericMutationCtx<DataModel>,
    doc: MigrationDoc<DataModel, TableName>,
  ) =>
    | void
    | Partial<DocumentByName<DataModel, TableName>>
    | Promise<Partial<DocumentByName<DataModel, TableName>> | void>;
  /** Walk an index range instead of the whole table (needs `schema` in the options). */
  customRange?: (
    q: QueryInitializer<NamedTableInfo<DataModel, TableName>>,
  ) => OrderedQuery<NamedTableInfo<DataModel, TableName>>;
  /** Fixed documents per batch. Unset: sized from measured transaction usage. */
  batchSize?: number;
  /** Run `migrateOne` for a batch's documents concurrently. */
  parallelize?: boolean;
  /**
   * `"stop"` (default) fails the run at the first bad document, rolling back
   * its batch; `"skip"` records it, runs its batch again without it (so
   * nothing it wrote is committed) and continues.
   */
  onError?: OnError;
  /** A check every migrated document must pass. */
  verify?: Verification<MigrationDoc<DataModel, TableName>>;
  /** Keep the prior values of changed fields so the run can be rolled back. */
  journal?: boolean;
};

/** Settings from the `Migrations` options that the batch logic needs. */
export type BatchSettings = {
  schema?: SchemaDefinition<Record<string, TableDefinition>, boolean>;
  defaultBatchSize?: number;
  checksum: string;
  /** {@link rangeChecksum} of the definition's table and `customRange`. */
  range: string;
};

type AnyDoc = DocFields & { _id: GenericId<string> };

/** Largest before+after pair kept as a dry-run sample. */
const MAX_SAMPLE_BYTES = 64 * 1024;
/** Failures a dry-run batch reports one by one (the component stores 1,000 per run). */
const MAX_REPORTED_FAILURES = 1_000;
/** Failure messages are stored and logged; keep them short. */
const MAX_MESSAGE_LENGTH = 1_000;
/**
 * Largest journal entry stored in one journal row: a row is a document
 * (1 MiB at most) that also holds the run id, the document id and its own
 * system fields (under 512 bytes together). A larger entry is split by
 * field across rows; only a single field within about 512 bytes of the
 * 1 MiB document limit cannot be journaled.
 */
export const MAX_JOURNAL_ENTRY_BYTES = 1024 * 1024 - 512;

/**
 * Splits a journal entry whose prior values exceed {@link MAX_JOURNAL_ENTRY_BYTES}
 * into entries over disjoint fields (restoring each restores the whole).
 * Throws when a single field's prior value alone is too large to store.
 */
export function splitJournalEntry(
  entry: JournalEntry,
  max = MAX_JOURNAL_ENTRY_BYTES,
): JournalEntry[] {
  if (getConvexSize(entry) <= max) return [entry];
  const out: JournalEntry[] = [];
  let current: JournalEntry = { id: entry.id, prior: {}, absent: entry.absent };
  for (const [field, value] of Object.entries(entry.prior)) {
    const alone = getConvexSize({
      id: entry.id,
      prior: { [field]: value },
      absent: [],
    });
    if (alone > max)
      throw new Error(
        `the prior value of field "${field}" is about ${alone} bytes, more than a journal row holds (${max}); run this migration with journal: false, or split the field`,
      );
    const next = { ...current, prior: { ...current.prior, [field]: value } };
    if (getConvexSize(next) > max) {
      out.push(current);
      current = { id: entry.id, prior: { [field]: value }, absent: [] };
    } else current = next;
  }
  out.push(current);
  return out;
}

function messageOf(e: unknown): string {
  if (e instanceof ConvexError) {
    const data = e.data as { message?: unknown } | string;
    if (typeof data === "string") return data;
    if (data && typeof data.message === "string") return data.message;
    return JSON.stringify(data);
  }
  return e instanceof Error ? e.message : String(e);
}

function isValidator(x: unknown): x is Validator<unknown, "required", string> {
  return (
    typeof x === "object" &&
    x !== null &&
    (x as { isConvexValidator?: unknown }).isConvexValidator === true
  );
}

/** Why `doc` fails `verify`, or null when it passes. */
export function verificationProblem(
  verify: Verification<never>,
  doc: AnyDoc,
): string | null {
  if (isValidator(verify)) {
    const { _id: _ignoredId, _creationTime: _ignoredTime, ...fields } = doc;
    try {
      validate(verify, fields, { throw: true, allowUnknownFields: true });
      return null;
    } catch (e) {
      return `verification failed: ${messageOf(e)}`;
    }
  }
  const verdict = (verify as (d: AnyDoc) => boolean | string)(doc);
  if (verdict === true) return null;
  return typeof verdict === "string"
    ? `verification failed: ${verdict}`
    : "verification failed";
}

/** Writes of the whole batch so far, across documents. */
type BatchWrites = {
  /** Ids deleted: a document deleted by an earlier one is not migrated. */
  deleted: Set<unknown>;
  /** Ids patched, replaced or deleted through ctx.db. */
  written: Set<unknown>;
};

/** What one document's `migrateOne` wrote, to undo it if the document fails. */
class WriteLog {
  /** Anything at all was written (through ctx.db, the scheduler or a mutation). */
  any = false;
  /** Its own document was patched or replaced. */
  own = false;
  /** Its own document was deleted (cannot be undone in place). */
  ownDeleted = false;
  /** Documents it inserted and has not deleted since. */
  inserted = new Set<unknown>();
  /** It patched, replaced or deleted a document other than its own that it did not insert. */
  foreign = false;
  /** It scheduled a function or called a mutation: writes ctx.db cannot see. */
  opaque = false;

  constructor(
    private readonly id: string,
    private readonly batch: BatchWrites,
  ) {}

  wrote(kind: "patch" | "replace" | "delete", target: unknown) {
    this.any = true;
    this.batch.written.add(target);
    if (kind === "delete") this.batch.deleted.add(target);
    if (target === this.id) {
      if (kind === "delete") this.ownDeleted = true;
      else this.own = true;
    } else if (this.inserted.has(target)) {
      if (kind === "delete") this.inserted.delete(target);
    } else this.foreign = true;
  }

  added(id: unknown) {
    this.any = true;
    this.inserted.add(id);
  }
}

type AnyFn = (...a: unknown[]) => unknown;

// Wraps a database writer (ctx.db, or what ctx.db.table(name) returns) so
// that every write is entered in `log`. `tableScoped` writers take the id
// first; ctx.db takes (id, ...) or (table, id, ...).
function watchWrites<DB extends object>(
  db: DB,
  log: WriteLog,
  tableScoped = false,
): DB {
  return new Proxy(db, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== "function") return value;
      const fn = value as AnyFn;
      if (prop === "insert")
        return async (...args: unknown[]) => {
          const id = await fn.apply(target, args);
          log.added(id);
          return id;
        };
      if (prop === "patch" || prop === "replace" || prop === "delete")
        return async (...args: unknown[]) => {
          const withTable =
            !tableScoped && args.length >= (prop === "delete" ? 2 : 3);
          const id = withTable ? args[1] : args[0];
          const out = await fn.apply(target, args);
          log.wrote(prop, id);
          return out;
        };
      if (prop === "table" && !tableScoped)
        return (...args: unknown[]) =>
          watchWrites(fn.apply(target, args) as object, log, true);
      return fn.bind(target);
    },
  });
}

// Wraps the scheduler so that scheduling (or canceling) counts as a write.
function watchScheduler<S extends object>(scheduler: S, log: WriteLog): S {
  return new Proxy(scheduler, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        log.any = true;
        log.opaque = true;
        return (value as AnyFn).apply(target, args);
      };
    },
  });
}

function withoutSystemFields(doc: AnyDoc): DocFields {
  const { _id: _ignoredId, _creationTime: _ignoredTime, ...fields } = doc;
  return fields;
}

function applyPatch(doc: AnyDoc, patch: DocFields): AnyDoc {
  const out: AnyDoc = { ...doc };
  for (const [k, value] of Object.entries(patch)) {
    if (value === undefined) delete out[k];
    else out[k] = value;
  }
  return out;
}

/** Accumulates one batch's accounting. */
class BatchTally {
  changed = 0;
  unchanged = 0;
  missing = 0;
  succeeded: string[] = [];
  failures: Array<{ id: string; message: string }> = [];
  fields = new Map<string, number>();
  samples: BatchResult["samples"] = [];
  journal: JournalEntry[] = [];
  journalBytes = 0;
  /** The journal outgrew the budget the runner set: the batch must shrink. */
  journalOver = false;
  constructor(
    private readonly samplesWanted: number,
    private readonly keepJournal: boolean,
    private readonly journalBudget = Infinity,
  ) {}

  /** The journal entries of a changed document, checked before anything is counted. */
  journalFor(before: AnyDoc, after: AnyDoc | null): JournalEntry[] {
    if (!this.keepJournal || after === null) return [];
    const fields = changedFields(before, after);
    if (fields.length === 0) return [];
    return splitJournalEntry({
      id: before._id,
      ...priorValues(before, fields),
    });
  }

  record(before: AnyDoc, after: AnyDoc | null, entries: JournalEntry[] = []) {
    this.succeeded.push(before._id);
    if (after === null) {
      this.changed++;
      this.count(["(deleted)"]);
      this.sample(before, null);
      return;
    }
    const fields = changedFields(before, after);
    if (fields.length === 0) {
      this.unchanged++;
      return;
    }
    this.changed++;
    this.count(fields);
    this.sample(before, after);
    for (const entry of entries) {
      this.journal.push(entry);
      this.journalBytes += getConvexSize(entry);
    }
    if (this.journalBytes > this.journalBudget) this.journalOver = true;
  }

  private count(fields: string[]) {
    for (const f of fields) this.fields.set(f, (this.fields.get(f) ?? 0) + 1);
  }

  private sample(before: AnyDoc, after: AnyDoc | null) {
    if (this.samples.length >= this.samplesWanted) return;
    // Samples live in the run's row (1 MiB max): large documents are skipped.
    const size = getConvexSize(before) + (after ? getConvexSize(after) : 0);
    if (size <= MAX_SAMPLE_BYTES)
      this.samples.push({ id: before._id, before, after });
  }

  fieldChanges() {
    return addFieldCounts(
      [],
      [...this.fields].map(([field, count]) => ({ field, count })),
    );
  }
}

async function usageSince(
  ctx: GenericMutationCtx<GenericDataModel>,
  start: Awaited<
    ReturnType<
      GenericMutationCtx<GenericDataModel>["meta"]["getTransactionMetrics"]
    >
  >,
  startedAt: number,
): Promise<BatchResult["usage"]> {
  const end = await transactionMetrics(ctx);
  return {
    documentsRead: end.documentsRead.used - start.documentsRead.used,
    documentsWritten: end.documentsWritten.used - start.documentsWritten.used,
    bytesRead: end.bytesRead.used - start.bytesRead.used,
    bytesWritten: end.bytesWritten.used - start.bytesWritten.used,
    databaseQueries: end.databaseQueries.used - start.databaseQueries.used,
    ...scheduledSince(start, end),
    durationMs: Date.now() - startedAt,
  };
}

type Metrics = Awaited<ReturnType<typeof transactionMetrics>>;

/**
 * Functions (and argument bytes) scheduled between two metric readings.
 * A rolled-back batch reports these with its error: production does not
 * give the scheduled-function budget back when a sub-mutation rolls back.
 */
function scheduledSince(start: Metrics, end: Metrics) {
  return {
    functionsScheduled:
      (end.functionsScheduled?.used ?? 0) -
      (start.functionsScheduled?.used ?? 0),
    scheduledFunctionArgsBytes:
      (end.scheduledFunctionArgsBytes?.used ?? 0) -
      (start.scheduledFunctionArgsBytes?.used ?? 0),
  };
}

/**
 * How far past the function's `Date.now()` a cursor's `_creationTime` may
 * be (creation times carry a fraction of a millisecond, and clocks differ
 * a little between machines); anything later is refused as forged.
 */
const FUTURE_CURSOR_SLACK_MS = 60_000;

/** Longest part of a refused cursor quoted back in the error. */
const MAX_QUOTED_CURSOR = 100;

/**
 * Why `cursor` cannot be where a walk of `table` starts, or null when it
 * can. A walk's cursor is a JSON array of the index key it stopped at, which
 * ends with the `_creationTime` and `_id` of a document of `table` (`"[]"`:
 * the beginning). A cursor from another table, another tool or a typo would
 * start the walk at an arbitrary point, skip documents and still end in
 * `success`, so it is refused before anything is written.
 *
 * @param normalizeId - `ctx.db.normalizeId`: whether a string is an id of `table`.
 * @param customRange - whether the walk uses `customRange` (more index fields precede).
 */
export function cursorProblem(
  cursor: string,
  table: string,
  normalizeId: (table: string, id: string) => unknown,
  customRange: boolean,
): string | null {
  const quoted =
    cursor.length > MAX_QUOTED_CURSOR
      ? `${JSON.stringify(cursor.slice(0, MAX_QUOTED_CURSOR))}… (${cursor.length} characters)`
      : JSON.stringify(cursor);
  const expected = `a cursor returned by a run of this migration over "${table}" (a JSON array ending in a _creationTime and an id of "${table}"), or null to start from the beginning`;
  let key: unknown;
  try {
    key = JSON.parse(cursor);
  } catch {
    return `cursor must be ${expected}; got ${quoted}, which is not JSON`;
  }
  if (!Array.isArray(key))
    return `cursor must be ${expected}; got ${quoted}, which is not an array`;
  if (key.length === 0) return null;
  const id = key[key.length - 1];
  const time = key[key.length - 2];
  const fieldsOk = customRange ? key.length >= 2 : key.length === 2;
  if (
    !fieldsOk ||
    typeof time !== "number" ||
    !Number.isFinite(time) ||
    typeof id !== "string" ||
    normalizeId(table, id) === null
  )
    return `cursor must be ${expected}; got ${quoted}`;
  return null;
}

/**
 * {@link cursorProblem}, and then whether the cursor's document (when it
 * still exists) was created when the cursor says and no later than now: a
 * hand-made `[1e20, "<id>"]` would otherwise skip every document.
 */
async function checkCursor(
  db: GenericDatabaseWriter<GenericDataModel>,
  table: string,
  cursor: string,
  customRange: boolean,
): Promise<void> {
  const problem = cursorProblem(
    cursor,
    table,
    (t, id) => db.normalizeId(t, id),
    customRange,
  );
  if (problem) throw opskitError("INVALID_ARGUMENT", problem, { table });
  const key = JSON.parse(cursor) as unknown[];
  if (key.length === 0) return;
  const time = key[key.length - 2] as number;
  const id = db.normalizeId(table, key[key.length - 1] as string)!;
  const doc = await db.get(id);
  if (
    time > Date.now() + FUTURE_CURSOR_SLACK_MS ||
    (doc !== null && doc._creationTime !== time)
  )
    throw opskitError(
      "INVALID_ARGUMENT",
      `cursor must be a cursor returned by a run of this migration over "${table}"; its _creationTime ${time} is not that of document ${id}${doc === null ? " (the cursor points into the future)" : ` (${doc._creationTime})`}`,
      { table },
    );
}

/** Describes a definition to the component (checksum, table, time span). */
export async function describeDefinition<
  DataModel extends GenericDataModel,
  TableName extends TableNamesInDataModel<DataModel>,
>(
  ctx: GenericMutationCtx<DataModel>,
  def: MigrationDefinition<DataModel, TableName>,
  settings: BatchSettings,
  cursor?: string | null,
): Promise<DescribeResult> {
  if (typeof cursor === "string")
    await checkCursor(
      ctx.db as unknown as GenericDatabaseWriter<GenericDataModel>,
      def.table,
      cursor,
      def.customRange !== undefined,
    );
  const out: DescribeResult = {
    kind: "describe",
    table: def.table,
    checksum: settings.checksum,
    onError: def.onError ?? "stop",
    journal: def.journal ?? false,
    range: settings.range,
  };
  const batchSize = def.batchSize ?? settings.defaultBatchSize;
  if (batchSize !== undefined) out.batchSize = batchSize;
  if (!def.customRange) {
    const db = ctx.db as unknown as GenericDatabaseWriter<GenericDataModel>;
    const first = await db.query(def.table).order("asc").first();
    const last = await db.query(def.table).order("desc").first();
    if (first && last)
      out.span = {
        first: first._creationTime as number,
        last: last._creationTime as number,
      };
  }
  return out;
}

/**
 * Runs one batch. In a real run a failing document throws MIGRATION_FAILED
 * with its id, rolling the whole batch back (every write of the failing
 * document with it) for the component to record the document and run the
 * batch again without it.
 *
 * A dry run throws the result inside a ConvexError so every write is rolled
 * back. Before going on past a failing document it undoes what that
 * document wrote, so later documents see what the real run (which runs
 * without it) shows them: writes to its own document are replaced with its
 * prior value and documents it inserted are deleted. Writes that cannot be
 * undone that way (deleting a document, writing another existing one or
 * its own after an earlier document wrote it, scheduling, calling a
 * mutation, or any write with `parallelize`) make it throw MIGRATION_FAILED
 * instead, and the component runs the batch again without the document, as
 * in the real run.
 */
export async function runDefinitionBatch<
  DataModel extends GenericDataModel,
  TableName extends TableNamesInDataModel<DataModel>,
>(
  ctx: GenericMutationCtx<DataModel>,
  def: MigrationDefinition<DataModel, TableName>,
  settings: BatchSettings,
  args: MigrationArgs,
): Promise<BatchResult> {
  const startedAt = Date.now();
  const start = await transactionMetrics(ctx);
  const db = ctx.db as unknown as GenericDatabaseWriter<GenericDataModel>;
  const dryRun = args.dryRun === true;
  if (args.expectRange !== undefined && args.expectRange !== settings.range)
    throw opskitError(
      "CONFLICT",
      `The table or customRange of this migration changed since its run started (the run walks ${shown(args.expectRange)}, the code now walks ${settings.range} over "${def.table}"); its cursor belongs to the old range.`,
      { kind: PROTOCOL.rangeChanged, table: def.table, range: settings.range },
    );
  const wanted =
    args.batchSize ?? def.batchSize ?? settings.defaultBatchSize ?? 100;
  if (!Number.isInteger(wanted) || wanted < 1)
    throw opskitError(
      "INVALID_ARGUMENT",
      `batchSize must be a positive integer, got ${wanted}`,
    );
  // Per-document arrays (journal, failures, retried ids) must stay within
  // Convex's array limit.
  const numItems = Math.min(wanted, MAX_ARRAY_LENGTH);
  let docs: AnyDoc[];
  let continueCursor = "";
  let isDone = false;
  const tally = new BatchTally(
    args.samples ?? 0,
    args.journal === true,
    args.journalBytes ?? Infinity,
  );
  if (args.op === "retry") {
    docs = [];
    for (const raw of args.ids ?? []) {
      const id = db.normalizeId(def.table, raw);
      const doc = id && ((await db.get(id)) as AnyDoc | null);
      if (doc) docs.push(doc);
      else {
        tally.missing++;
        tally.succeeded.push(raw);
      }
    }
  } else {
    if (def.customRange && !settings.schema)
      throw opskitError(
        "INVALID_ARGUMENT",
        "customRange needs your schema: new Migrations(components.migrations, { internalMutation, schema })",
      );
    const schema =
      settings.schema ??
      (defineSchema({ [def.table]: defineTable({}) }) as SchemaDefinition<
        Record<string, TableDefinition>,
        true
      >);
    const q = paginator(db as never, schema).query(
      def.table,
    ) as unknown as QueryInitializer<NamedTableInfo<DataModel, TableName>>;
    const range = def.customRange ? def.customRange(q) : q;
    checkPageCursor(
      args.cursor,
      "cursor",
      (range as { getIndexFields?: () => string[] }).getIndexFields?.().length,
    );
    const page = await range.paginate({
      cursor: args.cursor ?? null,
      numItems,
    });
    docs = page.page as unknown as AnyDoc[];
    continueCursor = page.continueCursor;
    isDone = page.isDone;
  }
  const skip = new Set(args.skipIds ?? []);
  const batch: BatchWrites = { deleted: new Set(), written: new Set() };
  // A dry-run document whose writes cannot be undone in place: the batch is
  // thrown away and run again without it, as the real run does.
  const isolate: Array<{ id: string; message: string }> = [];
  let visited = 0;
  const one = async (doc: AnyDoc) => {
    if (batch.deleted.has(doc._id)) return;
    visited++;
    if (skip.has(doc._id)) return;
    const before = cloneValue(doc) as AnyDoc;
    // An earlier document of this batch wrote this one: `before` (read with
    // the page) is not its current state and cannot restore it.
    const stale = batch.written.has(doc._id);
    const log = new WriteLog(doc._id, batch);
    const migrateCtx: GenericMutationCtx<DataModel> = {
      ...ctx,
      db: watchWrites(ctx.db, log),
      scheduler: watchScheduler(ctx.scheduler, log),
      runMutation: ((...a: unknown[]) => {
        log.any = true;
        log.opaque = true;
        return (ctx.runMutation as AnyFn).apply(ctx, a);
      }) as typeof ctx.runMutation,
    };
    try {
      const patch = await def.migrateOne(
        migrateCtx,
        doc as MigrationDoc<DataModel, TableName>,
      );
      let after: AnyDoc | null = before;
      if (log.own || log.ownDeleted)
        after = (await db.get(doc._id)) as AnyDoc | null;
      if (patch && typeof patch === "object" && Object.keys(patch).length > 0) {
        await db.patch(doc._id, patch as Record<string, Value>);
        log.wrote("patch", doc._id);
        // A patch's effect is known without reading the document back
        // (a read would count against the 4,096 queries per transaction).
        after = after && applyPatch(after, patch as DocFields);
      }
      if (after && def.verify) {
        const problem = verificationProblem(
          def.verify as Verification<never>,
          after,
        );
        if (problem) throw new Error(problem);
      }
      tally.record(before, after, tally.journalFor(before, after));
    } catch (e) {
      const message = messageOf(e).slice(0, MAX_MESSAGE_LENGTH);
      // A real run throws the whole batch away below. A dry run goes on, so
      // it first undoes what the document wrote: later documents must see
      // what they would see in the real run, which runs without it.
      if (dryRun && log.any) {
        const inPlace =
          !def.parallelize &&
          !log.foreign &&
          !log.opaque &&
          !log.ownDeleted &&
          !(log.own && stale);
        let undone = false;
        if (inPlace)
          try {
            for (const id of log.inserted)
              await db.delete(id as GenericId<string>);
            if (log.own)
              await db.replace(
                doc._id,
                withoutSystemFields(before) as Record<string, Value>,
              );
            undone = true;
          } catch {
            // Fall back to running the batch again without the document.
          }
        if (!undone) {
          isolate.push({ id: doc._id, message });
          return;
        }
      }
      tally.failures.push({ id: doc._id, message });
    }
  };
  if (def.parallelize) await Promise.all(docs.map(one));
  else
    for (const doc of docs) {
      await one(doc);
      if (
        isolate.length > 0 ||
        tally.journalOver ||
        (!dryRun && tally.failures.length > 0)
      )
        break;
    }
  // What a rolled-back attempt scheduled still counts in production.
  const spent = async () =>
    scheduledSince(start, await transactionMetrics(ctx));
  if (tally.journalOver)
    throw opskitError(
      "MIGRATION_FAILED",
      `The batch's journal exceeds ${args.journalBytes} bytes, more than the runner can write in this transaction`,
      { kind: PROTOCOL.limit, ...(await spent()) },
    );
  if (isolate.length > 0) {
    const { id, message } = isolate[0];
    throw opskitError("MIGRATION_FAILED", message, {
      docId: id,
      ...(await spent()),
    });
  }
  if (!dryRun && tally.failures.length > 0) {
    const { id, message } = tally.failures[0];
    throw opskitError("MIGRATION_FAILED", message, {
      docId: id,
      ...(await spent()),
    });
  }
  const result: BatchResult = {
    kind: "batch",
    continueCursor,
    isDone,
    processed: visited,
    changed: tally.changed,
    unchanged: tally.unchanged,
    missing: tally.missing,
    succeeded: args.op === "retry" ? tally.succeeded : [],
    // A dry-run batch of thousands of failing documents must not outgrow
    // what a function may return: the rest are only counted.
    failures: tally.failures.slice(0, MAX_REPORTED_FAILURES),
    ...(tally.failures.length > MAX_REPORTED_FAILURES
      ? { moreFailures: tally.failures.length - MAX_REPORTED_FAILURES }
      : {}),
    fieldChanges: tally.fieldChanges(),
    samples: tally.samples,
    journal: tally.journal,
    usage: await usageSince(
      ctx as unknown as GenericMutationCtx<GenericDataModel>,
      start,
      startedAt,
    ),
  };
  // Throwing rolls back every write of the batch; the component reads the
  // report from the error.
  if (dryRun) throw new ConvexError({ kind: PROTOCOL.dryRun, result });
  return result;
}

/** Restores journaled prior values (op "restore"). */
export async function restoreEntries(
  ctx: GenericMutationCtx<GenericDataModel>,
  table: string,
  entries: JournalEntry[],
): Promise<RestoreResult> {
  let restored = 0;
  let missing = 0;
  for (const entry of entries) {
    const id = ctx.db.normalizeId(table, entry.id);
    const doc = id && (await ctx.db.get(id));
    if (!id || !doc) {
      missing++;
      continue;
    }
    const patch: Record<string, Value | undefined> = { ...entry.prior };
    for (const f of entry.absent) patch[f] = undefined;
    await ctx.db.patch(id, patch);
    restored++;
  }
  return { kind: "restore", restored, missing };
}

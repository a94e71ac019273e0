/**
 * The app side of a migration: the definition types, and what the function
 * made by `migrations.define` does when the component calls it for one batch
 * (op "batch"), for a list of documents that failed before (op "retry") or
 * to describe itself (op "describe"). The op switch is `./handler.ts`;
 * restoring journaled values (op "restore") is `./journal.ts`.
 */
import { paginator } from "convex-helpers/server/pagination";
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
  type Validator,
  type Value,
} from "convex/values";
import { applyPatch } from "../../shared/documents.js";
import {
  checkPageCursor,
  errorMessage,
  opskitError,
  shown,
} from "../../shared/errors.js";
import { MAX_ARRAY_LENGTH } from "../../shared/limits.js";
import { requireTransactionMetrics } from "../../shared/meta.js";
import {
  type BatchResult,
  type DescribeResult,
  type MigrationArgs,
  type OnError,
  PROTOCOL,
} from "../shared/wire.js";
import { cloneValue, type DocFields } from "../shared/diff.js";
import { checkCursor, verificationProblem } from "./checks.js";
import {
  type AnyFn,
  type BatchWrites,
  undoDocument,
  watchScheduler,
  watchWrites,
  WriteLog,
} from "./dryRun.js";
import { BatchTally, scheduledSince, usageSince } from "./tally.js";

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

export type AnyDoc = DocFields & { _id: GenericId<string> };

/** Failures a dry-run batch reports one by one (the component stores 1,000 per run). */
const MAX_REPORTED_FAILURES = 1_000;
/** Failure messages are stored and logged; keep them short. */
const MAX_MESSAGE_LENGTH = 1_000;

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
  const start = await requireTransactionMetrics(ctx);
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
        // Plain on purpose: caught just below and recorded as the document's failure.
        if (problem) throw new Error(problem);
      }
      tally.record(before, after, tally.journalFor(before, after));
    } catch (e) {
      const message = errorMessage(e).slice(0, MAX_MESSAGE_LENGTH);
      // A real run throws the whole batch away below. A dry run goes on, so
      // it first undoes what the document wrote: later documents must see
      // what they would see in the real run, which runs without it.
      if (
        dryRun &&
        log.any &&
        !(await undoDocument(db, log, before, {
          stale,
          parallelize: def.parallelize === true,
        }))
      ) {
        isolate.push({ id: doc._id, message });
        return;
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
    scheduledSince(start, await requireTransactionMetrics(ctx));
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

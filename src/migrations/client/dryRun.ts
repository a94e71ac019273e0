/**
 * Isolation of a dry run's documents: every write a document's `migrateOne`
 * makes (through ctx.db, the scheduler or a mutation) is entered in a log,
 * so a failing document's writes can be undone before the next document
 * runs, or the batch run again without it.
 */
import type { GenericDataModel, GenericDatabaseWriter } from "convex/server";
import type { GenericId, Value } from "convex/values";
import { parseDbWrite } from "../../shared/dbCalls.js";
import { withoutSystemFields } from "../../shared/documents.js";
import type { AnyDoc } from "./define.js";

/** Writes of the whole batch so far, across documents. */
export type BatchWrites = {
  /** Ids deleted: a document deleted by an earlier one is not migrated. */
  deleted: Set<unknown>;
  /** Ids patched, replaced or deleted through ctx.db. */
  written: Set<unknown>;
};

/** What one document's `migrateOne` wrote, to undo it if the document fails. */
export class WriteLog {
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

export type AnyFn = (...a: unknown[]) => unknown;

// Wraps a database writer (ctx.db, or what ctx.db.table(name) returns) so
// that every write is entered in `log`. `tableScoped` writers take the id
// first; ctx.db takes (id, ...) or (table, id, ...), told apart the way
// Convex does (`parseDbWrite`: a trailing `undefined` is the id-only form).
export function watchWrites<DB extends object>(
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
          const id = tableScoped
            ? args[0]
            : parseDbWrite(prop === "delete" ? "delete" : "write", args).id;
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
export function watchScheduler<S extends object>(
  scheduler: S,
  log: WriteLog,
): S {
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

/**
 * Undoes in place what a failing dry-run document wrote, so later documents
 * see what the real run (which runs without it) shows them: documents it
 * inserted are deleted and its own document gets its prior value back.
 * Returns false when its writes cannot be undone that way (it deleted a document, wrote another existing one or
 * its own after an earlier document wrote it (`stale`), scheduled, called a
 * mutation, or ran with `parallelize`): the batch must then run again
 * without it, as in the real run.
 */
export async function undoDocument(
  db: GenericDatabaseWriter<GenericDataModel>,
  log: WriteLog,
  before: AnyDoc,
  { stale, parallelize }: { stale: boolean; parallelize: boolean },
): Promise<boolean> {
  const inPlace =
    !parallelize &&
    !log.foreign &&
    !log.opaque &&
    !log.ownDeleted &&
    !(log.own && stale);
  if (!inPlace) return false;
  try {
    for (const id of log.inserted) await db.delete(id as GenericId<string>);
    if (log.own)
      await db.replace(
        before._id,
        withoutSystemFields(before) as Record<string, Value>,
      );
    return true;
  } catch {
    // Fall back to running the batch again without the document.
    return false;
  }
}

/**
 * Isolation of a dry run's documents: every write a document's `migrateOne`
 * makes (through ctx.db, the scheduler or a mutation) is entered in a log,
 * so a failing document's writes can be undone before the next document
 * runs, or the batch run again without it.
 */

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
// first; ctx.db takes (id, ...) or (table, id, ...).
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

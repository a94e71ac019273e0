/**
 * An in-memory document store whose transactions record what Convex's OCC
 * check looks at: read sets as index key ranges, write sets as documents
 * with their index keys before and after. Component handlers run against
 * {@link Transaction.db} unchanged (the `ctx.db` subset they use: indexed
 * queries with `first`/`unique`/`take`/`collect`, `get`, `insert`, `patch`,
 * `replace`, `delete`), so the sets are the real code's.
 *
 * Read-set rules (the backend's `reads.rs`, `index_range.rs`,
 * `transaction.rs`): `db.get` reads one id on `by_id`, and so do `patch`,
 * `replace` and `delete` (they read the document they change); an indexed query reads the key range it consumed:
 * up to the last row returned when it stopped early, the whole range when it
 * ran out of rows (so a later insert into it conflicts).
 */

/** A stored document. */
export type Doc = Record<string, unknown> & {
  _id: string;
  _creationTime: number;
};

/** Per table, its indexes: name → fields (`_id` is appended, as in Convex). */
export type Schema = Record<string, Record<string, string[]>>;

type Key = unknown[];

/** One index range a transaction read. */
export type ReadRange = {
  table: string;
  index: string;
  prefix: unknown[];
  lower?: { value: unknown; inclusive: boolean };
  upper?: { value: unknown; inclusive: boolean };
  /** Inclusive end when the query stopped before the range ran out. */
  until?: Key;
};

/** One document written by a transaction. */
export type Write = {
  table: string;
  id: string;
  before: Doc | null;
  after: Doc | null;
};

function rank(x: unknown): number {
  if (x === undefined) return 0;
  if (x === null) return 1;
  if (typeof x === "bigint") return 2;
  if (typeof x === "number") return 3;
  if (typeof x === "boolean") return 4;
  if (typeof x === "string") return 5;
  return 6;
}

/** Convex's value order, enough for the types limiter indexes hold. */
export function compareValues(a: unknown, b: unknown): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (ra <= 1) return 0;
  if ((a as number) < (b as number)) return -1;
  if ((a as number) > (b as number)) return 1;
  return 0;
}

/** Lexicographic order of index keys. */
export function compareKeys(a: Key, b: Key): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = compareValues(a[i], b[i]);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

/** The key of `doc` in `index` of `table`. */
export function indexKey(
  schema: Schema,
  table: string,
  index: string,
  doc: Doc,
): Key {
  if (index === "by_id") return [doc._id];
  if (index === "by_creation_time") return [doc._creationTime, doc._id];
  const fields = schema[table]?.[index];
  if (!fields) throw new Error(`occ store: no index ${table}.${index}`);
  return [...fields.map((f) => doc[f]), doc._id];
}

/** Whether `key` lies in `range`. */
export function inRange(range: ReadRange, key: Key): boolean {
  const n = range.prefix.length;
  for (let i = 0; i < n; i++)
    if (compareValues(key[i], range.prefix[i]) !== 0) return false;
  const next = key[n];
  if (range.lower) {
    const c = compareValues(next, range.lower.value);
    if (c < 0 || (c === 0 && !range.lower.inclusive)) return false;
  }
  if (range.upper) {
    const c = compareValues(next, range.upper.value);
    if (c > 0 || (c === 0 && !range.upper.inclusive)) return false;
  }
  if (range.until && compareKeys(key, range.until) > 0) return false;
  return true;
}

/** Whether a committed write touches a read range (its key before or after). */
export function conflicts(
  schema: Schema,
  range: ReadRange,
  write: Write,
): boolean {
  if (write.table !== range.table) return false;
  for (const doc of [write.before, write.after])
    if (doc && inRange(range, indexKey(schema, range.table, range.index, doc)))
      return true;
  return false;
}

/** The committed documents. */
export class Store {
  docs = new Map<string, { table: string; doc: Doc }>();
  private byTable = new Map<string, Map<string, Doc>>();
  private next = 0;
  constructor(readonly schema: Schema) {}
  newId(table: string): string {
    return `${table}|${(this.next++).toString(36).padStart(8, "0")}`;
  }
  /** Applies a committed transaction's writes. */
  apply(writes: Write[], commitTs: number): void {
    for (const w of writes) {
      if (w.after === null) {
        this.docs.delete(w.id);
        this.byTable.get(w.table)?.delete(w.id);
      } else {
        const doc = { ...w.after };
        // `v.commitTs()` fields become the commit's timestamp.
        for (const [k, val] of Object.entries(doc))
          if (val === COMMIT_TS) doc[k] = BigInt(Math.round(commitTs * 1000));
        this.docs.set(w.id, { table: w.table, doc });
        let t = this.byTable.get(w.table);
        if (!t) this.byTable.set(w.table, (t = new Map()));
        t.set(w.id, doc);
      }
    }
  }
  tableDocs(table: string): Iterable<Doc> {
    return this.byTable.get(table)?.values() ?? [];
  }
}

/** Stands for `ctx.db.vars.commitTs` until the commit. */
export const COMMIT_TS = Symbol("commitTs");

/** One transaction: its snapshot is the store as it was when it began. */
export class Transaction {
  reads: ReadRange[] = [];
  /** Documents returned by reads (for the docs-read figure). */
  docsRead = 0;
  private overlay = new Map<string, { table: string; doc: Doc | null }>();
  private beforeOf = new Map<string, Doc | null>();
  constructor(
    readonly store: Store,
    readonly now: number,
    /** A stale read records nothing (`useStaleSnapshot`). */
    readonly record = true,
  ) {}

  get writes(): Write[] {
    const out: Write[] = [];
    for (const [id, { table, doc }] of this.overlay)
      out.push({
        table,
        id,
        before: this.beforeOf.get(id) ?? null,
        after: doc,
      });
    return out;
  }

  private current(table: string, keep: (d: Doc) => boolean): Doc[] {
    const out = new Map<string, Doc>();
    for (const d of this.store.tableDocs(table))
      if (!this.overlay.has(d._id) && keep(d)) out.set(d._id, d);
    for (const [id, { table: t, doc }] of this.overlay)
      if (t === table && doc && keep(doc)) out.set(id, doc);
    return [...out.values()];
  }

  private find(id: string): { table: string; doc: Doc } | null {
    const o = this.overlay.get(id);
    if (o) return o.doc ? { table: o.table, doc: o.doc } : null;
    return this.store.docs.get(id) ?? null;
  }

  private write(table: string, id: string, doc: Doc | null) {
    if (!this.beforeOf.has(id))
      this.beforeOf.set(id, this.store.docs.get(id)?.doc ?? null);
    this.overlay.set(id, { table, doc });
  }

  private read(range: ReadRange, returned: number) {
    this.docsRead += returned;
    if (this.record) this.reads.push(range);
  }

  /**
   * The document a patch, replace or delete starts from. The backend reads
   * it first (`transaction.rs`: `patch_inner`, `replace_inner` and
   * `delete_inner` call `get_inner`, which records the id on `by_id`), so a
   * write to it committed meanwhile conflicts even when nothing else read it.
   */
  touch(table: string, id: string): { table: string; doc: Doc } | null {
    const found = this.find(id);
    if (this.record) this.reads.push({ table, index: "by_id", prefix: [id] });
    return found;
  }

  /** Runs an index range query (ascending), recording the range it consumed. */
  runQuery(range: ReadRange, limit: number): Doc[] {
    const schema = this.store.schema;
    const keyOf = (doc: Doc) => indexKey(schema, range.table, range.index, doc);
    const rows = this.current(range.table, (d) => inRange(range, keyOf(d)))
      .map((doc) => ({ doc, key: keyOf(doc) }))
      .sort((a, b) => compareKeys(a.key, b.key));
    const taken = rows.slice(0, limit);
    const exhausted = rows.length <= limit;
    this.read(
      exhausted ? range : { ...range, until: taken[taken.length - 1].key },
      taken.length,
    );
    return taken.map((r) => ({ ...r.doc }));
  }

  /** The `ctx.db` the handlers see. */
  get db() {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the facade closes over its transaction
    const tx = this;
    const tableOf = (id: string) => id.split("|")[0];
    const argsOf = (args: unknown[]): [string, string, ...unknown[]] =>
      typeof args[1] === "string" && tx.store.schema[args[0] as string]
        ? (args as [string, string, ...unknown[]])
        : [tableOf(args[0] as string), ...(args as [string, ...unknown[]])];
    return {
      vars: { commitTs: COMMIT_TS },
      get: async (...args: unknown[]) => {
        const [table, id] = argsOf(args);
        const found = tx.find(id);
        tx.read({ table, index: "by_id", prefix: [id] }, found ? 1 : 0);
        return found ? { ...found.doc } : null;
      },
      insert: async (table: string, value: Record<string, unknown>) => {
        const id = tx.store.newId(table);
        tx.write(table, id, { ...value, _id: id, _creationTime: tx.now });
        return id;
      },
      patch: async (...args: unknown[]) => {
        const [table, id, fields] = argsOf(args);
        const found = tx.touch(table, id);
        if (!found) throw new Error(`occ store: patch of missing ${id}`);
        const doc: Doc = { ...found.doc };
        for (const [k, val] of Object.entries(fields as object))
          if (val === undefined) delete doc[k];
          else doc[k] = val;
        tx.write(table, id, doc);
      },
      replace: async (...args: unknown[]) => {
        const [table, id, value] = argsOf(args);
        const found = tx.touch(table, id);
        if (!found) throw new Error(`occ store: replace of missing ${id}`);
        tx.write(table, id, {
          ...(value as object),
          _id: id,
          _creationTime: found.doc._creationTime,
        });
      },
      delete: async (...args: unknown[]) => {
        const [table, id] = argsOf(args);
        tx.touch(table, id);
        tx.write(table, id, null);
      },
      query: (table: string) => new QueryBuilder(tx, table),
    };
  }
}

class QueryBuilder {
  private range: ReadRange;
  constructor(
    private tx: Transaction,
    table: string,
  ) {
    this.range = { table, index: "by_creation_time", prefix: [] };
  }
  withIndex(index: string, build?: (q: RangeBuilder) => unknown) {
    const q = new RangeBuilder();
    if (build) build(q);
    this.range = {
      table: this.range.table,
      index,
      prefix: q.prefix,
      ...q.bounds,
    };
    return this;
  }
  order(direction: "asc" | "desc") {
    if (direction !== "asc") throw new Error("occ store: only ascending order");
    return this;
  }
  async first() {
    return this.tx.runQuery(this.range, 1)[0] ?? null;
  }
  async unique() {
    const rows = this.tx.runQuery(this.range, 2);
    if (rows.length > 1) throw new Error("unique() found two documents");
    return rows[0] ?? null;
  }
  async take(n: number) {
    return this.tx.runQuery(this.range, n);
  }
  async collect() {
    return this.tx.runQuery(this.range, Infinity);
  }
}

class RangeBuilder {
  prefix: unknown[] = [];
  bounds: Pick<ReadRange, "lower" | "upper"> = {};
  eq(_field: string, value: unknown) {
    this.prefix.push(value);
    return this;
  }
  gte(_f: string, value: unknown) {
    this.bounds.lower = { value, inclusive: true };
    return this;
  }
  gt(_f: string, value: unknown) {
    this.bounds.lower = { value, inclusive: false };
    return this;
  }
  lte(_f: string, value: unknown) {
    this.bounds.upper = { value, inclusive: true };
    return this;
  }
  lt(_f: string, value: unknown) {
    this.bounds.upper = { value, inclusive: false };
    return this;
  }
}

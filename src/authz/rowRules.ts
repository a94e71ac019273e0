/* eslint-disable @typescript-eslint/no-explicit-any -- query chains are forwarded untyped; the public types come from convex/server. */
// Over ~400 lines, not yet split: the split along its seams is issue 13's
// (architecture) work, planned file by file and kept out of the hardening
// sessions so the attack fixes could land without a concurrent reshape.
/**
 * Row rules: a `ctx.db` that enforces per-table `read`, `insert`, `modify`
 * and `delete` rules on every path of the Convex database API.
 *
 * Fail-closed by construction: the wrapper is a new object that exposes only
 * the methods implemented here (nothing is spread from the raw `db`), a table
 * without rules is refused unless marked `"unrestricted"`, a missing rule
 * denies its operation, and an id whose table is not covered is refused.
 */
import type {
  DocumentByName,
  GenericDatabaseReader,
  GenericDatabaseWriter,
  GenericDataModel,
  TableNamesInDataModel,
  WithoutSystemFields,
} from "convex/server";
import type { GenericId } from "convex/values";
import { parseDbGet, parseDbWrite } from "../shared/dbCalls.js";
import { opskitError } from "../shared/errors.js";

/** Who is making the request: a signed-in user or an API-key service. */
export type Actor = { id: string; kind: "user" | "service" };

/** Permission checks available to rules and handlers. */
export interface PermissionChecker<Perm extends string = string> {
  /** Whether the actor holds `permission` globally or for `opts.scope`. */
  can(permission: Perm, opts?: { scope?: string }): Promise<boolean>;
  /** Like `can`, but throws `FORBIDDEN` (and logs `authz.deny`) when missing. */
  require(permission: Perm, opts?: { scope?: string }): Promise<void>;
  /** The actor's role names that apply to `scope` (global roles always do). */
  roles(opts?: { scope?: string }): Promise<string[]>;
}

/** What a rule receives: the actor, its permission checks, and the unfiltered reader. */
export type RuleCtx<DataModel extends GenericDataModel> = {
  user: Actor;
  authz: PermissionChecker<string>;
  /** The raw reader: rules may look up related rows without recursing into rules. */
  db: GenericDatabaseReader<DataModel>;
};

type Verdict = boolean | Promise<boolean>;

/** The rules of one table. A missing rule denies that operation. */
export type TableRules<
  DataModel extends GenericDataModel,
  Table extends TableNamesInDataModel<DataModel>,
> = {
  /** Whether the actor may see `doc`. Unreadable rows are skipped by queries and `get` returns null. */
  read?: (
    ctx: RuleCtx<DataModel>,
    doc: DocumentByName<DataModel, Table>,
  ) => Verdict;
  /** Whether the actor may insert `value`. */
  insert?: (
    ctx: RuleCtx<DataModel>,
    value: WithoutSystemFields<DocumentByName<DataModel, Table>>,
  ) => Verdict;
  /** Whether the actor may turn `before` into `after` (patch or replace). */
  modify?: (
    ctx: RuleCtx<DataModel>,
    before: DocumentByName<DataModel, Table>,
    after: DocumentByName<DataModel, Table>,
  ) => Verdict;
  /** Whether the actor may delete `doc`. */
  delete?: (
    ctx: RuleCtx<DataModel>,
    doc: DocumentByName<DataModel, Table>,
  ) => Verdict;
};

/** Per-table rules, or `"unrestricted"` to opt a table out explicitly. */
export type RowRulesByTable<DataModel extends GenericDataModel> = {
  [Table in TableNamesInDataModel<DataModel>]?:
    TableRules<DataModel, Table> | "unrestricted";
};

/** Row rules bound to a data model; make them with {@link defineRules}. */
export type RowRules<DataModel extends GenericDataModel> = {
  tables: RowRulesByTable<DataModel>;
  /** Carries the data model type; never set at runtime. */
  readonly __dataModel?: DataModel;
};

/**
 * Declares row rules for an app's tables, typed by its data model. Pass the
 * result as `rules` to `new Authz(...)`.
 *
 * @example
 * import type { DataModel } from "./_generated/dataModel";
 * const rules = defineRules<DataModel>({
 *   posts: {
 *     read: (ctx, post) => post.published || post.authorId === ctx.user.id,
 *     insert: (ctx, post) => post.authorId === ctx.user.id,
 *     modify: (ctx, before, after) =>
 *       before.authorId === ctx.user.id && after.authorId === ctx.user.id,
 *     delete: (ctx, post) => post.authorId === ctx.user.id,
 *   },
 *   auditEvents: "unrestricted",
 * });
 */
export function defineRules<DataModel extends GenericDataModel>(
  tables: RowRulesByTable<DataModel>,
): RowRules<DataModel> {
  for (const [table, rule] of Object.entries(tables)) {
    if (rule === "unrestricted" || (rule && typeof rule === "object")) continue;
    throw new Error(
      `authz: rules for table "${table}" must be an object of rules or "unrestricted"`,
    );
  }
  return { tables };
}

/** Row-rule operations, as named in denials and logs. */
export type RowOperation = "read" | "insert" | "modify" | "delete";

/** Called before every row-rule denial is thrown or a row is hidden. */
export type DenyHook = (info: {
  table: string | null;
  operation: RowOperation;
  reason: "no_rule" | "table_not_covered" | "rule_denied" | "not_readable";
  hidden?: number;
}) => Promise<void> | void;

type AnyRules = TableRules<GenericDataModel, string>;
type AnyDoc = Record<string, unknown> & { _id: GenericId<string> };

class RowGuard {
  constructor(
    readonly raw: GenericDatabaseReader<GenericDataModel>,
    readonly tables: Record<string, AnyRules | "unrestricted" | undefined>,
    readonly ruleCtx: RuleCtx<GenericDataModel>,
    readonly onDeny: DenyHook,
  ) {}

  /** Reports rows a query skipped because the read rule denied them. */
  async reportHidden(table: string, hidden: number) {
    if (hidden > 0)
      await this.onDeny({
        table,
        operation: "read",
        reason: "rule_denied",
        hidden,
      });
  }

  /** Throws unless `id` is an id of `table` (explicit-table forms). */
  async checkIdTable(table: string, id: string, operation: RowOperation) {
    if (this.raw.normalizeId(table, id) === null) {
      await this.onDeny({ table, operation, reason: "table_not_covered" });
      throw opskitError(
        "FORBIDDEN",
        `This id is not an id of table "${table}"`,
        {
          table,
          operation,
        },
      );
    }
  }

  /** The rules of `table`, or throws when the table is not covered. */
  async rulesFor(table: string, operation: RowOperation) {
    const rules = Object.prototype.hasOwnProperty.call(this.tables, table)
      ? this.tables[table]
      : undefined;
    if (rules === undefined) {
      await this.onDeny({ table, operation, reason: "table_not_covered" });
      throw opskitError(
        "FORBIDDEN",
        `Table "${table}" has no row rules; add rules or mark it "unrestricted"`,
        { table, operation },
      );
    }
    return rules;
  }

  /** The table an id belongs to, among covered tables, or throws. */
  async tableOf(id: string, operation: RowOperation): Promise<string> {
    for (const table of Object.keys(this.tables))
      if (this.raw.normalizeId(table, id) !== null) return table;
    await this.onDeny({ table: null, operation, reason: "table_not_covered" });
    throw opskitError(
      "FORBIDDEN",
      "This id belongs to a table without row rules",
      { operation },
    );
  }

  async deny(
    table: string,
    operation: RowOperation,
    reason: "no_rule" | "rule_denied" | "not_readable",
  ): Promise<never> {
    await this.onDeny({ table, operation, reason });
    throw opskitError(
      "FORBIDDEN",
      reason === "no_rule"
        ? `Table "${table}" has no ${operation} rule, so ${operation} is denied`
        : `Row rule denied ${operation} on table "${table}"`,
      { table, operation },
    );
  }

  async canRead(
    rules: AnyRules | "unrestricted",
    doc: AnyDoc,
  ): Promise<boolean> {
    if (rules === "unrestricted") return true;
    if (!rules.read) return false;
    return (await rules.read(this.ruleCtx, doc as never)) === true;
  }

  async get(table: string, id: GenericId<string>) {
    const rules = await this.rulesFor(table, "read");
    await this.checkIdTable(table, id, "read");
    const doc = (await this.raw.get(table, id)) as AnyDoc | null;
    if (doc === null || (await this.canRead(rules, doc))) return doc;
    await this.onDeny({
      table,
      operation: "read",
      reason: "rule_denied",
      hidden: 1,
    });
    return null;
  }

  /** Loads the current document for a write and checks it is readable. */
  async before(table: string, id: GenericId<string>, operation: RowOperation) {
    const rules = await this.rulesFor(table, operation);
    await this.checkIdTable(table, id, operation);
    const doc = (await this.raw.get(table, id)) as AnyDoc | null;
    if (doc !== null && !(await this.canRead(rules, doc)))
      await this.deny(table, operation, "not_readable");
    return { rules, doc };
  }
}

class GuardedQuery {
  constructor(
    private readonly guard: RowGuard,
    private readonly table: string,
    private readonly rules: AnyRules,
    private readonly inner: any,
  ) {}

  private wrap(next: unknown) {
    return new GuardedQuery(this.guard, this.table, this.rules, next);
  }
  fullTableScan() {
    return this.wrap(this.inner.fullTableScan());
  }
  withIndex(name: string, range?: unknown) {
    return this.wrap(this.inner.withIndex(name, range));
  }
  withSearchIndex(name: string, filter: unknown) {
    return this.wrap(this.inner.withSearchIndex(name, filter));
  }
  order(order: "asc" | "desc") {
    return this.wrap(this.inner.order(order));
  }
  filter(predicate: unknown) {
    return this.wrap(this.inner.filter(predicate));
  }

  private async reportHidden(hidden: number) {
    await this.guard.reportHidden(this.table, hidden);
  }

  async *[Symbol.asyncIterator]() {
    let hidden = 0;
    try {
      for await (const doc of this.inner as AsyncIterable<AnyDoc>) {
        if (await this.guard.canRead(this.rules, doc)) yield doc;
        else hidden++;
      }
    } finally {
      await this.reportHidden(hidden);
    }
  }

  async take(n: number) {
    if (!Number.isInteger(n) || n < 0)
      throw opskitError(
        "INVALID_ARGUMENT",
        "take(n) needs a non-negative integer",
        { n },
      );
    const out: AnyDoc[] = [];
    if (n === 0) return out;
    for await (const doc of this) {
      out.push(doc);
      if (out.length >= n) break;
    }
    return out;
  }
  async collect() {
    const out: AnyDoc[] = [];
    for await (const doc of this) out.push(doc);
    return out;
  }
  async first() {
    for await (const doc of this) return doc;
    return null;
  }
  /**
   * Like Convex's `unique()`: the one matching document, `null` for none, and
   * an error as soon as a second one turns up. Only rows the caller may read
   * count, and the error is coded (`CONFLICT`: the stored rows contradict the
   * query's expectation of at most one) so clients can tell it apart.
   */
  async unique() {
    let found: AnyDoc | null = null;
    for await (const doc of this) {
      if (found !== null)
        throw opskitError(
          "CONFLICT",
          `unique() query returned more than one result from table "${this.table}": [${found._id}, ${doc._id}, ...]`,
          { table: this.table, ids: [found._id, doc._id] },
        );
      found = doc;
    }
    return found;
  }
  async paginate(opts: unknown) {
    const result = await this.inner.paginate(opts);
    const page: AnyDoc[] = [];
    for (const doc of result.page as AnyDoc[])
      if (await this.guard.canRead(this.rules, doc)) page.push(doc);
    await this.reportHidden(result.page.length - page.length);
    return { ...result, page };
  }
}

function guardedReader(
  guard: RowGuard,
  raw: GenericDatabaseReader<GenericDataModel>,
) {
  const get = async (...args: unknown[]) => {
    const call = parseDbGet(args);
    const id = call.id as GenericId<string>;
    if (call.table !== undefined) return guard.get(call.table, id);
    return guard.get(await guard.tableOf(id, "read"), id);
  };
  const query = (table: string) => {
    const rules = Object.prototype.hasOwnProperty.call(guard.tables, table)
      ? guard.tables[table]
      : undefined;
    if (rules === "unrestricted") return raw.query(table);
    return new LazyQuery(guard, table, () => raw.query(table));
  };
  return {
    get,
    query,
    normalizeId: (table: string, id: string) => raw.normalizeId(table, id),
    // System tables (_storage, _scheduled_functions) hold no app rows.
    system: raw.system,
  };
}

/**
 * A query whose coverage check runs when it is used: `query()` is synchronous
 * in Convex, so the denial (which logs asynchronously) is raised by the
 * first chained or terminal call instead.
 */
class LazyQuery {
  private resolved: Promise<GuardedQuery> | null = null;
  private readonly steps: Array<(q: any) => any> = [];
  constructor(
    private readonly guard: RowGuard,
    private readonly table: string,
    private readonly make: () => unknown,
  ) {}
  private chain(step: (q: any) => any) {
    const next = new LazyQuery(this.guard, this.table, this.make);
    next.steps.push(...this.steps, step);
    return next;
  }
  fullTableScan() {
    return this.chain((q) => q.fullTableScan());
  }
  withIndex(name: string, range?: unknown) {
    return this.chain((q) => q.withIndex(name, range));
  }
  withSearchIndex(name: string, filter: unknown) {
    return this.chain((q) => q.withSearchIndex(name, filter));
  }
  order(order: "asc" | "desc") {
    return this.chain((q) => q.order(order));
  }
  filter(predicate: unknown) {
    return this.chain((q) => q.filter(predicate));
  }
  private build(): Promise<GuardedQuery> {
    this.resolved ??= (async () => {
      const rules = await this.guard.rulesFor(this.table, "read");
      // "unrestricted" was handled in query(); anything else is an object.
      let q = new GuardedQuery(
        this.guard,
        this.table,
        rules as AnyRules,
        this.make(),
      );
      for (const step of this.steps) q = step(q);
      return q;
    })();
    return this.resolved;
  }
  async *[Symbol.asyncIterator]() {
    yield* await this.build();
  }
  async take(n: number) {
    return (await this.build()).take(n);
  }
  async collect() {
    return (await this.build()).collect();
  }
  async first() {
    return (await this.build()).first();
  }
  async unique() {
    return (await this.build()).unique();
  }
  async paginate(opts: unknown) {
    return (await this.build()).paginate(opts);
  }
}

function applyPatch(before: AnyDoc, value: Record<string, unknown>): AnyDoc {
  const after: Record<string, unknown> = { ...before };
  for (const [k, v] of Object.entries(value)) {
    if (k === "_id" || k === "_creationTime") continue;
    if (v === undefined) delete after[k];
    else after[k] = v;
  }
  return after as AnyDoc;
}

function guardedWriter(
  guard: RowGuard,
  raw: GenericDatabaseWriter<GenericDataModel>,
) {
  const reader = guardedReader(guard, raw);
  const resolve = async (args: unknown[], operation: RowOperation) => {
    // Both forms, parsed as Convex (and auditLog's recording db) parse them.
    const call = parseDbWrite(
      operation === "delete" ? "delete" : "write",
      args,
    );
    const id = call.id as GenericId<string>;
    return {
      table: call.table ?? (await guard.tableOf(id, operation)),
      id,
      value: call.value,
    };
  };
  const insert = async (table: string, value: Record<string, unknown>) => {
    const rules = await guard.rulesFor(table, "insert");
    if (rules !== "unrestricted") {
      if (!rules.insert) await guard.deny(table, "insert", "no_rule");
      else if ((await rules.insert(guard.ruleCtx, value as never)) !== true)
        await guard.deny(table, "insert", "rule_denied");
    }
    return raw.insert(table, value as never);
  };
  const write = async (kind: "patch" | "replace", args: unknown[]) => {
    const { table, id, value } = await resolve(args, "modify");
    const { rules, doc } = await guard.before(table, id, "modify");
    // A missing document falls through so Convex raises its own error.
    if (doc !== null && rules !== "unrestricted") {
      const v = value as Record<string, unknown>;
      const after =
        kind === "patch"
          ? applyPatch(doc, v)
          : ({
              ...v,
              _id: doc._id,
              _creationTime: doc._creationTime,
            } as AnyDoc);
      if (!rules.modify) await guard.deny(table, "modify", "no_rule");
      else if (
        (await rules.modify(guard.ruleCtx, doc as never, after as never)) !==
        true
      )
        await guard.deny(table, "modify", "rule_denied");
    }
    await (
      raw[kind] as (
        t: string,
        i: GenericId<string>,
        v: unknown,
      ) => Promise<void>
    )(table, id, value);
  };
  const del = async (args: unknown[]) => {
    const { table, id } = await resolve(args, "delete");
    const { rules, doc } = await guard.before(table, id, "delete");
    if (doc !== null && rules !== "unrestricted") {
      if (!rules.delete) await guard.deny(table, "delete", "no_rule");
      else if ((await rules.delete(guard.ruleCtx, doc as never)) !== true)
        await guard.deny(table, "delete", "rule_denied");
    }
    await raw.delete(table, id);
  };
  return {
    ...reader,
    insert,
    patch: (...args: unknown[]) => write("patch", args),
    replace: (...args: unknown[]) => write("replace", args),
    delete: (...args: unknown[]) => del(args),
    table: (table: string) => ({
      get: (id: GenericId<string>) => reader.get(table, id),
      query: () => reader.query(table),
      insert: (value: Record<string, unknown>) => insert(table, value),
      patch: (id: GenericId<string>, value: unknown) =>
        write("patch", [table, id, value]),
      replace: (id: GenericId<string>, value: unknown) =>
        write("replace", [table, id, value]),
      delete: (id: GenericId<string>) => del([table, id]),
    }),
    vars: raw.vars,
  };
}

/** The reader rules get: no write methods, even inside a mutation. */
function readOnly(
  raw: GenericDatabaseReader<GenericDataModel>,
): GenericDatabaseReader<GenericDataModel> {
  return {
    get: raw.get.bind(raw),
    query: raw.query.bind(raw),
    normalizeId: raw.normalizeId.bind(raw),
    system: raw.system,
  } as GenericDatabaseReader<GenericDataModel>;
}

/** Wraps a query ctx's `db` so it enforces `rules`. */
export function guardReader<DataModel extends GenericDataModel>(
  raw: GenericDatabaseReader<DataModel>,
  rules: RowRules<DataModel>,
  ctx: Omit<RuleCtx<DataModel>, "db">,
  onDeny: DenyHook,
): GenericDatabaseReader<DataModel> {
  const r = raw as unknown as GenericDatabaseReader<GenericDataModel>;
  const guard = new RowGuard(
    r,
    rules.tables as never,
    { ...ctx, db: readOnly(r) },
    onDeny,
  );
  const reader = guardedReader(guard, r);
  return {
    ...reader,
    table: (table: string) => ({
      get: (id: GenericId<string>) => reader.get(table, id),
      query: () => reader.query(table),
    }),
  } as unknown as GenericDatabaseReader<DataModel>;
}

/** Wraps a mutation ctx's `db` so it enforces `rules`. */
export function guardWriter<DataModel extends GenericDataModel>(
  raw: GenericDatabaseWriter<DataModel>,
  rules: RowRules<DataModel>,
  ctx: Omit<RuleCtx<DataModel>, "db">,
  onDeny: DenyHook,
): GenericDatabaseWriter<DataModel> {
  const w = raw as unknown as GenericDatabaseWriter<GenericDataModel>;
  const guard = new RowGuard(
    w,
    rules.tables as never,
    { ...ctx, db: readOnly(w) },
    onDeny,
  );
  return guardedWriter(guard, w) as unknown as GenericDatabaseWriter<DataModel>;
}

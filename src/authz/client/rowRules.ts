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
  GenericDatabaseReader,
  GenericDatabaseWriter,
  GenericDataModel,
} from "convex/server";
import type { GenericId } from "convex/values";
import { parseDbGet, parseDbWrite } from "../../shared/dbCalls.js";
import { definitionError, isRecord } from "../../shared/definitions.js";
import { applyPatch } from "../../shared/documents.js";
import { opskitError, shown } from "../../shared/errors.js";
import { LazyQuery } from "./guardedQuery.js";
import type {
  AnyDoc,
  AnyRules,
  DenyHook,
  RowOperation,
  RowRules,
  RowRulesByTable,
  RuleCtx,
} from "./ruleTypes.js";

/**
 * Declares row rules for an app's tables, typed by its data model. Pass the
 * result as `rules` to `new Authz(...)`.
 *
 * @example
 * import type { DataModel } from "./_generated/dataModel";
 * const rules = defineRules<DataModel>({
 *   posts: {
 *     read: (ctx, post) => post.published || post.authorId === ctx.user.actorId,
 *     insert: (ctx, post) => post.authorId === ctx.user.actorId,
 *     modify: (ctx, before, after) =>
 *       before.authorId === ctx.user.actorId && after.authorId === ctx.user.actorId,
 *     delete: (ctx, post) => post.authorId === ctx.user.actorId,
 *   },
 *   auditEvents: "unrestricted",
 * });
 */
export function defineRules<DataModel extends GenericDataModel>(
  tables: RowRulesByTable<DataModel>,
): RowRules<DataModel> {
  if (typeof tables !== "object" || tables === null || Array.isArray(tables))
    throw definitionError(
      "authz",
      "defineRules takes an object of rules by table name",
    );
  checkRuleTables(tables);
  return { tables };
}

/** The row-rule operations a table's rules may name, each a function. */
const OPERATIONS = ["read", "insert", "modify", "delete"] as const;

/**
 * Throws `INVALID_ARGUMENT` unless each table's rules are `"unrestricted"`
 * or an object whose `read`, `insert`, `modify` and `delete` are functions
 * when present (a rule that is not a function would fail every request).
 */
export function checkRuleTables(tables: object): void {
  for (const [table, rule] of Object.entries(tables)) {
    if (rule === "unrestricted") continue;
    if (!isRecord(rule))
      throw definitionError(
        "authz",
        `rules for table "${table}" must be an object of rules or "unrestricted"`,
      );
    for (const operation of OPERATIONS) {
      const check = (rule as Record<string, unknown>)[operation];
      if (check !== undefined && typeof check !== "function")
        throw definitionError(
          "authz",
          `rules for table "${table}": ${operation} must be a function of (ctx, ...) returning a boolean; got ${shown(check)}`,
        );
    }
  }
}

/** The checks of one request's row rules, shared by the reader, the writer and queries. */
export class RowGuard {
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

/** The guard of one request: `rules` for `ctx`'s caller, rules reading through `raw` without write methods. */
function makeGuard<DataModel extends GenericDataModel>(
  raw: GenericDatabaseReader<GenericDataModel>,
  rules: RowRules<DataModel>,
  ctx: Omit<RuleCtx<DataModel>, "db">,
  onDeny: DenyHook,
): RowGuard {
  return new RowGuard(
    raw,
    rules.tables as never,
    { ...(ctx as Omit<RuleCtx<GenericDataModel>, "db">), db: readOnly(raw) },
    onDeny,
  );
}

// guardReader and guardWriter repeat one parameter list on purpose: one
// typed entry per db kind (reader in, reader out; writer in, writer out).
/** Wraps a query ctx's `db` so it enforces `rules`. */
export function guardReader<DataModel extends GenericDataModel>(
  raw: GenericDatabaseReader<DataModel>,
  rules: RowRules<DataModel>,
  ctx: Omit<RuleCtx<DataModel>, "db">,
  onDeny: DenyHook,
): GenericDatabaseReader<DataModel> {
  const r = raw as unknown as GenericDatabaseReader<GenericDataModel>;
  const reader = guardedReader(makeGuard(r, rules, ctx, onDeny), r);
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
  return guardedWriter(
    makeGuard(w, rules, ctx, onDeny),
    w,
  ) as unknown as GenericDatabaseWriter<DataModel>;
}

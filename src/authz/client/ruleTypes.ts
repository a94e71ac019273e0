/**
 * The types of what authz adds to a request and of row rules: `ctx.user`
 * ({@link Actor}), `ctx.authz` ({@link PermissionChecker}), what a rule
 * receives and the rules of each table.
 */
import type {
  DocumentByName,
  GenericDatabaseReader,
  GenericDataModel,
  TableNamesInDataModel,
  WithoutSystemFields,
} from "convex/server";
import type { GenericId } from "convex/values";
import type { ActorKind, Actor as SharedActor } from "../../shared/actor.js";

/**
 * Who is making the request (`ctx.user`): a signed-in user (`actorId` = the
 * id `getUserId` derived) or an API-key service (`actorId` = its name). The
 * shape every capability uses (`src/shared/actor.ts`), plus `id`/`kind`, the
 * names of convex-opskit 0.x, with the same values.
 */
export type Actor = SharedActor & {
  actorKind: ActorKind;
  /** @deprecated use `actorId` (same value). */
  id: string;
  /** @deprecated use `actorKind` (same value). */
  kind: ActorKind;
};

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

/** Row rules bound to a data model; make them with `defineRules` (`./rowRules.ts`). */
export type RowRules<DataModel extends GenericDataModel> = {
  tables: RowRulesByTable<DataModel>;
  /** Carries the data model type; never set at runtime. */
  readonly __dataModel?: DataModel;
};

/** Row-rule operations, as named in denials and logs. */
export type RowOperation = "read" | "insert" | "modify" | "delete";

/** Called before every row-rule denial is thrown or a row is hidden. */
export type DenyHook = (info: {
  table: string | null;
  operation: RowOperation;
  reason: "no_rule" | "table_not_covered" | "rule_denied" | "not_readable";
  hidden?: number;
}) => Promise<void> | void;

/** @internal */
export type AnyRules = TableRules<GenericDataModel, string>;
/** @internal */
export type AnyDoc = Record<string, unknown> & { _id: GenericId<string> };

/**
 * convex-opskit/auditLog: admin mutations that are authenticated, authorized,
 * scoped to declared tables and recorded atomically with their changes, plus
 * the queries, hash-chain verification, revert, retention and reconcile that
 * work on the record.
 *
 * This entry holds the {@link AuditLog} class, whose methods delegate to the
 * modules of `./client/` (admin builder, reading, chain, revert,
 * reconcile; public types in `./client/types.ts`), and re-exports every public
 * name. Both-sides code (hashing, snapshots, validators) is in `./shared/`;
 * the hash chain itself is component code (`./component/hashChain.ts`).
 */
import type {
  DocumentByName,
  GenericDataModel,
  GenericMutationCtx,
  GenericQueryCtx,
  PaginationOptions,
  PaginationResult,
  TableNamesInDataModel,
} from "convex/server";
import type { GenericId } from "convex/values";
import type { RunMutationCtx, RunQueryCtx } from "../shared/ctx.js";
import type { ComponentApi } from "./component/_generated/component.js";
import type { Entry, Operation, RetentionRun } from "./shared/validators.js";
import { adminMutationBuilder, checkReason } from "./client/admin.js";
import { auditCore, type AuditCore } from "./client/core.js";
import { runRetention, verify } from "./client/chain.js";
import {
  getOperation,
  getOperationPage,
  history,
  listEntriesArgs,
  listOperationsArgs,
} from "./client/read.js";
import { reconcile, reconcileRecorded } from "./client/reconcile.js";
import { revert } from "./client/revert.js";
import type {
  AdminAuthorizer,
  AdminMutationBuilder,
  AuditLogOptions,
  AuthorizeFunction,
  RevertArgs,
  RevertResult,
} from "./client/types.js";
import type {
  HistoryArgs,
  ListArgs,
  ListRange,
  OperationFromIndex,
  OperationPage,
  ReconcileRecordedCursorResult,
  ReconcileRecordedPage,
  ReconcileResult,
  VerifyArgs,
  VerifyResult,
  Version,
} from "./client/queryTypes.js";

export { REDACTED } from "./client/diff.js";
/** Validators for `returns` of functions that pass log entries, operations or pages through. */
export { vEntry, vOperation, vPage } from "./shared/validators.js";
export type {
  ChainProblem,
  Entry,
  EntryKind,
  Operation,
  RequestInfo,
  RetentionRun,
} from "./shared/validators.js";
/** The public types: authorizer contract, options, definitions, arguments and results. */
export type * from "./client/types.js";
export type * from "./client/queryTypes.js";
export type { RunMutationCtx, RunQueryCtx } from "../shared/ctx.js";
export { MAX_REASON_LENGTH } from "./shared/limits.js";
export { LIST_FILTERS } from "./client/read.js";
/**
 * The audit log. Construct it once with `components.auditLog`, then define
 * admin mutations with {@link AuditLog.adminMutation} and read, verify,
 * revert and trim the log with its methods.
 *
 * @example
 * ```ts
 * import { v } from "convex/values";
 * import { AuditLog } from "convex-opskit/auditLog";
 * import { components } from "./_generated/api";
 * import type { DataModel } from "./_generated/dataModel";
 * import { authz } from "./authz";
 *
 * export const auditLog = new AuditLog<DataModel>(components.auditLog, {
 *   redact: { users: ["passwordHash"] },
 *   reason: { minLength: 10, pattern: /\b[A-Z]+-\d+\b/, patternHint: "a ticket id" },
 * });
 * const adminMutation = auditLog.adminMutation(authz);
 *
 * export const setUserRole = adminMutation({
 *   permission: "users.manage",
 *   tables: ["users"],
 *   args: { userId: v.id("users"), role: v.string() },
 *   returns: v.null(),
 *   handler: async (ctx, { userId, role }) => {
 *     await ctx.db.patch(userId, { role });
 *     return null;
 *   },
 * });
 * // Callers add a reason: { userId, role, reason: "SUP-1234 customer asked to downgrade" }
 * ```
 */
export class AuditLog<DataModel extends GenericDataModel = GenericDataModel> {
  /** What the functions of `./client/` need of this log. */
  private readonly core: AuditCore;
  /**
   * @param component - `components.auditLog` from `./_generated/api`.
   * @param options - redaction, reason policy and retention.
   */
  constructor(
    readonly component: ComponentApi,
    readonly options: AuditLogOptions<DataModel> = {},
  ) {
    this.core = auditCore(component, options, this);
  }

  /** The redacted field paths of a table. */
  redactedPaths(table: string): readonly string[] {
    const all = this.options.redact as
      Record<string, readonly string[] | undefined> | undefined;
    return all?.[table] ?? [];
  }

  /**
   * A builder of admin mutations. Each call is authenticated and authorized
   * by `authorizer`, needs a `reason` argument, may write only the tables it
   * declares, and is recorded — one operation plus one entry per touched
   * document — in the same transaction as its writes.
   *
   * With an authorizer object (authz) each definition must name its
   * `permission`: without one, authz would only authenticate and any
   * signed-in user could run the mutation. To really allow any signed-in
   * user, say so with a function: `(ctx) => authz.authorize(ctx, {})`.
   *
   * @param authorizer - convex-opskit's `Authz` (or anything with its
   *   `authorize` method), or a function returning the actor or throwing.
   */
  adminMutation<Permission extends string = string>(
    authorizer: AdminAuthorizer<Permission>,
  ): AdminMutationBuilder<DataModel, Permission, true>;
  adminMutation<Permission extends string = string>(
    authorizer: AuthorizeFunction<DataModel, Permission>,
  ): AdminMutationBuilder<DataModel, Permission, false>;
  adminMutation<Permission extends string = string>(
    authorizer:
      AdminAuthorizer<Permission> | AuthorizeFunction<DataModel, Permission>,
  ): AdminMutationBuilder<DataModel, Permission, boolean> {
    return adminMutationBuilder<DataModel, Permission>(this.core, authorizer);
  }

  /** Checks a reason against the configured policy; throws `INVALID_ARGUMENT`. */
  checkReason(reason: string): void {
    checkReason(reason, this.core.minLength, this.options.reason);
  }

  /**
   * A page of entries, newest first unless `order: "asc"`: a document's
   * history (`table` + `docId`), a table, an actor, a kind of change, or all
   * entries, each within an optional `from`/`to` time range (ms).
   */
  async list(
    ctx: RunQueryCtx,
    args: ListArgs<DataModel>,
  ): Promise<PaginationResult<Entry>> {
    return ctx.runQuery(
      this.component.queries.listEntries,
      listEntriesArgs(args),
    );
  }

  /** A page of operations (actor, reason, args...), newest first: all, by actor, or by function name. */
  async listOperations(
    ctx: RunQueryCtx,
    args: ListRange & { actorId?: string; functionName?: string },
  ): Promise<PaginationResult<Operation>> {
    return ctx.runQuery(
      this.component.queries.listOperations,
      listOperationsArgs(args),
    );
  }

  /**
   * One operation with all its entries, or null. The component serves them
   * in pages sized by bytes; this collects every page in the caller's
   * transaction. For operations too large to return at once (several MiB
   * of versions), page with {@link AuditLog.getOperationPage}.
   */
  async getOperation(
    ctx: RunQueryCtx,
    args: { operationId: string },
  ): Promise<{ operation: Operation; entries: Entry[] } | null> {
    return getOperation(this.component, ctx, args);
  }

  /**
   * One operation with a page of its entries in index order: at most
   * `paginationOpts.numItems`, and no more than one query may read and
   * return (8 MiB). Pass `continueCursor` back until `isDone`. Null when
   * there is no such operation.
   */
  getOperationPage(
    ctx: RunQueryCtx,
    args: { operationId: string; paginationOpts: PaginationOptions },
  ): Promise<OperationPage | null>;
  /**
   * @deprecated use `{ operationId, paginationOpts }` (Convex's paging: the
   * result's `page` is this form's `entries`). Here the entries start at
   * index `fromIndex` (default 0) and `nextIndex` is where to continue,
   * null once all were returned.
   */
  getOperationPage(
    ctx: RunQueryCtx,
    args: { operationId: string; fromIndex?: number },
  ): Promise<OperationFromIndex | null>;
  async getOperationPage(
    ctx: RunQueryCtx,
    args: Parameters<typeof getOperationPage>[2],
  ): Promise<OperationPage | OperationFromIndex | null> {
    return getOperationPage(this.component, ctx, args);
  }

  /** A document's versions, newest first. */
  async history<Table extends TableNamesInDataModel<DataModel>>(
    ctx: RunQueryCtx,
    args: HistoryArgs<Table>,
  ): Promise<PaginationResult<Version<DocumentByName<DataModel, Table>>>> {
    return history<DataModel, Table>(this.component, ctx, args);
  }

  /**
   * A document as it was at time `at` (ms), from the log. `known` is false
   * when no recorded change of the document brackets `at`.
   */
  async documentAt<Table extends TableNamesInDataModel<DataModel>>(
    ctx: RunQueryCtx,
    args: { table: Table; docId: GenericId<Table> | string; at: number },
  ): Promise<{ known: boolean; doc: DocumentByName<DataModel, Table> | null }> {
    const r = await ctx.runQuery(this.component.queries.documentAt, args);
    return { known: r.known, doc: r.doc };
  }

  /**
   * Seals appended operations into the hash chain, in commit order, in
   * bounded batches (scheduling itself until done). Call it from a cron.
   */
  async seal(ctx: RunMutationCtx): Promise<{ sealed: number; more: boolean }> {
    return ctx.runMutation(this.component.chain.seal, {});
  }

  /** The chain's head (publish `hash` elsewhere to anchor it) and where it starts after retention. */
  async head(ctx: RunQueryCtx) {
    return ctx.runQuery(this.component.chain.head, {});
  }

  /**
   * Verifies the sealed chain, optionally only the operations from time
   * `from` to `to`, page by page (`pageSize` operations per query, up to
   * `maxPages`). Problems say what was edited, deleted or reordered, with
   * seq, operation id and entry index. From an action, each page is its own
   * transaction, so any size of log can be verified.
   */
  async verify(ctx: RunQueryCtx, args: VerifyArgs = {}): Promise<VerifyResult> {
    return verify(this.component, ctx, args);
  }

  /**
   * Starts a retention run with the configured `retention.maxAgeMs`: sealed
   * operations older than that are deleted in bounded scheduled batches, the
   * chain keeps an anchor at the cut, and the run is recorded. Call it from a
   * cron. Returns the running run instead if one is going.
   */
  async runRetention(
    ctx: RunMutationCtx,
  ): Promise<{ runId: string; started: boolean }> {
    return runRetention(this.component, this.options.retention, ctx);
  }

  /** The most recent retention runs, newest first. */
  async retentionRuns(
    ctx: RunQueryCtx,
    args: { limit?: number } = {},
  ): Promise<RetentionRun[]> {
    return ctx.runQuery(this.component.retention.listRuns, args);
  }

  /**
   * Undoes an operation (or one entry of it) as a new audited operation
   * linked to it (`revertOf`). Refuses with `CONFLICT` when a document
   * changed after the reverted entry, unless `force`.
   *
   * Inside an admin mutation's handler it joins that call (its actor, reason
   * and table scope). In any other mutation pass a `reason` and say who is
   * reverting, preferably with an `authorizer`:
   *
   * ```ts
   * await auditLog.revert(ctx, {
   *   operationId, reason,
   *   authorizer: authz, permission: "audit.revert",
   * });
   * ```
   *
   * The authorizer checks the caller (throwing to refuse, before anything is
   * read or written) and its answer is the recorded actor.
   *
   * **Security:** an explicit `actor` is recorded exactly as given, with no
   * check. It must come from a verified identity (`ctx.auth`) or be a fixed
   * name for a system job (`{ actorId: "system:janitor", actorKind: "system" }`
   * in an internal mutation), never from function arguments: a public
   * mutation passing a client-supplied actor lets anyone revert anything in
   * someone else's name.
   */
  async revert<Permission extends string = string>(
    ctx: GenericMutationCtx<DataModel>,
    args: RevertArgs<DataModel, Permission>,
  ): Promise<RevertResult> {
    return revert(this.core, ctx, args);
  }

  /**
   * Compares one page of an audited table with the log and reports documents
   * whose current state differs from their last recorded version: changes
   * made outside admin mutations (dashboard edits, other functions).
   * Redacted fields are not compared. Page through with `continueCursor`.
   */
  async reconcile<Table extends TableNamesInDataModel<DataModel>>(
    ctx: GenericQueryCtx<DataModel>,
    args: { table: Table; paginationOpts: PaginationOptions },
  ): Promise<ReconcileResult> {
    return reconcile(this.core, ctx, args);
  }

  /**
   * The other half of {@link AuditLog.reconcile}: walks the documents the log
   * has recorded for `table` (up to `paginationOpts.numItems` per call) and
   * reports those deleted outside admin mutations (`deletedOutside`) or
   * changed since their last recorded version (`changed`) in `page`. Pass
   * the returned `continueCursor` back as `paginationOpts.cursor` until
   * `isDone` (a cursor of another table is `INVALID_ARGUMENT`; a refetch with
   * `endCursor`, as `usePaginatedQuery` makes, covers exactly up to it). A
   * page also ends once the live documents it read reach 6 MiB
   * (the first is always read), so a page of large documents stays inside a
   * transaction's 16 MiB of reads whatever `numItems` is.
   */
  reconcileRecorded<Table extends TableNamesInDataModel<DataModel>>(
    ctx: GenericQueryCtx<DataModel>,
    args: { table: Table; paginationOpts: PaginationOptions },
  ): Promise<ReconcileRecordedPage>;
  /**
   * @deprecated use `{ table, paginationOpts }` (Convex's paging: the
   * result's `page` is this form's `drift`). Here `limit` (default 100)
   * bounds the page and `continueCursor` goes back as `cursor`.
   */
  reconcileRecorded<Table extends TableNamesInDataModel<DataModel>>(
    ctx: GenericQueryCtx<DataModel>,
    args: { table: Table; cursor: string | null; limit?: number },
  ): Promise<ReconcileRecordedCursorResult>;
  async reconcileRecorded<Table extends TableNamesInDataModel<DataModel>>(
    ctx: GenericQueryCtx<DataModel>,
    args: { table: Table } & (
      | { paginationOpts: PaginationOptions }
      | { cursor: string | null; limit?: number }
    ),
  ): Promise<ReconcileRecordedPage | ReconcileRecordedCursorResult> {
    return reconcileRecorded(this.core, ctx, args);
  }
}

/** Where the lines this client emits go (see `configureLogs`). */
export * from "../shared/logExports.js";

/** Return validators for the results this client gives back. */
export {
  vEntriesPage,
  vOperationWithEntries,
  vOperationsPage,
  vRetentionRun,
} from "./client/returns.js";

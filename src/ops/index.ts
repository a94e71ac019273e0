// Over ~400 lines, not yet split: the split along its seams is issue 13's
// (architecture) work, planned file by file and kept out of the hardening
// sessions so the attack fixes could land without a concurrent reshape.
/**
 * `convex-opskit/ops`: the app-side admin API the console needs, in one call.
 *
 * ```ts
 * // convex/ops.ts
 * export const { opsConfig, auditTrail, ... } = opsApi({ authz, auditLog, ... });
 * ```
 *
 * Every function is built with the app's authz (a permission the app picks
 * per section) and every change is an audited admin mutation with a
 * required reason. The console components (`convex-opskit/react`) accept
 * exactly what this returns: `<OpsConsole api={api.ops} />`.
 */
import {
  actionGeneric,
  getFunctionName,
  queryGeneric,
  type GenericDataModel,
  type RegisteredAction,
  type RegisteredMutation,
  type RegisteredQuery,
  type TableNamesInDataModel,
} from "convex/server";
import { v, type Infer, type Value } from "convex/values";
import type { AdminCtx, AuditLog } from "../auditLog/client.js";
import type { Entry, Operation } from "../auditLog/validators.js";
import type { Authz } from "../authz/client.js";
import { roleGrants, type CompiledRoles } from "../authz/policy.js";
import type {
  MigrationFunctionReference,
  Migrations,
  MigrationStatus,
} from "../migrations/client.js";
import type { RateLimiter } from "../rateLimiter/client.js";
import type { RateLimitConfig } from "../rateLimiter/shared/config.js";
import { vValue } from "../rateLimiter/shared/validators.js";
import { clipped, opskitError, shown } from "../shared/errors.js";
import { documentSize } from "../shared/limits.js";
import { mayAssign } from "./grants.js";
import {
  vGrants,
  vMembersPage,
  vMigrationAction,
  vMigrationReport,
  vMigrationRow,
  vOperationDetail,
  vOperationsPage,
  vOpsConfig,
  vPaginationOpts,
  vRevertOutcome,
  vTrailFilters,
  vTrailPage,
  vVerifySummary,
  type MigrationRow,
  type OpsApi,
} from "./validators.js";

export { mayAssign, patternCovers } from "./grants.js";
export {
  OPS_FUNCTIONS,
  type MigrationRow,
  type OpsApi,
  type OpsConfig,
} from "./validators.js";

/** The console's sections, each guarded by one permission. */
export type OpsSection =
  "read" | "revert" | "migrations" | "rateLimits" | "users";

/** Default permission of each section. */
export const DEFAULT_OPS_PERMISSIONS = {
  read: "audit.read",
  revert: "audit.revert",
  migrations: "migrations.run",
  rateLimits: "rateLimits.manage",
  users: "users.manage",
} as const satisfies Record<OpsSection, string>;

/** Options of {@link opsApi}. */
export type OpsApiOptions<
  DataModel extends GenericDataModel,
  Perm extends string,
> = {
  /** The app's `Authz` instance: identity and permissions of every function. */
  // The roles config is the app's; only the permission names matter here.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  authz: Authz<any, Perm, any>;
  /** The app's `AuditLog`: the trail, verify, revert, and the record of every change made here. */
  auditLog: AuditLog<DataModel>;
  /** Tables a revert from the console may write (the tables your admin mutations write). */
  revertTables: readonly TableNamesInDataModel<DataModel>[];
  /**
   * Called inside the revert's admin mutation after the documents are
   * restored (e.g. re-sync derived state). Each entry's `docId` is the
   * document as it exists after the revert: when the revert re-created a
   * deleted document, that is its new id (`recreated` maps the id the
   * audit trail recorded to the new one).
   */
  afterRevert?: (
    ctx: AdminCtx<DataModel>,
    reverted: {
      operationId: string;
      entries: Entry[];
      recreated: Array<{ table: string; oldDocId: string; newDocId: string }>;
    },
  ) => Promise<void>;
  /**
   * Called inside the console's `grantRole`/`revokeRole` admin mutation
   * after the grant changed (e.g. mirror a global role into your users
   * table, as the example app does). It may write the tables named in
   * {@link OpsApiOptions.roleChangeTables}; its writes are audited with the
   * grant.
   */
  afterRoleChange?: (
    ctx: AdminCtx<DataModel>,
    change: {
      action: "grant" | "revoke";
      userId: string;
      role: string;
      scope?: string;
    },
  ) => Promise<void>;
  /** App tables `afterRoleChange` writes (default none). */
  roleChangeTables?: readonly TableNamesInDataModel<DataModel>[];
  /** The app's migrations and the ones the console lists (`internal.migrations.x`). */
  migrations?: {
    instance: Migrations<DataModel>;
    list: readonly MigrationFunctionReference[];
  };
  /** The app's `RateLimiter`; its configured names are the ones the console shows. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  rateLimiter?: RateLimiter<any>;
  /** The permission each section needs; defaults in {@link DEFAULT_OPS_PERMISSIONS}. */
  permissions?: Partial<Record<OpsSection, Perm>>;
};

type Registered<F> = F extends OpsApi[keyof OpsApi]
  ? F["_type"] extends "query"
    ? RegisteredQuery<"public", F["_args"], Promise<F["_returnType"]>>
    : F["_type"] extends "mutation"
      ? RegisteredMutation<"public", F["_args"], Promise<F["_returnType"]>>
      : RegisteredAction<"public", F["_args"], Promise<F["_returnType"]>>
  : never;

/** What {@link opsApi} returns: export every member from one module. */
export type OpsFunctions = { [K in keyof OpsApi]: Registered<OpsApi[K]> };

type LooseLimiter = {
  getValue: (
    ctx: Parameters<RateLimiter["getValue"]>[0],
    name: string,
    opts: { key?: string },
  ) => ReturnType<RateLimiter["getValue"]>;
  reset: (
    ctx: Parameters<RateLimiter["reset"]>[0],
    name: string,
    opts: { key?: string },
  ) => Promise<void>;
};

/** Component pages read per console page at most, when filters drop rows. */
export const MAX_SCAN_PAGES = 4;
/** Largest page the console asks for. */
export const MAX_PAGE_SIZE = 50;
/**
 * Bytes of rows (as Convex counts values) one console page reads at most before it stops
 * asking for more component pages: well under a query's 16 MiB read and
 * return limits, with room for large audited documents.
 */
export const MAX_SCAN_BYTES = 4 * 1024 * 1024;
/**
 * Rows asked of the component by the first read of a console page: a
 * component page is read whole, so its size is chosen before any row is
 * seen; at most 1 MiB per production document, 8 rows stay within the read
 * limit. Later reads ask for as many rows as the remaining bytes hold at the
 * largest row seen so far.
 */
export const FIRST_READ_ROWS = 8;
/** Smallest row size assumed when sizing later reads (bytes, as Convex counts values). */
export const MIN_ROW_ESTIMATE = 16 * 1024;

/** The `from`/`to` bounds a trail filter gave, as auditLog's list functions take them. */
function timeRange(filters: { from?: number; to?: number }) {
  return {
    ...(filters.from !== undefined ? { from: filters.from } : {}),
    ...(filters.to !== undefined ? { to: filters.to } : {}),
  };
}

/** Whether a row passes a trail filter's `actorId` and `functionName`, when given. */
function matchesWho(
  row: { actorId: string; functionName: string },
  filters: { actorId?: string; functionName?: string },
) {
  return (
    (filters.actorId === undefined || row.actorId === filters.actorId) &&
    (filters.functionName === undefined ||
      row.functionName === filters.functionName)
  );
}

/**
 * Builds the functions the admin console calls. Export all of them from one
 * module (`convex/ops.ts`) and pass `api.ops` to `<OpsConsole>`.
 *
 * - Reads (`auditTrail`, `auditOperations`, `auditOperation`, `auditVerify`)
 *   need `permissions.read`; filters combine freely, and each page reads at
 *   most {@link MAX_SCAN_PAGES} component pages and about
 *   {@link MAX_SCAN_BYTES} (it may come back short, never stuck: the cursor
 *   always advances).
 * - `auditRevert` (`permissions.revert`) restores documents of any table in
 *   `revertTables`, whatever permission the original change needed: give
 *   that permission only to people trusted with all of those tables, and
 *   use `afterRevert` to re-check what your own mutations check.
 * - Changes (`auditRevert`, `migrationRun`, `migrationControl`,
 *   `rateLimitReset`, `grantRole`, `revokeRole`) are admin mutations of
 *   `auditLog` with a required `reason`, recorded with who and why. Changes
 *   that only touch a component's state are recorded with the table marker
 *   `component:<name>`.
 * - `grantRole`/`revokeRole` refuse changes to one's own grants, roles
 *   holding `"*"`, and roles allowing more than the caller holds in that scope.
 *
 * @example
 * ```ts
 * import { opsApi } from "convex-opskit/ops";
 * export const { opsConfig, auditTrail, auditOperations, auditOperation, auditVerify,
 *   auditRevert, migrationsStatus, migrationReport, migrationRun, migrationControl,
 *   rateLimitValue, rateLimitReset, roleMembers, userGrants, grantRole, revokeRole,
 * } = opsApi({ authz, auditLog, revertTables: ["users", "posts"] });
 * ```
 */
export function opsApi<DataModel extends GenericDataModel, Perm extends string>(
  options: OpsApiOptions<DataModel, Perm>,
): OpsFunctions {
  const { authz, auditLog } = options;
  const roles: CompiledRoles = authz.compiled;
  const perm = {
    ...DEFAULT_OPS_PERMISSIONS,
    ...options.permissions,
  } as Record<OpsSection, Perm>;
  for (const [section, p] of Object.entries(perm))
    if (![...roles.keys()].some((r) => roleGrants(roles, r, p)))
      throw opskitError(
        "INVALID_ARGUMENT",
        `opsApi: no role grants "${p}" (the ${section} permission); add it to a role or pass permissions.${section}`,
        { section, permission: p },
      );
  if (options.revertTables.length === 0)
    throw opskitError(
      "INVALID_ARGUMENT",
      "opsApi: revertTables must list the tables a revert may write",
    );
  const migrationRefs = new Map<string, MigrationFunctionReference>(
    (options.migrations?.list ?? []).map((ref) => [getFunctionName(ref), ref]),
  );
  const limits: Record<string, RateLimitConfig> =
    options.rateLimiter?.limits ?? {};

  const userQuery = authz.query(queryGeneric);
  const userAction = authz.action(actionGeneric);
  const admin = auditLog.adminMutation(authz);
  const componentTables = (name: string) =>
    [`component:${name}`] as unknown as TableNamesInDataModel<DataModel>[];

  const migrationsOrThrow = () => {
    if (!options.migrations)
      throw opskitError(
        "NOT_FOUND",
        "this app's opsApi has no migrations configured",
      );
    return options.migrations.instance;
  };
  const migrationRef = (name: string) => {
    const ref = migrationRefs.get(name);
    if (!ref)
      throw opskitError(
        "NOT_FOUND",
        `no migration ${JSON.stringify(name.slice(0, 100))}; expected one of: ${[...migrationRefs.keys()].join(", ") || "(none configured)"}`,
        { name: name.slice(0, 100) },
      );
    return ref;
  };
  const limitName = (name: string) => {
    if (!Object.hasOwn(limits, name))
      throw opskitError(
        "NOT_FOUND",
        `no rate limit ${JSON.stringify(name.slice(0, 100))}; expected one of: ${Object.keys(limits).join(", ") || "(none configured)"}`,
        { name: name.slice(0, 100) },
      );
    // Names were checked against the limiter's own config just above.
    return { limiter: options.rateLimiter as unknown as LooseLimiter, name };
  };
  const checkRange = (a: { from?: number; to?: number }) => {
    for (const k of ["from", "to"] as const)
      if (a[k] !== undefined && !Number.isFinite(a[k]))
        throw opskitError(
          "INVALID_ARGUMENT",
          `${k} must be a time in ms (a finite number); got ${a[k]}`,
        );
    if (a.from !== undefined && a.to !== undefined && a.from > a.to)
      throw opskitError(
        "INVALID_ARGUMENT",
        `the time range is empty: from (${a.from}) is after to (${a.to})`,
      );
  };
  const pageSize = (n: number) => {
    if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE_SIZE)
      throw opskitError(
        "INVALID_ARGUMENT",
        `paginationOpts.numItems must be a whole number from 1 to ${MAX_PAGE_SIZE}; got ${n}`,
      );
    return n;
  };
  const validateTable = (table: string | undefined) => {
    if (table !== undefined && !options.revertTables.includes(table as never))
      throw opskitError(
        "INVALID_ARGUMENT",
        `unknown table ${JSON.stringify(table.slice(0, 100))}; expected one of: ${options.revertTables.join(", ")}`,
      );
  };

  const opsConfig = userQuery({
    args: {},
    returns: vOpsConfig,
    handler: async (ctx) => {
      const can = Object.fromEntries(
        await Promise.all(
          (Object.keys(perm) as OpsSection[]).map(
            async (s) => [s, await ctx.authz.can(perm[s])] as const,
          ),
        ),
      ) as Record<OpsSection, boolean>;
      const grants = await authz.listRoles(ctx, { userId: ctx.user.id });
      const now = Date.now();
      const reason = auditLog.options.reason;
      // Names are shown only to those who may use the section they belong to.
      return {
        actorId: ctx.user.id,
        can,
        permissions: perm,
        tables: can.read ? ([...options.revertTables] as string[]) : [],
        migrations: can.migrations ? [...migrationRefs.keys()] : [],
        rateLimits: can.rateLimits
          ? Object.entries(limits).map(([name, c]) => ({ name, kind: c.kind }))
          : [],
        roles: can.users
          ? [...roles.keys()].map((name) => ({
              name,
              assignable: mayAssign(roles, grants, name, undefined, now),
            }))
          : [],
        reason: {
          minLength: reason?.minLength ?? 10,
          ...(reason?.patternHint ? { hint: reason.patternHint } : {}),
        },
      };
    },
  });

  /**
   * Reads component pages until `numItems` rows pass `keep`, or
   * MAX_SCAN_PAGES pages or MAX_SCAN_BYTES were read; at least one page is
   * read, so the cursor always moves forward. Each read asks for as many
   * rows as the byte budget holds (FIRST_READ_ROWS before any row is seen).
   */
  async function scan<T>(
    numItems: number,
    cursor: string | null,
    read: (
      cursor: string | null,
      numItems: number,
    ) => Promise<{ page: T[]; isDone: boolean; continueCursor: string }>,
    keep: (row: T) => boolean,
  ) {
    const page: T[] = [];
    let scanned = 0;
    let next = cursor;
    let isDone = false;
    let continueCursor = cursor ?? "";
    let bytes = 0;
    let largest = 0;
    for (
      let i = 0;
      i < MAX_SCAN_PAGES && page.length < numItems && bytes < MAX_SCAN_BYTES;
      i++
    ) {
      const want = numItems - page.length;
      const rows =
        i === 0
          ? Math.min(want, FIRST_READ_ROWS)
          : Math.max(
              1,
              Math.min(
                want,
                Math.floor(
                  (MAX_SCAN_BYTES - bytes) /
                    Math.max(largest, MIN_ROW_ESTIMATE),
                ),
              ),
            );
      const r = await read(next, rows);
      scanned += r.page.length;
      for (const row of r.page) {
        // As Convex counts a value (JSON.stringify throws on an int64 and
        // counts bytes as `{}`).
        const size = documentSize(row as Value);
        bytes += size;
        largest = Math.max(largest, size);
      }
      page.push(...r.page.filter(keep));
      isDone = r.isDone;
      continueCursor = r.continueCursor;
      next = r.continueCursor;
      if (r.isDone) break;
    }
    return { page, isDone, continueCursor, scanned };
  }

  const auditTrail = userQuery({
    permission: perm.read,
    args: { ...vTrailFilters, paginationOpts: vPaginationOpts },
    returns: vTrailPage,
    handler: async (ctx, args) => {
      checkRange(args);
      validateTable(args.table);
      const n = pageSize(args.paginationOpts.numItems);
      // One index serves the most selective filter (table and actor together
      // have their own); the rest filter rows.
      const by =
        args.table !== undefined
          ? args.actorId !== undefined
            ? { table: args.table, actorId: args.actorId }
            : { table: args.table }
          : args.actorId !== undefined
            ? { actorId: args.actorId }
            : {};
      return await scan<Entry>(
        n,
        args.paginationOpts.cursor,
        (cursor, numItems) =>
          auditLog.list(ctx, {
            ...timeRange(args),
            ...by,
            paginationOpts: { numItems, cursor },
          } as never),
        (e) =>
          matchesWho(e, args) &&
          (args.table === undefined || e.table === args.table),
      );
    },
  });

  const auditOperations = userQuery({
    permission: perm.read,
    args: { ...vTrailFilters, paginationOpts: vPaginationOpts },
    returns: vOperationsPage,
    handler: async (ctx, args) => {
      checkRange(args);
      const n = pageSize(args.paginationOpts.numItems);
      const by =
        args.actorId !== undefined
          ? { actorId: args.actorId }
          : args.functionName !== undefined
            ? { functionName: args.functionName }
            : {};
      return await scan<Operation>(
        n,
        args.paginationOpts.cursor,
        (cursor, numItems) =>
          auditLog.listOperations(ctx, {
            ...timeRange(args),
            ...by,
            paginationOpts: { numItems, cursor },
          }),
        (o) =>
          matchesWho(o, args) &&
          (args.table === undefined || o.tables.includes(args.table)),
      );
    },
  });

  const auditOperation = userQuery({
    permission: perm.read,
    args: { operationId: v.string() },
    returns: vOperationDetail,
    handler: async (ctx, { operationId }) =>
      await auditLog.getOperation(ctx, { operationId }),
  });

  const auditVerify = userAction({
    permission: perm.read,
    args: {},
    returns: vVerifySummary,
    handler: async (ctx) => {
      const r = await auditLog.verify(ctx, {});
      return {
        ok: r.ok,
        checked: r.checked,
        pendingSeal: r.pendingSeal,
        isDone: r.isDone,
        problemCount: r.problems.length,
        problems: r.problems.slice(0, 20).map((p) => ({
          kind: p.kind,
          seq: p.seq,
          ...(p.operationId !== undefined
            ? { operationId: p.operationId }
            : {}),
          message: p.message,
        })),
      };
    },
  });

  const auditRevert = admin({
    name: "ops:auditRevert",
    permission: perm.revert,
    tables: options.revertTables,
    args: { operationId: v.string(), force: v.optional(v.boolean()) },
    returns: vRevertOutcome,
    handler: async (ctx, { operationId, force }) => {
      const r = await auditLog.revert(ctx, {
        operationId,
        ...(force !== undefined ? { force } : {}),
      });
      // A change of component state (a grant, a reset, a migration run) has
      // no document entries: "reverting" it would record a revert that
      // restored nothing while the change stays in force. Throwing rolls
      // back the revert's record; checked after the revert so that the
      // operation's entries are read once.
      if (r.revertedEntries === 0)
        throw opskitError(
          "INVALID_ARGUMENT",
          `operation ${operationId.slice(0, 100)} changed no documents (grants, resets and migration runs change component state, which a revert cannot restore: undo them with the matching console action); there is nothing to revert`,
          { operationId: operationId.slice(0, 100) },
        );
      if (options.afterRevert) {
        const op = await auditLog.getOperation(ctx, { operationId });
        // A re-created document lives under a new id: hand the hook ids it can read.
        const newId = new Map(
          r.recreated.map((c) => [`${c.table}\u0000${c.oldDocId}`, c.newDocId]),
        );
        await options.afterRevert(ctx, {
          operationId,
          entries: (op?.entries ?? []).map((e) => {
            const id = newId.get(`${e.table}\u0000${e.docId}`);
            return id === undefined ? e : { ...e, docId: id };
          }),
          recreated: r.recreated,
        });
      }
      return {
        revertedEntries: r.revertedEntries,
        recreated: r.recreated.length,
      };
    },
  });

  const row = (s: MigrationStatus): MigrationRow => ({
    name: s.name,
    state: s.state,
    dryRun: s.dryRun,
    processed: s.processed,
    changed: s.changed,
    unchanged: s.unchanged,
    failed: s.failed,
    ...(s.percent !== undefined ? { percent: s.percent } : {}),
    ...(s.docsPerSecond !== undefined
      ? { docsPerSecond: s.docsPerSecond }
      : {}),
    ...(s.etaMs !== undefined ? { etaMs: s.etaMs } : {}),
    ...(s.error !== undefined ? { error: s.error } : {}),
    warnings: s.warnings,
    latestStart: s.latestStart,
    ...(s.latestEnd !== undefined ? { latestEnd: s.latestEnd } : {}),
  });

  const migrationsStatus = userQuery({
    permission: perm.migrations,
    args: {},
    returns: v.array(vMigrationRow),
    handler: async (ctx) => {
      if (migrationRefs.size === 0) return [];
      const all = await migrationsOrThrow().getStatus(ctx, {
        migrations: [...migrationRefs.values()],
      });
      return all.map(row);
    },
  });

  const migrationReport = userQuery({
    permission: perm.migrations,
    args: { name: v.string(), dryRun: v.boolean() },
    returns: vMigrationReport,
    handler: async (ctx, { name, dryRun }) => {
      const r = await migrationsOrThrow().getReport(ctx, migrationRef(name), {
        dryRun,
        failureLimit: 100,
      });
      if (r === null) return null;
      return {
        status: row(r.status),
        fieldChanges: r.fieldChanges,
        samples: r.samples.slice(0, 5),
        failures: r.failures,
        journal: r.journal,
        rolledBack: r.rolledBack,
      };
    },
  });

  const migrationRun = admin({
    name: "ops:migrationRun",
    permission: perm.migrations,
    tables: componentTables("migrations"),
    args: {
      name: v.string(),
      dryRun: v.optional(v.boolean()),
      batchSize: v.optional(v.number()),
    },
    returns: vMigrationRow,
    handler: async (ctx, { name, dryRun, batchSize }) => {
      if (
        batchSize !== undefined &&
        (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000)
      )
        throw opskitError(
          "INVALID_ARGUMENT",
          `batchSize must be a whole number from 1 to 10000; got ${batchSize}`,
        );
      const ref = migrationRef(name);
      return row(
        await migrationsOrThrow().runOne(ctx, ref, {
          dryRun: dryRun ?? false,
          ...(batchSize !== undefined ? { batchSize } : {}),
          // A dry run always walks the whole table again.
          ...(dryRun ? { cursor: null } : {}),
        }),
      );
    },
  });

  const migrationControl = admin({
    name: "ops:migrationControl",
    permission: perm.migrations,
    tables: componentTables("migrations"),
    args: { name: v.string(), action: vMigrationAction },
    returns: vMigrationRow,
    handler: async (ctx, { name, action }) => {
      const m = migrationsOrThrow();
      const ref = migrationRef(name);
      const s =
        action === "pause"
          ? await m.pause(ctx, ref)
          : action === "resume"
            ? await m.resume(ctx, ref)
            : action === "cancel"
              ? await m.cancel(ctx, ref)
              : await m.rollback(ctx, ref);
      return row(s);
    },
  });

  const rateLimitValue = userQuery({
    permission: perm.rateLimits,
    args: { name: v.string(), key: v.optional(v.string()) },
    returns: vValue,
    handler: async (ctx, { name, key }) => {
      const limit = limitName(name);
      return await limit.limiter.getValue(
        ctx,
        limit.name,
        key !== undefined ? { key } : {},
      );
    },
  });

  const rateLimitReset = admin({
    name: "ops:rateLimitReset",
    permission: perm.rateLimits,
    tables: componentTables("rateLimiter"),
    args: { name: v.string(), key: v.optional(v.string()) },
    returns: v.null(),
    handler: async (ctx, { name, key }) => {
      const limit = limitName(name);
      await limit.limiter.reset(
        ctx,
        limit.name,
        key !== undefined ? { key } : {},
      );
      return null;
    },
  });

  const roleMembers = userQuery({
    permission: perm.users,
    args: { scope: v.optional(v.string()), paginationOpts: vPaginationOpts },
    returns: vMembersPage,
    handler: async (ctx, { scope, paginationOpts }) =>
      await authz.listMembers(ctx, {
        ...(scope !== undefined ? { scope } : {}),
        paginationOpts: {
          numItems: pageSize(paginationOpts.numItems),
          cursor: paginationOpts.cursor,
        },
      }),
  });

  const userGrants = userQuery({
    permission: perm.users,
    args: { userId: v.string() },
    returns: vGrants,
    handler: async (ctx, { userId }) => await authz.listRoles(ctx, { userId }),
  });

  /** Refuses self-service and escalation before any write. */
  async function checkAssign(
    ctx: AdminCtx<DataModel>,
    a: { userId: string; role: string; scope?: string },
  ) {
    const actorId = ctx.audit.actor.actorId;
    if (a.userId === actorId)
      throw opskitError(
        "FORBIDDEN",
        "you cannot change your own roles; ask another administrator",
      );
    if (!roles.has(a.role))
      throw opskitError(
        "INVALID_ARGUMENT",
        `unknown role ${JSON.stringify(a.role.slice(0, 64))}; expected one of: ${[...roles.keys()].join(", ")}`,
      );
    const grants = await authz.listRoles(ctx, { userId: actorId });
    if (!mayAssign(roles, grants, a.role, a.scope, Date.now()))
      throw opskitError(
        "FORBIDDEN",
        `role "${a.role}" allows more than you hold${a.scope ? ` in ${shown(a.scope)}` : ""}; only someone who holds all of it may grant or revoke it`,
        { role: a.role, ...(a.scope ? { scope: clipped(a.scope) } : {}) },
      );
  }

  // The grant's own tables, plus what afterRoleChange writes in the app.
  const roleTables = [
    ...componentTables("authz"),
    ...(options.roleChangeTables ?? []),
  ] as never;
  const pick = (a: { userId: string; role: string; scope?: string }) => ({
    userId: a.userId,
    role: a.role,
    ...(a.scope !== undefined ? { scope: a.scope } : {}),
  });

  const grantRole = admin({
    name: "ops:grantRole",
    permission: perm.users,
    tables: roleTables,
    args: {
      userId: v.string(),
      role: v.string(),
      scope: v.optional(v.string()),
      expiresAt: v.optional(v.number()),
    },
    returns: v.object({ created: v.boolean() }),
    handler: async (ctx, a) => {
      await checkAssign(ctx, a);
      const result = await authz.grant(ctx, a as never);
      await options.afterRoleChange?.(ctx, { action: "grant", ...pick(a) });
      return result;
    },
  });

  const revokeRole = admin({
    name: "ops:revokeRole",
    permission: perm.users,
    tables: roleTables,
    args: {
      userId: v.string(),
      role: v.string(),
      scope: v.optional(v.string()),
    },
    returns: v.object({ revoked: v.boolean() }),
    handler: async (ctx, a) => {
      await checkAssign(ctx, a);
      const result = await authz.revoke(ctx, a as never);
      await options.afterRoleChange?.(ctx, { action: "revoke", ...pick(a) });
      return result;
    },
  });

  const fns = {
    opsConfig,
    auditTrail,
    auditOperations,
    auditOperation,
    auditVerify,
    auditRevert,
    migrationsStatus,
    migrationReport,
    migrationRun,
    migrationControl,
    rateLimitValue,
    rateLimitReset,
    roleMembers,
    userGrants,
    grantRole,
    revokeRole,
  };
  return fns as unknown as OpsFunctions;
}

/** A page of {@link OpsApi.auditTrail}. */
export type TrailPage = Infer<typeof vTrailPage>;

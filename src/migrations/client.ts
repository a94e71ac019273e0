// Over ~400 lines (~440) on purpose: the class `Migrations` is the public
// API, one method per operation with its JSDoc, each a thin call into
// `./client/` or the component; splitting the class would scatter its docs.
/**
 * convex-opskit/migrations: define, run and track data migrations. A drop-in
 * for `@convex-dev/migrations` (same constructor, `define`, `runner`,
 * `runOne`, `runSerially`, `getStatus`, `cancel`, `cancelAll`,
 * `runToCompletion`) with whole-table dry runs, per-document accounting,
 * progress, adaptive batches, skip-and-retry of failing documents,
 * verification, code checksums, deploy gating, pause/resume and rollback.
 */
import {
  createFunctionHandle,
  type GenericDataModel,
  getFunctionName,
  internalMutationGeneric,
  internalQueryGeneric,
  type MutationBuilder,
  type RegisteredMutation,
} from "convex/server";
import { v } from "convex/values";
import type { RunMutationCtx, RunQueryCtx } from "../shared/ctx.js";
import { opskitError } from "../shared/errors.js";
import type { ComponentApi } from "./component/_generated/component.js";
import { definitionSettings, migrationHandler } from "./client/handler.js";
import { runnerHandler, type Starter, startRun } from "./client/start.js";
import type {
  AnyMigrationDefinition,
  MigrationFunctionReference,
  MigrationFunctionResult,
  MigrationsOptions,
} from "./client/types.js";
import {
  vBatchResult,
  vDescribeResult,
  type MigrationArgs,
  vMigrationArgs,
  type MigrationStatus,
  vMigrationStatus,
  type OnError,
  vPendingMigration,
  type PendingMigration,
  vRestoreResult,
  type RunReport,
  vRunnerArgs,
  type RunnerArgs,
} from "./shared/wire.js";

export type {
  MigrationArgs,
  MigrationStatus,
  OnError,
  PendingMigration,
  RunReport,
  RunnerArgs,
};
export type {
  MigrationDefinition,
  MigrationDoc,
  Verification,
} from "./client/define.js";
export {
  type AnyMigrationDefinition,
  DEFAULT_BATCH_SIZE,
  type MigrationFunctionReference,
  type MigrationFunctionResult,
  type MigrationResult,
  type MigrationsOptions,
} from "./client/types.js";
export { verifyAgainstSeed, type SeedCheck } from "./client/seed.js";
export {
  isMigrationFailure,
  isNewFormatCursor,
  runToCompletion,
} from "./client/run.js";
export {
  getFunctionMetadata,
  getTransactionMetrics,
} from "../shared/syscalls.js";

/**
 * Data migrations for a Convex app.
 *
 * @example
 * // convex/migrations.ts
 * import { Migrations } from "convex-opskit/migrations";
 * import { components, internal } from "./_generated/api";
 * import type { DataModel } from "./_generated/dataModel";
 * import { internalMutation } from "./_generated/server";
 *
 * export const migrations = new Migrations<DataModel>(components.migrations, { internalMutation });
 *
 * export const setDefault = migrations.define({
 *   table: "users",
 *   migrateOne: (_ctx, user) => (user.plan === undefined ? { plan: "free" } : undefined),
 *   onError: "skip",
 *   verify: (user) => user.plan !== undefined,
 * });
 *
 * export const run = migrations.runner();
 * export const runPending = migrations.pendingRunner([internal.migrations.setDefault]);
 * // npx convex run migrations:run '{"fn":"migrations:setDefault","dryRun":true}'
 * // npx convex deploy && npx convex run migrations:runPending
 */
export class Migrations<DataModel extends GenericDataModel> {
  /**
   * @param component - `components.migrations` from `./_generated/api`.
   * @param options - `internalMutation` and optional defaults.
   */
  constructor(
    public component: ComponentApi,
    public options: MigrationsOptions<DataModel> = {},
  ) {
    if (typeof options !== "object" || options === null)
      throw opskitError(
        "INVALID_ARGUMENT",
        `new Migrations(...): options must be an object, got ${options === null ? "null" : typeof options}`,
      );
    const size = options.defaultBatchSize;
    if (size !== undefined && (!Number.isInteger(size) || size < 1))
      throw opskitError(
        "INVALID_ARGUMENT",
        `new Migrations(...): defaultBatchSize must be a positive integer, got ${size}`,
        { defaultBatchSize: size },
      );
  }

  /**
   * Defines a migration over every document of `table` (or `customRange`).
   * The result is an internal mutation: export it, then run it with the
   * runner, `runOne`, `runSerially`, `runPending`, or directly:
   * `npx convex run migrations:setDefault '{"dryRun":true}'`.
   */
  define(
    def: AnyMigrationDefinition<DataModel>,
  ): RegisteredMutation<
    "internal",
    MigrationArgs,
    Promise<MigrationFunctionResult>
  > {
    const settings = definitionSettings(def, this.options);
    const builder = (this.options.internalMutation ??
      internalMutationGeneric) as MutationBuilder<DataModel, "internal">;
    return builder({
      args: vMigrationArgs,
      returns: v.union(
        vBatchResult,
        vDescribeResult,
        vRestoreResult,
        vMigrationStatus,
        v.null(),
      ),
      handler: migrationHandler(def, settings, this.starter),
    });
  }

  /**
   * An internal mutation that starts migrations from the CLI or dashboard.
   *
   * - `runner()`: any migration, `'{"fn":"migrations:setDefault"}'`.
   * - `runner(internal.migrations.setDefault)`: that one.
   * - `runner([a, b, c])`: a series.
   *
   * Arguments: `fn`, `cursor` (`null` restarts), `batchSize`, `dryRun`
   * (whole-table, nothing committed), `reset`, `next`, `onError`, `journal`.
   */
  runner(
    specificOrSeries?:
      MigrationFunctionReference | MigrationFunctionReference[],
  ) {
    return internalMutationGeneric({
      args: vRunnerArgs,
      returns: vMigrationStatus,
      handler: runnerHandler(specificOrSeries, this.starter),
    });
  }

  /** How this instance names and starts runs, for the define and runner handlers. */
  private get starter(): Starter {
    return {
      component: this.component,
      prefixedName: (name) => this.prefixedName(name),
      start: (...a) => startRun(this.starter, ...a),
    };
  }

  /**
   * Starts (or resumes) one migration from a mutation or action. A running,
   * paused or complete migration is left alone and its status returned.
   *
   * @example
   * await migrations.runOne(ctx, internal.migrations.setDefault, { dryRun: true });
   */
  async runOne(
    ctx: RunMutationCtx,
    fnRef: MigrationFunctionReference,
    opts: Omit<RunnerArgs, "fn" | "next"> = {},
  ): Promise<MigrationStatus> {
    return await this.starter.start(
      ctx,
      getFunctionName(fnRef),
      await createFunctionHandle(fnRef),
      opts,
    );
  }

  /**
   * Runs migrations one after another, skipping completed ones; stops the
   * series at the first that fails. Returns the first migration's status.
   */
  async runSerially(
    ctx: RunMutationCtx,
    fnRefs: MigrationFunctionReference[],
  ): Promise<MigrationStatus | undefined> {
    if (fnRefs.length === 0) return undefined;
    const [first, ...rest] = await Promise.all(
      fnRefs.map(async (ref) => ({
        name: getFunctionName(ref),
        fnHandle: await createFunctionHandle(ref),
      })),
    );
    return await ctx.runMutation(this.component.lib.migrate, {
      ...first,
      dryRun: false,
      ...(rest.length ? { next: rest } : {}),
    });
  }

  /**
   * Status of migrations (latest real run each): state, counts, percent,
   * docs per second, ETA, checksum and warnings such as changed code.
   */
  async getStatus(
    ctx: RunQueryCtx,
    {
      migrations,
      limit,
    }: {
      migrations?: Array<string | MigrationFunctionReference>;
      limit?: number;
    } = {},
  ): Promise<MigrationStatus[]> {
    return await ctx.runQuery(this.component.lib.getStatus, {
      names: migrations?.map((m) => this.nameOf(m)),
      limit,
    });
  }

  /** The full report (field counts, samples, failures) of the latest run or dry run. */
  async getReport(
    ctx: RunQueryCtx,
    migration: string | MigrationFunctionReference,
    opts: { dryRun?: boolean; failureLimit?: number } = {},
  ): Promise<RunReport | null> {
    return await ctx.runQuery(this.component.lib.getReport, {
      name: this.nameOf(migration),
      ...opts,
    });
  }

  /** Run history (real runs, dry runs, rollbacks), newest first. */
  async listRuns(
    ctx: RunQueryCtx,
    migration: string | MigrationFunctionReference,
    opts: { limit?: number } = {},
  ): Promise<MigrationStatus[]> {
    return await ctx.runQuery(this.component.lib.listRuns, {
      name: this.nameOf(migration),
      ...opts,
    });
  }

  /** Per-batch accounting (size, outcome, changed/unchanged/failed, usage) of the latest run. */
  async listBatches(
    ctx: RunQueryCtx,
    migration: string | MigrationFunctionReference,
    opts: { dryRun?: boolean; limit?: number } = {},
  ) {
    return await ctx.runQuery(this.component.lib.listBatches, {
      name: this.nameOf(migration),
      ...opts,
    });
  }

  /** Documents that failed (skipped) in the latest run, with their messages. */
  async listFailures(
    ctx: RunQueryCtx,
    migration: string | MigrationFunctionReference,
    opts: { dryRun?: boolean; includeResolved?: boolean; limit?: number } = {},
  ) {
    return await ctx.runQuery(this.component.lib.listFailures, {
      name: this.nameOf(migration),
      ...opts,
    });
  }

  /** Cancels a running or paused migration; starting it again resumes it. */
  async cancel(
    ctx: RunMutationCtx,
    migration: string | MigrationFunctionReference,
  ): Promise<MigrationStatus> {
    return await ctx.runMutation(this.component.lib.cancel, {
      name: this.nameOf(migration),
    });
  }

  /** Cancels every running or paused migration. */
  async cancelAll(ctx: RunMutationCtx): Promise<MigrationStatus[]> {
    return await ctx.runMutation(this.component.lib.cancelAll, {});
  }

  /** Deletes the history of finished runs created before `before` (default: all). */
  async clearAll(
    ctx: RunMutationCtx,
    opts: { before?: number } = {},
  ): Promise<void> {
    await ctx.runMutation(this.component.lib.clearAll, opts);
  }

  /** Pauses a running migration; only {@link resume} continues it. */
  async pause(
    ctx: RunMutationCtx,
    migration: string | MigrationFunctionReference,
  ): Promise<MigrationStatus> {
    return await ctx.runMutation(this.component.lib.pause, {
      name: this.nameOf(migration),
    });
  }

  /** Resumes a paused migration where it stopped. */
  async resume(
    ctx: RunMutationCtx,
    migration: string | MigrationFunctionReference,
  ): Promise<MigrationStatus> {
    return await ctx.runMutation(this.component.lib.resume, {
      name: this.nameOf(migration),
    });
  }

  /**
   * Rolls back the latest run of a migration that kept a journal
   * (`journal: true`), restoring the prior values of every changed field.
   */
  async rollback(
    ctx: RunMutationCtx,
    migration: string | MigrationFunctionReference,
  ): Promise<MigrationStatus> {
    return await ctx.runMutation(this.component.lib.rollback, {
      name: this.nameOf(migration),
    });
  }

  /** The given migrations that are not complete, with the reason. */
  async listPending(
    ctx: RunQueryCtx,
    migrations: MigrationFunctionReference[],
  ): Promise<PendingMigration[]> {
    return await ctx.runQuery(this.component.lib.listPending, {
      names: migrations.map((m) => getFunctionName(m)),
    });
  }

  /**
   * Starts, as one series, the given migrations that are not complete,
   * unless one of them is running. Safe to call after every deploy.
   */
  async runPending(
    ctx: RunMutationCtx,
    migrations: MigrationFunctionReference[],
    opts: { batchSize?: number; dryRun?: boolean } = {},
  ): Promise<{ started: string | null; pending: PendingMigration[] }> {
    return await ctx.runMutation(this.component.lib.runPending, {
      migrations: await Promise.all(
        migrations.map(async (ref) => ({
          name: getFunctionName(ref),
          fnHandle: await createFunctionHandle(ref),
        })),
      ),
      ...opts,
    });
  }

  /**
   * An internal mutation for deploy scripts:
   * `npx convex deploy && npx convex run migrations:runPending`.
   * Pass `'{"dryRun":true}'` to only list what would start.
   */
  pendingRunner(migrations: MigrationFunctionReference[]) {
    return internalMutationGeneric({
      args: {
        dryRun: v.optional(v.boolean()),
        batchSize: v.optional(v.number()),
      },
      returns: v.object({
        started: v.union(v.string(), v.null()),
        pending: v.array(vPendingMigration),
      }),
      handler: async (ctx, args) =>
        await this.runPending(ctx, migrations, args),
    });
  }

  /** An internal query listing the given migrations that are not complete. */
  pendingQuery(migrations: MigrationFunctionReference[]) {
    return internalQueryGeneric({
      args: {},
      returns: v.array(vPendingMigration),
      handler: async (ctx) => await this.listPending(ctx, migrations),
    });
  }

  private nameOf(m: string | MigrationFunctionReference): string {
    return typeof m === "string" ? this.prefixedName(m) : getFunctionName(m);
  }

  private prefixedName(name: string): string {
    return this.options.migrationsLocationPrefix && !name.includes(":")
      ? `${this.options.migrationsLocationPrefix}${name}`
      : name;
  }
}

/** Where the lines this client emits go (see `configureLogs`). */
export * from "../shared/logExports.js";

/** Return validators for the results this client gives back. */
export {
  vMigrationResult,
  vMigrationStatus,
  vPendingMigration,
  vRunReport,
  vRunReportOrNull,
} from "./client/returns.js";

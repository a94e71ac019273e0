/**
 * The migrations section of `opsApi`: status, report, run, and pause/resume/cancel/rollback.
 */
import type { GenericDataModel } from "convex/server";
import { v } from "convex/values";
import type { MigrationStatus } from "../migrations/client.js";
import { opskitError } from "../shared/errors.js";
import type { OpsDeps } from "./deps.js";
import {
  vMigrationAction,
  vMigrationReport,
  vMigrationRow,
  type MigrationRow,
} from "./validators.js";

/** The migrations section of {@link opsApi} (`permissions.migrations`). */
export function migrationsSection<
  DataModel extends GenericDataModel,
  Perm extends string,
>(deps: OpsDeps<DataModel, Perm>) {
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

  const migrationsStatus = deps.userQuery({
    permission: deps.perm.migrations,
    args: {},
    returns: v.array(vMigrationRow),
    handler: async (ctx) => {
      if (deps.migrationRefs.size === 0) return [];
      const all = await deps.migrationsOrThrow().getStatus(ctx, {
        migrations: [...deps.migrationRefs.values()],
      });
      return all.map(row);
    },
  });

  const migrationReport = deps.userQuery({
    permission: deps.perm.migrations,
    args: { name: v.string(), dryRun: v.boolean() },
    returns: vMigrationReport,
    handler: async (ctx, { name, dryRun }) => {
      const r = await deps
        .migrationsOrThrow()
        .getReport(ctx, deps.migrationRef(name), {
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

  const migrationRun = deps.admin({
    name: "ops:migrationRun",
    permission: deps.perm.migrations,
    tables: deps.componentTables("migrations"),
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
      const ref = deps.migrationRef(name);
      return row(
        await deps.migrationsOrThrow().runOne(ctx, ref, {
          dryRun: dryRun ?? false,
          ...(batchSize !== undefined ? { batchSize } : {}),
          // A dry run always walks the whole table again.
          ...(dryRun ? { cursor: null } : {}),
        }),
      );
    },
  });

  const migrationControl = deps.admin({
    name: "ops:migrationControl",
    permission: deps.perm.migrations,
    tables: deps.componentTables("migrations"),
    args: { name: v.string(), action: vMigrationAction },
    returns: vMigrationRow,
    handler: async (ctx, { name, action }) => {
      const m = deps.migrationsOrThrow();
      const ref = deps.migrationRef(name);
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

  return { migrationsStatus, migrationReport, migrationRun, migrationControl };
}

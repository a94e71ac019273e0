/**
 * The handler of a migration made by `migrations.define`: the `op` protocol
 * between the component and the app's migration function (documented in
 * `src/migrations/component/README.md`). No `op`: called directly (CLI,
 * dashboard, code), it starts a run like the runner; `"describe"`,
 * `"restore"`, and otherwise one batch (`"batch"`, `"retry"`).
 */
import {
  createFunctionHandle,
  type GenericDataModel,
  type GenericMutationCtx,
  makeFunctionReference,
} from "convex/server";
import { definitionError } from "../../shared/definitions.js";
import { clipped, opskitError, shown } from "../../shared/errors.js";
import { logEvent } from "../../shared/log.js";
import { requireFunctionMetadata } from "../../shared/meta.js";
import type { MigrationArgs } from "../shared/wire.js";
import {
  type BatchSettings,
  describeDefinition,
  runDefinitionBatch,
} from "./define.js";
import { restoreEntries } from "./journal.js";
import { definitionChecksum, rangeChecksum } from "./checksum.js";
import type { Starter } from "./start.js";
import type {
  AnyMigrationDefinition,
  MigrationFunctionResult,
  MigrationsOptions,
} from "./types.js";

/**
 * Checks a definition's own options and computes what its batches need to
 * know of it and of the `Migrations` options (checksums of its code and range).
 */
export function definitionSettings<DataModel extends GenericDataModel>(
  def: AnyMigrationDefinition<DataModel>,
  options: MigrationsOptions<DataModel>,
): BatchSettings {
  if (typeof def !== "object" || def === null)
    throw opskitError(
      "INVALID_ARGUMENT",
      `migrations.define(...) takes { table, migrateOne, ... }, got ${def === null ? "null" : typeof def}`,
    );
  checkDefinitionShape(def);
  if (
    def.batchSize !== undefined &&
    (!Number.isInteger(def.batchSize) || def.batchSize < 1)
  )
    throw definitionError(
      `migrations.define({ table: "${def.table}" })`,
      `batchSize must be a positive integer, got ${def.batchSize}`,
      { table: def.table, batchSize: def.batchSize },
    );
  return {
    schema: options.schema,
    defaultBatchSize: options.defaultBatchSize,
    checksum: definitionChecksum({
      table: def.table,
      migrateOne: def.migrateOne,
      customRange: def.customRange,
      verify: def.verify,
      onError: def.onError,
    }),
    range: rangeChecksum({ table: def.table, customRange: def.customRange }),
  };
}

/**
 * `INVALID_ARGUMENT` unless `def` names its `table` and has a `migrateOne`
 * function (and, when given, a `customRange` function and an `onError` of
 * "stop" or "skip"): from untyped code a definition without them was
 * accepted and failed only when run.
 */
function checkDefinitionShape(def: {
  table?: unknown;
  migrateOne?: unknown;
  customRange?: unknown;
  onError?: unknown;
}): void {
  if (typeof def.table !== "string" || def.table === "")
    throw definitionError(
      "migrations.define(...)",
      `\`table\` must be the name of the table to walk; got ${shown(def.table)}`,
    );
  const label = `migrations.define({ table: ${shown(def.table)} })`;
  if (typeof def.migrateOne !== "function")
    throw definitionError(
      label,
      `\`migrateOne\` must be a function of (ctx, doc); got ${shown(def.migrateOne)}`,
      { table: clipped(def.table) },
    );
  if (def.customRange !== undefined && typeof def.customRange !== "function")
    throw definitionError(
      label,
      `\`customRange\` must be a function of the table's query; got ${shown(def.customRange)}`,
      { table: clipped(def.table) },
    );
  if (
    def.onError !== undefined &&
    def.onError !== "stop" &&
    def.onError !== "skip"
  )
    throw definitionError(
      label,
      `\`onError\` must be "stop" or "skip"; got ${shown(def.onError)}`,
      { table: clipped(def.table) },
    );
}

/** The handler of the internal mutation `migrations.define(def)` registers. */
export function migrationHandler<DataModel extends GenericDataModel>(
  def: AnyMigrationDefinition<DataModel>,
  settings: BatchSettings,
  starter: Starter,
) {
  return async (
    ctx: GenericMutationCtx<DataModel>,
    args: MigrationArgs,
  ): Promise<MigrationFunctionResult> => {
    if (!args.oneBatchOnly && args.op === undefined) {
      // Called directly (CLI, dashboard, code): start it like the runner would.
      const { name } = await requireFunctionMetadata(ctx);
      if (args.cursor === "" || args.batchSize === 0) {
        // The dashboard fills every argument with a placeholder: say how
        // to run it instead of refusing the placeholders (as
        // @convex-dev/migrations does). Nothing is written.
        logEvent("migrations.hint", {
          functionName: name,
          message: `Running ${name} from the CLI or dashboard? Pass {} to run it, {"dryRun": true} for a dry run over the whole table, {"reset": true} to start over; e.g. npx convex run ${name} '{"dryRun":true}'`,
          dryRun: '{ "dryRun": true }',
          run: "{}",
          reset: '{ "reset": true }',
        });
        return null;
      }
      if (args.fn && starter.prefixedName(args.fn) !== name)
        throw opskitError(
          "INVALID_ARGUMENT",
          `This is ${name}; to run ${shown(args.fn)} call it or the runner instead`,
          { expected: name, got: clipped(args.fn) },
        );
      return await starter.start(
        ctx,
        name,
        await createFunctionHandle(makeFunctionReference<"mutation">(name)),
        args,
      );
    }
    switch (args.op) {
      case "describe":
        return await describeDefinition(ctx, def, settings, args.cursor);
      case "restore":
        // Journaled ids belong to the table the run walked.
        if (
          args.expectRange !== undefined &&
          args.expectRange !== settings.range
        )
          throw opskitError(
            "CONFLICT",
            `The table or customRange of this migration changed since the run being rolled back; deploy the code that ran (table "${def.table}" now) to roll it back`,
            { table: def.table },
          );
        return await restoreEntries(
          ctx as unknown as GenericMutationCtx<GenericDataModel>,
          def.table,
          args.entries ?? [],
        );
      default:
        return await runDefinitionBatch(ctx, def, settings, args);
    }
  };
}

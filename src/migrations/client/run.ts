/**
 * Running a migration without the scheduler (`runToCompletion`), and two
 * predicates `@convex-dev/migrations` exports under the same names.
 */
import {
  createFunctionHandle,
  type FunctionHandle,
  getFunctionAddress,
  getFunctionName,
} from "convex/server";
import { isOpskitError, opskitError } from "../../shared/errors.js";
import type { ComponentApi } from "../component/_generated/component.js";
import type { MigrationArgs, MigrationStatus } from "../shared/wire.js";
import type { RunMutationCtx } from "../../shared/ctx.js";
import type { MigrationFunctionReference } from "./types.js";

/**
 * Runs a migration to completion from an action, one batch per transaction,
 * without the scheduler. Throws MIGRATION_FAILED if it fails.
 *
 * @example
 * await runToCompletion(ctx, components.migrations, internal.migrations.setDefault);
 */
export async function runToCompletion(
  ctx: RunMutationCtx,
  component: ComponentApi,
  fnRef: MigrationFunctionReference | FunctionHandle<"mutation", MigrationArgs>,
  opts: {
    name?: string;
    cursor?: string | null;
    batchSize?: number;
    dryRun?: boolean;
  } = {},
): Promise<MigrationStatus> {
  const address = getFunctionAddress(fnRef);
  if (opts.name === undefined && address.functionHandle !== undefined)
    throw opskitError(
      "INVALID_ARGUMENT",
      "runToCompletion with a function handle needs opts.name",
    );
  const name =
    opts.name ?? getFunctionName(fnRef as MigrationFunctionReference);
  const fnHandle =
    address.functionHandle ??
    (await createFunctionHandle(fnRef as MigrationFunctionReference));
  let cursor = opts.cursor;
  let lastProgress = "";
  for (let stalled = 0; ;) {
    const status = await ctx.runMutation(component.lib.migrate, {
      name,
      fnHandle,
      cursor,
      batchSize: opts.batchSize,
      dryRun: opts.dryRun ?? false,
      oneBatchOnly: true,
    });
    cursor = undefined;
    if (status.isDone) return status;
    if (status.state === "failed")
      throw opskitError("MIGRATION_FAILED", status.error ?? `${name} failed`, {
        name,
      });
    if (status.state === "paused" || status.state === "canceled") return status;
    const progress = `${status.cursor}|${status.processed}|${status.batchSize}|${status.failed}|${status.batches}`;
    stalled = progress === lastProgress ? stalled + 1 : 0;
    if (stalled >= 3)
      throw opskitError(
        "MIGRATION_FAILED",
        `${name} is not making progress: ${JSON.stringify(status)}`,
        { name },
      );
    lastProgress = progress;
  }
}

/** Whether an error is a migration failure thrown by convex-opskit. */
export function isMigrationFailure(error: unknown): boolean {
  return isOpskitError(error, "MIGRATION_FAILED");
}

/**
 * Whether a cursor is in the format this package's walks use (a JSON array,
 * as convex-helpers' paginator writes) rather than an opaque cursor of
 * Convex's built-in `.paginate()`. `null` (start fresh) counts as new.
 * Same name and behaviour as `@convex-dev/migrations`' export.
 *
 * @example
 * isNewFormatCursor('[1719412234000,"k97d5ycbj3vgwcprmmxvmrm2dh7a5qhv"]'); // true
 * isNewFormatCursor("u1oU8i23WMATVwA2CneZ"); // false
 */
export function isNewFormatCursor(cursor: string | null): boolean {
  if (cursor === null) return true;
  return typeof cursor === "string" && cursor.startsWith("[");
}

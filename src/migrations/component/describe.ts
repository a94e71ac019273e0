/**
 * Asking the app's migration function who it is (op `describe`): its
 * table, range and checksum, stored in `definitions`.
 */
import {
  clipped,
  errorMessage,
  isOpskitError,
  opskitError,
  shown,
} from "../../shared/errors.js";
import type { DescribeResult } from "../shared/wire.js";
import type { MutationCtx } from "./_generated/server.js";
import { type AppResult, type MigrationHandle } from "./limits.js";

/** {@link errorMessage}, cut to a length an error message can repeat (it may quote the caller's input). */
function clippedMessage(e: unknown): string {
  const message = errorMessage(e);
  return message.length <= 300 ? message : `${message.slice(0, 300)}…`;
}

/**
 * Asks the app function who it is. Anything that is not a migration defined
 * with `migrations.define` (missing function, wrong arguments) is NOT_FOUND.
 * A `cursor` is checked by the app against its table: one that is not from
 * a walk of it is INVALID_ARGUMENT, before anything is written.
 */
export async function describe(
  ctx: MutationCtx,
  name: string,
  fnHandle: string,
  cursor?: string | null,
): Promise<DescribeResult> {
  let result: AppResult;
  try {
    result = await ctx.runMutation(fnHandle as MigrationHandle, {
      oneBatchOnly: true,
      op: "describe",
      // The app checks that a given cursor belongs to its table.
      ...(typeof cursor === "string" ? { cursor } : {}),
    });
  } catch (e) {
    // A mistake in the definition (or a runtime without ctx.meta) is the
    // app's INVALID_ARGUMENT, not a missing migration.
    if (isOpskitError(e, "INVALID_ARGUMENT"))
      throw opskitError(
        "INVALID_ARGUMENT",
        `Migration ${shown(name)} cannot run: ${clippedMessage(e)}`,
        { name: clipped(name) },
      );
    throw opskitError(
      "NOT_FOUND",
      `${shown(name)} is not a migration defined with migrations.define: ${clippedMessage(e)}`,
      { name: clipped(name) },
    );
  }
  if (result.kind !== "describe")
    throw opskitError(
      "NOT_FOUND",
      `${shown(name)} is not a migration defined with migrations.define`,
      { name: clipped(name) },
    );
  const def = await ctx.db
    .query("definitions")
    .withIndex("by_name", (q) => q.eq("name", name))
    .unique();
  if (!def)
    await ctx.db.insert("definitions", {
      name,
      checksum: result.checksum,
      table: result.table,
      updatedAt: Date.now(),
    });
  else if (def.checksum !== result.checksum || def.table !== result.table)
    await ctx.db.patch("definitions", def._id, {
      checksum: result.checksum,
      table: result.table,
      updatedAt: Date.now(),
    });
  return result;
}

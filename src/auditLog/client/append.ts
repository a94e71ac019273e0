/**
 * Appending one operation and its entries to the component, in calls small
 * enough for Convex's argument limit, all in the caller's transaction.
 */
import type { FunctionArgs } from "convex/server";
import { getConvexSize, type Value } from "convex/values";
import type { RunMutationCtx } from "../../shared/ctx.js";
import type { ComponentApi } from "../component/_generated/component.js";
import { APPEND_BATCH_BYTES } from "../shared/snapshot.js";
import type { EntryInput } from "../shared/validators.js";

/**
 * Sends an operation's entries to the component in calls of at most
 * {@link APPEND_BATCH_BYTES} (function arguments are capped at 16 MiB), all
 * in the caller's transaction: `append` with the total count, then
 * `appendEntries` for the rest.
 */
export async function appendInBatches(
  ctx: RunMutationCtx,
  component: ComponentApi,
  operation: FunctionArgs<ComponentApi["log"]["append"]>["operation"],
  entries: EntryInput[],
): Promise<string> {
  const batches: EntryInput[][] = [[]];
  let bytes = 0;
  for (const e of entries) {
    const size = getConvexSize(e as unknown as Value);
    const current = batches[batches.length - 1];
    if (current.length > 0 && bytes + size > APPEND_BATCH_BYTES) {
      batches.push([e]);
      bytes = size;
    } else {
      current.push(e);
      bytes += size;
    }
  }
  const operationId = await ctx.runMutation(component.log.append, {
    operation,
    entries: batches[0],
    entryCount: entries.length,
  });
  let fromIndex = batches[0].length;
  for (const batch of batches.slice(1)) {
    await ctx.runMutation(component.log.appendEntries, {
      operationId,
      fromIndex,
      entries: batch,
    });
    fromIndex += batch.length;
  }
  return operationId;
}

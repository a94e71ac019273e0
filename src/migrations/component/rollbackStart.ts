/**
 * Starting a rollback of a journaled run, or continuing one that stopped
 * half way, then running its first page through `engine.step`.
 */
import { clipped, opskitError, shown } from "../../shared/errors.js";
import { logEvent } from "../../shared/log.js";
import { DEFAULT_POLICY } from "./batching.js";
import type { MigrationStatus } from "../shared/wire.js";
import type { MutationCtx } from "./_generated/server.js";
import { cancelWorker, scheduleNext, step } from "./engine.js";
import { pickRunBase } from "./rollback.js";
import { freshCounters } from "./start.js";
import { isActive, latestRun, runStatus } from "./status.js";

/** Starts undoing a journaled run. */
export async function startRollback(
  ctx: MutationCtx,
  name: string,
): Promise<MigrationStatus> {
  const target = await latestRun(ctx, name, "migrate");
  if (!target)
    throw opskitError("NOT_FOUND", `Migration ${shown(name)} has never run`, {
      name: clipped(name),
    });
  if (!target.journal)
    throw opskitError(
      "INVALID_ARGUMENT",
      `The latest run of ${name} kept no journal (define it with journal: true or run it with { journal: true } to be able to roll back)`,
      { name },
    );
  const by = target.rolledBackBy
    ? await ctx.db.get("runs", target.rolledBackBy)
    : null;
  if (by?.state === "success")
    throw opskitError(
      "CONFLICT",
      `The latest run of ${name} was already rolled back`,
      { name },
    );
  if (target.state === "running" || target.state === "paused")
    throw opskitError(
      "CONFLICT",
      `${name} is ${target.state}; cancel it before rolling it back`,
      { name },
    );
  const now = Date.now();
  const earlier = await latestRun(ctx, name, "rollback");
  if (earlier?.target === target._id && earlier.state !== "success") {
    // A second rollback must not restore the journal again from its start:
    // that would overwrite what the app wrote since the first one restored
    // those documents. It continues the first one where it stopped.
    if (await isActive(ctx, earlier))
      throw opskitError(
        "CONFLICT",
        `A rollback of ${name} is already in progress`,
        { name, runId: earlier._id },
      );
    if (earlier.workerId) await cancelWorker(ctx, earlier.workerId);
    await ctx.db.patch("runs", target._id, { rolledBackBy: earlier._id });
    await ctx.db.patch("runs", earlier._id, {
      state: "running",
      error: undefined,
      endedAt: undefined,
      workerId: undefined,
      activeSince: now,
      visitedBefore: earlier.visited,
    });
    logEvent("migrations.start", {
      name,
      runId: earlier._id,
      rollback: true,
      resumed: true,
      target: target._id,
    });
    const resumed = (await ctx.db.get("runs", earlier._id))!;
    if ((await step(ctx, resumed)) === "continue")
      await scheduleNext(ctx, earlier._id);
    return await runStatus(ctx, (await ctx.db.get("runs", earlier._id))!, [
      `Resumed the unfinished rollback of ${name} where it stopped.`,
    ]);
  }
  const id = await ctx.db.insert("runs", {
    ...pickRunBase(target),
    kind: "rollback",
    state: "running",
    phase: "walk",
    cursor: null,
    batchSize: DEFAULT_POLICY.initial * 2,
    journal: false,
    args: {},
    startedAt: now,
    activeSince: now,
    ...freshCounters(),
    samplesWanted: 0,
    expectedTotal: target.changed,
    target: target._id,
  });
  // Marked at once: while documents are being restored the run's status
  // must not say "success".
  await ctx.db.patch("runs", target._id, { rolledBackBy: id });
  logEvent("migrations.start", {
    name,
    runId: id,
    rollback: true,
    target: target._id,
  });
  const run = (await ctx.db.get("runs", id))!;
  if ((await step(ctx, run)) === "continue") await scheduleNext(ctx, id);
  return await runStatus(ctx, (await ctx.db.get("runs", id))!);
}

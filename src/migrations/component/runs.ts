/**
 * Helpers of the component's functions (`lib.ts`): finding the run a call
 * is about, checking name lists and page sizes, statuses, stopping a run,
 * and which migrations are pending.
 */
import { clipped, opskitError, shown } from "../../shared/errors.js";
import { logEvent } from "../../shared/log.js";
import type { PendingMigration } from "../shared/wire.js";
import { Budget } from "./budget.js";
import type { Doc } from "./_generated/dataModel.js";
import type { MutationCtx, QueryCtx } from "./_generated/server.js";
import { cancelWorker } from "./engine.js";
import {
  currentChecksum,
  isActive,
  latestRun,
  neverRunStatus,
  runStatus,
} from "./status.js";

/**
 * Most migrations named in one call: each costs a few index ranges (4,096
 * per transaction) and, for `runPending`, a nested call.
 */
export const MAX_NAMES = 500;

export function checkNames(names: string[]): void {
  if (names.length > MAX_NAMES)
    throw opskitError(
      "INVALID_ARGUMENT",
      `At most ${MAX_NAMES} migrations per call, got ${names.length}; ask for them in smaller groups`,
      { count: names.length, max: MAX_NAMES },
    );
}

/**
 * A page size argument clamped to `min..max` (whole numbers); NaN, which
 * no clamp can make sense of, is INVALID_ARGUMENT.
 */
export function sizeArg(
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  if (Number.isNaN(value))
    throw opskitError(
      "INVALID_ARGUMENT",
      `${name} must be a number from ${min} to ${max}, got NaN`,
      { [name]: "NaN" },
    );
  return Math.floor(Math.max(min, Math.min(value, max)));
}

/** The latest real run of a migration, or its latest dry run when `dryRun`. */
export async function latestOf(
  ctx: QueryCtx,
  name: string,
  dryRun: boolean | undefined,
): Promise<Doc<"runs"> | null> {
  return await latestRun(ctx, name, dryRun ? "dryRun" : "migrate");
}

/** A `failures` row as a report and `listFailures` show it. */
export function failureView(f: Doc<"failures">) {
  return {
    id: f.docId,
    message: f.message,
    resolved: f.resolved,
    attempts: f.attempts,
  };
}

/** Whether a run is unfinished (running or paused). */
export function unfinished(run: Doc<"runs">): boolean {
  return run.state === "running" || run.state === "paused";
}

/**
 * The run a migration's status reports: its latest real run, or a dry run
 * that is in progress and newer (so a dry run never shows as "unknown").
 */
export async function reportedRun(
  ctx: QueryCtx,
  name: string,
): Promise<Doc<"runs"> | null> {
  const real = await latestRun(ctx, name, "migrate");
  const dry = await latestRun(ctx, name, "dryRun");
  if (
    dry &&
    unfinished(dry) &&
    (!real || dry._creationTime > real._creationTime)
  )
    return dry;
  return real;
}

export async function statusesFor(
  ctx: QueryCtx,
  names?: string[],
  limit = 100,
) {
  if (names) {
    return await Promise.all(
      names.map(async (name) => {
        const run = await reportedRun(ctx, name);
        return run ? await runStatus(ctx, run) : neverRunStatus(name);
      }),
    );
  }
  const wanted = sizeArg("limit", limit, 100, 1, 1000);
  const seen = new Set<string>();
  const runs: Doc<"runs">[] = [];
  // Newest first, in chunks sized by bytes read: a long history of large
  // run rows must not push the query over the read limits. When the budget
  // runs out, the migrations found so far are returned.
  const budget = await Budget.start(ctx, 0.5, 100);
  let olderThan: number | null = null;
  scan: while (runs.length < wanted && (await budget.fits())) {
    const chunk = await ctx.db
      .query("runs")
      .withIndex("by_creation_time", (q) =>
        olderThan === null ? q : q.lt("_creationTime", olderThan),
      )
      .order("desc")
      .take(budget.chunk());
    if (chunk.length === 0) break;
    for (const run of chunk) {
      budget.saw(run);
      olderThan = run._creationTime;
      if (seen.has(run.name) || run.kind === "rollback") continue;
      if (run.kind === "dryRun" && !unfinished(run)) continue;
      seen.add(run.name);
      runs.push(run);
      if (runs.length >= wanted) break scan;
    }
  }
  return await Promise.all(runs.reverse().map((r) => runStatus(ctx, r)));
}

export async function runToStop(ctx: MutationCtx, name: string) {
  for (const kind of ["migrate", "dryRun", "rollback"] as const) {
    const run = await latestRun(ctx, name, kind);
    if (run && (run.state === "running" || run.state === "paused")) return run;
  }
  return null;
}

/** The migration's run in `state` (real, dry or rollback), if any. */
export async function runIn(
  ctx: MutationCtx,
  name: string,
  state: "running" | "paused",
) {
  for (const kind of ["migrate", "dryRun", "rollback"] as const) {
    const run = await latestRun(ctx, name, kind);
    if (run?.state === state) return run;
  }
  return null;
}

async function anyRun(ctx: QueryCtx, name: string) {
  return (
    (await latestRun(ctx, name, "migrate")) ??
    (await latestRun(ctx, name, "dryRun"))
  );
}

/**
 * The status of a migration a call found nothing to do for, with
 * `warning`: of `run` when given, else of its latest real or dry run;
 * NOT_FOUND when it never ran.
 */
export async function nothingToDo(
  ctx: QueryCtx,
  name: string,
  warning: string,
  run: Doc<"runs"> | null = null,
) {
  const last = run ?? (await anyRun(ctx, name));
  if (!last)
    throw opskitError("NOT_FOUND", `Migration ${shown(name)} not found`, {
      name: clipped(name),
    });
  return await runStatus(ctx, last, [warning]);
}

export async function stopRun(
  ctx: MutationCtx,
  run: Doc<"runs">,
  state: "canceled" | "paused",
) {
  if (run.workerId) await cancelWorker(ctx, run.workerId);
  await ctx.db.patch("runs", run._id, {
    state,
    workerId: undefined,
    ...(state === "canceled" ? { endedAt: Date.now() } : {}),
  });
  logEvent(state === "canceled" ? "migrations.cancel" : "migrations.pause", {
    name: run.name,
    runId: run._id,
    cursor: run.cursor,
    visited: run.visited,
  });
  return await runStatus(ctx, (await ctx.db.get("runs", run._id))!);
}

export async function pendingFor(
  ctx: QueryCtx,
  names: string[],
): Promise<PendingMigration[]> {
  const out: PendingMigration[] = [];
  for (const name of names) {
    const run = await latestRun(ctx, name, "migrate");
    if (!run) {
      out.push({ name, reason: "neverRun" });
      continue;
    }
    const status = await runStatus(ctx, run);
    let reason: PendingMigration["reason"] | null = null;
    if (run.rolledBackBy) reason = "incomplete";
    else if (status.state === "success")
      reason =
        (await currentChecksum(ctx, name)) !== run.checksum
          ? "codeChanged"
          : null;
    else if (await isActive(ctx, run)) reason = "inProgress";
    else if (status.state === "paused") reason = "paused";
    else if (status.state === "failed") reason = "failed";
    else if (status.state === "canceled") reason = "canceled";
    else reason = "incomplete";
    if (reason) out.push({ name, reason, status });
  }
  return out;
}

/** The body of `lib.listRuns` (see its doc comment). */
export async function runHistory(
  ctx: QueryCtx,
  args: { name: string; limit?: number },
) {
  const limit = sizeArg("limit", args.limit, 20, 1, 200);
  const runs: Doc<"runs">[] = [];
  // Run rows can be large (a dry run keeps samples): read in chunks within
  // a byte budget; a long history returns its newest runs that fit.
  const budget = await Budget.start(ctx, 0.5, 50);
  for (const kind of ["migrate", "dryRun", "rollback"] as const) {
    let olderThan: number | null = null;
    let taken = 0;
    while (taken < limit && (await budget.fits())) {
      const chunk = await ctx.db
        .query("runs")
        .withIndex("by_name_and_kind", (q) => {
          const r = q.eq("name", args.name).eq("kind", kind);
          return olderThan === null ? r : r.lt("_creationTime", olderThan);
        })
        .order("desc")
        .take(Math.min(budget.chunk(), limit - taken));
      if (chunk.length === 0) break;
      runs.push(...chunk);
      taken += chunk.length;
      olderThan = chunk[chunk.length - 1]._creationTime;
    }
  }
  runs.sort((a, b) => b._creationTime - a._creationTime);
  return await Promise.all(runs.slice(0, limit).map((r) => runStatus(ctx, r)));
}

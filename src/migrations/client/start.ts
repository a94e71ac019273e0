/**
 * Starting runs: what the runner, `runOne` and a migration called directly
 * share (a run's name, its function handle, and the series after it).
 */
import {
  createFunctionHandle,
  getFunctionName,
  makeFunctionReference,
} from "convex/server";
import { definitionError } from "../../shared/definitions.js";
import {
  clipped,
  errorMessage,
  opskitError,
  shown,
} from "../../shared/errors.js";
import type { ComponentApi } from "../component/_generated/component.js";
import type { MigrationStatus, RunnerArgs } from "../shared/wire.js";
import type { RunMutationCtx } from "../../shared/ctx.js";
import type { MigrationFunctionReference } from "./types.js";

/** How a `Migrations` instance names and starts runs. */
export type Starter = {
  component: ComponentApi;
  /** A short name with `migrationsLocationPrefix` in front (a name with ":" as given). */
  prefixedName: (name: string) => string;
  start: (
    ctx: RunMutationCtx,
    name: string,
    fnHandle: string,
    args: RunnerArgs,
    series?: Array<{ name: string; fnHandle: string }>,
  ) => Promise<MigrationStatus>;
};

/** Starts (or resumes) `name`, then the series after it (`args.next` last). */
export async function startRun(
  starter: Starter,
  ctx: RunMutationCtx,
  name: string,
  fnHandle: string,
  args: RunnerArgs,
  series: Array<{ name: string; fnHandle: string }> = [],
): Promise<MigrationStatus> {
  const next = [
    ...series,
    ...(await Promise.all(
      (args.next ?? []).map(async (n) => {
        const full = starter.prefixedName(n);
        return { name: full, fnHandle: await handleFor(full) };
      }),
    )),
  ];
  return await ctx.runMutation(starter.component.lib.migrate, {
    name,
    fnHandle,
    cursor: args.reset ? null : args.cursor,
    batchSize: args.batchSize,
    dryRun: args.dryRun ?? false,
    reset: args.reset,
    onError: args.onError,
    journal: args.journal,
    ...(next.length ? { next } : {}),
  });
}

/**
 * `INVALID_ARGUMENT` unless `migrations.runner(x)` got nothing, a migration's
 * function reference, or an array of them: from untyped code a number was
 * accepted and failed only when the runner ran.
 */
function checkRunnerReferences(specificOrSeries: unknown): void {
  if (specificOrSeries === undefined) return;
  const series = Array.isArray(specificOrSeries)
    ? specificOrSeries
    : [specificOrSeries];
  series.forEach((ref: unknown, i) => {
    let ok = false;
    if (
      (typeof ref === "object" && ref !== null) ||
      typeof ref === "string" ||
      typeof ref === "function"
    )
      try {
        ok = getFunctionName(ref as MigrationFunctionReference).length > 0;
      } catch {
        ok = false;
      }
    if (!ok)
      throw definitionError(
        "migrations.runner(...)",
        Array.isArray(specificOrSeries)
          ? `item ${i} of the series must be a migration's function reference like internal.migrations.setDefault; got ${shown(ref)}`
          : `takes a migration's function reference like internal.migrations.setDefault, or an array of them; got ${shown(ref)}`,
      );
  });
}

/** The handler of `migrations.runner(specificOrSeries)`. */
export function runnerHandler(
  specificOrSeries:
    MigrationFunctionReference | MigrationFunctionReference[] | undefined,
  starter: Starter,
) {
  checkRunnerReferences(specificOrSeries);
  return async (
    ctx: RunMutationCtx,
    args: RunnerArgs,
  ): Promise<MigrationStatus> => {
    const [specific, ...series] = Array.isArray(specificOrSeries)
      ? specificOrSeries
      : specificOrSeries
        ? [specificOrSeries]
        : [];
    if (args.fn && specific)
      throw opskitError(
        "INVALID_ARGUMENT",
        "This runner is for specific migrations; do not pass fn",
      );
    if (!args.fn && !specific)
      throw opskitError(
        "INVALID_ARGUMENT",
        `Say which migration to run: '{"fn": "migrations:myMigration"}'`,
      );
    const name = args.fn
      ? starter.prefixedName(args.fn)
      : getFunctionName(specific!);
    const fnHandle = args.fn
      ? await handleFor(name)
      : await createFunctionHandle(specific!);
    const next = await Promise.all(
      series.map(async (ref) => ({
        name: getFunctionName(ref),
        fnHandle: await createFunctionHandle(ref),
      })),
    );
    return await starter.start(ctx, name, fnHandle, args, next);
  };
}

/** The function handle of a migration named "folder/file:export". */
export async function handleFor(name: string): Promise<string> {
  try {
    return await createFunctionHandle(makeFunctionReference<"mutation">(name));
  } catch (e) {
    throw opskitError(
      "NOT_FOUND",
      `No function ${shown(name)}: the name is "folder/file:export", e.g. "migrations:setDefault" (${errorMessage(e).slice(0, 300)})`,
      { name: clipped(name) },
    );
  }
}

/**
 * Guarded access to `ctx.meta` for the migrations component and its client.
 *
 * `ctx.meta.getTransactionMetrics()` and `ctx.meta.getFunctionMetadata()`
 * arrived in convex 1.36.0 (nested `transactionLimits` in 1.41.0); a
 * self-hosted backend older than them lacks the syscalls. Migrations cannot
 * size batches without them, so their absence is a coded error that names
 * the versions required, never a `TypeError` from deep inside a batch.
 */
import type { FunctionMetadata, TransactionMetrics } from "convex/server";
import { opskitError } from "../shared/errors.js";

/** The convex npm version that added `ctx.meta` (transaction metrics and function metadata). */
export const META_MIN_CONVEX_VERSION = "1.36.0";
/** The convex npm version convex-opskit's migrations need (nested `transactionLimits`). */
export const MIGRATIONS_MIN_CONVEX_VERSION = "1.41.0";

/** The error thrown when the runtime lacks a `ctx.meta` function. */
export function metaMissing(what: string, cause?: unknown) {
  const detail =
    cause === undefined
      ? ""
      : ` (${cause instanceof Error ? cause.message : String(cause)})`;
  return opskitError(
    "INVALID_ARGUMENT",
    `convex-opskit migrations need ctx.meta.${what}(), added in convex ${META_MIN_CONVEX_VERSION}; this runtime lacks it${detail}. Use convex >= ${MIGRATIONS_MIN_CONVEX_VERSION} (npm) on a Convex backend that supports it (a self-hosted backend built before ctx.meta shipped does not).`,
    { minimumConvexVersion: MIGRATIONS_MIN_CONVEX_VERSION, missing: what },
  );
}

type MetaCtx = { meta?: unknown };

async function callMeta<T>(ctx: MetaCtx, what: string): Promise<T> {
  const meta = ctx.meta as Record<string, unknown> | undefined;
  const fn = meta?.[what];
  if (typeof fn !== "function") throw metaMissing(what);
  let out: unknown;
  try {
    out = await (fn as () => Promise<T>).call(meta);
  } catch (e) {
    // The function exists in the npm package but the backend has no syscall.
    if (
      e instanceof Error &&
      /syscall|not (supported|implemented)/i.test(e.message)
    )
      throw metaMissing(what, e);
    throw e;
  }
  if (out === undefined || out === null) throw metaMissing(what);
  return out as T;
}

/** `ctx.meta.getTransactionMetrics()`, or a coded error naming the Convex version needed. */
export async function transactionMetrics(
  ctx: MetaCtx,
): Promise<TransactionMetrics> {
  return await callMeta<TransactionMetrics>(ctx, "getTransactionMetrics");
}

/** `ctx.meta.getFunctionMetadata()`, or a coded error naming the Convex version needed. */
export async function functionMetadata(
  ctx: MetaCtx,
): Promise<FunctionMetadata> {
  return await callMeta<FunctionMetadata>(ctx, "getFunctionMetadata");
}

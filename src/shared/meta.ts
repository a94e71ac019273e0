/**
 * Guarded readers of Convex's `ctx.meta`, shared by every capability.
 *
 * `ctx.meta` arrived in convex 1.36 (nested `transactionLimits` in 1.41) and
 * a self-hosted backend or a test harness may lack any of its functions.
 * Two kinds of reader: the `…OrNull` / fallback ones degrade (auditLog and
 * authz only decorate logs and records with what they learn), the
 * `require…` ones throw a coded error naming the versions needed (migrations
 * cannot size a batch without metrics).
 */
import type { FunctionMetadata, TransactionMetrics } from "convex/server";
import type { MetaCtx } from "./ctx.js";
import { opskitError } from "./errors.js";
import { logsSilenced } from "./log.js";

/** The convex npm version that added `ctx.meta` (transaction metrics and function metadata). */
export const META_MIN_CONVEX_VERSION = "1.36.0";
/** The convex npm version convex-opskit's migrations need (nested `transactionLimits`). */
export const MIGRATIONS_MIN_CONVEX_VERSION = "1.41.0";

/** Request metadata as recorded: never the auth token. */
export type RequestInfo = {
  ip: string | null;
  userAgent: string | null;
  requestId: string;
  scheduledFunctionId: string | null;
};

type Metric = { used: number; remaining: number };

/** The part of `ctx.meta.getTransactionMetrics()` that byte and document budgets read. */
export type ReadMetrics = { bytesRead: Metric; documentsRead: Metric };

function metaOf(ctx: MetaCtx): Record<string, unknown> | undefined {
  const meta = ctx.meta;
  return typeof meta === "object" && meta !== null
    ? (meta as Record<string, unknown>)
    : undefined;
}

/**
 * The running function's path (`"admin:setPlan"`), or `fallback` where the
 * runtime does not say. With no fallback, `null` when unknown.
 */
export async function functionNameOf(ctx: MetaCtx): Promise<string | null>;
export async function functionNameOf(
  ctx: MetaCtx,
  fallback: string | undefined,
): Promise<string>;
export async function functionNameOf(
  ctx: MetaCtx,
  ...fallback: [string | undefined] | []
): Promise<string | null> {
  try {
    const get = metaOf(ctx)?.getFunctionMetadata;
    if (typeof get === "function") {
      const name = ((await get.call(ctx.meta)) as { name?: unknown } | null)
        ?.name;
      if (typeof name === "string" && name) return name;
    }
  } catch {
    // Older runtimes and some test harnesses lack function metadata.
  }
  return fallback.length === 0 ? null : (fallback[0] ?? "unknown");
}

/**
 * The running function's type (`"query"`, `"mutation"`, `"action"`), or null
 * where the runtime does not say (or its lookup throws).
 */
export async function functionTypeOf(ctx: MetaCtx): Promise<string | null> {
  try {
    const get = metaOf(ctx)?.getFunctionMetadata;
    if (typeof get !== "function") return null;
    const type = ((await get.call(ctx.meta)) as { type?: unknown } | null)
      ?.type;
    return typeof type === "string" ? type : null;
  } catch {
    return null;
  }
}

/** Request metadata where Convex provides it (never the auth token), else null. */
export async function requestInfo(ctx: MetaCtx): Promise<RequestInfo | null> {
  try {
    const get = metaOf(ctx)?.getRequestMetadata;
    if (typeof get !== "function") return null;
    const r = (await get.call(ctx.meta)) as {
      ip?: string | null;
      userAgent?: string | null;
      requestId: string;
      scheduledFunctionId?: string | null;
    } | null;
    if (!r) return null;
    return {
      ip: r.ip ?? null,
      userAgent: r.userAgent ?? null,
      requestId: String(r.requestId),
      scheduledFunctionId: r.scheduledFunctionId ?? null,
    };
  } catch {
    return null;
  }
}

/** `ctx.meta.getTransactionMetrics()`, or null where the runtime lacks it. */
export async function transactionMetricsOrNull(
  ctx: MetaCtx,
): Promise<ReadMetrics | null> {
  try {
    const get = metaOf(ctx)?.getTransactionMetrics;
    if (typeof get !== "function") return null;
    return ((await get.call(ctx.meta)) as ReadMetrics | undefined) ?? null;
  } catch {
    return null;
  }
}

/** `ctx.meta.getSnapshotTs()`, or null where the runtime lacks it. */
export function snapshotTs(ctx: MetaCtx): bigint | null {
  try {
    const get = metaOf(ctx)?.getSnapshotTs;
    if (typeof get !== "function") return null;
    return (get.call(ctx.meta) as bigint | undefined) ?? null;
  } catch {
    return null;
  }
}

/** The error thrown when the runtime lacks a `ctx.meta` function a caller requires. */
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

async function requireMeta<T>(ctx: MetaCtx, what: string): Promise<T> {
  const meta = metaOf(ctx);
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
export async function requireTransactionMetrics(
  ctx: MetaCtx,
): Promise<TransactionMetrics> {
  return await requireMeta<TransactionMetrics>(ctx, "getTransactionMetrics");
}

/** `ctx.meta.getFunctionMetadata()`, or a coded error naming the Convex version needed. */
export async function requireFunctionMetadata(
  ctx: MetaCtx,
): Promise<FunctionMetadata> {
  return await requireMeta<FunctionMetadata>(ctx, "getFunctionMetadata");
}

/**
 * `{ functionName }` of the running function for a log line about its call,
 * where `ctx.meta` tells it; `{}` where it does not, and without asking when
 * the lines are silenced (the lookup is an async call).
 */
export async function callerFields(
  ctx: object,
): Promise<{ functionName?: string }> {
  if (logsSilenced()) return {};
  const functionName = await functionNameOf(ctx as MetaCtx);
  return functionName === null ? {} : { functionName };
}

/**
 * What the client throws and returns when a call is denied or fails on
 * contention, how it recognises those errors, and the stale-snapshot query
 * that keeps asynchronous limits from conflicting.
 */
import type { FunctionReference } from "convex/server";
import { ConvexError } from "convex/values";
import { ErrorCode } from "../../shared/errors.js";
import { logEvent } from "../../shared/log.js";
import type { RateLimitConfig } from "../shared/config.js";
import { suggestShards } from "./shards.js";
import type { RateLimitReturns } from "./types.js";
import type { MetaCtx, RunMutationCtx, RunQueryCtx } from "../../shared/ctx.js";
import { callerFields, functionTypeOf } from "../../shared/meta.js";

/**
 * The `data` of the `ConvexError` thrown with `throws: true`: the fields of
 * `@convex-dev/rate-limiter` (`kind`, `name`, `retryAfter`) plus the
 * convex-opskit `code` and `message`.
 */
export type RateLimitError = {
  kind: "RateLimited";
  code: "RATE_LIMITED";
  message: string;
  name: string;
  retryAfter: number;
  /** `"contention"` when the denial came from the failure policy (see `ContentionPolicy`). */
  reason?: "contention";
};

/** `retryAfter` of a contention denial: ms after which a retry meets a quieter key. */
export const CONTENTION_RETRY_AFTER = 1000;

/** Whether `error` is Convex's "changed while this mutation was being run" failure (OCC retries exhausted). */
export function isContentionError(error: unknown): boolean {
  // An OCC failure is never a ConvexError: one that merely quotes the text
  // (a message echoing input) is an application error and must propagate.
  if (error instanceof ConvexError) return false;
  const message = error instanceof Error ? error.message : String(error);
  // The backend's two OCC messages (crates/errors: user_occ, and
  // OCC_ERROR_MSG of system_occ) and its short code.
  return /changed while this mutation was being run|this mutation changed while it was being run|OptimisticConcurrencyControlFailure/.test(
    message,
  );
}

/** Whether `error` is the error a denied `limit`/`check` with `throws: true` raises. */
export function isRateLimitError(
  error: unknown,
): error is ConvexError<RateLimitError> {
  if (!(error instanceof ConvexError)) return false;
  const data = error.data as Partial<RateLimitError> | null;
  return (
    typeof data === "object" && data !== null && data.kind === "RateLimited"
  );
}

/**
 * Runs a query through a stale snapshot when called from a mutation (Convex
 * 1.42+: its reads then never conflict); from an action, or where
 * `getFunctionMetadata` is missing or fails, an ordinary query.
 */
export async function staleQuery<Args extends Record<string, unknown>, Result>(
  ctx: RunQueryCtx | RunMutationCtx,
  ref: FunctionReference<"query", "internal", Args, Result>,
  args: Args,
): Promise<Result> {
  const inMutation = (await functionTypeOf(ctx as MetaCtx)) === "mutation";
  const run = (
    ctx.runQuery as unknown as (...a: unknown[]) => Promise<Result>
  ).bind(ctx) as unknown as (
    ref: FunctionReference<"query", "internal", Args, Result>,
    args: Args,
    options?: { useStaleSnapshot: boolean },
  ) => Promise<Result>;
  return inMutation
    ? run(ref, args, { useStaleSnapshot: true })
    : run(ref, args);
}

/** The result (or error) of a call whose mutation failed on contention, per `policy`. */
export async function contended(
  ctx: object,
  requests: Array<{ name: string; key?: string; config: RateLimitConfig }>,
  policy: "deny" | "allow",
  throws: boolean,
): Promise<RateLimitReturns> {
  const caller = await callerFields(ctx);
  const first = requests[0];
  const config = first.config;
  const shards = config.shards ?? 1;
  const suggestion = suggestShards({
    rate: config.rate,
    period: config.period,
    callsPerSecond: 10_000,
    ...(config.capacity !== undefined ? { capacity: config.capacity } : {}),
  });
  for (const r of requests)
    logEvent("rateLimiter.contention", {
      name: r.name,
      key: r.key,
      policy,
      shards: r.config.shards ?? 1,
      message: `Rate limit "${r.name}" failed on write contention with ${r.config.shards ?? 1} shard(s); under unlimited overload it needs about ${suggestShards({ rate: r.config.rate, period: r.config.period, callsPerSecond: 10_000, ...(r.config.capacity !== undefined ? { capacity: r.config.capacity } : {}) })}: see suggestShards({ rate, period, callsPerSecond }) or applyUpdates "asynchronously"`,
      ...caller,
    });
  if (policy === "allow") return { ok: true, reason: "contention" };
  if (throws)
    throw new ConvexError<RateLimitError>({
      kind: "RateLimited",
      code: ErrorCode.RATE_LIMITED,
      message: `Rate limit "${first.name}" could not be decided under write contention (${shards} shard(s); suggestShards says ${suggestion} for heavy traffic); retry in ${CONTENTION_RETRY_AFTER} ms.`,
      name: first.name,
      retryAfter: CONTENTION_RETRY_AFTER,
      reason: "contention",
    });
  const denied = requests.map((r) => ({
    name: r.name,
    ...(r.key !== undefined ? { key: r.key } : {}),
    retryAfter: CONTENTION_RETRY_AFTER,
  }));
  return {
    ok: false,
    reason: "contention",
    retryAfter: CONTENTION_RETRY_AFTER,
    name: first.name,
    denied,
  };
}

/** The `ConvexError` a denied `limit`/`check` with `throws: true` raises. */
export function rateLimited(
  name: string,
  retryAfter: number,
): ConvexError<RateLimitError> {
  return new ConvexError<RateLimitError>({
    kind: "RateLimited",
    code: ErrorCode.RATE_LIMITED,
    message: `Rate limit "${name}" exceeded; retry in ${Math.ceil(retryAfter)} ms.`,
    name,
    retryAfter,
  });
}

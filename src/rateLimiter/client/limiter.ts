// Over ~400 lines, not yet split: the split along its seams is issue 13's
// (architecture) work, planned file by file and kept out of the hardening
// sessions so the attack fixes could land without a concurrent reshape.
/**
 * `convex-opskit/rateLimiter`: application-layer rate limits for Convex,
 * API-compatible with `@convex-dev/rate-limiter` (change the imports to switch).
 */
import {
  mutationGeneric,
  type FunctionReference,
  queryGeneric,
  type GenericActionCtx,
  type GenericDataModel,
  type GenericMutationCtx,
  type GenericQueryCtx,
} from "convex/server";
import { ConvexError, v } from "convex/values";
import { ErrorCode, opskitError } from "../../shared/errors.js";
import { logEvent } from "../../shared/log.js";
import { suggestShards } from "./shards.js";
import type { ComponentApi } from "../component/_generated/component.js";
import {
  validateConfig,
  validateCount,
  validateNameAndKey,
  validateUpTo,
  type RateLimitConfig,
} from "../shared/config.js";
import {
  toLimitResult,
  vValue,
  type LimitResult,
  type RateLimitValue,
} from "../shared/validators.js";

export type {
  FixedWindowConfig,
  GcraConfig,
  RateLimitConfig,
  SlidingWindowConfig,
  TokenBucketConfig,
} from "../shared/config.js";
export type { LimitResult, RateLimitValue } from "../shared/validators.js";
export { rateLimitHeaders, tooManyRequests } from "./http.js";
export {
  suggestShards,
  CONFLICT_WINDOW_MS,
  type SuggestShardsArgs,
} from "./shards.js";
export {
  requestKey,
  type RequestKeyCtx,
  type RequestKeyOptions,
} from "./keys.js";
export { statusAt, type RateLimitStatus } from "./status.js";
export {
  calculateRateLimit,
  type CalculableConfig,
  type CalculatedRateLimit,
} from "./calculate.js";

/** One second in ms. */
export const SECOND = 1000;
/** One minute in ms. */
export const MINUTE = 60 * SECOND;
/** One hour in ms. */
export const HOUR = 60 * MINUTE;
/** One day in ms. */
export const DAY = 24 * HOUR;
/** One week in ms. */
export const WEEK = 7 * DAY;

/** What `limit`/`check` return: `{ ok: true, retryAfter? } | { ok: false, retryAfter }` plus details. */
export type RateLimitReturns = LimitResult;

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
  /** `"contention"` when the denial came from the failure policy (see {@link ContentionPolicy}). */
  reason?: "contention";
};

/**
 * What `limit` does, when called from an action or HTTP action, if the
 * component's mutation fails on write contention (OCC retries exhausted):
 * - `"deny"` (default): return `{ ok: false, reason: "contention", retryAfter }`;
 * - `"allow"`: fail open, return `{ ok: true, reason: "contention" }`;
 * - `"throw"`: rethrow the error.
 * Either way a `rateLimiter.contention` line is logged. Inside a mutation the
 * failure aborts the caller's whole transaction and cannot be caught.
 */
export type ContentionPolicy = "deny" | "allow" | "throw";

/** `retryAfter` of a contention denial: ms after which a retry meets a quieter key. */
export const CONTENTION_RETRY_AFTER = 1000;

/** Options of the {@link RateLimiter} constructor. */
export type RateLimiterOptions = {
  /** Default contention policy of every `limit`/`limitAll` call (see {@link ContentionPolicy}). */
  onContention?: ContentionPolicy;
};

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

/** Options of `limit` and `check`. */
export type RateLimitArgs = {
  /** Whose limit: a user id, an IP... Omit for one limit shared by everyone. */
  key?: string;
  /** Tokens to take; a whole number >= 1, at most the capacity. Defaults to 1. */
  count?: number;
  /** Take the tokens even if not yet available; `retryAfter` then says when to run the work. */
  reserve?: boolean;
  /** Throw a `ConvexError` (see {@link RateLimitError}) instead of returning `ok: false`. */
  throws?: boolean;
  /** Overrides the constructor's {@link ContentionPolicy} for this call. */
  onContention?: ContentionPolicy;
};

/** A ctx that can run queries (query, mutation or action). */
export type RunQueryCtx = Pick<GenericQueryCtx<GenericDataModel>, "runQuery">;
/** A ctx that can run mutations (mutation or action). */
export type RunMutationCtx =
  | Pick<GenericMutationCtx<GenericDataModel>, "runQuery" | "runMutation">
  | Pick<GenericActionCtx<GenericDataModel>, "runQuery" | "runMutation">;

type Names<Limits> = keyof Limits & string;

/** Options for a limit name: `config` is required unless the name was defined in the constructor. */
export type NamedOptions<Limits, Name extends string, Args> =
  Name extends Names<Limits>
    ? [(Args & { config?: RateLimitConfig })?]
    : [Args & { config: RateLimitConfig }];

/** One limit of a {@link RateLimiter.limitAll} call; unknown names need an inline `config`. */
export type LimitRequest<Limits> =
  | {
      [N in Names<Limits>]: {
        name: N;
        key?: string;
        count?: number;
        reserve?: boolean;
        config?: RateLimitConfig;
      };
    }[Names<Limits>]
  | {
      name: string;
      key?: string;
      count?: number;
      reserve?: boolean;
      config: RateLimitConfig;
    };

/** Options of {@link RateLimiter.hookAPI}. */
export type HookOptions<DataModel extends GenericDataModel> = {
  /**
   * The key, fixed or computed on the server (e.g. from `ctx.auth`). A
   * function also receives the key the client asked for, to accept or replace.
   * Without a function the client cannot choose a key.
   */
  key?:
    | string
    | ((
        ctx: GenericQueryCtx<DataModel>,
        keyFromClient?: string,
      ) => string | Promise<string>);
};

/**
 * Named, typed rate limits backed by the `rateLimiter` component.
 *
 * @example
 * ```ts
 * import { RateLimiter, MINUTE, HOUR } from "convex-opskit/rateLimiter";
 * import { components } from "./_generated/api";
 *
 * const rateLimiter = new RateLimiter(components.rateLimiter, {
 *   sendMessage: { kind: "token bucket", rate: 10, period: MINUTE, capacity: 3 },
 *   signUp: { kind: "fixed window", rate: 100, period: HOUR },
 *   login: { kind: "gcra", rate: 5, period: 15 * MINUTE, penalty: HOUR },
 * });
 *
 * // In a mutation:
 * const { ok, retryAfter } = await rateLimiter.limit(ctx, "sendMessage", { key: userId });
 * await rateLimiter.limit(ctx, "signUp", { throws: true });
 * ```
 */
export class RateLimiter<
  Limits extends Record<string, RateLimitConfig> = Record<never, never>,
> {
  /**
   * @param component - `components.rateLimiter` from `./_generated/api`.
   * @param limits - named limits; their names are type-checked everywhere.
   * @throws `INVALID_ARGUMENT` at construction if a config is malformed.
   */
  constructor(
    public component: ComponentApi,
    public limits?: Limits,
    public options: RateLimiterOptions = {},
  ) {
    for (const [name, config] of Object.entries(limits ?? {})) {
      validateNameAndKey(name, undefined);
      validateConfig(name, config);
    }
  }

  /**
   * Checks and consumes a limit. Returns `{ ok: true }` (with `retryAfter`
   * when a reservation must wait) or `{ ok: false, retryAfter }` in ms;
   * with `throws: true` a denial throws instead. Consumption is part of the
   * calling mutation: if it throws later, nothing was consumed.
   */
  async limit<Name extends string = Names<Limits>>(
    ctx: RunMutationCtx,
    name: Name,
    ...options: NamedOptions<Limits, Name, RateLimitArgs>
  ): Promise<RateLimitReturns> {
    const opts = options[0];
    const request = this.request(name, opts);
    const policy = opts?.onContention ?? this.options.onContention ?? "deny";
    if (request.config.applyUpdates === "asynchronously")
      return this.limitAsync(ctx, request, opts?.throws ?? false);
    return this.run(ctx, [request], opts?.throws ?? false, policy);
  }

  /**
   * Checks and consumes several limits atomically (e.g. per user and global):
   * either all are consumed or none. When denied, `retryAfter` is the longest
   * wait, `name` the limit needing it and `denied` every denying limit.
   */
  async limitAll(
    ctx: RunMutationCtx,
    requests: Array<LimitRequest<Limits>>,
    options?: { throws?: boolean; onContention?: ContentionPolicy },
  ): Promise<RateLimitReturns> {
    const list = requests.map((r) => this.request(r.name, r));
    for (const r of list)
      if (r.config.applyUpdates === "asynchronously")
        throw opskitError(
          ErrorCode.INVALID_ARGUMENT,
          `Rate limit "${r.name}" applies updates asynchronously and cannot be part of limitAll (its consumption is queued, not atomic); call limit for it`,
          { name: r.name },
        );
    const policy = options?.onContention ?? this.options.onContention ?? "deny";
    return this.run(ctx, list, options?.throws ?? false, policy);
  }

  /** Like {@link limit} but consumes nothing; usable in queries. */
  async check<Name extends string = Names<Limits>>(
    ctx: RunQueryCtx,
    name: Name,
    ...options: NamedOptions<Limits, Name, RateLimitArgs>
  ): Promise<RateLimitReturns> {
    const opts = options[0];
    const request = this.request(name, opts);
    const result = toLimitResult(
      request.config.applyUpdates === "asynchronously"
        ? await staleQuery(ctx, this.component.lib.check, request)
        : await ctx.runQuery(this.component.lib.check, request),
    );
    if (!result.ok && opts?.throws)
      throw rateLimited(result.name, result.retryAfter);
    return result;
  }

  /** Like {@link limitAll} but consumes nothing; usable in queries. */
  async checkAll(
    ctx: RunQueryCtx,
    requests: Array<LimitRequest<Limits>>,
    options?: { throws?: boolean },
  ): Promise<RateLimitReturns> {
    const result = toLimitResult(
      await ctx.runQuery(this.component.lib.checkAll, {
        requests: requests.map((r) => this.request(r.name, r)),
      }),
    );
    if (!result.ok && options?.throws)
      throw rateLimited(result.name, result.retryAfter);
    return result;
  }

  /**
   * Gives back tokens taken by `limit` (e.g. the work failed). Never raises
   * the limit above its capacity. Resolves to the tokens actually credited.
   */
  async refund<Name extends string = Names<Limits>>(
    ctx: RunMutationCtx,
    name: Name,
    ...options: NamedOptions<Limits, Name, { key?: string; count?: number }>
  ): Promise<number> {
    const opts = options[0];
    const config = this.configFor(name, opts);
    validateNameAndKey(name, opts?.key);
    // At most what could ever have been taken: the capacity plus any reservation.
    validateCount(name, config, opts?.count ?? 1, true);
    const { credited } = await ctx.runMutation(this.component.lib.refund, {
      name,
      key: opts?.key,
      count: opts?.count,
      config,
    });
    return credited;
  }

  /**
   * How many state documents the component stores, counting at most `upTo`
   * (a whole number from 1 to 10,000; default 1000): storage tracks active keys.
   * @throws `INVALID_ARGUMENT` for any other `upTo`.
   */
  async countStates(ctx: RunQueryCtx, upTo?: number): Promise<number> {
    validateUpTo(upTo);
    return ctx.runQuery(this.component.lib.countStates, { upTo });
  }

  /**
   * Deletes a limit's state for a key (all shards): the next request starts
   * full. Like every call, a name not defined in the constructor needs its
   * inline `config`, so a misspelt name is a type error rather than a no-op.
   */
  async reset<Name extends string = Names<Limits>>(
    ctx: RunMutationCtx,
    name: Name,
    ...options: NamedOptions<Limits, Name, { key?: string }>
  ): Promise<void> {
    const key = options[0]?.key;
    validateNameAndKey(name, key);
    const config =
      (options[0] as { config?: RateLimitConfig } | undefined)?.config ??
      (this.limits as Record<string, RateLimitConfig> | undefined)?.[name];
    if (config?.applyUpdates === "asynchronously")
      await ctx.runMutation(this.component.async.enqueueReset, { name, key });
    else await ctx.runMutation(this.component.lib.reset, { name, key });
  }

  /**
   * The whole limit's current value across every shard, and the raw states
   * so a client can project it forward (see `useRateLimit`).
   */
  async getValue<Name extends string = Names<Limits>>(
    ctx: RunQueryCtx,
    name: Name,
    ...options: NamedOptions<
      Limits,
      Name,
      { key?: string; sampleShards?: number }
    >
  ): Promise<RateLimitValue> {
    const opts = options[0];
    const config = this.configFor(name, opts);
    validateNameAndKey(name, opts?.key);
    return ctx.runQuery(this.component.lib.getValue, {
      name,
      key: opts?.key,
      config,
    });
  }

  /**
   * Public functions for the React hook `useRateLimit`. The limit's name and
   * config are fixed here on the server: the client can pass only a key,
   * and only if `key` is a function that decides what to do with it.
   *
   * @example
   * ```ts
   * export const { getRateLimit, getServerTime } = rateLimiter.hookAPI("sendMessage", {
   *   key: async (ctx) => (await ctx.auth.getUserIdentity())?.subject ?? "anonymous",
   * });
   * ```
   */
  hookAPI<
    DataModel extends GenericDataModel,
    Name extends string = Names<Limits>,
  >(
    name: Name,
    ...options: NamedOptions<Limits, Name, HookOptions<DataModel>>
  ) {
    const opts = options[0];
    const config = this.configFor(name, opts);
    const component = this.component;
    return {
      getRateLimit: queryGeneric({
        args: { key: v.optional(v.string()) },
        returns: vValue,
        handler: async (ctx, args): Promise<RateLimitValue> => {
          const keyOption = opts?.key;
          let key: string | undefined;
          if (typeof keyOption === "function")
            key = await keyOption(
              ctx as unknown as GenericQueryCtx<DataModel>,
              args.key,
            );
          else {
            if (args.key !== undefined)
              throw opskitError(
                ErrorCode.INVALID_ARGUMENT,
                `Rate limit "${name}": the client may not choose the key; pass a \`key\` function to hookAPI to accept one.`,
              );
            key = keyOption;
          }
          // A key function may pass on what the client sent: bound it here.
          validateNameAndKey(name, key);
          return ctx.runQuery(component.lib.getValue, { name, key, config });
        },
      }),
      getServerTime: mutationGeneric({
        args: {},
        returns: v.number(),
        handler: async () => Date.now(),
      }),
    };
  }

  private configFor(
    name: string,
    opts?: { config?: RateLimitConfig },
  ): RateLimitConfig {
    validateNameAndKey(name, undefined);
    const config =
      opts?.config ??
      (this.limits as Record<string, RateLimitConfig> | undefined)?.[name];
    if (!config)
      throw opskitError(
        ErrorCode.INVALID_ARGUMENT,
        `Rate limit "${name}" is not defined: define it in the RateLimiter constructor or pass \`config\` inline.`,
        { name },
      );
    if (opts?.config) validateConfig(name, config);
    return config;
  }

  private request(
    name: string,
    opts?: {
      key?: string;
      count?: number;
      reserve?: boolean;
      config?: RateLimitConfig;
    },
  ) {
    const config = this.configFor(name, opts);
    validateNameAndKey(name, opts?.key);
    validateCount(name, config, opts?.count ?? 1, opts?.reserve ?? false);
    return {
      name,
      config,
      ...(opts?.key !== undefined ? { key: opts.key } : {}),
      ...(opts?.count !== undefined ? { count: opts.count } : {}),
      ...(opts?.reserve !== undefined ? { reserve: opts.reserve } : {}),
    };
  }

  private async run(
    ctx: RunMutationCtx,
    requests: Array<ReturnType<RateLimiter<Limits>["request"]>>,
    throws: boolean,
    policy: ContentionPolicy,
  ): Promise<RateLimitReturns> {
    let wire;
    try {
      wire =
        requests.length === 1
          ? await ctx.runMutation(this.component.lib.limit, requests[0])
          : await ctx.runMutation(this.component.lib.limitAll, { requests });
    } catch (error) {
      if (policy === "throw" || !isContentionError(error)) throw error;
      return contended(requests, policy, throws);
    }
    return this.report(toLimitResult(wire), throws);
  }

  private report(result: LimitResult, throws: boolean): RateLimitReturns {
    for (const s of result.shadow ?? [])
      logEvent("rateLimiter.shadowDeny", {
        name: s.name,
        key: s.key,
        retryAfter: s.retryAfter,
      });
    if (!result.ok) {
      for (const d of result.denied)
        logEvent("rateLimiter.deny", {
          name: d.name,
          key: d.key,
          retryAfter: d.retryAfter,
        });
      if (throws) throw rateLimited(result.name, result.retryAfter);
    }
    return result;
  }

  /** An asynchronous limit: stale check, then queue the consumption if admitted. */
  private async limitAsync(
    ctx: RunMutationCtx,
    request: ReturnType<RateLimiter<Limits>["request"]>,
    throws: boolean,
  ): Promise<RateLimitReturns> {
    const result = toLimitResult(
      await staleQuery(ctx, this.component.lib.check, request),
    );
    if (result.ok) await ctx.runMutation(this.component.async.enqueue, request);
    return this.report(result, throws);
  }
}

/**
 * Runs a query through a stale snapshot when called from a mutation (Convex
 * 1.42+: its reads then never conflict); from an action, or where
 * `getFunctionMetadata` is missing, an ordinary query.
 */
async function staleQuery<Args extends Record<string, unknown>, Result>(
  ctx: RunQueryCtx | RunMutationCtx,
  ref: FunctionReference<"query", "internal", Args, Result>,
  args: Args,
): Promise<Result> {
  const meta = (
    ctx as { meta?: { getFunctionMetadata?: () => Promise<{ type?: string }> } }
  ).meta;
  let inMutation = false;
  if (typeof meta?.getFunctionMetadata === "function")
    inMutation = (await meta.getFunctionMetadata()).type === "mutation";
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
function contended(
  requests: Array<{ name: string; key?: string; config: RateLimitConfig }>,
  policy: "deny" | "allow",
  throws: boolean,
): RateLimitReturns {
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

function rateLimited(
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

export default RateLimiter;

/** Where the lines this client emits go (see `configureLogs`). */
export {
  configureLogs,
  type LogEvent,
  type LogOptions,
  type LogSink,
} from "../../shared/log.js";

/** Return validators for the results this client gives back. */
export {
  vDenial,
  vRateLimitResult,
  vRateLimitStatus,
  vRateLimitValue,
} from "./returns.js";

/**
 * The `RateLimiter` class: named, typed limits over the `rateLimiter`
 * component (`convex-opskit/rateLimiter` re-exports it from `../client.ts`).
 */
import type { GenericDataModel } from "convex/server";
import { ErrorCode, opskitError } from "../../shared/errors.js";
import { logEvent } from "../../shared/log.js";
import type { ComponentApi } from "../component/_generated/component.js";
import { type RateLimitConfig } from "../shared/config.js";
import {
  MAX_COUNT_STATES,
  validateConfig,
  validateCount,
  validateNameAndKey,
  validateUpTo,
} from "../shared/validate.js";
import {
  toLimitResult,
  type LimitResult,
  type RateLimitValue,
} from "../shared/validators.js";
import { callerFields } from "../../shared/meta.js";
import {
  contended,
  isContentionError,
  rateLimited,
  staleQuery,
} from "./errors.js";
import { checkLimiterOptions } from "./checkOptions.js";
import { hookFunctions, type HookOptions } from "./hooks.js";
import type {
  ContentionPolicy,
  LimitRequest,
  NamedOptions,
  Names,
  RateLimitArgs,
  RateLimiterOptions,
  RateLimitReturns,
} from "./types.js";
import type { RunMutationCtx, RunQueryCtx } from "../../shared/ctx.js";

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
    checkLimiterOptions(limits, options);
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
   * How many state documents the component stores, counting at most `limit`
   * (a whole number from 1 to 10,000; default 1000): storage tracks active
   * keys. A bounded count, not a page.
   * @throws `INVALID_ARGUMENT` for any other `limit`, or an option other than `limit`.
   */
  countStates(ctx: RunQueryCtx, options?: { limit?: number }): Promise<number>;
  /** @deprecated use `countStates(ctx, { limit })`; `upTo` is the same bound. */
  countStates(ctx: RunQueryCtx, upTo?: number): Promise<number>;
  async countStates(
    ctx: RunQueryCtx,
    bound?: number | { limit?: number },
  ): Promise<number> {
    const named =
      typeof bound === "object" && bound !== null && !Array.isArray(bound);
    // Anything else (an array, a string...) is checked as a positional bound.
    if (named)
      for (const option of Object.keys(bound))
        if (option !== "limit")
          // `{ upTo: 5 }` would otherwise count up to the default 1000.
          throw opskitError(
            ErrorCode.INVALID_ARGUMENT,
            `countStates: unknown option ${JSON.stringify(option)}; the bound is \`limit\` (a whole number from 1 to ${MAX_COUNT_STATES})`,
            { option },
          );
    const upTo = named
      ? (bound as { limit?: number }).limit
      : (bound as number | undefined);
    validateUpTo(upTo, named ? "limit" : "upTo");
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
    return hookFunctions(this.component, name, config, opts);
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
      return contended(ctx, requests, policy, throws);
    }
    return this.report(ctx, toLimitResult(wire), throws);
  }

  private report(
    ctx: object,
    result: LimitResult,
    throws: boolean,
  ): RateLimitReturns | Promise<RateLimitReturns> {
    // An admitted call without shadow denials logs nothing: no lookup, and
    // no extra await on the common path.
    if (result.ok && result.shadow === undefined) return result;
    return this.logDenials(ctx, result, throws);
  }

  private async logDenials(
    ctx: object,
    result: LimitResult,
    throws: boolean,
  ): Promise<RateLimitReturns> {
    const caller = await callerFields(ctx);
    for (const s of result.shadow ?? [])
      logEvent("rateLimiter.shadowDeny", {
        name: s.name,
        key: s.key,
        retryAfter: s.retryAfter,
        ...caller,
      });
    if (!result.ok) {
      for (const d of result.denied)
        logEvent("rateLimiter.deny", {
          name: d.name,
          key: d.key,
          retryAfter: d.retryAfter,
          ...caller,
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
    return this.report(ctx, result, throws);
  }
}

export default RateLimiter;

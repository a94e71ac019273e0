/**
 * `convex-opskit/rateLimiter`: application-layer rate limits for Convex,
 * API-compatible with `@convex-dev/rate-limiter` (change the imports to switch).
 * The entry point only: the client lives in `client/`, what it shares with
 * the component in `shared/`.
 */
export {
  RateLimiter,
  SECOND,
  MINUTE,
  HOUR,
  DAY,
  WEEK,
} from "./client/limiter.js";
export { default } from "./client/limiter.js";
export type {
  ContentionPolicy,
  LimitRequest,
  NamedOptions,
  RateLimitArgs,
  RateLimiterOptions,
  RateLimitReturns,
  RunMutationCtx,
  RunQueryCtx,
} from "./client/types.js";
export {
  CONTENTION_RETRY_AFTER,
  isContentionError,
  isRateLimitError,
  type RateLimitError,
} from "./client/errors.js";
export type { HookOptions } from "./client/hooks.js";
export type {
  FixedWindowConfig,
  GcraConfig,
  RateLimitConfig,
  SlidingWindowConfig,
  TokenBucketConfig,
} from "./shared/config.js";
export type { LimitResult, RateLimitValue } from "./shared/validators.js";
export { rateLimitHeaders, tooManyRequests } from "./client/http.js";
export {
  suggestShards,
  CONFLICT_WINDOW_MS,
  type SuggestShardsArgs,
} from "./client/shards.js";
export {
  requestKey,
  type RequestKeyCtx,
  type RequestKeyOptions,
} from "./client/keys.js";
export { statusAt, type RateLimitStatus } from "./client/status.js";
export {
  calculateRateLimit,
  type CalculableConfig,
  type CalculatedRateLimit,
} from "./client/calculate.js";

/** Where the lines this client emits go (see `configureLogs`). */
export * from "../shared/logExports.js";

/** Return validators for the results this client gives back. */
export {
  vDenial,
  vRateLimitResult,
  vRateLimitStatus,
  vRateLimitValue,
} from "./client/returns.js";

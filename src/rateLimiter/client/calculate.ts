/**
 * `calculateRateLimit`, with the name, signature and results of
 * `@convex-dev/rate-limiter`'s export of the same name: projects a stored or
 * reported value of a limit to another time, on the client or the server.
 */
import { opskitError } from "../../shared/errors.js";
import { type RequestConfig } from "../shared/config.js";
import { validateConfig } from "../shared/validate.js";
import type {
  FixedWindowConfig,
  GcraConfig,
  TokenBucketConfig,
} from "../shared/config.js";

/** The configs {@link calculateRateLimit} can project: every kind but the sliding window. */
export type CalculableConfig =
  TokenBucketConfig | FixedWindowConfig | GcraConfig;

/** What {@link calculateRateLimit} returns. */
export type CalculatedRateLimit = {
  /** Tokens left at `now` after taking `count` (negative: that many are missing). */
  value: number;
  /** Token bucket and GCRA: `now`. Fixed window: the start of the window containing `now`. */
  ts: number;
  /** When `value` is negative: ms from `now` until it is back to zero. */
  retryAfter: number | undefined;
  /** Fixed window: the window start the projection started from. */
  windowStart: number | undefined;
};

/**
 * The limit's value at `now` after taking `count` tokens (default 0), from a
 * value known at an earlier time: `existing` is `{ value, ts }` (tokens at
 * `ts`; for a fixed window `ts` is the start of its window, or pass the
 * `windowStart` that `getValue` reports), or `null` for an unused limit.
 * Behaves like `@convex-dev/rate-limiter`'s `calculateRateLimit` (a fixed
 * window without `start` and without state gets a random window origin, as
 * there), except that a `now` earlier than `ts` is treated as `ts`: time
 * never runs backwards for a limit. GCRA projects like a token bucket (its
 * available tokens refill at the same steady rate).
 *
 * A sliding window cannot be projected from one number (its previous window's
 * count matters): use `statusAt` with the full `getValue` result instead.
 *
 * @example
 * ```ts
 * import { calculateRateLimit, MINUTE } from "convex-opskit/rateLimiter";
 *
 * const config = { kind: "token bucket", rate: 10, period: MINUTE } as const;
 * const { value, retryAfter } = calculateRateLimit(
 *   { value: 2, ts: Date.now() - 30_000 },
 *   config,
 *   Date.now(),
 *   5,
 * );
 * ```
 * @throws `INVALID_ARGUMENT` for a sliding window config, a malformed config
 * (as `new RateLimiter` refuses it), or a `count` that is not a finite number >= 0.
 */
export function calculateRateLimit(
  existing: { value: number; ts: number; windowStart?: number } | null,
  config: CalculableConfig,
  now: number = Date.now(),
  count: number = 0,
): CalculatedRateLimit {
  const kind = (config as { kind: string }).kind;
  if (kind !== "token bucket" && kind !== "fixed window" && kind !== "gcra")
    throw opskitError(
      "INVALID_ARGUMENT",
      `calculateRateLimit projects "token bucket", "fixed window" and "gcra" limits (got ${JSON.stringify(kind)}); use statusAt with a getValue result for a sliding window.`,
      { kind: String(kind) },
    );
  validateConfig("calculateRateLimit", config as RequestConfig);
  if (typeof count !== "number" || !Number.isFinite(count) || count < 0)
    throw opskitError(
      "INVALID_ARGUMENT",
      `calculateRateLimit: count must be a finite number >= 0 (got ${String(count)})`,
    );
  const max = config.capacity ?? config.rate;
  if (config.kind === "fixed window") {
    const start =
      existing?.windowStart ??
      existing?.ts ??
      config.start ??
      now - Math.floor(Math.random() * config.period);
    const value0 = existing?.value ?? max;
    const elapsedWindows = Math.max(
      0,
      Math.floor((now - start) / config.period),
    );
    const value = Math.min(value0 + config.rate * elapsedWindows, max) - count;
    const ts = start + elapsedWindows * config.period;
    const retryAfter =
      value < 0
        ? ts + config.period * Math.ceil(-value / config.rate) - now
        : undefined;
    return { value, ts, retryAfter, windowStart: start };
  }
  const state = existing ?? { value: max, ts: now };
  const at = Math.max(now, state.ts);
  const perMs = config.rate / config.period;
  const value = Math.min(state.value + (at - state.ts) * perMs, max) - count;
  const retryAfter = value < 0 ? -value / perMs + (at - now) : undefined;
  return { value, ts: at, retryAfter, windowStart: undefined };
}

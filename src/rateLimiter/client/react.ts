/**
 * `convex-opskit/rateLimiter/react`: show a rate limit's status in React.
 * Pair with `rateLimiter.hookAPI(name)` on the server, which fixes the limit's
 * name and config so the browser can only read it.
 */
import { useConvex, useQuery } from "convex/react";
import type { FunctionReference } from "convex/server";
import { useCallback, useEffect, useMemo, useReducer, useState } from "react";
import { statusAt } from "./status.js";
import type { RateLimitValue } from "../shared/validators.js";

export { statusAt, type RateLimitStatus } from "./status.js";

/** The `getRateLimit` query exported from `rateLimiter.hookAPI(...)`. */
export type GetRateLimitValueQuery = FunctionReference<
  "query",
  "public",
  { key?: string },
  RateLimitValue
>;

/** The `getServerTime` mutation exported from `rateLimiter.hookAPI(...)`. */
export type GetServerTimeMutation = FunctionReference<
  "mutation",
  "public",
  Record<string, never>,
  number
>;

/** Options of {@link useRateLimit}. */
export type UseRateLimitOptions = {
  /** A key for the server's `key` function to accept or replace. */
  key?: string;
  /** Tokens the next action needs (default 1). */
  count?: number;
  /** Corrects for the browser's clock being off from the server's. */
  getServerTimeMutation?: GetServerTimeMutation;
};

/**
 * The current status of a rate limit, updated live and re-evaluated when a
 * denial's wait is over.
 *
 * @example
 * ```tsx
 * const { status } = useRateLimit(api.limits.getRateLimit, {
 *   getServerTimeMutation: api.limits.getServerTime,
 * });
 * if (status && !status.ok) return <p>Try again at {new Date(status.retryAt).toLocaleTimeString()}</p>;
 * ```
 */
export function useRateLimit(
  getRateLimitValueQuery: GetRateLimitValueQuery,
  opts?: UseRateLimitOptions,
) {
  // clientTime + timeOffset = serverTime
  const [timeOffset, setTimeOffset] = useState(0);
  const [, refresh] = useReducer((c: number) => c + 1, 0);
  const convex = useConvex();
  const getServerTime = opts?.getServerTimeMutation;

  useEffect(() => {
    if (!getServerTime) return;
    const sent = Date.now();
    void convex.mutation(getServerTime, {}).then((serverTime: number) => {
      const latency = Date.now() - sent;
      setTimeOffset(serverTime - sent - latency / 2);
    });
  }, [convex, getServerTime]);

  const data = useQuery(
    getRateLimitValueQuery,
    opts?.key !== undefined ? { key: opts.key } : {},
  );

  /** Status at client time `ts` (default now) for `count` tokens; `retryAt` is in client time. */
  const check = useCallback(
    (ts?: number, count?: number) => {
      if (!data) return undefined;
      const serverNow = (ts ?? Date.now()) + timeOffset;
      const s = statusAt(data, serverNow, count ?? 1);
      return {
        value: s.value,
        ok: s.ok,
        config: data.config,
        retryAt:
          s.retryAfter === undefined
            ? undefined
            : serverNow + s.retryAfter - timeOffset,
      };
    },
    [data, timeOffset],
  );

  const current = check(undefined, opts?.count);
  const status = useMemo(() => {
    if (!current) return undefined;
    return current.ok
      ? { ok: true as const, retryAt: undefined }
      : { ok: false as const, retryAt: current.retryAt! };
  }, [current?.ok, current?.retryAt]);

  useEffect(() => {
    if (!status || status.ok) return;
    const timer = setTimeout(refresh, Math.max(0, status.retryAt - Date.now()));
    return () => clearTimeout(timer);
  }, [status]);

  return { status, check };
}

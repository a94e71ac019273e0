/**
 * Helpers for HTTP actions: standard rate-limit response headers from a
 * `limit` result (`RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset`
 * and, when denied, `Retry-After`), and a ready 429 response.
 */
import type { LimitResult } from "../shared/validators.js";

/**
 * Headers describing `result`. Reset and Retry-After are whole seconds,
 * rounded up so a client that honours them is never early.
 *
 * @example
 * ```ts
 * const result = await rateLimiter.limit(ctx, "api", { key: ip });
 * return new Response(body, { headers: rateLimitHeaders(result) });
 * ```
 */
export function rateLimitHeaders(result: LimitResult): Record<string, string> {
  const headers: Record<string, string> = {};
  if (result.limit !== undefined)
    headers["RateLimit-Limit"] = String(result.limit);
  if (result.remaining !== undefined)
    headers["RateLimit-Remaining"] = String(result.remaining);
  if (result.resetAfter !== undefined)
    headers["RateLimit-Reset"] = String(Math.ceil(result.resetAfter / 1000));
  if (!result.ok)
    headers["Retry-After"] = String(Math.ceil(result.retryAfter / 1000));
  return headers;
}

/** A `429 Too Many Requests` response carrying {@link rateLimitHeaders}. */
export function tooManyRequests(
  result: LimitResult & { ok: false },
  body: string = "Too Many Requests",
): Response {
  return new Response(body, {
    status: 429,
    headers: {
      "Content-Type": "text/plain; charset=utf-8",
      ...rateLimitHeaders(result),
    },
  });
}

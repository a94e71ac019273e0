/**
 * Keys from the request: the signed-in user when there is one, else the
 * client's IP. Keying anonymous traffic by IP and signed-in traffic by user
 * means a shared NAT (an office, a mobile carrier) throttles only its
 * anonymous callers, never every signed-in user behind it.
 */
import type { UserIdentity } from "convex/server";
import { opskitError } from "../../shared/errors.js";
import { MAX_KEY_LENGTH } from "../shared/validate.js";

/** The parts of a Convex ctx {@link requestKey} uses (query, mutation, action or HTTP action ctx). */
export type RequestKeyCtx = {
  auth: { getUserIdentity(): Promise<UserIdentity | null> };
  meta?: {
    getRequestMetadata?: () => Promise<{ ip: string | null }>;
  };
};

/** Options of {@link requestKey}. */
export type RequestKeyOptions = {
  /**
   * The identity field naming a user. Default `tokenIdentifier` (unique
   * across auth providers; `subject` alone is not).
   */
  userField?: "tokenIdentifier" | "subject";
  /**
   * In an HTTP action, the incoming request: used only for `trustedHeader`.
   */
  request?: Request;
  /**
   * A header set by a proxy you run in front of Convex (e.g.
   * `"x-forwarded-for"`). Clients can forge such headers, so it is read only
   * when named here, and only when the deployment cannot give the IP itself.
   * Of a comma-separated list the address `trustedProxies` from the right is
   * used: a proxy that appends puts the address it saw last, after whatever
   * the client sent.
   */
  trustedHeader?: string;
  /**
   * How many proxies you run that append to `trustedHeader` (default 1):
   * the key is that many addresses from the right (the leftmost when the
   * list is shorter). Entries further left were written by the client.
   */
  trustedProxies?: number;
  /**
   * The key when there is neither a user nor an IP (a scheduled function,
   * a cron). Without it that case throws `INVALID_ARGUMENT`.
   */
  fallback?: string;
};

/** FNV-1a, to keep a long identifier's key within {@link MAX_KEY_LENGTH}. */
function digest(s: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < s.length; i++) {
    h1 = Math.imul(h1 ^ s.charCodeAt(i), 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ s.charCodeAt(i), 0x5bd1e995) >>> 0;
  }
  return h1.toString(16).padStart(8, "0") + h2.toString(16).padStart(8, "0");
}

function bounded(prefix: string, id: string): string {
  const key = prefix + id;
  if (key.length <= MAX_KEY_LENGTH) return key;
  // Keep a readable prefix and make the rest collision-resistant enough for keys.
  return `${key.slice(0, MAX_KEY_LENGTH - 18)}#${digest(id)}`;
}

/**
 * A rate-limit key for the caller: `user:<tokenIdentifier>` when signed in,
 * else `ip:<address>` from `ctx.meta.getRequestMetadata()` (Convex 1.38+),
 * else from `trustedHeader` of `request` (the address `trustedProxies` from
 * the right, never a client-supplied one to its left), else `fallback`.
 *
 * @example
 * ```ts
 * export const search = httpAction(async (ctx, request) => {
 *   const key = await requestKey(ctx, { request });
 *   const result = await rateLimiter.limit(ctx, "search", { key });
 *   if (!result.ok) return tooManyRequests(result);
 *   return new Response("results");
 * });
 * ```
 * @throws `INVALID_ARGUMENT` when no key can be built: no user, no IP from
 *   the deployment (older than Convex 1.38, or not an HTTP request), no
 *   trusted header and no `fallback`.
 */
export async function requestKey(
  ctx: RequestKeyCtx,
  options: RequestKeyOptions = {},
): Promise<string> {
  const identity = await ctx.auth.getUserIdentity();
  if (identity)
    return bounded("user:", identity[options.userField ?? "tokenIdentifier"]);
  const getMetadata = ctx.meta?.getRequestMetadata;
  let ip: string | null = null;
  if (typeof getMetadata === "function")
    ip = (await getMetadata.call(ctx.meta)).ip;
  if (!ip && options.trustedHeader && options.request) {
    const hops = options.trustedProxies ?? 1;
    if (!Number.isInteger(hops) || hops < 1)
      throw opskitError(
        "INVALID_ARGUMENT",
        `requestKey: trustedProxies must be a whole number >= 1 (got ${String(hops)})`,
        { field: "trustedProxies" },
      );
    const raw = options.request.headers.get(options.trustedHeader);
    const list = raw?.split(",") ?? [];
    const picked = list[Math.max(0, list.length - hops)]?.trim();
    if (picked) ip = picked;
  }
  if (ip) return bounded("ip:", ip);
  if (options.fallback !== undefined) return options.fallback;
  throw opskitError(
    "INVALID_ARGUMENT",
    typeof getMetadata === "function"
      ? "requestKey: no signed-in user and no client IP (not an HTTP request); pass `fallback` for scheduled or internal calls"
      : "requestKey: no signed-in user, and ctx.meta.getRequestMetadata() is missing (it needs Convex 1.38 or later); upgrade, pass `trustedHeader` with `request`, or pass `fallback`",
    { hasRequestMetadata: typeof getMetadata === "function" },
  );
}

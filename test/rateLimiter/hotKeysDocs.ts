/**
 * The code of docs/rateLimiter.md's blocks on hot keys, asynchronous updates
 * and keys from the request, compiled here and run by `async.test.ts` (which
 * routes `search` and checks `shards`).
 */
import { httpActionGeneric as httpAction } from "convex/server";
import {
  MINUTE,
  RateLimiter,
  requestKey,
  suggestShards,
  tooManyRequests,
} from "convex-opskit/rateLimiter";
import { components } from "../helpers.js";

export const shards = suggestShards({
  rate: 3000,
  period: MINUTE,
  callsPerSecond: 108,
}); // 59

const rateLimiter = new RateLimiter(components.rateLimiter, {
  llmTokens: {
    kind: "token bucket",
    rate: 40000,
    period: MINUTE,
    applyUpdates: "asynchronously",
  },
  search: { kind: "token bucket", rate: 2, period: MINUTE },
});

export const search = httpAction(async (ctx, request) => {
  const key = await requestKey(ctx, { request });
  const result = await rateLimiter.limit(ctx, "search", { key });
  if (!result.ok) return tooManyRequests(result);
  return new Response("results");
});

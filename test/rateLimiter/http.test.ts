import {
  anyApi,
  httpActionGeneric,
  httpRouter,
  queryGeneric,
} from "convex/server";
import { v } from "convex/values";
import { describe, expect, it, vi } from "vitest";
import {
  MINUTE,
  RateLimiter,
  SECOND,
  rateLimitHeaders,
  tooManyRequests,
} from "convex-opskit/rateLimiter";
import { statusAt } from "convex-opskit/rateLimiter/react";
import { components, opskitTest, captureLogs, fakeClock } from "../helpers.js";
// Vite's import.meta.glob leaves out the importing file, so the module adds itself.
import * as self from "./http.test.js";

const rateLimiter = new RateLimiter(components.rateLimiter, {
  api: { kind: "token bucket", rate: 2, period: MINUTE },
  windowed: { kind: "fixed window", rate: 4, period: MINUTE },
  sliding: { kind: "sliding window", rate: 6, period: MINUTE, shards: 2 },
  login: { kind: "gcra", rate: 2, period: MINUTE, penalty: 5 * MINUTE },
});

const http = httpRouter();
http.route({
  path: "/search",
  method: "GET",
  handler: httpActionGeneric(async (ctx, request) => {
    const ip = request.headers.get("x-forwarded-for") ?? "unknown";
    const result = await rateLimiter.limit(ctx, "api", { key: ip });
    if (!result.ok) return tooManyRequests(result);
    return new Response("results", { headers: rateLimitHeaders(result) });
  }),
});

export const value = queryGeneric({
  args: {
    name: v.union(
      v.literal("windowed"),
      v.literal("sliding"),
      v.literal("login"),
    ),
    key: v.string(),
  },
  handler: async (ctx, { name, key }) => ({
    ...(await rateLimiter.getValue(ctx, name, { key })),
    now: Date.now(), // the function's clock, which may lead the fake clock by 1 ms
  }),
});

export const { getRateLimit: _unused } = rateLimiter.hookAPI("api");

const t0 = Date.UTC(2026, 0, 1, 12);
fakeClock(t0);
captureLogs();

const test = () =>
  opskitTest({
    "./http.test.ts": async () => self,
    "./http.ts": async () => ({ default: http }),
  });

describe("HTTP actions", () => {
  it("sends RateLimit-* headers, then 429 with Retry-After", async () => {
    const t = test();
    const get = () =>
      t.fetch("/search", { headers: { "x-forwarded-for": "1.2.3.4" } });
    const first = await get();
    expect(first.status).toBe(200);
    expect(Object.fromEntries(first.headers)).toMatchObject({
      "ratelimit-limit": "2",
      "ratelimit-remaining": "1",
      "ratelimit-reset": "30",
    });
    const second = await get();
    expect(second.headers.get("ratelimit-remaining")).toBe("0");
    expect(second.headers.get("ratelimit-reset")).toBe("60");
    const third = await get();
    expect(third.status).toBe(429);
    expect(third.headers.get("retry-after")).toBe("30");
    expect(third.headers.get("ratelimit-remaining")).toBe("0");
    expect(await third.text()).toBe("Too Many Requests");
    vi.setSystemTime(t0 + 30 * SECOND);
    expect((await get()).status).toBe(200);
  });

  it("rounds seconds up so a client honouring them is never early", () => {
    expect(
      rateLimitHeaders({
        ok: false,
        retryAfter: 1001,
        name: "x",
        denied: [],
        limit: 5,
        remaining: 0,
        resetAfter: 1,
      }),
    ).toEqual({
      "RateLimit-Limit": "5",
      "RateLimit-Remaining": "0",
      "RateLimit-Reset": "1",
      "Retry-After": "2",
    });
  });
});

describe("client-side projection (what useRateLimit shows)", () => {
  it("agrees with the server as time passes, for every algorithm", async () => {
    const t = test();
    for (const [name, hits] of [
      ["windowed", 4],
      ["sliding", 6],
      ["login", 3],
    ] as const) {
      vi.setSystemTime(t0);
      for (let i = 0; i < hits; i++)
        await t.run(async (ctx) => {
          await rateLimiter.limit(ctx, name, { key: "k" });
        });
      const snapshot = await t.query(anyApi["http.test"].value, {
        name,
        key: "k",
      });
      for (const later of [
        0,
        1,
        9_999,
        10_000,
        29_999,
        30_000,
        59_999,
        60_000,
        5 * MINUTE,
      ]) {
        vi.setSystemTime(t0 + later);
        const server = await t.query(anyApi["http.test"].value, {
          name,
          key: "k",
        });
        const projected = statusAt(snapshot, server.now);
        expect(projected.value).toBeCloseTo(server.value, 6);
        // Project to the instant the check ran: the function clock may lead the fake clock by 1 ms.
        const { check, now } = await t.run(async (ctx) => ({
          now: Date.now(),
          check: await rateLimiter.check(ctx, name, { key: "k" }),
        }));
        const atCheck = statusAt(snapshot, now);
        expect(atCheck.ok).toBe(check.ok);
        if (!check.ok) expect(atCheck.retryAfter).toBe(check.retryAfter);
      }
    }
  });
});

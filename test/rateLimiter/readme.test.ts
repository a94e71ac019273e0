/**
 * The examples of docs/rateLimiter.md, as code that runs: same calls, same
 * shapes. (`mutation`/`httpAction`/`components`/`api` stand in for the app's
 * `_generated` ones.)
 */
import {
  anyApi,
  defineApp,
  defineSchema,
  defineTable,
  httpActionGeneric,
  httpRouter,
  internalMutationGeneric,
  mutationGeneric,
  type ApiFromModules,
  type DataModelFromSchemaDefinition,
  type MutationBuilder,
} from "convex/server";
import { ConvexError, v } from "convex/values";
import {
  HOUR,
  MINUTE,
  RateLimiter,
  isRateLimitError,
  rateLimitHeaders,
  requestKey,
  statusAt,
  tooManyRequests,
} from "convex-opskit/rateLimiter";
import rateLimiterConfig from "convex-opskit/rateLimiter/convex.config";
import { useRateLimit } from "convex-opskit/rateLimiter/react";
import { describe, expect, it, vi } from "vitest";
import {
  components,
  opskitTest,
  captureLogs,
  near,
  FUNCTION_CLOCK_SLACK_MS,
  fakeClock,
} from "../helpers.js";
// Vite's import.meta.glob leaves out the importing file, so the module adds itself.
import * as self from "./readme.test.js";

const schema = defineSchema({
  messages: defineTable({ author: v.string(), body: v.string() }),
});
type DataModel = DataModelFromSchemaDefinition<typeof schema>;
const mutation = mutationGeneric as MutationBuilder<DataModel, "public">;
const internalMutation = internalMutationGeneric as MutationBuilder<
  DataModel,
  "internal"
>;
const httpAction = httpActionGeneric;

// --- docs: convex/limits.ts
export const rateLimiter = new RateLimiter(components.rateLimiter, {
  // Per user: bursts of 3, then one every 6 seconds.
  sendMessage: { kind: "token bucket", rate: 10, period: MINUTE, capacity: 3 },
  // All users together, sharded so busy traffic does not conflict.
  allMessages: { kind: "token bucket", rate: 1000, period: MINUTE, shards: 10 },
  // 100 sign-ups in any hour, with no burst at a window boundary.
  signUp: { kind: "sliding window", rate: 100, period: HOUR },
  // Per IP: 5 attempts per 15 minutes, then locked out for an hour.
  login: { kind: "gcra", rate: 5, period: 15 * MINUTE, penalty: HOUR },
  // A shared LLM budget; work may be reserved ahead of time.
  llmTokens: {
    kind: "token bucket",
    rate: 40_000,
    period: MINUTE,
    maxReserved: 20_000,
  },
  // Per IP for the public HTTP API.
  publicApi: { kind: "fixed window", rate: 60, period: MINUTE },
  // Being rolled out: reports and logs, never denies.
  search: { kind: "fixed window", rate: 30, period: MINUTE, shadow: true },
});

// --- docs: convex/messages.ts
export const send = mutation({
  args: { body: v.string() },
  returns: v.null(),
  handler: async (ctx, args) => {
    const user = await ctx.auth.getUserIdentity();
    if (!user) throw new Error("Sign in first");
    // Per user and for everyone, atomically: both are consumed or neither.
    await rateLimiter.limitAll(
      ctx,
      [{ name: "sendMessage", key: user.subject }, { name: "allMessages" }],
      { throws: true },
    );
    await ctx.db.insert("messages", { author: user.subject, body: args.body });
    return null;
  },
});

// --- docs: convex/auth.ts
export const login = mutation({
  args: { ip: v.string(), pin: v.string() },
  returns: v.object({ ok: v.boolean(), retryAfter: v.optional(v.number()) }),
  handler: async (ctx, args) => {
    const status = await rateLimiter.limit(ctx, "login", { key: args.ip });
    if (!status.ok) return { ok: false, retryAfter: status.retryAfter };
    return { ok: args.pin === "1234" };
  },
});

// --- docs: convex/llm.ts
export const reserveTokens = mutation({
  args: { maxTokens: v.number() },
  returns: v.number(),
  handler: async (ctx, args) => {
    // Reserve now; retryAfter is how long to wait before doing the work.
    const { ok, retryAfter } = await rateLimiter.limit(ctx, "llmTokens", {
      count: args.maxTokens,
      reserve: true,
    });
    if (!ok) throw new Error("The LLM budget is exhausted, try later");
    return retryAfter ?? 0;
  },
});

export const refundTokens = internalMutation({
  args: { unused: v.number() },
  returns: v.number(),
  // Give back what the work did not use; never above the capacity.
  handler: async (ctx, args) =>
    await rateLimiter.refund(ctx, "llmTokens", { count: args.unused }),
});

// --- docs: convex/http.ts
const http = httpRouter();

http.route({
  path: "/api/search",
  method: "GET",
  handler: httpAction(async (ctx, request) => {
    // The signed-in user, else the client IP Convex saw (never a header a
    // client can forge).
    const key = await requestKey(ctx, { request, fallback: "anonymous" });
    const result = await rateLimiter.limit(ctx, "publicApi", { key });
    if (!result.ok) return tooManyRequests(result); // 429 with Retry-After
    return new Response(JSON.stringify({ results: [] }), {
      headers: {
        "Content-Type": "application/json",
        ...rateLimitHeaders(result),
      },
    });
  }),
});
export default http;

// --- docs: convex/messages.ts (hook API)
export const { getRateLimit, getServerTime } = rateLimiter.hookAPI(
  "sendMessage",
  {
    key: async (ctx) =>
      (await ctx.auth.getUserIdentity())?.subject ?? "anonymous",
  },
);

// --- docs: src/useSendButton.ts (typechecked here; rendering needs a browser)
const api = anyApi as unknown as ApiFromModules<{
  messages: {
    getRateLimit: typeof getRateLimit;
    getServerTime: typeof getServerTime;
  };
}>;

export function useSendButton() {
  const { status } = useRateLimit(api.messages.getRateLimit, {
    getServerTimeMutation: api.messages.getServerTime,
  });
  return { disabled: status?.ok === false, retryAt: status?.retryAt };
}

// --- tests
const t0 = Date.UTC(2026, 2, 1, 9);
const logs = captureLogs();
fakeClock(t0);

const test = () =>
  opskitTest(
    {
      "./readme.test.ts": async () => self,
      "./http.ts": async () => ({ default: http }),
    },
    schema,
  );
const fns = anyApi["readme.test"];

describe("docs/rateLimiter.md", () => {
  it("installs with app.use", () => {
    // The Convex bundler stamps each component definition with its path;
    // outside it, do the same so app.use() accepts the definition.
    Object.assign(rateLimiterConfig, {
      componentDefinitionPath: "convex-opskit/rateLimiter/convex.config",
    });
    const app = defineApp();
    const installed = app.use(rateLimiterConfig) as unknown as {
      _definition: { _name: string };
    };
    // The app now holds this very definition: the component named "rateLimiter".
    expect(installed._definition).toBe(rateLimiterConfig);
    expect(installed._definition._name).toBe("rateLimiter");
  });

  it("send: per-user and global limits together, throwing when denied", async () => {
    const t = test();
    const alice = t.withIdentity({ subject: "alice" });
    for (let i = 0; i < 3; i++)
      await alice.mutation(fns.send, { body: `hi ${i}` });
    let error: unknown;
    try {
      await alice.mutation(fns.send, { body: "one too many" });
    } catch (e) {
      error = e;
    }
    expect(isRateLimitError(error)).toBe(true);
    expect(
      (error as ConvexError<{ name: string; retryAfter: number }>).data,
    ).toMatchObject({
      name: "sendMessage",
      retryAfter: near(6000),
    });
    // The denied call wrote nothing: no message, no global token taken.
    expect(
      await t.run((ctx) => ctx.db.query("messages").collect()),
    ).toHaveLength(3);
    const all = await t.run((ctx) => rateLimiter.getValue(ctx, "allMessages"));
    expect(all.value).toEqual(near(997, 1000 / MINUTE)); // 1 function-clock ms of refill
    expect(logs).toContainEqual({
      event: "rateLimiter.deny",
      name: "sendMessage",
      key: "alice",
      retryAfter: near(6000),
      functionName: "readme.test:send",
    });
    // Bob is limited separately.
    await t
      .withIdentity({ subject: "bob" })
      .mutation(fns.send, { body: "hello" });
  });

  it("login: returns the denial, which starts a one-hour penalty", async () => {
    const t = test();
    for (let i = 0; i < 5; i++)
      expect(
        await t.mutation(fns.login, { ip: "203.0.113.7", pin: "0000" }),
      ).toEqual({ ok: false });
    expect(
      await t.mutation(fns.login, { ip: "203.0.113.7", pin: "1234" }),
    ).toEqual({
      ok: false,
      retryAfter: HOUR,
    });
    vi.setSystemTime(t0 + 30 * MINUTE); // tokens have refilled; the penalty has not ended
    expect(
      await t.mutation(fns.login, { ip: "203.0.113.7", pin: "1234" }),
    ).toEqual({
      ok: false,
      retryAfter: near(30 * MINUTE),
    });
    vi.setSystemTime(t0 + HOUR + FUNCTION_CLOCK_SLACK_MS); // the denial ran up to 1 ms after t0
    expect(
      await t.mutation(fns.login, { ip: "203.0.113.7", pin: "1234" }),
    ).toEqual({ ok: true });
  });

  it("llm: reserve ahead with a wait, refund never past capacity", async () => {
    const t = test();
    expect(await t.mutation(fns.reserveTokens, { maxTokens: 40_000 })).toBe(0);
    expect(await t.mutation(fns.reserveTokens, { maxTokens: 10_000 })).toBe(
      15_000,
    );
    await expect(
      t.mutation(fns.reserveTokens, { maxTokens: 20_000 }),
    ).rejects.toThrow(/exhausted/);
    expect(await t.mutation(fns.refundTokens, { unused: 60_000 })).toEqual(
      near(50_000, 40_000 / MINUTE), // 1 function-clock ms of refill
    );
    const value = await t.run((ctx) => rateLimiter.getValue(ctx, "llmTokens"));
    expect(value.value).toEqual(near(40_000, 40_000 / MINUTE));
  });

  it("http: headers on success, 429 with Retry-After when denied", async () => {
    const t = test();
    const get = () =>
      t.fetch("/api/search", {
        headers: { "x-forwarded-for": "198.51.100.1" },
      });
    let last = await get();
    expect(last.headers.get("RateLimit-Limit")).toBe("60");
    for (let i = 1; i < 60; i++) last = await get();
    expect(last.status).toBe(200);
    expect(last.headers.get("RateLimit-Remaining")).toBe("0");
    const denied = await get();
    expect(denied.status).toBe(429);
    expect(Number(denied.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(Number(denied.headers.get("Retry-After"))).toBeLessThanOrEqual(60);
  });

  it("hook API: the signed-in user's own limit, projected like useRateLimit does", async () => {
    const t = test();
    const alice = t.withIdentity({ subject: "alice" });
    for (let i = 0; i < 3; i++) await alice.mutation(fns.send, { body: "x" });
    const data = await alice.query(fns.getRateLimit, {});
    expect(statusAt(data, t0)).toEqual({
      value: near(0, 10 / MINUTE),
      ok: false,
      retryAfter: near(6000),
    });
    expect(statusAt(data, t0 + 6000)).toMatchObject({ ok: true });
    expect(
      (await t.withIdentity({ subject: "bob" }).query(fns.getRateLimit, {}))
        .value,
    ).toBe(3);
    expect(typeof useSendButton).toBe("function");
  });

  it("shadow mode admits and logs what it would have denied", async () => {
    const t = test();
    for (let i = 0; i < 31; i++) {
      const r = await t.run((ctx) =>
        rateLimiter.limit(ctx, "search", { key: "ip" }),
      );
      expect(r.ok).toBe(true);
    }
    expect(
      logs.filter((l) => l.event === "rateLimiter.shadowDeny"),
    ).toHaveLength(1);
  });
});

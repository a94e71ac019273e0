import fc from "fast-check";
import {
  anyApi,
  mutationGeneric,
  queryGeneric,
  type FunctionReference,
} from "convex/server";
import { v } from "convex/values";
import { describe, expect, it, vi } from "vitest";
import {
  HOUR,
  MINUTE,
  RateLimiter,
  configureLogs,
  isRateLimitError,
  type RateLimitConfig,
} from "convex-opskit/rateLimiter";
import {
  components,
  opskitTest,
  captureLogs,
  near,
  FUNCTION_CLOCK_SLACK_MS,
  fakeClock,
} from "../helpers.js";
// Vite's import.meta.glob leaves out the importing file, so the module adds itself.
import * as self from "./features.test.js";
import { silenceLogs } from "convex-opskit/test";

const rateLimiter = new RateLimiter(components.rateLimiter, {
  perUser: { kind: "token bucket", rate: 3, period: MINUTE },
  globalTiny: { kind: "fixed window", rate: 2, period: MINUTE, start: 0 },
  sharded: { kind: "token bucket", rate: 100, period: MINUTE, shards: 10 },
  shardedWindow: {
    kind: "fixed window",
    rate: 120,
    period: MINUTE,
    shards: 8,
    start: 0,
  },
  shardedGcra: {
    kind: "gcra",
    rate: 60,
    period: MINUTE,
    capacity: 20,
    shards: 4,
  },
  shardedSliding: {
    kind: "sliding window",
    rate: 60,
    period: MINUTE,
    shards: 3,
    start: 0,
  },
  newLimit: { kind: "token bucket", rate: 2, period: MINUTE, shadow: true },
  login: { kind: "gcra", rate: 5, period: 15 * MINUTE, penalty: HOUR },
  shardedBudget: {
    kind: "token bucket",
    rate: 100,
    period: MINUTE,
    shards: 10,
    maxReserved: 50,
  },
  shardedLogin: {
    kind: "token bucket",
    rate: 4,
    period: MINUTE,
    shards: 2,
    penalty: 10 * MINUTE,
  },
});
const anyLimiter = rateLimiter as unknown as RateLimiter<
  Record<string, RateLimitConfig>
>;

export const hit = mutationGeneric({
  args: {
    name: v.string(),
    key: v.optional(v.string()),
    count: v.optional(v.number()),
  },
  handler: async (ctx, { name, ...rest }) => anyLimiter.limit(ctx, name, rest),
});

export const reserve = mutationGeneric({
  args: { name: v.string(), count: v.number() },
  handler: async (ctx, { name, count }) =>
    anyLimiter.limit(ctx, name, { count, reserve: true }),
});

export const hitCatching = mutationGeneric({
  args: { name: v.string(), key: v.optional(v.string()) },
  handler: async (ctx, { name, key }) => {
    try {
      await anyLimiter.limit(ctx, name, { key, throws: true });
      return "ok";
    } catch (e) {
      if (isRateLimitError(e)) return "limited";
      throw e;
    }
  },
});

export const value = queryGeneric({
  args: { name: v.string(), key: v.optional(v.string()) },
  handler: async (ctx, { name, key }) =>
    anyLimiter.getValue(ctx, name, { key }),
});

export const both = mutationGeneric({
  args: { user: v.string(), throws: v.optional(v.boolean()) },
  handler: async (ctx, { user, throws }) =>
    rateLimiter.limitAll(
      ctx,
      [{ name: "perUser", key: user }, { name: "globalTiny" }],
      { throws },
    ),
});

export const peekBoth = queryGeneric({
  args: { user: v.string() },
  handler: async (ctx, { user }) =>
    rateLimiter.checkAll(ctx, [
      { name: "perUser", key: user },
      { name: "globalTiny" },
    ]),
});

export const twice = mutationGeneric({
  args: { user: v.string(), count: v.number() },
  handler: async (ctx, { user, count }) =>
    rateLimiter.limitAll(ctx, [
      { name: "perUser", key: user, count },
      { name: "perUser", key: user, count },
    ]),
});

export const none = mutationGeneric({
  args: {},
  handler: async (ctx) => rateLimiter.limitAll(ctx, []),
});

export const giveBack = mutationGeneric({
  args: {
    name: v.string(),
    key: v.optional(v.string()),
    count: v.optional(v.number()),
  },
  handler: async (ctx, { name, ...rest }) => anyLimiter.refund(ctx, name, rest),
});

export const stored = queryGeneric({
  args: {},
  handler: async (ctx) => rateLimiter.countStates(ctx),
});

export const { getRateLimit, getServerTime } = rateLimiter.hookAPI("perUser", {
  key: async (ctx) =>
    (await ctx.auth.getUserIdentity())?.subject ?? "anonymous",
});
export const { getRateLimit: getGlobalLimit } = rateLimiter.hookAPI("sharded");

const t0 = Date.UTC(2026, 0, 1);
const logs = captureLogs();
fakeClock(t0);

const api = anyApi["features.test"];
const test = () => opskitTest({ "./features.test.ts": async () => self });

/** A greedy client calling every `step` ms for `duration` ms; returns admitted count. */
async function greedy(
  t: ReturnType<typeof test>,
  name: string,
  duration: number,
  step: number,
) {
  let admitted = 0;
  for (let at = 0; at <= duration; at += step) {
    vi.setSystemTime(t0 + at);
    const r = await t.mutation(api.hit, { name });
    if (r.ok) admitted++;
  }
  return admitted;
}

describe("exact sharding", () => {
  it("token bucket, 10 shards: over 5 minutes a greedy client gets the bound, never more", async () => {
    const t = test();
    const admitted = await greedy(t, "sharded", 5 * MINUTE, 100);
    const bound = 100 + 100 * 5; // capacity + rate * minutes
    expect(admitted).toBeLessThanOrEqual(bound);
    expect(admitted).toBeGreaterThanOrEqual(0.99 * bound);
  });

  it("fixed window, 8 shards: never more than rate per window, and all of it", async () => {
    const t = test();
    const admitted = await greedy(t, "shardedWindow", 5 * MINUTE - 1, 100);
    expect(admitted).toBe(5 * 120);
  });

  it("getValue reports the whole limit, not one shard", async () => {
    const t = test();
    for (let i = 0; i < 30; i++) await t.mutation(api.hit, { name: "sharded" });
    const v = await t.query(api.value, { name: "sharded" });
    expect(v.value).toEqual(near(70, 100 / MINUTE)); // 1 function-clock ms of refill
    expect(v.shard).toBe(0);
    expect(await t.query(api.getGlobalLimit, {})).toMatchObject({
      value: v.value,
    });
  });

  for (const name of [
    "sharded",
    "shardedWindow",
    "shardedGcra",
    "shardedSliding",
  ])
    it(`${name}: waiting exactly retryAfter succeeds on the first retry`, async () => {
      const t = test();
      let now = t0;
      let retries = 0;
      for (let round = 0; round < 2000 && retries < 40; round++) {
        vi.setSystemTime(now);
        const r = await t.mutation(api.hit, { name, count: 5 });
        if (r.ok) {
          now += 7; // a burst: keep draining
          continue;
        }
        now += r.retryAfter;
        vi.setSystemTime(now);
        expect(await t.mutation(api.hit, { name, count: 5 })).toMatchObject({
          ok: true,
        });
        retries++;
      }
      expect(retries).toBe(40);
    });
});

describe("sharded counts and reservations", () => {
  it("a count larger than one shard is served across shards, exactly", async () => {
    const t = test();
    expect(
      await t.mutation(api.hit, { name: "shardedBudget", count: 60 }),
    ).toMatchObject({ ok: true });
    expect(
      await t.mutation(api.hit, { name: "shardedBudget", count: 41 }),
    ).toMatchObject({
      ok: false,
      retryAfter: 600, // levelled shards refill together: one token per 600 ms
    });
    expect(
      await t.mutation(api.hit, { name: "shardedBudget", count: 40 }),
    ).toMatchObject({ ok: true });
    expect((await t.query(api.value, { name: "shardedBudget" })).value).toEqual(
      near(0, 100 / MINUTE),
    );
  });

  it("reservations on a sharded limit wait exactly and respect maxReserved", async () => {
    const t = test();
    await t.mutation(api.hit, { name: "shardedBudget", count: 100 });
    expect(
      await t.mutation(api.reserve, { name: "shardedBudget", count: 30 }),
    ).toMatchObject({
      ok: true,
      retryAfter: 18_000,
    });
    expect(
      await t.mutation(api.reserve, { name: "shardedBudget", count: 30 }),
    ).toMatchObject({
      ok: false,
      retryAfter: near(6_000), // 20 more may be reserved now; 30 once 10 tokens refill
    });
    vi.setSystemTime(t0 + 6_000);
    expect(
      await t.mutation(api.reserve, { name: "shardedBudget", count: 30 }),
    ).toMatchObject({ ok: true });
    expect(
      (await t.query(api.value, { name: "shardedBudget" })).value,
    ).toBeCloseTo(-50, 6);
  });
});

describe("atomic multi-limit", () => {
  it("all or nothing: a global denial consumes nothing of the per-user limit", async () => {
    const t = test();
    expect(await t.mutation(api.both, { user: "a" })).toMatchObject({
      ok: true,
    });
    expect(await t.mutation(api.both, { user: "b" })).toMatchObject({
      ok: true,
    });
    const denied = await t.mutation(api.both, { user: "c" });
    expect(denied).toMatchObject({
      ok: false,
      name: "globalTiny",
      denied: [{ name: "globalTiny", retryAfter: near(MINUTE) }],
    });
    expect(
      (await t.query(api.value, { name: "perUser", key: "c" })).value,
    ).toBe(3);
    expect(
      (await t.query(api.value, { name: "perUser", key: "a" })).value,
    ).toEqual(near(2, 3 / MINUTE));
  });

  it("reports the longest retryAfter and every denying limit", async () => {
    const t = test();
    for (let i = 0; i < 3; i++)
      await t.mutation(api.hit, { name: "perUser", key: "z" });
    await t.mutation(api.hit, { name: "globalTiny", count: 2 });
    vi.setSystemTime(t0 + 10_000);
    const denied = await t.mutation(api.both, { user: "z" });
    // perUser refills one token every 20 s: 10 s more; globalTiny's window ends in 50 s.
    expect(denied).toMatchObject({
      ok: false,
      retryAfter: 50_000,
      name: "globalTiny",
    });
    expect(denied.denied).toEqual([
      { name: "perUser", key: "z", retryAfter: 10_000 },
      { name: "globalTiny", retryAfter: 50_000 },
    ]);
    await expect(
      t.mutation(api.both, { user: "z", throws: true }),
    ).rejects.toThrow(/globalTiny/);
  });
});

describe("atomic multi-limit: checks and hostile input", () => {
  it("checkAll answers like limitAll and consumes nothing", async () => {
    const t = test();
    await t.mutation(api.hit, { name: "globalTiny", count: 2 });
    expect(await t.query(api.peekBoth, { user: "q" })).toMatchObject({
      ok: false,
      name: "globalTiny",
      retryAfter: MINUTE,
    });
    expect(
      (await t.query(api.value, { name: "perUser", key: "q" })).value,
    ).toBe(3);
  });

  it("the same limit twice in one call sees its own consumption", async () => {
    const t = test();
    expect(await t.mutation(api.twice, { user: "d", count: 2 })).toMatchObject({
      ok: false,
      name: "perUser",
    });
    expect(
      (await t.query(api.value, { name: "perUser", key: "d" })).value,
    ).toBe(3);
    expect(await t.mutation(api.twice, { user: "d", count: 1 })).toMatchObject({
      ok: true,
    });
    expect(
      (await t.query(api.value, { name: "perUser", key: "d" })).value,
    ).toEqual(near(1, 3 / MINUTE));
  });

  it("an empty list is refused", async () => {
    const t = test();
    await expect(t.mutation(api.none, {})).rejects.toThrow(
      /At least one rate limit/,
    );
  });

  it("keys that look like separators never share state", async () => {
    const t = test();
    const keys = ["a\u0000b", "a", "a\u0002", "", '["a",null,0]'];
    for (const key of keys)
      await t.mutation(api.hit, { name: "perUser", key, count: 3 });
    for (const key of keys)
      expect(await t.mutation(api.hit, { name: "perUser", key })).toMatchObject(
        { ok: false },
      );
    expect(await t.mutation(api.hit, { name: "perUser" })).toMatchObject({
      ok: true,
    });
  });
});

describe("shadow mode", () => {
  it("never denies, reports and logs what it would have denied, consumes nothing extra", async () => {
    const t = test();
    const results = [];
    for (let i = 0; i < 5; i++)
      results.push(await t.mutation(api.hit, { name: "newLimit", key: "s" }));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(results.slice(0, 2).every((r) => r.shadow === undefined)).toBe(true);
    expect(results[2]).toMatchObject({
      ok: true,
      shadow: [{ name: "newLimit", key: "s", retryAfter: near(30_000) }],
    });
    const shadowLogs = logs.filter((l) => l.event === "rateLimiter.shadowDeny");
    expect(shadowLogs).toHaveLength(3);
    expect(shadowLogs[0]).toMatchObject({
      name: "newLimit",
      key: "s",
      retryAfter: near(30_000),
      functionName: "features.test:hit",
    });
    expect(logs.some((l) => l.event === "rateLimiter.deny")).toBe(false);
    expect(
      (await t.query(api.value, { name: "newLimit", key: "s" })).value,
    ).toEqual(near(0, 2 / MINUTE));
  });
});

describe("penalty", () => {
  it("once denied, a key stays denied for the penalty regardless of refill", async () => {
    const t = test();
    for (let i = 0; i < 5; i++)
      expect(
        await t.mutation(api.hit, { name: "login", key: "ip" }),
      ).toMatchObject({ ok: true });
    expect(
      await t.mutation(api.hit, { name: "login", key: "ip" }),
    ).toMatchObject({ ok: false, retryAfter: near(HOUR) });
    vi.setSystemTime(t0 + 20 * MINUTE); // fully refilled by now, but penalised
    expect(
      await t.mutation(api.hit, { name: "login", key: "ip" }),
    ).toMatchObject({ ok: false, retryAfter: near(40 * MINUTE) });
    expect(
      (await t.query(api.value, { name: "login", key: "ip" })).penaltyUntil,
    ).toEqual(near(t0 + HOUR));
    vi.setSystemTime(t0 + HOUR + FUNCTION_CLOCK_SLACK_MS); // the denial ran up to 1 ms after t0
    expect(
      await t.mutation(api.hit, { name: "login", key: "ip" }),
    ).toMatchObject({ ok: true });
    // Other keys are unaffected.
    expect(
      await t.mutation(api.hit, { name: "login", key: "other" }),
    ).toMatchObject({ ok: true });
  });

  it("is recorded when the caller catches the thrown error, and covers every shard", async () => {
    const t = test();
    for (let i = 0; i < 4; i++)
      expect(
        await t.mutation(api.hitCatching, { name: "shardedLogin", key: "k" }),
      ).toBe("ok");
    expect(
      await t.mutation(api.hitCatching, { name: "shardedLogin", key: "k" }),
    ).toBe("limited");
    vi.setSystemTime(t0 + 5 * MINUTE);
    for (let i = 0; i < 10; i++)
      expect(
        await t.mutation(api.hit, { name: "shardedLogin", key: "k" }),
      ).toMatchObject({ ok: false, retryAfter: near(5 * MINUTE) });
    // The denial ran up to 1 ms after t0 (function clock); its penalty ends 10 minutes after that.
    vi.setSystemTime(t0 + 10 * MINUTE + FUNCTION_CLOCK_SLACK_MS);
    expect(
      await t.mutation(api.hit, { name: "shardedLogin", key: "k" }),
    ).toMatchObject({ ok: true });
  });
});

describe("refunds", () => {
  it("credit back what was taken, never past the capacity", async () => {
    const t = test();
    await t.mutation(api.hit, { name: "perUser", key: "r", count: 2 });
    expect(
      await t.mutation(api.giveBack, { name: "perUser", key: "r", count: 3 }),
    ).toBe(2);
    expect(
      (await t.query(api.value, { name: "perUser", key: "r" })).value,
    ).toBe(3);
    // Back to full: the state document is gone.
    expect(await t.query(api.stored, {})).toBe(0);
    expect(
      await t.mutation(api.giveBack, { name: "perUser", key: "r", count: 3 }),
    ).toBe(0);
    expect(
      (await t.query(api.value, { name: "perUser", key: "r" })).value,
    ).toBe(3);
  });

  it("sharded refunds stay within each shard's capacity", async () => {
    const t = test();
    for (let i = 0; i < 25; i++) await t.mutation(api.hit, { name: "sharded" });
    expect(
      await t.mutation(api.giveBack, { name: "sharded", count: 40 }),
    ).toEqual(near(25, 100 / MINUTE));
    expect((await t.query(api.value, { name: "sharded" })).value).toBeCloseTo(
      100,
      6,
    );
  });
});

describe("bounded storage", () => {
  // The component's cron runs the sweep (see sweep.test.ts); convex-test runs
  // no crons, so these call it as the cron does.
  const sweep = (
    components.rateLimiter as unknown as {
      sweep: {
        run: FunctionReference<
          "mutation",
          "internal",
          { chained?: boolean },
          { deleted: number; bytes: number; more: boolean }
        >;
      };
    }
  ).sweep.run;

  it("sweeps states that refilled to full, keeps the active ones", async () => {
    const t = test();
    for (let i = 0; i < 40; i++)
      await t.mutation(api.hit, { name: "perUser", key: `u${i}` });
    for (let i = 0; i < 6; i++)
      await t.mutation(api.hit, { name: "login", key: "attacker" });
    expect(await t.query(api.stored, {})).toBe(41);
    vi.advanceTimersByTime(MINUTE + 1);
    await t.mutation(sweep, {});
    // The per-user states refilled within 20 s; the penalised key stays for an hour.
    expect(await t.query(api.stored, {})).toBe(1);
    expect(
      (await t.query(api.value, { name: "login", key: "attacker" }))
        .penaltyUntil,
    ).toEqual(near(t0 + HOUR));
    vi.advanceTimersByTime(HOUR);
    await t.mutation(sweep, {});
    expect(await t.query(api.stored, {})).toBe(0);
  });

  it("sweeps in bounded batches until nothing is left", async () => {
    const t = test();
    for (let i = 0; i < 600; i++)
      await t.mutation(api.hit, { name: "perUser", key: `k${i}` });
    expect(await t.query(api.stored, {})).toBe(600);
    // Nothing was scheduled by the calls: draining runs nothing.
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect(await t.query(api.stored, {})).toBe(600);
    vi.advanceTimersByTime(MINUTE);
    // 500 per run; the run chains one continuation for the rest.
    expect(await t.mutation(sweep, {})).toMatchObject({
      deleted: 500,
      more: true,
    });
    expect(await t.query(api.stored, {})).toBe(100);
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect(await t.query(api.stored, {})).toBe(0);
    // A later burst is swept by a later cron run.
    await t.mutation(api.hit, { name: "perUser", key: "late" });
    vi.advanceTimersByTime(MINUTE);
    await t.mutation(sweep, {});
    expect(await t.query(api.stored, {})).toBe(0);
  });
});

describe("hook API", () => {
  it("pins name and config on the server; the key comes from the server function", async () => {
    const t = test();
    const asU1 = t.withIdentity({ subject: "u1" });
    await t.mutation(api.hit, { name: "perUser", key: "u1" });
    expect(await asU1.query(api.getRateLimit, {})).toMatchObject({
      value: 2,
      config: { kind: "token bucket", rate: 3 },
    });
    expect(
      await t.withIdentity({ subject: "u2" }).query(api.getRateLimit, {}),
    ).toMatchObject({ value: 3 });
    // The hook query's args validator has no `name` or `config` field at all.
    await expect(
      asU1.query(api.getRateLimit, { name: "sharded" }),
    ).rejects.toThrow("Validator error: Unexpected field `name` in object");
    await expect(
      asU1.query(api.getRateLimit, {
        config: { kind: "token bucket", rate: 1e9, period: 1 },
      }),
    ).rejects.toThrow("Validator error: Unexpected field `config` in object");
  });

  it("without a key function the client cannot pick a key", async () => {
    const t = test();
    await expect(
      t.query(api.getGlobalLimit, { key: "someone-else" }),
    ).rejects.toThrow(/may not choose the key/);
    expect(typeof (await t.mutation(api.getServerTime, {}))).toBe("number");
  });
});

describe("logs", () => {
  it("a denial emits one rateLimiter.deny line with name, key and retryAfter", async () => {
    const t = test();
    for (let i = 0; i < 4; i++)
      await t.mutation(api.hit, { name: "perUser", key: "L" });
    expect(logs).toEqual([
      {
        event: "rateLimiter.deny",
        name: "perUser",
        key: "L",
        retryAfter: near(20_000),
        functionName: "features.test:hit",
      },
    ]);
  });

  /** The component's answer to a denied call of `perUser`, key `k`. */
  const deniedWire = {
    ok: false,
    retryAfter: 5,
    denials: [{ name: "perUser", key: "k", retryAfter: 5 }],
    limit: 3,
    remaining: 0,
    resetAfter: 5,
  } as const;

  /** A ctx whose component call is denied and whose `ctx.meta` counts lookups. */
  function deniedCtx() {
    const lookups = { count: 0 };
    const ctx = {
      runQuery: async () => {
        throw new Error("unused");
      },
      runMutation: async () => deniedWire,
      meta: {
        getFunctionMetadata: async () => {
          lookups.count++;
          return { name: "messages:send", type: "mutation" };
        },
      },
    };
    return { ctx: ctx as never, lookups };
  }

  it("a denial line names the calling function from ctx.meta; silenced, it is not looked up", async () => {
    const logged = deniedCtx();
    await rateLimiter.limit(logged.ctx, "perUser", { key: "k" });
    expect(logged.lookups.count).toBe(1);
    expect(logs).toEqual([
      {
        event: "rateLimiter.deny",
        name: "perUser",
        key: "k",
        retryAfter: 5,
        functionName: "messages:send",
      },
    ]);
    const silent = deniedCtx();
    const restore = configureLogs({ level: "silent" });
    try {
      expect(
        await rateLimiter.limit(silent.ctx, "perUser", { key: "k" }),
      ).toMatchObject({ ok: false, retryAfter: 5, name: "perUser" });
    } finally {
      restore();
    }
    expect(silent.lookups.count).toBe(0);
    expect(logs).toHaveLength(1);
  });

  it("deny, shadowDeny and contention lines: functionName only from a usable ctx.meta, never a throw, no lookup when silenced", async () => {
    const metas: Record<string, () => { meta?: unknown; name: string | null }> =
      {
        named: () => ({
          meta: { getFunctionMetadata: async () => ({ name: "m:f" }) },
          name: "m:f",
        }),
        missing: () => ({ name: null }),
        nullMeta: () => ({ meta: null, name: null }),
        stringMeta: () => ({ meta: "meta", name: null }),
        notAFunction: () => ({ meta: { getFunctionMetadata: 7 }, name: null }),
        throwsSync: () => ({
          meta: {
            getFunctionMetadata: () => {
              throw new Error("no syscall");
            },
          },
          name: null,
        }),
        rejects: () => ({
          meta: {
            getFunctionMetadata: async () => Promise.reject(new Error("x")),
          },
          name: null,
        }),
        returnsNull: () => ({
          meta: { getFunctionMetadata: async () => null },
          name: null,
        }),
        nameNotString: () => ({
          meta: { getFunctionMetadata: async () => ({ name: 42 }) },
          name: null,
        }),
        emptyName: () => ({
          meta: { getFunctionMetadata: async () => ({ name: "" }) },
          name: null,
        }),
      };
    const wires = {
      denied: deniedWire,
      shadow: {
        ok: true,
        denials: [{ name: "perUser", key: "k", retryAfter: 5, shadow: true }],
        limit: 3,
        remaining: 0,
        resetAfter: 5,
      },
      contention: null,
    } as const;
    const events = {
      denied: "rateLimiter.deny",
      shadow: "rateLimiter.shadowDeny",
      contention: "rateLimiter.contention",
    } as const;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...Object.keys(metas)),
        fc.constantFrom(...(Object.keys(wires) as Array<keyof typeof wires>)),
        fc.boolean(),
        fc.constantFrom("silenceLogs", "configureLogs"),
        async (metaKind, path, silenced, how) => {
          logs.length = 0;
          const { meta, name } = metas[metaKind]();
          let lookups = 0;
          const counted =
            meta !== null && typeof meta === "object"
              ? new Proxy(meta as object, {
                  get(target, prop, receiver) {
                    if (prop === "getFunctionMetadata") lookups++;
                    return Reflect.get(target, prop, receiver);
                  },
                })
              : meta;
          const ctx = {
            runQuery: async () => {
              throw new Error("unused");
            },
            runMutation: async () => {
              const wire = wires[path];
              if (wire === null)
                throw new Error(
                  "Documents read from or written to the table changed while this mutation was being run",
                );
              return wire;
            },
            ...(metaKind === "missing" ? {} : { meta: counted }),
          } as never;
          const restore = silenced
            ? how === "silenceLogs"
              ? silenceLogs()
              : configureLogs({ level: "silent" })
            : () => {};
          let result;
          try {
            result = await rateLimiter.limit(ctx, "perUser", { key: "k" });
          } finally {
            restore();
          }
          expect(result.ok).toBe(path === "shadow");
          if (silenced) {
            expect(logs).toEqual([]);
            expect(lookups).toBe(0);
            return;
          }
          expect(logs).toHaveLength(1);
          expect(logs[0].event).toBe(events[path]);
          if (name === null) expect("functionName" in logs[0]).toBe(false);
          else expect(logs[0].functionName).toBe(name);
        },
      ),
      { seed: 2024, numRuns: 120 },
    );
  });
});

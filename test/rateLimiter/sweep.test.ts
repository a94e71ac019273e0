/**
 * Bounded storage without disturbing the app (issue 11 item 12, issue 10):
 * `limit` schedules nothing; the component's cron runs the sweep, which is
 * budgeted by documents and bytes, chains one continuation for a backlog and
 * always makes progress. convex-test runs no crons, so the sweep is called
 * here as the cron calls it.
 */
import fc from "fast-check";
import {
  anyApi,
  defineSchema,
  defineTable,
  internalActionGeneric,
  internalMutationGeneric,
  mutationGeneric,
  queryGeneric,
} from "convex/server";
import { v } from "convex/values";
import { describe, expect, it, vi } from "vitest";
import {
  HOUR,
  MINUTE,
  RateLimiter,
  type RateLimitConfig,
} from "convex-opskit/rateLimiter";
import {
  SWEEP_MAX_DOCUMENTS,
  estimateBytes,
  rateLimiterCrons as crons,
} from "../internal.js";
import { components, fakeClock } from "../helpers.js";
import { probe, rateLimiterTest } from "./setup.js";
// Vite's import.meta.glob leaves out the importing file, so the module adds itself.
import * as self from "./sweep.test.js";

const rateLimiter = new RateLimiter(components.rateLimiter, {
  perUser: { kind: "token bucket", rate: 3, period: MINUTE },
  llmRequests: { kind: "token bucket", rate: 10, period: MINUTE },
  login: { kind: "gcra", rate: 5, period: 15 * MINUTE, penalty: HOUR },
  sharded: { kind: "fixed window", rate: 40, period: MINUTE, shards: 4 },
});
const anyLimiter = rateLimiter as unknown as RateLimiter<
  Record<string, RateLimitConfig>
>;

const schema = defineSchema({
  ran: defineTable({ at: v.number(), scheduledFor: v.number() }),
});

export const hit = mutationGeneric({
  args: {
    name: v.string(),
    key: v.optional(v.string()),
    reserve: v.optional(v.boolean()),
  },
  handler: async (ctx, { name, ...rest }) => anyLimiter.limit(ctx, name, rest),
});

export const hitMany = mutationGeneric({
  args: { name: v.string(), prefix: v.string(), n: v.number() },
  handler: async (ctx, { name, prefix, n }) => {
    for (let i = 0; i < n; i++)
      await anyLimiter.limit(ctx, name, { key: `${prefix}${i}` });
  },
});

/** `@convex-dev/rate-limiter`'s README example "Reserving capacity", as an app writes it. */
export const myAction = internalActionGeneric({
  args: {
    skipCheck: v.optional(v.boolean()),
    scheduledFor: v.optional(v.number()),
  },
  handler: async (ctx, args): Promise<void> => {
    if (!args.skipCheck) {
      // Reserve future capacity instead of just failing now
      const status = await rateLimiter.limit(ctx, "llmRequests", {
        reserve: true,
      });
      if (status.retryAfter) {
        await ctx.scheduler.runAfter(status.retryAfter, api.myAction, {
          // When we run in the future, we can skip the rate limit check,
          // since we've just reserved that capacity.
          skipCheck: true,
          scheduledFor: Date.now() + status.retryAfter,
        });
        return;
      }
    }
    // do the operation: here, record when it ran
    const now = Date.now();
    await ctx.runMutation(api.record, {
      at: now,
      scheduledFor: args.scheduledFor ?? now,
    });
  },
});

export const record = internalMutationGeneric({
  args: { at: v.number(), scheduledFor: v.number() },
  handler: async (ctx, { at, scheduledFor }) => {
    await ctx.db.insert("ran", { at, scheduledFor });
  },
});

export const ran = queryGeneric({
  args: {},
  handler: async (ctx) => ctx.db.query("ran").collect(),
});

const api = anyApi["sweep.test"];
const test = (transactionLimits?: boolean | Record<string, number>) =>
  rateLimiterTest(
    { "./sweep.test.ts": async () => self },
    { schema, transactionLimits },
  );

const t0 = Date.UTC(2026, 0, 1);
fakeClock(t0);

describe("a call schedules nothing", () => {
  it("limit, denials, penalties, reservations and sharded limits leave no scheduled job", async () => {
    const t = test();
    for (let i = 0; i < 4; i++)
      await t.mutation(api.hit, { name: "perUser", key: "u" });
    for (let i = 0; i < 7; i++)
      await t.mutation(api.hit, { name: "login", key: "ip" });
    for (let i = 0; i < 50; i++) await t.mutation(api.hit, { name: "sharded" });
    await t.mutation(api.hit, { name: "llmRequests", reserve: true });
    expect((await t.query(probe.states, {})).length).toBeGreaterThan(3);
    expect(await t.query(probe.scheduled, {})).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("the anchor's reservation example runs each job at its reserved time", async () => {
    const t = test();
    // 10 per minute: the first 10 run now, the 11th is reserved 6 s ahead.
    for (let i = 0; i < 11; i++) await t.action(api.myAction, {});
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const runs = await t.query(api.ran, {});
    expect(runs).toHaveLength(11);
    // Before, the sweep's own job (a minute ahead) was drained too, and the
    // fake clock jumped past the reserved time before the job ran.
    for (const r of runs) expect(r.at).toBe(r.scheduledFor);
    // ~6 s (the reservation was computed in the component's own function
    // time, which convex-test >= 0.0.71 may run 1 ms ahead of the action's).
    expect(Math.abs(runs[10].at - t0 - 6000)).toBeLessThanOrEqual(1);
  });
});

describe("the sweep (run by the component's cron)", () => {
  it("is a cron of the component, once a minute", () => {
    const jobs = (crons as unknown as { crons: Record<string, unknown> }).crons;
    expect(Object.keys(jobs)).toEqual(["sweep full rate-limit states"]);
    expect(jobs["sweep full rate-limit states"]).toMatchObject({
      name: "sweep:run",
      schedule: { type: "interval", minutes: 1 },
    });
  });

  it("deletes states that refilled to full, keeps active and penalised ones", async () => {
    const t = test();
    await t.mutation(api.hitMany, { name: "perUser", prefix: "u", n: 40 });
    for (let i = 0; i < 6; i++)
      await t.mutation(api.hit, { name: "login", key: "attacker" });
    expect(await t.query(probe.states, {})).toHaveLength(41);
    // Nothing is full yet: the sweep deletes nothing.
    expect(await t.mutation(probe.sweep, {})).toEqual({
      deleted: 0,
      bytes: 0,
      more: false,
    });
    vi.advanceTimersByTime(MINUTE + 1);
    const swept = await t.mutation(probe.sweep, {});
    expect(swept).toMatchObject({ deleted: 40, more: false });
    expect(swept.bytes).toBeGreaterThan(40 * 50);
    const left = await t.query(probe.states, {});
    expect(left.map((s) => s.key)).toEqual(["attacker"]);
    vi.advanceTimersByTime(HOUR);
    expect(await t.mutation(probe.sweep, {})).toMatchObject({ deleted: 1 });
    expect(await t.query(probe.states, {})).toEqual([]);
    expect(await t.query(probe.scheduled, {})).toEqual([]);
  });

  it("a backlog: budgeted runs, one chained continuation, a cron run while it is pending does nothing", async () => {
    const t = test();
    const n = SWEEP_MAX_DOCUMENTS * 2 + 500;
    await t.mutation(probe.seed, { n, prefix: "b", fullAt: t0 + 1 });
    vi.advanceTimersByTime(MINUTE);
    const first = await t.mutation(probe.sweep, {});
    expect(first).toMatchObject({ deleted: SWEEP_MAX_DOCUMENTS, more: true });
    const pending = await t.query(probe.scheduled, {});
    expect(pending).toHaveLength(1);
    expect(pending[0]).toMatchObject({
      name: "sweep:run",
      state: { kind: "pending" },
    });
    // The cron fires again before the continuation ran: it leaves the work to it.
    expect(await t.mutation(probe.sweep, {})).toEqual({
      deleted: 0,
      bytes: 0,
      more: true,
    });
    expect(await t.query(probe.states, {})).toHaveLength(
      n - SWEEP_MAX_DOCUMENTS,
    );
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect(await t.query(probe.states, {})).toEqual([]);
    expect(await t.query(probe.marker, {})).toEqual(
      expect.not.objectContaining({ continuation: expect.anything() }),
    );
  });

  it("sizes its work by the transaction's bytes where the deployment reports them", async () => {
    // A deployment with only 384 KiB of read budget left for the sweep.
    const t = test({ bytesRead: 384 * 1024 });
    await t.mutation(probe.seed, {
      n: 1200,
      prefix: "k".repeat(250),
      name: "n".repeat(256),
      fullAt: t0 + 1,
    });
    vi.advanceTimersByTime(MINUTE);
    const first = await t.mutation(probe.sweep, {});
    expect(first.more).toBe(true);
    expect(first.deleted).toBeGreaterThan(0);
    expect(first.deleted).toBeLessThan(1200);
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect(await t.query(probe.states, {})).toEqual([]);
  });

  it("always makes progress: repeated runs empty any backlog within ceil(n / budget) runs", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 1500 }),
        fc.integer({ min: 1, max: 200 }),
        async (due, active) => {
          const t = test();
          await t.mutation(probe.seed, { n: due, prefix: "d", fullAt: t0 + 1 });
          vi.advanceTimersByTime(MINUTE);
          await t.mutation(api.hitMany, {
            name: "perUser",
            prefix: "a",
            n: active,
          });
          let runs = 0;
          let left = due;
          for (;;) {
            const r = await t.mutation(probe.sweep, { chained: true });
            runs++;
            expect(r.deleted).toBe(Math.min(left, SWEEP_MAX_DOCUMENTS));
            left -= r.deleted;
            if (!r.more) break;
          }
          expect(left).toBe(0);
          expect(runs).toBeLessThanOrEqual(
            Math.max(1, Math.ceil(due / SWEEP_MAX_DOCUMENTS)),
          );
          expect(await t.query(probe.states, {})).toHaveLength(active);
          vi.setSystemTime(t0);
        },
      ),
      { seed: 42, numRuns: process.env.OPSKIT_DEEP ? 60 : 6 },
    );
  });
});

describe("estimateBytes", () => {
  it("is at least the UTF-8 size of every string and 8 bytes per number", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "grapheme", maxLength: 300 }),
        fc.option(fc.string({ maxLength: 300 }), { nil: undefined }),
        fc.double({ noNaN: true }),
        (name, key, value) => {
          const doc = { name, key, value, ts: value, fullAt: value, shard: 0 };
          const utf8 = (s: string) => new TextEncoder().encode(s).length;
          expect(estimateBytes(doc)).toBeGreaterThanOrEqual(
            utf8(name) + (key === undefined ? 0 : utf8(key)) + 4 * 8,
          );
        },
      ),
      { seed: 42, numRuns: 200 },
    );
  });
});

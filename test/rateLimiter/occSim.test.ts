/**
 * The OCC simulation in `bench/occ/` checked on cases with a known answer:
 * read-set ranges, when a commit conflicts, read-only attempts, the retry
 * budget and backoff, and determinism. (Figures are printed by
 * `npm run bench`; nothing here times anything.)
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  MAX_ATTEMPTS,
  backoffMs,
  poisson,
  rng,
  simulate,
  type Design,
  type Scenario,
} from "../../bench/occ/sim.js";
import {
  Store,
  Transaction,
  conflicts,
  type Schema,
} from "../../bench/occ/store.js";
import { oursAsync, oursStrict, theirsSync } from "../../bench/occ/designs.js";
import { MINUTE } from "convex-opskit/rateLimiter";

const schema: Schema = { counters: { by_key: ["key"] } };

/** Reads its key's counter (an indexed query) and increments it. */
const counter: Design = {
  name: "counter",
  schema,
  async call(ctx, key) {
    const doc = await ctx.tx.db
      .query("counters")
      .withIndex("by_key", (q) => q.eq("key", key))
      .first();
    if (doc)
      await ctx.tx.db.patch("counters", doc._id, { n: (doc.n as number) + 1 });
    else await ctx.tx.db.insert("counters", { key, n: 1 });
    return "admitted";
  },
};

/** Reads its key's counter and writes nothing. */
const reader: Design = {
  ...counter,
  name: "reader",
  async call(ctx, key) {
    await ctx.tx.db
      .query("counters")
      .withIndex("by_key", (q) => q.eq("key", key))
      .first();
    return "denied";
  },
};

const fixed = (at: number[], key = (_i: number) => "k"): Scenario => ({
  name: "fixed",
  durationMs: 10_000,
  arrivals: () => at.map((t, i) => ({ at: t, key: key(i) })),
  websocket: false,
  execMs: () => 77,
});

describe("occ store: read sets are index ranges", () => {
  it("a query that ran out of rows covers the whole range: a later insert there conflicts", async () => {
    const store = new Store(schema);
    const tx = new Transaction(store, 0);
    expect(
      await tx.db
        .query("counters")
        .withIndex("by_key", (q) => q.eq("key", "a"))
        .first(),
    ).toBeNull();
    const writer = new Transaction(store, 0);
    await writer.db.insert("counters", { key: "a", n: 1 });
    const [insertA] = writer.writes;
    expect(conflicts(schema, tx.reads[0], insertA)).toBe(true);
    const other = new Transaction(store, 0);
    await other.db.insert("counters", { key: "b", n: 1 });
    expect(conflicts(schema, tx.reads[0], other.writes[0])).toBe(false);
  });

  it("a query that stopped early covers only up to its last row", async () => {
    const store = new Store(schema);
    const seed = new Transaction(store, 0);
    await seed.db.insert("counters", { key: "a", n: 1 });
    await seed.db.insert("counters", { key: "c", n: 1 });
    store.apply(seed.writes, 0);
    const tx = new Transaction(store, 1);
    const first = await tx.db.query("counters").withIndex("by_key").first();
    expect(first?.key).toBe("a");
    const after = new Transaction(store, 1);
    await after.db.insert("counters", { key: "b", n: 1 });
    expect(conflicts(schema, tx.reads[0], after.writes[0])).toBe(false);
    const before = new Transaction(store, 1);
    await before.db.insert("counters", { key: "0", n: 1 });
    expect(conflicts(schema, tx.reads[0], before.writes[0])).toBe(true);
  });

  it("a stale transaction records no reads", async () => {
    const store = new Store(schema);
    const tx = new Transaction(store, 0, false);
    await tx.db.query("counters").withIndex("by_key").collect();
    expect(tx.reads).toEqual([]);
  });
});

describe("occ simulation: known answers", () => {
  it("calls further apart than the execution time never conflict", async () => {
    const r = await simulate(counter, fixed([0, 100, 200, 300]), 1);
    expect(r).toMatchObject({ calls: 4, admitted: 4, failed: 0 });
    expect(r.retries).toEqual([0, 0, 0, 0]);
  });

  it("two overlapping writers of one document: the later commit retries once", async () => {
    const r = await simulate(counter, fixed([0, 10]), 1);
    expect(r.retries).toEqual([0, 1]);
    expect(r.admitted).toBe(2);
  });

  it("overlapping writers of different documents do not conflict", async () => {
    const r = await simulate(
      counter,
      fixed([0, 1, 2, 3], (i) => `k${i}`),
      1,
    );
    expect(r.retries).toEqual([0, 0, 0, 0]);
  });

  it("a read-only attempt is not validated, unless sent over a websocket", async () => {
    const both: Design = {
      ...counter,
      async call(ctx, key) {
        return key === "w" ? counter.call(ctx, "k") : reader.call(ctx, "k");
      },
    };
    // A writer commits inside the reader's window.
    const scenario = fixed([0, 5], (i) => (i === 0 ? "r" : "w"));
    scenario.execMs = (() => {
      const times = [77, 10];
      let i = 0;
      return () => times[i++] ?? 77;
    })();
    const http = await simulate(both, scenario, 1);
    expect(http.retries[0]).toBe(0);
    scenario.execMs = (() => {
      const times = [77, 10];
      let i = 0;
      return () => times[i++] ?? 77;
    })();
    const ws = await simulate(both, { ...scenario, websocket: true }, 1);
    expect(ws.retries[0]).toBe(1);
  });

  it("a call that always conflicts fails after exactly 5 attempts", async () => {
    // A writer every millisecond keeps the document changing.
    const at = [0, ...Array.from({ length: 1500 }, (_, i) => 1 + i)];
    const r = await simulate(counter, fixed(at), 7);
    expect(MAX_ATTEMPTS).toBe(5);
    expect(Math.max(...r.retries)).toBeLessThanOrEqual(MAX_ATTEMPTS);
    expect(r.failed).toBeGreaterThan(0);
    expect(r.failed).toBe(r.retries.filter((n) => n === MAX_ATTEMPTS).length);
    expect(r.admitted + r.failed).toBe(r.calls);
  });

  it("backoff is min(100·2^k, 2000)·U[0,1) ms", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10 }),
        fc.double({ min: 0, max: 0.999, noNaN: true }),
        (k, u) => {
          const b = backoffMs(k, () => u);
          expect(b).toBeCloseTo(Math.min(100 * 2 ** k, 2000) * u, 9);
        },
      ),
      { seed: 42, numRuns: 100 },
    );
  });

  it("Poisson arrivals have the asked rate (law of large numbers)", () => {
    const arrivals = poisson(100, 100_000)(rng(3));
    expect(arrivals.length).toBeGreaterThan(9_700);
    expect(arrivals.length).toBeLessThan(10_300);
  });

  it("is deterministic for a seed and differs across seeds", async () => {
    const limit = {
      name: "api",
      config: {
        kind: "token bucket",
        rate: 3000,
        period: MINUTE,
        shards: 8,
      } as const,
    };
    const scenario: Scenario = {
      name: "hot",
      durationMs: 1500,
      arrivals: poisson(150, 1500),
      websocket: true,
      drained: ["hot"],
    };
    const a = await simulate(oursStrict(limit), scenario, 5);
    const b = await simulate(oursStrict(limit), scenario, 5);
    expect(b).toEqual(a);
    const c = await simulate(await theirsSync(limit), scenario, 6);
    expect(c.calls).not.toBe(a.calls);
  });

  it("replays real handlers: strict designs never admit more than the bound", async () => {
    const limit = {
      name: "api",
      config: {
        kind: "token bucket",
        rate: 3000,
        period: MINUTE,
        shards: 16,
      } as const,
    };
    const scenario: Scenario = {
      name: "hot",
      durationMs: 2000,
      arrivals: poisson(200, 2000),
      websocket: true,
      drained: ["hot"],
    };
    for (const design of [
      oursStrict(limit),
      oursStrict(limit, true),
      await theirsSync(limit),
    ]) {
      const r = await simulate(design, scenario, 11);
      expect(r.admitted).toBeGreaterThan(0);
      expect(r.admitted).toBeLessThanOrEqual(
        (3000 * r.lastStart) / MINUTE + 1e-9,
      );
      expect(r.docsRead).toBeGreaterThan(0);
    }
  });

  it("attack: a deploy rollout racing 1-shard and 16-shard configs on one hot key never exceeds the bound", async () => {
    const one = oursStrict({
      name: "api",
      config: { kind: "token bucket", rate: 3000, period: MINUTE },
    });
    const sixteen = oursStrict({
      name: "api",
      config: {
        kind: "token bucket",
        rate: 3000,
        period: MINUTE,
        shards: 16,
      },
    });
    let flip = 0;
    const rollout: Design = {
      ...sixteen,
      // Drained under the 1-shard layout: the 1 → n refill case.
      prime: one.prime,
      name: "rollout",
      call: (ctx, key) => (flip++ % 3 === 0 ? one : sixteen).call(ctx, key),
    };
    const r = await simulate(
      rollout,
      {
        name: "rollout",
        durationMs: 3000,
        arrivals: poisson(150, 3000),
        websocket: true,
        drained: ["hot"],
      },
      13,
    );
    expect(r.admitted).toBeGreaterThan(0);
    expect(r.admitted).toBeLessThanOrEqual(
      (3000 * r.lastStart) / MINUTE + 1e-9,
    );
  });

  it("attack: an enqueue racing the drain's last, empty run is not stranded", async () => {
    // A at 0 (commits 77) wakes drain 1 (82–159), which applies it and runs
    // drain 2 (164–241); B arrives at 170 and commits at 180, inside drain 2,
    // having read the marker as running. Drain 2's stale listing cannot see
    // B's row: it must not go idle over it.
    const design = oursAsync({
      name: "api",
      config: { kind: "token bucket", rate: 100, period: MINUTE },
    });
    const times = [77, 77, 77, 10];
    let i = 0;
    const r = await simulate(
      design,
      {
        name: "race",
        durationMs: 1000,
        arrivals: () => [
          { at: 0, key: "k" },
          { at: 170, key: "k" },
        ],
        websocket: false,
        execMs: () => times[i++] ?? 77,
      },
      1,
    );
    expect(r.admitted).toBe(2);
    expect([...r.store.tableDocs("pendingUpdates")]).toEqual([]);
    const [state] = [...r.store.tableDocs("limitStates")];
    expect(state.value).toBeCloseTo(98, 0);
  });
});

/**
 * rateLimiter vs @convex-dev/rate-limiter 0.4.0: same process, same
 * scenarios, both components running in convex-test. Prints tables; asserts
 * nothing. Run with `npx tsx bench/rateLimiter.ts`.
 *
 * Time is simulated by replacing `Date.now` (both limiters read it), so five
 * minutes of greedy traffic take seconds and every run is reproducible.
 *
 * Over ~400 lines on purpose: one suite whose parts share the simulated
 * clock and the two components set up once at the top.
 */
import { RateLimiter as TheirLimiter } from "@convex-dev/rate-limiter";
import { convexTest } from "convex-test";
import {
  anyApi,
  componentsGeneric,
  defineSchema,
  mutationGeneric,
} from "convex/server";
import { v } from "convex/values";
import path from "node:path";
import { pathToFileURL } from "node:url";
import {
  MINUTE,
  RateLimiter,
  SECOND,
  type RateLimitConfig,
} from "../src/rateLimiter/client.js";
import ourSchema from "../src/rateLimiter/component/schema.js";
import type { ComponentApi } from "../src/rateLimiter/component/_generated/component.js";
import { silenceLogs } from "../src/shared/log.js";
import {
  appModules,
  benchSetup,
  median,
  printTable,
  sized,
} from "./harness.js";

/** Limits both packages understand (their config type is a subset of ours). */
const shared = {
  tb: { kind: "token bucket", rate: 100, period: MINUTE },
  tbSharded: { kind: "token bucket", rate: 100, period: MINUTE, shards: 10 },
  fw: { kind: "fixed window", rate: 100, period: MINUTE, start: 0 },
  fwSharded: {
    kind: "fixed window",
    rate: 100,
    period: MINUTE,
    shards: 10,
    start: 0,
  },
  fast: { kind: "token bucket", rate: 1_000_000, period: SECOND },
  fastWindow: {
    kind: "fixed window",
    rate: 1_000_000,
    period: SECOND,
    start: 0,
  },
  a: { kind: "token bucket", rate: 1000, period: MINUTE },
  b: { kind: "token bucket", rate: 1000, period: MINUTE },
  c: { kind: "token bucket", rate: 1000, period: MINUTE },
} as const;
const oursOnly = {
  sw: { kind: "sliding window", rate: 100, period: MINUTE, start: 0 },
  swSharded: {
    kind: "sliding window",
    rate: 100,
    period: MINUTE,
    shards: 10,
    start: 0,
  },
  gcra: { kind: "gcra", rate: 100, period: MINUTE },
  gcraSharded: { kind: "gcra", rate: 100, period: MINUTE, shards: 10 },
} as const satisfies Record<string, RateLimitConfig>;

const components = componentsGeneric() as unknown as {
  ours: ComponentApi<"ours">;
  theirs: ConstructorParameters<typeof TheirLimiter>[0];
};
const ours = new RateLimiter(components.ours, { ...shared, ...oursOnly });
const theirs = new TheirLimiter(components.theirs, shared);

type Impl = "ours" | "theirs";
const call = mutationGeneric({
  args: {
    impl: v.union(v.literal("ours"), v.literal("theirs")),
    name: v.string(),
    key: v.optional(v.string()),
    count: v.optional(v.number()),
  },
  handler: async (ctx, { impl, name, key, count }) => {
    const before = await ctx.meta.getTransactionMetrics();
    const r =
      impl === "ours"
        ? await (
            ours as unknown as RateLimiter<Record<string, RateLimitConfig>>
          ).limit(ctx, name, { key, count })
        : await theirs.limit(ctx, name as keyof typeof shared, { key, count });
    const after = await ctx.meta.getTransactionMetrics();
    return {
      ok: r.ok,
      retryAfter: r.retryAfter ?? null,
      reads: after.documentsRead.used - before.documentsRead.used,
      ranges: after.databaseQueries.used - before.databaseQueries.used,
      writes: after.documentsWritten.used - before.documentsWritten.used,
    };
  },
});

/**
 * The same call without `getTransactionMetrics`: the two metric syscalls are
 * identical for both and would only dilute the difference being measured.
 */
const callPlain = mutationGeneric({
  args: {
    impl: v.union(v.literal("ours"), v.literal("theirs")),
    name: v.string(),
    key: v.string(),
  },
  handler: async (ctx, { impl, name, key }) => {
    const r =
      impl === "ours"
        ? await (
            ours as unknown as RateLimiter<Record<string, RateLimitConfig>>
          ).limit(ctx, name, { key })
        : await theirs.limit(ctx, name as keyof typeof shared, { key });
    return r.ok;
  },
});

/** Three limits in one request: ours in one atomic component call, theirs in three. */
const callThree = mutationGeneric({
  args: {
    impl: v.union(v.literal("ours"), v.literal("theirs")),
    key: v.string(),
  },
  handler: async (ctx, { impl, key }) => {
    const before = await ctx.meta.getTransactionMetrics();
    let componentCalls = 0;
    if (impl === "ours") {
      await ours.limitAll(ctx, [
        { name: "a", key },
        { name: "b", key },
        { name: "c" },
      ]);
      componentCalls = 1;
    } else {
      for (const [name, k] of [
        ["a", key],
        ["b", key],
        ["c", undefined],
      ] as const) {
        await theirs.limit(ctx, name, { key: k });
        componentCalls++;
      }
    }
    const after = await ctx.meta.getTransactionMetrics();
    return {
      componentCalls,
      reads: after.documentsRead.used - before.documentsRead.used,
      ranges: after.databaseQueries.used - before.databaseQueries.used,
      writes: after.documentsWritten.used - before.documentsWritten.used,
    };
  },
});

/**
 * convex-test calls a module's loader on every function call; through tsx each
 * `import()` is a round trip to the loader thread that would dominate the
 * timings. Loading each module once measures the limiters instead.
 */
function loadOnce(modules: Record<string, () => Promise<unknown>>) {
  const cache = new Map<string, Promise<unknown>>();
  return Object.fromEntries(
    Object.entries(modules).map(([key, load]) => [
      key,
      () => {
        if (!cache.has(key)) cache.set(key, load());
        return cache.get(key)!;
      },
    ]),
  );
}

const sides = benchSetup(
  "rateLimiter",
  "@convex-dev/rate-limiter/dist/component",
);
const ourModules = loadOnce(sides.ourModules());
const theirDir = sides.theirDir;
const theirModules = loadOnce(sides.theirModules());
const theirSchema = await sides.theirSchema();
const modules = appModules({ bench: { call, callThree, callPlain } });

function fresh() {
  const t = convexTest(defineSchema({}), modules);
  t.registerComponent("ours", ourSchema, ourModules);
  t.registerComponent("theirs", theirSchema, theirModules);
  return t;
}
const api = anyApi.bench;

// Simulated clock.
const realNow = Date.now.bind(Date);
let simNow: number | null = null;
// Simulated time starts at the real clock (on a minute boundary, so fixed windows
// with `start: 0` align): scheduled sweeps then get sane real-time delays.
const T0 = Math.ceil(realNow() / MINUTE) * MINUTE;

type Result = {
  ok: boolean;
  retryAfter: number | null;
  reads: number;
  ranges: number;
  writes: number;
};
async function hit(
  t: ReturnType<typeof fresh>,
  impl: Impl,
  name: string,
  key?: string,
): Promise<Result> {
  return t.mutation(api.call, {
    impl,
    name,
    ...(key !== undefined ? { key } : {}),
  });
}

async function costs() {
  const rows: Array<Record<string, string | number>> = [];
  const measure = async (
    label: string,
    name: string,
    run: (t: ReturnType<typeof fresh>, impl: Impl) => Promise<Result>,
  ) => {
    const row: Record<string, string | number> = { scenario: label };
    for (const impl of ["ours", "theirs"] as const) {
      simNow = T0;
      const t = fresh();
      const r = await run(t, impl);
      row[`${impl} docs read`] = r.reads;
      row[`${impl} index ranges`] = r.ranges;
      row[`${impl} writes`] = r.writes;
    }
    rows.push(row);
    void name;
  };
  await measure("unsharded, admitted (existing key)", "tb", async (t, impl) => {
    await hit(t, impl, "tb", "k");
    return hit(t, impl, "tb", "k");
  });
  await measure(
    "unsharded, very first call (creates sweep marker)",
    "tb",
    (t, impl) => hit(t, impl, "tb", "new"),
  );
  await measure("unsharded, first call on a new key", "tb", async (t, impl) => {
    await hit(t, impl, "tb", "older");
    return hit(t, impl, "tb", "new");
  });
  await measure("unsharded, denied", "tb", async (t, impl) => {
    for (let i = 0; i < 100; i++) await hit(t, impl, "tb", "k");
    return hit(t, impl, "tb", "k");
  });
  await measure(
    "10 shards, admitted (median of 50)",
    "tbSharded",
    async (t, impl) => {
      for (let i = 0; i < 20; i++) await hit(t, impl, "tbSharded");
      const rs: Result[] = [];
      for (let i = 0; i < 50; i++) rs.push(await hit(t, impl, "tbSharded"));
      return {
        ok: true,
        retryAfter: null,
        reads: median(rs.map((r) => r.reads)),
        ranges: median(rs.map((r) => r.ranges)),
        writes: median(rs.map((r) => r.writes)),
      };
    },
  );
  await measure("10 shards, denied", "tbSharded", async (t, impl) => {
    let r = await hit(t, impl, "tbSharded");
    for (let i = 0; i < 200 && r.ok; i++) r = await hit(t, impl, "tbSharded");
    return r;
  });
  printTable(
    "rateLimiter: documents per limit() call (getTransactionMetrics deltas)",
    rows,
  );

  const three: Array<Record<string, string | number>> = [];
  for (const impl of ["ours", "theirs"] as const) {
    simNow = T0;
    const t = fresh();
    await t.mutation(api.callThree, { impl, key: "u" });
    const r = await t.mutation(api.callThree, { impl, key: "u" });
    three.push({
      impl,
      "component calls": r.componentCalls,
      "docs read": r.reads,
      "index ranges": r.ranges,
      writes: r.writes,
      atomic:
        impl === "ours"
          ? "yes (all or nothing)"
          : "no (earlier limits stay consumed)",
    });
  }
  printTable(
    "rateLimiter: 3 limits (2 per-user + 1 global) in one request",
    three,
  );
}

async function throughput() {
  simNow = null;
  const rows: Array<Record<string, string | number>> = [];
  const ROUNDS = sized(10, 1);
  const PER_ROUND = sized(400, 10);
  const WARMUP = sized(300, 5);
  for (const [label, name, keys] of [
    ["token bucket, 1 key", "fast", 1],
    ["token bucket, 1000 keys", "fast", 1000],
    ["fixed window, 1 key", "fastWindow", 1],
    ["fixed window, 1000 keys", "fastWindow", 1000],
  ] as const) {
    const instances = { ours: fresh(), theirs: fresh() };
    const keyAt = (i: number) => (keys === 1 ? "k" : `k${(i * 7) % keys}`);
    const plain = (impl: Impl, i: number) =>
      instances[impl].mutation(api.callPlain, { impl, name, key: keyAt(i) });
    // Steady state: every key already has its state document. Then a warm-up
    // of the measured call on both, so neither pays for JIT compilation.
    for (const impl of ["ours", "theirs"] as const) {
      for (let i = 0; i < keys; i++)
        await hit(instances[impl], impl, name, keys === 1 ? "k" : `k${i}`);
      for (let i = 0; i < WARMUP; i++) await plain(impl, i);
    }
    // Rounds alternate blocks of calls: ours then theirs, then theirs then
    // ours (ABBA...), so drift and load from other processes on this shared
    // machine hit both alike. Within a block one implementation runs alone, so
    // the garbage collection its own calls cause is (mostly) charged to it;
    // interleaving single calls would split every pause between the two.
    // Each round gives a rate per implementation and a ratio; medians are
    // reported.
    const rates: Record<Impl, number[]> = { ours: [], theirs: [] };
    const ratios: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const rate: Record<Impl, number> = { ours: 0, theirs: 0 };
      for (const impl of round % 2 === 0
        ? (["ours", "theirs"] as const)
        : (["theirs", "ours"] as const)) {
        const first = round * PER_ROUND;
        const started = performance.now();
        for (let i = first; i < first + PER_ROUND; i++) await plain(impl, i);
        rate[impl] = (PER_ROUND / (performance.now() - started)) * 1000;
      }
      rates.ours.push(rate.ours);
      rates.theirs.push(rate.theirs);
      ratios.push(rate.ours / rate.theirs);
    }
    rows.push({
      scenario: label,
      "ours calls/s": Math.round(median(rates.ours)),
      "theirs calls/s": Math.round(median(rates.theirs)),
      "ours / theirs (median)": median(ratios),
      "min ratio": Math.min(...ratios),
      "max ratio": Math.max(...ratios),
    });
  }
  printTable(
    `rateLimiter: calls per second in convex-test (median of ${ROUNDS} rounds; a round is ${PER_ROUND} calls of each, in alternating order)`,
    rows,
  );
}

/**
 * The limiters' own work per call, without convex-test: each decision engine
 * over an in-memory document, and each client class over a stub ctx.
 */
async function ownCode() {
  const { decideAll } = await import("../src/rateLimiter/component/engine.js");
  const { Ledger } = await import("../src/rateLimiter/component/ledger.js");
  const internal = (await import(
    pathToFileURL(path.join(theirDir, "internal.js")).href
  )) as {
    checkRateLimitOrThrow: (db: unknown, args: unknown) => Promise<unknown>;
  };
  const doc = {
    _id: "x",
    name: "fast",
    key: "k",
    shard: 0,
    value: 5,
    ts: realNow(),
    fullAt: 0,
  };
  const db = {
    query: () => ({
      withIndex: () => ({ unique: async () => doc, first: async () => doc }),
    }),
  };
  const config = shared.fast;
  const stubCtx = {
    runMutation: async () => ({ ok: true }),
    runQuery: async () => ({ ok: true }),
  } as unknown as Parameters<typeof ours.limit>[0];
  const stubComponent = { lib: { limit: "l", rateLimit: "r", limitAll: "a" } };
  const ourClient = new RateLimiter(stubComponent as unknown as ComponentApi, {
    fast: config,
  });
  const theirClient = new TheirLimiter(
    stubComponent as unknown as typeof components.theirs,
    { fast: config },
  );
  const N = sized(50_000, 100);
  const ROUNDS = sized(5, 1);
  const cpuMicros = () => {
    const u = process.cpuUsage();
    return u.user + u.system;
  };
  /**
   * CPU µs per call of `ours` and `theirs`: the median of alternating rounds
   * of N calls each. CPU time, not wall time, so the machine's other load
   * (a shared CI box) does not land on whichever ran while it peaked.
   */
  const compare = async (
    part: string,
    fns: { ours: () => Promise<unknown>; theirs: () => Promise<unknown> },
  ) => {
    const runs = { ours: [] as number[], theirs: [] as number[] };
    for (let round = 0; round < ROUNDS; round++)
      for (const impl of round % 2 === 0
        ? (["ours", "theirs"] as const)
        : (["theirs", "ours"] as const)) {
        const started = cpuMicros();
        for (let i = 0; i < N; i++) await fns[impl]();
        runs[impl].push((cpuMicros() - started) / N);
      }
    const ours = median(runs.ours);
    const theirs = median(runs.theirs);
    return {
      part,
      "ours µs/call": ours,
      "theirs µs/call": theirs,
      "ours / theirs (speed)": theirs / ours,
    };
  };
  simNow = null;
  const rows = [
    await compare("decision engine (one admitted request)", {
      ours: () =>
        decideAll(
          new Ledger(db as never),
          [{ name: "fast", key: "k", config }],
          realNow(),
          { write: true },
        ),
      theirs: () =>
        internal.checkRateLimitOrThrow(db, { name: "fast", key: "k", config }),
    }),
    await compare("client class (limit() over a stub ctx)", {
      ours: () => ourClient.limit(stubCtx, "fast", { key: "k" }),
      theirs: () =>
        theirClient.limit(
          stubCtx as unknown as Parameters<typeof theirs.limit>[0],
          "fast",
          { key: "k" },
        ),
    }),
  ];
  printTable(
    `rateLimiter: own code per call, no convex-test (CPU time; median of ${ROUNDS} alternating rounds of ${N})`,
    rows,
  );
}

/** Greedy client: calls every `step` ms for five simulated minutes. */
async function greedy(
  impl: Impl,
  name: string,
  step: number,
  duration: number,
) {
  const t = fresh();
  let admitted = 0;
  for (let at = 0; at <= duration; at += step) {
    simNow = T0 + at;
    if ((await hit(t, impl, name)).ok) admitted++;
  }
  return admitted;
}

async function admission() {
  const rows: Array<Record<string, string | number>> = [];
  const duration = sized(5 * MINUTE, 10_000) - 1;
  const step = 300;
  const cases: Array<[string, string, number, boolean]> = [
    // label, name, theoretical bound over [0, 5 min), anchor supports it
    ["token bucket", "tb", 100 + Math.floor((100 * duration) / MINUTE), true],
    [
      "token bucket, 10 shards",
      "tbSharded",
      100 + Math.floor((100 * duration) / MINUTE),
      true,
    ],
    ["fixed window", "fw", 5 * 100, true],
    ["fixed window, 10 shards", "fwSharded", 5 * 100, true],
    ["gcra", "gcra", 100 + Math.floor((100 * duration) / MINUTE), false],
    [
      "gcra, 10 shards",
      "gcraSharded",
      100 + Math.floor((100 * duration) / MINUTE),
      false,
    ],
    ["sliding window", "sw", 5 * 100, false],
    ["sliding window, 10 shards", "swSharded", 5 * 100, false],
  ];
  for (const [label, name, bound, both] of cases) {
    const o = await greedy("ours", name, step, duration);
    const row: Record<string, string | number> = {
      limit: label,
      bound,
      ours: o,
      "ours % of bound": (100 * o) / bound,
    };
    if (both) {
      const th = await greedy("theirs", name, step, duration);
      row.theirs = th;
      row["theirs % of bound"] = (100 * th) / bound;
    } else {
      row.theirs = "n/a";
      row["theirs % of bound"] = "n/a";
    }
    rows.push(row);
  }
  printTable(
    "rateLimiter: greedy client, one call every 300 ms for 5 simulated minutes",
    rows,
  );
}

async function retries() {
  const rows: Array<Record<string, string | number>> = [];
  const cases: Array<[string, string, boolean]> = [
    ["token bucket", "tb", true],
    ["token bucket, 10 shards", "tbSharded", true],
    ["fixed window", "fw", true],
    ["fixed window, 10 shards", "fwSharded", true],
    ["gcra, 10 shards", "gcraSharded", false],
    ["sliding window, 10 shards", "swSharded", false],
  ];
  const target = sized(100, 1);
  for (const [label, name, both] of cases) {
    const row: Record<string, string | number> = { limit: label };
    for (const impl of ["ours", "theirs"] as const) {
      if (impl === "theirs" && !both) {
        row[`${impl} first retries ok`] = "n/a";
        continue;
      }
      const t = fresh();
      let now = T0;
      let tries = 0;
      let ok = 0;
      for (let i = 0; i < 20_000 && tries < target; i++) {
        simNow = now;
        const r = await hit(t, impl, name);
        if (r.ok) {
          now += 50; // keep draining
          continue;
        }
        now += Math.ceil(r.retryAfter ?? 0);
        simNow = now;
        tries++;
        if ((await hit(t, impl, name)).ok) ok++;
      }
      row[`${impl} first retries ok`] =
        `${ok}/${tries} (${((100 * ok) / Math.max(1, tries)).toFixed(1)}%)`;
    }
    rows.push(row);
  }
  printTable(
    "rateLimiter: client waits exactly retryAfter, then retries once",
    rows,
  );
}

/** Runs the whole rateLimiter benchmark suite. */
export default async function main(): Promise<void> {
  const originalNow = Date.now;
  const originalSetTimeout = globalThis.setTimeout;
  // Scheduled sweeps are set minutes ahead in simulated time; unref'd timers
  // keep them from holding the process open after the bench.
  globalThis.setTimeout = ((
    fn: () => void,
    ms?: number,
    ...rest: unknown[]
  ) => {
    const handle = originalSetTimeout(fn, ms, ...(rest as []));
    (handle as { unref?: () => void }).unref?.();
    return handle;
  }) as typeof setTimeout;
  Date.now = () => simNow ?? realNow();
  const restoreLogs = silenceLogs();
  const started = realNow();
  try {
    await costs();
    await throughput();
    await ownCode();
    await admission();
    await retries();
  } finally {
    restoreLogs();
    Date.now = originalNow;
    globalThis.setTimeout = originalSetTimeout;
    simNow = null;
  }
  console.log(
    `\nrateLimiter bench finished in ${((realNow() - started) / 1000).toFixed(1)} s`,
  );
}

await main();

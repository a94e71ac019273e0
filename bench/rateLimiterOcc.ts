/**
 * Hot keys under Convex's OCC: every design's real read and write sets
 * (see `occ/`) under concurrent arrivals. Prints one table; asserts nothing.
 * `npm run bench -- rateLimiterOcc` (add `--quick` for short runs, < 20 s).
 */
import { MINUTE } from "../src/rateLimiter/client.js";
import type { RateLimitConfig } from "../src/rateLimiter/shared/config.js";
import { suggestShards } from "../src/rateLimiter/client/shards.js";
import {
  oursAsync,
  oursStrict,
  theirsAsync,
  theirsSync,
  type SimDesign,
  type SimLimit,
} from "./occ/designs.js";
import { percentile, poisson, simulate, type Scenario } from "./occ/sim.js";
import { printTable } from "./harness.js";

const quick =
  process.argv.includes("--quick") || process.env.OPSKIT_BENCH_QUICK === "1";
const seconds = quick ? 4 : 15;
const SEED = 42;

type Case = {
  scenario: string;
  limit: SimLimit;
  load: string;
  /** The most a correct strict limit may admit on `key` by `endMs`. */
  bound: (key: string, endMs: number) => number;
  make: (durationMs: number) => Scenario;
};

const tb = (shards: number): RateLimitConfig => ({
  kind: "token bucket",
  rate: 3000,
  period: MINUTE,
  shards,
});

/** One hot key, drained, Poisson at `perSecond` (the table). */
function hotKey(shards: number, perSecond: number): Case {
  return {
    scenario: "one hot key (drained)",
    limit: { name: "api", config: tb(shards) },
    load: `${perSecond}/s`,
    bound: (_key, end) => (3000 * end) / MINUTE,
    make: (durationMs) => ({
      name: "hot",
      durationMs,
      arrivals: poisson(perSecond, durationMs),
      websocket: true,
      drained: ["hot"],
    }),
  };
}

/**
 * The incident: ~108 calls/s over all keys of a 3,000/min fixed window; the
 * anonymous key takes 60 %, the rest spread over 2,000 users; HTTP callers.
 */
function incident(shards: number): Case {
  const config: RateLimitConfig = {
    kind: "fixed window",
    rate: 3000,
    period: MINUTE,
    shards,
    // The window resets 5 s in: a burst of admits after a drained window.
    start: 5000,
  };
  const durationMs = (quick ? 10 : 30) * 1000;
  return {
    scenario: "incident: anon key + users, fixed window",
    limit: { name: "anonymous", config },
    load: "108/s",
    bound: (key, end) =>
      key === "anon"
        ? 3000 * Math.ceil((end - 5000) / MINUTE)
        : 3000 * Math.ceil((end + MINUTE) / MINUTE),
    make: () => ({
      name: "incident",
      durationMs,
      arrivals: poisson(108, durationMs, (_i, r) =>
        r() < 0.6 ? "anon" : `user${Math.floor(r() * 2000)}`,
      ),
      websocket: false,
      drained: ["anon"],
      drainedTs: 5000 - MINUTE,
    }),
  };
}

/** A global key (no per-user key) at login: bursts of 150 calls in 100 ms every second. */
function globalBurst(shards: number): Case {
  return {
    scenario: "global key, bursts",
    limit: {
      name: "login",
      config: { kind: "token bucket", rate: 6000, period: MINUTE, shards },
    },
    load: "150 per 100 ms, 1/s",
    bound: (_key, end) => (6000 * end) / MINUTE,
    make: (durationMs) => ({
      name: "burst",
      durationMs,
      arrivals: (r) => {
        const out: Array<{ at: number; key: string }> = [];
        for (let s = 0; s < durationMs; s += 1000)
          for (let i = 0; i < 150; i++)
            out.push({ at: s + 100 * r(), key: "global" });
        return out.sort((a, b) => a.at - b.at);
      },
      websocket: true,
      drained: ["global"],
    }),
  };
}

/** Many keys: 200 calls/s over 1,000 users of a small per-user limit. */
function manyKeys(): Case {
  return {
    scenario: "many keys (1,000 users)",
    limit: {
      name: "perUser",
      config: { kind: "token bucket", rate: 10, period: MINUTE },
    },
    load: "200/s",
    bound: (_key, end) => 10 + (10 * end) / MINUTE,
    make: (durationMs) => ({
      name: "many",
      durationMs,
      arrivals: poisson(
        200,
        durationMs,
        (_i, r) => `u${Math.floor(r() * 1000)}`,
      ),
      websocket: true,
    }),
  };
}

const cases: Case[] = [];
for (const shards of [16, 32, 64])
  for (const load of [50, 100, 200]) cases.push(hotKey(shards, load));
for (const shards of [16, 32, 64]) cases.push(incident(shards));
cases.push(globalBurst(16), manyKeys());

const started = performance.now();
const rows: Array<Record<string, string | number>> = [];
for (const c of cases) {
  const sixteen =
    (c.limit.config.shards ?? 1) === 16 || c.scenario.startsWith("many");
  const designs: SimDesign[] = [await theirsSync(c.limit)];
  // The 0.1 rule reads every shard per denial: slow to replay, shown at 16
  // shards in --quick runs.
  if (!quick || sixteen) designs.push(oursStrict(c.limit, true));
  designs.push(oursStrict(c.limit));
  if (sixteen) designs.push(await theirsAsync(c.limit), oursAsync(c.limit));
  for (const design of designs) {
    const scenario = c.make(seconds * 1000);
    const res = await simulate(design, scenario, SEED);
    let over = 0;
    let maxKey = "";
    let maxAdmitted = 0;
    for (const [key, n] of res.admittedByKey) {
      over = Math.max(over, n - c.bound(key, res.lastStart));
      if (n > maxAdmitted) [maxKey, maxAdmitted] = [key, n];
    }
    const attempts = res.attempts || 1;
    rows.push({
      scenario: c.scenario,
      shards: c.limit.config.shards ?? 1,
      load: c.load,
      design: design.name,
      "failed %": ((100 * res.failed) / res.calls).toFixed(2),
      "retries p50": percentile(res.retries, 50),
      "retries p99": percentile(res.retries, 99),
      "admitted (hottest key)": maxAdmitted,
      bound: Math.floor(c.bound(maxKey, res.lastStart)),
      "over bound": Math.max(0, Math.ceil(over)),
      "docs read/attempt": (res.docsRead / attempts).toFixed(1),
      "docs written/call": (res.docsWritten / res.calls).toFixed(2),
    });
    if (process.argv.includes("--progress"))
      console.error(JSON.stringify(rows[rows.length - 1]));
  }
}
printTable(
  `OCC simulation (${seconds} s per run${quick ? ", --quick" : ""}, seed ${SEED}; ` +
    "exec 50–104 ms; 5 attempts, backoff min(100·2^k, 2000)·U[0,1) ms)",
  rows,
);

const suggestions = [10, 50, 108, 200].map((callsPerSecond) => ({
  "rate/min": 3000,
  "calls/s": callsPerSecond,
  suggestShards: suggestShards({ rate: 3000, period: MINUTE, callsPerSecond }),
}));
printTable("suggestShards for a 3,000/min limit", suggestions);
console.log(
  `(simulation: ${((performance.now() - started) / 1000).toFixed(1)} s)`,
);

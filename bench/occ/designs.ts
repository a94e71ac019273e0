/**
 * The designs the OCC simulation compares, each running its package's real
 * component handlers (`registered._handler`) against the recording store:
 * convex-opskit strict and asynchronous, convex-opskit with the 0.1 rule
 * (every sharded denial reads every shard), and `@convex-dev/rate-limiter`
 * 0.4.0 sync and async.
 *
 * One piece is modelled rather than run: the anchor's async mode wakes
 * `@convex-dev/batch-worker` with `ping`, whose own documents live in another
 * component. Its read/write set is reproduced from that package's source
 * (`kick.js`: `ping` reads the `workers` document by name and writes it only
 * when the worker is idle; the loop marks it idle when it finds no work).
 */
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { getFunctionName } from "convex/server";
import type { RateLimitConfig } from "../../src/rateLimiter/shared/config.js";
import * as ourLib from "../../src/rateLimiter/component/lib.js";
import * as ourAsync from "../../src/rateLimiter/component/async.js";
import { tuning } from "../../src/rateLimiter/component/hot.js";
import type { AttemptCtx, Design } from "./sim.js";
import type { Schema, Transaction } from "./store.js";

type Handler = (ctx: unknown, args: unknown) => Promise<unknown>;
const handler = (fn: unknown) => (fn as { _handler: Handler })._handler;

const root = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../..",
);
const anchorDir = path.join(
  root,
  "node_modules/@convex-dev/rate-limiter/dist/component",
);

/** The anchor's component modules (its package exports only the client). */
async function anchor() {
  const lib = await import(pathToFileURL(path.join(anchorDir, "lib.js")).href);
  const worker = await import(
    pathToFileURL(path.join(anchorDir, "worker.js")).href
  );
  return { lib, worker };
}

const ourSchema: Schema = {
  limitStates: {
    by_name_key_shard: ["name", "key", "shard"],
    by_fullAt: ["fullAt"],
  },
  sweeps: {},
  pendingUpdates: {},
  drains: {},
};

const theirSchema: Schema = {
  rateLimits: { name: ["name", "key", "shard"] },
  pendingUpdates: { updatedAt: ["updatedAt"] },
  workers: { name: ["name"] },
};

/** A limit as the simulation runs it. */
export type SimLimit = { name: string; config: RateLimitConfig };

function scheduler(ctx: AttemptCtx) {
  const schedule = (delay: number, ref: unknown) => {
    if (getFunctionName(ref as never).endsWith("drain"))
      ctx.scheduleWorker(delay);
  };
  return {
    runAfter: async (delay: number, ref: unknown) => schedule(delay, ref),
    runAt: async (at: number, ref: unknown) => schedule(at - ctx.now, ref),
  };
}

/**
 * Writes a drained state for `key` (value 0 at time 0 on every shard), so a
 * scenario starts in sustained overload instead of spending a minute
 * draining a full bucket.
 */
export type Prime = (
  tx: Transaction,
  key: string,
  ts?: number,
) => Promise<void>;

/**
 * Primes each shard of `key` with an empty row of `table`: the fields both
 * packages store, plus `extra(shards)` (ours also stores `fullAt` and the
 * shard count).
 */
function primeRows(
  limit: SimLimit,
  table: string,
  extra: (shards: number) => Record<string, unknown> = () => ({}),
): Prime {
  return async (tx, key, ts = 0) => {
    const shards = limit.config.shards ?? 1;
    for (let shard = 0; shard < shards; shard++)
      await tx.db.insert(table, {
        name: limit.name,
        key,
        shard,
        value: 0,
        ts,
        ...extra(shards),
      });
  };
}

function primeOurs(limit: SimLimit): Prime {
  return primeRows(limit, "limitStates", (shards) => ({ fullAt: 0, shards }));
}

function primeTheirs(limit: SimLimit): Prime {
  return primeRows(limit, "rateLimits");
}

/** A design plus how to prime a key drained. */
export type SimDesign = Design & { prime: Prime };

/** convex-opskit, transactional (`legacy`: the 0.1 rule, exact denials from every shard). */
export function oursStrict(limit: SimLimit, legacy = false): SimDesign {
  const limitHandler = handler(ourLib.limit);
  return {
    name: legacy ? "opskit 0.1 (exact denials)" : "opskit strict",
    schema: ourSchema,
    prime: primeOurs(limit),
    async call(ctx, key) {
      const saved = tuning.hotTokensPerSecond;
      if (legacy) tuning.hotTokensPerSecond = Infinity;
      try {
        const r = (await limitHandler(
          { db: ctx.tx.db, scheduler: scheduler(ctx) },
          { name: limit.name, key, config: limit.config },
        )) as { ok: boolean };
        return r.ok ? "admitted" : "denied";
      } finally {
        tuning.hotTokensPerSecond = saved;
      }
    },
  };
}

/** convex-opskit, `applyUpdates: "asynchronously"` (stale check, queue, drain). */
export function oursAsync(limit: SimLimit): SimDesign {
  const config = { ...limit.config, applyUpdates: "asynchronously" } as const;
  const { shards: _shards, ...unsharded } = config;
  void _shards;
  const check = handler(ourLib.check);
  const enqueue = handler(ourAsync.enqueue);
  const drain = handler(ourAsync.drain);
  const pending = handler(ourAsync.pending);
  return {
    name: "opskit async",
    schema: ourSchema,
    prime: primeOurs({ ...limit, config: { ...limit.config, shards: 1 } }),
    async call(ctx, key) {
      const args = { name: limit.name, key, config: unsharded };
      // The client's stale check, then the queued consumption.
      const r = (await check({ db: ctx.stale.db }, args)) as { ok: boolean };
      if (!r.ok) return "denied";
      await enqueue({ db: ctx.tx.db, scheduler: scheduler(ctx) }, args);
      return "admitted";
    },
    async worker(ctx) {
      await drain(
        {
          db: ctx.tx.db,
          scheduler: scheduler(ctx),
          runQuery: async (
            _ref: unknown,
            args: unknown,
            options?: { useStaleSnapshot?: boolean },
          ) =>
            pending(
              { db: options?.useStaleSnapshot ? ctx.stale.db : ctx.tx.db },
              args,
            ),
        },
        {},
      );
    },
  };
}

/** `@convex-dev/rate-limiter` 0.4.0, transactional. */
export async function theirsSync(limit: SimLimit): Promise<SimDesign> {
  const { lib } = await anchor();
  const rateLimit = handler(lib.rateLimit);
  return {
    name: "anchor sync",
    schema: theirSchema,
    prime: primeTheirs(limit),
    async call(ctx, key) {
      const r = (await rateLimit(
        { db: ctx.tx.db },
        { name: limit.name, key, config: limit.config },
      )) as { ok: boolean };
      return r.ok ? "admitted" : "denied";
    },
  };
}

/** `@convex-dev/rate-limiter` 0.4.0, `applyUpdates: "asynchronously"`. */
export async function theirsAsync(limit: SimLimit): Promise<SimDesign> {
  const { lib, worker } = await anchor();
  const { shards: _shards, ...unsharded } = limit.config;
  void _shards;
  const config = { ...unsharded, applyUpdates: "asynchronously" };
  const check = handler(lib.checkRateLimit);
  const enqueueUpdates = handler(lib.enqueueUpdates);
  const processBatch = handler(worker.processBatch);
  /** batch-worker's `ping`, modelled (see the file header). */
  const ping = async (ctx: AttemptCtx) => {
    const doc = await ctx.tx.db
      .query("workers")
      .withIndex("name", (q) => q.eq("name", "rateLimiter"))
      .unique();
    if (doc === null) {
      await ctx.tx.db.insert("workers", {
        name: "rateLimiter",
        status: "running",
      });
      ctx.scheduleWorker(0);
    } else if (doc.status === "idle") {
      await ctx.tx.db.patch("workers", doc._id, { status: "running" });
      ctx.scheduleWorker(0);
    }
  };
  return {
    name: "anchor async",
    schema: theirSchema,
    prime: primeTheirs({ ...limit, config: unsharded }),
    async call(ctx, key) {
      const args = { name: limit.name, key, config };
      const r = (await check({ db: ctx.stale.db }, args)) as { ok: boolean };
      if (!r.ok) return "denied";
      const g = globalThis as { Convex?: unknown };
      const saved = g.Convex;
      // `pingWorker` makes function handles first; any string will do here.
      g.Convex = {
        asyncSyscall: async () => JSON.stringify("function://handle"),
        syscall: () => JSON.stringify(null),
      };
      try {
        await enqueueUpdates(
          {
            db: ctx.tx.db,
            runMutation: async () => ping(ctx),
          },
          {
            updates: [
              {
                kind: "consume",
                name: limit.name,
                key,
                count: 1,
                config,
                ts: ctx.now,
              },
            ],
          },
        );
      } finally {
        g.Convex = saved;
      }
      return "admitted";
    },
    async worker(ctx) {
      // The loop's work query is a query: a stale read, not validated.
      const docs = await ctx.stale.db
        .query("pendingUpdates")
        .withIndex("updatedAt")
        .take(1024);
      if (docs.length === 0) {
        const w = await ctx.tx.db
          .query("workers")
          .withIndex("name", (q) => q.eq("name", "rateLimiter"))
          .unique();
        if (w) await ctx.tx.db.patch("workers", w._id, { status: "idle" });
        return;
      }
      await processBatch(
        { db: ctx.tx.db },
        {
          updates: docs.map((d) => ({ id: d._id, update: d.update })),
        },
      );
      ctx.scheduleWorker(0);
    },
  };
}

/**
 * A discrete-event model of Convex's optimistic concurrency control, driven
 * by the read and write sets of real handlers (see `store.ts`). Pure and
 * deterministic: a seeded RNG drives arrivals, execution times, backoff and
 * the handlers' own `Math.random`; `Date.now` inside a handler is the
 * attempt's start time.
 *
 * Commit rules modelled (checked in get-convex/convex-backend):
 * - an attempt reads a snapshot taken when it starts and commits
 *   `execMs` later; it conflicts if a write committed in between touches
 *   one of its read ranges (`committer.rs`);
 * - an attempt that wrote nothing is not validated and cannot conflict
 *   (`committer.rs`: `is_readonly`), unless the scenario says calls come
 *   from websocket clients, whose mutations always write a session row;
 * - a conflicting call is retried up to 4 times (`knobs.rs`:
 *   UDF_EXECUTOR_OCC_MAX_RETRIES = 4) after `min(100 ms · 2^k, 2 s) · U[0,1)`
 *   (`backoff.rs`, UDF_EXECUTOR_OCC_INITIAL_BACKOFF/MAX_BACKOFF), each
 *   attempt re-running the handler with fresh randomness and clock;
 * - scheduled (worker) mutations are retried until they commit.
 * Left out: commits already assigned a timestamp but not yet published
 * (folded into `execMs`), the committer's own queueing, index write
 * amplification, and any cross-deployment clock skew.
 */
import {
  Store,
  Transaction,
  conflicts,
  type Schema,
  type Write,
} from "./store.js";

/** Deterministic RNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What a design's call or worker step can use. */
export type AttemptCtx = {
  /** Fresh reads: recorded in the read set. */
  tx: Transaction;
  /** Stale reads (`useStaleSnapshot`): not recorded. */
  stale: Transaction;
  now: number;
  /** Asks the simulation to run the design's worker `delay` ms after this attempt commits. */
  scheduleWorker(delay: number): void;
};

/** A rate-limit design: how one call (and its background worker, if any) runs. */
export type Design = {
  name: string;
  schema: Schema;
  call(ctx: AttemptCtx, key: string): Promise<"admitted" | "denied">;
  /** One worker run; it schedules the next one itself via `scheduleWorker`. */
  worker?(ctx: AttemptCtx): Promise<void>;
  /** Writes a drained state for `key` before the scenario starts. */
  prime?(tx: Transaction, key: string, ts?: number): Promise<void>;
};

/** A load pattern. */
export type Scenario = {
  name: string;
  durationMs: number;
  /** Keys and their arrival processes. */
  arrivals: (r: () => number) => Array<{ at: number; key: string }>;
  /** Calls come from websocket clients: a read-only attempt is validated too. */
  websocket: boolean;
  /** Ms between an attempt's snapshot and its commit. */
  execMs?: (r: () => number) => number;
  /** Keys that start drained (sustained overload from the first call). */
  drained?: string[];
  /** The drained states' `ts` (a fixed window's window start). */
  drainedTs?: number;
};

/** Figures for one design under one scenario. */
export type SimResult = {
  calls: number;
  admitted: number;
  denied: number;
  failed: number;
  /** Retries per call, over all calls. */
  retries: number[];
  admittedByKey: Map<string, number>;
  docsRead: number;
  docsWritten: number;
  attempts: number;
  workerRuns: number;
  /** When the last call attempt started (retries run past the arrivals). */
  lastStart: number;
  /** The documents at the end of the run. */
  store: Store;
};

/** Poisson arrivals at `perSecond` on `key` over `durationMs`. */
export function poisson(
  perSecond: number,
  durationMs: number,
  key: (i: number, r: () => number) => string = () => "hot",
) {
  return (r: () => number) => {
    const out: Array<{ at: number; key: string }> = [];
    let t = 0;
    for (let i = 0; ; i++) {
      t += (-Math.log(1 - r()) / perSecond) * 1000;
      if (t >= durationMs) return out;
      out.push({ at: t, key: key(i, r) });
    }
  };
}

/** The default execution time: 50–104 ms, mean 77 ms (the incident's figure). */
export const defaultExecMs = (r: () => number) => 50 + 54 * r();

type Event =
  | { at: number; kind: "start"; call: number; attempt: number; worker?: false }
  | { at: number; kind: "start"; call: -1; attempt: number; worker: true }
  | { at: number; kind: "commit"; run: Running };

type Running = {
  call: number;
  attempt: number;
  worker: boolean;
  tx: Transaction;
  startedAt: number;
  outcome: "admitted" | "denied" | null;
  schedule: number[];
};

class Heap {
  private items: Array<{ e: Event; seq: number }> = [];
  private seq = 0;
  get size() {
    return this.items.length;
  }
  private less(a: { e: Event; seq: number }, b: { e: Event; seq: number }) {
    return a.e.at < b.e.at || (a.e.at === b.e.at && a.seq < b.seq);
  }
  push(e: Event) {
    const items = this.items;
    items.push({ e, seq: this.seq++ });
    let i = items.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(items[i], items[p])) break;
      [items[i], items[p]] = [items[p], items[i]];
      i = p;
    }
  }
  pop(): Event {
    const items = this.items;
    const top = items[0];
    const last = items.pop()!;
    if (items.length > 0) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < items.length && this.less(items[l], items[m])) m = l;
        if (r < items.length && this.less(items[r], items[m])) m = r;
        if (m === i) break;
        [items[i], items[m]] = [items[m], items[i]];
        i = m;
      }
    }
    return top.e;
  }
}

/** Convex's OCC retry backoff before attempt `k + 2` (k = failures so far - 1). */
export function backoffMs(k: number, r: () => number): number {
  return Math.min(100 * 2 ** k, 2000) * r();
}

/** Attempts Convex makes before a mutation fails terminally. */
export const MAX_ATTEMPTS = 5;

/** Runs `design` under `scenario` with `seed`. */
export async function simulate(
  design: Design,
  scenario: Scenario,
  seed: number,
): Promise<SimResult> {
  const r = rng(seed);
  const handlerRandom = rng(seed ^ 0x9e3779b9);
  const execMs = scenario.execMs ?? defaultExecMs;
  const store = new Store(design.schema);
  if (design.prime && scenario.drained) {
    const tx = new Transaction(store, 0);
    for (const key of scenario.drained)
      await design.prime(tx, key, scenario.drainedTs);
    store.apply(tx.writes, 0);
  }
  const arrivals = scenario.arrivals(r);
  const heap = new Heap();
  arrivals.forEach((a, call) =>
    heap.push({ at: a.at, kind: "start", call, attempt: 1 }),
  );
  const log: Array<{ at: number; writes: Write[] }> = [];
  const result: SimResult = {
    calls: arrivals.length,
    admitted: 0,
    denied: 0,
    failed: 0,
    retries: new Array(arrivals.length).fill(0),
    admittedByKey: new Map(),
    docsRead: 0,
    docsWritten: 0,
    attempts: 0,
    workerRuns: 0,
    lastStart: 0,
    store,
  };
  let workerPending = false;
  /** The longest execution time drawn so far (for trimming the commit log). */
  let longest = 0;
  const realNow = Date.now;
  const realRandom = Math.random;
  let clock = 0;
  Date.now = () => clock;
  Math.random = handlerRandom;
  try {
    while (heap.size > 0) {
      const e = heap.pop();
      clock = e.at;
      if (e.kind === "start") {
        if (e.worker) workerPending = false;
        const tx = new Transaction(store, e.at);
        const stale = new Transaction(store, e.at, false);
        const run: Running = {
          call: e.call,
          attempt: e.attempt,
          worker: !!e.worker,
          tx,
          startedAt: e.at,
          outcome: null,
          schedule: [],
        };
        const ctx: AttemptCtx = {
          tx,
          stale,
          now: e.at,
          scheduleWorker: (delay) => run.schedule.push(delay),
        };
        if (e.worker) await design.worker!(ctx);
        else {
          result.attempts++;
          result.lastStart = e.at;
          run.outcome = await design.call(ctx, arrivals[e.call].key);
          result.docsRead += tx.docsRead + stale.docsRead;
        }
        const exec = execMs(r);
        longest = Math.max(longest, exec);
        heap.push({ at: e.at + exec, kind: "commit", run });
        continue;
      }
      const { run } = e;
      const writes = run.tx.writes;
      const validated =
        writes.length > 0 || (scenario.websocket && !run.worker);
      let conflict = false;
      if (validated)
        for (let i = log.length - 1; i >= 0 && !conflict; i--) {
          const c = log[i];
          if (c.at <= run.startedAt) break;
          conflict = c.writes.some((w) =>
            run.tx.reads.some((range) => conflicts(store.schema, range, w)),
          );
        }
      if (conflict) {
        const delay = backoffMs(run.attempt - 1, r);
        if (run.worker)
          heap.push({
            at: e.at + delay,
            kind: "start",
            call: -1,
            attempt: run.attempt + 1,
            worker: true,
          });
        else {
          result.retries[run.call]++;
          if (run.attempt >= MAX_ATTEMPTS) result.failed++;
          else
            heap.push({
              at: e.at + delay,
              kind: "start",
              call: run.call,
              attempt: run.attempt + 1,
            });
        }
        continue;
      }
      if (writes.length > 0) {
        store.apply(writes, e.at);
        log.push({ at: e.at, writes });
      }
      // Commits older than the longest attempt so far can no longer conflict
      // (every running attempt started after e.at - longest).
      let old = 0;
      while (old < log.length && log[old].at < e.at - longest) old++;
      if (old > 64) log.splice(0, old);
      if (run.worker) result.workerRuns++;
      else {
        result.docsWritten += writes.length;
        if (run.outcome === "admitted") {
          result.admitted++;
          const key = arrivals[run.call].key;
          result.admittedByKey.set(
            key,
            (result.admittedByKey.get(key) ?? 0) + 1,
          );
        } else result.denied++;
      }
      for (const delay of run.schedule)
        if (!workerPending) {
          workerPending = true;
          heap.push({
            at: e.at + delay + 5,
            kind: "start",
            call: -1,
            attempt: 1,
            worker: true,
          });
        }
    }
  } finally {
    Date.now = realNow;
    Math.random = realRandom;
  }
  return result;
}

/** The p-th percentile (0–100) of `xs`. */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

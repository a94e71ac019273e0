/**
 * migrations vs @convex-dev/migrations 0.3.6: same process, same seeded
 * table, both components running in convex-test. Prints tables; asserts
 * nothing. Run with `npx tsx bench/migrations.ts`.
 *
 * Transactions and documents read/written are exact: every top-level
 * transaction's metrics are recorded from convex-test's metrics tracker
 * (component bookkeeping included), for runner call and scheduled batches.
 */
import { Migrations as TheirMigrations } from "@convex-dev/migrations";
import { convexTest } from "convex-test";
import { TransactionMetricsTracker } from "convex-test/dist/transactionMetrics.js";
import {
  anyApi,
  componentsGeneric,
  type DataModelFromSchemaDefinition,
  defineSchema,
  defineTable,
  internalMutationGeneric,
  type MutationBuilder,
} from "convex/server";
import { v } from "convex/values";
import { Migrations } from "../src/migrations/client.js";
import ourSchema from "../src/migrations/component/schema.js";
import type { ComponentApi } from "../src/migrations/component/_generated/component.js";
import { silenceLogs } from "../src/shared/log.js";
import {
  appModules,
  benchSetup,
  median,
  printTable,
  sized,
} from "./harness.js";

const sides = benchSetup("migrations", "@convex-dev/migrations/dist/component");

const schema = defineSchema({
  users: defineTable({
    name: v.string(),
    plan: v.optional(v.string()),
  }),
});
type DataModel = DataModelFromSchemaDefinition<typeof schema>;
const internalMutation = internalMutationGeneric as MutationBuilder<
  DataModel,
  "internal"
>;

const components = componentsGeneric() as unknown as {
  ours: ComponentApi<"ours">;
  theirs: ConstructorParameters<typeof TheirMigrations<DataModel>>[0];
};
const ours = new Migrations<DataModel>(components.ours, { internalMutation });
const theirs = new TheirMigrations<DataModel>(components.theirs, {
  internalMutation,
});

/** Names starting with "bad" make migrateOne throw (the per-document error scenario). */
const migrateOne = (_ctx: unknown, user: { name: string; plan?: string }) => {
  if (user.name.startsWith("bad"))
    throw new Error(`cannot migrate ${user.name}`);
  return user.plan === undefined ? { plan: "free" } : undefined;
};
const app = {
  oursSetDefault: ours.define({ table: "users", migrateOne }),
  oursSkipping: ours.define({ table: "users", migrateOne, onError: "skip" }),
  theirsSetDefault: theirs.define({ table: "users", migrateOne }),
  oursRun: ours.runner(),
  theirsRun: theirs.runner(),
};
const api = anyApi.bench;

// ---- exact per-transaction metrics -------------------------------------
type Metrics = {
  documentsRead: number;
  documentsWritten: number;
  databaseQueries: number;
};
let recording: Metrics[] | null = null;
{
  type Layer = { metrics: Metrics };
  const proto = TransactionMetricsTracker.prototype as unknown as {
    _layers: Layer[];
    commit(): void;
    rollback(): void;
  };
  for (const method of ["commit", "rollback"] as const) {
    const original = proto[method];
    proto[method] = function (this: { _layers: Layer[] }) {
      const top =
        this._layers.length === 1 ? { ...this._layers[0].metrics } : null;
      original.call(this);
      // convex-test moves scheduled jobs through their states in transactions
      // of its own that touch no metrics; those are not function executions.
      const idle =
        top &&
        top.documentsRead + top.documentsWritten + top.databaseQueries === 0;
      // Rolled-back top-level transactions commit nothing but were still run.
      if (top && !idle && recording)
        recording.push({
          documentsRead: top.documentsRead,
          documentsWritten: method === "commit" ? top.documentsWritten : 0,
          databaseQueries: top.databaseQueries,
        });
    };
  }
}

function setup() {
  const t = convexTest(schema, appModules({ bench: app }));
  t.registerComponent("ours", ourSchema, sides.ourModules());
  return t;
}

async function setupTheirs() {
  const theirSchema = await sides.theirSchema();
  const t = convexTest(schema, appModules({ bench: app }));
  t.registerComponent("theirs", theirSchema, sides.theirModules());
  return t;
}

type T = ReturnType<typeof setup>;

async function seed(t: T, n: number, bad = 0) {
  for (let start = 0; start < n; start += 1000)
    await t.run(async (ctx) => {
      for (let i = start; i < Math.min(n, start + 1000); i++)
        await ctx.db.insert("users", { name: i < bad ? `bad${i}` : `u${i}` });
    });
}

async function measure(t: T, start: () => Promise<unknown>) {
  recording = [];
  const began = performance.now();
  await start().catch(() => undefined);
  await t.finishAllScheduledFunctions(() => {}, 100_000);
  const ms = performance.now() - began;
  const txs = recording;
  recording = null;
  const migrated = await t.run(
    async (ctx) =>
      (await ctx.db.query("users").collect()).filter(
        (u) => u.plan !== undefined,
      ).length,
  );
  return {
    transactions: txs.length,
    read: txs.reduce((s, m) => s + m.documentsRead, 0),
    written: txs.reduce((s, m) => s + m.documentsWritten, 0),
    ms,
    migrated,
  };
}

export default async function main(): Promise<void> {
  const restoreLogs = silenceLogs();
  const consoleMethods = ["log", "debug", "info", "warn", "error"] as const;
  const saved = consoleMethods.map((m) => console[m]);
  const rows: Array<Record<string, string | number>> = [];
  const dryRows: Array<Record<string, string | number>> = [];
  const errorRows: Array<Record<string, string | number>> = [];
  const quiet = () => consoleMethods.forEach((m) => (console[m] = () => {}));
  const loud = () => consoleMethods.forEach((m, i) => (console[m] = saved[i]));
  try {
    quiet();
    // Warm-up: load both components' modules before anything is timed.
    for (const make of [setup, setupTheirs]) {
      const w = (await make()) as T;
      await seed(w, 50);
      await measure(w, () =>
        w.mutation(make === setup ? api.oursRun : api.theirsRun, {
          fn:
            make === setup ? "bench:oursSetDefault" : "bench:theirsSetDefault",
        }),
      );
    }
    for (const n of sized([1_000, 10_000], [50, 120])) {
      quiet();
      // Full run, no batch size set; wall time is the median of 3 runs,
      // alternating which implementation goes first.
      const runOurs = async () => {
        const t = setup();
        await seed(t, n);
        return await measure(t, () =>
          t.mutation(api.oursRun, { fn: "bench:oursSetDefault" }),
        );
      };
      const runTheirs = async () => {
        const t = (await setupTheirs()) as unknown as T;
        await seed(t, n);
        return await measure(t, () =>
          t.mutation(api.theirsRun, { fn: "bench:theirsSetDefault" }),
        );
      };
      const oRuns: Array<Awaited<ReturnType<typeof runOurs>>> = [];
      const thRuns: typeof oRuns = [];
      for (let rep = 0; rep < sized(3, 1); rep++) {
        if (rep % 2 === 0) {
          oRuns.push(await runOurs());
          thRuns.push(await runTheirs());
        } else {
          thRuns.push(await runTheirs());
          oRuns.push(await runOurs());
        }
      }
      const o = oRuns[0];
      const th = thRuns[0];
      const oMs = median(oRuns.map((r) => r.ms));
      const thMs = median(thRuns.map((r) => r.ms));
      for (const [impl, r, ms] of [
        ["convex-opskit", o, oMs],
        ["@convex-dev/migrations", th, thMs],
      ] as const)
        rows.push({
          N: n,
          impl,
          transactions: r.transactions,
          "docs read": r.read,
          "docs written": r.written,
          migrated: r.migrated,
          "wall ms (median of 3)": Math.round(ms),
          "wall ratio": ms / thMs,
        });

      // Dry run.
      const dOurs = setup();
      await seed(dOurs, n);
      const od = await measure(dOurs, () =>
        dOurs.mutation(api.oursRun, {
          fn: "bench:oursSetDefault",
          dryRun: true,
        }),
      );
      const [ourReport] = await dOurs.run((ctx) =>
        ours.getStatus(ctx, { migrations: ["bench:oursSetDefault"] }),
      );
      const dryOurs = await dOurs.run((ctx) =>
        ours.getReport(ctx, "bench:oursSetDefault", { dryRun: true }),
      );
      const dTheirs = (await setupTheirs()) as unknown as T;
      await seed(dTheirs, n);
      const td = await measure(dTheirs, () =>
        dTheirs.mutation(api.theirsRun, {
          fn: "bench:theirsSetDefault",
          dryRun: true,
        }),
      );
      const [theirStatus] = await dTheirs.run((ctx) =>
        theirs.getStatus(ctx, { migrations: ["bench:theirsSetDefault"] }),
      );
      void ourReport;
      dryRows.push(
        {
          N: n,
          impl: "convex-opskit",
          "docs covered": dryOurs?.status.processed ?? 0,
          "would change": dryOurs?.status.changed ?? 0,
          transactions: od.transactions,
          "app writes committed": od.migrated,
          "wall ms": Math.round(od.ms),
        },
        {
          N: n,
          impl: "@convex-dev/migrations",
          "docs covered": theirStatus.processed || 100,
          "would change": "(not counted)",
          transactions: td.transactions,
          "app writes committed": td.migrated,
          "wall ms": Math.round(td.ms),
        },
      );

      // One failing document in the table.
      const eOurs = setup();
      await seed(eOurs, n, 1);
      const oe = await measure(eOurs, () =>
        eOurs.mutation(api.oursRun, { fn: "bench:oursSkipping" }),
      );
      const [ourErr] = await eOurs.run((ctx) =>
        ours.getStatus(ctx, { migrations: ["bench:oursSkipping"] }),
      );
      const eTheirs = (await setupTheirs()) as unknown as T;
      await seed(eTheirs, n, 1);
      const te = await measure(eTheirs, () =>
        eTheirs.mutation(api.theirsRun, { fn: "bench:theirsSetDefault" }),
      );
      const [theirErr] = await eTheirs.run((ctx) =>
        theirs.getStatus(ctx, { migrations: ["bench:theirsSetDefault"] }),
      );
      errorRows.push(
        {
          N: n,
          impl: "convex-opskit (onError: skip)",
          migrated: oe.migrated,
          "failures recorded": ourErr.failed,
          state: ourErr.state,
          transactions: oe.transactions,
        },
        {
          N: n,
          impl: "@convex-dev/migrations",
          migrated: te.migrated,
          "failures recorded": theirErr.error ? 1 : 0,
          state: theirErr.state,
          transactions: te.transactions,
        },
      );
      loud();
    }
  } finally {
    loud();
    restoreLogs();
  }
  printTable(
    "migrations: full run, no batch size set (wall ratio = ours / theirs)",
    rows,
  );
  printTable("migrations: dry run (app writes committed must be 0)", dryRows);
  printTable("migrations: one document whose migrateOne throws", errorRows);
}

await main();

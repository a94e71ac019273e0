/**
 * convex-test setup for rateLimiter tests that must look inside the
 * component: the component is registered with one extra module, `probe`,
 * whose queries read its tables (state documents and its own
 * `_scheduled_functions`). Production limits (`transactionLimits`) are on.
 */
import { convexTest } from "convex-test";
import {
  componentsGeneric,
  defineSchema,
  mutationGeneric,
  queryGeneric,
  type FunctionReference,
  type GenericSchema,
  type SchemaDefinition,
} from "convex/server";
import { v } from "convex/values";
import opskit from "convex-opskit/test";

/** Every state document of the component. */
export const states = queryGeneric({
  args: {},
  handler: async (ctx) => ctx.db.query("limitStates").collect(),
});

/** The component's own scheduled functions (any state). */
export const scheduled = queryGeneric({
  args: {},
  handler: async (ctx) => ctx.db.system.query("_scheduled_functions").collect(),
});

/** The sweep's singleton marker, if any. */
export const marker = queryGeneric({
  args: {},
  handler: async (ctx) => ctx.db.query("sweeps").first(),
});

/** Inserts `n` state documents directly (fast backlogs for sweep tests). */
export const seed = mutationGeneric({
  args: {
    n: v.number(),
    prefix: v.string(),
    fullAt: v.number(),
    name: v.optional(v.string()),
  },
  handler: async (ctx, { n, prefix, fullAt, name }) => {
    for (let i = 0; i < n; i++)
      await ctx.db.insert("limitStates", {
        name: name ?? "seeded",
        key: `${prefix}${i}`,
        shard: 0,
        value: 0,
        ts: fullAt - 1000,
        fullAt,
      });
  },
});

const probeModule = { states, scheduled, marker, seed };

type StateDoc = {
  _id: string;
  name: string;
  key?: string;
  shard: number;
  value: number;
  ts: number;
  fullAt: number;
  penaltyUntil?: number;
};
type ScheduledDoc = {
  name: string;
  scheduledTime: number;
  state: { kind: string };
};
/** What one sweep run returns. */
export type SweepResult = { deleted: number; bytes: number; more: boolean };

type Q<Args extends Record<string, unknown>, R> = FunctionReference<
  "query",
  "internal",
  Args,
  R
>;
const component = (
  componentsGeneric() as unknown as {
    rateLimiter: {
      probe: {
        states: Q<Record<string, never>, StateDoc[]>;
        scheduled: Q<Record<string, never>, ScheduledDoc[]>;
        marker: Q<Record<string, never>, { continuation?: string } | null>;
        seed: FunctionReference<
          "mutation",
          "internal",
          { n: number; prefix: string; fullAt: number; name?: string },
          null
        >;
      };
      sweep: {
        run: FunctionReference<
          "mutation",
          "internal",
          { chained?: boolean },
          SweepResult
        >;
      };
    };
  }
).rateLimiter;

/** References into the component as registered by {@link rateLimiterTest}. */
export const probe = {
  states: component.probe.states,
  scheduled: component.probe.scheduled,
  marker: component.probe.marker,
  seed: component.probe.seed,
  /** The sweep's internal mutation, as the cron runs it. */
  sweep: component.sweep.run,
};

/**
 * A convex-test instance with the rateLimiter component (plus the probe) and
 * production transaction limits.
 */
export function rateLimiterTest<
  Schema extends SchemaDefinition<GenericSchema, boolean>,
>(
  modules: Record<string, () => Promise<unknown>>,
  options: {
    schema?: Schema;
    transactionLimits?: boolean | Record<string, number>;
  } = {},
) {
  const t = convexTest({
    schema: options.schema ?? (defineSchema({}) as Schema),
    transactionLimits: options.transactionLimits ?? true,
    modules: { ...modules, "./_generated/api.ts": async () => ({}) },
  });
  t.registerComponent("rateLimiter", opskit.rateLimiter.schema, {
    ...opskit.rateLimiter.modules,
    "./rateLimiter/component/probe.ts": async () => probeModule,
  });
  return t;
}

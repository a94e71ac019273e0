// convex/migrations.ts
import { Migrations } from "convex-opskit/migrations";
import { components, internal } from "./_generated/api.js";
import type { DataModel } from "./_generated/dataModel.js";
import { internalMutation } from "./_generated/server.js";

export const migrations = new Migrations<DataModel>(components.migrations, {
  internalMutation,
});

// Return a patch...
export const setDefault = migrations.define({
  table: "users",
  migrateOne: (_ctx, user) =>
    user.plan === undefined ? { plan: "free" } : undefined,
  onError: "skip",
  verify: (user) => user.plan !== undefined || "plan is still missing",
});

// ...or write with ctx.db. journal: true makes the run reversible.
export const backfillEmail = migrations.define({
  table: "users",
  journal: true,
  migrateOne: async (ctx, user) => {
    if (user.email === undefined)
      await ctx.db.patch(user._id, { email: `${user.name}@example.com` });
  },
});

export const run = migrations.runner();
export const runPending = migrations.pendingRunner([
  internal.migrations.setDefault,
  internal.migrations.backfillEmail,
]);
export const pending = migrations.pendingQuery([
  internal.migrations.setDefault,
  internal.migrations.backfillEmail,
]);

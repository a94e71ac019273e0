/**
 * authz at its production limits, with the limits harness on (transaction
 * limits, and every stored document checked after each test): the largest
 * grant set a user may hold, its expiry in one go, the largest members page,
 * and what happens one step past each (a coded error, nothing written).
 * docs/authz.md "Production limits" quotes these figures.
 */
import {
  componentsGeneric,
  type FunctionReference,
  type GenericSchema,
  mutationGeneric,
  queryGeneric,
  type SchemaDefinition,
} from "convex/server";
import { v, type Value } from "convex/values";
import { expect, test, vi } from "vitest";
import opskit from "convex-opskit/test";
import {
  MAX_GRANTS_PER_USER,
  EXPIRY_BATCH,
  documentSize,
  MAX_ARRAY_LENGTH,
  MAX_DOCUMENT_BYTES,
} from "../internal.js";
import { components, opskitTest, codeOf, fakeClock } from "../helpers.js";
import { schema } from "./app.js";
// Vite's import.meta.glob leaves out the importing file, so the module adds itself.
import * as self from "./limits.test.js";

const T0 = new Date("2026-03-01T10:00:00Z").getTime();
const HOUR = 3_600_000;

/** The longest names the component accepts: role 100, scope 255 ("kind:id" 64 + 1 + 190), userId 256. */
const longRole = (i: number) => `r${String(i).padStart(99, "0")}`;
const longScope = (i: number) =>
  `${"k".repeat(64)}:${String(i).padStart(190, "0")}`;
const longUser = "u".repeat(256);

export const noop = queryGeneric({
  args: {},
  returns: v.null(),
  handler: async () => null,
});

const inspectModule = {
  /** Stores `count` grants of the longest names for `userId` in one go, as `count` grantRole calls would. */
  seed: mutationGeneric({
    args: { userId: v.string(), count: v.number(), expiresAt: v.number() },
    returns: v.null(),
    handler: async (ctx, { userId, count, expiresAt }) => {
      const grants = [];
      for (let i = 0; i < count; i++) {
        grants.push({ role: longRole(i), scope: longScope(i), expiresAt });
        await ctx.db.insert("members", {
          scope: longScope(i),
          userId,
          role: longRole(i),
          expiresAt,
        });
      }
      await ctx.db.insert("userGrants", { userId, grants });
      return null;
    },
  }),
  grantsDocument: queryGeneric({
    args: { userId: v.string() },
    returns: v.any(),
    handler: async (ctx, { userId }) =>
      await ctx.db
        .query("userGrants")
        .withIndex("by_userId", (q) => q.eq("userId", userId))
        .unique(),
  }),
  counts: queryGeneric({
    args: {},
    returns: v.object({ members: v.number(), jobs: v.number() }),
    handler: async (ctx) => ({
      members: (await ctx.db.query("members").collect()).length,
      jobs: (await ctx.db.system.query("_scheduled_functions").collect())
        .length,
    }),
  }),
};
const inspect = (
  componentsGeneric() as unknown as {
    authz: {
      inspect: {
        seed: FunctionReference<
          "mutation",
          "internal",
          { userId: string; count: number; expiresAt: number },
          null
        >;
        grantsDocument: FunctionReference<
          "query",
          "internal",
          { userId: string },
          Record<string, Value> | null
        >;
        counts: FunctionReference<
          "query",
          "internal",
          Record<string, never>,
          { members: number; jobs: number }
        >;
      };
    };
  }
).authz.inspect;

function setup() {
  const t = opskitTest({ "./limits.test.ts": async () => self }, schema);
  t.registerComponent(
    "authz",
    opskit.authz.schema as SchemaDefinition<GenericSchema, boolean>,
    {
      ...opskit.authz.modules,
      "./authz/component/inspect.ts": async () => inspectModule,
    },
  );
  return t;
}

fakeClock(T0);

test(`the largest grant set (${MAX_GRANTS_PER_USER} grants of the longest names) fits one document; one more is INVALID_ARGUMENT and writes nothing`, async () => {
  const t = setup();
  await t.mutation(inspect.seed, {
    userId: longUser,
    count: MAX_GRANTS_PER_USER - 1,
    expiresAt: T0 + HOUR,
  });
  await t.mutation(components.authz.grants.grantRole, {
    userId: longUser,
    role: longRole(MAX_GRANTS_PER_USER - 1),
    scope: longScope(MAX_GRANTS_PER_USER - 1),
    expiresAt: T0 + HOUR,
  });
  const doc = await t.query(inspect.grantsDocument, { userId: longUser });
  const bytes = documentSize(doc!);
  expect(bytes).toBeLessThan(MAX_DOCUMENT_BYTES / 4);
  expect(MAX_GRANTS_PER_USER).toBeLessThan(MAX_ARRAY_LENGTH);

  expect(
    await codeOf(
      t.mutation(components.authz.grants.grantRole, {
        userId: longUser,
        role: longRole(MAX_GRANTS_PER_USER),
        scope: longScope(MAX_GRANTS_PER_USER),
      }),
    ),
  ).toBe("INVALID_ARGUMENT");
  expect(await t.query(inspect.grantsDocument, { userId: longUser })).toEqual(
    doc,
  );
  expect(await t.query(inspect.counts, {})).toEqual({
    members: MAX_GRANTS_PER_USER,
    jobs: 1,
  });

  // All of them expire at once: the job removes EXPIRY_BATCH a run and
  // continues, each run inside the transaction limits.
  vi.setSystemTime(T0 + HOUR);
  await t.finishAllScheduledFunctions(vi.runAllTimers);
  expect(await t.query(inspect.grantsDocument, { userId: longUser })).toBe(
    null,
  );
  const counts = await t.query(inspect.counts, {});
  expect(counts.members).toBe(0);
  // Jobs scheduled in all (done now): one run per EXPIRY_BATCH grants.
  expect(counts.jobs).toBe(Math.ceil(MAX_GRANTS_PER_USER / EXPIRY_BATCH));
});

test("a grant write that finds the whole expired set drops it, and its membership rows, inside the transaction limits", async () => {
  const t = setup();
  await t.mutation(inspect.seed, {
    userId: longUser,
    count: MAX_GRANTS_PER_USER - 1,
    expiresAt: T0 + HOUR,
  });
  await t.mutation(components.authz.grants.grantRole, {
    userId: longUser,
    role: longRole(MAX_GRANTS_PER_USER - 1),
    scope: longScope(MAX_GRANTS_PER_USER - 1),
    expiresAt: T0 + HOUR,
  });
  // Past the expiry, before the job ran.
  vi.setSystemTime(T0 + 2 * HOUR);
  await t.mutation(components.authz.grants.grantRole, {
    userId: longUser,
    role: "viewer",
  });
  expect(await t.query(inspect.counts, {})).toMatchObject({ members: 1 });
});

test("the largest members page is 1,000 rows; 1,001 is INVALID_ARGUMENT", async () => {
  const t = setup();
  await t.mutation(components.authz.grants.grantRole, {
    userId: "ann",
    role: "viewer",
    scope: "team:1",
  });
  const page = await t.query(components.authz.grants.listMembers, {
    scope: "team:1",
    paginationOpts: { numItems: 1000, cursor: null },
  });
  expect(page.page).toHaveLength(1);
  expect(
    await codeOf(
      t.query(components.authz.grants.listMembers, {
        scope: "team:1",
        paginationOpts: { numItems: 1001, cursor: null },
      }),
    ),
  ).toBe("INVALID_ARGUMENT");
});

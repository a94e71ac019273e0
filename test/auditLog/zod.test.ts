/**
 * convex-opskit/auditLog/zod: admin mutations with zod arguments keep every
 * guarantee of `adminMutation` (authorizer, permission, scope from the parsed
 * args, declared tables, required reason, the audit record) and refuse
 * arguments failing a zod check with INVALID_ARGUMENT, writing nothing.
 */
import {
  anyApi,
  defineSchema,
  defineTable,
  mutationGeneric,
  type ApiFromModules,
  type DataModelFromSchemaDefinition,
  type FunctionArgs,
  type FunctionReturnType,
  type MutationBuilder,
} from "convex/server";
import { ConvexError, v, type Value } from "convex/values";
import { Authz } from "convex-opskit/authz";
import { AuditLog } from "convex-opskit/auditLog";
import { zAdminMutation } from "convex-opskit/auditLog/zod";
import { zid } from "convex-helpers/server/zod4";
import fc from "fast-check";
import { describe, expect, expectTypeOf, test } from "vitest";
import { z } from "zod";
import { components, errorOf, opskitTest } from "../helpers.js";
// Vite's import.meta.glob leaves out the importing file, so the module adds itself.
import * as self from "./zod.test.js";

const schema = defineSchema({
  users: defineTable({ name: v.string(), team: v.string(), days: v.number() }),
  notes: defineTable({ text: v.string() }),
});
type DataModel = DataModelFromSchemaDefinition<typeof schema>;
const mutation = mutationGeneric as MutationBuilder<DataModel, "public">;

const authz = new Authz(components.authz, {
  roles: { support: ["users.manage"], admin: ["*"] },
  permissions: ["users.manage"],
});
const auditLog = new AuditLog<DataModel>(components.auditLog, {
  reason: {
    minLength: 10,
    pattern: /\b[A-Z]+-\d+\b/,
    patternHint: "a ticket id",
  },
});
const adminMutation = zAdminMutation(auditLog, authz);

export const suspend = adminMutation({
  permission: "users.manage",
  // The scope sees parsed args: "ACME" arrives as "acme".
  scope: (args) => `team:${args.team}`,
  tables: ["users"],
  args: {
    userId: zid("users"),
    team: z.string().toLowerCase(),
    days: z.number().int().min(1).max(90),
  },
  returns: z.object({ until: z.number() }),
  handler: async (ctx, args) => {
    await ctx.db.patch(args.userId, { days: args.days });
    return { until: args.days * 86_400_000 };
  },
});

export const sneaky = adminMutation({
  permission: "users.manage",
  tables: ["users"],
  args: { text: z.string().max(20) },
  handler: async (ctx, args) => {
    await ctx.db.insert("notes", { text: args.text });
    return null;
  },
});

export const seed = mutation({
  args: {},
  handler: async (ctx) => {
    await authz.grant(ctx, {
      userId: "sam",
      role: "support",
      scope: "team:acme",
    });
    return await ctx.db.insert("users", { name: "u", team: "acme", days: 0 });
  },
});

const api = anyApi["zod.test"];
const setup = () => opskitTest({ "./zod.test.ts": async () => self }, schema);
type Api = ApiFromModules<{ m: { suspend: typeof suspend } }>["m"];

async function code(p: Promise<unknown>) {
  try {
    await p;
    return "OK";
  } catch (e) {
    return e instanceof ConvexError
      ? (e.data as { code: string }).code
      : String(e);
  }
}
const state = (t: ReturnType<typeof setup>) =>
  t.run(async (ctx) => ({
    days: (await ctx.db.query("users").collect()).map((u) => u.days),
    notes: (await ctx.db.query("notes").collect()).length,
    operations: (
      await auditLog.listOperations(ctx, {
        paginationOpts: { numItems: 100, cursor: null },
      })
    ).page.length,
  }));

// Compiled by tsc, never called: the assertions are the type errors.
export function typeChecks() {
  expectTypeOf<FunctionArgs<Api["suspend"]>>().toEqualTypeOf<
    { userId: string; team: string; days: number } & { reason: string }
  >();
  expectTypeOf<FunctionReturnType<Api["suspend"]>>().toEqualTypeOf<{
    until: number;
  }>();
  // @ts-expect-error with an authorizer object, a permission is required
  adminMutation({ tables: ["users"], args: {}, handler: async () => null });
  adminMutation({
    // @ts-expect-error "user.manage" is a typo
    permission: "user.manage",
    tables: ["users"],
    args: {},
    handler: async () => null,
  });
  adminMutation({
    permission: "users.manage",
    // @ts-expect-error "accounts" is not a table
    tables: ["accounts"],
    args: {},
    handler: async () => null,
  });
  adminMutation({
    permission: "users.manage",
    // @ts-expect-error scope functions only see declared args
    scope: (args) => `team:${args.org}`,
    tables: ["users"],
    args: { team: z.string() },
    handler: async () => null,
  });
}

describe("zod admin mutations", () => {
  test("authorized in the scope of the parsed args, recorded with the reason", async () => {
    const t = setup();
    const userId = await t.mutation(api.seed, {});
    const sam = t.withIdentity({ subject: "sam", tokenIdentifier: "sam" });
    expect(
      await sam.mutation(api.suspend, {
        userId,
        team: "ACME",
        days: 3,
        reason: "SUP-12 abuse report",
      }),
    ).toEqual({ until: 3 * 86_400_000 });
    const ops = await t.run((ctx) =>
      auditLog.listOperations(ctx, {
        paginationOpts: { numItems: 100, cursor: null },
      }),
    );
    expect(ops.page[0]).toMatchObject({
      actorId: "sam",
      reason: "SUP-12 abuse report",
      args: { userId, team: "ACME", days: 3 },
    });
    expect(
      await code(
        sam.mutation(api.suspend, {
          userId,
          team: "other",
          days: 3,
          reason: "SUP-12 abuse report",
        }),
      ),
    ).toBe("FORBIDDEN");
    expect(
      await code(
        sam.mutation(api.suspend, {
          userId,
          team: "acme",
          days: 3,
          reason: "because",
        }),
      ),
    ).toBe("INVALID_ARGUMENT");
    expect(await state(t)).toEqual({ days: [3], notes: 0, operations: 1 });
  });

  test("undeclared tables stay FORBIDDEN", async () => {
    const t = setup();
    await t.mutation(api.seed, {});
    const sam = t.withIdentity({ subject: "sam", tokenIdentifier: "sam" });
    expect(
      await code(
        sam.mutation(api.sneaky, { text: "hi", reason: "SUP-1 check it" }),
      ),
    ).toBe("FORBIDDEN");
    expect(await state(t)).toEqual({ days: [0], notes: 0, operations: 0 });
  });

  test("a failed zod check is INVALID_ARGUMENT with the path, expectation and what arrived", async () => {
    const t = setup();
    const userId = await t.mutation(api.seed, {});
    const sam = t.withIdentity({ subject: "sam", tokenIdentifier: "sam" });
    let error: unknown;
    try {
      await sam.mutation(api.suspend, {
        userId,
        team: "acme",
        days: 1.5,
        reason: "SUP-12 abuse report",
      });
    } catch (e) {
      error = e;
    }
    const data = (error as ConvexError<Value>).data as Record<string, unknown>;
    expect(data.code).toBe("INVALID_ARGUMENT");
    expect(data.message).toMatch(
      /^Invalid arguments to admin mutation: days: .*; got a number$/,
    );
    expect(await state(t)).toEqual({ days: [0], notes: 0, operations: 0 });
  });

  test("reserved argument names are refused at definition time", async () => {
    const err = await errorOf(() =>
      adminMutation({
        permission: "users.manage",
        tables: ["users"],
        args: { reason: z.string() },
        handler: async () => null,
      }),
    );
    expect(err.code).toBe("INVALID_ARGUMENT");
    expect(err.message).toBe(
      'auditLog: admin mutation declares a "reason" argument; it is added for you',
    );
  });

  test("applied exactly when zod accepts; refusals write nothing (generated)", async () => {
    const days = z.number().int().min(1).max(90);
    const t = setup();
    const userId = await t.mutation(api.seed, {});
    const sam = t.withIdentity({ subject: "sam", tokenIdentifier: "sam" });
    let applied = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.integer({ min: -5, max: 120 }),
          fc.double({ min: -5, max: 120, noNaN: true }),
        ),
        async (d) => {
          const result = await code(
            sam.mutation(api.suspend, {
              userId,
              team: "acme",
              days: d,
              reason: "SUP-99 generated case",
            }),
          );
          const ok = days.safeParse(d).success;
          expect(result).toBe(ok ? "OK" : "INVALID_ARGUMENT");
          if (ok) applied++;
          expect((await state(t)).operations).toBe(applied);
        },
      ),
      { seed: 42, numRuns: 40 },
    );
  });
});

/**
 * Types and validators users pass their results through: `RoleName` and
 * `authz.roleValidator()` (no hand-written role type), and the exported
 * return validators, checked by real calls whose results cross a function's
 * `returns` (convex-test validates return values as a deployment does).
 */
import {
  anyApi,
  mutationGeneric,
  paginationOptsValidator,
  queryGeneric,
} from "convex/server";
import { ConvexError, v, type Infer } from "convex/values";
import {
  Authz,
  vGrant,
  vMembersPage,
  vRoleName,
  type PermissionName,
  type RoleName,
} from "convex-opskit/authz";
import {
  MINUTE,
  RateLimiter,
  vRateLimitResult,
  vRateLimitValue,
  type LimitResult,
  type RateLimitValue,
} from "convex-opskit/rateLimiter";
import {
  vMigrationStatus,
  vRunReport,
  type MigrationStatus,
  type RunReport,
} from "convex-opskit/migrations";
import { vEntriesPage, type Entry } from "convex-opskit/auditLog";
import type { PaginationResult } from "convex/server";
import fc from "fast-check";
import { describe, expect, expectTypeOf, test, vi } from "vitest";
import { components, opskitTest } from "../helpers.js";
// Vite's import.meta.glob leaves out the importing file, so the module adds itself.
import * as self from "./returns.test.js";

const authz = new Authz(components.authz, {
  roles: { viewer: ["posts.read"], editor: ["posts.*"], admin: ["*"] },
  permissions: ["posts.read", "posts.write", "members.manage"],
});

const rateLimiter = new RateLimiter(components.rateLimiter, {
  bucket: { kind: "token bucket", rate: 3, period: MINUTE, capacity: 3 },
  window: { kind: "fixed window", rate: 2, period: MINUTE },
  sliding: { kind: "sliding window", rate: 2, period: MINUTE },
  gcra: { kind: "gcra", rate: 2, period: MINUTE, penalty: MINUTE },
  sharded: { kind: "token bucket", rate: 8, period: MINUTE, shards: 4 },
  shadowed: { kind: "fixed window", rate: 1, period: MINUTE, shadow: true },
});
const limitNames = [
  "bucket",
  "window",
  "sliding",
  "gcra",
  "sharded",
  "shadowed",
] as const;

// A role argument goes straight to grant: no Parameters<...> gymnastics.
export const grantRole = mutationGeneric({
  args: { userId: v.string(), role: authz.roleValidator() },
  returns: v.null(),
  handler: async (ctx, args) => {
    await authz.grant(ctx, { userId: args.userId, role: args.role });
    return null;
  },
});

export const myRoles = queryGeneric({
  args: { userId: v.string() },
  returns: v.array(vGrant),
  handler: async (ctx, args) => await authz.listRoles(ctx, args),
});

export const members = queryGeneric({
  args: { paginationOpts: paginationOptsValidator },
  returns: vMembersPage,
  handler: async (ctx, args) => await authz.listMembers(ctx, args),
});

export const hit = mutationGeneric({
  args: {
    name: v.union(...limitNames.map((n) => v.literal(n))),
    count: v.number(),
    reserve: v.boolean(),
  },
  returns: vRateLimitResult,
  handler: async (ctx, { name, count, reserve }) =>
    await rateLimiter.limit(ctx, name, { key: "k", count, reserve }),
});

export const value = queryGeneric({
  args: { name: v.union(...limitNames.map((n) => v.literal(n))) },
  returns: vRateLimitValue,
  handler: async (ctx, { name }) =>
    await rateLimiter.getValue(ctx, name, { key: "k" }),
});

const api = anyApi["returns.test"];
const setup = () => opskitTest({ "./returns.test.ts": async () => self });

// Compiled by tsc, never called: the assertions are the type errors.
export function typeChecks() {
  expectTypeOf<RoleName<typeof authz>>().toEqualTypeOf<
    "viewer" | "editor" | "admin"
  >();
  expectTypeOf<PermissionName<typeof authz>>().toEqualTypeOf<
    "posts.read" | "posts.write" | "members.manage"
  >();
  const role: RoleName<typeof authz> = "editor";
  void role;
  // @ts-expect-error "owner" is not a configured role
  const wrong: RoleName<typeof authz> = "owner";
  void wrong;
  expectTypeOf<Infer<ReturnType<typeof authz.roleValidator>>>().toEqualTypeOf<
    RoleName<typeof authz>
  >();
  expectTypeOf<
    Infer<ReturnType<typeof vRoleName<typeof authz>>>
  >().toEqualTypeOf<RoleName<typeof authz>>();
  // Each validator describes exactly the client's result type.
  expectTypeOf<Infer<typeof vRateLimitResult>>().toExtend<LimitResult>();
  expectTypeOf<LimitResult>().toExtend<Infer<typeof vRateLimitResult>>();
  expectTypeOf<Infer<typeof vRateLimitValue>>().toEqualTypeOf<RateLimitValue>();
  expectTypeOf<
    Infer<typeof vMigrationStatus>
  >().toEqualTypeOf<MigrationStatus>();
  expectTypeOf<Infer<typeof vRunReport>>().toEqualTypeOf<RunReport>();
  expectTypeOf<PaginationResult<Entry>>().toExtend<
    Infer<typeof vEntriesPage>
  >();
}

describe("roles", () => {
  test("roleValidator accepts exactly the configured names", async () => {
    const t = setup();
    await t.mutation(api.grantRole, { userId: "ann", role: "editor" });
    expect(await t.query(api.myRoles, { userId: "ann" })).toEqual([
      { role: "editor" },
    ]);
    await expect(
      t.mutation(api.grantRole, { userId: "bob", role: "owner" }),
    ).rejects.toThrow(/validator/i);
    expect(await t.query(api.myRoles, { userId: "bob" })).toEqual([]);
    expect(authz.roleNames()).toEqual(["viewer", "editor", "admin"]);
    expect(vRoleName(authz)).toEqual(authz.roleValidator());
  });

  test("a single role is a literal; no roles is refused when asked for a validator", () => {
    const one = new Authz(components.authz, { roles: { admin: ["*"] } });
    expect(one.roleValidator().kind).toBe("literal");
    const none = new Authz(components.authz, { roles: {} });
    expect(() => none.roleValidator()).toThrow(/at least one role/);
  });

  test("members pages pass through vMembersPage", async () => {
    const t = setup();
    for (const userId of ["a", "b", "c"])
      await t.mutation(api.grantRole, { userId, role: "viewer" });
    const page = await t.query(api.members, {
      paginationOpts: { numItems: 2, cursor: null },
    });
    expect(page.page).toHaveLength(2);
    expect(page.isDone).toBe(false);
  });
});

describe("rate limit results through returns: vRateLimitResult (generated)", () => {
  test("every result of every algorithm validates, admitted or denied", async () => {
    vi.useFakeTimers();
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.record({
              name: fc.constantFrom(...limitNames),
              count: fc.integer({ min: 1, max: 2 }),
              reserve: fc.boolean(),
              advance: fc.integer({ min: 0, max: 40_000 }),
            }),
            { minLength: 1, maxLength: 12 },
          ),
          async (calls) => {
            vi.setSystemTime(Date.UTC(2026, 0, 1));
            const t = setup();
            let denied = 0;
            for (const c of calls) {
              vi.advanceTimersByTime(c.advance);
              try {
                const r = await t.mutation(api.hit, {
                  name: c.name,
                  count: c.count,
                  reserve: c.reserve && c.name === "bucket",
                });
                if (!r.ok) denied++;
              } catch (e) {
                // Only coded refusals (e.g. a reservation beyond maxReserved) may throw.
                expect(e).toBeInstanceOf(ConvexError);
              }
              await t.query(api.value, { name: c.name });
            }
            return denied >= 0;
          },
        ),
        { seed: 42, numRuns: 25 },
      );
    } finally {
      vi.useRealTimers();
    }
  });
});

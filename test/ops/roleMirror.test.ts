/**
 * The example app keeps a display copy of each user's global role in
 * `users.role` (admin.setUserRole writes both). A global grant or revoke
 * made from the console (`ops.grantRole`/`ops.revokeRole`) must update that
 * copy too, in the same audited operation, or the app shows a role the user
 * no longer holds (or misses one they do).
 */
import fc from "fast-check";
import { ConvexError } from "convex/values";
import { expect, test } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import { exampleApp } from "../example/setup";

const REASON = "SUP-4 changing a global role from the console";
const ROLES = ["member", "support", "admin"] as const;

async function displayedRole(
  t: Awaited<ReturnType<typeof exampleApp>>,
  userId: string,
) {
  return await t.run(
    async (ctx) =>
      (await ctx.db
        .query("users")
        .withIndex("by_userId", (q) => q.eq("userId", userId))
        .unique())!.role,
  );
}

/** The strongest global role the user holds, as users.role shows it. */
async function heldRole(
  t: Awaited<ReturnType<typeof exampleApp>>,
  userId: string,
) {
  const alice = t.withIdentity({ subject: "alice" });
  const grants = await alice.query(api.ops.userGrants, { userId });
  const global = new Set(
    grants.filter((g) => g.scope === undefined).map((g) => g.role),
  );
  return global.has("admin")
    ? "admin"
    : global.has("support")
      ? "support"
      : "member";
}

test("console grants and revokes of global roles keep users.role in step with the grants", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.record({
          action: fc.constantFrom("grant", "revoke"),
          role: fc.constantFrom(...ROLES),
          user: fc.constantFrom("bob", "dave", "carol"),
        }),
        { minLength: 1, maxLength: 5 },
      ),
      async (steps) => {
        const t = await exampleApp();
        await t.mutation(internal.init.seed, {});
        const alice = t.withIdentity({ subject: "alice" });
        for (const s of steps) {
          const args = { userId: s.user, role: s.role, reason: REASON };
          // A refused change (e.g. a role the granter does not hold all of) writes nothing.
          await (
            s.action === "grant"
              ? alice.mutation(api.ops.grantRole, args)
              : alice.mutation(api.ops.revokeRole, args)
          ).catch((e: unknown) => {
            if (!(e instanceof ConvexError)) throw e;
          });
          expect(await displayedRole(t, s.user)).toBe(
            await heldRole(t, s.user),
          );
        }
      },
    ),
    { seed: 42, numRuns: 12 },
  );
});

test("reverting a console grant of a global role restores users.role, and the grant follows the row", async () => {
  const t = await exampleApp();
  await t.mutation(internal.init.seed, {});
  const alice = t.withIdentity({ subject: "alice" });
  await alice.mutation(api.ops.grantRole, {
    userId: "bob",
    role: "support",
    reason: REASON,
  });
  expect(await displayedRole(t, "bob")).toBe("support");
  const [grant] = (
    await alice.query(api.ops.auditOperations, {
      paginationOpts: { numItems: 1, cursor: null },
    })
  ).page;
  expect(grant.functionName).toBe("ops:grantRole");
  await alice.mutation(api.ops.auditRevert, {
    operationId: grant.operationId,
    reason: REASON,
  });
  expect(await displayedRole(t, "bob")).toBe("member");
  expect(await heldRole(t, "bob")).toBe("member");
});

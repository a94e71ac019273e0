/**
 * Hostile calls to the console's functions, made directly (not through the
 * UI): each is refused with a coded error and writes nothing.
 */
import fc from "fast-check";
import { ConvexError, type Value } from "convex/values";
import { expect, test } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import { exampleApp } from "../example/setup";

const REASON = "SUP-9 checking the console";
const page = (numItems: number, cursor: string | null = null) => ({
  numItems,
  cursor,
});

async function refusal(p: Promise<unknown>) {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e, "expected a refusal").toBeInstanceOf(ConvexError);
  return (e as ConvexError<Value>).data as Record<string, unknown>;
}

test("reverting a grant, a revoke or a reset (component state, no document entries) is refused, not recorded as a revert that restored nothing", async () => {
  const t = await exampleApp();
  await t.mutation(internal.init.seed, {});
  const sam = t.withIdentity({ subject: "sam" });
  const alice = t.withIdentity({ subject: "alice" });
  await sam.mutation(api.ops.grantRole, {
    userId: "bob",
    role: "support",
    scope: "team:acme",
    reason: REASON,
  });
  await alice.mutation(api.ops.rateLimitReset, {
    name: "signUp",
    reason: REASON,
  });
  const before = await sam.query(api.ops.auditOperations, {
    paginationOpts: page(50),
  });
  const componentOps = before.page.filter((o) =>
    o.tables.some((tb) => tb.startsWith("component:")),
  );
  expect(componentOps.map((o) => o.functionName).sort()).toEqual([
    "ops:grantRole",
    "ops:rateLimitReset",
  ]);
  for (const o of componentOps)
    expect(
      await refusal(
        sam.mutation(api.ops.auditRevert, {
          operationId: o.operationId,
          reason: REASON,
        }),
      ),
    ).toMatchObject({ code: "INVALID_ARGUMENT", operationId: o.operationId });
  // Nothing written: no new operation, and the grant is still in force.
  const after = await sam.query(api.ops.auditOperations, {
    paginationOpts: page(50),
  });
  expect(after.page.length).toBe(before.page.length);
  expect(await sam.query(api.ops.userGrants, { userId: "bob" })).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ role: "support", scope: "team:acme" }),
    ]),
  );
});

test("a time range bound that is not a finite number (NaN, ±Infinity) is INVALID_ARGUMENT on every trail read, not a silent empty page", async () => {
  const t = await exampleApp();
  await t.mutation(internal.init.seed, {});
  const sam = t.withIdentity({ subject: "sam" });
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(NaN, Infinity, -Infinity),
      fc.constantFrom("from" as const, "to" as const),
      fc.constantFrom(api.ops.auditTrail, api.ops.auditOperations),
      async (bad, key, fn) => {
        expect(
          await refusal(
            sam.query(fn, { [key]: bad, paginationOpts: page(10) }),
          ),
        ).toMatchObject({ code: "INVALID_ARGUMENT" });
      },
    ),
    { seed: 42, numRuns: 20 },
  );
});

/**
 * Two defects the console attack found last session, pinned on their own:
 * an error message that repeated the caller's whole value (a 100 KB
 * operation id made a 100 KB message), and a forged or truncated page
 * cursor that failed with an uncoded `SyntaxError` from inside the
 * paginator instead of `INVALID_ARGUMENT`.
 */
import fc from "fast-check";
import { ConvexError } from "convex/values";
import { describe, expect, test } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import { MAX_ECHO_CHARS, shown } from "../internal.js";
import { exampleApp } from "../example/setup";
import { outcome } from "./harness";
import { captureLogs } from "../helpers.js";

captureLogs();

const REASON = "SUP-6 hostile input";

describe("error messages show a bounded form of the caller's value", () => {
  test("shown() is short for any value and keeps short strings whole", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 5000 }),
          fc.string({ unit: "grapheme", maxLength: 300 }),
          fc.anything(),
        ),
        (value) => {
          const text = shown(value);
          expect(text.length).toBeLessThanOrEqual(2 * MAX_ECHO_CHARS + 60);
          if (typeof value === "string" && value.length <= MAX_ECHO_CHARS)
            expect(text).toBe(JSON.stringify(value));
        },
      ),
      { seed: 42, numRuns: 300 },
    );
    expect(shown("x".repeat(100_000))).toContain(
      "a string of 100000 characters",
    );
  });

  test("a 100 KB operation id gets NOT_FOUND with a message under 200 characters", async () => {
    const t = await exampleApp();
    await t.mutation(internal.init.seed, {});
    const alice = t.withIdentity({ subject: "alice" });
    const huge = "k".repeat(100_000);
    for (const call of [
      alice.mutation(api.admin.revertOperation, {
        operationId: huge,
        reason: REASON,
      }),
      alice.mutation(api.ops.auditRevert, {
        operationId: huge,
        reason: REASON,
      }),
      alice.query(api.ops.auditOperation, { operationId: huge }),
    ]) {
      const result = await outcome(call);
      if (result.kind === "ok") continue; // a query may answer null
      expect(result.kind).toBe("coded");
      if (result.kind !== "coded") continue;
      expect(result.code).toBe("NOT_FOUND");
      expect(String(result.data.message).length).toBeLessThan(200);
      expect(JSON.stringify(result.data).length).toBeLessThan(400);
    }
  });
});

/** Cursors a client could forge: text, JSON of every shape, truncated real ones. */
const forgedCursor = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.jsonValue({ maxDepth: 2 }).map((x) => JSON.stringify(x)),
  fc
    .array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 6 })
    .map((x) => JSON.stringify(x)),
  fc.constantFrom(
    "",
    "[",
    "[]",
    '[{"$integer":"x"}]',
    '[{"$bytes":"abc"}]',
    '[{"$float":"AAAA"}]',
    '["x",1,"y",2,"z",3,4,5]',
    "[null,null,null,null,null,null]",
    "x".repeat(10_000),
  ),
);

describe("a forged page cursor is INVALID_ARGUMENT, never an uncoded error", () => {
  test("auditLog list and listOperations, authz listMembers (through the app and the console)", async () => {
    const t = await exampleApp();
    await t.mutation(internal.init.seed, {});
    const alice = t.withIdentity({ subject: "alice" });
    await alice.mutation(api.ops.grantRole, {
      userId: "bob",
      role: "moderator",
      scope: "team:acme",
      reason: REASON,
    });
    const lists = [
      (cursor: string) =>
        alice.query(api.admin.auditTrail, {
          table: "users",
          paginationOpts: { numItems: 2, cursor },
        }),
      (cursor: string) =>
        alice.query(api.admin.auditOperations, {
          paginationOpts: { numItems: 2, cursor },
        }),
      (cursor: string) =>
        alice.query(api.ops.auditTrail, {
          paginationOpts: { numItems: 2, cursor },
        }),
      (cursor: string) =>
        alice.query(api.ops.auditOperations, {
          paginationOpts: { numItems: 2, cursor },
        }),
      (cursor: string) =>
        alice.query(api.ops.roleMembers, {
          scope: "team:acme",
          paginationOpts: { numItems: 2, cursor },
        }),
      (cursor: string) =>
        alice.query(api.ops.roleMembers, {
          paginationOpts: { numItems: 2, cursor },
        }),
    ];
    await fc.assert(
      fc.asyncProperty(
        forgedCursor,
        fc.integer({ min: 0, max: lists.length - 1 }),
        async (cursor, which) => {
          const result = await outcome(lists[which](cursor));
          if (result.kind === "uncoded")
            throw new Error(
              `list ${which}, cursor ${shown(cursor)}: ${String(result.error).slice(0, 200)}`,
            );
          if (result.kind === "coded")
            expect(result.code).toBe("INVALID_ARGUMENT");
          else expect(result.kind).toBe("ok");
        },
      ),
      { seed: 42, numRuns: 150 },
    );
  });

  test("the migrations runner refuses a forged cursor before reading, and writes nothing", async () => {
    const t = await exampleApp();
    await t.mutation(internal.init.seed, {});
    const posts = () => t.run((ctx) => ctx.db.query("posts").collect());
    const before = await posts();
    for (const cursor of ["SUP-1 a reason", "[", '{"a":1}', "7"]) {
      const result = await outcome(
        t.mutation(internal.migrations.run, {
          fn: "migrations:backfillWordCount",
          cursor,
        }),
      );
      expect(result).toMatchObject({ kind: "coded", code: "INVALID_ARGUMENT" });
    }
    expect(await posts()).toEqual(before);
    void ConvexError;
  });
});

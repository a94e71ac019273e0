/**
 * Independent attack on issue 11 item 2, from untyped callers (the
 * dashboard, `npx convex run` with JSON args, `any`): every argument of
 * `list` and `listOperations` is honoured or refused with
 * `INVALID_ARGUMENT`, never dropped. `listOperations` used to ignore
 * `table`/`kind`/`docId` (returning every operation), a `NaN` time bound
 * silently emptied (`from`) or widened (`to`) the range, and a bad `order`
 * or missing `paginationOpts` surfaced as an uncoded validator error.
 */
import { anyApi } from "convex/server";
import { ConvexError } from "convex/values";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { captureLogs, components } from "../helpers.js";
import { auditTest } from "./setup.js";

const api = anyApi.app;
const reason = "OPS-42 routine role cleanup";
captureLogs();

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date("2026-03-01T10:00:00Z"));
});
afterEach(() => vi.useRealTimers());

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => "ok",
    (e) =>
      e instanceof ConvexError
        ? (e.data as { code: string }).code
        : `uncoded: ${String(e).slice(0, 80)}`,
  );

async function log() {
  const t = auditTest();
  const admin = t.withIdentity({ subject: "admin" });
  const ann = await t.mutation(api.seedUser, { name: "ann" });
  for (let i = 0; i < 3; i++) {
    vi.advanceTimersByTime(1000);
    await admin.mutation(api.setUserRole, {
      userId: ann,
      role: `r${i}`,
      reason,
    });
  }
  return t;
}

const page = { numItems: 10, cursor: null };

describe("untyped list arguments are honoured or refused, never dropped", () => {
  test("listOperations refuses filters it does not have (table, docId, kind, unknown keys)", async () => {
    const t = await log();
    for (const extra of [
      { table: "users" },
      { docId: "x" },
      { kind: "patch" },
      { actor: "admin" },
    ])
      expect([
        extra,
        await codeOf(
          t.query(api.listOperations, {
            args: { ...extra, paginationOpts: page },
          }),
        ),
      ]).toEqual([extra, "INVALID_ARGUMENT"]);
  });

  test("a time bound that is not a number (NaN) or a bad order or page is INVALID_ARGUMENT in list and listOperations (property)", async () => {
    const t = await log();
    const bad = fc.oneof(
      fc.record({
        from: fc.constant(Number.NaN),
        paginationOpts: fc.constant(page),
      }),
      fc.record({
        to: fc.constant(Number.NaN),
        paginationOpts: fc.constant(page),
      }),
      fc.record({
        order: fc.string().filter((s) => s !== "asc" && s !== "desc"),
        paginationOpts: fc.constant(page),
      }),
      fc.record({
        order: fc.constant(null),
        paginationOpts: fc.constant(page),
      }),
      fc.constant({}),
      fc.record({ paginationOpts: fc.constant(null) }),
      fc.record({
        paginationOpts: fc.record({
          numItems: fc.constant(5),
          cursor: fc.integer(),
        }),
      }),
    );
    await fc.assert(
      fc.asyncProperty(
        bad,
        fc.constantFrom(api.list, api.listOperations),
        async (args, fn) => {
          expect(await codeOf(t.query(fn, { args }))).toBe("INVALID_ARGUMENT");
        },
      ),
      { seed: 42, numRuns: 60 },
    );
  });

  test("infinite bounds are honoured (they are numbers)", async () => {
    const t = await log();
    const r = await t.query(api.list, {
      args: { from: -Infinity, to: Infinity, paginationOpts: page },
    });
    expect(r.page).toHaveLength(3);
  });
});

describe("the component's list queries, called directly", () => {
  test("a NaN time bound is INVALID_ARGUMENT (dashboard or `npx convex run --component`)", async () => {
    const t = await log();
    // Untyped, as the dashboard or `npx convex run --component` calls it.
    const run = t.query as unknown as (
      fn: unknown,
      args: Record<string, unknown>,
    ) => Promise<unknown>;
    for (const fn of [
      components.auditLog.queries.listEntries,
      components.auditLog.queries.listOperations,
    ])
      for (const bound of [{ from: Number.NaN }, { to: Number.NaN }])
        expect(
          await codeOf(run(fn, { by: {}, ...bound, paginationOpts: page })),
        ).toBe("INVALID_ARGUMENT");
  });
});

/**
 * Independent attack on issue 11 item 2: `auditLog.list` (and
 * `listOperations`) cursors. A cursor names a position in one index, so
 * reusing it with other filters, another time range or order must be
 * refused with `INVALID_ARGUMENT`, never served: it used to return a page
 * from a wrong position (an empty page for `table + actorId`, a restart for
 * `actorId`), i.e. filters silently honoured wrongly. Forged cursors are
 * `INVALID_ARGUMENT` too, not a raw `TypeError`. Pages stay exact while
 * other admin calls append between them.
 */
import { anyApi } from "convex/server";
import { ConvexError } from "convex/values";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { captureLogs } from "../helpers.js";
import { auditTest } from "./setup.js";

const api = anyApi.app;
const reason = "OPS-42 routine role cleanup";
captureLogs();

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date("2026-03-01T10:00:00Z"));
});
afterEach(() => vi.useRealTimers());

type Entry = { entryId: string; actorId: string; table: string; time: number };

async function log(calls = 6) {
  const t = auditTest();
  const admin = t.withIdentity({ subject: "admin" });
  const support = t.withIdentity({ subject: "support" });
  const ann = await t.mutation(api.seedUser, { name: "ann" });
  const write = async (i: number) => {
    vi.advanceTimersByTime(1000);
    await (i % 2 ? admin : support).mutation(api.setUserRole, {
      userId: ann,
      role: `r${i}`,
      reason,
    });
  };
  for (let i = 0; i < calls; i++) await write(i);
  return { t, write, start: Date.now() - calls * 1000 };
}

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => "ok",
    (e) =>
      e instanceof ConvexError
        ? (e.data as { code: string }).code
        : `uncoded: ${String(e).slice(0, 80)}`,
  );

/** Filters `list` accepts, each with and without a time range and order. */
const filters = (start: number): Record<string, unknown>[] => [
  {},
  { table: "users" },
  { actorId: "admin" },
  { kind: "patch" },
  { table: "users", actorId: "admin" },
  { actorId: "admin", kind: "patch" },
  { from: start },
  { table: "users", to: start + 10_000 },
  { order: "asc" },
  { actorId: "admin", order: "asc" },
];

describe("list cursors are bound to the list they came from", () => {
  test("a cursor reused with other filters, range or order is refused, never served (property)", async () => {
    const { t, start } = await log();
    const all = filters(start);
    await fc.assert(
      fc.asyncProperty(
        fc.nat(all.length - 1),
        fc.nat(all.length - 1),
        async (a, b) => {
          const first = await t.query(api.list, {
            args: { ...all[a], paginationOpts: { numItems: 1, cursor: null } },
          });
          const reuse = t.query(api.list, {
            args: {
              ...all[b],
              paginationOpts: { numItems: 10, cursor: first.continueCursor },
            },
          });
          expect(await codeOf(reuse)).toBe(a === b ? "ok" : "INVALID_ARGUMENT");
        },
      ),
      { seed: 42, numRuns: 60 },
    );
  });

  test("listOperations refuses a cursor of another filter too", async () => {
    const { t } = await log();
    const first = await t.query(api.listOperations, {
      args: { paginationOpts: { numItems: 1, cursor: null } },
    });
    expect(
      await codeOf(
        t.query(api.listOperations, {
          args: {
            actorId: "admin",
            paginationOpts: { numItems: 1, cursor: first.continueCursor },
          },
        }),
      ),
    ).toBe("INVALID_ARGUMENT");
    const fromEntries = await t.query(api.list, {
      args: { paginationOpts: { numItems: 1, cursor: null } },
    });
    expect(
      await codeOf(
        t.query(api.listOperations, {
          args: {
            paginationOpts: { numItems: 1, cursor: fromEntries.continueCursor },
          },
        }),
      ),
    ).toBe("INVALID_ARGUMENT");
  });

  test("forged cursors are INVALID_ARGUMENT, not a TypeError", async () => {
    const { t } = await log(2);
    for (const cursor of ["garbage", "null", "[]", '["x"]', "", "{}", "[1,2]"])
      for (const fn of [api.list, api.listOperations])
        expect([
          cursor,
          await codeOf(
            t.query(fn, {
              args: { paginationOpts: { numItems: 5, cursor } },
            }),
          ),
        ]).toEqual([cursor, "INVALID_ARGUMENT"]);
  });

  test("paging with appends in between returns every entry of the first page's list exactly once (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...filters(0).slice(0, 6)),
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 6 }),
        async (filter, numItems, appendBetween) => {
          const { t, write } = await log(5);
          const before: Entry[] = (
            await t.query(api.list, {
              args: {
                ...filter,
                paginationOpts: { numItems: 100, cursor: null },
              },
            })
          ).page;
          const seen: Entry[] = [];
          let cursor: string | null = null;
          let i = 0;
          for (;;) {
            const page: {
              page: Entry[];
              isDone: boolean;
              continueCursor: string;
            } = await t.query(api.list, {
              args: { ...filter, paginationOpts: { numItems, cursor } },
            });
            seen.push(...page.page);
            if (page.isDone) break;
            cursor = page.continueCursor;
            if (appendBetween[i++ % appendBetween.length]) await write(100 + i);
          }
          // Newest first: entries appended later sort before the cursor.
          expect(seen.map((e) => e.entryId)).toEqual(
            before.map((e) => e.entryId),
          );
        },
      ),
      { seed: 42, numRuns: 10 },
    );
  });
});

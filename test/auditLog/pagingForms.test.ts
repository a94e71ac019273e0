/**
 * Independent attack on issue 13's new paging forms of the auditLog client:
 * `reconcileRecorded(ctx, { table, paginationOpts })` and
 * `getOperationPage(ctx, { operationId, paginationOpts })`.
 *
 * - The new and the deprecated forms walk the same documents and report the
 *   same drift (property, fixed seed), while documents change between pages.
 * - A cursor belongs to the walk it came from, as `list`'s do: one of
 *   another table's walk, another operation, `reconcile`'s table cursor, a
 *   made-up string or the deprecated form's bare document id/index is
 *   `INVALID_ARGUMENT`, never served from a wrong position (it used to be:
 *   another operation's cursor skipped that many of this operation's
 *   entries; another table's cursor skipped the documents sorting before it).
 * - A bad `numItems` (0, negative, fractional, NaN, over 500) is
 *   `INVALID_ARGUMENT` naming `paginationOpts.numItems` (it named `limit`, an
 *   argument the caller never passed).
 */
import { anyApi, paginationOptsValidator } from "convex/server";
import { v } from "convex/values";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { captureLogs, errorOf, fakeClock } from "../helpers.js";
import * as self from "./pagingForms.test.js";
import {
  adminMutation,
  auditLog,
  mutation,
  query,
  twoTablesTest,
} from "./twoTables.js";

const api = anyApi["pagingForms.test"];

/** Inserts `count` documents into `table` in one audited operation. */
export const insertMany = adminMutation({
  tables: ["users", "posts"],
  args: {
    table: v.union(v.literal("users"), v.literal("posts")),
    count: v.number(),
  },
  returns: v.array(v.string()),
  handler: async (ctx, { table, count }) => {
    const ids: string[] = [];
    for (let i = 0; i < count; i++)
      ids.push(await ctx.db.insert(table, { n: i }));
    return ids;
  },
});

/** An audited patch of an existing document (it enters the log now). */
export const touch = adminMutation({
  tables: ["users"],
  args: { docId: v.string() },
  returns: v.null(),
  handler: async (ctx, { docId }) => {
    const id = ctx.db.normalizeId("users", docId)!;
    await ctx.db.patch(id, { n: 7 });
    return null;
  },
});

/** An edit outside admin mutations: patch, delete, or insert (`docId` null). */
export const outOfBand = mutation({
  args: {
    table: v.union(v.literal("users"), v.literal("posts")),
    docId: v.union(v.string(), v.null()),
    op: v.union(v.literal("patch"), v.literal("delete"), v.literal("insert")),
  },
  returns: v.null(),
  handler: async (ctx, { table, docId, op }) => {
    if (op === "insert") {
      await ctx.db.insert(table, { n: -1 });
      return null;
    }
    const id = ctx.db.normalizeId(table, docId!);
    if (!id || !(await ctx.db.get(id))) return null;
    if (op === "patch") await ctx.db.patch(id, { n: 1000 });
    else await ctx.db.delete(id);
    return null;
  },
});

export const recordedPage = query({
  args: {
    table: v.union(v.literal("users"), v.literal("posts")),
    paginationOpts: paginationOptsValidator,
  },
  returns: v.any(),
  handler: async (ctx, args) => auditLog.reconcileRecorded(ctx, args),
});

export const recordedLegacy = query({
  args: {
    table: v.union(v.literal("users"), v.literal("posts")),
    cursor: v.union(v.string(), v.null()),
    limit: v.number(),
  },
  returns: v.any(),
  handler: async (ctx, args) => auditLog.reconcileRecorded(ctx, args),
});

export const tablePage = query({
  args: { paginationOpts: paginationOptsValidator },
  returns: v.any(),
  handler: async (ctx, { paginationOpts }) =>
    auditLog.reconcile(ctx, { table: "users", paginationOpts }),
});

export const operationPage = query({
  args: { operationId: v.string(), paginationOpts: paginationOptsValidator },
  returns: v.any(),
  handler: async (ctx, args) => auditLog.getOperationPage(ctx, args),
});

export const operationFromIndex = query({
  args: { operationId: v.string(), fromIndex: v.optional(v.number()) },
  returns: v.any(),
  handler: async (ctx, args) => auditLog.getOperationPage(ctx, args),
});

export const lastOperationId = query({
  args: {},
  returns: v.string(),
  handler: async (ctx) => {
    const page = await auditLog.listOperations(ctx, {
      paginationOpts: { numItems: 1, cursor: null },
    });
    return page.page[0].operationId;
  },
});

captureLogs();
fakeClock();

function setup() {
  const t = twoTablesTest("pagingForms.test", self);
  return { t, admin: t.withIdentity({ subject: "admin" }) };
}

type Drift = { docId: string; status: string };
type Setup = ReturnType<typeof setup>;

async function insert(s: Setup, table: "users" | "posts", count: number) {
  const ids: string[] = await s.admin.mutation(api.insertMany, {
    table,
    count,
    reason: "OPS-1 seed",
  });
  const operationId: string = await s.t.query(api.lastOperationId, {});
  return { ids, operationId };
}

/**
 * A user the log does not know yet, inserted first: its id sorts before the
 * recorded ones, so recording it later grows the start of a walk.
 */
async function unrecordedFirst(s: Setup): Promise<string> {
  await s.t.mutation(api.outOfBand, {
    table: "users",
    docId: null,
    op: "insert",
  });
  const page = await s.t.query(api.tablePage, {
    paginationOpts: { numItems: 1, cursor: null },
  });
  return page.drift[0].docId;
}

describe("reconcileRecorded: paginationOpts and the deprecated { cursor, limit } agree", () => {
  test("same documents checked, same drift, with out-of-band edits between pages (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 5 }),
        fc.array(
          fc.record({
            at: fc.nat(8),
            doc: fc.nat(20),
            op: fc.constantFrom("patch", "delete", "insert") as fc.Arbitrary<
              "patch" | "delete" | "insert"
            >,
          }),
          { maxLength: 6 },
        ),
        async (count, numItems, edits) => {
          // Two identical logs: one walked by each form, the same edits
          // made after the same page.
          const walks = await Promise.all(
            ["new", "old"].map(async (form) => {
              const s = setup();
              const { ids } = await insert(s, "users", count);
              await insert(s, "posts", 2);
              const seen: string[] = [];
              const drift: Drift[] = [];
              let cursor: string | null = null;
              for (let page = 0; page < 100; page++) {
                for (const e of edits.filter((e) => e.at === page))
                  await s.t.mutation(api.outOfBand, {
                    table: "users",
                    docId: ids[e.doc % ids.length],
                    op: e.op,
                  });
                const r: {
                  page?: Drift[];
                  drift?: Drift[];
                  checked: number;
                  continueCursor: string | null;
                  isDone: boolean;
                } =
                  form === "new"
                    ? await s.t.query(api.recordedPage, {
                        table: "users",
                        paginationOpts: { numItems, cursor },
                      })
                    : await s.t.query(api.recordedLegacy, {
                        table: "users",
                        cursor,
                        limit: numItems,
                      });
                const found = (form === "new" ? r.page : r.drift)!;
                // Each store has its own ids: name documents by insert order.
                drift.push(
                  ...found.map((d) => ({
                    ...d,
                    docId: `#${ids.indexOf(d.docId)}`,
                  })),
                );
                seen.push(String(r.checked));
                if (r.isDone) break;
                cursor = r.continueCursor;
              }
              return { seen, drift };
            }),
          );
          expect(walks[0]).toEqual(walks[1]);
        },
      ),
      { seed: 1302, numRuns: 12 },
    );
  }, 120_000);
});

describe("reconcileRecorded({ paginationOpts }): a cursor belongs to its walk", () => {
  test("another table's cursor, reconcile's cursor, a made-up or bare-id cursor is INVALID_ARGUMENT", async () => {
    const s = setup();
    const users = await insert(s, "users", 4);
    const posts = await insert(s, "posts", 4);
    const first = await s.t.query(api.recordedPage, {
      table: "users",
      paginationOpts: { numItems: 2, cursor: null },
    });
    expect(first.isDone).toBe(false);
    const tableCursor = (
      await s.t.query(api.tablePage, {
        paginationOpts: { numItems: 2, cursor: null },
      })
    ).continueCursor;
    const sorted = [...posts.ids].sort();
    for (const [cursor, why] of [
      [first.continueCursor, "a users walk's cursor"],
      [tableCursor, "reconcile's cursor"],
      ["not-a-cursor", "made up"],
      [sorted[1], "a bare posts id (the deprecated form's cursor)"],
      [users.ids[0], "a bare users id"],
    ] as const) {
      const err = await errorOf(
        s.t.query(api.recordedPage, {
          table: "posts",
          paginationOpts: { numItems: 2, cursor },
        }),
      );
      expect(err.code, why).toBe("INVALID_ARGUMENT");
      expect(err.message, why).toMatch(
        /^reconcileRecorded's paginationOpts\.cursor must be null or the continueCursor of an earlier page of this table/,
      );
    }
    // Its own cursor goes on where it stopped, and the whole walk sees
    // every recorded document once.
    const seen: number[] = [first.checked];
    let cursor = first.continueCursor;
    for (;;) {
      const r = await s.t.query(api.recordedPage, {
        table: "users",
        paginationOpts: { numItems: 2, cursor },
      });
      seen.push(r.checked);
      if (r.isDone) break;
      cursor = r.continueCursor;
    }
    expect(seen.reduce((a, b) => a + b, 0)).toBe(4);
  });

  test("a refetch up to endCursor (usePaginatedQuery) covers exactly (cursor, endCursor]: no document lost when the log gains one before it", async () => {
    const s = setup();
    const early = await unrecordedFirst(s);
    const { ids } = await insert(s, "users", 4);
    // Drift on the second recorded document.
    await s.t.mutation(api.outOfBand, {
      table: "users",
      docId: ids[1],
      op: "patch",
    });
    const p1 = await s.t.query(api.recordedPage, {
      table: "users",
      paginationOpts: { numItems: 2, cursor: null },
    });
    const p2 = await s.t.query(api.recordedPage, {
      table: "users",
      paginationOpts: { numItems: 2, cursor: p1.continueCursor },
    });
    expect(p1.page.map((d: Drift) => d.docId)).toEqual([ids[1]]);
    // The early document enters the log; the loaded pages are refetched
    // with their ends fixed, as usePaginatedQuery does.
    await s.admin.mutation(api.touch, { docId: early, reason: "OPS-2 fix" });
    const r1 = await s.t.query(api.recordedPage, {
      table: "users",
      paginationOpts: {
        numItems: 2,
        cursor: null,
        endCursor: p1.continueCursor,
      },
    });
    const r2 = await s.t.query(api.recordedPage, {
      table: "users",
      paginationOpts: {
        numItems: 2,
        cursor: p1.continueCursor,
        endCursor: p2.continueCursor,
      },
    });
    expect(r1.continueCursor).toBe(p1.continueCursor);
    expect(r1.checked + r2.checked).toBe(5);
    expect(
      [...r1.page, ...r2.page].map((d: Drift) => [d.docId, d.status]),
    ).toEqual([[ids[1], "changed"]]);
  });

  test("a refetch range grown past 500 documents is split (SplitRequired, splitCursor), every document still walked once", async () => {
    const s = setup();
    const early = await unrecordedFirst(s);
    await insert(s, "users", 500);
    const p1 = await s.t.query(api.recordedPage, {
      table: "users",
      paginationOpts: { numItems: 500, cursor: null },
    });
    expect(p1.checked).toBe(500);
    await s.admin.mutation(api.touch, { docId: early, reason: "OPS-2 fix" });
    const r1 = await s.t.query(api.recordedPage, {
      table: "users",
      paginationOpts: {
        numItems: 500,
        cursor: null,
        endCursor: p1.continueCursor,
      },
    });
    expect(r1).toMatchObject({
      checked: 500,
      isDone: false,
      pageStatus: "SplitRequired",
      continueCursor: p1.continueCursor,
    });
    const rest = await s.t.query(api.recordedPage, {
      table: "users",
      paginationOpts: {
        numItems: 500,
        cursor: r1.splitCursor,
        endCursor: p1.continueCursor,
      },
    });
    expect(rest).toMatchObject({
      checked: 1,
      continueCursor: p1.continueCursor,
    });
    expect(rest.pageStatus).toBeUndefined();
  }, 60_000);

  test("numItems 0, negative, fractional, NaN or over 500 is INVALID_ARGUMENT naming paginationOpts.numItems", async () => {
    const s = setup();
    await insert(s, "users", 2);
    for (const numItems of [0, -1, 1.5, NaN, 501, Infinity]) {
      const err = await errorOf(
        s.t.query(api.recordedPage, {
          table: "users",
          paginationOpts: { numItems, cursor: null },
        }),
      );
      expect(err.code, String(numItems)).toBe("INVALID_ARGUMENT");
      expect(err.message, String(numItems)).toBe(
        `reconcileRecorded's paginationOpts.numItems must be an integer from 1 to 500; got ${numItems}`,
      );
    }
  });
});

describe("getOperationPage({ paginationOpts }): a cursor belongs to its operation", () => {
  test("another operation's cursor, a made-up or bare-index cursor is INVALID_ARGUMENT, never a page from a wrong position", async () => {
    const s = setup();
    const a = await insert(s, "users", 5);
    const b = await insert(s, "posts", 5);
    const pageA = await s.t.query(api.operationPage, {
      operationId: a.operationId,
      paginationOpts: { numItems: 2, cursor: null },
    });
    expect(pageA.isDone).toBe(false);
    for (const [cursor, why] of [
      [pageA.continueCursor, "operation a's cursor"],
      ["2", "a bare index (the deprecated form's nextIndex)"],
      ["x.2", "made up"],
    ] as const) {
      const err = await errorOf(
        s.t.query(api.operationPage, {
          operationId: b.operationId,
          paginationOpts: { numItems: 2, cursor },
        }),
      );
      expect(err.code, why).toBe("INVALID_ARGUMENT");
      expect(err.message, why).toMatch(
        /^getOperationPage's paginationOpts\.cursor must be null or the continueCursor of an earlier page of this operation/,
      );
    }
    // Each operation's own pages: every entry once, in index order, the
    // same as the deprecated form.
    for (const op of [a, b]) {
      const got: number[] = [];
      let cursor: string | null = null;
      for (;;) {
        const r: {
          page: Array<{ index: number }>;
          continueCursor: string;
          isDone: boolean;
        } = await s.t.query(api.operationPage, {
          operationId: op.operationId,
          paginationOpts: { numItems: 2, cursor },
        });
        expect(r.page.length).toBeLessThanOrEqual(2);
        got.push(...r.page.map((e) => e.index));
        if (r.isDone) break;
        cursor = r.continueCursor;
      }
      const legacy = await s.t.query(api.operationFromIndex, {
        operationId: op.operationId,
      });
      expect(got).toEqual(
        legacy.entries.map((e: { index: number }) => e.index),
      );
      expect(got).toEqual([0, 1, 2, 3, 4]);
    }
  });

  test("numItems 0, negative, fractional or NaN is INVALID_ARGUMENT naming paginationOpts.numItems", async () => {
    const s = setup();
    const a = await insert(s, "users", 2);
    for (const numItems of [0, -1, 1.5, NaN, Infinity]) {
      const err = await errorOf(
        s.t.query(api.operationPage, {
          operationId: a.operationId,
          paginationOpts: { numItems, cursor: null },
        }),
      );
      expect(err.code, String(numItems)).toBe("INVALID_ARGUMENT");
      expect(err.message, String(numItems)).toBe(
        `getOperationPage's paginationOpts.numItems must be a positive integer; got ${numItems}`,
      );
    }
    // A huge page is served as what fits (at most the operation).
    const r = await s.t.query(api.operationPage, {
      operationId: a.operationId,
      paginationOpts: { numItems: 1e9, cursor: null },
    });
    expect(r.page.length).toBe(2);
    expect(r.isDone).toBe(true);
  });
});

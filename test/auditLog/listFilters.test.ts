/**
 * `auditLog.list` filters (issue 11 item 2): `table + actorId` and
 * `actorId + kind` (each with `from`/`to`) are served by their own index, so
 * no filter is ever dropped and a page costs the same however many entries
 * the filters leave out; every other combination is `INVALID_ARGUMENT` at
 * runtime. Checked against an in-memory model over generated logs.
 */
import { anyApi } from "convex/server";
import { v } from "convex/values";
import fc from "fast-check";
import { describe, expect, test, vi } from "vitest";
import { LIST_FILTERS } from "convex-opskit/auditLog";
import { errorOf, fakeClock } from "../helpers.js";
import * as self from "./listFilters.test.js";
import { adminMutation, auditLog, query, twoTablesTest } from "./twoTables.js";

const api = anyApi["listFilters.test"];

/** One change of the given kind in the given table (insert, or patch/delete of an existing doc). */
export const change = adminMutation({
  tables: ["users", "posts"],
  args: {
    table: v.union(v.literal("users"), v.literal("posts")),
    kind: v.union(v.literal("insert"), v.literal("patch"), v.literal("delete")),
    count: v.number(),
  },
  returns: v.number(),
  handler: async (ctx, { table, kind, count }) => {
    let done = 0;
    for (let i = 0; i < count; i++) {
      if (kind === "insert") {
        await ctx.db.insert(table, { n: i });
        done++;
        continue;
      }
      const doc = await ctx.db.query(table).first();
      if (doc === null) {
        await ctx.db.insert(table, { n: i });
      } else if (kind === "patch") {
        await ctx.db.patch(doc._id, { n: doc.n + 1 });
      } else {
        await ctx.db.delete(doc._id);
      }
      done++;
    }
    return done;
  },
});

/** One page of `list`, with the documents the whole call read. */
export const listPage = query({
  args: { args: v.any() },
  returns: v.any(),
  handler: async (ctx, { args }) => {
    const page = await auditLog.list(ctx, args);
    const meta = (
      ctx as unknown as {
        meta: {
          getTransactionMetrics: () => Promise<{
            documentsRead: { used: number };
          }>;
        };
      }
    ).meta;
    return {
      ...page,
      documentsRead: (await meta.getTransactionMetrics()).documentsRead.used,
    };
  },
});

function setup() {
  return twoTablesTest("listFilters.test", self);
}

type Entry = {
  entryId: string;
  table: string;
  docId: string;
  actorId: string;
  kind: string;
  time: number;
};

async function listAll(
  t: ReturnType<typeof setup>,
  args: Record<string, unknown>,
  numItems: number,
): Promise<Entry[]> {
  const out: Entry[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 1000; i++) {
    const page: { page: Entry[]; isDone: boolean; continueCursor: string } =
      await t.query(api.listPage, {
        args: { ...args, paginationOpts: { numItems, cursor } },
      });
    out.push(...page.page);
    if (page.isDone) return out;
    cursor = page.continueCursor;
  }
  throw new Error("list never finished");
}

const T0 = Date.UTC(2026, 2, 1);
fakeClock(T0);

const ACTORS = ["ann", "bob", "cid"] as const;
const TABLES = ["users", "posts"] as const;
const KINDS = ["insert", "patch", "delete"] as const;

describe("combined filters match the model", () => {
  test("every supported combination, with time bounds and both orders, returns exactly the matching entries", async () => {
    const changeArb = fc.record({
      actor: fc.constantFrom(...ACTORS),
      table: fc.constantFrom(...TABLES),
      kind: fc.constantFrom(...KINDS),
      count: fc.integer({ min: 1, max: 3 }),
      step: fc.integer({ min: 0, max: 3 }),
    });
    const queryArb = fc.record({
      combo: fc.constantFrom(
        ...LIST_FILTERS.filter((c) => !c.includes("docId" as never)),
      ),
      actor: fc.constantFrom(...ACTORS),
      table: fc.constantFrom(...TABLES),
      kind: fc.constantFrom(...KINDS),
      from: fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined }),
      span: fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined }),
      order: fc.constantFrom("asc", "desc", undefined),
      numItems: fc.integer({ min: 1, max: 7 }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(changeArb, { minLength: 1, maxLength: 12 }),
        fc.array(queryArb, { minLength: 1, maxLength: 4 }),
        async (changes, queries) => {
          const t = setup();
          let now = T0;
          vi.setSystemTime(now);
          for (const c of changes) {
            now += c.step;
            vi.setSystemTime(now);
            await t.withIdentity({ subject: c.actor }).mutation(api.change, {
              table: c.table,
              kind: c.kind,
              count: c.count,
              reason: "generated",
            });
          }
          const all = await listAll(t, {}, 500);
          for (const q of queries) {
            const args: Record<string, unknown> = {};
            for (const k of q.combo)
              args[k] =
                k === "actorId" ? q.actor : k === "table" ? q.table : q.kind;
            const from = q.from === undefined ? undefined : T0 + q.from;
            const to = q.span === undefined ? undefined : (from ?? T0) + q.span;
            if (from !== undefined) args.from = from;
            if (to !== undefined) args.to = to;
            if (q.order) args.order = q.order;
            const got = await listAll(t, args, q.numItems);
            const expected = all.filter(
              (e) =>
                (args.table === undefined || e.table === args.table) &&
                (args.actorId === undefined || e.actorId === args.actorId) &&
                (args.kind === undefined || e.kind === args.kind) &&
                (from === undefined || e.time >= from) &&
                (to === undefined || e.time <= to),
            );
            expect(got.map((e) => e.entryId).sort()).toEqual(
              expected.map((e) => e.entryId).sort(),
            );
            const times = got.map((e) => e.time);
            const sorted = [...times].sort((a, b) =>
              q.order === "asc" ? a - b : b - a,
            );
            expect(times).toEqual(sorted);
          }
        },
      ),
      { seed: 42, numRuns: 25 },
    );
  });
});

describe("refusals", () => {
  test("a combination no index serves is INVALID_ARGUMENT, never a dropped filter", async () => {
    const t = setup();
    const paginationOpts = { numItems: 5, cursor: null };
    const refused: Array<Record<string, unknown>> = [
      { table: "users", kind: "delete" },
      { table: "users", actorId: "ann", kind: "delete" },
      { table: "users", docId: "x", actorId: "ann" },
      { table: "users", docId: "x", kind: "patch" },
      { docId: "x" },
      { actorId: "ann", docId: "x" },
    ];
    for (const filters of refused) {
      const e = await errorOf(
        t.query(api.listPage, { args: { ...filters, paginationOpts } }),
      );
      expect(e.code).toBe("INVALID_ARGUMENT");
      expect(e.message).toContain("no index serves it");
      expect(e.message).toContain("table + actorId");
    }
    // An unknown key (a typo) is refused rather than ignored.
    const typo = await errorOf(
      t.query(api.listPage, { args: { actor: "ann", paginationOpts } }),
    );
    expect(typo).toMatchObject({ code: "INVALID_ARGUMENT" });
    expect(typo.message).toContain('"actor"');
    // Values of the wrong shape are coded too, not a validator crash.
    for (const bad of [
      { kind: "update" },
      { actorId: "ann", kind: 3 },
      { table: "users", from: "yesterday" },
    ]) {
      const e = await errorOf(
        t.query(api.listPage, { args: { ...bad, paginationOpts } }),
      );
      expect(e.code, JSON.stringify(bad)).toBe("INVALID_ARGUMENT");
    }
  });
});

describe("cost", () => {
  test("a table + actor page and an actor + kind page read the same documents however many entries the filters leave out", async () => {
    const t = setup();
    const ann = t.withIdentity({ subject: "ann" });
    const bob = t.withIdentity({ subject: "bob" });
    await ann.mutation(api.change, {
      table: "users",
      kind: "insert",
      count: 12,
      reason: "seed",
    });
    const read = async () => ({
      tableActor: (
        await t.query(api.listPage, {
          args: {
            table: "users",
            actorId: "ann",
            paginationOpts: { numItems: 10, cursor: null },
          },
        })
      ).documentsRead,
      actorKind: (
        await t.query(api.listPage, {
          args: {
            actorId: "ann",
            kind: "insert",
            paginationOpts: { numItems: 10, cursor: null },
          },
        })
      ).documentsRead,
    });
    const before = await read();
    // Noise the filters must skip without reading: other actors in the same
    // table, the same actor in other tables and of other kinds.
    for (let i = 0; i < 3; i++) {
      vi.setSystemTime(T0 + 10 + i);
      await bob.mutation(api.change, {
        table: "users",
        kind: "insert",
        count: 100,
        reason: "noise",
      });
      await ann.mutation(api.change, {
        table: "posts",
        kind: "insert",
        count: 100,
        reason: "noise",
      });
      await ann.mutation(api.change, {
        table: "users",
        kind: "patch",
        count: 100,
        reason: "noise",
      });
    }
    expect(await read()).toEqual(before);
    expect(before.tableActor).toBeLessThanOrEqual(11);
  });
});

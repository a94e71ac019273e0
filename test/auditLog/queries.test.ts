import { anyApi } from "convex/server";
import { describe, expect, test, vi } from "vitest";
import { auditTest } from "./setup.js";
import { codeOf, captureLogs, fakeClock } from "../helpers.js";

const api = anyApi.app;
const reason = "SUP-1 query test data";
const T0 = new Date("2026-03-01T10:00:00Z").getTime();

captureLogs();
fakeClock(T0);

type Entry = {
  entryId: string;
  docId: string;
  table: string;
  kind: string;
  actorId: string;
  time: number;
};

/**
 * A log with `n` operations, one minute apart: ann's role changes (admin),
 * bo's renames (support), and every fifth call creates a user.
 */
async function log(n: number) {
  const t = auditTest();
  const admin = t.withIdentity({ subject: "admin" });
  const support = t.withIdentity({ subject: "support" });
  const ann = await t.mutation(api.seedUser, { name: "ann" });
  const bo = await t.mutation(api.seedUser, { name: "bo" });
  for (let i = 0; i < n; i++) {
    vi.setSystemTime(T0 + i * 60_000);
    if (i % 5 === 4)
      await admin.mutation(api.createUser, {
        name: `u${i}`,
        email: `u${i}@x`,
        role: "member",
        reason,
      });
    else if (i % 2 === 0)
      await admin.mutation(api.setUserRole, {
        userId: ann,
        role: `r${i}`,
        reason,
      });
    else
      await support.mutation(api.renameUser, {
        userId: bo,
        name: `bo${i}`,
        reason,
      });
  }
  const list = async (
    args: Record<string, unknown>,
  ): Promise<{
    page: Entry[];
    isDone: boolean;
    continueCursor: string;
  }> => t.query(api.list, { args });
  /** Every entry matching `args`, page by page. */
  const all = async (args: Record<string, unknown>, numItems = 7) => {
    const out: Entry[] = [];
    let cursor: string | null = null;
    for (;;) {
      const r = await list({ ...args, paginationOpts: { numItems, cursor } });
      out.push(...r.page);
      if (r.isDone) return out;
      cursor = r.continueCursor;
    }
  };
  return { t, ann, bo, list, all };
}

describe("list", () => {
  test("a document's history, newest first, paginated exactly", async () => {
    const { ann, all } = await log(30);
    const history = await all({ table: "users", docId: ann });
    // i even and not 4 mod 5: 0,2,6,8,10,12,16,18,20,22,26,28
    expect(history).toHaveLength(12);
    expect(new Set(history.map((e) => e.entryId)).size).toBe(12);
    expect(history.every((e) => e.docId === ann)).toBe(true);
    const times = history.map((e) => e.time);
    expect(times).toEqual([...times].sort((a, b) => b - a));
    const asc = await all({ table: "users", docId: ann, order: "asc" }, 5);
    expect(asc.map((e) => e.entryId)).toEqual(
      history.map((e) => e.entryId).reverse(),
    );
  });

  test("by table, by actor, by kind, and everything", async () => {
    const { all } = await log(30);
    expect(await all({ table: "users" })).toHaveLength(30);
    expect(await all({ table: "projects" })).toHaveLength(0);
    const bySupport = await all({ actorId: "support" });
    expect(bySupport).toHaveLength(12);
    expect(bySupport.every((e) => e.actorId === "support")).toBe(true);
    const inserts = await all({ kind: "insert" });
    expect(inserts).toHaveLength(6);
    expect(inserts.every((e) => e.kind === "insert")).toBe(true);
    expect(await all({})).toHaveLength(30);
  });

  test("time ranges are inclusive and combine with every index", async () => {
    const { ann, all } = await log(30);
    const from = T0 + 10 * 60_000;
    const to = T0 + 19 * 60_000;
    const window = await all({ from, to });
    expect(window).toHaveLength(10);
    expect(window.every((e) => e.time >= from && e.time <= to)).toBe(true);
    expect(await all({ table: "users", docId: ann, from, to })).toHaveLength(4);
    // Admin: role changes at 10, 12, 16, 18 and creates at 14, 19.
    expect(await all({ actorId: "admin", from, to })).toHaveLength(6);
    expect(await all({ kind: "insert", from, to })).toHaveLength(2);
  });

  test("operations by actor and by function, with their reasons", async () => {
    const { t } = await log(10);
    const ops = await t.query(api.listOperations, {
      args: {
        actorId: "support",
        paginationOpts: { numItems: 50, cursor: null },
      },
    });
    expect(ops.page).toHaveLength(4);
    expect(ops.page[0]).toMatchObject({
      actorId: "support",
      reason,
      functionName: "app:renameUser",
    });
    const creates = await t.query(api.listOperations, {
      args: {
        functionName: "app:createUser",
        paginationOpts: { numItems: 50, cursor: null },
      },
    });
    expect(creates.page).toHaveLength(2);
  });

  test("reading a page costs the same with a small and a large log", async () => {
    const small = await log(20);
    const large = await log(300);
    for (const by of [
      { table: "users" },
      { actorId: "admin" },
      { kind: "patch" },
      {},
    ]) {
      const args = { ...by, paginationOpts: { numItems: 10, cursor: null } };
      const a = await small.t.query(api.measuredList, { args });
      const b = await large.t.query(api.measuredList, { args });
      expect(a.items).toBe(10);
      expect(b).toEqual(a);
    }
    const doc = (ann: string) => ({
      table: "users",
      docId: ann,
      paginationOpts: { numItems: 5, cursor: null },
    });
    const a = await small.t.query(api.measuredList, { args: doc(small.ann) });
    const b = await large.t.query(api.measuredList, { args: doc(large.ann) });
    expect(b).toEqual(a);
  });

  test("bad arguments are refused with INVALID_ARGUMENT", async () => {
    const { t, list, ann } = await log(2);
    expect(
      await codeOf(list({ paginationOpts: { numItems: 501, cursor: null } })),
    ).toBe("INVALID_ARGUMENT");
    expect(
      await codeOf(list({ paginationOpts: { numItems: 0, cursor: null } })),
    ).toBe("INVALID_ARGUMENT");
    expect(
      await codeOf(
        list({
          from: 10,
          to: 5,
          paginationOpts: { numItems: 5, cursor: null },
        }),
      ),
    ).toBe("INVALID_ARGUMENT");
    expect(
      await codeOf(
        list({ docId: ann, paginationOpts: { numItems: 5, cursor: null } }),
      ),
    ).toBe("INVALID_ARGUMENT");
    expect(
      await codeOf(
        t.query(api.listOperations, {
          args: {
            actorId: "a",
            functionName: "b",
            paginationOpts: { numItems: 5, cursor: null },
          },
        }),
      ),
    ).toBe("INVALID_ARGUMENT");
  });
});

describe("history", () => {
  test("versions over time and the document as it was at a given time", async () => {
    const t = auditTest();
    const admin = t.withIdentity({ subject: "admin" });
    vi.setSystemTime(T0);
    const id = await admin.mutation(api.createUser, {
      name: "eve",
      email: "e@x",
      role: "member",
      reason,
    });
    vi.setSystemTime(T0 + 1000);
    await admin.mutation(api.setUserRole, {
      userId: id,
      role: "admin",
      reason,
    });
    vi.setSystemTime(T0 + 2000);
    await admin.mutation(api.renameUser, { userId: id, name: "eve2", reason });
    vi.setSystemTime(T0 + 3000);
    await admin.mutation(api.deleteUser, {
      userId: id,
      explicit: true,
      reason,
    });

    const versions = await t.query(api.history, {
      docId: id,
      paginationOpts: { numItems: 10, cursor: null },
    });
    expect(
      versions.page.map(
        (v: { kind: string; doc: { role?: string; name?: string } | null }) => [
          v.kind,
          v.doc?.name ?? null,
          v.doc?.role ?? null,
        ],
      ),
    ).toEqual([
      ["delete", null, null],
      ["patch", "eve2", "admin"],
      ["patch", "eve", "admin"],
      ["insert", "eve", "member"],
    ]);
    const at = (ms: number) =>
      t.query(api.documentAt, { docId: id, at: T0 + ms });
    expect(await at(-1)).toEqual({ known: true, doc: null });
    expect((await at(0)).doc).toMatchObject({ role: "member", name: "eve" });
    expect((await at(1500)).doc).toMatchObject({ role: "admin", name: "eve" });
    expect((await at(2999)).doc).toMatchObject({ role: "admin", name: "eve2" });
    expect(await at(3000)).toEqual({ known: true, doc: null });
  });

  test("a document the log knows nothing about is not known", async () => {
    const t = auditTest();
    const id = await t.mutation(api.seedUser, { name: "zoe" });
    expect(await t.query(api.documentAt, { docId: id, at: T0 })).toEqual({
      known: false,
      doc: null,
    });
  });

  test("a document first changed after `at` is known from that change's before", async () => {
    const t = auditTest();
    const id = await t.mutation(api.seedUser, { name: "zoe" });
    vi.setSystemTime(T0 + 5000);
    await t
      .withIdentity({ subject: "admin" })
      .mutation(api.setUserRole, { userId: id, role: "admin", reason });
    const r = await t.query(api.documentAt, { docId: id, at: T0 });
    expect(r.known).toBe(true);
    expect(r.doc).toMatchObject({ name: "zoe", role: "member" });
  });
});

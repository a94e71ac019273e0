/**
 * The audit log at Convex's storage limits (issue 10, items 2 and 3):
 * documents close to 1 MiB and nested to the 16-level limit are recorded,
 * diffed, listed, reverted and verified; a 30-call backlog on a 300 kB
 * document is sealed, verified and trimmed. convex-test runs with its
 * transaction limits on (16 MiB read/written per transaction), and every row
 * the component stores is checked against the document limits.
 */
import { describe, expect, test, vi } from "vitest";
import type { Value } from "convex/values";
import {
  documentSize,
  MAX_DOCUMENT_BYTES,
  MAX_NESTING,
  valueNesting,
  valuesEqual,
} from "../internal.js";
import { captureLogs, codeOf, errorOf, fakeClock } from "../helpers.js";
import { anyApiLarge as api, expectStorable, largeTest } from "./large.js";

const reason = "OPS-1 large document fix";
const T0 = Date.parse("2026-03-01T10:00:00Z");
const logs = captureLogs();

fakeClock(T0);

/** A `data` value that makes `{ name, data }` (with system fields) exactly `bytes` large. */
function dataOfSize(bytes: number, seed: string, name = "doc"): Value {
  const base = { words: [seed, "ü€𝄞"], n: 3.5, flag: true, blob: "" };
  const fixed = documentSize({ name, data: base } as Value);
  const fill = bytes - fixed;
  let blob = "";
  while (blob.length < fill) blob += `${seed}-${blob.length};`;
  return { ...base, blob: blob.slice(0, fill) };
}

/** `n` levels of nested objects. */
function deep(n: number, leaf: string): Value {
  return n === 0 ? leaf : { i: n, a: deep(n - 1, leaf) };
}

function withoutSystem(doc: Record<string, Value>) {
  const { _id, _creationTime, ...rest } = doc;
  void _id;
  void _creationTime;
  return rest;
}

describe("auditLog: documents as large and as deep as Convex accepts", () => {
  test("insert, patch, replace and delete of a document of 1 MiB - 64 bytes are recorded, listed, reverted and verified", async () => {
    const t = largeTest();
    const admin = t.withIdentity({ subject: "ops" });
    const near = MAX_DOCUMENT_BYTES - 64;
    const data1 = dataOfSize(near, "one");
    const id = await admin.mutation(api.insertDoc, {
      name: "doc",
      data: data1,
      reason,
    });
    const doc1 = await t.query(api.getDoc, { id });
    expect(documentSize(doc1)).toBeGreaterThan(near - 64);
    expect(documentSize(doc1)).toBeLessThanOrEqual(MAX_DOCUMENT_BYTES);

    vi.advanceTimersByTime(1000);
    await admin.mutation(api.renameDoc, { id, name: "DOC", reason });
    const doc2 = await t.query(api.getDoc, { id });
    vi.advanceTimersByTime(1000);
    const data3 = dataOfSize(near, "three", "DOC");
    await admin.mutation(api.replaceDoc, {
      id,
      name: "DOC",
      data: data3,
      reason,
    });
    const doc3 = await t.query(api.getDoc, { id });

    // History, newest first, with every version whole.
    const page = await t.query(api.list, {
      args: {
        table: "docs",
        docId: id,
        order: "asc",
        paginationOpts: { numItems: 10, cursor: null },
      },
    });
    expect(page.isDone).toBe(true);
    expect(page.page.map((e: { kind: string }) => e.kind)).toEqual([
      "insert",
      "patch",
      "replace",
    ]);
    const [ins, patch, repl] = page.page;
    expect(ins.before).toBeNull();
    expect(valuesEqual(ins.after, doc1)).toBe(true);
    expect(valuesEqual(patch.before, doc1)).toBe(true);
    expect(valuesEqual(patch.after, doc2)).toBe(true);
    expect(patch.changed).toEqual(["name"]);
    expect(valuesEqual(repl.after, doc3)).toBe(true);
    expect(repl.changed).toEqual(["data.blob", "data.words"]);

    // The operation's args (1 MiB of data) are stored and read back whole.
    const insertOp = await t.query(api.getOperation, {
      operationId: ins.operationId,
    });
    expect(valuesEqual(insertOp.operation.args.data, data1)).toBe(true);

    // documentAt reads the stored version.
    const at = await t.query(api.documentAt, { docId: id, at: T0 + 1500 });
    expect(valuesEqual(at.doc, doc2)).toBe(true);

    // Revert the patch (conflicts: the replace came after), then the replace.
    await expect(
      admin.mutation(api.revert, { operationId: patch.operationId, reason }),
    ).rejects.toThrow(/changed after/);
    vi.advanceTimersByTime(1000);
    await admin.mutation(api.revert, { entryId: repl.entryId, reason });
    expect(valuesEqual(await t.query(api.getDoc, { id }), doc2)).toBe(true);

    // Delete, then revert the delete: re-created with the same content.
    vi.advanceTimersByTime(1000);
    await admin.mutation(api.deleteDoc, { id, reason });
    const latest = await t.query(api.list, {
      args: {
        table: "docs",
        docId: id,
        paginationOpts: { numItems: 1, cursor: null },
      },
    });
    expect(latest.page[0].kind).toBe("delete");
    expect(valuesEqual(latest.page[0].before, doc2)).toBe(true);
    vi.advanceTimersByTime(1000);
    const undone = await admin.mutation(api.revert, {
      entryId: latest.page[0].entryId,
      reason,
    });
    const recreated = await t.query(api.getDoc, {
      id: undone.recreated[0].newDocId,
    });
    expect(withoutSystem(recreated)).toEqual(withoutSystem(doc2));

    await t.mutation(api.seal, {});
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const verified = await t.action(api.verify, {});
    expect(verified).toMatchObject({ ok: true, checked: 6, isDone: true });
    const counts = await expectStorable(t);
    expect(counts.snapshots).toBeGreaterThan(0);
  });

  test("a document nested to the 16-level limit is recorded, listed, reverted and verified", async () => {
    const t = largeTest();
    const admin = t.withIdentity({ subject: "ops" });
    const data = deep(MAX_NESTING - 1, "leaf");
    const id = await admin.mutation(api.insertDoc, {
      name: "deep",
      data,
      reason,
    });
    const before = await t.query(api.getDoc, { id });
    expect(valueNesting(before)).toBe(MAX_NESTING);
    vi.advanceTimersByTime(1000);
    await admin.mutation(api.patchDoc, {
      id,
      data: deep(MAX_NESTING - 1, "changed leaf"),
      reason,
    });
    const page = await t.query(api.history, {
      docId: id,
      paginationOpts: { numItems: 5, cursor: null },
    });
    expect(page.page[0].changed).toEqual([`data${".a".repeat(15)}`]);
    expect(valuesEqual(page.page[1].doc, before)).toBe(true);
    vi.advanceTimersByTime(1000);
    await admin.mutation(api.revert, {
      operationId: page.page[0].operationId,
      reason,
    });
    expect(valuesEqual(await t.query(api.getDoc, { id }), before)).toBe(true);
    await t.mutation(api.seal, {});
    expect(await t.action(api.verify, {})).toMatchObject({
      ok: true,
      checked: 3,
    });
    await expectStorable(t);
  });

  test("args beyond the inline size are stored across parts; beyond 4 MiB they are recorded by size and hash", async () => {
    const t = largeTest();
    const admin = t.withIdentity({ subject: "ops" });
    const id = await admin.mutation(api.insertDoc, {
      name: "x",
      data: null,
      reason,
    });
    const mid = "m".repeat(900_000);
    const huge = "h".repeat(5 * 1024 * 1024);
    await admin.mutation(api.bigArgs, { id, payload: mid, reason });
    await admin.mutation(api.bigArgs, { id, payload: huge, reason });
    const ops = await t.query(api.listOperations, {
      args: { order: "asc", paginationOpts: { numItems: 10, cursor: null } },
    });
    expect(ops.page[1].args).toEqual({ id, payload: mid });
    expect(ops.page[2].args).toEqual({
      omitted: true,
      bytes: expect.any(Number),
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(ops.page[2].args.bytes).toBeGreaterThan(5 * 1024 * 1024);
    await t.mutation(api.seal, {});
    expect(await t.action(api.verify, {})).toMatchObject({
      ok: true,
      checked: 3,
    });
    await expectStorable(t);
  });
});

describe("auditLog: one call changing several large documents", () => {
  test("four documents of 900 kB (7 MB of versions) are appended in several calls of the same transaction, read back and verified", async () => {
    const t = largeTest();
    const admin = t.withIdentity({ subject: "ops" });
    const ids = [];
    for (let i = 0; i < 4; i++)
      ids.push(
        await t.run(async (ctx) =>
          ctx.db.insert("docs", {
            name: `d${i}`,
            data: dataOfSize(900_000, `s${i}`, `d${i}`),
          }),
        ),
      );
    await admin.mutation(api.renameMany, { ids, name: "renamed", reason });
    const [op] = (
      await t.query(api.listOperations, {
        args: { paginationOpts: { numItems: 1, cursor: null } },
      })
    ).page;
    expect(op.entryCount).toBe(4);
    const detail = await t.query(api.getOperationPage, {
      operationId: op.operationId,
    });
    const got = [...detail.entries];
    let next = detail.nextIndex;
    while (next !== null) {
      const more = await t.query(api.getOperationPage, {
        operationId: op.operationId,
        fromIndex: next,
      });
      got.push(...more.entries);
      next = more.nextIndex;
    }
    expect(got.map((e: { index: number }) => e.index)).toEqual([0, 1, 2, 3]);
    // Convex's paging: at most numItems entries a page, the cursor is the
    // next index; the deprecated fromIndex form above stays.
    const paged: Array<{ entryId: string }> = [];
    let cursor: string | null = null;
    const sizes: number[] = [];
    for (;;) {
      const r: {
        operation: { operationId: string };
        page: Array<{ entryId: string }>;
        continueCursor: string;
        isDone: boolean;
      } = await t.query(api.getOperationPaged, {
        operationId: op.operationId,
        paginationOpts: { numItems: 3, cursor },
      });
      expect(r.operation.operationId).toBe(op.operationId);
      paged.push(...r.page);
      sizes.push(r.page.length);
      if (r.isDone) break;
      cursor = r.continueCursor;
    }
    expect(paged.map((e) => e.entryId)).toEqual(
      got.map((e: { entryId: string }) => e.entryId),
    );
    expect(sizes.every((n) => n >= 1 && n <= 3)).toBe(true);
    const badCursor = await errorOf(
      t.query(api.getOperationPaged, {
        operationId: op.operationId,
        paginationOpts: { numItems: 3, cursor: "[1]" },
      }),
    );
    expect(badCursor.code).toBe("INVALID_ARGUMENT");
    expect(badCursor.message).toMatch(
      /^getOperationPage's paginationOpts.cursor must be null or the continueCursor/,
    );
    // getOperation collects every page: the same entries, without a cursor.
    const all = await t.query(api.getOperation, {
      operationId: op.operationId,
    });
    expect(Object.keys(all).sort()).toEqual(["entries", "operation"]);
    expect(all.entries.map((e: { entryId: string }) => e.entryId)).toEqual(
      got.map((e: { entryId: string }) => e.entryId),
    );
    for (const [i, e] of got.entries()) {
      expect(e.after.name).toBe("renamed");
      expect(e.before.name).toBe(`d${i}`);
      expect(e.changed).toEqual(["name"]);
    }
    await t.mutation(api.seal, {});
    expect(await t.action(api.verify, {})).toMatchObject({
      ok: true,
      checked: 1,
    });
    await expectStorable(t);
  });
});

describe("auditLog: byte budgets (30 admin calls on one 300 kB document)", () => {
  async function backlog() {
    const t = largeTest();
    const admin = t.withIdentity({ subject: "ops" });
    const id = await admin.mutation(api.insertDoc, {
      name: "n0",
      data: dataOfSize(300_000, "big"),
      reason,
    });
    for (let i = 1; i < 30; i++) {
      vi.advanceTimersByTime(1000);
      await admin.mutation(api.renameDoc, { id, name: `n${i}`, reason });
    }
    return { t, admin, id };
  }

  test("seal, verify (default page size) and retention all complete with the transaction limits on", async () => {
    const { t, id } = await backlog();
    // ~18 MB of before/after waits to be sealed: more than one transaction may read.
    await t.mutation(api.seal, {});
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const head = await t.query(api.raw, {
      fn: "rows",
      args: { table: "chain" },
    });
    expect(head).toEqual([expect.objectContaining({ name: "head", seq: 30 })]);

    // From an action each page is its own transaction: all 30, several pages.
    const verified = await t.action(api.verify, {});
    expect(verified).toMatchObject({
      ok: true,
      checked: 30,
      isDone: true,
      pendingSeal: false,
    });
    // From a query every page shares one transaction: it stops when the
    // budget is spent, without failing, and says where to continue.
    const partial = await t.query(api.verifyQuery, {});
    expect(partial.ok).toBe(true);
    expect(partial.isDone).toBe(false);
    expect(partial.checked).toBeGreaterThan(0);
    expect(partial.checked).toBeLessThan(30);
    let rest = partial;
    let total = partial.checked;
    while (!rest.isDone) {
      rest = await t.query(api.verifyQuery, {
        args: { fromSeq: rest.nextSeq, fromSnapshot: rest.nextSnapshot },
      });
      expect(rest.ok).toBe(true);
      total += rest.checked;
    }
    expect(total).toBe(30);

    // A list page of 30 versions (18 MB) is cut to what a query may return,
    // and paging through returns each exactly once.
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    for (;;) {
      const page: {
        page: Array<{ entryId: string }>;
        isDone: boolean;
        continueCursor: string;
      } = await t.query(api.list, {
        args: {
          table: "docs",
          docId: id,
          paginationOpts: { numItems: 30, cursor },
        },
      });
      pages += 1;
      seen.push(...page.page.map((e) => e.entryId));
      if (page.isDone) break;
      cursor = page.continueCursor;
    }
    expect(pages).toBeGreaterThan(1);
    expect(new Set(seen).size).toBe(30);
    // A reactive refetch up to the first page's end gets that page again.
    const listArgs = (paginationOpts: Record<string, unknown>) => ({
      args: { table: "docs", docId: id, paginationOpts },
    });
    const first = await t.query(
      api.list,
      listArgs({ numItems: 30, cursor: null }),
    );
    const again = await t.query(
      api.list,
      listArgs({ numItems: 30, cursor: null, endCursor: first.continueCursor }),
    );
    const ids = (p: { page: Array<{ entryId: string }> }) =>
      p.page.map((e) => e.entryId);
    expect(ids(again)).toEqual(ids(first));
    expect(again.continueCursor).toBe(first.continueCursor);

    // Retention deletes all 30 (and their snapshot parts) in several batches.
    vi.advanceTimersByTime(2 * 24 * 60 * 60 * 1000);
    await t.mutation(api.runRetention, {});
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const [run] = await t.query(api.retentionRuns, {});
    expect(run).toMatchObject({
      status: "done",
      deletedOperations: 30,
      deletedEntries: 30,
      anchorSeq: 30,
    });
    expect(run.batches).toBeGreaterThan(1);
    const counts = await expectStorable(t);
    expect(counts).toMatchObject({ operations: 0, entries: 0, snapshots: 0 });
    expect(await t.action(api.verify, {})).toMatchObject({
      ok: true,
      checked: 0,
    });
    expect(logs.filter((l) => l.event === "auditLog.retention")).toHaveLength(
      1,
    );
  });

  test("reconcile loads recorded versions while the transaction has room, and compares the rest by hash", async () => {
    const t = largeTest();
    const admin = t.withIdentity({ subject: "ops" });
    const ids = [];
    for (let i = 0; i < 20; i++) {
      const id = await t.run(async (ctx) =>
        ctx.db.insert("docs", {
          name: `d${i}`,
          data: dataOfSize(500_000, `r${i}`, `d${i}`),
        }),
      );
      await admin.mutation(api.renameDoc, { id, name: `e${i}`, reason });
      ids.push(id);
    }
    // Reading 20 live documents (10 MB) leaves too little of the 16 MiB
    // for 20 recorded versions: the later ones are compared by hash.
    const clean = await t.query(api.reconcile, {
      paginationOpts: { numItems: 20, cursor: null },
    });
    expect(clean).toMatchObject({ checked: 20, drift: [] });
    await t.mutation(api.outOfBand, { id: ids[0], name: "x0" });
    await t.mutation(api.outOfBand, { id: ids[19], name: "x19" });
    const page = await t.query(api.reconcile, {
      paginationOpts: { numItems: 20, cursor: null },
    });
    expect(page.drift).toEqual([
      {
        docId: ids[0],
        status: "changed",
        changed: ["name"],
        lastEntryId: expect.any(String),
      },
      {
        docId: ids[19],
        status: "changed",
        changed: [],
        changedUnknown: true,
        lastEntryId: expect.any(String),
      },
    ]);
    // The walk over recorded documents leaves room for the live reads that
    // follow it, and finds the same two.
    // (A page ends once its live reads reach 6 MiB: 20 x 500 kB take two.)
    const recorded = { checked: 0, drift: [] as Array<{ docId: string }> };
    let cursor: string | null = null;
    for (;;) {
      const page: {
        checked: number;
        drift: Array<{ docId: string }>;
        continueCursor: string | null;
        isDone: boolean;
      } = await t.query(api.reconcileRecorded, { cursor, limit: 20 });
      recorded.checked += page.checked;
      recorded.drift.push(...page.drift);
      if (page.isDone) break;
      cursor = page.continueCursor;
    }
    expect(recorded.checked).toBe(20);
    expect(recorded.drift.map((d) => d.docId).sort()).toEqual(
      [ids[0], ids[19]].sort(),
    );
  });
});

describe("auditLog: hostile input at the limits", () => {
  const operation = {
    actorId: "x",
    actorKind: "user",
    roles: [],
    functionName: "raw",
    reason: "OPS-9 direct call",
    args: {},
    request: null,
    time: 0,
    tables: ["docs"],
  };
  const entry = (i: number) => ({
    table: "docs",
    docId: `d${i}`,
    kind: "insert" as const,
    before: null,
    after: { i },
    changed: ["i"],
  });

  test("direct appends that could not be stored are INVALID_ARGUMENT and write nothing", async () => {
    const t = largeTest();
    const append = (args: Record<string, unknown>) =>
      codeOf(t.mutation(api.appendDirect, { fn: "append", args }));
    // A document id no row could hold, roles no row could hold, args past 4 MiB.
    expect(
      await append({
        operation,
        entries: [{ ...entry(0), docId: "d".repeat(100_000) }],
      }),
    ).toBe("INVALID_ARGUMENT");
    expect(
      await append({
        operation: { ...operation, roles: ["r".repeat(1_100_000)] },
        entries: [],
      }),
    ).toBe("INVALID_ARGUMENT");
    expect(
      await append({
        operation: { ...operation, args: { x: "a".repeat(4_300_000) } },
        entries: [],
      }),
    ).toBe("INVALID_ARGUMENT");
    // Past 4 MiB as a Convex value under 1 MiB of JSON text (attack: the
    // text bound alone let it through).
    expect(
      await append({
        operation: {
          ...operation,
          args: { x: new Array(70).fill(new Array(8192).fill(0)) },
        },
        entries: [],
      }),
    ).toBe("INVALID_ARGUMENT");
    expect(
      await append({ operation, entries: [entry(0)], entryCount: 0 }),
    ).toBe("INVALID_ARGUMENT");
    expect(await expectStorable(t)).toMatchObject({
      operations: 0,
      entries: 0,
      snapshots: 0,
    });
  });

  test("appendEntries only completes a pending operation, in order, up to its count", async () => {
    const t = largeTest();
    const operationId = await t.mutation(api.appendDirect, {
      fn: "append",
      args: { operation, entries: [entry(0)], entryCount: 2 },
    });
    const more = (fromIndex: number, n: number) =>
      codeOf(
        t.mutation(api.appendDirect, {
          fn: "appendEntries",
          args: {
            operationId,
            fromIndex,
            entries: Array.from({ length: n }, (_, i) => entry(fromIndex + i)),
          },
        }),
      );
    expect(await more(0, 1)).toBe("INVALID_ARGUMENT");
    expect(await more(1, 2)).toBe("INVALID_ARGUMENT");
    expect(await more(1, 1)).toBe("ok");
    expect(await more(2, 1)).toBe("INVALID_ARGUMENT");
    await t.mutation(api.seal, {});
    expect(await more(2, 0)).toBe("INVALID_ARGUMENT");
    expect(await t.action(api.verify, {})).toMatchObject({
      ok: true,
      checked: 1,
    });
  });

  test("an operation that never received its declared entries is reported by verify", async () => {
    const t = largeTest();
    await t.mutation(api.appendDirect, {
      fn: "append",
      args: { operation, entries: [entry(0)], entryCount: 3 },
    });
    await t.mutation(api.seal, {});
    const result = await t.action(api.verify, {});
    expect(
      result.problems.map((p: { kind: string; entryIndex: number }) => [
        p.kind,
        p.entryIndex,
      ]),
    ).toEqual([
      ["entryMissing", 1],
      ["entryMissing", 2],
    ]);
    expect(logs.filter((l) => l.event === "auditLog.tamper")[0]).toMatchObject({
      stage: "seal",
      problems: 2,
    });
  });

  test("page positions must be non-negative integers", async () => {
    const t = largeTest();
    expect(
      await codeOf(
        t.query(api.queryDirect, {
          module: "chain",
          fn: "verify",
          args: { fromSeq: 1, fromSnapshot: -1 },
        }),
      ),
    ).toBe("INVALID_ARGUMENT");
    expect(
      await codeOf(
        t.query(api.queryDirect, {
          module: "queries",
          fn: "getOperation",
          args: { operationId: "x", fromIndex: 1.5 },
        }),
      ),
    ).toBe("INVALID_ARGUMENT");
  });

  test("thousands of changed fields keep about 2 KiB of paths and count the rest", async () => {
    const t = largeTest();
    const admin = t.withIdentity({ subject: "ops" });
    const data = Object.fromEntries(
      Array.from({ length: 3000 }, (_, i) => [`field${i}`, i]),
    );
    const id = await admin.mutation(api.insertDoc, {
      name: "wide",
      data,
      reason,
    });
    const changed = Object.fromEntries(
      Array.from({ length: 3000 }, (_, i) => [`field${i}`, -i - 1]),
    );
    await admin.mutation(api.patchDoc, { id, data: changed, reason });
    const [latest] = (
      await t.query(api.list, {
        args: {
          table: "docs",
          docId: id,
          paginationOpts: { numItems: 1, cursor: null },
        },
      })
    ).page;
    expect(latest.changedTotal).toBe(3000);
    expect(latest.changed.length).toBeGreaterThan(50);
    expect(latest.changed.length).toBeLessThan(3000);
    expect(valuesEqual(latest.after.data, changed)).toBe(true);
    const write = logs.filter((l) => l.event === "auditLog.write").pop() as {
      changes: Array<{ changed: string[]; changedTotal: number }>;
    };
    expect(write.changes[0].changed).toHaveLength(20);
    expect(write.changes[0].changedTotal).toBe(3000);
    await t.mutation(api.seal, {});
    expect(await t.action(api.verify, {})).toMatchObject({
      ok: true,
      checked: 2,
    });
    await expectStorable(t);
  });
});

describe("auditLog: operations of many inline entries", () => {
  test("three operations of 900 entries of 7 kB (19 MB of rows) seal, verify and trim in byte-sized transactions", async () => {
    const t = largeTest();
    const operation = {
      actorId: "bulk",
      actorKind: "service",
      roles: [],
      functionName: "bulk:import",
      reason: "OPS-7 bulk import",
      args: {},
      request: null,
      time: T0,
      tables: ["docs"],
    };
    for (let op = 0; op < 3; op++)
      await t.mutation(api.appendDirect, {
        fn: "append",
        args: {
          operation,
          entries: Array.from({ length: 900 }, (_, i) => ({
            table: "docs",
            docId: `d${op}_${i}`,
            kind: "insert",
            before: null,
            after: { text: `${op}:${i}:`.padEnd(7000, "x") },
            changed: ["text"],
          })),
        },
      });
    const first = await t.mutation(api.seal, {});
    expect(first).toEqual({ sealed: 1, more: true });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const verified = await t.action(api.verify, {});
    expect(verified).toMatchObject({ ok: true, checked: 3, isDone: true });
    vi.advanceTimersByTime(2 * 24 * 60 * 60 * 1000);
    await t.mutation(api.runRetention, {});
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const [run] = await t.query(api.retentionRuns, {});
    expect(run).toMatchObject({
      status: "done",
      deletedOperations: 3,
      deletedEntries: 2700,
    });
    expect(run.batches).toBeGreaterThanOrEqual(3);
  });
});

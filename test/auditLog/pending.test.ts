/**
 * Tampering before sealing, and entry ids (issue 11, item 3): each operation
 * records its entry count and its entries' hashes (ids included) when it is
 * appended, so deleting or forging an entry of a pending operation, or
 * swapping two entries' contents, is reported by seal (a log line) and by
 * verify (a problem, forever after). Also: values stored across snapshot
 * parts are rehashed byte for byte by verify.
 */
import { anyApi } from "convex/server";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { captureLogs } from "../helpers.js";
import { auditTest } from "./setup.js";

const api = anyApi.app;
const reason = "OPS-42 routine role cleanup";
const logs = captureLogs();

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date("2026-03-01T10:00:00Z"));
});
afterEach(() => vi.useRealTimers());

type Row = Record<string, unknown> & { _id: string };

async function pendingLog() {
  const t = auditTest();
  const admin = t.withIdentity({ subject: "admin" });
  const ann = await t.mutation(api.seedUser, { name: "ann" });
  const bo = await t.mutation(api.seedUser, { name: "bo" });
  await admin.mutation(api.setUserRole, { userId: ann, role: "a", reason });
  vi.advanceTimersByTime(1000);
  await admin.mutation(api.bulkEdit, {
    userIds: [ann, bo],
    suffix: "x",
    reason,
  });
  vi.advanceTimersByTime(1000);
  await admin.mutation(api.setUserRole, { userId: bo, role: "b", reason });
  const rows = async (table: string): Promise<Row[]> =>
    t.query(api.raw, { fn: "rows", args: { table } });
  const ops = (await rows("operations")).sort(
    (a, b) => (a.time as number) - (b.time as number),
  );
  const entriesOf = async (op: Row) =>
    (await rows("entries"))
      .filter((e) => e.operationId === op._id)
      .sort((a, b) => (a.index as number) - (b.index as number));
  const tamper = (fn: string, args: Record<string, unknown>) =>
    t.mutation(api.tamper, { fn, args });
  const sealAndVerify = async () => {
    await t.mutation(api.seal, {});
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    return t.query(api.verify, {});
  };
  return { t, admin, ann, bo, ops, entriesOf, tamper, sealAndVerify };
}

describe("tampering before sealing", () => {
  test("an untouched log seals and verifies clean, and seal logs nothing", async () => {
    const { sealAndVerify } = await pendingLog();
    expect(await sealAndVerify()).toMatchObject({ ok: true, checked: 3 });
    expect(logs.filter((l) => l.event === "auditLog.tamper")).toEqual([]);
  });

  test("deleting a pending operation's last entry is reported by seal and verify", async () => {
    const { ops, entriesOf, tamper, sealAndVerify } = await pendingLog();
    const bulk = ops[1];
    const entries = await entriesOf(bulk);
    expect(entries.map((e) => e.index)).toEqual([0, 1, 2]);
    await tamper("deleteEntry", { entryId: entries[2]._id });
    const result = await sealAndVerify();
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([
      expect.objectContaining({
        kind: "entryMissing",
        seq: 2,
        operationId: bulk._id,
        entryIndex: 2,
      }),
    ]);
    expect(logs.filter((l) => l.event === "auditLog.tamper")[0]).toMatchObject({
      stage: "seal",
      seq: 2,
      operationId: bulk._id,
      problems: 1,
    });
  });

  test("a forged entry added to a pending operation is reported, at a new index or a taken one", async () => {
    for (const index of [1, 3]) {
      const { ops, entriesOf, tamper, sealAndVerify } = await pendingLog();
      const op = ops[0];
      const [real] = await entriesOf(op);
      const { _id, _creationTime, ...content } = real;
      void _id;
      void _creationTime;
      const forged = await tamper("insertEntry", {
        entry: { ...content, index, after: { forged: true } },
      });
      const result = await sealAndVerify();
      expect(result.ok).toBe(false);
      expect(result.problems).toEqual([
        expect.objectContaining({
          kind: "entryAdded",
          seq: 1,
          entryId: forged,
          entryIndex: index,
        }),
      ]);
    }
  });

  test("a forged entry copying a real one at its own index is reported (the hash binds the id)", async () => {
    const { ops, entriesOf, tamper, sealAndVerify } = await pendingLog();
    const [real] = await entriesOf(ops[2]);
    const { _id, _creationTime, ...content } = real;
    void _creationTime;
    await tamper("deleteEntry", { entryId: _id });
    const forged = await tamper("insertEntry", { entry: content });
    const result = await sealAndVerify();
    expect(result.problems).toEqual([
      expect.objectContaining({ kind: "entryEdited", seq: 3, entryId: forged }),
    ]);
  });
});

describe("entry ids are bound by the chain", () => {
  test("swapping two entries' contents is reported, before or after sealing", async () => {
    for (const when of ["before", "after"] as const) {
      const { t, ops, entriesOf, tamper, sealAndVerify } = await pendingLog();
      const [a, b] = await entriesOf(ops[1]);
      if (when === "after") {
        expect(await sealAndVerify()).toMatchObject({ ok: true });
        await tamper("swapEntries", { a: a._id, b: b._id });
        const result = await t.query(api.verify, {});
        expect(result.problems.map((p: Row) => [p.kind, p.entryId])).toEqual([
          ["entryEdited", b._id],
          ["entryEdited", a._id],
        ]);
      } else {
        await tamper("swapEntries", { a: a._id, b: b._id });
        const result = await sealAndVerify();
        expect(result.problems.map((p: Row) => p.kind)).toEqual([
          "entryEdited",
          "entryEdited",
        ]);
      }
    }
  });
});

describe("values stored across snapshot parts", () => {
  async function spilled() {
    const t = auditTest();
    const admin = t.withIdentity({ subject: "admin" });
    const ann = await t.mutation(api.seedUser, { name: "ann" });
    // A 20 kB name does not fit an entry row: before/after go to snapshot parts.
    await admin.mutation(api.renameUser, {
      userId: ann,
      name: "n".repeat(20_000),
      reason,
    });
    const [op] = await t.query(api.raw, {
      fn: "rows",
      args: { table: "operations" },
    });
    const parts: Row[] = await t.query(api.raw, {
      fn: "snapshotsOf",
      args: { operationId: op._id },
    });
    await t.mutation(api.seal, {});
    return { t, op, parts, ann };
  }

  test("a large entry reads back whole and verifies clean", async () => {
    const { t, parts, ann } = await spilled();
    expect(parts.map((p) => [p.entryIndex, p.side])).toEqual([
      [-1, "args"],
      [0, "after"],
    ]);
    const history = await t.query(api.history, {
      docId: ann,
      paginationOpts: { numItems: 1, cursor: null },
    });
    expect(history.page[0].doc.name).toBe("n".repeat(20_000));
    expect(await t.query(api.verify, {})).toMatchObject({
      ok: true,
      checked: 1,
    });
  });

  test("an edited or deleted snapshot part is reported with the entry it belongs to", async () => {
    for (const attack of ["edit", "delete", "args"] as const) {
      const { t, op, parts } = await spilled();
      const part = parts.find(
        (p) => p.side === (attack === "args" ? "args" : "after"),
      )!;
      if (attack === "delete")
        await t.mutation(api.tamper, {
          fn: "deleteSnapshot",
          args: { snapshotId: part._id },
        });
      else
        await t.mutation(api.tamper, {
          fn: "patchSnapshot",
          args: { snapshotId: part._id, patch: { text: '{"name":"forged"}' } },
        });
      const result = await t.query(api.verify, {});
      expect(result.ok).toBe(false);
      expect(result.problems).toEqual([
        expect.objectContaining(
          attack === "args"
            ? { kind: "operationEdited", operationId: op._id }
            : { kind: "entryEdited", operationId: op._id, entryIndex: 0 },
        ),
      ]);
    }
  });
});

describe("operations recorded by 0.1 (hash format 1)", () => {
  test("still seal and verify, and tampering with them is still reported", async () => {
    const { t, ops, entriesOf, tamper } = await pendingLog();
    // Rows as 0.1 appended them: no format, no append-time hashes. (A
    // `patchOperation` with `undefined` values patches nothing: function
    // arguments drop them.)
    for (const op of ops)
      await tamper("unsetOperationFields", {
        operationId: op._id,
        fields: ["format", "entryHashes", "appendHash"],
      });
    const rows: Row[] = await t.query(api.raw, {
      fn: "rows",
      args: { table: "operations" },
    });
    expect(rows.map((r) => [r.format, r.entryHashes])).toEqual([
      [undefined, undefined],
      [undefined, undefined],
      [undefined, undefined],
    ]);
    await t.mutation(api.seal, {});
    expect(await t.query(api.verify, {})).toMatchObject({
      ok: true,
      checked: 3,
    });
    const [e] = await entriesOf(ops[0]);
    await tamper("patchEntry", { entryId: e._id, patch: { after: { x: 1 } } });
    expect((await t.query(api.verify, {})).problems).toEqual([
      expect.objectContaining({ kind: "entryEdited", seq: 1 }),
    ]);
  });
});

describe("resuming verify", () => {
  test("a resume point inside an operation retention has since deleted does not skip the next operation's checks", async () => {
    const t = auditTest();
    const admin = t.withIdentity({ subject: "admin" });
    const ann = await t.mutation(api.seedUser, { name: "ann" });
    for (const role of ["a", "b", "c"])
      await admin.mutation(api.setUserRole, { userId: ann, role, reason });
    await t.mutation(api.seal, {});
    vi.advanceTimersByTime(31 * 24 * 60 * 60 * 1000);
    await admin.mutation(api.setUserRole, { userId: ann, role: "d", reason });
    await t.mutation(api.runRetention, {});
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect(await t.query(api.head, {})).toMatchObject({ seq: 4, tailSeq: 3 });
    const [kept] = await t.query(api.raw, {
      fn: "rows",
      args: { table: "operations" },
    });
    await t.mutation(api.tamper, {
      fn: "patchOperation",
      args: { operationId: kept._id, patch: { reason: "OPS-1 forged" } },
    });
    const result = await t.query(api.verify, {
      args: { fromSeq: 2, fromSnapshot: 3 },
    });
    expect(result.problems).toEqual([
      expect.objectContaining({ kind: "operationEdited", seq: 4 }),
    ]);
  });
});

import { anyApi } from "convex/server";
import { describe, expect, test, vi } from "vitest";
import { auditTest } from "./setup.js";
import { captureLogs, fakeClock } from "../helpers.js";

const api = anyApi.app;
const reason = "OPS-42 routine role cleanup";

const lines = captureLogs();
fakeClock();

type Row = Record<string, unknown> & { _id: string };

/** `n` recorded operations on two users; returns the sealed operation rows in seq order. */
async function sealedLog(n: number) {
  const t = auditTest();
  const admin = t.withIdentity({ subject: "admin" });
  const ann = await t.mutation(api.seedUser, { name: "ann" });
  const bo = await t.mutation(api.seedUser, { name: "bo" });
  for (let i = 0; i < n; i++) {
    vi.advanceTimersByTime(1000);
    await admin.mutation(
      i % 3 === 2 ? api.bulkEdit : api.setUserRole,
      i % 3 === 2
        ? { userIds: [ann, bo], suffix: `${i}`, reason }
        : { userId: i % 2 ? ann : bo, role: `r${i}`, reason },
    );
  }
  await t.mutation(api.seal, {});
  await t.finishAllScheduledFunctions(vi.runAllTimers);
  const rows = async (table: string): Promise<Row[]> =>
    t.query(api.raw, { fn: "rows", args: { table } });
  const ops = (await rows("operations")).sort(
    (a, b) => (a.seq as number) - (b.seq as number),
  );
  const entriesOf = async (op: Row) =>
    (await rows("entries"))
      .filter((e) => e.operationId === op._id)
      .sort((a, b) => (a.index as number) - (b.index as number));
  const verify = (args: Record<string, unknown> = {}) =>
    t.query(api.verify, { args });
  const tamper = (fn: string, args: Record<string, unknown>) =>
    t.mutation(api.tamper, { fn, args });
  return { t, admin, ann, bo, ops, rows, entriesOf, verify, tamper };
}

describe("sealing", () => {
  test("appending writes only its own rows; sealing chains them in commit order", async () => {
    const t = auditTest();
    const admin = t.withIdentity({ subject: "admin" });
    const ann = await t.mutation(api.seedUser, { name: "ann" });
    for (const role of ["a", "b", "c"])
      await admin.mutation(api.setUserRole, { userId: ann, role, reason });
    const rows = (table: string): Promise<Row[]> =>
      t.query(api.raw, { fn: "rows", args: { table } });
    expect(await rows("chain")).toEqual([]);
    expect((await rows("operations")).map((o) => o.sealed)).toEqual([
      false,
      false,
      false,
    ]);
    const before = await t.query(api.verify, {});
    expect(before).toMatchObject({ ok: true, checked: 0, pendingSeal: true });

    expect(await t.mutation(api.seal, {})).toEqual({ sealed: 3, more: false });
    const ops = await rows("operations");
    const byCommit = [...ops].sort((a, b) =>
      BigInt(a.commitTs as string) < BigInt(b.commitTs as string) ? -1 : 1,
    );
    expect(byCommit.map((o) => o.seq)).toEqual([1, 2, 3]);
    expect(byCommit.map((o) => (o.args as { role: string }).role)).toEqual([
      "a",
      "b",
      "c",
    ]);
    expect(byCommit[0].prevHash).toBe("0".repeat(64));
    expect(byCommit[1].prevHash).toBe(byCommit[0].hash);
    expect(byCommit[2].prevHash).toBe(byCommit[1].hash);
    expect(await t.query(api.head, {})).toMatchObject({
      seq: 3,
      hash: byCommit[2].hash,
      tailSeq: 0,
    });
    expect(await t.query(api.verify, {})).toMatchObject({
      ok: true,
      checked: 3,
      pendingSeal: false,
      firstSeq: 1,
      lastSeq: 3,
      isDone: true,
    });
    // Sealing again has nothing to do; later appends extend the chain.
    expect(await t.mutation(api.seal, {})).toEqual({ sealed: 0, more: false });
    await admin.mutation(api.setUserRole, { userId: ann, role: "d", reason });
    await t.mutation(api.seal, {});
    expect(await t.query(api.verify, {})).toMatchObject({
      ok: true,
      checked: 4,
    });
  });

  test("a large backlog is sealed in bounded batches that reschedule until done", async () => {
    const t = auditTest();
    const admin = t.withIdentity({ subject: "admin" });
    const ann = await t.mutation(api.seedUser, { name: "ann" });
    for (let i = 0; i < 230; i++)
      await admin.mutation(api.setUserRole, {
        userId: ann,
        role: `r${i}`,
        reason,
      });
    expect(await t.mutation(api.seal, {})).toEqual({ sealed: 100, more: true });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const result = await t.query(api.verify, { args: { pageSize: 50 } });
    expect(result).toMatchObject({
      ok: true,
      checked: 230,
      lastSeq: 230,
      pendingSeal: false,
    });
  });

  test("verify pages through a time range and stops at `to`", async () => {
    const { verify, ops } = await sealedLog(9);
    const from = ops[3].time as number;
    const to = ops[6].time as number;
    expect(await verify({ from, to, pageSize: 2 })).toMatchObject({
      ok: true,
      checked: 4,
      firstSeq: 4,
      lastSeq: 7,
    });
    // maxPages stops early and says where to continue.
    const partial = await verify({ pageSize: 2, maxPages: 2 });
    expect(partial).toMatchObject({
      ok: true,
      checked: 4,
      isDone: false,
      nextSeq: 5,
    });
    expect(await verify({ fromSeq: partial.nextSeq })).toMatchObject({
      ok: true,
      checked: 5,
      isDone: true,
    });
  });
});

describe("tamper evidence", () => {
  test("an edited entry is reported with its seq, operation, entry id and index", async () => {
    const { ops, entriesOf, verify, tamper } = await sealedLog(6);
    const op = ops[2]; // a bulkEdit: three entries
    const [, second] = await entriesOf(op);
    await tamper("patchEntry", {
      entryId: second._id,
      patch: { after: { ...(second.after as object), role: "forged" } },
    });
    const result = await verify();
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([
      expect.objectContaining({
        kind: "entryEdited",
        seq: 3,
        operationId: op._id,
        entryId: second._id,
        entryIndex: 1,
      }),
    ]);
    // verify logs what it found: the count and the first problem.
    expect(lines).toContainEqual(
      expect.objectContaining({
        event: "auditLog.tamper",
        problems: 1,
        first: expect.objectContaining({
          kind: "entryEdited",
          seq: 3,
          operationId: op._id,
          entryId: second._id,
          entryIndex: 1,
        }),
      }),
    );
  });

  test("a deleted entry is reported as missing at its index", async () => {
    const { ops, entriesOf, verify, tamper } = await sealedLog(6);
    const [first] = await entriesOf(ops[5]);
    await tamper("deleteEntry", { entryId: first._id });
    const result = await verify();
    expect(result.problems).toEqual([
      expect.objectContaining({ kind: "entryMissing", seq: 6, entryIndex: 0 }),
    ]);
  });

  test("an entry added to a sealed operation is reported", async () => {
    const { ops, entriesOf, verify, tamper } = await sealedLog(3);
    const [first] = await entriesOf(ops[0]);
    // Re-number it as a second entry of another operation.
    await tamper("patchEntry", {
      entryId: first._id,
      patch: { operationId: ops[1]._id, index: 1 },
    });
    const kinds = (await verify()).problems.map(
      (p: { kind: string; seq: number }) => [p.kind, p.seq],
    );
    expect(kinds).toEqual([
      ["entryMissing", 1],
      ["entryAdded", 2],
    ]);
  });

  test("an edited operation (reason, actor or args) is reported", async () => {
    const { ops, verify, tamper } = await sealedLog(4);
    await tamper("patchOperation", {
      operationId: ops[1]._id,
      patch: { reason: "OPS-42 nothing to see here", actorId: "someone-else" },
    });
    expect((await verify()).problems).toEqual([
      expect.objectContaining({
        kind: "operationEdited",
        seq: 2,
        operationId: ops[1]._id,
      }),
    ]);
  });

  test("a deleted operation in the middle is reported as a gap", async () => {
    const { ops, verify, tamper } = await sealedLog(5);
    await tamper("deleteOperation", { operationId: ops[2]._id });
    const result = await verify();
    expect(result.problems).toEqual([
      expect.objectContaining({ kind: "missingOperation", seq: 3 }),
    ]);
  });

  test("deleting the newest operations is caught by the head", async () => {
    const { ops, verify, tamper } = await sealedLog(5);
    await tamper("deleteOperation", { operationId: ops[4]._id });
    expect((await verify()).problems).toEqual([
      expect.objectContaining({ kind: "missingOperation", seq: 5 }),
    ]);
  });

  test("reordered operations break the links where they were swapped", async () => {
    const { ops, verify, tamper } = await sealedLog(5);
    await tamper("patchOperation", {
      operationId: ops[1]._id,
      patch: { seq: 3 },
    });
    await tamper("patchOperation", {
      operationId: ops[2]._id,
      patch: { seq: 2 },
    });
    const problems = (await verify()).problems.map(
      (p: { kind: string; seq: number }) => [p.kind, p.seq],
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        ["brokenLink", 2],
        ["brokenLink", 3],
        ["operationEdited", 2],
        ["operationEdited", 3],
      ]),
    );
  });

  test("rewriting an operation's stored hashes still breaks the next link", async () => {
    const { ops, entriesOf, verify, tamper } = await sealedLog(4);
    const [entry] = await entriesOf(ops[0]);
    // An attacker edits an entry and recomputes nothing consistently: replacing
    // the stored entry hash moves the mismatch to the operation hash.
    await tamper("patchEntry", { entryId: entry._id, patch: { changed: [] } });
    await tamper("patchOperation", {
      operationId: ops[0]._id,
      patch: { hash: "f".repeat(64) },
    });
    const kinds = (await verify()).problems.map(
      (p: { kind: string }) => p.kind,
    );
    expect(kinds).toEqual(["entryEdited", "operationEdited", "brokenLink"]);
  });

  test("an edited head is reported, also when the last page ends exactly at it", async () => {
    const { ops, verify, tamper } = await sealedLog(4);
    await tamper("patchChain", {
      name: "head",
      patch: { hash: "a".repeat(64) },
    });
    for (const pageSize of [4, 2, 100]) {
      const result = await verify({ pageSize });
      expect(result.problems).toEqual([
        expect.objectContaining({ kind: "headMismatch", seq: 4 }),
      ]);
    }
    expect(ops).toHaveLength(4);
  });

  test("an untouched log verifies clean", async () => {
    const { verify } = await sealedLog(7);
    expect(await verify()).toMatchObject({
      ok: true,
      problems: [],
      checked: 7,
    });
  });
});

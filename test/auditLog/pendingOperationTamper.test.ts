/**
 * Independent attack on issue 11 item 3: editing a pending operation's own
 * row (who, why, when, with which arguments) before it is sealed. Entries
 * have their hashes fixed at append, so an edited entry is reported; the
 * operation row must be held to the same standard, or a dashboard edit of
 * `reason` or `actorId` before the next seal is sealed in as if recorded.
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
  // One operation of this version is already sealed when the attack starts.
  await admin.mutation(api.setUserRole, { userId: ann, role: "a", reason });
  await t.mutation(api.seal, {});
  vi.advanceTimersByTime(1000);
  await admin.mutation(api.bulkEdit, {
    userIds: [ann, bo],
    suffix: "x",
    reason,
  });
  const rows = async (table: string): Promise<Row[]> =>
    t.query(api.raw, { fn: "rows", args: { table } });
  const op = (await rows("operations")).find((o) => o.sealed === false)!;
  const entries = (await rows("entries"))
    .filter((e) => e.operationId === op._id)
    .sort((a, b) => (a.index as number) - (b.index as number));
  const tamper = (fn: string, args: Record<string, unknown>) =>
    t.mutation(api.tamper, { fn, args });
  const seal = async () => {
    await t.mutation(api.seal, {});
    await t.finishAllScheduledFunctions(vi.runAllTimers);
  };
  return { t, op, entries, tamper, seal };
}

/** Fields an edit removes (function arguments cannot carry `undefined`). */
const UNSET = "$unset";

/** Edits of one operation row field, each a plausible forgery. */
const EDITS: Record<string, (op: Row) => Record<string, unknown>> = {
  reason: () => ({ reason: "OPS-1 approved by the CEO" }),
  actorId: () => ({ actorId: "someone-else" }),
  actorKind: () => ({ actorKind: "system" }),
  roles: () => ({ roles: ["owner"] }),
  functionName: () => ({ functionName: "admin:harmless" }),
  time: (op) => ({ time: (op.time as number) - 86_400_000 }),
  tables: () => ({ tables: ["somethingElse"] }),
  args: () => ({ args: { innocent: true } }),
  request: () => ({ request: null }),
  revertOf: (op) => ({ revertOf: { operationId: op._id } }),
  // Dropping the append hash, or passing the row off as 0.1's (format 1,
  // hashed at seal), must not switch the checks off.
  appendHash: () => ({ [UNSET]: ["appendHash"], reason: "OPS-1 approved" }),
  format: () => ({
    [UNSET]: ["format", "entryHashes", "appendHash"],
    reason: "OPS-1 approved",
  }),
};

describe("a pending operation's own row is bound at append", () => {
  test("an edit of any recorded field of an operation is reported, made before or after sealing (every field, both times)", async () => {
    for (const field of Object.keys(EDITS))
      for (const when of ["beforeSeal", "afterSeal"] as const) {
        {
          logs.length = 0;
          const { t, op, tamper, seal } = await pendingLog();
          if (when === "afterSeal") await seal();
          const { [UNSET]: unset, ...patch } = EDITS[field](op) as Record<
            string,
            unknown
          > & { [UNSET]?: string[] };
          if (unset)
            await tamper("unsetOperationFields", {
              operationId: op._id,
              fields: unset,
            });
          await tamper("patchOperation", { operationId: op._id, patch });
          await seal();
          const result = await t.query(api.verify, {});
          expect(result.ok).toBe(false);
          expect(result.problems).toContainEqual(
            expect.objectContaining({
              kind: "operationEdited",
              operationId: op._id,
            }),
          );
          if (when === "beforeSeal")
            expect(logs).toContainEqual(
              expect.objectContaining({
                event: "auditLog.tamper",
                stage: "seal",
                operationId: op._id,
              }),
            );
        }
      }
  });

  test("dropping the last entry together with entryCount and its hash, before sealing, is reported", async () => {
    const { t, op, entries, tamper, seal } = await pendingLog();
    const last = entries.length - 1;
    await tamper("deleteEntry", { entryId: entries[last]._id });
    await tamper("patchOperation", {
      operationId: op._id,
      patch: {
        entryCount: last,
        entryHashes: (op.entryHashes as string[]).slice(0, last),
      },
    });
    await seal();
    const result = await t.query(api.verify, {});
    expect(result.ok).toBe(false);
    expect(result.problems).toContainEqual(
      expect.objectContaining({ kind: "operationEdited", operationId: op._id }),
    );
  });

  test("an honest pending operation seals and verifies clean, and seal logs no tamper", async () => {
    const { t, seal } = await pendingLog();
    await seal();
    expect(await t.query(api.verify, {})).toMatchObject({
      ok: true,
      checked: 2,
    });
    expect(logs.filter((l) => l.event === "auditLog.tamper")).toEqual([]);
  });
});

import { anyApi } from "convex/server";
import { ConvexError } from "convex/values";
import { describe, expect, test, vi } from "vitest";
import { AuditLog } from "convex-opskit/auditLog";
import {
  components,
  near,
  captureLogs,
  errorOf,
  fakeClock,
} from "../helpers.js";
import { auditTest } from "./setup.js";

const api = anyApi.app;
const reason = "OPS-5 scheduled maintenance";
const T0 = new Date("2026-01-01T00:00:00Z").getTime();
const DAY = 24 * 60 * 60 * 1000;

const lines = captureLogs();
fakeClock(T0);

async function setup(old: number, recent: number) {
  const t = auditTest();
  const admin = t.withIdentity({ subject: "admin" });
  const ann = await t.mutation(api.seedUser, { name: "ann" });
  const bo = await t.mutation(api.seedUser, { name: "bo" });
  for (let i = 0; i < old; i++) {
    vi.setSystemTime(T0 + i * 60_000);
    if (i % 10 === 9)
      await admin.mutation(api.bulkEdit, {
        userIds: [ann, bo],
        suffix: "x",
        reason,
      });
    else
      await admin.mutation(api.setUserRole, {
        userId: ann,
        role: `r${i}`,
        reason,
      });
  }
  await t.mutation(api.seal, {});
  await t.finishAllScheduledFunctions(vi.runAllTimers);
  vi.setSystemTime(T0 + 40 * DAY);
  for (let i = 0; i < recent; i++)
    await admin.mutation(api.setUserRole, {
      userId: bo,
      role: `new${i}`,
      reason,
    });
  await t.mutation(api.seal, {});
  await t.finishAllScheduledFunctions(vi.runAllTimers);
  const count = async () =>
    (
      await t.query(api.list, {
        args: { paginationOpts: { numItems: 500, cursor: null } },
      })
    ).page.length;
  return { t, count };
}

describe("retention", () => {
  test("deletes expired operations in bounded batches, records the run, and keeps the chain verifiable", async () => {
    const { t, count } = await setup(250, 5);
    // 25 bulkEdits touch 3 documents each; the other 225 calls touch one.
    expect(await count()).toBe(225 + 75 + 5);
    const started = await t.mutation(api.runRetention, {});
    expect(started).toEqual({ runId: expect.any(String), started: true });
    await t.finishAllScheduledFunctions(vi.runAllTimers);

    const [run] = await t.query(api.retentionRuns, {});
    expect(run).toMatchObject({
      runId: started.runId,
      status: "done",
      cutoff: near(T0 + 40 * DAY - 30 * DAY), // the start function's clock, up to 1 ms ahead
      deletedOperations: 250,
      deletedEntries: 300,
      anchorSeq: 250,
      finishedAt: near(T0 + 40 * DAY, 2), // after chained scheduled batches: observed up to 2 ms ahead
    });
    expect(run.batches).toBeGreaterThanOrEqual(3);
    expect(await count()).toBe(5);
    const head = await t.query(api.head, {});
    expect(head).toMatchObject({
      seq: 255,
      tailSeq: 250,
      tailHash: run.anchorHash,
    });
    expect(await t.query(api.verify, {})).toMatchObject({
      ok: true,
      checked: 5,
      firstSeq: 251,
      lastSeq: 255,
    });
    expect(lines.filter((l) => l.event === "auditLog.retention")).toEqual([
      expect.objectContaining({ runId: started.runId, deletedOperations: 250 }),
    ]);
  });

  test("after the cut, deleting the first kept operation is still detected", async () => {
    const { t } = await setup(20, 3);
    await t.mutation(api.runRetention, {});
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const ops = await t.query(api.raw, {
      fn: "rows",
      args: { table: "operations" },
    });
    const first = ops.find((o: { seq: number }) => o.seq === 21);
    await t.mutation(api.tamper, {
      fn: "deleteOperation",
      args: { operationId: first._id },
    });
    const result = await t.query(api.verify, {});
    expect(result.ok).toBe(false);
    expect(result.problems[0]).toMatchObject({
      kind: "missingOperation",
      seq: 21,
    });
  });

  test("unsealed expired operations are sealed first, then deleted", async () => {
    // Nobody ran seal: the whole backlog is unsealed when retention starts.
    const fresh = auditTest();
    const admin = fresh.withIdentity({ subject: "admin" });
    const ann = await fresh.mutation(api.seedUser, { name: "ann" });
    vi.setSystemTime(T0);
    for (let i = 0; i < 12; i++)
      await admin.mutation(api.setUserRole, {
        userId: ann,
        role: `r${i}`,
        reason,
      });
    vi.setSystemTime(T0 + 40 * DAY);
    await fresh.mutation(api.runRetention, {});
    await fresh.finishAllScheduledFunctions(vi.runAllTimers);
    const [run] = await fresh.query(api.retentionRuns, {});
    expect(run).toMatchObject({
      status: "done",
      deletedOperations: 12,
      anchorSeq: 12,
    });
    expect(await fresh.query(api.verify, {})).toMatchObject({
      ok: true,
      checked: 0,
    });
  });

  test("a second start while a run is going returns that run; a run with nothing to do finishes at once", async () => {
    const { t } = await setup(5, 1);
    const a = await t.mutation(api.runRetention, {});
    const b = await t.mutation(api.runRetention, {});
    expect(b).toEqual({ runId: a.runId, started: false });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const again = await t.mutation(api.runRetention, {});
    expect(again.started).toBe(true);
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const runs = await t.query(api.retentionRuns, {});
    expect(
      runs.map(
        (r: { status: string; deletedOperations: number; batches: number }) => [
          r.status,
          r.deletedOperations,
          r.batches,
        ],
      ),
    ).toEqual([
      ["done", 0, 1],
      ["done", 5, 1],
    ]);
  });

  test("without a retention option, runRetention is INVALID_ARGUMENT", async () => {
    const plain = new AuditLog(components.auditLog);
    const err = await plain.runRetention({} as never).then(
      () => null,
      (e: ConvexError<{ code: string }>) => e.data.code,
    );
    expect(err).toBe("INVALID_ARGUMENT");
    const definition = await errorOf(
      () => new AuditLog(components.auditLog, { retention: { maxAgeMs: 0 } }),
    );
    expect(definition.code).toBe("INVALID_ARGUMENT");
    expect(definition.message).toBe(
      "auditLog: retention.maxAgeMs must be positive; got 0",
    );
  });
});

import { anyApi } from "convex/server";
import { describe, expect, test } from "vitest";
import { auditTest } from "./setup.js";
import { captureLogs, errorOf, fakeClock } from "../helpers.js";

const api = anyApi.app;
const reason = "SUP-3 reconcile fixtures";

const lines = captureLogs();
fakeClock();

type Drift = { docId: string; status: string; changed: string[] };

describe("reconcile", () => {
  test("reports documents changed outside admin mutations, page by page", async () => {
    const t = auditTest();
    const admin = t.withIdentity({ subject: "admin" });
    const ids: string[] = [];
    for (let i = 0; i < 7; i++)
      ids.push(
        await admin.mutation(api.createUser, {
          name: `u${i}`,
          email: `u${i}@x`,
          role: "member",
          password: `pw${i}`,
          reason,
        }),
      );
    // An audited change: not drift.
    await admin.mutation(api.setUserRole, {
      userId: ids[0],
      role: "admin",
      reason,
    });
    // Dashboard-style edits.
    await t.mutation(api.outOfBand, {
      userId: ids[2],
      patch: { role: "owner" },
    });
    await t.mutation(api.outOfBand, {
      userId: ids[5],
      patch: { name: "five", email: "5@x" },
    });
    // A change only to a redacted field cannot be compared, so it is not reported.
    await t.mutation(api.outOfBand, {
      userId: ids[3],
      patch: { passwordHash: "other" },
    });
    // A document no admin mutation ever wrote.
    const stray = await t.mutation(api.seedUser, { name: "stray" });

    const drift: Drift[] = [];
    let checked = 0;
    let cursor: string | null = null;
    let pages = 0;
    for (;;) {
      const r: {
        drift: Drift[];
        checked: number;
        isDone: boolean;
        continueCursor: string;
      } = await t.query(api.reconcile, {
        paginationOpts: { numItems: 3, cursor },
      });
      drift.push(...r.drift);
      checked += r.checked;
      pages += 1;
      if (r.isDone) break;
      cursor = r.continueCursor;
    }
    expect(checked).toBe(8);
    expect(pages).toBeGreaterThanOrEqual(3);
    expect(drift).toEqual([
      {
        docId: ids[2],
        status: "changed",
        changed: ["role"],
        lastEntryId: expect.any(String),
      },
      {
        docId: ids[5],
        status: "changed",
        changed: ["email", "name"],
        lastEntryId: expect.any(String),
      },
      {
        docId: stray,
        status: "unrecorded",
        changed: ["email", "name", "role"],
        lastEntryId: null,
      },
    ]);
    expect(
      lines.filter((l) => l.event === "auditLog.drift").length,
    ).toBeGreaterThan(0);
  });

  test("a clean table reports nothing", async () => {
    const t = auditTest();
    const admin = t.withIdentity({ subject: "admin" });
    const id = await admin.mutation(api.createUser, {
      name: "a",
      email: "a@x",
      role: "member",
      reason,
    });
    await admin.mutation(api.renameUser, { userId: id, name: "b", reason });
    const r = await t.query(api.reconcile, {
      paginationOpts: { numItems: 10, cursor: null },
    });
    expect(r).toMatchObject({ checked: 1, drift: [], isDone: true });
  });

  test("walking the recorded documents finds out-of-band deletes and edits", async () => {
    const t = auditTest();
    const admin = t.withIdentity({ subject: "admin" });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push(
        await admin.mutation(api.createUser, {
          name: `u${i}`,
          email: `u${i}@x`,
          role: "member",
          reason,
        }),
      );
    // Several versions of one document still count once.
    for (const role of ["a", "b", "c"])
      await admin.mutation(api.setUserRole, { userId: ids[1], role, reason });
    await admin.mutation(api.deleteUser, {
      userId: ids[4],
      explicit: true,
      reason,
    });
    await t.mutation(api.deleteOutOfBand, { userId: ids[0] });
    await t.mutation(api.outOfBand, { userId: ids[1], patch: { role: "z" } });

    const drift: Drift[] = [];
    let checked = 0;
    let cursor: string | null = null;
    for (;;) {
      const r: {
        drift: Drift[];
        checked: number;
        isDone: boolean;
        continueCursor: string | null;
      } = await t.query(api.reconcileRecorded, { cursor, limit: 2 });
      drift.push(...r.drift);
      checked += r.checked;
      if (r.isDone) break;
      cursor = r.continueCursor;
    }
    expect(checked).toBe(5);
    expect(drift.map((d) => [d.docId, d.status, d.changed]).sort()).toEqual(
      [
        [ids[0], "deletedOutside", ["email", "name", "role"]],
        [ids[1], "changed", ["role"]],
      ].sort(),
    );

    // Convex's paging (paginationOpts in, page/continueCursor/isDone out)
    // walks the same pages; the deprecated { cursor, limit } form above stays.
    const paged: Drift[] = [];
    const pages: number[] = [];
    let paginationOpts = { numItems: 2, cursor: null as string | null };
    for (;;) {
      const r: {
        page: Drift[];
        checked: number;
        isDone: boolean;
        continueCursor: string;
      } = await t.query(api.reconcileRecordedPage, { paginationOpts });
      expect(typeof r.continueCursor).toBe("string");
      paged.push(...r.page);
      pages.push(r.checked);
      if (r.isDone) break;
      paginationOpts = { numItems: 2, cursor: r.continueCursor };
    }
    expect(pages).toEqual([2, 2, 1]);
    expect(paged).toEqual(drift);
    const bad = await errorOf(
      t.query(api.reconcileRecordedPage, {
        paginationOpts: { numItems: 0, cursor: null },
      }),
    );
    expect(bad.code).toBe("INVALID_ARGUMENT");
    expect(bad.message).toBe(
      "reconcileRecorded's paginationOpts.numItems must be an integer from 1 to 500; got 0",
    );
  });
});

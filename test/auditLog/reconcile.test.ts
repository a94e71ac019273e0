import { anyApi } from "convex/server";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { setLogSink } from "../../src/shared/log.js";
import { auditTest } from "./setup.js";

const api = anyApi.app;
const reason = "SUP-3 reconcile fixtures";

let lines: Array<Record<string, unknown>> = [];
let restore: () => void;
beforeEach(() => {
  lines = [];
  restore = setLogSink((line) => lines.push(JSON.parse(line)));
  vi.useFakeTimers();
  vi.setSystemTime(new Date("2026-03-01T10:00:00Z"));
});
afterEach(() => {
  restore();
  vi.useRealTimers();
});

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
});

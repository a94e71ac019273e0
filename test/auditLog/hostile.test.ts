import { anyApi } from "convex/server";
import { describe, expect, test } from "vitest";
import { auditTest } from "./setup.js";
import { codeOf, captureLogs, fakeClock } from "../helpers.js";

const api = anyApi.app;
const reason = "SUP-1 hostile input";

captureLogs();
fakeClock();

describe("hostile and malformed input", () => {
  test("an oversized reason is refused before anything is written", async () => {
    const t = auditTest();
    const userId = await t.mutation(api.seedUser, { name: "ann" });
    const admin = t.withIdentity({ subject: "admin" });
    expect(
      await codeOf(
        admin.mutation(api.setUserRole, {
          userId,
          role: "x",
          reason: `SUP-1 ${"x".repeat(2001)}`,
        }),
      ),
    ).toBe("INVALID_ARGUMENT");
    expect(await t.query(api.getUser, { userId })).toMatchObject({
      role: "member",
    });
  });

  test("the component refuses blank reasons and too many entries from any caller", async () => {
    const t = auditTest();
    expect(
      await codeOf(t.mutation(api.appendRaw, { entries: 1, reason: "   " })),
    ).toBe("INVALID_ARGUMENT");
    expect(
      await codeOf(t.mutation(api.appendRaw, { entries: 1001, reason })),
    ).toBe("INVALID_ARGUMENT");
    expect(
      await codeOf(t.mutation(api.appendRaw, { entries: 1000, reason })),
    ).toBe("ok");
  });

  test("ids of the wrong table or garbage are NOT_FOUND, not a crash", async () => {
    const t = auditTest();
    const userId = await t.mutation(api.seedUser, { name: "ann" });
    const admin = t.withIdentity({ subject: "admin" });
    for (const operationId of [userId, "", "'; drop table --", "x".repeat(500)])
      expect(
        await codeOf(
          admin.mutation(api.revertOperation, { operationId, reason }),
        ),
      ).toBe("NOT_FOUND");
    expect(await t.query(api.getOperation, { operationId: userId })).toBeNull();
  });

  test("verify refuses silly page sizes", async () => {
    const t = auditTest();
    for (const pageSize of [0, -1, 1.5, 501])
      expect(await codeOf(t.query(api.verify, { args: { pageSize } }))).toBe(
        "INVALID_ARGUMENT",
      );
  });

  test("entries swapped within a sealed operation are detected", async () => {
    const t = auditTest();
    const admin = t.withIdentity({ subject: "admin" });
    const a = await t.mutation(api.seedUser, { name: "a" });
    const b = await t.mutation(api.seedUser, { name: "b" });
    await admin.mutation(api.bulkEdit, {
      userIds: [a, b],
      suffix: "!",
      reason,
    });
    await t.mutation(api.seal, {});
    const entries = await t.query(api.raw, {
      fn: "rows",
      args: { table: "entries" },
    });
    const [e0, e1] = entries.sort(
      (x: { index: number }, y: { index: number }) => x.index - y.index,
    );
    await t.mutation(api.tamper, {
      fn: "patchEntry",
      args: { entryId: e0._id, patch: { index: 1 } },
    });
    await t.mutation(api.tamper, {
      fn: "patchEntry",
      args: { entryId: e1._id, patch: { index: 0 } },
    });
    const result = await t.query(api.verify, {});
    expect(result.ok).toBe(false);
    expect(
      result.problems.map((p: { kind: string; entryIndex: number }) => [
        p.kind,
        p.entryIndex,
      ]),
    ).toEqual([
      ["entryEdited", 0],
      ["entryEdited", 1],
    ]);
  });
});

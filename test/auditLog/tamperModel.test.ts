/**
 * A generated check of tamper evidence with values stored across snapshot
 * parts: random admin calls (small changes, 20 kB changes that spill into
 * parts, multi-document calls), one random tamper (or none), before or after
 * sealing; `verify` must report a problem exactly when something was
 * tampered with.
 */
import fc from "fast-check";
import { anyApi } from "convex/server";
import { afterEach, beforeEach, expect, test, vi } from "vitest";
import { captureLogs } from "../helpers.js";
import { auditTest } from "./setup.js";

const api = anyApi.app;
const reason = "OPS-42 generated change";
captureLogs();

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date("2026-03-01T10:00:00Z"));
});
afterEach(() => vi.useRealTimers());

type Row = Record<string, unknown> & { _id: string };
const call = fc.constantFrom("role", "bigName", "bulk");
const tamper = fc.constantFrom(
  "none",
  "editEntry",
  "deleteEntry",
  "forgeEntry",
  "swapEntries",
  "editSnapshot",
  "deleteSnapshot",
  "editOperation",
);

test("verify reports a tamper exactly when there was one", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(call, { minLength: 1, maxLength: 4 }),
      tamper,
      fc.boolean(),
      fc.nat(),
      async (calls, attack, beforeSeal, pick) => {
        const t = auditTest();
        const admin = t.withIdentity({ subject: "admin" });
        const ann = await t.mutation(api.seedUser, { name: "ann" });
        const bo = await t.mutation(api.seedUser, { name: "bo" });
        for (const [i, c] of calls.entries()) {
          vi.advanceTimersByTime(1000);
          if (c === "role")
            await admin.mutation(api.setUserRole, {
              userId: ann,
              role: `r${i}`,
              reason,
            });
          else if (c === "bigName")
            await admin.mutation(api.renameUser, {
              userId: bo,
              name: `${i}`.padEnd(20_000, "n"),
              reason,
            });
          else
            await admin.mutation(api.bulkEdit, {
              userIds: [ann, bo],
              suffix: `${i}`,
              reason,
            });
        }
        const rows = (table: string): Promise<Row[]> =>
          t.query(api.raw, { fn: "rows", args: { table } });
        const doTamper = (fn: string, args: Record<string, unknown>) =>
          t.mutation(api.tamper, { fn, args });
        const seal = async () => {
          await t.mutation(api.seal, {});
          await t.finishAllScheduledFunctions(vi.runAllTimers);
        };
        if (!beforeSeal) await seal();
        const entries = await rows("entries");
        const ops = await rows("operations");
        const target = entries[pick % entries.length];
        let tampered = true;
        if (attack === "editEntry")
          await doTamper("patchEntry", {
            entryId: target._id,
            patch: { changed: ["forged"] },
          });
        else if (attack === "deleteEntry")
          await doTamper("deleteEntry", { entryId: target._id });
        else if (attack === "forgeEntry") {
          const { _id, _creationTime, ...content } = target;
          void _id;
          void _creationTime;
          await doTamper("insertEntry", {
            entry: { ...content, index: 99 },
          });
        } else if (attack === "swapEntries") {
          const sibling = entries.find(
            (e) => e.operationId === target.operationId && e._id !== target._id,
          );
          if (sibling)
            await doTamper("swapEntries", { a: target._id, b: sibling._id });
          else tampered = false;
        } else if (attack === "editSnapshot" || attack === "deleteSnapshot") {
          const parts: Row[] = [];
          for (const op of ops)
            parts.push(
              ...(await t.query(api.raw, {
                fn: "snapshotsOf",
                args: { operationId: op._id },
              })),
            );
          const part = parts[pick % Math.max(parts.length, 1)];
          if (!part) tampered = false;
          else if (attack === "deleteSnapshot")
            await doTamper("deleteSnapshot", { snapshotId: part._id });
          else
            await doTamper("patchSnapshot", {
              snapshotId: part._id,
              patch: { text: "{}" },
            });
        } else if (attack === "editOperation")
          await doTamper("patchOperation", {
            operationId: ops[pick % ops.length]._id,
            patch: { reason: "OPS-1 forged reason" },
          });
        else tampered = false;
        if (beforeSeal) await seal();
        const result = await t.query(api.verify, {});
        // An operation's own fields are bound at append too (appendHash),
        // so an edit before sealing is reported like one after.
        expect(result.ok).toBe(!tampered);
        expect(result.checked).toBe(calls.length);
      },
    ),
    { seed: 42, numRuns: 40 },
  );
});

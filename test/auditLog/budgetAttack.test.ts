/**
 * Byte budgets of the audit log's jobs under an independent attack (issue
 * 10, item 3): inputs the builders' tests did not size — many large live
 * documents walked by `reconcileRecorded` with its default page size.
 * convex-test runs with `transactionLimits` on (16 MiB read per transaction).
 */
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import type { Value } from "convex/values";
import fc from "fast-check";
import {
  MAX_STORED_ARGS_BYTES,
  storableArgs,
} from "../../src/auditLog/snapshot.js";
import {
  documentSize,
  MAX_FUNCTION_VALUE_BYTES,
} from "../../src/shared/limits.js";
import { captureLogs, components } from "../helpers.js";
import { anyApiLarge as api, largeTest } from "./large.js";

const reason = "OPS-7 budget attack";
const T0 = Date.parse("2026-03-01T10:00:00Z");
captureLogs();

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(T0);
});
afterEach(() => vi.useRealTimers());

/** `{ name, data }` of about `bytes` (Convex size), `data` a string. */
function stringData(bytes: number, seed: string): Value {
  return { blob: seed.padEnd(bytes - 64, "x") };
}

describe("auditLog: reconcileRecorded sizes its page by the live documents it reads", () => {
  test("40 recorded documents of 500 kB, default page size: every page stays inside 16 MiB read and the walk completes (it read every live document of the page)", async () => {
    const t = largeTest();
    const admin = t.withIdentity({ subject: "ops" });
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) {
      const id = await t.run(async (ctx) =>
        ctx.db.insert("docs", {
          name: `d${i}`,
          data: stringData(500_000, `r${i}`),
        }),
      );
      await admin.mutation(api.renameDoc, { id, name: `e${i}`, reason });
      ids.push(id);
    }
    await t.mutation(api.outOfBand, { id: ids[39], name: "x39" });
    let cursor: string | null = null;
    let checked = 0;
    const drift: string[] = [];
    for (let pages = 0; pages < 40; pages++) {
      const page: {
        checked: number;
        drift: Array<{ docId: string }>;
        continueCursor: string | null;
        isDone: boolean;
      } = await t.query(api.reconcileRecorded, { cursor, limit: 100 });
      expect(page.checked).toBeGreaterThan(0);
      checked += page.checked;
      drift.push(...page.drift.map((d) => d.docId));
      if (page.isDone) break;
      cursor = page.continueCursor;
    }
    expect(checked).toBe(40);
    expect(drift).toEqual([ids[39]]);
  });
});

/** A `data` of about 1 MiB as a Convex value whose JSON text is 4.5 times smaller: arrays of zeros. */
function zeros(arrays: number): Value {
  return Array.from({ length: arrays }, () => new Array<number>(8192).fill(0));
}

describe("auditLog: pages are sized by the values they return, not by their JSON text", () => {
  test("recordedDocuments over 20 documents of ~1 MiB of numbers (JSON text ~230 kB each) returns at most 16 MiB (it returned ~18 MiB: 8 MiB of text budget)", async () => {
    const t = largeTest();
    const admin = t.withIdentity({ subject: "ops" });
    const data = zeros(14);
    expect(documentSize(data)).toBeGreaterThan(1_000_000);
    for (let i = 0; i < 20; i++) {
      const id = await t.run(async (ctx) =>
        ctx.db.insert("docs", { name: `d${i}`, data }),
      );
      await admin.mutation(api.renameDoc, { id, name: `e${i}`, reason });
    }
    const page = await t.query(components.auditLog.queries.recordedDocuments, {
      table: "docs",
      afterDocId: null,
      limit: 100,
    });
    expect(page.documents.length).toBeGreaterThan(0);
    expect(documentSize(page as unknown as Value)).toBeLessThanOrEqual(
      MAX_FUNCTION_VALUE_BYTES,
    );
    // The walk still covers every document, and drift checks still pass.
    let cursor: string | null = null;
    let checked = 0;
    for (let pages = 0; pages < 40; pages++) {
      const r: {
        checked: number;
        drift: unknown[];
        continueCursor: string | null;
        isDone: boolean;
      } = await t.query(api.reconcileRecorded, { cursor, limit: 100 });
      expect(r.drift).toEqual([]);
      checked += r.checked;
      if (r.isDone) break;
      cursor = r.continueCursor;
    }
    expect(checked).toBe(20);
  });
});

describe("auditLog: stored arguments are bounded as Convex counts them", () => {
  // An admin call may take 16 MiB of arguments; args kept verbatim travel in
  // the \`append\` call next to up to 6 MiB of entries and come back from
  // getOperation/listOperations, both capped at 16 MiB as Convex counts
  // values. A JSON-text bound of 4 MiB let \`[0,0,...]\` args of 4.5 times
  // that through (16 MiB of args -> 22 MiB append call).
  test("storableArgs keeps args verbatim only while they take at most 4 MiB as a Convex value too (zeros: 7.4 MB kept under a 1.6 MB text)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 120 }), (arrays) => {
        const args = { payload: zeros(arrays) };
        const stored = storableArgs(args);
        expect(documentSize(stored)).toBeLessThanOrEqual(MAX_STORED_ARGS_BYTES);
        if (documentSize(args) <= MAX_STORED_ARGS_BYTES)
          expect(stored).toBe(args);
        else expect(stored).toMatchObject({ omitted: true });
      }),
      { seed: 42, numRuns: 12 },
    );
  });
});

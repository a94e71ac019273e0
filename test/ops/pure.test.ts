/**
 * Pure parts of the console: who may hand out a role (against the policy's
 * own permission check), the field-by-field diff, CSV/NDJSON export and
 * errors in words. Generated cases with a fixed seed.
 */
import fc from "fast-check";
import { ConvexError, jsonToConvex, type Value } from "convex/values";
import { describe, expect, test } from "vitest";
import type { Grant } from "convex-opskit/authz";
import { mayAssign, patternCovers } from "convex-opskit/ops";
import { describeError, fieldDiff, toCsv, toNdjson } from "convex-opskit/react";
import {
  collectPages,
  compileRoles,
  hasPermission,
  roleGrants,
} from "../internal.js";

const SEGMENTS = ["posts", "users", "audit", "read", "write", "manage"];
const perm = fc
  .array(fc.constantFrom(...SEGMENTS), { minLength: 1, maxLength: 3 })
  .map((s) => s.join("."));
const pattern = fc.oneof(
  perm,
  perm.map((p) => `${p}.*`),
  fc.constant("*"),
);
const opts = { seed: 42, numRuns: 200 };

describe("mayAssign", () => {
  test("whoever may assign a role holds every permission it grants, in that scope", () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.constantFrom("a", "b", "c", "d"),
          fc.array(pattern, { maxLength: 3 }),
          {
            minKeys: 1,
          },
        ),
        fc.array(
          fc.record({
            role: fc.constantFrom("a", "b", "c", "d"),
            scope: fc.option(fc.constantFrom("team:x", "team:y"), {
              nil: undefined,
            }),
          }),
          { maxLength: 4 },
        ),
        fc.constantFrom("a", "b", "c", "d"),
        fc.option(fc.constantFrom("team:x", "team:y"), { nil: undefined }),
        fc.array(perm, { minLength: 1, maxLength: 8 }),
        (config, rawGrants, role, scope, probes) => {
          const roles = compileRoles(config);
          const grants = rawGrants.map((g) =>
            g.scope ? g : { role: g.role },
          ) as Grant[];
          if (!mayAssign(roles, grants, role, scope, 0)) return;
          expect(roles.get(role)!.all).toBe(false);
          for (const p of probes)
            if (roleGrants(roles, role, p))
              expect(hasPermission(roles, grants, p, scope, 0)).toBe(true);
        },
      ),
      opts,
    );
  });

  test("pattern coverage agrees with matching on concrete names", () => {
    fc.assert(
      fc.property(pattern, pattern, perm, (outer, inner, p) => {
        const matches = (pat: string, name: string) =>
          pat === "*" ||
          (pat.endsWith(".*")
            ? name.startsWith(pat.slice(0, -1))
            : pat === name);
        if (patternCovers(outer, inner) && matches(inner, p))
          expect(matches(outer, p)).toBe(true);
      }),
      opts,
    );
  });

  test("a role with everything is never assignable; expired grants do not count", () => {
    const roles = compileRoles({ admin: ["*"], mod: ["posts.*"] });
    expect(mayAssign(roles, [{ role: "admin" }], "admin", undefined, 0)).toBe(
      false,
    );
    expect(mayAssign(roles, [{ role: "admin" }], "mod", undefined, 0)).toBe(
      true,
    );
    expect(
      mayAssign(roles, [{ role: "admin", expiresAt: 5 }], "mod", undefined, 10),
    ).toBe(false);
    expect(
      mayAssign(roles, [{ role: "mod", scope: "team:x" }], "mod", "team:y", 0),
    ).toBe(false);
  });
});

/** A small RFC 4180 reader, to read back what toCsv wrote. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      row.push(cell);
      cell = "";
    } else if (ch === "\r" && text[i + 1] === "\n") {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
      i++;
    } else cell += ch;
  }
  return rows;
}

describe("export", () => {
  test("CSV reads back cell for cell; formula-looking cells are defused", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            a: fc.string(),
            b: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
          }),
          {
            maxLength: 8,
          },
        ),
        (rows) => {
          const back = parseCsv(toCsv(rows, ["a", "b"]));
          expect(back[0]).toEqual(["a", "b"]);
          expect(back).toHaveLength(rows.length + 1);
          rows.forEach((r, i) => {
            const cells = back[i + 1];
            const expectCell = (v: unknown, got: string) => {
              const text = typeof v === "string" ? v : JSON.stringify(v);
              expect(got).toBe(/^[=+\-@\t\r]/.test(text) ? `'${text}` : text);
            };
            expectCell(r.a, cells[0]);
            expectCell(r.b, cells[1]);
          });
        },
      ),
      opts,
    );
  });

  test("NDJSON is one parseable object per line", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ s: fc.string(), n: fc.integer() }), {
          maxLength: 8,
        }),
        (rows) => {
          const text = toNdjson(rows);
          const lines = text.split("\n").slice(0, -1);
          expect(lines.map((l) => JSON.parse(l))).toEqual(rows);
        },
      ),
      opts,
    );
  });
});

// Any Convex value, including the ones plain JSON cannot hold or tell apart.
const convexValue: fc.Arbitrary<Value> = fc.letrec<{ v: Value }>((tie) => ({
  v: fc.oneof(
    { depthSize: "small" },
    fc.string(),
    fc.double(),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
    fc.boolean(),
    fc.constant(null),
    fc.uint8Array({ maxLength: 8 }).map((a) => a.slice().buffer as ArrayBuffer),
    fc.array(tie("v"), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom("x", "y"), tie("v"), { maxKeys: 2 }),
  ),
})).v;

describe("export and diff of values plain JSON cannot hold", () => {
  test("NDJSON of rows with int64, bytes, -0, NaN and ±Infinity never throws and reads back exactly", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ before: convexValue, after: convexValue }), {
          maxLength: 4,
        }),
        (rows) => {
          const lines = toNdjson(rows).split("\n").slice(0, -1);
          expect(
            lines.map((l) => jsonToConvex(JSON.parse(l) as never)),
          ).toEqual(rows);
        },
      ),
      opts,
    );
  });

  test("fieldDiff tells 1 from 1n, 0 from -0 and equal bytes from other bytes", () => {
    const cases: [Value, Value, "same" | "changed"][] = [
      [1n, 1n, "same"],
      [1, 1n, "changed"],
      [0, -0, "changed"],
      [NaN, NaN, "same"],
      [new Uint8Array([1]).buffer, new Uint8Array([1]).buffer, "same"],
      [new Uint8Array([1]).buffer, new Uint8Array([2]).buffer, "changed"],
    ];
    for (const [b, a, status] of cases)
      expect(fieldDiff({ f: b }, { f: a })[0]!.status).toBe(status);
  });
});

describe("fieldDiff", () => {
  test("every field of either side appears once, with a status that matches the values", () => {
    const doc = fc.dictionary(
      fc.constantFrom("a", "b", "c", "_id"),
      fc.oneof(fc.integer(), fc.string()),
    );
    fc.assert(
      fc.property(
        fc.option(doc, { nil: null }),
        fc.option(doc, { nil: null }),
        (before, after) => {
          const rows = fieldDiff(before, after);
          const keys = new Set([
            ...Object.keys(before ?? {}),
            ...Object.keys(after ?? {}),
          ]);
          expect(rows.map((r) => r.field).sort()).toEqual([...keys].sort());
          for (const r of rows) {
            const inB = before !== null && r.field in before;
            const inA = after !== null && r.field in after;
            expect(r.status).toBe(
              !inB
                ? "added"
                : !inA
                  ? "removed"
                  : before![r.field] === after![r.field]
                    ? "same"
                    : "changed",
            );
          }
          // Changes come before unchanged fields.
          const firstSame = rows.findIndex((r) => r.status === "same");
          if (firstSame >= 0)
            expect(
              rows
                .slice(firstSame)
                .every((r) => r.status === "same" || r.field === "_id"),
            ).toBe(true);
        },
      ),
      opts,
    );
  });
});

describe("describeError", () => {
  test("each code says what happened and what to do", () => {
    const err = (data: Record<string, unknown>) =>
      new ConvexError(data as never);
    expect(
      describeError(
        err({ code: "FORBIDDEN", message: "m", permission: "audit.read" }),
      ),
    ).toMatchObject({
      title: "You don't have permission for this",
      action: expect.stringContaining('"audit.read"'),
    });
    expect(
      describeError(
        err({ code: "RATE_LIMITED", message: "m", retryAfter: 2500 }),
      ).action,
    ).toBe("Wait 3 s, then try again.");
    for (const code of [
      "UNAUTHENTICATED",
      "CONFLICT",
      "INVALID_ARGUMENT",
      "NOT_FOUND",
    ])
      expect(describeError(err({ code, message: "m" })).title).not.toBe(
        "Something went wrong",
      );
    expect(describeError(new Error("boom"))).toMatchObject({
      title: "Something went wrong",
      detail: "boom",
    });
  });
});

describe("collectPages (the export's page loop)", () => {
  test("stops at the end, at the row limit, after maxPages calls, or when a cursor does not advance; never loops", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.nat({ max: 3 }), { minLength: 1, maxLength: 60 }),
        fc.boolean(),
        fc.option(fc.nat({ max: 59 }), { nil: undefined }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 30 }),
        async (sizes, ends, stuckAt, limit, maxPages) => {
          let calls = 0;
          const fetchPage = async (cursor: string | null) => {
            const i = cursor === null ? 0 : Number(cursor);
            calls++;
            expect(calls, "no more calls than maxPages").toBeLessThanOrEqual(
              maxPages,
            );
            const isDone = ends && i === sizes.length - 1;
            const next = stuckAt !== undefined && i >= stuckAt ? i : i + 1;
            return {
              page: Array.from({ length: sizes[i % sizes.length] }, () => i),
              isDone,
              continueCursor: String(next),
            };
          };
          const r = await collectPages(fetchPage, { limit, maxPages });
          expect(r.rows.length).toBeLessThanOrEqual(limit);
          if (
            r.stopped === "done" ||
            r.stopped === "stuck" ||
            r.stopped === "pages"
          )
            expect(r.rows.length).toBeLessThan(limit);
        },
      ),
      { seed: 42, numRuns: 200 },
    );
  });

  test("a filter that matches nothing in an endless log stops after maxPages calls with what it has", async () => {
    let calls = 0;
    const r = await collectPages(
      async (cursor) => {
        calls++;
        return {
          page: [] as number[],
          isDone: false,
          continueCursor: String(Number(cursor ?? 0) + 1),
        };
      },
      { limit: 5000, maxPages: 500 },
    );
    expect(r).toEqual({ rows: [], stopped: "pages" });
    expect(calls).toBe(500);
  });
});

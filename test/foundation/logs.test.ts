/**
 * The public log routing: `setLogSink`, `silenceLogs`, `configureLogs`
 * (exported from `convex-opskit/test` and from every client) decide where
 * the components' JSON lines go, for lines emitted by a client inside an app
 * function and by a component's own functions alike (convex-test runs both in
 * this process).
 */
import { mutationGeneric, anyApi } from "convex/server";
import { v } from "convex/values";
import { configureLogs as fromAuthz } from "convex-opskit/authz";
import { configureLogs as fromAuditLog } from "convex-opskit/auditLog";
import { configureLogs as fromMigrations } from "convex-opskit/migrations";
import {
  MINUTE,
  RateLimiter,
  configureLogs as fromRateLimiter,
} from "convex-opskit/rateLimiter";
import {
  configureLogs,
  setLogSink,
  silenceLogs,
  type LogEvent,
} from "convex-opskit/test";
import fc from "fast-check";
import { afterEach, describe, expect, test, vi } from "vitest";
import { components, errorOf, opskitTest } from "../helpers.js";
import { logEvent } from "../internal.js";
// Vite's import.meta.glob leaves out the importing file, so the module adds itself.
import * as self from "./logs.test.js";

const rateLimiter = new RateLimiter(components.rateLimiter, {
  tiny: { kind: "fixed window", rate: 1, period: MINUTE },
});

export const hit = mutationGeneric({
  args: { key: v.string() },
  returns: v.boolean(),
  handler: async (ctx, { key }) =>
    (await rateLimiter.limit(ctx, "tiny", { key })).ok,
});

const api = anyApi["logs.test"];
const setup = () => opskitTest({ "./logs.test.ts": async () => self });

/** Two calls: the second is denied, which emits one `rateLimiter.deny` line. */
async function denyOnce(key: string) {
  const t = setup();
  await t.mutation(api.hit, { key });
  expect(await t.mutation(api.hit, { key })).toBe(false);
}

let restore = () => {};
afterEach(() => {
  restore();
  vi.restoreAllMocks();
});

describe("log routing", () => {
  test("by default lines go to console.log, one JSON object with an event field", async () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    await denyOnce("a");
    const lines = log.mock.calls.map((c) => JSON.parse(String(c[0])));
    expect(lines).toContainEqual(
      expect.objectContaining({ event: "rateLimiter.deny", key: "a" }),
    );
  });

  test("silenceLogs drops every line until restored", async () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    restore = silenceLogs();
    await denyOnce("b");
    expect(log).not.toHaveBeenCalled();
    restore();
    restore = () => {};
    await denyOnce("c");
    expect(log).toHaveBeenCalled();
  });

  test("a custom sink receives the line and the parsed event; restore puts back the previous sink", async () => {
    const outer: string[] = [];
    const inner: LogEvent[] = [];
    const restoreOuter = setLogSink((line) => outer.push(line));
    const restoreInner = setLogSink((line, event) => {
      expect(JSON.parse(line)).toEqual(event);
      inner.push(event);
    });
    await denyOnce("d");
    restoreInner();
    await denyOnce("e");
    restoreOuter();
    expect(inner.map((e) => [e.event, e.key])).toEqual([
      ["rateLimiter.deny", "d"],
    ]);
    expect(outer.map((l) => JSON.parse(l).key)).toEqual(["e"]);
  });

  test("every client exports the same configureLogs", () => {
    for (const f of [fromAuthz, fromAuditLog, fromMigrations, fromRateLimiter])
      expect(f).toBe(configureLogs);
  });

  test("configureLogs: level silent, a sink, and refusals naming what was expected", async () => {
    const seen: string[] = [];
    restore = configureLogs({ sink: (_line, event) => seen.push(event.event) });
    await denyOnce("f");
    expect(seen).toEqual(["rateLimiter.deny"]);
    restore();
    restore = configureLogs({ level: "silent", sink: (l) => seen.push(l) });
    await denyOnce("g");
    expect(seen).toHaveLength(1);
    expect(await errorOf(() => configureLogs({ level: "debug" as "info" })))
      .toMatchInlineSnapshot(`
      {
        "code": "INVALID_ARGUMENT",
        "definition": "configureLogs",
        "message": "configureLogs: level must be "info" or "silent"; got "debug"",
      }
    `);
    expect(await errorOf(() => configureLogs({ sink: "stdout" as never })))
      .toMatchInlineSnapshot(`
      {
        "code": "INVALID_ARGUMENT",
        "definition": "configureLogs",
        "message": "configureLogs: sink must be a function (line, event) => void; got string",
      }
    `);
  });

  test("two copies of the log module (dist/ and src/ in a user's app) share one sink", async () => {
    // A query string makes Vite load a second, separate instance of the module.
    /* eslint-disable no-restricted-syntax -- the second instance needs the source path, not the package name */
    // @ts-expect-error -- TypeScript does not resolve a path with a query string.
    const second: unknown = await import("../../src/shared/log.ts?copy");
    /* eslint-enable no-restricted-syntax */
    const copy = second as typeof import("../../src/shared/log.js");
    const lines: string[] = [];
    restore = copy.setLogSink((line) => lines.push(line));
    await denyOnce("h");
    copy.logEvent("test.copy", { n: 1 });
    expect(lines.map((l) => JSON.parse(l).event)).toEqual([
      "rateLimiter.deny",
      "test.copy",
    ]);
  });

  test("a sink that throws does not fail the function: the line goes to console.log with the error", async () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    const err = vi.spyOn(console, "error").mockImplementation(() => {});
    restore = setLogSink(() => {
      throw new Error("disk full");
    });
    await denyOnce("i");
    expect(log.mock.calls.map((c) => JSON.parse(String(c[0])).key)).toEqual([
      "i",
    ]);
    expect(String(err.mock.calls[0][0])).toContain("disk full");
  });

  test("an async sink whose promise rejects does not fail the function and leaves no unhandled rejection", async () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    const err = vi.spyOn(console, "error").mockImplementation(() => {});
    // A sink shipping lines over the network: its rejection arrives later.
    restore = setLogSink(async () => {
      await Promise.resolve();
      throw new Error("log endpoint down");
    });
    await denyOnce("j");
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(log.mock.calls.map((c) => JSON.parse(String(c[0])).key)).toEqual([
      "j",
    ]);
    expect(String(err.mock.calls[0]?.[0])).toContain("log endpoint down");
  });

  test("a field JSON cannot encode (bigint, cycle) never throws from logEvent", () => {
    const lines: LogEvent[] = [];
    restore = setLogSink((_line, event) => lines.push(event));
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    fc.assert(
      fc.property(
        fc.oneof(fc.bigInt(), fc.constant(cyclic)),
        fc.string({ maxLength: 8 }),
        (bad, name) => {
          lines.length = 0;
          expect(() => logEvent("test.odd", { name, bad })).not.toThrow();
          expect(lines).toHaveLength(1);
          expect(lines[0]).toMatchObject({ event: "test.odd", name });
        },
      ),
      { seed: 42, numRuns: 50 },
    );
  });

  test("nested sinks restore in any depth (generated)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), (depth) => {
        const got: number[] = [];
        const restores: Array<() => void> = [];
        for (let i = 0; i < depth; i++)
          restores.push(setLogSink(() => got.push(i)));
        for (let i = depth - 1; i >= 0; i--) {
          got.length = 0;
          logEvent("test.nested");
          expect(got).toEqual([i]);
          restores[i]();
        }
      }),
      { seed: 42, numRuns: 50 },
    );
  });
});

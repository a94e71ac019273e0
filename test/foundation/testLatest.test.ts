// @vitest-environment node
/**
 * `npm run test:latest` may skip only when the npm registry cannot be
 * reached: a registry that answers without a usable version (an unknown
 * name, one lookup timing out, empty output) is a failure, not a skip.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { newestVersions, type NpmResult } from "../../scripts/test-latest.js";

const names = ["convex", "convex-test", "convex-helpers"];
const answered = (stdout: string): NpmResult => ({
  status: 0,
  stdout,
  stderr: "",
});
const failed = (status: number | null, stderr: string): NpmResult => ({
  status,
  stdout: "",
  stderr,
});

/** How one `npm view` ends. */
const outcome = fc.oneof(
  fc.constant(answered("1.51.0\n")),
  fc.constant(answered("")),
  fc.constant(answered("undefined\n")),
  fc.constant(failed(1, "npm error code E404")),
  fc.constant(failed(null, "Error: spawnSync npm ETIMEDOUT")),
  fc.constant(failed(1, "npm error code ECONNREFUSED")),
);

describe("test:latest: skip only when the registry is unreachable (fixed seed)", () => {
  test("ok when every lookup gives a version; unreachable only when npm ping fails too; otherwise an error", () => {
    fc.assert(
      fc.property(
        fc.array(outcome, { minLength: names.length, maxLength: names.length }),
        fc.boolean(),
        (views, pingOk) => {
          let i = 0;
          const calls: string[][] = [];
          const result = newestVersions(names, (args) => {
            calls.push(args);
            if (args[0] === "ping")
              return pingOk ? answered("") : failed(1, "ECONNREFUSED");
            return views[i++];
          });
          const allGood = views.every(
            (v) => v.status === 0 && /^\d/.test(v.stdout),
          );
          if (allGood) {
            expect(result).toEqual({
              kind: "ok",
              versions: Object.fromEntries(names.map((n) => [n, "1.51.0"])),
            });
            expect(calls.some((c) => c[0] === "ping")).toBe(false);
          } else {
            expect(result.kind).toBe(pingOk ? "error" : "unreachable");
            // The detail says which lookup failed and how.
            if (result.kind !== "ok")
              expect(result.detail).toContain("npm view");
          }
        },
      ),
      { seed: 42, numRuns: 200 },
    );
  });
});

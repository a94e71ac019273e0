/**
 * The generated attack on every Convex function of the four components and
 * of the example app (found by walking their modules): hostile arguments
 * (wrong types, extra and missing fields, huge, empty and unicode strings,
 * NaN/Infinity/-0/negative numbers, ids of other tables and of rows that
 * never existed, deep `v.any()` values), called as anonymous, member and
 * admin users. Each call either succeeds, or is refused by the function's
 * own validator, or throws a `ConvexError` with a `code` whose message and
 * details stay small whatever the input — never an uncoded error — and a
 * refused call writes nothing (every table of the app and of each
 * component, scheduled functions included, is the same before and after).
 * Then each number argument is tried at its edges (numberEdges.ts).
 */
import fc from "fast-check";
import { makeFunctionReference } from "convex/server";
import { describe, expect, test } from "vitest";
import {
  appFunctions,
  attackedDeployment,
  componentFunctions,
  outcome,
  type Found,
} from "./harness";
import { numberEdgeProblems } from "./numberEdges";
import { accepts, argsArb } from "./validatorJson";
import { captureLogs, fakeClock } from "../helpers.js";

/** Runs per function; `OPSKIT_DEEP=1` runs ten times more. */
const DEEP = Boolean(process.env.OPSKIT_DEEP);
const RUNS = DEEP ? 120 : 8;
/** A refusal's message and details stay this small whatever the input. */
const MAX_MESSAGE = 1_000;
const MAX_DATA_JSON = 4_096;

captureLogs();
fakeClock();

const all = [...componentFunctions, ...appFunctions];
const label = (f: Found) =>
  `${f.component || "app"} ${f.isPublic ? "public" : "internal"} ${f.kind} ${f.path}`;

describe("every function declares its validators", () => {
  test("the walk found functions of every component and of the app", () => {
    const where = new Set(all.map((f) => f.component));
    expect([...where].sort()).toEqual([
      "",
      "auditLog",
      "authz",
      "migrations",
      "rateLimiter",
    ]);
    expect(all.length).toBeGreaterThan(60);
  });

  test("every function has an args validator and a returns validator", () => {
    const missing = all
      .filter((f) => f.returns === null || f.args.type === "any")
      .map(label);
    expect(missing).toEqual([]);
  });
});

describe("hostile arguments to every function", () => {
  test.each(all.map((f) => [label(f), f] as const))(
    "%s",
    async (_l, f) => {
      const d = await attackedDeployment();
      const ids = await d.idPool();
      const callers = { anonymous: d.t, member: d.bob, admin: d.alice };
      const ref =
        f.component === ""
          ? makeFunctionReference<typeof f.kind>(f.path)
          : (`function://${f.component};${f.path}` as never);
      const run = await fc.check(
        fc.asyncProperty(
          argsArb(f.args, ids),
          fc.constantFrom(
            ...(Object.keys(callers) as Array<keyof typeof callers>),
          ),
          async (args, who) => {
            const caller = callers[who];
            const before = await d.snapshot();
            type Call = (ref: unknown, args: unknown) => Promise<unknown>;
            const result = await outcome((caller[f.kind] as Call)(ref, args));
            const valid = accepts(f.args, args);
            // convex-test's own validator can throw a TypeError on some refused shapes
            // (e.g. null for an object); a deployment refuses them as validator errors.
            if (!valid && result.kind === "uncoded")
              expect(await d.snapshot()).toBe(before);
            else if (result.kind === "uncoded")
              throw new Error(
                `uncoded error from ${f.path} (${who}): ${explain(result.error)}`,
              );
            if (result.kind === "protocol")
              expect(
                f.isPublic,
                `${result.protocol} from a public function`,
              ).toBe(false);
            if (!valid)
              expect(result.kind, "args the validator refuses").toMatch(
                /^(validator|uncoded)$/,
              );
            if (result.kind === "validator")
              expect(
                valid,
                `a nested validator refused: ${result.message.slice(0, 300)}`,
              ).toBe(false);
            if (result.kind === "coded") {
              expect(
                String(result.data.message).length,
                `message of ${result.code}: ${String(result.data.message).slice(0, 200)}`,
              ).toBeLessThanOrEqual(MAX_MESSAGE);
              expect(JSON.stringify(result.data).length).toBeLessThanOrEqual(
                MAX_DATA_JSON,
              );
            }
            if (result.kind !== "ok") expect(await d.snapshot()).toBe(before);
          },
        ),
        { seed: 42, numRuns: RUNS, endOnFailure: true },
      );
      // The counterexample can hold 100 KB strings: report its shape, not its text.
      if (run.failed)
        throw new Error(
          `${label(f)} failed on run ${run.numRuns} (seed 42, path ${run.counterexamplePath}): ` +
            `${explain(run.errorInstance)}\nargs: ${abbreviate(run.counterexample)}`,
        );
      // Then every number field at its edges, on the same deployment.
      type Call = (ref: unknown, args: unknown) => Promise<unknown>;
      expect(
        await numberEdgeProblems(
          f,
          ref,
          ids,
          d.alice as unknown as Record<Found["kind"], Call>,
          d.snapshot,
        ),
      ).toEqual([]);
      // Deep runs keep what succeeded (the audit log grows by 100 KB entries), so snapshots slow down.
    },
    DEEP ? 900_000 : undefined,
  );
});

/** A value's JSON with every long string cut to its first characters and length. */
function abbreviate(value: unknown): string {
  const text = JSON.stringify(value, (_k, x: unknown) =>
    typeof x === "string" && x.length > 40
      ? `${x.slice(0, 20)}…(${x.length} chars)`
      : typeof x === "bigint"
        ? `${x}n`
        : Array.isArray(x) && x.length > 10
          ? [...x.slice(0, 3), `…(${x.length} items)`]
          : typeof x === "number" && !Number.isFinite(x)
            ? String(x)
            : x,
  );
  return text.length > 2000 ? `${text.slice(0, 2000)}…` : text;
}

function explain(e: unknown): string {
  return e instanceof Error
    ? `${e.name}: ${e.message.slice(0, 300)}`
    : String(e).slice(0, 300);
}

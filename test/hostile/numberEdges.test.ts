/**
 * Every number argument of every function, at its edges: each number field
 * of plain arguments (nested ones included, like `paginationOpts.numItems`
 * or a rate limit's `config.rate`) is set in turn to NaN, ±Infinity, -0,
 * -1, 0, a fraction and a huge value, the call is made as an admin, and
 * the same rule holds as for the generated attack: it succeeds, or it is
 * refused with a coded error that writes nothing — never an uncoded
 * `Error` such as `take()`'s "n must be a non-negative integer".
 */
import { makeFunctionReference } from "convex/server";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { setLogSink } from "convex-opskit/test";
import {
  appFunctions,
  attackedDeployment,
  componentFunctions,
  outcome,
  type Found,
} from "./harness";
import type { IdPool, ValidatorJson } from "./validatorJson";

const EDGES = [NaN, Infinity, -Infinity, -0, -1, 0, 1.5, 1e12];

let restoreLogs = () => {};
beforeEach(() => {
  restoreLogs = setLogSink(() => {});
  vi.useFakeTimers();
  vi.setSystemTime(new Date("2026-03-01T10:00:00Z"));
});
afterEach(() => {
  restoreLogs();
  vi.useRealTimers();
});

type Field = { fieldType: ValidatorJson; optional: boolean };

/** Plain arguments the validator accepts, with every optional field present. */
function plain(json: ValidatorJson, ids: IdPool): unknown {
  switch (json.type) {
    case "string":
      return "alice";
    case "number":
      return 1;
    case "bigint":
      return 1n;
    case "boolean":
      return false;
    case "null":
    case "any":
      return null;
    case "literal":
      return json.value;
    case "id":
      return (ids[json.tableName!] ?? [`1${json.tableName}`])[0];
    case "array":
      return [plain(json.value as ValidatorJson, ids)];
    case "record":
      return {};
    case "union": {
      const members = json.value as ValidatorJson[];
      return plain(
        members.find((m) => m.type === "object") ??
          members.find((m) => m.type === "number") ??
          members[0],
        ids,
      );
    }
    case "object": {
      const out: Record<string, unknown> = {};
      for (const [k, f] of Object.entries(json.value as Record<string, Field>))
        out[k] =
          k === "paginationOpts"
            ? { numItems: 2, cursor: null }
            : plain(f.fieldType, ids);
      return out;
    }
    default:
      return null;
  }
}

/** Paths of the number fields in `value` (where the validator allows a number). */
function numberPaths(value: unknown, path: string[] = []): string[][] {
  if (typeof value === "number") return [path];
  if (value !== null && typeof value === "object" && !Array.isArray(value))
    return Object.entries(value).flatMap(([k, v]) =>
      numberPaths(v, [...path, k]),
    );
  if (Array.isArray(value))
    return value.flatMap((v, i) => numberPaths(v, [...path, String(i)]));
  return [];
}

function withValue(value: unknown, path: string[], x: number): unknown {
  if (path.length === 0) return x;
  const [head, ...rest] = path;
  if (Array.isArray(value))
    return value.map((v, i) =>
      String(i) === head ? withValue(v, rest, x) : v,
    );
  const obj = value as Record<string, unknown>;
  return { ...obj, [head]: withValue(obj[head], rest, x) };
}

const all = [...componentFunctions, ...appFunctions];
const label = (f: Found) => `${f.component || "app"} ${f.kind} ${f.path}`;

describe("every number argument at its edges", () => {
  test.each(all.map((f) => [label(f), f] as const))("%s", async (_l, f) => {
    const d = await attackedDeployment();
    const ids = await d.idPool();
    const base = plain(f.args, ids);
    const paths = numberPaths(base);
    if (paths.length === 0) return;
    const ref =
      f.component === ""
        ? makeFunctionReference<typeof f.kind>(f.path)
        : `function://${f.component};${f.path}`;
    type Call = (ref: unknown, args: unknown) => Promise<unknown>;
    const problems: string[] = [];
    for (const path of paths)
      for (const x of EDGES) {
        const before = await d.snapshot();
        const result = await outcome(
          (d.alice[f.kind] as Call)(ref, withValue(base, path, x)),
        );
        const at = `${path.join(".")} = ${x}`;
        if (result.kind === "uncoded" || result.kind === "validator")
          problems.push(
            `${at}: ${String(result.kind === "uncoded" ? result.error : result.message).slice(0, 160)}`,
          );
        else if (result.kind !== "ok" && (await d.snapshot()) !== before)
          problems.push(`${at}: refused (${result.kind}) but wrote`);
      }
    expect(problems).toEqual([]);
  });
});

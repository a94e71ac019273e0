/**
 * Every number argument of a function, at its edges (used by
 * everyFunction.test.ts on the same deployment): each number field
 * of plain arguments (nested ones included, like `paginationOpts.numItems`
 * or a rate limit's `config.rate`) is set in turn to NaN, ±Infinity, -0,
 * -1, 0, a fraction and a huge value, the call is made as an admin, and
 * the same rule holds as for the generated attack: it succeeds, or it is
 * refused with a coded error that writes nothing — never an uncoded
 * `Error` such as `take()`'s "n must be a non-negative integer".
 */
import type { Found, Outcome } from "./harness";
import { outcome } from "./harness";
import type { IdPool, ValidatorJson } from "./validatorJson";

/** The edge values each number field takes in turn. */
export const EDGES = [NaN, Infinity, -Infinity, -0, -1, 0, 1.5, 1e12];

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

/**
 * Calls `f` once per number field and edge value, as `caller`, and returns
 * what broke the rule (an uncoded error, a validator refusal of arguments
 * the validator accepts, a refusal that wrote).
 */
export async function numberEdgeProblems(
  f: Found,
  ref: unknown,
  ids: IdPool,
  caller: Record<
    Found["kind"],
    (ref: unknown, args: unknown) => Promise<unknown>
  >,
  snapshot: () => Promise<string>,
): Promise<string[]> {
  const base = plain(f.args, ids);
  const problems: string[] = [];
  for (const path of numberPaths(base))
    for (const x of EDGES) {
      const before = await snapshot();
      const result: Outcome = await outcome(
        caller[f.kind](ref, withValue(base, path, x)),
      );
      const at = `${path.join(".")} = ${x}`;
      if (result.kind === "uncoded" || result.kind === "validator")
        problems.push(
          `${at}: ${String(result.kind === "uncoded" ? result.error : result.message).slice(0, 160)}`,
        );
      else if (result.kind !== "ok" && (await snapshot()) !== before)
        problems.push(`${at}: refused (${result.kind}) but wrote`);
    }
  return problems;
}

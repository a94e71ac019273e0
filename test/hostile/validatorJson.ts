/**
 * Hostile arguments generated from a Convex function's exported validator
 * (`fn.exportArgs()`, the JSON form the deployment receives): values the
 * validator accepts but a careless handler does not expect (huge and empty
 * strings, NaN, Infinity, -0, negative and fractional numbers, ids of rows
 * that do not exist, deep `v.any()` values, unicode), plus mutations the
 * validator must refuse (wrong types, extra fields, missing fields).
 * `accepts` is the validator's own rule, so a test can tell a refusal by
 * the function's validator from an uncoded error inside the handler.
 */
import fc from "fast-check";

/** The JSON form of a validator, as `exportArgs()`/`exportReturns()` give it. */
export type ValidatorJson = {
  type: string;
  value?: unknown;
  tableName?: string;
  keys?: ValidatorJson;
  values?: { fieldType: ValidatorJson; optional?: boolean };
};
type Field = { fieldType: ValidatorJson; optional: boolean };

/** A big string: far past any sensible name, id, reason or cursor. */
export const HUGE = 100_000;

/** Strings a handler may not expect: empty, blank, huge, unicode, JSON-like, id-like, prototype keys. */
function hostileString(ids: string[]): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom(
      "",
      " ",
      "\u0000",
      "x".repeat(HUGE),
      "é".repeat(HUGE / 2),
      "🦄".repeat(1000),
      "__proto__",
      "constructor",
      "[]",
      "{}",
      "[1,2",
      "null",
      '[{"$integer":"x"}]',
      '["x",1,"y"]',
      '["x",1,"y",2,"z",3,4,5]',
      '[{"$bytes":"abc"}]',
      "*",
      "admin",
      "alice",
      "sam",
      "acme",
      "team:acme",
      "SUP-1 a reason",
      "backfillWordCount",
      "signUp",
      "users",
      "posts",
      "function://authz;grants:grant",
    ),
    fc.string({ maxLength: 20 }),
    fc.string({ unit: "grapheme", maxLength: 20 }),
    ...(ids.length > 0 ? [fc.constantFrom(...ids)] : []),
  );
}

const hostileNumber = fc.oneof(
  fc.constantFrom(
    NaN,
    Infinity,
    -Infinity,
    -0,
    0,
    -1,
    1,
    0.5,
    1.5,
    20.25,
    2 ** 53,
    -(2 ** 53),
    1e308,
    Number.MIN_VALUE,
  ),
  fc.integer({ min: -5, max: 1000 }),
  fc.double(),
);

/** Deeply nested / wide / odd values for `v.any()`. */
const hostileAny: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    null,
    NaN,
    "x".repeat(HUGE),
    nest(15),
    Array.from({ length: 2000 }, (_, i) => i),
    { a: { b: { c: [1, "two", null, false] } } },
  ),
  fc.jsonValue({ maxDepth: 3 }).map((x) => sanitize(x)),
);

function nest(depth: number): unknown {
  let value: unknown = "bottom";
  for (let i = 0; i < depth; i++) value = { n: value };
  return value;
}

/** Convex values: no `-0` object keys or `$`/`_`-prefixed field names. */
function sanitize(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(sanitize);
  if (x !== null && typeof x === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x))
      if (/^[a-zA-Z][a-zA-Z0-9_]*$/.test(k)) out[k] = sanitize(v);
    return out;
  }
  return x;
}

/** Ids the generator picks from, by table (real rows, and ones that never existed). */
export type IdPool = Record<string, string[]>;

/** Values the validator accepts, chosen to be hostile. */
export function validArb(
  json: ValidatorJson,
  ids: IdPool,
): fc.Arbitrary<unknown> {
  const allIds = Object.values(ids).flat();
  switch (json.type) {
    case "string":
      return hostileString(allIds);
    case "number":
      return hostileNumber;
    case "bigint":
      return fc.bigInt({ min: -5n, max: 2n ** 64n });
    case "boolean":
      return fc.boolean();
    case "null":
      return fc.constant(null);
    case "any":
      return hostileAny;
    case "bytes":
      return fc.constant(new ArrayBuffer(8));
    case "literal":
      return fc.constant(literalValue(json.value));
    case "id": {
      const table = json.tableName!;
      return fc.constantFrom(...(ids[table] ?? []), `9999999${table}`);
    }
    case "array":
      return fc.oneof(
        {
          weight: 4,
          arbitrary: fc.array(validArb(json.value as ValidatorJson, ids), {
            maxLength: 3,
          }),
        },
        {
          weight: 1,
          arbitrary: validArb(json.value as ValidatorJson, ids).map((x) =>
            Array.from({ length: 1500 }, () => x),
          ),
        },
      );
    case "record":
      return fc.dictionary(
        fc.constantFrom("a", "b", "x".repeat(200), "users", "admin"),
        validArb(json.values!.fieldType, ids),
        { maxKeys: 3 },
      );
    case "union":
      return fc.oneof(
        ...(json.value as ValidatorJson[]).map((m) => validArb(m, ids)),
      );
    case "object": {
      const fields = json.value as Record<string, Field>;
      const required: Record<string, fc.Arbitrary<unknown>> = {};
      const optional: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, f] of Object.entries(fields))
        (f.optional ? optional : required)[k] = validArb(f.fieldType, ids);
      return fc
        .tuple(fc.record(required), fc.record(optional, { requiredKeys: [] }))
        .map(([a, b]) => ({ ...a, ...b }));
    }
    default:
      throw new Error(`no generator for validator type ${json.type}`);
  }
}

function literalValue(value: unknown): unknown {
  if (value !== null && typeof value === "object" && "$integer" in value)
    return BigInt(0); // bigint literals do not occur in this package
  return value;
}

/** Values of the wrong shape for `json` (the validator must refuse them). */
function wrongArb(json: ValidatorJson): fc.Arbitrary<unknown> {
  const all = fc.constantFrom<unknown>(
    "x",
    1,
    NaN,
    true,
    null,
    [],
    {},
    { nested: { deeper: 1 } },
    1n,
  );
  return all.filter((x) => !accepts(json, x));
}

/**
 * Arguments for a function: mostly ones its validator accepts (hostile
 * content), sometimes one field of the wrong type, an extra field or a
 * missing required field.
 */
export function argsArb(
  json: ValidatorJson,
  ids: IdPool,
): fc.Arbitrary<unknown> {
  const valid = validArb(json, ids);
  if (json.type !== "object") return valid;
  const fields = json.value as Record<string, Field>;
  const names = Object.keys(fields);
  const broken: Array<fc.Arbitrary<unknown>> = [
    valid.map((a) => ({ ...(a as object), unexpectedField: "x".repeat(HUGE) })),
  ];
  if (names.length > 0) {
    broken.push(
      fc.tuple(valid, fc.constantFrom(...names)).chain(([a, name]) =>
        wrongArb(fields[name].fieldType).map((w) => ({
          ...(a as object),
          [name]: w,
        })),
      ),
    );
    const required = names.filter((n) => !fields[n].optional);
    if (required.length > 0)
      broken.push(
        fc.tuple(valid, fc.constantFrom(...required)).map(([a, name]) => {
          const copy = { ...(a as Record<string, unknown>) };
          delete copy[name];
          return copy;
        }),
      );
  }
  return fc.oneof(
    { weight: 5, arbitrary: valid },
    { weight: 1, arbitrary: fc.oneof(...broken) },
  );
}

/** Whether the validator accepts `value` (the deployment's rule, for the types this package uses). */
export function accepts(json: ValidatorJson, value: unknown): boolean {
  switch (json.type) {
    case "string":
      return typeof value === "string";
    case "number":
      return typeof value === "number";
    case "bigint":
      return typeof value === "bigint";
    case "boolean":
      return typeof value === "boolean";
    case "null":
      return value === null;
    case "any":
      return value !== undefined;
    case "bytes":
      return value instanceof ArrayBuffer;
    case "literal":
      return value === literalValue(json.value);
    case "id":
      return (
        typeof value === "string" &&
        value.endsWith(json.tableName!) &&
        /^[0-9]+/.test(value)
      );
    case "array":
      return (
        Array.isArray(value) &&
        value.every((x) => accepts(json.value as ValidatorJson, x))
      );
    case "record":
      return (
        isPlainObject(value) &&
        Object.values(value).every((x) => accepts(json.values!.fieldType, x))
      );
    case "union":
      return (json.value as ValidatorJson[]).some((m) => accepts(m, value));
    case "object": {
      if (!isPlainObject(value)) return false;
      const fields = json.value as Record<string, Field>;
      for (const k of Object.keys(value)) if (!(k in fields)) return false;
      for (const [k, f] of Object.entries(fields)) {
        const x = value[k];
        if (x === undefined) {
          if (!f.optional) return false;
        } else if (!accepts(f.fieldType, x)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return (
    x !== null &&
    typeof x === "object" &&
    !Array.isArray(x) &&
    !(x instanceof ArrayBuffer) &&
    (Object.getPrototypeOf(x) === Object.prototype ||
      Object.getPrototypeOf(x) === null)
  );
}

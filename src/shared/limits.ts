/**
 * The size rules a Convex deployment applies to every stored document, as pure
 * functions (no Convex context), so jobs can budget by them and tests can
 * check stored data against them.
 *
 * Source: the Convex backend (`get-convex/convex-backend`):
 * - `crates/common/src/document.rs`: `MAX_USER_SIZE = 1 << 20` (checked on the
 *   whole stored document, system fields included) and
 *   `MAX_DOCUMENT_NESTING = 16`.
 * - `crates/value/src/array.rs`: `MAX_ARRAY_LEN = 8192`.
 * - `crates/value/src/size.rs`, `lib.rs`, `string.rs`, `bytes.rs`: the size of
 *   a value — null and booleans 1 byte, numbers and int64 9, strings and bytes
 *   1 + UTF-8 length + 1, arrays 1 + sum(elements) + 1, objects
 *   1 + sum(field name length + 1 + value size) + 1.
 * - nesting: scalars 0, an array or object 1 + the deepest of its values (so
 *   a document `{ a: 1 }` has nesting 1).
 */
import type { Value } from "convex/values";

/** The largest document a deployment stores: 1 MiB (1,048,576 bytes), system fields included. */
export const MAX_DOCUMENT_BYTES = 1 << 20;
/** The most elements an array in a stored value may hold. */
export const MAX_ARRAY_LENGTH = 8192;
/** The deepest a document may nest (the document itself counts as level 1). */
export const MAX_NESTING = 16;
/** Bytes a transaction may read, and separately write (16 MiB each). */
export const MAX_TRANSACTION_BYTES = 16 * (1 << 20);
/** Bytes a function's arguments or return value may take (16 MiB). */
export const MAX_FUNCTION_VALUE_BYTES = 16 * (1 << 20);

/**
 * Bytes `_id` and `_creationTime` add to a document that does not carry them
 * yet (one about to be inserted): `_id` (name 3 + 1, a 32-character id string
 * 34) and `_creationTime` (name 13 + 1, a float 9).
 */
export const SYSTEM_FIELDS_BYTES = 4 + 34 + 14 + 9;

function utf8Length(s: string): number {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * The size in bytes of a Convex value by the backend's rule (see the module
 * header): what a deployment checks against {@link MAX_DOCUMENT_BYTES} when
 * given a stored document (with `_id` and `_creationTime`); add
 * {@link SYSTEM_FIELDS_BYTES} for a document not inserted yet. Fields whose
 * value is `undefined` are left out, as Convex does.
 *
 * @example
 * documentSize("héllo"); // 1 + 6 + 1 = 8
 * documentSize({ a: [1, 2] }); // 1 + (1 + 1 + (1 + 9 + 9 + 1)) + 1 = 24
 */
export function documentSize(value: Value | undefined): number {
  if (value === undefined) return 0;
  if (value === null || typeof value === "boolean") return 1;
  if (typeof value === "number" || typeof value === "bigint") return 9;
  if (typeof value === "string") return 2 + utf8Length(value);
  if (value instanceof ArrayBuffer) return 2 + value.byteLength;
  if (Array.isArray(value)) {
    let size = 2;
    for (const element of value) size += documentSize(element);
    return size;
  }
  if (isPlainObject(value)) {
    let size = 2;
    for (const [key, field] of Object.entries(value)) {
      if (field === undefined) continue;
      size += utf8Length(key) + 1 + documentSize(field as Value);
    }
    return size;
  }
  // A pending commit timestamp and other int64-like placeholders.
  return 9;
}

/**
 * How deeply a value nests by the backend's rule: a scalar 0, an array or
 * object 1 + the deepest of its elements.
 */
export function valueNesting(value: Value | undefined): number {
  if (Array.isArray(value)) {
    let deepest = 0;
    for (const element of value)
      deepest = Math.max(deepest, valueNesting(element));
    return 1 + deepest;
  }
  if (isPlainObject(value)) {
    let deepest = 0;
    for (const field of Object.values(value)) {
      if (field === undefined) continue;
      deepest = Math.max(deepest, valueNesting(field as Value));
    }
    return 1 + deepest;
  }
  return 0;
}

/** One way a value breaks a deployment's limits. */
export type LimitViolation = {
  /** Where: `$` is the document, then `.field` and `[index]` steps (`$.items[3].tags`). */
  path: string;
  /** `size`: document over {@link MAX_DOCUMENT_BYTES}; `array`: over {@link MAX_ARRAY_LENGTH} elements; `nesting`: deeper than {@link MAX_NESTING}. */
  rule: "size" | "array" | "nesting";
  /** The measured bytes, elements or levels. */
  actual: number;
  /** The limit it exceeds. */
  limit: number;
};

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function fieldStep(key: string): string {
  return IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

/**
 * Every way `value` (a stored document, or one about to be inserted: then
 * {@link SYSTEM_FIELDS_BYTES} is added to its size) breaks a
 * deployment's limits: its size, each array over {@link MAX_ARRAY_LENGTH}
 * elements, and — once, at the first container past the limit — nesting
 * deeper than {@link MAX_NESTING}. Empty when the document is storable.
 *
 * @example
 * checkDocument({ tags: new Array(9000).fill("x") });
 * // [{ path: "$.tags", rule: "array", actual: 9000, limit: 8192 }]
 */
export function checkDocument(
  value: Record<string, Value | undefined>,
): LimitViolation[] {
  const violations: LimitViolation[] = [];
  const size =
    documentSize(value as Value) +
    (value._id === undefined && value._creationTime === undefined
      ? SYSTEM_FIELDS_BYTES
      : 0);
  if (size > MAX_DOCUMENT_BYTES) {
    violations.push({
      path: "$",
      rule: "size",
      actual: size,
      limit: MAX_DOCUMENT_BYTES,
    });
  }
  const nesting = valueNesting(value as Value);
  if (nesting > MAX_NESTING) {
    violations.push({
      path: deepestContainerPath(value as Value, MAX_NESTING + 1),
      rule: "nesting",
      actual: nesting,
      limit: MAX_NESTING,
    });
  }
  collectArrays(value as Value, "$", violations);
  return violations;
}

/** The path of the first container at `level` (the document is level 1) on a deepest branch. */
function deepestContainerPath(value: Value, level: number): string {
  let path = "$";
  let current: Value = value;
  for (let depth = 1; depth < level; depth++) {
    const target = valueNesting(current) - 1;
    let next: { step: string; value: Value } | undefined;
    if (Array.isArray(current)) {
      const i = current.findIndex((e) => valueNesting(e) === target);
      next = { step: `[${i}]`, value: current[i] };
    } else if (isPlainObject(current)) {
      for (const [key, field] of Object.entries(current)) {
        if (field !== undefined && valueNesting(field as Value) === target) {
          next = { step: fieldStep(key), value: field as Value };
          break;
        }
      }
    }
    if (next === undefined) break;
    path += next.step;
    current = next.value;
  }
  return path;
}

function collectArrays(
  value: Value,
  path: string,
  out: LimitViolation[],
): void {
  if (Array.isArray(value)) {
    if (value.length > MAX_ARRAY_LENGTH) {
      out.push({
        path,
        rule: "array",
        actual: value.length,
        limit: MAX_ARRAY_LENGTH,
      });
    }
    value.forEach((element, i) => collectArrays(element, `${path}[${i}]`, out));
  } else if (isPlainObject(value)) {
    for (const [key, field] of Object.entries(value)) {
      if (field !== undefined)
        collectArrays(field as Value, path + fieldStep(key), out);
    }
  }
}

/** One line for a violation, for error messages: `document is 1048600 bytes at $; the limit is 1048576`. */
export function describeViolation(v: LimitViolation): string {
  const what =
    v.rule === "size"
      ? `document is ${v.actual} bytes`
      : v.rule === "array"
        ? `an array has ${v.actual} elements`
        : `values nest ${v.actual} levels`;
  return `${what} at ${v.path}; the limit is ${v.limit}`;
}

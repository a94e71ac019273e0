/**
 * The size rules a Convex deployment enforces on every stored document, as
 * pure functions, so components can size their rows and jobs and tests can
 * check what convex-test would otherwise accept.
 *
 * Source of the rules (get-convex/convex-backend):
 * - `crates/common/src/document.rs`: `MAX_USER_SIZE = 1 << 20` (checked on
 *   the whole document, system fields included) and `MAX_DOCUMENT_NESTING = 16`.
 * - `crates/value/src/size.rs`: a string or bytes value counts `len + 2`, a
 *   number or int64 9, null and booleans 1, an array `2 + Σ items`, an object
 *   `2 + Σ (field name + 1 + value)`; nesting is 0 for a primitive and
 *   `1 + max(children)` for an array or object (so a document `{ a: 1 }` is
 *   nested 1 level).
 * - `crates/value/src/array.rs`: `MAX_ARRAY_LEN = 8192`.
 * convex's own `getConvexSize`/`getDocumentSize` (convex/values) count the
 * same way; this module uses them for sizes.
 */
import { getConvexSize, getDocumentSize, type Value } from "convex/values";

/** Largest document a deployment stores: 1 MiB, system fields included. */
export const MAX_DOCUMENT_BYTES = 1 << 20;
/** Most elements one array in a stored document may hold. */
export const MAX_ARRAY_LENGTH = 8192;
/** Deepest nesting of a stored document (the document object itself is level 1). */
export const MAX_NESTING = 16;
/** Bytes one transaction may read, and may write (16 MiB each). */
export const MAX_TRANSACTION_BYTES = 16 * (1 << 20);
/** Bytes a function's arguments, and its return value, may take (16 MiB). */
export const MAX_FUNCTION_VALUE_BYTES = 16 * (1 << 20);

/** One way a value breaks a storage rule. */
export type LimitViolation = {
  /** `size`: over {@link MAX_DOCUMENT_BYTES}; `arrayLength`: an array over {@link MAX_ARRAY_LENGTH}; `nesting`: deeper than {@link MAX_NESTING}. */
  kind: "size" | "arrayLength" | "nesting";
  /** Where: `""` for the whole document, else a dotted path with `[i]` for array items. */
  path: string;
  actual: number;
  limit: number;
  message: string;
};

/**
 * The size Convex counts for a document (with `_id` and `_creationTime`
 * estimated when absent), or for any other value.
 */
export function documentSize(value: Value | undefined): number {
  if (
    value !== null &&
    typeof value === "object" &&
    !Array.isArray(value) &&
    !(value instanceof ArrayBuffer)
  )
    return getDocumentSize(value as Record<string, Value>);
  return getConvexSize(value);
}

/** Nesting depth as Convex counts it: 0 for a primitive, `1 + max(children)` for an array or object. */
export function nestingOf(value: Value | undefined): number {
  if (value === null || typeof value !== "object") return 0;
  if (value instanceof ArrayBuffer) return 0;
  let deepest = 0;
  const children = Array.isArray(value)
    ? value
    : Object.values(value as Record<string, Value | undefined>);
  for (const child of children) {
    if (child === undefined) continue;
    const n = nestingOf(child);
    if (n > deepest) deepest = n;
  }
  return 1 + deepest;
}

/**
 * Every way `value`, stored as one document, would be refused by a
 * deployment: its size, each over-long array (with its path), and its
 * nesting. An empty list means it is storable.
 */
export function checkDocument(value: Value | undefined): LimitViolation[] {
  const violations: LimitViolation[] = [];
  const size = documentSize(value);
  if (size > MAX_DOCUMENT_BYTES)
    violations.push({
      kind: "size",
      path: "",
      actual: size,
      limit: MAX_DOCUMENT_BYTES,
      message: `document is ${size} bytes; the limit is ${MAX_DOCUMENT_BYTES}`,
    });
  const nesting = nestingOf(value);
  if (nesting > MAX_NESTING)
    violations.push({
      kind: "nesting",
      path: "",
      actual: nesting,
      limit: MAX_NESTING,
      message: `document is nested ${nesting} levels; the limit is ${MAX_NESTING}`,
    });
  findLongArrays(value, "", violations);
  return violations;
}

function findLongArrays(
  value: Value | undefined,
  path: string,
  out: LimitViolation[],
): void {
  if (value === null || typeof value !== "object") return;
  if (value instanceof ArrayBuffer) return;
  if (Array.isArray(value)) {
    if (value.length > MAX_ARRAY_LENGTH)
      out.push({
        kind: "arrayLength",
        path,
        actual: value.length,
        limit: MAX_ARRAY_LENGTH,
        message: `array at ${path || "(root)"} has ${value.length} elements; the limit is ${MAX_ARRAY_LENGTH}`,
      });
    value.forEach((item, i) => findLongArrays(item, `${path}[${i}]`, out));
    return;
  }
  for (const [key, child] of Object.entries(value))
    findLongArrays(child, path === "" ? key : `${path}.${key}`, out);
}

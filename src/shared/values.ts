/**
 * Comparison of Convex values, shared by the capabilities that diff
 * documents (auditLog's changed paths, migrations' accounting).
 */
import type { Value } from "convex/values";

/**
 * Deep equality over Convex values (objects compare by key set, not key
 * order). Numbers compare as Convex stores them: NaN equals NaN, and -0 and
 * 0 differ (Convex keeps the sign and orders -0 before 0).
 */
export function valuesEqual(
  a: Value | undefined,
  b: Value | undefined,
): boolean {
  if (typeof a === "number" && typeof b === "number") return Object.is(a, b);
  if (a === b) return true;
  if (a === null || b === null || a === undefined || b === undefined)
    return false;
  if (typeof a !== "object" || typeof b !== "object") return false;
  if (a instanceof ArrayBuffer || b instanceof ArrayBuffer) {
    if (!(a instanceof ArrayBuffer && b instanceof ArrayBuffer)) return false;
    if (a.byteLength !== b.byteLength) return false;
    const x = new Uint8Array(a);
    const y = new Uint8Array(b);
    return x.every((byte, i) => byte === y[i]);
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!(Array.isArray(a) && Array.isArray(b))) return false;
    return a.length === b.length && a.every((x, i) => valuesEqual(x, b[i]));
  }
  const ao = a as Record<string, Value | undefined>;
  const bo = b as Record<string, Value | undefined>;
  const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
  for (const k of keys) if (!valuesEqual(ao[k], bo[k])) return false;
  return true;
}

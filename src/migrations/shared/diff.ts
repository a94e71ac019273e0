/**
 * Field-level comparison of a document before and after `migrateOne`, used
 * for the changed/unchanged accounting, the dry-run field counts and the
 * journal of prior values.
 */
import type { Value } from "convex/values";
import { SYSTEM_FIELDS } from "../../shared/documents.js";
import { valuesEqual } from "../../shared/values.js";

export { valuesEqual };

/** A document as stored: field names to Convex values. */
export type DocFields = Record<string, Value | undefined>;

/**
 * The user fields whose values differ between `before` and `after`, sorted.
 * A field that appears or disappears counts as changed. System fields never do.
 */
export function changedFields(before: DocFields, after: DocFields): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys]
    .filter((k) => !SYSTEM_FIELDS.has(k) && !valuesEqual(before[k], after[k]))
    .sort();
}

/**
 * What a journal needs to undo a change: the prior values of `fields`, and
 * which of them did not exist before (to be removed on rollback).
 */
export function priorValues(
  before: DocFields,
  fields: string[],
): { prior: Record<string, Value>; absent: string[] } {
  const prior: Record<string, Value> = {};
  const absent: string[] = [];
  for (const f of fields) {
    const value = before[f];
    if (value === undefined) absent.push(f);
    else prior[f] = value;
  }
  return { prior, absent };
}

/** Adds `fields` to per-field change counts kept as a sorted list (Convex record keys are restricted). */
export function addFieldCounts(
  counts: Array<{ field: string; count: number }>,
  fields: Iterable<{ field: string; count: number }>,
): Array<{ field: string; count: number }> {
  const merged = new Map(counts.map((c) => [c.field, c.count]));
  for (const { field, count } of fields)
    merged.set(field, (merged.get(field) ?? 0) + count);
  return [...merged.entries()]
    .map(([field, count]) => ({ field, count }))
    .sort((a, b) => a.field.localeCompare(b.field));
}

/**
 * A deep copy of a Convex value, so `migrateOne` mutating the document object
 * it was handed cannot alter the "before" side of the comparison.
 */
export function cloneValue<T extends Value | undefined>(value: T): T {
  if (value === null || typeof value !== "object") return value;
  if (value instanceof ArrayBuffer) return value.slice(0) as T;
  if (Array.isArray(value)) return value.map((x) => cloneValue(x)) as T;
  const out: Record<string, Value | undefined> = {};
  for (const [k, x] of Object.entries(value)) out[k] = cloneValue(x);
  return out as T;
}

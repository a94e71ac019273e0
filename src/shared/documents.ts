/**
 * Document helpers every capability needs: system fields, and a patch
 * applied the way Convex applies it.
 */

/** The fields Convex adds to every document; a write never sets them. */
export const SYSTEM_FIELDS: ReadonlySet<string> = new Set([
  "_id",
  "_creationTime",
]);

/** A copy of `doc` without `_id` and `_creationTime`, ready for insert/replace. */
export function withoutSystemFields<T extends Record<string, unknown>>(
  doc: T,
): Omit<T, "_id" | "_creationTime"> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc))
    if (!SYSTEM_FIELDS.has(k)) out[k] = v;
  return out as Omit<T, "_id" | "_creationTime">;
}

/**
 * `doc` after `ctx.db.patch(id, value)`, as Convex computes it: a shallow
 * merge where `undefined` removes the field; system fields are not changed
 * by a patch (Convex refuses one that changes them; equal values pass).
 */
export function applyPatch<T extends Record<string, unknown>>(
  doc: T,
  value: Record<string, unknown>,
): T {
  const after: Record<string, unknown> = { ...doc };
  for (const [k, v] of Object.entries(value)) {
    if (SYSTEM_FIELDS.has(k)) continue;
    if (v === undefined) delete after[k];
    else after[k] = v;
  }
  return after as T;
}

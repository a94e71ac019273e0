/**
 * Checks the client runs before and after migrating documents: whether a
 * migrated document passes `verify`, and whether a cursor handed to a run
 * can be where a walk of its table starts.
 */
import { validate } from "convex-helpers/validators";
import type { GenericDatabaseWriter, GenericDataModel } from "convex/server";
import type { Validator } from "convex/values";
import { errorMessage, opskitError } from "../../shared/errors.js";
import type { AnyDoc, Verification } from "./define.js";

function isValidator(x: unknown): x is Validator<unknown, "required", string> {
  return (
    typeof x === "object" &&
    x !== null &&
    (x as { isConvexValidator?: unknown }).isConvexValidator === true
  );
}

/** Why `doc` fails `verify`, or null when it passes. */
export function verificationProblem(
  verify: Verification<never>,
  doc: AnyDoc,
): string | null {
  if (isValidator(verify)) {
    const { _id: _ignoredId, _creationTime: _ignoredTime, ...fields } = doc;
    try {
      validate(verify, fields, { throw: true, allowUnknownFields: true });
      return null;
    } catch (e) {
      return `verification failed: ${errorMessage(e)}`;
    }
  }
  const verdict = (verify as (d: AnyDoc) => boolean | string)(doc);
  if (verdict === true) return null;
  return typeof verdict === "string"
    ? `verification failed: ${verdict}`
    : "verification failed";
}

/**
 * How far past the function's `Date.now()` a cursor's `_creationTime` may
 * be (creation times carry a fraction of a millisecond, and clocks differ
 * a little between machines); anything later is refused as forged.
 */
const FUTURE_CURSOR_SLACK_MS = 60_000;

/** Longest part of a refused cursor quoted back in the error. */
const MAX_QUOTED_CURSOR = 100;

/**
 * Why `cursor` cannot be where a walk of `table` starts, or null when it
 * can. A walk's cursor is a JSON array of the index key it stopped at, which
 * ends with the `_creationTime` and `_id` of a document of `table` (`"[]"`:
 * the beginning). A cursor from another table, another tool or a typo would
 * start the walk at an arbitrary point, skip documents and still end in
 * `success`, so it is refused before anything is written.
 *
 * @param normalizeId - `ctx.db.normalizeId`: whether a string is an id of `table`.
 * @param customRange - whether the walk uses `customRange` (more index fields precede).
 */
export function cursorProblem(
  cursor: string,
  table: string,
  normalizeId: (table: string, id: string) => unknown,
  customRange: boolean,
): string | null {
  const quoted =
    cursor.length > MAX_QUOTED_CURSOR
      ? `${JSON.stringify(cursor.slice(0, MAX_QUOTED_CURSOR))}… (${cursor.length} characters)`
      : JSON.stringify(cursor);
  const expected = `a cursor returned by a run of this migration over "${table}" (a JSON array ending in a _creationTime and an id of "${table}"), or null to start from the beginning`;
  let key: unknown;
  try {
    key = JSON.parse(cursor);
  } catch {
    return `cursor must be ${expected}; got ${quoted}, which is not JSON`;
  }
  if (!Array.isArray(key))
    return `cursor must be ${expected}; got ${quoted}, which is not an array`;
  if (key.length === 0) return null;
  const id = key[key.length - 1];
  const time = key[key.length - 2];
  const fieldsOk = customRange ? key.length >= 2 : key.length === 2;
  if (
    !fieldsOk ||
    typeof time !== "number" ||
    !Number.isFinite(time) ||
    typeof id !== "string" ||
    normalizeId(table, id) === null
  )
    return `cursor must be ${expected}; got ${quoted}`;
  return null;
}

/**
 * {@link cursorProblem}, and then whether the cursor's document (when it
 * still exists) was created when the cursor says and no later than now: a
 * hand-made `[1e20, "<id>"]` would otherwise skip every document.
 */
export async function checkCursor(
  db: GenericDatabaseWriter<GenericDataModel>,
  table: string,
  cursor: string,
  customRange: boolean,
): Promise<void> {
  const problem = cursorProblem(
    cursor,
    table,
    (t, id) => db.normalizeId(t, id),
    customRange,
  );
  if (problem) throw opskitError("INVALID_ARGUMENT", problem, { table });
  const key = JSON.parse(cursor) as unknown[];
  if (key.length === 0) return;
  const time = key[key.length - 2] as number;
  const id = db.normalizeId(table, key[key.length - 1] as string)!;
  const doc = await db.get(id);
  if (
    time > Date.now() + FUTURE_CURSOR_SLACK_MS ||
    (doc !== null && doc._creationTime !== time)
  )
    throw opskitError(
      "INVALID_ARGUMENT",
      `cursor must be a cursor returned by a run of this migration over "${table}"; its _creationTime ${time} is not that of document ${id}${doc === null ? " (the cursor points into the future)" : ` (${doc._creationTime})`}`,
      { table },
    );
}

import {
  ConvexError,
  jsonToConvex,
  type JSONValue,
  type Value,
} from "convex/values";

/**
 * Machine-readable error codes shared by every convex-opskit capability.
 * Clients switch on `error.data.code`; the message is for humans.
 */
export const ErrorCode = {
  /** No signed-in user (or service key) where one is required. */
  UNAUTHENTICATED: "UNAUTHENTICATED",
  /** Signed in, but lacking the permission, scope or row rule required. */
  FORBIDDEN: "FORBIDDEN",
  /** A rate limit denied the call; `retryAfter` says when to try again (ms). */
  RATE_LIMITED: "RATE_LIMITED",
  /** An argument or configuration was malformed; nothing was written. */
  INVALID_ARGUMENT: "INVALID_ARGUMENT",
  /** The named thing (migration, operation, limit...) does not exist. */
  NOT_FOUND: "NOT_FOUND",
  /** The request conflicts with current state (e.g. a run already active). */
  CONFLICT: "CONFLICT",
  /** A migration could not complete. */
  MIGRATION_FAILED: "MIGRATION_FAILED",
} as const;

/** One of the codes in {@link ErrorCode}. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The `data` of every `ConvexError` thrown by convex-opskit. */
export type OpskitErrorData = {
  code: ErrorCode;
  message: string;
  [detail: string]: Value | undefined;
};

/**
 * Builds the `ConvexError` convex-opskit throws: `{ code, message, ...details }`.
 *
 * @example
 * throw opskitError("INVALID_ARGUMENT", "count must be a positive integer", { count });
 */
export function opskitError<
  D extends Record<string, Value | undefined> = Record<never, never>,
>(
  code: ErrorCode,
  message: string,
  details?: D,
): ConvexError<OpskitErrorData & D> {
  return new ConvexError({
    ...(details ?? ({} as D)),
    code,
    message,
  } as OpskitErrorData & D);
}

/** Whether `error` is a `ConvexError` carrying a convex-opskit code (optionally a given one). */
export function isOpskitError(
  error: unknown,
  code?: ErrorCode,
): error is ConvexError<OpskitErrorData> {
  if (!(error instanceof ConvexError)) return false;
  const data = error.data as Partial<OpskitErrorData> | undefined;
  if (!data || typeof data !== "object" || typeof data.code !== "string")
    return false;
  return code === undefined || data.code === code;
}

/** The most characters of a caller's string an error message or detail repeats. */
export const MAX_ECHO_CHARS = 64;

/**
 * A caller's value as an error message shows it, bounded whatever arrived:
 * a short string quoted whole, a longer one as its first characters and its
 * length, anything else by its type (and length or size). A 100 KB id makes
 * a message of a hundred characters, not of 100 KB.
 *
 * @example
 * shown("x".repeat(100_000)); // '"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…" (a string of 100000 characters)'
 * shown(NaN);                 // 'NaN'
 */
export function shown(value: unknown): string {
  if (typeof value === "string")
    return value.length <= MAX_ECHO_CHARS
      ? JSON.stringify(value)
      : `${JSON.stringify(value.slice(0, MAX_ECHO_CHARS / 2))}… (a string of ${value.length} characters)`;
  if (typeof value === "number" || typeof value === "boolean")
    return String(value);
  if (typeof value === "bigint")
    return `${String(value).slice(0, 24)}n (a bigint)`;
  if (value === null) return "null";
  if (value === undefined) return "nothing";
  if (Array.isArray(value)) return `an array of ${value.length} items`;
  if (value instanceof ArrayBuffer) return `${value.byteLength} bytes`;
  if (typeof value === "object")
    return `an object with ${Object.keys(value).length} fields`;
  return `a ${typeof value}`;
}

/**
 * A caller's string as an error's details carry it: at most
 * {@link MAX_ECHO_CHARS} characters (the details also carry its length
 * where it matters).
 */
export function clipped(value: string): string {
  return value.length <= MAX_ECHO_CHARS
    ? value
    : value.slice(0, MAX_ECHO_CHARS);
}

/**
 * Throws `INVALID_ARGUMENT` unless `cursor` can be a cursor of a page read
 * with convex-helpers' `paginator` (what the components page with, since a
 * component cannot use `.paginate()`): `null`, or the JSON text of an array
 * of Convex values, as an earlier page's `continueCursor` is. A forged or
 * truncated cursor is the caller's mistake, refused with a code before
 * anything is read, not a `SyntaxError` from deep inside the paginator.
 * @param field - the argument's name in the message (`"paginationOpts.cursor"`).
 * @param keyLength - the number of fields of the index the list reads (its
 *   fields, then `_creationTime` and `_id`): a cursor is one key of that
 *   index, or `[]` once the list is done.
 */
export function checkPageCursor(
  cursor: string | null | undefined,
  field = "paginationOpts.cursor",
  keyLength?: number,
): void {
  if (cursor === null || cursor === undefined) return;
  let ok = false;
  if (typeof cursor === "string")
    try {
      const parsed: unknown = JSON.parse(cursor);
      ok =
        Array.isArray(parsed) &&
        Array.isArray(jsonToConvex(parsed as JSONValue)) &&
        (keyLength === undefined ||
          parsed.length === 0 ||
          parsed.length === keyLength);
    } catch {
      ok = false;
    }
  if (!ok)
    throw opskitError(
      "INVALID_ARGUMENT",
      `${field} must be null or the continueCursor of an earlier page of the same list; got ${shown(cursor)}`,
      { field },
    );
}

/**
 * The human message of anything thrown: a convex-opskit (or any)
 * `ConvexError`'s `data.message`, else its data as JSON; an `Error`'s
 * message; anything else as a string.
 */
export function errorMessage(e: unknown): string {
  if (e instanceof ConvexError) {
    const data = e.data as { message?: unknown } | string;
    if (typeof data === "string") return data;
    if (data && typeof data.message === "string") return data.message;
    return JSON.stringify(data);
  }
  return e instanceof Error ? e.message : String(e);
}

/**
 * Refuses a `paginationOpts.numItems` that is not a whole number from 1 to
 * `max` (from 1 up, when `max` is omitted: a page then holds what fits).
 * `where` names the caller in the message (`"reconcileRecorded"`); omit it
 * inside a component function, whose path the error already carries.
 */
export function checkNumItems(
  numItems: number,
  options: { max?: number; where?: string } = {},
): void {
  const { max, where } = options;
  if (
    Number.isInteger(numItems) &&
    numItems >= 1 &&
    (max === undefined || numItems <= max)
  )
    return;
  throw opskitError(
    "INVALID_ARGUMENT",
    `${where === undefined ? "" : `${where}'s `}paginationOpts.numItems must be ${max === undefined ? "a positive integer" : `an integer from 1 to ${max}`}; got ${shown(numItems)}`,
    { field: "paginationOpts.numItems", numItems },
  );
}

import { ConvexError, type Value } from "convex/values";

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

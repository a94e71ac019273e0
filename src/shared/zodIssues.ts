/**
 * Turns zod's validation issues into convex-opskit's `INVALID_ARGUMENT`
 * error: what was expected (zod's message, per argument path) and what
 * arrived (its type and size, never its value, which may be a secret).
 * Reads issue objects only; it imports nothing from zod.
 */
import type { Value } from "convex/values";
import { opskitError } from "./errors.js";

/** The fields of a zod issue this module reads. */
export type ZodIssueLike = {
  code?: string;
  path?: ReadonlyArray<PropertyKey>;
  message?: string;
};

/** How many issues the message spells out. */
const SHOWN = 3;
/**
 * How many issues the error carries in `issues` (`issueCount` has the total):
 * hostile input (an array of thousands of bad items) must not blow up the
 * error's size.
 */
export const MAX_ISSUES = 20;

function at(value: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/** The type and size of a received value, without the value itself. */
export function describeReceived(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (typeof value === "string")
    return `a string of ${value.length} characters`;
  if (Array.isArray(value)) return `an array of ${value.length} items`;
  if (value instanceof ArrayBuffer) return `${value.byteLength} bytes`;
  if (typeof value === "object") return "an object";
  if (typeof value === "number")
    return Number.isInteger(value) ? "an integer" : "a number";
  return `a ${typeof value}`;
}

/**
 * The `INVALID_ARGUMENT` error for zod issues found in `args`: the message
 * lists the first issues as `path: expected ..., got ...`; `issues` holds
 * every issue as `{ path, code, message }`.
 */
export function invalidArgsError(
  issues: ReadonlyArray<ZodIssueLike>,
  args: unknown,
  functionLabel = "the function",
) {
  const listed = issues.map((issue) => {
    const path = (issue.path ?? []).map(String);
    return {
      path: path.join("."),
      code: issue.code ?? "custom",
      message: issue.message ?? "invalid",
      got: describeReceived(at(args, issue.path ?? [])),
    };
  });
  const shown = listed
    .slice(0, SHOWN)
    .map((i) => `${i.path || "(args)"}: ${i.message}; got ${i.got}`)
    .join("; ");
  const more =
    listed.length > SHOWN ? ` (and ${listed.length - SHOWN} more)` : "";
  return opskitError(
    "INVALID_ARGUMENT",
    `Invalid arguments to ${functionLabel}: ${shown}${more}`,
    {
      issues: listed.slice(0, MAX_ISSUES).map(({ path, code, message }) => ({
        path: path.slice(0, 200),
        code,
        message: message.slice(0, 500),
      })) as Value,
      issueCount: listed.length,
    },
  );
}

/** Whether `data` is the `{ ZodError: issues }` payload convex-helpers throws. */
export function zodErrorIssues(data: unknown): ZodIssueLike[] | null {
  if (data === null || typeof data !== "object") return null;
  const issues = (data as { ZodError?: unknown }).ZodError;
  return Array.isArray(issues) ? (issues as ZodIssueLike[]) : null;
}

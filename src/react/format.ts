/**
 * Pure helpers of the console: field-by-field diffs, CSV and NDJSON export,
 * and server errors in words. No React, no Convex client: tested directly.
 */
import { convexToJson, type Value } from "convex/values";
import { SYSTEM_FIELDS } from "../shared/documents.js";

/** One row of a before/after diff. */
export type FieldDiff = {
  field: string;
  before: unknown;
  after: unknown;
  /** `added` (absent before), `removed` (absent after), `changed`, or `same`. */
  status: "added" | "removed" | "changed" | "same";
};

/**
 * A document value as JSON in Convex's own encoding: int64, bytes, -0, NaN
 * and ±Infinity (which plain JSON.stringify throws on or blurs) stay exact,
 * and `jsonToConvex` reads them back. Anything that is not a Convex value
 * falls back to plain JSON with bigints as text, so export never throws.
 */
function toJson(value: unknown): unknown {
  try {
    return convexToJson(value as Value);
  } catch {
    return JSON.parse(
      JSON.stringify(value, (_k, v: unknown) =>
        typeof v === "bigint" ? `${v}n` : v,
      ) ?? "null",
    ) as unknown;
  }
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(toJson(a)) === JSON.stringify(toJson(b));
}

/**
 * Top-level fields of two document versions, changed ones first, then the
 * unchanged ones (system fields last). `null` stands for "no document".
 */
export function fieldDiff(before: unknown, after: unknown): FieldDiff[] {
  const b = (before ?? {}) as Record<string, unknown>;
  const a = (after ?? {}) as Record<string, unknown>;
  const fields = [...new Set([...Object.keys(b), ...Object.keys(a)])];
  const rows = fields.map((field): FieldDiff => {
    const inB = Object.hasOwn(b, field);
    const inA = Object.hasOwn(a, field);
    const status: FieldDiff["status"] = !inB
      ? "added"
      : !inA
        ? "removed"
        : same(b[field], a[field])
          ? "same"
          : "changed";
    return { field, before: b[field], after: a[field], status };
  });
  const rank = (r: FieldDiff) =>
    SYSTEM_FIELDS.has(r.field) ? 2 : r.status === "same" ? 1 : 0;
  return rows.sort(
    (x, y) => rank(x) - rank(y) || x.field.localeCompare(y.field),
  );
}

/** A value as one line of text: strings as they are, anything else as JSON. */
export function showValue(value: unknown): string {
  if (value === undefined) return "";
  if (typeof value === "string") return value;
  const json = JSON.stringify(value, (_k, v: unknown) =>
    typeof v === "bigint" ? `${v}n` : v,
  );
  return json ?? String(value);
}

function csvCell(value: unknown): string {
  const text = showValue(value);
  // Cells a spreadsheet would run as a formula are prefixed with a quote.
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** RFC 4180 CSV with a header row; `columns` picks and orders the fields. */
export function toCsv<Row extends Record<string, unknown>>(
  rows: readonly Row[],
  columns: readonly (keyof Row & string)[],
): string {
  const lines = [columns.map(csvCell).join(",")];
  for (const row of rows)
    lines.push(columns.map((c) => csvCell(row[c])).join(","));
  return lines.join("\r\n") + "\r\n";
}

/**
 * One JSON object per line, values in Convex's JSON encoding (plain JSON for
 * strings, finite numbers, booleans, arrays and objects; `{"$integer": ...}`
 * for int64 and the like), so `jsonToConvex` restores every row exactly.
 */
export function toNdjson(rows: readonly unknown[]): string {
  return rows.map((r) => JSON.stringify(toJson(r)) + "\n").join("");
}

/** A server error, in words, with what the user can do about it. */
export type ErrorDescription = {
  code: string;
  title: string;
  detail: string;
  action: string;
};

/** The `data` of a ConvexError-like value, when it has a `code`. */
export function errorData(
  error: unknown,
): { code: string; message?: string; [k: string]: unknown } | null {
  const data = (error as { data?: unknown } | null)?.data;
  if (
    data !== null &&
    typeof data === "object" &&
    typeof (data as { code?: unknown }).code === "string"
  )
    return data as { code: string };
  return null;
}

/** Says what went wrong and what to do, for the codes convex-opskit throws. */
export function describeError(error: unknown): ErrorDescription {
  const data = errorData(error);
  const detail =
    (typeof data?.message === "string" ? data.message : undefined) ??
    (error instanceof Error ? error.message : String(error));
  switch (data?.code) {
    case "UNAUTHENTICATED":
      return {
        code: data.code,
        title: "You are not signed in",
        detail,
        action: "Sign in, then try again.",
      };
    case "FORBIDDEN": {
      const permission =
        typeof data.permission === "string" ? data.permission : undefined;
      return {
        code: data.code,
        title: "You don't have permission for this",
        detail,
        action: permission
          ? `Ask an administrator to grant you a role with "${permission}".`
          : "Ask an administrator for access.",
      };
    }
    case "CONFLICT":
      return {
        code: data.code,
        title: "Someone changed this in the meantime",
        detail,
        action:
          "Review the current state first; overwrite only if you are sure the later change should go.",
      };
    case "INVALID_ARGUMENT":
      return {
        code: data.code,
        title: "The request was not accepted",
        detail,
        action: "Correct the input and submit again.",
      };
    case "RATE_LIMITED": {
      const wait = Number(data.retryAfter);
      return {
        code: data.code,
        title: "Too many requests",
        detail,
        action: Number.isFinite(wait)
          ? `Wait ${Math.max(1, Math.ceil(wait / 1000))} s, then try again.`
          : "Wait a moment, then try again.",
      };
    }
    case "NOT_FOUND":
      return {
        code: data.code,
        title: "Not found",
        detail,
        action: "It may have been removed; reload and pick another.",
      };
    default:
      return {
        code: data?.code ?? "ERROR",
        title: "Something went wrong",
        detail,
        action: "Try again; if it keeps failing, check the server logs.",
      };
  }
}

/** A time in ms as local date and time, to the second. */
export function formatTime(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** The value of an `<input type="datetime-local">` as ms, or undefined when empty or invalid. */
export function parseLocalTime(value: string): number | undefined {
  if (value.trim() === "") return undefined;
  const ms = new Date(value).getTime();
  return Number.isFinite(ms) ? ms : undefined;
}

/** What {@link collectPages} gathered, and why it stopped. */
export type Collected<T> = {
  rows: T[];
  /** "done": the end was reached; "limit": `limit` rows; "pages": `maxPages` calls; "stuck": a cursor came back unchanged. */
  stopped: "done" | "limit" | "pages" | "stuck";
};

/**
 * Follows a paged query from the start until its end, `limit` rows or
 * `maxPages` calls, whichever comes first, and stops if a cursor does not
 * advance: a sparse filter over a long log can return empty pages for a
 * long time, and a server must never keep a browser looping.
 */
export async function collectPages<T>(
  fetchPage: (
    cursor: string | null,
  ) => Promise<{ page: T[]; isDone: boolean; continueCursor: string }>,
  opts: { limit: number; maxPages: number },
): Promise<Collected<T>> {
  const rows: T[] = [];
  let cursor: string | null = null;
  for (let calls = 0; ;) {
    const r = await fetchPage(cursor);
    calls++;
    rows.push(...r.page);
    if (rows.length >= opts.limit)
      return { rows: rows.slice(0, opts.limit), stopped: "limit" };
    if (r.isDone) return { rows, stopped: "done" };
    if (r.continueCursor === cursor) return { rows, stopped: "stuck" };
    if (calls >= opts.maxPages) return { rows, stopped: "pages" };
    cursor = r.continueCursor;
  }
}

/**
 * Pure document logic for the audit log: which fields changed, redaction,
 * and comparison of recorded versions with live documents.
 */
import type { Value } from "convex/values";
import { SYSTEM_FIELDS } from "../../shared/documents.js";
import { valuesEqual } from "../../shared/values.js";

export { valuesEqual };

/** The value stored in place of a redacted field, so readers see it existed. */
export const REDACTED = "[redacted]";

type Doc = Record<string, Value | undefined>;

function isPlainObject(value: unknown): value is Doc {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Dotted paths of the fields that differ between two versions of a document.
 * Nested objects are descended into (`profile.name`); arrays and other values
 * are compared whole. `null` stands for "no document" (insert or delete), in
 * which case every top-level user field of the other side counts as changed.
 */
export function changedPaths(before: Doc | null, after: Doc | null): string[] {
  const out: string[] = [];
  walk(before ?? {}, after ?? {}, "", out);
  return out.sort();
}

function walk(a: Doc, b: Doc, prefix: string, out: string[]): void {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) {
    if (prefix === "" && SYSTEM_FIELDS.has(key)) continue;
    const x = a[key];
    const y = b[key];
    const path = prefix + key;
    if (isPlainObject(x) && isPlainObject(y)) walk(x, y, path + ".", out);
    else if (!valuesEqual(x, y)) out.push(path);
  }
}

/**
 * A copy of `doc` with each configured field path (`"passwordHash"`,
 * `"profile.ssn"`) that is present replaced by {@link REDACTED}.
 */
export function redactDocument<D extends Doc | null>(
  doc: D,
  paths: readonly string[],
): D {
  if (doc === null || paths.length === 0) return doc;
  const copy: Doc = { ...doc };
  for (const path of paths) setRedacted(copy, path.split("."));
  return copy as D;
}

function setRedacted(target: Doc, parts: string[]): void {
  const [head, ...rest] = parts;
  if (!(head in target) || target[head] === undefined) return;
  if (rest.length === 0) {
    target[head] = REDACTED;
    return;
  }
  const child = target[head];
  if (!isPlainObject(child)) return;
  const copy = { ...child };
  target[head] = copy;
  setRedacted(copy, rest);
}

/**
 * Replaces the value of every object key named in `keys`, at any depth, by
 * {@link REDACTED}. Used on function arguments, whose shape the log does not know.
 */
export function redactKeys(value: Value, keys: ReadonlySet<string>): Value {
  if (keys.size === 0) return value;
  if (Array.isArray(value)) return value.map((v) => redactKeys(v, keys));
  if (!isPlainObject(value)) return value;
  const out: Record<string, Value> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined) continue;
    out[k] = keys.has(k) ? REDACTED : redactKeys(v, keys);
  }
  return out;
}

/** A copy of `doc` without the given field paths (used where redacted values are unknown). */
export function withoutPaths(doc: Doc, paths: readonly string[]): Doc {
  const copy = structuredCopy(doc);
  for (const path of paths) {
    const parts = path.split(".");
    let target: Doc | undefined = copy;
    for (let i = 0; i < parts.length - 1 && target; i++) {
      const next: unknown = target[parts[i]];
      target = isPlainObject(next) ? next : undefined;
    }
    if (target) delete target[parts[parts.length - 1]];
  }
  return copy;
}

function structuredCopy(doc: Doc): Doc {
  const out: Doc = {};
  for (const [k, v] of Object.entries(doc))
    out[k] = isPlainObject(v) ? structuredCopy(v) : v;
  return out;
}

/**
 * Whether a recorded version and a live document agree, ignoring redacted
 * paths (their real values were never recorded). `null` means "absent".
 */
export function sameVersion(
  recorded: Doc | null,
  live: Doc | null,
  redacted: readonly string[],
): boolean {
  if (recorded === null || live === null) return recorded === live;
  return valuesEqual(
    withoutPaths(recorded, redacted),
    withoutPaths(live, redacted),
  );
}

/** The changed paths between a recorded version and a live one, ignoring redacted paths. */
export function driftedPaths(
  recorded: Doc | null,
  live: Doc | null,
  redacted: readonly string[],
): string[] {
  return changedPaths(
    recorded && withoutPaths(recorded, redacted),
    live && withoutPaths(live, redacted),
  );
}

function getPath(doc: Doc, parts: string[]): Value | undefined {
  let cur: unknown = doc;
  for (const p of parts) {
    if (!isPlainObject(cur)) return undefined;
    cur = cur[p];
  }
  return cur as Value | undefined;
}

function setPath(doc: Doc, parts: string[], value: Value | undefined): void {
  let cur: Doc = doc;
  for (const p of parts.slice(0, -1)) {
    const next = cur[p];
    if (!isPlainObject(next)) return;
    cur[p] = { ...next };
    cur = cur[p] as Doc;
  }
  const last = parts[parts.length - 1];
  if (value === undefined) delete cur[last];
  else cur[last] = value;
}

/**
 * A recorded version made writable again: each redacted path takes the live
 * document's value (the log never had the real one). `missing` lists redacted
 * paths the live document cannot supply, e.g. when restoring a deleted document.
 */
export function restoreRedacted(
  recorded: Doc,
  live: Doc | null,
  paths: readonly string[],
): { doc: Doc; missing: string[] } {
  const doc = structuredCopy(recorded);
  const missing: string[] = [];
  for (const path of paths) {
    const parts = path.split(".");
    if (getPath(recorded, parts) !== REDACTED) continue;
    const liveValue = live ? getPath(live, parts) : undefined;
    if (liveValue === undefined) missing.push(path);
    setPath(doc, parts, liveValue);
  }
  return { doc, missing };
}

/**
 * How the audit log stores values of any size Convex accepts: the storage
 * limits it plans around, and the text form of a snapshot (a document's
 * before/after, or an operation's arguments) that is split across rows when
 * it does not fit inline. Pure; used by the component and the client.
 *
 * A snapshot's text is its canonical JSON (`canonicalJson`), so the text is
 * also what the hash chain hashes: `sha256Hex(text) === hashValue(value)`.
 */
import { jsonToConvex, type Value } from "convex/values";
import { canonicalJson, sha256Hex } from "./hash.js";
import {
  documentSize,
  MAX_NESTING,
  MAX_TRANSACTION_BYTES,
} from "../../shared/limits.js";

/**
 * Largest entry row kept inline (before, after and changed paths in the row
 * itself). Bigger entries move their before/after into snapshot parts, so an
 * operation's entry rows (at most 1,000) always fit one transaction's reads.
 */
export const INLINE_ENTRY_BYTES = 8 * 1024;
/** Largest `args` kept inline in the operation row. */
export const INLINE_ARGS_BYTES = 8 * 1024;
/** Largest text one snapshot part row holds (UTF-8 bytes). */
export const SNAPSHOT_PART_BYTES = 512 * 1024;
/**
 * Largest argument text stored. Bigger arguments are recorded as
 * `{ omitted: true, bytes, sha256 }`: an admin call may take 16 MiB of
 * arguments, and storing them all would not fit the call's 16 MiB of writes.
 */
export const MAX_STORED_ARGS_BYTES = 4 * 1024 * 1024;
/** Changed paths kept per entry (by total UTF-8 size); the rest are counted in `changedTotal`. */
export const MAX_CHANGED_BYTES = 2 * 1024;
/** Bytes of entries the client sends per append call (function arguments are capped at 16 MiB). */
export const APPEND_BATCH_BYTES = 6 * 1024 * 1024;
/**
 * Bytes a background job (seal, verify page, retention batch) plans to read
 * per transaction: half the 16 MiB limit, so a job sharing its transaction
 * with the caller's own reads still fits.
 */
export const JOB_READ_BYTES = MAX_TRANSACTION_BYTES / 2;
/** Bytes a list page or `getOperation` page returns at most (half the 16 MiB return limit). */
export const PAGE_RETURN_BYTES = 8 * 1024 * 1024;
/** A value nested deeper than this cannot sit inside a row's field (the row adds a level). */
export const MAX_INLINE_NESTING = MAX_NESTING - 1;

/** Where a snapshot that did not fit inline lives: its text's hash, size and number of parts. */
export type SnapshotRef = { hash: string; bytes: number; parts: number };

/** UTF-8 byte length of a string. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * Splits `text` into pieces of at most `maxBytes` UTF-8 bytes each, never
 * inside a surrogate pair, so every piece is valid text and joining them
 * gives `text` back.
 */
export function splitUtf8(text: string, maxBytes: number): string[] {
  // An internal invariant (callers pass constants), not a user's mistake: plain Error.
  if (!(maxBytes >= 4)) throw new Error(`splitUtf8: maxBytes ${maxBytes} < 4`);
  const parts: string[] = [];
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const pair = c >= 0xd800 && c <= 0xdbff && i + 1 < text.length;
    const size = c < 0x80 ? 1 : c < 0x800 ? 2 : pair ? 4 : 3;
    if (bytes + size > maxBytes) {
      parts.push(text.slice(start, i));
      start = i;
      bytes = 0;
    }
    bytes += size;
    if (pair) i++;
  }
  if (start < text.length || parts.length === 0) parts.push(text.slice(start));
  return parts;
}

/** The text form of a value, with its hash and size. */
export function encodeSnapshot(value: Value | undefined): {
  text: string;
  hash: string;
  bytes: number;
} {
  const text = canonicalJson(value);
  return { text, hash: sha256Hex(text), bytes: utf8Length(text) };
}

/** The value back from its text form. */
export function decodeSnapshot(text: string): Value {
  return jsonToConvex(JSON.parse(text));
}

/** Whether a value can be stored inside a row field within `maxBytes`. */
export function fitsInline(
  value: Value | undefined,
  maxBytes: number,
): boolean {
  return (
    documentSize(value) <= maxBytes && nestingWithin(value, MAX_INLINE_NESTING)
  );
}

function nestingWithin(value: Value | undefined, levels: number): boolean {
  if (value === null || typeof value !== "object") return true;
  if (value instanceof ArrayBuffer) return true;
  if (levels <= 0) return false;
  const children = Array.isArray(value)
    ? value
    : Object.values(value as Record<string, Value | undefined>);
  return children.every((c) => c === undefined || nestingWithin(c, levels - 1));
}

/**
 * The changed paths an entry keeps: in order, as many as fit
 * {@link MAX_CHANGED_BYTES}; `total` is how many there were.
 */
export function boundedChanged(changed: readonly string[]): {
  changed: string[];
  total: number;
} {
  const kept: string[] = [];
  let bytes = 0;
  for (const path of changed) {
    const size = utf8Length(path) + 2;
    if (bytes + size > MAX_CHANGED_BYTES) break;
    kept.push(path);
    bytes += size;
  }
  return { changed: kept, total: changed.length };
}

/**
 * What an admin call's arguments are stored as: the arguments themselves,
 * or, past {@link MAX_STORED_ARGS_BYTES} as JSON text or as a Convex value
 * (the size function arguments and return values are capped by; `[0,0]`
 * takes 4.5 times its text), a marker with their text's size and hash.
 */
export function storableArgs(args: Value): Value {
  const text = canonicalJson(args);
  const bytes = utf8Length(text);
  if (
    bytes <= MAX_STORED_ARGS_BYTES &&
    documentSize(args) <= MAX_STORED_ARGS_BYTES
  )
    return args;
  return { omitted: true, bytes, sha256: sha256Hex(text) };
}

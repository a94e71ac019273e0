/**
 * Code identity for migration definitions: a short, stable hash of the parts
 * of a definition that decide what it does to documents. Stored with every
 * run so status can warn when a completed migration's code changed since.
 */

/**
 * 53-bit string hash (cyrb53). Pure JavaScript because component and app code
 * run in the Convex runtime, which has no Node `crypto`; collisions only cost
 * a missed "code changed" warning, so a cryptographic hash is not needed.
 */
function cyrb53(text: string, seed: number): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** Hex digest of `text` (two independently seeded 53-bit hashes, 28 hex digits). */
export function hashText(text: string): string {
  return (
    cyrb53(text, 0).toString(16).padStart(14, "0") +
    cyrb53(text, 0x9e3779b9).toString(16).padStart(14, "0")
  );
}

function source(f: unknown): string | null {
  if (f === undefined) return null;
  if (typeof f === "function") return f.toString().replace(/\s+/g, " ");
  // A Convex validator: its JSON form describes it fully.
  const json = (f as { json?: unknown }).json;
  return JSON.stringify(json ?? null);
}

/** The parts of a definition that change its effect on documents. */
export type ChecksumInput = {
  table: string;
  migrateOne: (...args: never[]) => unknown;
  customRange?: (...args: never[]) => unknown;
  verify?: unknown;
  onError?: string;
};

/**
 * Checksum of a migration definition. Batch size and parallelism are left out
 * on purpose: they change how fast a migration runs, not what it writes.
 *
 * Whitespace is collapsed so reformatting the file (or a bundler re-indenting
 * the function) does not count as a code change.
 *
 * @example
 * definitionChecksum({ table: "users", migrateOne: (_ctx, doc) => ({ plan: "free" }) });
 */
export function definitionChecksum(input: ChecksumInput): string {
  return hashText(
    JSON.stringify({
      table: input.table,
      migrateOne: source(input.migrateOne),
      customRange: source(input.customRange),
      verify: source(input.verify),
      onError: input.onError ?? "stop",
    }),
  );
}

/**
 * Identity of the range a definition walks: its table and `customRange`
 * code. A cursor is only meaningful for the range it came from, so a run
 * never resumes with a cursor taken from another range.
 *
 * @example
 * rangeChecksum({ table: "users" }) !== rangeChecksum({ table: "notes" }); // true
 */
export function rangeChecksum(input: {
  table: string;
  customRange?: (...args: never[]) => unknown;
}): string {
  return hashText(
    JSON.stringify({
      table: input.table,
      customRange: source(input.customRange),
    }),
  );
}

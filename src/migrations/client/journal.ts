/**
 * The rollback journal: the prior values of the fields a migration changed,
 * split so every entry fits one journal row, and their restoring (op
 * "restore").
 */
import type { GenericDataModel, GenericMutationCtx } from "convex/server";
import { getConvexSize, type Value } from "convex/values";
import { opskitError } from "../../shared/errors.js";
import type { JournalEntry, RestoreResult } from "../shared/wire.js";

/**
 * Largest journal entry stored in one journal row: a row is a document
 * (1 MiB at most) that also holds the run id, the document id and its own
 * system fields (under 512 bytes together). A larger entry is split by
 * field across rows; only a single field within about 512 bytes of the
 * 1 MiB document limit cannot be journaled.
 */
export const MAX_JOURNAL_ENTRY_BYTES = 1024 * 1024 - 512;

/**
 * Splits a journal entry whose prior values exceed {@link MAX_JOURNAL_ENTRY_BYTES}
 * into entries over disjoint fields (restoring each restores the whole).
 * Throws a coded `INVALID_ARGUMENT` (`{ field, bytes, max }`) when a single
 * field's prior value alone is too large to store.
 */
export function splitJournalEntry(
  entry: JournalEntry,
  max = MAX_JOURNAL_ENTRY_BYTES,
): JournalEntry[] {
  if (getConvexSize(entry) <= max) return [entry];
  const out: JournalEntry[] = [];
  let current: JournalEntry = { id: entry.id, prior: {}, absent: entry.absent };
  for (const [field, value] of Object.entries(entry.prior)) {
    const alone = getConvexSize({
      id: entry.id,
      prior: { [field]: value },
      absent: [],
    });
    if (alone > max)
      throw opskitError(
        "INVALID_ARGUMENT",
        `the prior value of field "${field}" is about ${alone} bytes, more than a journal row holds (${max}); run this migration with journal: false, or split the field`,
        { field, bytes: alone, max },
      );
    const next = { ...current, prior: { ...current.prior, [field]: value } };
    if (getConvexSize(next) > max) {
      out.push(current);
      current = { id: entry.id, prior: { [field]: value }, absent: [] };
    } else current = next;
  }
  out.push(current);
  return out;
}

/** Restores journaled prior values (op "restore"). */
export async function restoreEntries(
  ctx: GenericMutationCtx<GenericDataModel>,
  table: string,
  entries: JournalEntry[],
): Promise<RestoreResult> {
  let restored = 0;
  let missing = 0;
  for (const entry of entries) {
    const id = ctx.db.normalizeId(table, entry.id);
    const doc = id && (await ctx.db.get(id));
    if (!id || !doc) {
      missing++;
      continue;
    }
    const patch: Record<string, Value | undefined> = { ...entry.prior };
    for (const f of entry.absent) patch[f] = undefined;
    await ctx.db.patch(id, patch);
    restored++;
  }
  return { kind: "restore", restored, missing };
}

/**
 * Sealing: links committed operations into the hash chain in commit order,
 * in batches sized by bytes. Run by `chain.seal`/`chain.sealContinue`
 * (./chain.ts) and by retention before it deletes.
 */
import type { MutationCtx } from "./_generated/server.js";
import type { Doc } from "./_generated/dataModel.js";
import { entryHash, GENESIS_HASH, HASH_FORMAT, linkHash } from "./hashChain.js";
import { logEvent } from "../../shared/log.js";
import { snapshotTs } from "../../shared/meta.js";
import { JOB_READ_BYTES } from "../shared/snapshot.js";
import { Budget } from "./storage.js";
import type { ChainProblem } from "../shared/validators.js";
import {
  appendProblems,
  chainedEntry,
  chainPoint,
  downgradeProblems,
  entriesOf,
  entryProblems,
  entryRowsBound,
  rowContentHash,
  setChainPoint,
} from "./chainCheck.js";

/** Operations sealed per transaction at most (bytes usually bind first). */
const SEAL_BATCH_OPERATIONS = 100;

/**
 * Seals committed, unsealed operations in commit order: assigns each the next
 * seq and its link hash. Only operations committed before this transaction's
 * snapshot are read, so racing appends never conflict with the sealer.
 *
 * Sized by bytes: each operation is sealed only if its rows (counted at the
 * most they can take) still fit `budget`, except the first, which always
 * does (an operation's rows are bounded to fit one transaction), so every
 * call makes progress and no batch can get stuck. Entries of format-2
 * operations are recounted and rehashed against what append recorded;
 * differences are logged as `auditLog.tamper` and left for `verify` to
 * report (the seal keeps the hashes fixed at append).
 * Returns how many were sealed and whether more are waiting.
 */
export async function sealBatch(
  ctx: MutationCtx,
  budget: Budget = new Budget(ctx, JOB_READ_BYTES),
): Promise<{ sealed: number; more: boolean }> {
  const upTo = snapshotTs(ctx);
  const pending = ctx.db
    .query("operations")
    .withIndex("by_pending", (q) =>
      upTo === null
        ? q.eq("sealed", false)
        : q.eq("sealed", false).lte("commitTs", upTo),
    );
  let head: Doc<"chain"> | null | undefined;
  /** The hash format of the operation sealed last (undefined: format 1 or none). */
  let prevFormat: number | undefined;
  let seq = 0;
  let prevHash = GENESIS_HASH;
  let sealed = 0;
  let more = false;
  for await (const op of pending) {
    if (sealed >= SEAL_BATCH_OPERATIONS) {
      more = true;
      break;
    }
    budget.chargeRow(op);
    if (sealed > 0 && !(await budget.fits(entryRowsBound(op), op.entryCount))) {
      more = true;
      break;
    }
    if (head === undefined) {
      head = await chainPoint(ctx, "head");
      seq = head?.seq ?? 0;
      prevHash = head?.hash ?? GENESIS_HASH;
      const last = head
        ? await ctx.db
            .query("operations")
            .withIndex("by_seq", (q) => q.eq("seq", head!.seq))
            .first()
        : null;
      if (last) budget.chargeRow(last);
      prevFormat = last?.format;
    }
    const entries = await entriesOf(ctx, op);
    for (const e of entries) budget.chargeRow(e);
    let entryHashes: string[];
    seq += 1;
    const downgraded = downgradeProblems(op, prevFormat, {
      seq,
      operationId: op._id,
    });
    prevFormat = op.format;
    logTamper(op, seq, downgraded);
    if (op.format === HASH_FORMAT) {
      entryHashes = op.entryHashes ?? [];
      const problems = [
        ...appendProblems(op, { seq, operationId: op._id }),
        ...entryProblems(op, entries, entryHashes, {
          seq,
          operationId: op._id,
        }),
      ];
      logTamper(op, seq, problems);
    } else entryHashes = entries.map((e) => entryHash(chainedEntry(e)));
    const hash = linkHash(prevHash, seq, rowContentHash(op), entryHashes);
    await ctx.db.patch("operations", op._id, {
      sealed: true,
      seq,
      prevHash,
      hash,
      entryHashes,
    });
    prevHash = hash;
    sealed += 1;
    if (budget.bytesUsed >= budget.maxBytes) {
      // Rows of format 1 are not bounded in advance; stop once over.
      more = true;
      break;
    }
  }
  if (sealed > 0) await setChainPoint(ctx, "head", seq, prevHash);
  return { sealed, more };
}

/** Logs `auditLog.tamper` (stage `seal`) when sealing `op` as `seq` found `problems`. */
function logTamper(
  op: Doc<"operations">,
  seq: number,
  problems: ChainProblem[],
): void {
  if (problems.length > 0)
    logEvent("auditLog.tamper", {
      stage: "seal",
      seq,
      operationId: op._id,
      functionName: op.functionName,
      actorId: op.actorId,
      actorKind: op.actorKind,
      problems: problems.length,
      first: problems[0],
    });
}

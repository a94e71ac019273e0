/**
 * Revert: undo an operation or one entry as a new operation linked to it
 * (`revertOf`), refusing with `CONFLICT` when a document changed since,
 * unless `force`. Inside an admin call it joins that call through the
 * `SESSION` channel of `./admin.ts`.
 */
import type { GenericDataModel, GenericMutationCtx } from "convex/server";
import type { GenericId, Value } from "convex/values";
import type { RunQueryCtx } from "../../shared/ctx.js";
import { checkPermissionOptions } from "../../shared/definitions.js";
import { withoutSystemFields } from "../../shared/documents.js";
import { clipped, opskitError, shown } from "../../shared/errors.js";
import type { ComponentApi } from "../component/_generated/component.js";
import type { Entry } from "../shared/validators.js";
import { functionNameOf } from "../../shared/meta.js";
import { authorizeWith, guardedDbOf, runAudited, sessionOf } from "./admin.js";
import type { AuditCore } from "./core.js";
import { restoreRedacted, sameVersion } from "./diff.js";
import type { RevertArgs, RevertResult } from "./types.js";

/**
 * `AuditLog.revert`: inside an admin call (its `SESSION` on `ctx`) the
 * revert joins the call; elsewhere it is recorded as its own operation
 * through `runAudited`.
 */
export async function revert<
  DataModel extends GenericDataModel,
  Permission extends string,
>(
  log: AuditCore,
  ctx: GenericMutationCtx<DataModel>,
  args: RevertArgs<DataModel, Permission>,
): Promise<RevertResult> {
  const session = sessionOf(ctx);
  if (args.actor !== undefined && args.authorizer !== undefined)
    throw opskitError(
      "INVALID_ARGUMENT",
      "revert takes an actor or an authorizer, not both",
    );
  if (
    args.authorizer !== undefined &&
    typeof args.authorizer !== "function" &&
    args.permission === undefined
  )
    throw opskitError(
      "INVALID_ARGUMENT",
      "revert with an authorizer object needs the permission to check",
    );
  checkPermissionOptions("auditLog: revert", args);
  if (
    !session &&
    (args.reason === undefined || (!args.actor && !args.authorizer))
  )
    throw opskitError(
      "INVALID_ARGUMENT",
      "outside an admin mutation, revert needs a reason and an authorizer (or a verified actor)",
    );
  const functionName = await functionNameOf(ctx, "auditLog.revert");
  // An authorizer is checked even inside an admin call, which may have
  // been authorized for a narrower permission than reverting.
  const request = {
    ...(args.permission !== undefined ? { permission: args.permission } : {}),
    ...(args.scope !== undefined ? { scope: args.scope } : {}),
    functionName,
  };
  const authorized = args.authorizer
    ? await authorizeWith(args.authorizer)(ctx, request)
    : undefined;
  const target = await revertTarget(log.component, ctx, args);
  const revertOf = {
    operationId: target.operationId,
    ...(args.entryId !== undefined ? { entryId: args.entryId } : {}),
  };
  if (session) {
    if (session.revertOf)
      throw opskitError(
        "INVALID_ARGUMENT",
        "one admin call can revert one operation or entry",
      );
    session.revertOf = revertOf;
    return applyRevert(log, ctx, target.entries, args.force ?? false);
  }
  const { result, operationId } = await runAudited(
    log,
    ctx,
    {
      actor: (authorized ?? args.actor)!,
      reason: args.reason!,
      functionName,
      tables: [...new Set(target.entries.map((e) => e.table))],
      args: {
        ...revertOf,
        ...(args.force !== undefined ? { force: args.force } : {}),
      },
      revertOf,
      // The authorizer's row rules apply to the revert's reads and writes.
      db: args.authorizer
        ? await guardedDbOf(args.authorizer, ctx, request)
        : undefined,
    },
    (auditCtx) =>
      applyRevert(log, auditCtx, target.entries, args.force ?? false),
  );
  return { ...result, operationId };
}

/** The entries a revert undoes: one entry, or every page of an operation. */
async function revertTarget(
  component: ComponentApi,
  ctx: RunQueryCtx,
  args: { operationId?: string; entryId?: string },
): Promise<{ operationId: string; entries: Entry[] }> {
  if (args.entryId !== undefined) {
    const entry = await ctx.runQuery(component.queries.getEntry, {
      entryId: args.entryId,
    });
    if (!entry)
      throw opskitError("NOT_FOUND", `no audit entry ${shown(args.entryId)}`, {
        entryId: clipped(args.entryId),
      });
    return { operationId: entry.operationId, entries: [entry] };
  }
  const entries: Entry[] = [];
  let fromIndex: number | null = 0;
  while (fromIndex !== null) {
    const op: {
      entries: Entry[];
      nextIndex: number | null;
    } | null = await ctx.runQuery(component.queries.getOperation, {
      operationId: args.operationId!,
      fromIndex,
    });
    if (!op)
      throw opskitError(
        "NOT_FOUND",
        `no audit operation ${shown(args.operationId)}`,
        { operationId: clipped(args.operationId!) },
      );
    entries.push(...op.entries);
    fromIndex = op.nextIndex;
  }
  return { operationId: args.operationId!, entries };
}

/**
 * Restores each entry's `before`, newest entry first, through the ctx's
 * (recording, row-guarded) db; `CONFLICT` on a document changed since,
 * unless `force`.
 */
async function applyRevert<DataModel extends GenericDataModel>(
  log: AuditCore,
  ctx: GenericMutationCtx<DataModel>,
  entries: Entry[],
  force: boolean,
): Promise<RevertResult> {
  // The recording db refuses tables outside the scope; reads pass through.
  const db = ctx.db as unknown as GenericMutationCtx<GenericDataModel>["db"];
  const unguarded = sessionOf(ctx)?.unguarded;
  const ordered = [...entries].sort((a, b) => b.index - a.index);
  const live = new Map<string, Record<string, Value> | null>();
  const conflicts: Array<{ table: string; docId: string; entryId: string }> =
    [];
  for (const e of ordered) {
    const id = db.normalizeId(e.table, e.docId);
    const doc = id ? await db.get(id) : null;
    // Under row rules a row the caller may not read looks absent: refuse
    // instead of reporting a conflict or re-creating it.
    if (doc === null && id && (await unguarded?.get(id)))
      throw opskitError(
        "FORBIDDEN",
        `cannot revert ${e.table} ${e.docId}: the row rules do not let the caller read it`,
        { table: e.table, operation: "read" },
      );
    live.set(e.docId, doc as Record<string, Value> | null);
    if (!sameVersion(e.after, doc, log.redactedPaths(e.table)))
      conflicts.push({ table: e.table, docId: e.docId, entryId: e.entryId });
  }
  if (conflicts.length > 0 && !force)
    throw opskitError(
      "CONFLICT",
      `cannot revert: ${conflicts.length} document(s) changed after the change being reverted (first: ${conflicts[0].table} ${conflicts[0].docId}); pass force: true to overwrite`,
      { conflicts },
    );
  const recreated: RevertResult["recreated"] = [];
  for (const e of ordered) {
    const current = live.get(e.docId) ?? null;
    const id = e.docId as GenericId<string>;
    if (e.before === null) {
      if (current !== null) await db.delete(id);
      continue;
    }
    const { doc, missing } = restoreRedacted(
      e.before,
      current,
      log.redactedPaths(e.table),
    );
    if (missing.length > 0 && !force)
      throw opskitError(
        "CONFLICT",
        `cannot restore ${e.table} ${e.docId}: redacted field(s) ${missing.join(", ")} were never recorded; pass force: true to restore without them`,
        { table: e.table, docId: e.docId, missing },
      );
    const value = withoutSystemFields(doc);
    if (current === null) {
      const newDocId = await db.insert(e.table, value as never);
      recreated.push({ table: e.table, oldDocId: e.docId, newDocId });
    } else await db.replace(id, value as never);
  }
  return { revertedEntries: ordered.length, recreated };
}

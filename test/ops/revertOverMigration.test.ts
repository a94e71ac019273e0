/**
 * A forced revert restores the whole recorded document, so it also undoes
 * what a migration wrote to that document after the change being reverted
 * (docs/auditLog.md, "Reverts and migrations"). This pins the documented
 * behaviour and the documented way back: the revert without force is
 * refused with CONFLICT, the forced one drops the migrated field, and
 * running the migration again with `reset: true` fills it in.
 */
import { ConvexError } from "convex/values";
import { expect, test, vi } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { exampleApp } from "../example/setup";
import { fakeClock } from "../helpers.js";

fakeClock(null);

const REASON = "SUP-5 undoing a moderator's edit";

test("a forced revert over a migrated document undoes the migration's field; a reset run restores it", async () => {
  const t = await exampleApp();
  await t.mutation(internal.init.seed, {});
  const alice = t.withIdentity({ subject: "alice" });
  const post = (await t.run((ctx) => ctx.db.query("posts").first()))!;
  await alice.mutation(api.admin.fixPost, {
    team: post.teamId,
    postId: post._id,
    title: "Edited by a moderator",
    reason: REASON,
  });
  const [edit] = (
    await alice.query(api.ops.auditOperations, {
      paginationOpts: { numItems: 1, cursor: null },
    })
  ).page;
  await t.mutation(internal.migrations.run, {
    fn: "migrations:backfillWordCount",
  });
  await t.finishAllScheduledFunctions(vi.runAllTimers);
  const get = () =>
    t.run((ctx) => ctx.db.get("posts", post._id as Id<"posts">));
  expect((await get())!.wordCount).toBeTypeOf("number");

  const refused = await alice
    .mutation(api.ops.auditRevert, {
      operationId: edit.operationId,
      reason: REASON,
    })
    .catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(ConvexError);
  expect((refused as ConvexError<{ code: string }>).data.code).toBe("CONFLICT");

  await alice.mutation(api.ops.auditRevert, {
    operationId: edit.operationId,
    force: true,
    reason: REASON,
  });
  const reverted = (await get())!;
  expect(reverted.title).toBe(post.title);
  expect(reverted.wordCount).toBeUndefined();

  await t.mutation(internal.migrations.run, {
    fn: "migrations:backfillWordCount",
    reset: true,
  });
  await t.finishAllScheduledFunctions(vi.runAllTimers);
  expect((await get())!.wordCount).toBeTypeOf("number");
});
